"""Input files of an import: plain files, folders and zip archives as one list."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from imu.errors import input_error
from imu.fileio import FOLDER, PIPE, input_kind, read_input
from imu.session import decode, gunzip_cut

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")


@dataclass(frozen=True)
class SourceFile:
    """One text file of an export. ``name`` names it in messages (``a.zip/Gyroscope.csv``)."""

    name: str
    data: bytes
    cut_off: bool = False
    """The data came from gzip data that is cut off (:func:`imu.session.gunzip_cut`)."""

    @property
    def stem(self) -> str:
        """File name without folders and without the ``.csv``/``.gz`` suffixes."""
        base = PurePosixPath(self.name.replace("\\", "/")).name
        if base.lower().endswith(".gz"):
            base = base[:-3]
        return base.rsplit(".", 1)[0] if "." in base else base

    def text(self, encodings: Sequence[str] = ("utf-8-sig",)) -> str:
        return decode(self.data, self.name, encodings)

    def head(self, n_bytes: int = 4096) -> str:
        """The first bytes as text, for format detection (undecodable bytes replaced)."""
        return self.data[:n_bytes].decode("utf-8", errors="replace").lstrip("\ufeff")


def _unpacked(name: str, data: bytes) -> SourceFile:
    """A file's bytes, gunzipped, noting gzip data that is cut off."""
    return SourceFile(name, *gunzip_cut(data, name))


def _is_text_name(name: str) -> bool:
    lower = name.lower()
    lower = lower.removesuffix(".gz")
    return lower.endswith(TEXT_SUFFIXES)


MAX_MEMBER_BYTES = 1 << 30
"""Largest zip member read (1 GiB uncompressed, as the member's header declares it)."""


def _from_zip(path: Path | str, data: bytes | None = None) -> list[SourceFile]:
    """The text members of a zip archive (``data``: its bytes, already read)."""
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as archive:
            files = []
            for info in archive.infolist():
                member = info.filename
                if info.is_dir() or "__MACOSX" in member or not _is_text_name(member):
                    continue
                name = f"{path}/{member}"
                if info.file_size > MAX_MEMBER_BYTES:
                    raise input_error(f"{info.file_size / (1 << 30):.3g} GiB uncompressed, more "
                                      f"than {MAX_MEMBER_BYTES >> 30} GiB; refused", path=name)
                files.append(_unpacked(name, archive.read(info)))
    except (zipfile.BadZipFile, OSError) as exc:
        raise input_error(f"damaged zip archive ({exc})", path=str(path)) from None
    return files


def _from_file(path: Path, pipe: bool) -> list[SourceFile]:
    """A named file: a zip archive's text members, or the file itself (gunzipped). A pipe
    is read once and sniffed from its bytes; a regular file's zip test reads its end only."""
    if not pipe:
        if zipfile.is_zipfile(path):
            return _from_zip(path)
        return [_unpacked(str(path), read_input(path))]
    return from_bytes(str(path), read_input(path))


def from_bytes(name: str, data: bytes) -> list[SourceFile]:
    """A named file's bytes, already read (a pipe, a URL, a file hashed first), as
    :func:`gather` takes them: a zip archive's text members, or the file itself (gunzipped)."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        return _from_zip(name, data)
    return [_unpacked(name, data)]


def gather(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[SourceFile]:
    """Expand paths (files, folders, zip archives) into the text files they hold.

    Folders are searched recursively (hidden files skipped), zip members are read in
    memory, ``.gz`` files are decompressed. Only ``.csv .txt .tsv .dat`` files count
    inside folders and archives; a file named explicitly is always taken. A named path
    may also be a pipe; devices (``/dev/zero``) and sockets are refused before any read,
    and in folders only regular files count (:mod:`imu.fileio`).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise input_error("no input file given")
    files: list[SourceFile] = []
    for raw in paths:
        path = Path(raw)
        kind = input_kind(path)
        if kind == FOLDER:
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for p in found:
                if zipfile.is_zipfile(p):
                    files.extend(_from_zip(p))
                elif _is_text_name(p.name):
                    files.append(_unpacked(str(p), read_input(p)))
        else:
            files.extend(_from_file(path, pipe=kind == PIPE))
    if not files:
        raise input_error(
            "no CSV or text files found",
            path=", ".join(str(p) for p in paths),
            hint="give the exported files, their folder or the exported zip",
        )
    return files
