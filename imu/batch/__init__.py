"""Many recordings at once: ``imu batch`` and :func:`analyze_many` (docs/batch.md).

Each recording is measured exactly as ``imu analyze`` measures it (:func:`imu.measure.measure`),
in worker processes that load the compiled kernels and the model once
(:mod:`imu.batch.work`), on this machine or on a Dask cluster
(:mod:`imu.batch.executors`). Results go to a journal in the output folder as they
arrive, and the tables are written from it in the recordings' order
(:mod:`imu.batch.store`), so a run that was interrupted resumes, a re-run measures only
what changed, and the tables are the same bytes whoever computed them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imu.batch.discover import Found, Recording, discover, is_url
from imu.batch.work import Options, content_hash, run_recording
from imu.errors import input_error

__all__ = ["BatchSummary", "Found", "Options", "Recording", "analyze_many", "discover", "run_batch"]


@dataclass
class BatchSummary:
    """What a batch did: counts, and the files of the searched folders left out."""

    outdir: Path
    n_recordings: int = 0
    n_measured: int = 0
    n_unchanged: int = 0
    n_failed: int = 0
    n_reps: int = 0
    left_out: list[str] = field(default_factory=list)


def run_batch(
    found: Found,
    outdir: str | os.PathLike,
    options: Options | None = None,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    parquet: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BatchSummary:
    """Measure the recordings :func:`discover` found into ``outdir`` (module docstring).

    ``force``: measure everything again (default: only recordings whose bytes or options
    changed, and those that failed). ``progress(session)`` is called after each.
    """
    from imu.batch.executors import make_executor, map_measuring
    from imu.batch.store import STATE_DIR, TABLES, Journal, write_tables

    options = options or Options()
    options.engine_settings()  # a bad option fails before any work
    key = options.key()
    if parquet:
        _require_pyarrow()
    out = Path(outdir)
    _check_outdir(out, TABLES, STATE_DIR, force)
    journal = Journal(out / STATE_DIR / "journal.jsonl")
    summary = BatchSummary(out, n_recordings=len(found.recordings), left_out=found.left_out)
    sessions = [r.session for r in found.recordings]
    try:
        tasks = [(r, options, None if force else journal.known_sha256(r.session, key))
                 for r in found.recordings]
        if scheduler is None:  # the files are here: no worker for what is up to date
            tasks = [task for task in tasks if not _up_to_date(*task, summary, progress)]
        if tasks:
            executor = make_executor(jobs, scheduler)
            try:
                for _, entry in map_measuring(executor, run_recording, tasks, _lost):
                    if entry["status"] == "unchanged":
                        summary.n_unchanged += 1
                    else:
                        summary.n_measured += 1
                        journal.append({**entry, "options": key})
                    if progress:
                        progress(entry["session"])
            finally:
                executor.close()
        for session in sessions:
            summary.n_failed += journal.index[session][4] != "ok"
        with _output_errors():
            summary.n_reps = write_tables(out, journal, sessions, parquet)
    finally:
        journal.close(compact=True)
    return summary


def _up_to_date(recording: Recording, options: Options, known: str | None,
                summary: BatchSummary, progress: Callable[[str], None] | None) -> bool:
    """Whether a local recording still has the content hash of its kept result (counted)."""
    if known is None or any(is_url(p) for p in recording.paths):
        return False
    try:
        if content_hash(recording.paths) != known:
            return False
    except OSError:
        return False  # its worker says what is wrong
    summary.n_unchanged += 1
    if progress:
        progress(recording.session)
    return True


def _lost(args: tuple, exc: BaseException) -> dict:
    """The journal entry of a recording whose task could not run (its worker died)."""
    recording: Recording = args[0]
    what = " ".join(str(exc).split())[:200]
    return {"session": recording.session, "paths": list(recording.paths), "sha256": None,
            "status": "failed", "error": f"worker lost while measuring it ({type(exc).__name__}: "
            f"{what}); run again to retry"}


def _check_outdir(out: Path, tables: dict, state_dir: str, force: bool) -> None:
    """Create ``out``; refuse one holding tables that no batch wrote (no state folder)
    unless ``force``."""
    if out.exists() and not out.is_dir():
        raise input_error("-o must be a folder, this is a file", path=str(out))
    with _output_errors():
        out.mkdir(parents=True, exist_ok=True)
    ours = (out / state_dir).is_dir()
    others = [name for name in tables if (out / f"{name}.csv").exists()]
    if others and not ours and not force:
        raise input_error(f"holds {others[0]}.csv from something else than 'imu batch'",
                          path=str(out), hint="use --force to replace it, or another folder")


def _output_errors():
    from imu.fileio import output_errors

    return output_errors()


def _require_pyarrow() -> None:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise input_error("--parquet needs pyarrow", hint="pip install 'imu[parquet]'") from None


def analyze_many(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike | None = None,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    **options,
):
    """Measure many recordings; ``(reps, sessions, errors)`` as pandas DataFrames, the
    tables ``imu batch`` writes.

    ``paths``: recordings, folders (searched recursively) or glob patterns. ``options``:
    those of ``imu analyze`` by their Python names (``lift="rdl"``, ``mounting="PZPYNX"``,
    ``hyperextension_deg=12``, ``model=None`` for no classifier, ...). ``output``: a folder
    to keep the tables and the journal in (a later call resumes and re-measures only what
    changed); default a temporary one. ``jobs``/``scheduler`` as ``--jobs``/``--scheduler``.
    """
    import pandas as pd

    from imu.batch.store import TABLES, TEXT_COLUMNS

    with tempfile.TemporaryDirectory(prefix="imu-batch-") as scratch:
        out = Path(output) if output is not None else Path(scratch)
        run_batch(discover(list(paths)), out, Options(**options), jobs=jobs,
                  scheduler=scheduler, force=force)
        tables = [pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""],
                              dtype={c: str for c in TABLES[name] if c in TEXT_COLUMNS})
                  for name in ("reps", "sessions", "errors")]
    return tuple(tables)
