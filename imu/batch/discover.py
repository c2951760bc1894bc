"""Which recordings a batch's inputs name: files, folders searched recursively, globs.

A file named on the command line is always a recording (if it cannot be read, that is
the recording's error). Folders and glob patterns are searched: there a file counts when
its first bytes match one of the formats of :mod:`imu.importers` (only the heads are
read), so a simulator's ``.truth.csv`` or a labels CSV next to the sessions is left out.
Per folder:

- each session CSV (``.csv``/``.csv.gz``) and each WitMotion text export is one
  recording (:data:`ONE_FILE_FORMATS`);
- each zip archive holding a file of a known format is one recording (an export's zip);
- the folder's other files, when one of them matches a format (phyphox, Sensor Logger,
  MetaBase, WitMotion, Polar, ...), are together one recording named after the folder
  (an unpacked export), with the files of its subfolders in which nothing was found
  (e.g. phyphox's ``meta/``);
- a file whose head cannot be read or is not text (empty, binary, a damaged gzip or zip)
  is kept as a recording, so that its one-line error is listed instead of the file
  silently disappearing.

Hidden files and folders (``.name``) are skipped, as :func:`imu.importers._sources.gather`
does.

A URL (``s3://bucket/club/``, ``https://host/a.csv``, ``file:///data/*.csv.gz``: anything
fsspec reads, with its filesystem package installed) names one file, a pattern or a
folder; there each file whose head matches a format is one recording (an export of
several files is read from a folder on a file system, not from a URL).
"""

from __future__ import annotations

import glob
import gzip
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from imu.errors import ImuError, input_error
from imu.importers import detect
from imu.importers._sources import SourceFile, _is_text_name

ONE_FILE_FORMATS = ("session", "witmotion")
"""Formats of which every file is a whole recording; the files of other formats in one
folder are taken together, as one export."""
HEAD_BYTES = 4096
"""Bytes read of each file to recognise its format (what the importers' ``matches`` look at)."""


@dataclass(frozen=True)
class Recording:
    """One recording of a batch: ``session`` names it in the tables (its path as found),
    ``paths`` is what :func:`imu.importers.load` reads."""

    session: str
    paths: tuple[str, ...]


