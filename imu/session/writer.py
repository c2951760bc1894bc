"""Writing the canonical session CSV: whole sessions (:func:`write_session`) and the
crash-safe incremental recording of ``imu live --record`` (:class:`SessionWriter`)."""

from __future__ import annotations

import gzip
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from imu.fileio import GrowingOutput, atomic_output, check_target
from imu.session.model import GAP_COLUMN, REQUIRED, Session

if TYPE_CHECKING:
    from typing_extensions import Self


_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
"""What :meth:`str.splitlines` breaks a line at, as reading the metadata does: not only
``\r`` and ``\n`` (a device name with U+2028 or NEL would end its line)."""


def format_metadata(metadata: Mapping[str, object]) -> str:
    """``# key: value`` lines. Values are written as text with line breaks (any that
    :meth:`str.splitlines` knows) replaced by spaces and characters UTF-8 cannot hold
    (lone surrogates) by ``\\udxxx`` escapes (reading strips surrounding spaces); a key
    must be non-empty text without ``:`` or line breaks (ValueError otherwise: keys come
    from code, not users)."""
    lines = []
    for key, value in metadata.items():
        if not key.strip() or ":" in key or _LINE_BREAKS.search(key) or key != key.strip():
            raise ValueError(f"metadata key {key!r} cannot be written as '# key: value'")
        text = _LINE_BREAKS.sub(" ", str(value)).strip()
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
        lines.append(f"# {key}: {text}\n")
    return "".join(lines)


_CELL_FORMATS = {"time": "%.6f", "float": "%.7g", "int": "%d", "text": "%s"}
_NAN_CELL = re.compile(r"(?<![^,\n])nan(?![^,\n])")


def _text_cells(values: Sequence[object]) -> list[str]:
    """Cells of a text column: NaN/None empty, newlines replaced, CSV-quoted if needed."""
    cells = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            cells.append("")
            continue
        text = str(value).replace("\r", " ").replace("\n", " ")
        if "," in text or '"' in text:
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return cells


def _column_kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column) or (
        pd.api.types.is_integer_dtype(column) and not column.isna().any()
    ):
        return "int"
    if pd.api.types.is_float_dtype(column):
        return "float"
    return "text"


def _rows_text(columns: Sequence[Sequence[object]], kinds: Sequence[str]) -> str:
    """CSV rows, each ending in a newline, from per-column value lists.

    ``kinds``: ``time`` (1 us), ``float`` (7 significant digits), ``int``, ``text``
    (already cells). NaN becomes an empty cell. One ``%`` per row: ~4x faster than
    pandas' ``to_csv`` with a float format.
    """
    row_format = ",".join(_CELL_FORMATS[k] for k in kinds) + "\n"
    text = "".join([row_format % row for row in zip(*columns)])
    return _NAN_CELL.sub("", text) if "nan" in text else text


