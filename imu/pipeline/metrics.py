"""Per-rep and per-set measures computed from angle arrays (one path for live and labels).

Smoothness is SPARC, the spectral arc length of the speed profile (Balasubramanian,
Melendez-Calderon, Roby-Brami & Burdet, "On the analysis of movement smoothness",
J NeuroEng Rehabil 12:112, 2015; parameters from that paper: 4-fold zero padding, 10 Hz
cut-off, 0.05 amplitude threshold). It is applied to the flexion speed; values are
negative, closer to 0 is smoother.
"""

from __future__ import annotations

import numpy as np

from imu.pipeline.rep_kernels import (
    MEASURE_NAMES,
    arc_length,
    median,
    rep_measures,
    unwrap_deg,
    velocity,
)
from imu.pipeline.rep_kernels import trace as _trace_rows

# velocity (deg/s: central differences, the uneven-step formula of np.gradient, one-sided
# at both ends), median and unwrap_deg are the compiled helpers (numpy's bits).
__all__ = [
    "extend_lockout", "measures_record", "median", "rep_metrics", "set_summary", "sparc", "trace",
    "trace_record", "unwrap_deg", "velocity",
]  # fmt: skip


def sparc(
    speed: np.ndarray,
    sampling_rate_hz: float,
    pad_level: int = 4,
    cutoff_hz: float = 10.0,
    threshold: float = 0.05,
) -> float:
    """Spectral arc length of a uniformly sampled speed profile (dimensionless, <= 0).

    ``speed`` is non-negative, so the zero-frequency bin (its sum) is the largest of the
    spectrum: only the bins up to ``cutoff_hz`` are needed, normalised by their maximum
    (numpy's FFT; the arc length of those bins is :func:`imu.pipeline.rep_kernels.arc_length`).
    """
    if len(speed) < 4 or not np.any(speed):
        return float("nan")
    n_fft = 2 ** ((len(speed) - 1).bit_length() + pad_level)  # 2 ** (ceil(log2(n)) + pad)
    n_bins = min(n_fft // 2 + 1, int(cutoff_hz * n_fft / sampling_rate_hz) + 2)
    magnitude = np.abs(np.fft.rfft(speed, n_fft)[:n_bins])
    return arc_length(magnitude, n_fft, float(sampling_rate_hz), float(cutoff_hz), float(threshold))


def rep_metrics(
    rows: np.ndarray, start: int, end: int, tail_end: int, hyperextension_deg: float
) -> dict:
    """Measures of one rep from rows ``start..end`` (inclusive) of ``rows``.

    ``rows`` is a C-ordered float array (n, >= 4) with columns ``time_s, flexion_deg,
    lateral_bend_deg, twist_deg``, times strictly increasing; rows ``end..tail_end`` (the
    lockout window) are only used for the lockout extension. Velocities are central
    differences (deg/s); ``peak_extension_velocity_deg_s`` is the largest extension
    *speed* (positive number) during the ascent; the bottom is lift-off, the last sample
    before the fastest extension at which the trunk was still (extension speed below
    10 deg/s); ``smoothness`` is SPARC of the flexion speed.
    """
    return measures_record(*rep_measures(rows, start, end, tail_end), hyperextension_deg)


def measures_record(
    values: np.ndarray, speed: np.ndarray, sampling_rate_hz: float, hyperextension_deg: float
) -> dict:
    """The measures dict of :func:`imu.pipeline.rep_kernels.rep_measures`' results:
    ``values`` by name, SPARC of ``speed`` and whether the lockout is hyperextended."""
    measures = dict(zip(MEASURE_NAMES, values.tolist(), strict=True))
    measures["smoothness"] = sparc(speed, sampling_rate_hz)
    measures["hyperextended"] = bool(measures["lockout_extension_deg"] > hyperextension_deg)
    return measures


def extend_lockout(measures: dict, lowest_flexion_deg: float, hyperextension_deg: float) -> dict:
    """``measures`` of a rep with the lockout window, whose lowest flexion is
    ``lowest_flexion_deg``, taken into the lockout extension, and ``hyperextended``
    decided on it."""
    extension = max(measures["lockout_extension_deg"], -lowest_flexion_deg)
    return measures | {
        "lockout_extension_deg": extension,
        "hyperextended": bool(extension > hyperextension_deg),
    }


def trace(rows: np.ndarray, start: int, end: int, n_points: int) -> dict[str, list[float]]:
    """Time-normalised angle traces of rows ``start..end`` of ``rows`` (as in
    :func:`rep_metrics`) on ``n_points`` (0..100 % of the rep): lists by angle name."""
    return trace_record(_trace_rows(rows, start, end, n_points))


def trace_record(traces: np.ndarray) -> dict[str, list[float]]:
    """The traces dict of :func:`imu.pipeline.rep_kernels.trace`'s (3, n) result."""
    names = ("flexion_deg", "lateral_bend_deg", "twist_deg")
    return {name: traces[k].tolist() for k, name in enumerate(names)}


def set_summary(reps: list[dict]) -> dict:
    """Per-set figures: rep count, tempo trend (s of rep duration per rep), flexion drift."""
    durations = np.array([r["end_s"] - r["start_s"] for r in reps])
    peaks = np.array([r["peak_flexion_deg"] for r in reps])
    ascents = np.array([r["ascent_s"] for r in reps])
    trend = float(np.polyfit(np.arange(len(reps)), durations, 1)[0]) if len(reps) >= 2 else 0.0
    ascent_trend = float(np.polyfit(np.arange(len(reps)), ascents, 1)[0]) if len(reps) >= 2 else 0.0
    return {
        "set": reps[0]["set"],
        "n_reps": len(reps),
        "start_s": reps[0]["start_s"],
        "end_s": reps[-1]["end_s"],
        "tempo_trend": trend,
        "ascent_trend_s_per_rep": ascent_trend,
        "flexion_drift_deg": float(peaks[-1] - peaks[0]),
        "mean_peak_flexion_deg": float(peaks.mean()),
        "n_hyperextended": int(sum(r["hyperextended"] for r in reps)),
        "n_rounded": int(sum(bool(r.get("rounded")) for r in reps)),
    }
