"""A batch's state and tables in its output folder.

``OUTDIR/.imu-batch/journal.jsonl`` holds one JSON line per measured recording (its
content hash, the key of the options it was measured with, its reps and session row or
its error), appended and flushed as each result arrives: an interrupted batch loses at
most the recordings in flight, and the next run finds the rest there. Only an index
(session -> where its line is) stays in memory; tables are written by reading the lines
back in the recordings' order, so they do not depend on the order results arrived in.

Tables are written whole to a temporary file in ``OUTDIR`` and renamed over the old one
(:func:`imu.fileio.atomic_outputs`, the three together): a reader sees the previous
tables or the new ones, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from pathlib import Path
from typing import IO

from imu.batch.work import SESSION_COLUMNS
from imu.errors import input_error
from imu.fileio import atomic_output, atomic_outputs
from imu.pipeline.rep_settings import REP_COLUMNS

STATE_DIR = ".imu-batch"
JOURNAL = "journal.jsonl"
REPS_COLUMNS = ("session", *REP_COLUMNS)
ERROR_COLUMNS = ("session", "error")
TABLES = {"reps": REPS_COLUMNS, "sessions": SESSION_COLUMNS, "errors": ERROR_COLUMNS}
"""Table name (``OUTDIR/NAME.csv``) -> columns."""
TEXT_COLUMNS = frozenset({"session", "status", "calibration_method", "calibration_mode",
                          "calibration_message", "mounting", "warnings", "sha256", "error"})
COUNT_COLUMNS = frozenset({"set", "rep", "n_samples", "n_reps", "n_sets", "n_rounded",
                           "n_hyperextended", "n_gaps", "n_restarts"})
FLAG_COLUMNS = frozenset({"hyperextended", "rounded", "calibration_ok", "look_back"})
"""Columns of text, whole numbers and True/False; the others hold floats."""


class Journal:
    """The append-only record of measured recordings (module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.index: dict[str, tuple[int, int, str | None, str | None, str]] = {}
        """session -> (offset, length, sha256, options key, status) of its latest line."""
        self.n_lines = 0
        self._writer: IO[bytes] = open(path, "a+b")  # noqa: SIM115 (closed by close())
        _lock(self._writer, path.parent.parent)
        self._writer.seek(0)
        offset = 0
        for line in self._writer:  # line by line: only the index is kept
            if not line.endswith(b"\n"):  # cut off by an interruption: dropped
                self._writer.truncate(offset)
                break
            try:
                self._note(json.loads(line), offset, len(line))
            except (ValueError, KeyError, TypeError):
                pass  # not one of ours: skipped, never trusted
            offset += len(line)
        self._reader: IO[bytes] = open(path, "rb")  # noqa: SIM115

    def _note(self, entry: dict, offset: int, length: int) -> None:
        self.index[entry["session"]] = (offset, length, entry.get("sha256"),
                                        entry.get("options"), entry["status"])
        self.n_lines += 1

    def known_sha256(self, session: str, options_key: str) -> str | None:
        """The content hash of ``session``'s kept result for these options (failures are
        tried again: None)."""
        found = self.index.get(session)
        if found is None or found[3] != options_key or found[4] != "ok":
            return None
        return found[2]

    def append(self, entry: dict) -> None:
        line = (json.dumps(entry, allow_nan=False, separators=(",", ":")) + "\n").encode()
        offset = self._writer.seek(0, os.SEEK_END)
        self._writer.write(line)
        self._writer.flush()
        self._note(entry, offset, len(line))

    def get(self, session: str) -> dict:
        offset, length, *_ = self.index[session]
        self._reader.seek(offset)
        return json.loads(self._reader.read(length))

    def close(self, compact: bool = False) -> None:
        """Sync and close; with ``compact``, first rewrite the journal with only the latest
        line of each session (when a run measured some recordings again)."""
        if compact and self.n_lines > len(self.index):
            with atomic_output(self.path, force=True, binary=True) as out:
                for session in self.index:
                    out.write(json.dumps(self.get(session), separators=(",", ":")).encode())
                    out.write(b"\n")
        with contextlib.suppress(OSError):
            os.fsync(self._writer.fileno())
        self._writer.close()
        self._reader.close()


def _lock(handle: IO[bytes], outdir: Path) -> None:
    """One batch at a time in an output folder (where the OS has ``flock``)."""
    try:
        import fcntl
    except ImportError:  # Windows: not locked
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise input_error("another 'imu batch' is writing into this folder", path=str(outdir),
                          hint="wait for it, or give another -o") from None


def _cell(value) -> str:
    """A table cell: floats as their shortest exact text (``repr``), None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_tables(outdir: Path, journal: Journal, sessions: list[str], parquet: bool) -> int:
    """``reps.csv``, ``sessions.csv`` and ``errors.csv`` (and ``.parquet`` copies) for
    ``sessions`` in that order, in one pass over their journal lines; the reps written.
    The three files are renamed into place together, once all are complete."""
    n_reps = 0
    paths = [outdir / f"{name}.csv" for name in TABLES]
    with atomic_outputs(paths, force=True, newline="") as handles:
        writers = {}
        for (name, columns), handle in zip(TABLES.items(), handles, strict=True):
            writers[name] = csv.writer(handle, lineterminator="\n")
            writers[name].writerow(columns)
        for session in sessions:
            entry = journal.get(session)
            reps = entry.get("reps") or ()
            n_reps += len(reps)
            writers["reps"].writerows([session, *(_cell(rep.get(c)) for c in REP_COLUMNS)]
                                      for rep in reps)
            row = entry.get("session_row") or {"session": session, "status": entry["status"]}
            row = {**row, "sha256": entry.get("sha256")}
            writers["sessions"].writerow([_cell(row.get(c)) for c in SESSION_COLUMNS])
            if entry["status"] != "ok":
                writers["errors"].writerow([session, " ".join(str(entry.get("error")).split())])
    if parquet:
        for name in TABLES:
            write_parquet(outdir / f"{name}.csv", name)
    return n_reps


def _arrow_types(name: str) -> dict:
    import pyarrow as pa

    def kind(column: str):
        if column in COUNT_COLUMNS:
            return pa.int64()
        if column in FLAG_COLUMNS:
            return pa.bool_()
        return pa.string() if column in TEXT_COLUMNS else pa.float64()

    return {column: kind(column) for column in TABLES[name]}


def write_parquet(csv_path: Path, name: str) -> None:
    """A Parquet copy of a table written by :func:`write_tables` (read in blocks, so a
    table larger than memory converts too). Empty cells are nulls."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types = _arrow_types(name)
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                   true_values=["True"], false_values=["False"])
    target = csv_path.with_suffix(".parquet")
    reader = pacsv.open_csv(csv_path, convert_options=convert)
    with (atomic_output(target, force=True, binary=True) as handle,
          pq.ParquetWriter(handle, reader.schema) as writer):
        for batch in reader:
            writer.write_batch(batch)
