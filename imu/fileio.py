"""What imu opens: outputs complete or absent, inputs only from files, folders and pipes.

**Inputs** (:func:`input_kind`, :func:`read_input`): a recording, labels file or model
file is read from a regular file (or a folder of an export), or from a FIFO that the user
named on the command line (``<(zcat x.csv.gz)``, ``/dev/stdin``); at most
:data:`MAX_PIPE_BYTES` are read from a pipe. Anything else (``/dev/zero``, a terminal, a
socket) is refused before a byte is read: a device can be endless.

**Outputs** (light module: no numpy, no pandas).
Every file a command writes (``convert -o``, ``analyze --angles/--reps``, ``report -o/--csv/
--png``, ``train -o`` and its manifest copy, ``label -o``, ``evaluate --plot``) goes through
:func:`atomic_output` (or :func:`atomic_outputs` for files that belong together). What
happens depends on what the target path is:

- **missing, or a regular file**: the bytes go to a temporary file ``.NAME.XXXXXXXX.part``
  in the target's directory, which is flushed, fsynced and renamed over ``NAME`` only once
  it is complete. An error (full disk, no permission), Ctrl-C or a crash before that
  leaves ``NAME`` as it was: absent, or the previous file, whole. An existing file is
  replaced only with ``force``; the new file keeps the old one's permission bits.
- **a symbolic link**: followed, as a shell's ``>`` does. The link stays and the file it
  points to is replaced by the rule above (a dangling link gets its target created). The
  ``--force`` check and the "would overwrite an input" check look at that file too.
- **a character device or a FIFO** (``/dev/null``, ``/dev/stdout``, a named pipe): written
  through in place; no temporary file, no rename, no fsync, no ``--force`` needed (nothing
  is replaced).
- **anything else** (a directory, a block device, a socket): refused.

Failures are one-line :class:`imu.errors.InputError` s naming the path the user gave.
The recorder (``imu live --record``) writes incrementally instead, for crash safety; it
follows the same rule for links and devices (:class:`imu.session.SessionWriter`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from imu.errors import input_error

NEW, REGULAR, STREAM = "new", "regular", "stream"
"""What :func:`target_kind` finds at a path."""
FILE, FOLDER, PIPE = "file", "folder", "pipe"
"""What :func:`input_kind` finds at a path."""
MAX_PIPE_BYTES = 1 << 30
"""Most bytes read from a pipe (1 GiB: ~6 h of a 200 Hz session CSV)."""


def input_kind(path: str | os.PathLike, *, pipe: bool = True, folder: bool = True) -> str:
    """``FILE``, ``FOLDER`` or ``PIPE`` for what ``path`` names after following links;
    InputError for a missing path, a device, a socket, and for a pipe or folder when not
    allowed (``pipe=False``: a path read from a file rather than named by the user)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise input_error("no such file or folder", path=str(path)) from None
    except OSError as exc:
        raise input_error(f"cannot read ({exc.strerror})", path=str(path)) from None
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISDIR(mode) and folder:
        return FOLDER
    if stat.S_ISFIFO(mode) and pipe:
        return PIPE
    what = ("a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode)
            else "a character device" if stat.S_ISCHR(mode) else "a block device"
            if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    allowed = "a regular file" + (", a folder" if folder else "") + (" or a pipe" if pipe else "")
    raise input_error(f"is {what}, not {allowed}", path=str(path))


def read_input(path: str | os.PathLike, *, pipe: bool = True, limit: int | None = None) -> bytes:
    """The bytes of a regular file (or of a FIFO when ``pipe``); InputError for anything
    else, for a read error, and past ``limit`` bytes (:data:`MAX_PIPE_BYTES` for a pipe)."""
    kind = input_kind(path, pipe=pipe, folder=False)
    cap = MAX_PIPE_BYTES if kind == PIPE else None
    cap = limit if cap is None else cap if limit is None else min(cap, limit)
    too_large = input_error(f"larger than {(cap or 0) / (1 << 20):.3g} MiB; refused",
                            path=str(path))
    try:
        with open(path, "rb") as handle:
            if kind == FILE:
                if cap is not None and os.fstat(handle.fileno()).st_size > cap:
                    raise too_large
                return handle.read()
            blocks, size = [], 0  # a pipe: blocks, so memory follows what arrives
            while block := handle.read(1 << 20):
                size += len(block)
                if cap is not None and size > cap:
                    raise too_large
                blocks.append(block)
    except OSError as exc:
        raise input_error(f"cannot read ({exc.strerror})", path=str(path)) from None
    return b"".join(blocks)


def target_kind(path: str | os.PathLike, option: str = "") -> str:
    """``NEW``, ``REGULAR`` or ``STREAM`` (character device or FIFO) for what ``path``
    names after following links; InputError for a directory, block device or socket.
    ``option`` (``-o``) names the option in messages."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return NEW
    except OSError as exc:
        raise input_error(f"{_of(option)}cannot write ({exc.strerror})", path=str(path)) from None
    if stat.S_ISREG(mode):
        return REGULAR
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return STREAM
    what = "a directory" if stat.S_ISDIR(mode) else "not a regular file, device or pipe"
    raise input_error(f"{option or 'output'} is {what}", path=str(path), hint="give a file name")


def check_target(
    path: str | os.PathLike, option: str = "", *, force: bool, inputs: Iterable[str] = ()
) -> str:
    """The :func:`target_kind` of ``path``; InputError for one of the ``inputs`` (links
    followed), an existing regular file without ``force`` or a missing directory."""
    kind = target_kind(path, option)
    target = Path(os.path.realpath(path))
    if kind != STREAM and any(same_path(path, p) for p in inputs):
        raise input_error(f"{option or 'output'} would overwrite an input", path=str(path),
                          hint="give another name")
    if kind == REGULAR and not force:
        raise input_error("exists already (use --force to overwrite)", path=str(path))
    if kind == NEW and not target.parent.is_dir():
        raise input_error(f"{_of(option)}no such directory", path=str(Path(path).parent),
                          hint="create it first")
    return kind


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file once links are followed."""
    return os.path.realpath(a) == os.path.realpath(b)


def _of(option: str) -> str:
    return f"{option}: " if option else ""


class _Output:
    """One output being written: its handle and, for a file, the temporary file."""

    def __init__(self, path: str | os.PathLike, force: bool, binary: bool, encoding: str,
                 newline: str | None) -> None:
        self.path = str(path)
        self.target = Path(os.path.realpath(path))  # a link is followed (module docstring)
        kind = check_target(path, force=force)
        self.temp: Path | None = None
        text = {} if binary else {"encoding": encoding, "newline": newline}
        mode = "wb" if binary else "w"
        if kind == STREAM:
            self.handle: IO[Any] = open(self.target, mode, **text)  # noqa: SIM115
            return
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part",
                                    dir=self.target.parent)
        self.temp = Path(name)
        try:
            if hasattr(os, "fchmod"):  # POSIX: the permissions a plain open() would give
                os.fchmod(fd, _mode_of(self.target) if kind == REGULAR else 0o666 & ~_umask())
            self.handle = os.fdopen(fd, mode, **text)
        except BaseException:
            os.close(fd)
            self.temp.unlink(missing_ok=True)
            raise

    def finish(self) -> None:
        """Flush and (for a file) fsync; the file stays temporary until :meth:`commit`."""
        self.handle.flush()
        if self.temp is not None:
            os.fsync(self.handle.fileno())
        self.handle.close()

    def commit(self) -> None:
        if self.temp is not None:
            os.replace(self.temp, self.target)
            self.temp = None
            _sync_directory(self.target.parent)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink()
            self.temp = None


