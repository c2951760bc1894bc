"""What a report is made of: one analysed session as plain data.

The report never reaches into the pipeline. It takes what ``imu analyze --json`` prints
(``analysis.to_json()``, docs/contracts.md) plus the per-sample angles, and turns them
into a :class:`SessionData`: the rep and set tables as DataFrames with the contract's
column names and units, the calibration/quality/model dicts as they are.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.pipeline.rep_settings import (  # the rep object fields of docs/contracts.md
    REP_COLUMNS,
    RepSettings,
)
from imu.text import Timeline

ANGLE_COLUMNS = ("time_s", "flexion_deg", "lateral_bend_deg", "twist_deg")
STARTED = "started_utc"
"""Metadata key of a recording's start (ISO 8601): written by ``imu live --record`` and by
the importers whose clock is Unix time (docs/importers.md)."""

_REP_NUMERIC = tuple(c for c in REP_COLUMNS if c not in ("hyperextended", "rounded", "look_back"))


@dataclass
class SessionData:
    """One analysed session, ready to report.

    ``angles`` is ``(n, 4)`` float64 ``[time_s, flexion_deg, lateral_bend_deg, twist_deg]``
    (NaN before calibration). ``reps`` has :data:`REP_COLUMNS` (times in s of the
    session clock, angles in deg, flexion positive forward); ``hyperextended`` is bool,
    ``rounded`` is ``True``/``False``/``None`` (no classifier). ``loads_kg`` optionally
    maps a set number to the load lifted in that set (kg), given by the user. ``gaps``
    are the analysis' gap objects (``start_s, end_s, duration_s, restarted``);
    ``warnings`` what ``imu analyze`` warns of (loading, calibration, lift and model);
    ``lift`` the rep-detection preset it was measured with (``--lift``);
    ``hyperextension_deg`` the lockout extension beyond which a rep was flagged
    hyperextended (``--hyperextension-deg``).
    """

    name: str
    sampling_rate_hz: float
    angles: np.ndarray
    reps: pd.DataFrame
    sets: pd.DataFrame
    calibration: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    loads_kg: dict[int, float] = field(default_factory=dict)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lift: str = "deadlift"
    hyperextension_deg: float = RepSettings.hyperextension_deg

    @property
    def started_utc(self) -> dt.datetime | None:
        """When the recording started (aware, UTC) from its ``started_utc`` metadata; None
        without it or when it is not an ISO 8601 time (a time without offset is UTC)."""
        try:
            started = dt.datetime.fromisoformat(str(self.metadata.get(STARTED, "")).strip())
        except ValueError:
            return None
        if started.tzinfo is None:
            return started.replace(tzinfo=dt.timezone.utc)
        return started.astimezone(dt.timezone.utc)

    @property
    def timeline(self) -> Timeline:
        """Times from the recording's first sample, with the clock when it says when it started."""
        first = float(self.angles[0, 0]) if len(self.angles) else None
        return Timeline.for_recording(first, self.metadata)

    @property
    def lifter(self) -> str | None:
        """Who lifted: the ``lifter`` (or ``subject``) metadata; None when not recorded."""
        for key in ("lifter", "subject"):
            value = str(self.metadata.get(key, "")).strip()
            if value:
                return value
        return None

    @property
    def synthetic(self) -> bool:
        """True when the session's metadata marks it as simulated."""
        from imu.session import is_synthetic

        return is_synthetic(self.metadata)

    @property
    def received_rate_hz(self) -> float:
        """Samples received per second of recording (NaN for fewer than two samples)."""
        if len(self.angles) < 2 or self.duration_s <= 0:
            return float("nan")
        return (len(self.angles) - 1) / self.duration_s

    @property
    def duration_s(self) -> float:
        """Span of the angle trace (s); 0 for an empty trace."""
        if len(self.angles) == 0:
            return 0.0
        return float(self.angles[-1, 0] - self.angles[0, 0])


def _angles_array(angles: Any) -> np.ndarray:
    """Accept the angles as an ``(n, 4)`` array or a DataFrame with :data:`ANGLE_COLUMNS`."""
    if isinstance(angles, pd.DataFrame):
        missing = [c for c in ANGLE_COLUMNS if c not in angles.columns]
        if missing:
            raise ValueError(f"angles DataFrame lacks column(s) {', '.join(missing)}")
        array = angles.loc[:, list(ANGLE_COLUMNS)].to_numpy(dtype=np.float64)
    else:
        array = np.asarray(angles, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"angles must have shape (n, 4), got {array.shape}")
    return array


