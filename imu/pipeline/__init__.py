"""The measuring instrument: one streaming pipeline for live, replay and batch analysis.

``Engine`` chains timing -> calibration -> orientation (compiled Fusion kernel) -> body angles ->
reps/sets (docs/contracts.md, docs/calibration.md). ``analyze_session`` is the batch
entry point: it feeds a recording through the same ``Engine`` in chunks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from imu.jitcache import ensure_numba_cache

ensure_numba_cache()  # before the first compiled kernel is defined

from imu.pipeline.calibration import UNCERTAIN_QUALITY, CalibrationSettings, parse_mounting
from imu.pipeline.engine import Engine, EngineSettings, Step
from imu.pipeline.excursions import span_record
from imu.pipeline.lifts import LIFTS, Lift, lift_preset
from imu.pipeline.measurement_options import engine_settings
from imu.pipeline.orientation import OrientationSettings
from imu.pipeline.rep_settings import REP_COLUMNS, RepSettings
from imu.pipeline.timing import TimingSettings

__all__ = [
    "LIFTS",
    "REP_COLUMNS",
    "UNCERTAIN_QUALITY",
    "Analysis",
    "CalibrationSettings",
    "Engine",
    "EngineSettings",
    "Lift",
    "OrientationSettings",
    "RepSettings",
    "Step",
    "TimingSettings",
    "analyze_samples",
    "analyze_session",
    "engine_settings",
    "lift_preset",
    "parse_mounting",
    "span_record",
]

BATCH_CHUNK = 16384
"""Rows per ``Engine.update`` call in batch analysis (any size gives the same result; fewer
calls cost less, larger chunks fall out of the CPU cache)."""


@dataclass
class Analysis:
    """Everything a batch run produced: angles per input row, events, reps and sets."""

    angles: np.ndarray
    """(n, 4) ``[time_s, flexion_deg, lateral_bend_deg, twist_deg]``, one row per input sample."""
    events: list[dict]
    calibration: dict
    sampling_rate_hz: float
    quality: dict
    model: dict | None = None
    reps: list[dict] = field(default_factory=list)
    sets: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        """The object ``imu analyze --json`` prints (docs/contracts.md)."""
        calibration = {k: v for k, v in self.calibration.items() if k != "type"}
        strip = ("type",)
        return {
            "sampling_rate_hz": self.sampling_rate_hz,
            "calibration": calibration,
            "quality": self.quality,
            "reps": [{k: v for k, v in rep.items() if k not in strip} for rep in self.reps],
            "sets": [{k: v for k, v in s.items() if k not in strip} for s in self.sets],
            "gaps": [
                {k: v for k, v in e.items() if k not in strip}
                for e in self.events
                if e["type"] == "gap"
            ],
            "model": self.model,
        }


def analyze_samples(
    samples: np.ndarray,
    settings: EngineSettings | None = None,
    classifier=None,
    chunk: int = BATCH_CHUNK,
    gap_before: np.ndarray | None = None,
    decision=None,
) -> Analysis:
    """Feed ``(n, 7)`` samples through one :class:`Engine` in chunks of ``chunk`` rows.

    ``gap_before``: (n,) bool, True on rows that follow samples the source lost (the
    ``gap`` column of a live recording); a chunk starts at each and is fed with
    ``gap_before=True``, as live and replay feed them. ``decision``: the rep decision
    (default: the shipped model; :class:`imu.pipeline.reps.RepSegmenter`).
    """
    engine = Engine(settings, classifier, decision)
    flagged = set() if gap_before is None else set(np.flatnonzero(gap_before).tolist())
    bounds = sorted({*range(0, len(samples), chunk), *flagged, len(samples)})
    # The engine releases one row of angles per input row, in order: copied into place as
    # they come, each step's array is freed for the next (no fresh pages per chunk, no join).
    angles, filled, events = np.empty((len(samples), 4)), 0, []
    for step in _steps(engine, samples, bounds, flagged):
        angles[filled : filled + len(step.angles)] = step.angles
        filled += len(step.angles)
        events += step.events
    calibration = engine.calibration or {"ok": False, "quality": 0.0, "message": "no samples"}
    rate = engine.sampling_rate_hz
    return Analysis(
        angles=angles[:filled],
        events=events,
        calibration=calibration,
        sampling_rate_hz=float(rate) if rate is not None else float("nan"),
        quality={
            "n_samples": len(samples),
            **engine.timing.summary(),
            "n_reps_lost": len(engine.segmenter.lost),
            "n_reps_lost_outside_sets": len(engine.segmenter.lost)
            - sum(e["n_reps_lost"] for e in events if e["type"] == "set"),
        },
        reps=[e for e in events if e["type"] == "rep"],
        sets=[e for e in events if e["type"] == "set"],
    )


def _steps(engine: Engine, samples: np.ndarray, bounds: list[int], flagged: set[int]):
    """The engine's step for each chunk ``bounds[i]:bounds[i + 1]`` of ``samples``, then its
    ``finish``."""
    for lo, hi in itertools.pairwise(bounds):
        yield engine.update(samples[lo:hi], gap_before=lo in flagged)
    yield engine.finish()


def analyze_session(
    session, settings: EngineSettings | None = None, classifier=None, decision=None
) -> Analysis:
    """Batch analysis of an :class:`imu.session.Session` with the streaming engine.

    The session's nominal ``sampling_rate_hz`` is used for the filters unless the
    settings give one; its ``gap`` column (live recordings) flags the rows after lost
    samples (docs/session-format.md).
    """
    from dataclasses import replace

    from imu.session import GAP_COLUMN

    settings = settings or EngineSettings()
    if settings.sampling_rate_hz is None:
        rate = session.sampling_rate_hz
        if np.isfinite(rate) and rate > 0:
            settings = replace(settings, sampling_rate_hz=float(rate))
    gaps = session.data.get(GAP_COLUMN)
    flags = None if gaps is None else np.asarray(gaps.fillna(0), dtype=float) > 0
    return analyze_samples(
        session.samples(), settings, classifier, gap_before=flags, decision=decision
    )