@dataclass
class Found:
    """What :func:`discover` found: recordings in input order and the files left out."""

    recordings: list[Recording] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def discover(inputs: list[str | os.PathLike]) -> Found:
    """The recordings named by ``inputs`` (module docstring), each once, in input order
    (sorted within a folder or a glob). InputError for a path that does not exist, a
    pattern that matches nothing, or no recording at all."""
    found = Found()
    if not inputs:
        raise input_error("no input given", hint="name recordings, folders or glob patterns")
    for raw in inputs:
        text = os.fspath(raw)
        if is_url(text):
            _search_url(text, found)
        elif glob.has_magic(text) and not os.path.exists(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise input_error("no file or folder matches this pattern", path=text)
            for match in matches:
                if os.path.isdir(match):
                    _search_top(Path(match), found)
                else:
                    _classify_files([Path(match)], found, folder=None)
        elif os.path.isdir(text):
            _search_top(Path(text), found)
        elif os.path.isfile(text):
            found.recordings.append(Recording(_name(text), (text,)))
        elif os.path.exists(text):
            raise input_error("not a file or folder (a device, a pipe?)", path=text)
        else:
            raise input_error("no such file or folder", path=text)
    seen: set[tuple[str, ...]] = set()
    unique = []
    for recording in found.recordings:
        key = tuple(os.path.realpath(p) for p in recording.paths)
        if key not in seen:
            seen.add(key)
            unique.append(recording)
    found.recordings = unique
    if not unique:
        raise input_error("no recording found", path=", ".join(os.fspath(p) for p in inputs),
                          hint="session CSVs and other apps' exports: docs/importers.md")
    return found


MAX_LIST_BYTES = 64 << 20
"""Most bytes of one ``--from-list`` list (64 MiB: some 500,000 names of 120 characters;
more in one run: split the list, or name folders and patterns in it)."""
MAX_NAME_BYTES = 4096
"""Longest line of a list (Linux's PATH_MAX): a longer one is not a name (binary data)."""


def read_list(source: str | os.PathLike) -> list[str]:
    """The inputs a list file names (``imu batch --from-list``): one path, pattern or URL
    per line, each taken as an ``INPUT`` of the command line (relative paths from the
    current folder); spaces at both ends and empty lines are ignored. ``-`` reads standard
    input. The file may be a pipe (``--from-list <(find ...)``); a device is refused, and
    a line that is not text in the file system's encoding keeps its bytes
    (``os.fsdecode``). Read line by line up to :data:`MAX_LIST_BYTES`; InputError past
    it, and for a line that cannot be a name (a NUL byte, or longer than
    :data:`MAX_NAME_BYTES`), with its number."""
    import sys

    from imu.fileio import input_kind

    where = os.fspath(source)
    try:
        if where == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            if stdin is None:  # (closed: ``<&-``)
                raise input_error("standard input is closed", hint="pipe the list into it")
            return _names(stdin, "standard input")
        input_kind(source, folder=False)  # a file or a pipe, not a device
        with open(source, "rb") as handle:
            return _names(handle, where)
    except OSError as exc:
        raise input_error(f"cannot read ({exc.strerror})", path=where) from None


def _names(handle, where: str) -> list[str]:
    """The names of a list read from the binary stream ``handle`` in blocks (:func:`read_list`);
    ``where`` names it in errors."""

    def not_a_name(line_number: int, what: str):
        return input_error(f"line {line_number} is not a file name ({what}: binary data?)",
                           path=where, hint="give one path, pattern or URL per line")

    names: list[str] = []
    size, number, rest = 0, 0, b""  # bytes read, lines before ``rest``, an unfinished line
    while block := handle.read(1 << 20):
        size += len(block)
        if size > MAX_LIST_BYTES:
            raise input_error(f"a list of more than {MAX_LIST_BYTES >> 20} MiB; refused",
                              path=where, hint="split it into several runs")
        text = rest + block
        if (nul := text.find(b"\0")) >= 0:
            raise not_a_name(number + text.count(b"\n", 0, nul) + 1, "a NUL byte")
        lines = text.split(b"\n")
        rest = lines.pop()
        if max(map(len, lines), default=0) > MAX_NAME_BYTES or len(rest) > MAX_NAME_BYTES:
            long = next(i for i, x in enumerate([*lines, rest]) if len(x) > MAX_NAME_BYTES)
            raise not_a_name(number + long + 1, f"over {MAX_NAME_BYTES} bytes")
        number += len(lines)
        names += _decoded(lines)
    return names + _decoded([rest])


def _decoded(lines: list[bytes]) -> list[str]:
    """Lines as names (``\\r`` ends too), without spaces at both ends and without empty ones."""
    return [os.fsdecode(name) for line in lines for part in line.splitlines()
            if (name := part.strip())]


def is_url(text: str) -> bool:
    """Whether an input is a URL for fsspec (``s3://``, ``https://``, ``file://``, ...)."""
    return "://" in text


def filesystem(url: str):
    """``(fsspec filesystem, path)`` of a URL; InputError without fsspec."""
    try:
        import fsspec
    except ImportError:
        raise input_error("reading URLs needs fsspec", path=url,
                          hint="pip install 'imu[dask]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # e.g. s3:// without s3fs
        raise input_error(f"cannot open this URL ({exc})", path=url) from None


def _search_url(url: str, found: Found) -> None:
    """A URL's recordings: the file, or the files a pattern or a folder holds whose heads
    match a one-file format or other apps' single files (each is one recording; an
    export of several files must be given as a folder on a file system)."""
    fs, path = filesystem(url)
    try:
        if glob.has_magic(path):
            names, search = sorted(fs.glob(path)), True
        elif fs.isdir(path):
            names, search = sorted(fs.find(path)), True
        elif fs.exists(path):
            names, search = [path], False
        else:
            raise input_error("no such file or folder", path=url)
    except OSError as exc:
        raise input_error(f"cannot list ({exc})", path=url) from None
    for name in names:
        parts = name.split("/")
        if search and (any(p.startswith(".") for p in parts) or not _is_text_name(parts[-1])):
            continue
        full = fs.unstrip_protocol(name)
        if not search or _kind(name, fs.open) != "none":
            found.recordings.append(Recording(full, (full,)))
        else:
            found.left_out.append(full)


def _name(path: str | Path) -> str:
    return Path(path).as_posix()


def _search_top(folder: Path, found: Found) -> None:
    """:func:`_search` of a folder given as input; its recordings sorted by name."""
    start = len(found.recordings)
    found.left_out += [str(p) for p in _search(folder, found, set())]
    found.recordings[start:] = sorted(found.recordings[start:], key=lambda r: r.session)


def _search(folder: Path, found: Found, seen: set[str]) -> list[Path]:
    """Add the recordings under ``folder`` to ``found``; the files in which nothing was
    found (for an export in the parent folder to claim). ``seen``: the real paths of the
    folders searched so far (a link back to a parent is not followed again)."""
    real = os.path.realpath(folder)
    if real in seen:
        return []
    seen.add(real)
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise input_error(f"cannot list the folder ({exc.strerror})", path=str(folder)) from None
    entries = [e for e in entries if not e.name.startswith(".")]
    unclaimed: list[Path] = []
    for sub in entries:
        if sub.is_dir():
            unclaimed += _search(sub, found, seen)
    files = [e for e in entries if e.is_file() and (_is_text_name(e.name) or _is_zip(e))]
    return _classify_files(files, found, folder=folder, extra=unclaimed)


def _classify_files(
    files: list[Path], found: Found, folder: Path | None, extra: list[Path] = ()
) -> list[Path]:
    rest, matched = [], False
    for path in files:
        kind = _kind(path)
        # a glob's match in another app's format is a recording on its own
        if kind in (*ONE_FILE_FORMATS, "zip", "unreadable") or (
            kind == "other-format" and not folder
        ):
            found.recordings.append(Recording(_name(path), (str(path),)))
        else:
            rest.append(path)
            matched |= kind == "other-format"
    if matched:
        paths = tuple(str(p) for p in [*rest, *extra])
        found.recordings.append(Recording(_name(folder), paths))
        return []
    if folder is None:
        found.left_out += [str(p) for p in rest]
        return []
    return [*rest, *extra]


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _kind(path: Path | str, opener=open) -> str:
    """``session`` and ``one-file`` (a recording each), ``other-format`` (part of an
    export), ``zip`` (an archive holding a known format), ``unreadable`` (kept: its error
    is listed) or ``none`` (matches no format). ``opener``: ``open``, or an fsspec
    filesystem's ``open`` for a URL's path."""
    try:
        if opener is open and (_is_zip(path) or zipfile.is_zipfile(path)):
            return "zip" if _zip_matches(path) else "none"
        head = _head(str(path), opener)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error):
        return "unreadable"
    kind = _format_kind([SourceFile(str(path), head)])
    text = head.decode("utf-8", errors="replace")
    if kind == "none" and (not text.strip() or "\x00" in text):
        return "unreadable"  # empty or binary: the importers' message says which
    return kind


def _format_kind(files: list[SourceFile]) -> str:
    try:
        fmt = detect(files)
    except ImuError:
        return "none"
    return fmt if fmt in ONE_FILE_FORMATS else "other-format"


def _head(path: str, opener=open) -> bytes:
    with opener(path, "rb") as handle:
        if path.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=handle) as unpacked:
                return unpacked.read(HEAD_BYTES)
        return handle.read(HEAD_BYTES)


def _zip_matches(path: Path) -> bool:
    """Whether a member of the zip is in a known format (a damaged zip raises)."""
    with zipfile.ZipFile(path) as archive:
        heads = []
        for info in archive.infolist():
            if info.is_dir() or "__MACOSX" in info.filename or not _is_text_name(info.filename):
                continue
            with archive.open(info) as member:
                if info.filename.lower().endswith(".gz"):
                    with gzip.GzipFile(fileobj=member) as unpacked:
                        data = unpacked.read(HEAD_BYTES)
                else:
                    data = member.read(HEAD_BYTES)
            heads.append(SourceFile(f"{path}/{info.filename}", data))
    return bool(heads) and _format_kind(heads) != "none"
