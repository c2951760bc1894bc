"""Labelled spans -> model rows, through the same pipeline the live engine runs.

Each labelled session is loaded with :func:`imu.importers.load` and analysed once by
:func:`imu.pipeline.analyze_session` (the streaming engine). A labelled span's record is
:func:`imu.pipeline.span_record` of the analysed angles; its history is the records of
the reps the engine detected that ended before the span starts -- exactly the history
the engine hands the classifier live, so training and live use one definition of the
lifter's baseline (docs/classifier.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imu.model.features import model_row
from imu.model.labels import LINE, SESSION_PATH, SOURCE, check_span_in_session

ANGLE_COLUMNS = ("time_s", "flexion_deg", "lateral_bend_deg", "twist_deg")


@dataclass
class SessionAnalysis:
    """One analysed session: angles table, detected rep records, and how it went."""

    angles: pd.DataFrame
    rep_records: list[dict]
    sampling_rate_hz: float
    calibration: dict
    reps: list[dict]
    metadata: dict[str, str]


def analyse(path: str, classifier=None) -> SessionAnalysis:
    """Load and analyse one recording; ``classifier`` (optional) flags its reps."""
    from imu.importers import load
    from imu.pipeline import analyze_session, span_record

    session = load(path)
    analysis = analyze_session(session, classifier=classifier)
    angles = pd.DataFrame(analysis.angles, columns=list(ANGLE_COLUMNS))
    records = [span_record(angles, r["start_s"], r["end_s"]) for r in analysis.reps]
    return SessionAnalysis(angles, records, analysis.sampling_rate_hz, analysis.calibration,
                           analysis.reps, session.metadata)


@dataclass
class LabelledRows:
    """Model rows of labelled spans, aligned with the labels table they came from."""

    labels: pd.DataFrame
    rows: np.ndarray
    records: list[dict]
    sampling_rates_hz: dict[str, float]
    warnings: list[str] = field(default_factory=list)


def labelled_rows(labels: pd.DataFrame,
                  progress: Callable[[str], None] | None = None) -> LabelledRows:
    """Model rows for every labelled span (see the module docstring).

    Spans the pipeline cannot measure (no calibrated angles in them, e.g. a recording
    without a usable standing-still moment before the span and no fallback) are left out
    with a warning naming file and line; an InputError if that leaves nothing.
    """
    from imu.errors import input_error
    from imu.pipeline import span_record

    kept, rows, records, warnings = [], [], [], []
    rates: dict[str, float] = {}
    for path, spans in labels.groupby(SESSION_PATH, sort=False):
        result = analyse(path)
        rates[path] = result.sampling_rate_hz
        if not result.calibration.get("ok", False):
            warnings.append(f"{path}: calibration: {result.calibration.get('message', 'failed')}")
        time_s = result.angles["time_s"].to_numpy()
        for index, row in spans.sort_values("start_s").iterrows():
            check_span_in_session(row, float(time_s[0]), float(time_s[-1]))
            try:
                record = span_record(result.angles, row["start_s"], row["end_s"])
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
                        rates, warnings)
