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

if TYPE_CHECKING:
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
    from imu.commands.options import engine_settings_from_args
    from imu.pipeline.calibration import parse_mounting

    values = {name: options.get(name) for name in SESSION_OPTIONS}
    values["lift"] = values["lift"] or "deadlift"
    if values["mounting"] is not None:
        parse_mounting(str(values["mounting"]))
    settings = engine_settings_from_args(argparse.Namespace(**values))
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
    """Model rows of labelled spans, aligned with the labels table they came from."""

    labels: pd.DataFrame
    rows: np.ndarray
    records: list[dict]
    sampling_rates_hz: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    session_options: dict[str, dict] = field(default_factory=dict)
    """Per session path: the session options it was measured with (set ones only)."""


def labelled_rows(labels: pd.DataFrame, options: SessionOptions | None = None,
                  progress: Callable[[str], None] | None = None) -> LabelledRows:
    """Model rows for every labelled span (see the module docstring). ``options``: the
    command line's session options, for rows whose session-option cells are blank.

    Spans the pipeline cannot measure (no calibrated angles in them, e.g. a recording
    without a usable standing-still moment before the span and no fallback) are left out
    with a warning naming file and line; an InputError if that leaves nothing.
    """
    from imu.errors import input_error
    from imu.pipeline import UNCERTAIN_QUALITY, span_record

    kept, rows, records, warnings = [], [], [], []
    rates: dict[str, float] = {}
    used: dict[str, dict] = {}
    for path, spans in labels.groupby(SESSION_PATH, sort=False):
        used[path] = session_options(spans, options)
        result = analyse(path, used[path])
        rates[path] = result.sampling_rate_hz
        calibration = result.calibration
        if not calibration.get("ok", False):
            warnings.append(f"{path}: calibration: {calibration.get('message', 'failed')}")
        elif calibration.get("quality", 1.0) < UNCERTAIN_QUALITY:
            warnings.append(f"{path}: calibration quality {calibration['quality']:.2f}: "
                            f"{calibration.get('message')}; labels made with a known mounting "
                            "need it here too (--mounting, or a 'mounting' column)")
        time_s = result.angles["time_s"].to_numpy()
        for index, row in spans.sort_values("start_s").iterrows():
            check_span_in_session(row, float(time_s[0]), float(time_s[-1]))
            try:
                record = span_record(result.angles, row["start_s"], row["end_s"],
                                     result.settings.reps)
            except ValueError:
                warnings.append(f"{row[SOURCE]}:{row[LINE]}: span {row['start_s']:g}-"
                                f"{row['end_s']:g} s has no calibrated angles; left out")
                continue
            history = [r for r in result.rep_records if r["end_s"] <= row["start_s"]]
            rows.append(model_row(record, history))
            records.append(record)
            kept.append(index)
        if progress:
            progress(path)
    if not rows:
        first = warnings[-1] if warnings else "no spans"
        raise input_error(f"no labelled span could be measured; last problem: {first}",
                          path=str(labels[SOURCE].iloc[0]))
    return LabelledRows(labels.loc[kept].reset_index(drop=True), np.vstack(rows), records,
                        rates, warnings, used)