def _optional_bool(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def rep_table(reps: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Rep objects (contract dicts) -> DataFrame with :data:`REP_COLUMNS` first.

    Missing numeric fields become NaN, so a pipeline that does not (yet) measure a
    quantity gives an empty cell rather than a crash; extra fields are kept after.
    """
    frame = pd.DataFrame(list(reps))
    for column in REP_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    for column in _REP_NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    frame["set"] = frame["set"].fillna(0).astype(int)
    frame["rep"] = frame["rep"].fillna(0).astype(int)
    frame["hyperextended"] = frame["hyperextended"].map(lambda v: bool(_optional_bool(v)))
    frame["look_back"] = frame["look_back"].map(lambda v: bool(_optional_bool(v)))
    frame["rounded"] = pd.Series(
        [_optional_bool(v) for v in frame["rounded"]], index=frame.index, dtype=object
    )
    extra = [c for c in frame.columns if c not in REP_COLUMNS]
    return frame.loc[:, list(REP_COLUMNS) + extra].sort_values(["start_s"], kind="stable")


def from_json(
    doc: Mapping[str, Any],
    angles: Any,
    name: str,
    metadata: Mapping[str, str] | None = None,
    loads_kg: Mapping[int, float] | None = None,
    warnings: list[str] | None = None,
    lift: str = "deadlift",
    hyperextension_deg: float = RepSettings.hyperextension_deg,
) -> SessionData:
    """Build :class:`SessionData` from an ``analysis.to_json()`` dict and the angles."""
    for key in ("sampling_rate_hz", "reps", "sets"):
        if key not in doc:
            raise input_error(
                f"analysis has no '{key}'", path=name, hint="expected `imu analyze --json` output"
            )
    reps = rep_table(doc["reps"])
    sets = pd.DataFrame(list(doc["sets"]))
    return SessionData(
        name=name,
        sampling_rate_hz=float(doc["sampling_rate_hz"]),
        angles=_angles_array(angles),
        reps=reps.reset_index(drop=True),
        sets=sets,
        calibration=dict(doc.get("calibration") or {}),
        quality=dict(doc.get("quality") or {}),
        model=dict(doc["model"]) if doc.get("model") else None,
        metadata=dict(metadata or {}),
        loads_kg=dict(loads_kg or {}),
        gaps=[dict(g) for g in doc.get("gaps") or []],
        warnings=list(warnings or []),
        lift=lift,
        hyperextension_deg=float(hyperextension_deg),
    )


def from_analysis(
    analysis: Any,
    name: str,
    metadata: Mapping[str, str] | None = None,
    loads_kg: Mapping[int, float] | None = None,
    warnings: list[str] | None = None,
    lift: str = "deadlift",
    hyperextension_deg: float = RepSettings.hyperextension_deg,
) -> SessionData:
    """Build :class:`SessionData` from an ``imu.pipeline`` ``Analysis`` object."""
    doc = analysis.to_json()
    return from_json(
        doc, analysis.angles, name, metadata, loads_kg, warnings, lift, hyperextension_deg
    )


def chronological(sessions: Sequence[SessionData]) -> tuple[list[SessionData], list[str]]:
    """``sessions`` oldest first by :attr:`SessionData.started_utc` when every one has a
    start time (equal times keep the given order); otherwise in the given order. Also
    returns the names of the sessions without a start time (empty when ordered)."""
    undated = [s.name for s in sessions if s.started_utc is None]
    if undated:
        return list(sessions), undated
    return sorted(sessions, key=lambda s: s.started_utc), []


def order_note(undated: Sequence[str]) -> str:
    """One sentence on the order of a report's sessions (``undated``: from
    :func:`chronological`)."""
    if not undated:
        return "Sessions in the order they were recorded (started_utc metadata)."
    names = ", ".join(undated[:3]) + (f" and {len(undated) - 3} more" if len(undated) > 3 else "")
    verb = "has" if len(undated) == 1 else "have"
    return f"Sessions in the order given: {names} {verb} no start time (started_utc metadata)."
