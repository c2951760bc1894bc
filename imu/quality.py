"""Data quality of a sample timeline: measured rate, jitter, gaps, fraction lost.

Gaps and jitter are facts about a recording, not errors: `imu analyze`, `imu report` and
`imu live` show them so a user can judge a session (a BLE link that dropped 8 % of its
packets still gives usable reps, but the user should know).
"""

from __future__ import annotations

import numpy as np

GAP_FACTOR = 3.0  # an interval longer than 3 nominal intervals is a gap

DATA_GAP_S = 0.25
"""A gap longer than this is a *gap in the data*: the engine reports it (a ``gap`` event,
``imu.pipeline.timing.TimingSettings.gap_s``), and so do the loading warning, analyze,
the report and the live summary; a shorter one is a *short dropout* (a few samples or
notifications lost), bridged without a word but counted in the samples missing
(docs/vocabulary.md)."""


def gap_intervals(intervals_s: np.ndarray, nominal_rate_hz: float) -> np.ndarray:
    """Which intervals (s) are gaps: longer than ``GAP_FACTOR`` nominal intervals."""
    return intervals_s > GAP_FACTOR / nominal_rate_hz


def data_quality(time_s: np.ndarray, nominal_rate_hz: float | None = None) -> dict:
    """Summarise the timing of a recording.

    Parameters
    ----------
    time_s:
        Sample times in seconds, strictly increasing (any origin).
    nominal_rate_hz:
        The rate the device was set to. ``None`` uses the measured rate
        (1 / median interval).

    Returns
    -------
    dict with
        ``n_samples``, ``duration_s`` (first to last sample),
        ``nominal_rate_hz``, ``measured_rate_hz`` (1 / median interval),
        ``mean_rate_hz`` ((n - 1) / duration, lowered by gaps),
        ``interval_median_ms``, ``jitter_std_ms`` (std of the intervals that are not gaps),
        ``interval_p95_ms`` (95th percentile of the intervals that are not gaps),
        ``gaps`` (list of ``{start_s, end_s, duration_s}``: the last sample before and the
        first after each interval longer than ``GAP_FACTOR`` nominal intervals),
        ``gap_total_s`` and ``fraction_lost`` (share of the samples expected at the nominal
        rate over the duration that are missing, 0..1).
        Timing figures are NaN when fewer than two samples are given.
    """
    t = np.asarray(time_s, dtype=np.float64)
    n = int(t.size)
    nan = float("nan")
    result: dict = {
        "n_samples": n,
        "duration_s": float(t[-1] - t[0]) if n else 0.0,
        "nominal_rate_hz": float(nominal_rate_hz) if nominal_rate_hz else nan,
        "measured_rate_hz": nan,
        "mean_rate_hz": nan,
        "interval_median_ms": nan,
        "jitter_std_ms": nan,
        "interval_p95_ms": nan,
        "gaps": [],
        "gap_total_s": 0.0,
        "fraction_lost": 0.0,
    }
    if n < 2:
        return result
    intervals = np.diff(t)
    median = float(np.median(intervals))
    measured = 1.0 / median if median > 0 else nan
    nominal = float(nominal_rate_hz) if nominal_rate_hz else measured
    is_gap = gap_intervals(intervals, nominal)
    regular = intervals[~is_gap] if np.any(~is_gap) else intervals
    gap_index = np.flatnonzero(is_gap)
    gaps = [
        {"start_s": float(t[i]), "end_s": float(t[i + 1]), "duration_s": float(intervals[i])}
        for i in gap_index
    ]
    duration = result["duration_s"]
    expected = duration * nominal + 1.0
    result.update(
        nominal_rate_hz=nominal,
        measured_rate_hz=measured,
        mean_rate_hz=(n - 1) / duration if duration > 0 else nan,
        interval_median_ms=median * 1e3,
        jitter_std_ms=float(np.std(regular)) * 1e3,
        interval_p95_ms=float(np.percentile(regular, 95)) * 1e3,
        gaps=gaps,
        gap_total_s=float(intervals[gap_index].sum()),
        fraction_lost=float(min(1.0, max(0.0, 1.0 - n / expected))),
    )
    return result
