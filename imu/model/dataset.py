"""Labelled spans -> model rows, through the same pipeline the live engine runs.

Each labelled session is loaded with :func:`imu.importers.load` and analysed once by
:func:`imu.pipeline.analyze_session` (the streaming engine). A labelled span's record is
:func:`imu.pipeline.span_record` of the analysed angles; its history is the records of
the reps the engine detected that ended before the span starts -- exactly the history
the engine hands the classifier live, so training and live use one definition of the
lifter's baseline (docs/classifier.md).

How a session is read and measured (input format and units, mounting, lift preset, rep
thresholds) comes from its rows' session-option columns
(:data:`imu.model.labels.SESSION_OPTIONS`), else from the command line's values: the same
options ``imu label`` and ``imu analyze`` were given, so a span is measured the way it
was labelled.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from imu.model.features import model_row
from imu.model.labels import (
    LINE,
    SESSION_OPTIONS,
    SESSION_PATH,
    SOURCE,
    check_span_in_session,
    row_options,
)
from imu.text import plural

if TYPE_CHECKING:
    from imu.batch.executors import Executor
    from imu.pipeline import EngineSettings

ANGLE_COLUMNS = ("time_s", "flexion_deg", "lateral_bend_deg", "twist_deg")

SessionOptions = Mapping[str, str | float | None]
"""Values of :data:`imu.model.labels.SESSION_OPTIONS` by name; None or missing = default."""


def options_from_args(args: argparse.Namespace) -> dict[str, str | float | None]:
    """The session options given on a command line (``add_input_arguments`` and
    ``add_measurement_arguments``); unknown ones are None."""
    return {name: getattr(args, name, None) for name in SESSION_OPTIONS}


def session_options(spans: pd.DataFrame, options: SessionOptions | None) -> dict:
    """The options one session's rows are measured with: its rows' session-option cells
    (they agree, :func:`imu.model.labels.read_labels`), else ``options`` (the command
    line's); only the ones set."""
    given = {k: v for k, v in (options or {}).items() if v is not None}
    return {**given, **row_options(spans.iloc[0])}


def session_setup(options: SessionOptions) -> tuple[EngineSettings, dict[str, str | None]]:
    """``(EngineSettings, load keyword arguments)`` for session options; InputError for a
    bad value (e.g. not a mounting), so it can be called early to check options."""
    from imu.pipeline.calibration import parse_mounting
    from imu.pipeline.measurement_options import LIMITS, engine_settings

    values = {name: options.get(name) for name in SESSION_OPTIONS}
    if values["mounting"] is not None:
        parse_mounting(str(values["mounting"]))
    settings = engine_settings(
        mounting=values["mounting"],
        lift=values["lift"] or "deadlift",
        **{name: values.get(name) for name in LIMITS},
    )
    return settings, {"fmt": values["format"], "acc_unit": values["acc_unit"],
                      "gyr_unit": values["gyr_unit"]}


@dataclass
class SessionAnalysis:
    """One analysed session: angles table, detected rep records, and how it went."""

    angles: pd.DataFrame
    rep_records: list[dict]
    sampling_rate_hz: float
    calibration: dict
    reps: list[dict]
    metadata: dict[str, str]
    settings: EngineSettings
    """What it was analysed with."""


def analyse(path: str, options: SessionOptions | None = None) -> SessionAnalysis:
    """Load and analyse one recording with session options (default: all defaults)."""
    from imu.importers import load
    from imu.pipeline import analyze_session, span_record

    settings, how = session_setup(options or {})
    session = load(path, **how)
    analysis = analyze_session(session, settings)
    angles = pd.DataFrame(analysis.angles, columns=list(ANGLE_COLUMNS))
    records = [span_record(angles, r["start_s"], r["end_s"], settings.reps)
               for r in analysis.reps]
    return SessionAnalysis(angles, records, analysis.sampling_rate_hz, analysis.calibration,
                           analysis.reps, session.metadata, settings)


@dataclass
class LabelledRows:
    """Model rows of labelled spans, aligned with the labels table they came from (its
    rows of the spans measured, with ``start_s``/``end_s`` as measured: clipped to the
    recording, :data:`EDGE_TOLERANCE_S`)."""

    labels: pd.DataFrame
    rows: np.ndarray
    records: list[dict]
    sampling_rates_hz: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    session_options: dict[str, dict] = field(default_factory=dict)
    """Per session path: the session options it was measured with (set ones only)."""
    left_out: dict[str, list[str]] = field(default_factory=dict)
    """Reason -> ``file:line`` of each labelled span left out for it (the warning's
    counts, as data)."""
    synthetic: dict[str, bool] = field(default_factory=dict)
    """Per session path: its metadata marks it SYNTHETIC (:func:`imu.session.is_synthetic`)."""


EDGE_TOLERANCE_S = 0.25
"""A span sticking out of its recording by at most this long (s) is clipped to it (a
hand-made window a few samples past the first or last sample)."""

MIN_RECORDED_SHARE = 0.75
"""A span sticking out further (the recording starts or stops inside the rep: a file cut
to the set, notifications lost before the logger stopped) is clipped to the recording
and used when at least this share of its time was recorded: the rep's descent, peak and
ascent are there, only an edge is missing. Less, and it is a part of a rep (its
measures would describe another movement): left out, and counted."""


def labelled_rows(labels: pd.DataFrame, options: SessionOptions | None = None,
                  progress: Callable[[str], None] | None = None,
                  executor: Executor | None = None) -> LabelledRows:
    """Model rows for every labelled span (see the module docstring). ``options``: the
    command line's session options, for rows whose session-option cells are blank.

    Every span is used unless the data under it is unusable: no calibrated angles in it
    (calibration failed: too few samples, no still period and no bends to calibrate
    from), too few samples to measure, or less than :data:`MIN_RECORDED_SHARE` of it
    inside the recording (a part of a rep). Those are left out and one warning says how
    many and why (and the first lines); an InputError if that leaves nothing, and if no
    span of a session overlaps its recording (the labels' times are not in the file's
    clock). A span sticking out of its recording is clipped to it, with a warning
    (:data:`EDGE_TOLERANCE_S`, :data:`MIN_RECORDED_SHARE`). Warnings of
    the labels file (adjacent spans trimmed where they shared a few samples,
    :func:`imu.model.labels.read_labels`) come first.

    ``executor`` (:mod:`imu.batch.executors`: ``--jobs``, ``--scheduler``) measures the
    sessions in worker processes (:func:`session_rows`); default: one after the other in
    this process. The result is the same either way (rows in the labels' session order).
    """
    from imu.errors import input_error

    tasks = [(path, spans, session_options(spans, options))
             for path, spans in labels.groupby(SESSION_PATH, sort=False)]
    done: list[SessionRows | None] = [None] * len(tasks)
    from imu.batch.executors import InProcess, map_measuring

    results = map_measuring(executor or InProcess(), session_rows, tasks, _lost_session)
    for index, result in results:
        done[index] = result
        if progress:
            progress(tasks[index][0])
    kept, times_s, rows, records = [], [], [], []
    warnings: list[str] = list(labels.attrs.get("warnings", []))
    left_out: dict[str, list[str]] = {}
    for result in done:
        kept += result.kept
        times_s += result.times_s
        rows += result.rows
        records += result.records
        warnings += result.warnings
        for reason, lines in result.left_out.items():
            left_out.setdefault(reason, []).extend(lines)
    clipped = sum(result.clipped for result in done)
    if clipped:
        were = "was" if clipped == 1 else "were"
        warnings.append(f"{plural(clipped, 'span')} reaching up to {EDGE_TOLERANCE_S:g} s past "
                        f"their recording's first or last sample {were} clipped to it")
    cut = [line for result in done for line in result.cut]
    if cut:
        one = len(cut) == 1
        them, were, their = ("it", "was", "its") if one else ("them", "were", "their")
        warnings.append(
            f"{plural(len(cut), 'span')} reaching more than {EDGE_TOLERANCE_S:g} s past their "
            f"recording's first or last sample (the recording starts or stops inside {them}) "
            f"{were} clipped to it and used, {MIN_RECORDED_SHARE:.0%} of {their} time or more "
            f"being recorded (e.g. {', '.join(cut[:3])})")
    if left_out:
        n_out = sum(len(lines) for lines in left_out.values())
        reasons = "; ".join(
            f"{len(lines)} with {reason} (e.g. {', '.join(lines[:3])})"
            for reason, lines in left_out.items()
        )
        warnings.append(f"left out {n_out} of {len(labels)} labelled spans: {reasons}")
    if not rows:
        first = warnings[-1] if warnings else "no spans"
        raise input_error(f"no labelled span could be measured; last problem: {first}",
                          path=str(labels[SOURCE].iloc[0]))
    rates = {task[0]: result.sampling_rate_hz for task, result in zip(tasks, done, strict=True)}
    used = {task[0]: task[2] for task in tasks}
    used_labels = labels.loc[kept].reset_index(drop=True)
    used_labels[["start_s", "end_s"]] = np.array(times_s, dtype=np.float64)  # as measured
    synthetic = {task[0]: result.synthetic for task, result in zip(tasks, done, strict=True)}
    return LabelledRows(used_labels, np.vstack(rows), records, rates, warnings, used, left_out,
                        synthetic)


@dataclass
class SessionRows:
    """The model rows of one session's labelled spans (:func:`session_rows`)."""

    kept: list
    """Index labels of the spans measured, in the order of ``rows``."""
    times_s: list[tuple[float, float]]
    """``(start_s, end_s)`` of each kept span as measured (clipped to the recording)."""
    rows: list[np.ndarray]
    records: list[dict]
    sampling_rate_hz: float
    warnings: list[str]
    left_out: dict[str, list[str]]
    """Reason -> ``file:line`` of the spans left out for it."""
    clipped: int
    """Spans clipped to the recording (:data:`EDGE_TOLERANCE_S`)."""
    cut: list[str] = field(default_factory=list)
    """``file:line`` of the spans clipped further and used (:data:`MIN_RECORDED_SHARE`)."""
    synthetic: bool = False
    """The session's metadata marks it SYNTHETIC (:func:`imu.session.is_synthetic`)."""


def session_rows(path: str, spans: pd.DataFrame, options: dict) -> SessionRows:
    """Analyse one labelled session with its ``options`` and measure its ``spans``: the
    work of :func:`labelled_rows` for one session (a task of a worker process)."""
    from imu.pipeline import UNCERTAIN_QUALITY, span_record
    from imu.pipeline.fusion import warm_up

    warm_up(notice_after_s=None)  # in a worker: labelled_rows says it once for all
    kept, times_s, rows, records, warnings = [], [], [], [], []
    left_out: dict[str, list[str]] = {}
    clipped = 0
    result = analyse(path, options)
    calibration = result.calibration
    if not calibration.get("ok", False):
        warnings.append(f"{path}: calibration: {calibration.get('message', 'failed')}")
    elif calibration.get("quality", 1.0) < UNCERTAIN_QUALITY:
        warnings.append(f"{path}: calibration quality {calibration['quality']:.2f}: "
                        f"{calibration.get('message')}; labels made with a known mounting "
                        "need it here too (--mounting, or a 'mounting' column)")
    time_s = result.angles["time_s"].to_numpy()
    first_s, last_s = float(time_s[0]), float(time_s[-1])
    if not ((spans["start_s"] < last_s) & (spans["end_s"] > first_s)).any():
        # nothing labelled was recorded: the labels' clock is not the file's
        check_span_in_session(spans.sort_values("start_s").iloc[0], first_s, last_s)
    cut: list[str] = []
    for index, row in spans.sort_values("start_s").iterrows():
        start_s, end_s = float(row["start_s"]), float(row["end_s"])
        where = f"{row[SOURCE]}:{row[LINE]}"
        if start_s < first_s or end_s > last_s:
            recorded_s = min(end_s, last_s) - max(start_s, first_s)
            if start_s < first_s - EDGE_TOLERANCE_S or end_s > last_s + EDGE_TOLERANCE_S:
                if recorded_s < MIN_RECORDED_SHARE * (end_s - start_s):
                    reason = (f"less than {MIN_RECORDED_SHARE:.0%} of their time inside "
                              "the recording")
                    left_out.setdefault(reason, []).append(where)
                    continue
                cut.append(where)
            else:
                clipped += 1
            start_s, end_s = max(start_s, first_s), min(end_s, last_s)
        try:
            record = span_record(result.angles, start_s, end_s, result.settings.reps)
        except ValueError as exc:
            reason = ("no calibrated angles (calibration failed)"
                      if not calibration.get("ok", False) else f"unusable data ({exc})")
            left_out.setdefault(reason, []).append(where)
            continue
        history = [r for r in result.rep_records if r["end_s"] <= start_s]
        rows.append(model_row(record, history))
        records.append(record)
        kept.append(index)
        times_s.append((start_s, end_s))
    from imu.session import is_synthetic

    return SessionRows(kept, times_s, rows, records, result.sampling_rate_hz, warnings, left_out,
                       clipped, cut, is_synthetic(result.metadata))


def _lost_session(args: tuple, exc: BaseException) -> SessionRows:
    from imu.errors import ImuError

    raise ImuError(f"{args[0]}: the worker measuring it was lost ({type(exc).__name__}); "
                   "run again") from exc