def write_session(session: Session, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write a canonical session CSV (metadata lines, header, rows; extra columns kept).

    ``time_s`` is written with 1 us resolution, the other float columns with 7
    significant digits (beyond any 16-bit sensor's resolution), NaN as an empty cell.
    A name ending in ``.gz`` is gzip-compressed. Refuses to overwrite an existing file
    unless ``force``. Complete or absent (:func:`imu.fileio.atomic_output`: a temporary
    file renamed over a regular file; a device or FIFO written through, a link followed).
    """
    path = Path(path)
    check_target(path, force=force)  # before the formatting
    columns = list(REQUIRED) + [c for c in session.data.columns if c not in REQUIRED]
    kinds = ["time"] + ["float"] * 6 + [_column_kind(session.data[c]) for c in columns[7:]]
    values = [
        _text_cells(session.data[c].tolist())
        if kind == "text"
        else session.data[c].to_numpy(dtype=np.int64 if kind == "int" else np.float64).tolist()
        for c, kind in zip(columns, kinds)
    ]
    header = ",".join(_text_cells(columns)) + "\n"
    text = format_metadata(session.metadata) + header + _rows_text(values, kinds)
    data = text.encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)  # same bytes for same data
    with atomic_output(path, force=force, binary=True) as handle:
        handle.write(data)


RECORDING_KEY = "recording"
IN_PROGRESS = "in progress"
COMPLETE = "complete".ljust(len(IN_PROGRESS))  # same length: overwritten in place
"""``# recording: ...`` in a :class:`SessionWriter` file: ``in progress`` while it is
written, ``complete`` once closed; a file read as ``in progress`` lost its writer (a
killed or crashed ``imu live``) or is still being written (reading strips the spaces)."""


class SessionWriter:
    """Crash-safe incremental recording of a canonical session CSV (``imu live --record``).

    The file gets the metadata lines and the header ``time_s,acc_x..gyr_z,gap[,extra...]``
    at once; :meth:`append` adds rows. Pending rows are flushed and fsynced once
    ``sync_interval_s`` has passed since the last sync (time-based, not per row): by the
    append that finds the interval over, or by a background thread when appends pause.
    Each append is handed to the operating system at once (one ``write`` per append, a
    BLE notification live), so after ``kill -9`` or a crash of the process the file
    holds every row appended; after a power cut or an OS crash it misses at most the
    last ``sync_interval_s`` of them. Either way it loads with :func:`read_session` (a
    cut-off last line loads with a warning), which says that the recording was not
    closed (its ``# recording: in progress`` line, which :meth:`close` turns into
    ``complete``; a regular file only, not a pipe). An existing file (only with
    ``force``) is replaced whole, once the new one has its header (:class:`imu.fileio.GrowingOutput`); a link is followed; a
    device or FIFO is written through, without fsync.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        metadata: Mapping[str, object] | None = None,
        *,
        extra_columns: Sequence[str] = (),
        force: bool = False,
        sync_interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.extra_columns = list(extra_columns)
        self.sync_interval_s = sync_interval_s
        clash = set(self.extra_columns) & {*REQUIRED, GAP_COLUMN}
        if clash:
            raise ValueError(f"extra columns clash with standard columns: {sorted(clash)}")
        header = ",".join([*REQUIRED, GAP_COLUMN, *self.extra_columns])
        metadata = {k: v for k, v in (metadata or {}).items() if k != RECORDING_KEY}
        text = format_metadata(metadata)
        # the file stays open for the writer's lifetime; close() closes it
        output = GrowingOutput(self.path, force=force)
        self._handle = output.handle
        self._fsync = output.is_file  # a pipe or device cannot be fsynced
        self._state_at: int | None = None  # where IN_PROGRESS stands in the file (bytes)
        if self._fsync:
            # said until close() overwrites it in place (a regular file only: a pipe cannot
            # be rewritten): a file that still says it after the writer is gone was not
            # closed (a killed or crashed recorder). Its place is where it was written:
            # the file's position after the other metadata, and the mark's in its line
            self._handle.write(text)
            line = format_metadata({RECORDING_KEY: IN_PROGRESS})
            self._state_at = self._handle.tell() + line.encode().index(IN_PROGRESS.encode())
            text = line
        text += header + "\n"
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = threading.Event()
        self._handle.write(text)
        output.publish()
        self._synced_at = time.monotonic()
        self._thread = threading.Thread(target=self._sync_loop, name="session-sync", daemon=True)
        self._thread.start()

    def append(
        self,
        samples: np.ndarray,
        gap_before: bool = False,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        """Write rows of an ``(n, 7)`` samples array (canonical units).

        ``gap_before`` marks the first row with ``gap`` = 1 (samples were lost before it).
        ``extra`` maps declared extra columns to a scalar or a length-n sequence.
        """
        samples = np.asarray(samples, dtype=np.float64)
        if samples.ndim != 2 or samples.shape[1] != len(REQUIRED):
            raise ValueError(f"samples must have shape (n, 7), got {samples.shape}")
        n = len(samples)
        if n == 0:
            return
        unknown = set(extra or {}) - set(self.extra_columns)
        if unknown:
            raise ValueError(f"undeclared extra columns {sorted(unknown)}")
        columns: list[list] = [samples[:, k].tolist() for k in range(len(REQUIRED))]
        columns.append([1 if gap_before and i == 0 else 0 for i in range(n)])
        for column in self.extra_columns:
            value = (extra or {}).get(column, "")
            values = [value] * n if isinstance(value, str) or np.ndim(value) == 0 else list(value)
            if len(values) != n:
                raise ValueError(f"extra column {column!r} has {len(values)} values for {n} rows")
            columns.append(_text_cells(values))
        kinds = ["time"] + ["float"] * 6 + ["int"] + ["text"] * len(self.extra_columns)
        text = _rows_text(columns, kinds)
        with self._lock:
            if self._handle.closed:
                raise ValueError("SessionWriter is closed")
            self._handle.write(text)
            self._handle.flush()  # to the OS at once: a killed process loses no row
            self._dirty = True
            if time.monotonic() - self._synced_at >= self.sync_interval_s:
                self._sync()

    def _sync_loop(self) -> None:
        """Sync rows left pending when appends pause (appends sync on their own)."""
        while not self._closed.wait(self.sync_interval_s / 4):
            with self._lock:
                due = time.monotonic() - self._synced_at >= self.sync_interval_s
                if self._dirty and due and not self._handle.closed:
                    self._sync()

    def _sync(self) -> None:
        self._handle.flush()
        if self._fsync:
            os.fsync(self._handle.fileno())
        self._dirty = False
        self._synced_at = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close the file (idempotent)."""
        self._closed.set()
        with self._lock:
            if not self._handle.closed:
                self._sync()
                if self._state_at is not None:  # a regular file: the metadata line now says so
                    os.pwrite(self._handle.fileno(), COMPLETE.encode(), self._state_at)
                    os.fsync(self._handle.fileno())
                self._handle.close()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