@contextlib.contextmanager
def atomic_outputs(
    paths: Sequence[str | os.PathLike],
    *,
    force: bool = False,
    binary: bool = False,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> Iterator[list[IO[Any]]]:
    """Open handles for ``paths`` that become the files only when the block ends normally.

    Files that belong together (a model and its manifest copy) are complete or absent
    together: every temporary file is written and fsynced before the first rename, and
    Ctrl-C/SIGTERM are held back during the renames (delivered right after). An error or
    an interrupt inside the block removes every temporary file. ``OSError`` becomes an
    InputError naming the path (``BrokenPipeError`` passes through).
    """
    outputs: list[_Output] = []
    current = str(paths[0]) if paths else ""
    try:
        for path in paths:
            current = str(path)
            outputs.append(_Output(path, force, binary, encoding, newline))
        yield [o.handle for o in outputs]
        for output in outputs:
            current = output.path
            output.finish()
        with _signals_held():
            for output in outputs:
                current = output.path
                output.commit()
    except BaseException as exc:
        for output in outputs:
            output.discard()
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise _write_error(exc, current, outputs) from None
        raise


class GrowingOutput:
    """A file written incrementally and kept open (the recorder), by the same rule: a
    regular file is first written as a temporary file, which :meth:`publish` renames over
    ``path`` once its first complete part (the header) is written, so an existing file is
    replaced whole or not at all; a device or FIFO is written through (``publish`` does
    nothing). ``handle`` is the open text handle; ``is_file`` says whether fsync applies."""

    def __init__(self, path: str | os.PathLike, *, force: bool, encoding: str = "utf-8",
                 newline: str | None = "") -> None:
        try:
            self._output = _Output(path, force, False, encoding, newline)
        except OSError as exc:
            raise _write_error(exc, str(path), []) from None
        self.handle: IO[str] = self._output.handle
        self.is_file = self._output.temp is not None

    def publish(self) -> None:
        """Flush, fsync and rename the temporary file over the target (once)."""
        try:
            self.handle.flush()
            if self._output.temp is not None:
                os.fsync(self.handle.fileno())
                self._output.commit()
        except BaseException as exc:
            self._output.discard()
            if isinstance(exc, OSError):
                raise _write_error(exc, self._output.path, [self._output]) from None
            raise


def atomic_output(path: str | os.PathLike, **options: Any) -> contextlib.AbstractContextManager:
    """:func:`atomic_outputs` for one path: ``with atomic_output(p, force=f) as handle:``."""
    return _single(path, **options)


@contextlib.contextmanager
def _single(path: str | os.PathLike, **options: Any) -> Iterator[IO[Any]]:
    with atomic_outputs([path], **options) as (handle,):
        yield handle


def _write_error(exc: OSError, current: str, outputs: Iterable[_Output]):
    """One line naming the file the failure is about (the user's spelling of it)."""
    where = current
    if exc.filename:
        for output in outputs:
            if str(exc.filename) in (str(output.temp), str(output.target), output.path):
                where = output.path
    return input_error(f"cannot write ({exc.strerror or exc}); nothing was replaced", path=where)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM: their handlers run when the block ends. (A signal
    mask would not do: another thread that does not block them, a BLAS thread, takes the
    signal and Python runs the handler at once.) Outside the main thread, where handlers
    cannot be changed, nothing is held."""
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {n: signal.signal(n, lambda number, _frame: received.append(number))
                    for n in held}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(received):
            handler = previous[number]
            if callable(handler):
                handler(number, None)  # Python's default for SIGINT raises KeyboardInterrupt
            elif handler != signal.SIG_IGN:
                signal.raise_signal(number)  # the default action, now the handler is back


def _mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_directory(directory: Path) -> None:
    """fsync a directory so a rename in it survives a power cut (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def output_errors() -> Iterator[None]:
    """Turn a failed write (read-only place, no permission, disk full) into one line naming
    the file. A reader that went away (``BrokenPipeError``) passes through."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise input_error(f"cannot write ({exc.strerror or exc})", path=exc.filename) from None


def reader_went_away(exc: BaseException) -> bool:
    """Whether a failed write to stdout means nobody reads it any more: EPIPE (``imu replay f
    | head -3``) or EIO (the terminal hung up: ``script -c 'imu replay f' | head``, a closed
    ssh session)."""
    import errno

    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.EIO)


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal; ``False`` for one without ``isatty`` or closed."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def silence_stdout(*, stderr_too: bool = False) -> None:
    """Point stdout's file descriptor (and stderr's, if it is a terminal and ``stderr_too``)
    at /dev/null, as Python's docs advise once the reader is gone (signal module, "Note on
    SIGPIPE"): later writes and the interpreter's last flush succeed, unseen. A stdout
    without a file descriptor (a test's capture) is left as it is."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        targets = [1] + ([2] if stderr_too and os.isatty(2) else [])
        for stream, fd in zip((sys.stdout, sys.stderr), targets):
            try:
                target = stream.fileno() if stream is not None else fd
            except (AttributeError, OSError, ValueError):
                continue
            with contextlib.suppress(OSError):
                os.dup2(devnull, target)
    finally:
        os.close(devnull)
