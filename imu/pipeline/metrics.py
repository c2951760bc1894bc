"""Per-rep and per-set measures computed from angle arrays (one path for live and labels).

Smoothness is SPARC, the spectral arc length of the speed profile (Balasubramanian,
Melendez-Calderon, Roby-Brami & Burdet, "On the analysis of movement smoothness",
J NeuroEng Rehabil 12:112, 2015; parameters from that paper: 4-fold zero padding, 10 Hz
cut-off, 0.05 amplitude threshold). It is applied to the flexion speed; values are
negative, closer to 0 is smoother.

Rows are given as one float array (n, >= 4) with columns ``time_s``, ``flexion_deg``,
``lateral_bend_deg``, ``twist_deg``, times strictly increasing; ``start..end`` are row
positions (inclusive).
"""

from __future__ import annotations

import math

import numpy as np

LIFTOFF_SPEED_DEG_S = 10.0
"""Flexion speed above which the trunk counts as moving (lift-off detection)."""


def velocity(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Time derivative of ``values`` (units of ``values`` per s) at ``time_s``.

    Second-order central differences inside (the uneven-step formula of ``np.gradient``,
    used whatever the steps, so that any window of a longer series has the same inner
    values: each depends only on its two neighbours), one-sided differences at both ends;
    zeros for fewer than two samples.
    """
    n = len(values)
    out = np.zeros(n)
    if n < 2:
        return out
    dt = time_s[1:] - time_s[:-1]
    out[0] = (values[1] - values[0]) / dt[0]
    out[-1] = (values[-1] - values[-2]) / dt[-1]
    dx1, dx2 = dt[:-1], dt[1:]
    span = dx1 + dx2
    out[1:-1] = (
        -dx2 / (dx1 * span) * values[:-2]
        + (dx2 - dx1) / (dx1 * dx2) * values[1:-1]
        + dx1 / (dx2 * span) * values[2:]
    )
    return out


def unwrap_deg(angles_deg: np.ndarray) -> np.ndarray:
    """Angles (deg) made continuous (no jump of more than 180 deg between neighbours)."""
    return np.degrees(np.unwrap(np.radians(angles_deg)))


def sparc(
    speed: np.ndarray,
    sampling_rate_hz: float,
    pad_level: int = 4,
    cutoff_hz: float = 10.0,
    threshold: float = 0.05,
) -> float:
    """Spectral arc length of a uniformly sampled speed profile (dimensionless, <= 0).

    ``speed`` is non-negative, so the zero-frequency bin (its sum) is the largest of the
    spectrum: only the bins up to ``cutoff_hz`` are needed, normalised by their maximum.
    NaN for fewer than 4 samples or no movement; 0 when fewer than two bins reach
    ``threshold``.
    """
    if len(speed) < 4 or not np.any(speed):
        return float("nan")
    n_fft = 2 ** ((len(speed) - 1).bit_length() + pad_level)  # 2 ** (ceil(log2(n)) + pad)
    n_bins = min(n_fft // 2 + 1, int(cutoff_hz * n_fft / sampling_rate_hz) + 2)
    freq = np.arange(n_bins) * sampling_rate_hz / n_fft
    magnitude = np.abs(np.fft.rfft(speed, n_fft)[:n_bins])
    keep = freq <= cutoff_hz
    freq, magnitude = freq[keep], magnitude[keep] / magnitude.max()
    above = np.flatnonzero(magnitude >= threshold)
    freq, magnitude = freq[above[0] : above[-1] + 1], magnitude[above[0] : above[-1] + 1]
    if len(freq) < 2:
        return 0.0
    d_freq = np.diff(freq) / (freq[-1] - freq[0])
    return float(-np.sum(np.sqrt(d_freq**2 + np.diff(magnitude) ** 2)))


def rep_metrics(
    rows: np.ndarray, start: int, end: int, tail_end: int, hyperextension_deg: float
) -> dict:
    """Measures of one rep from rows ``start..end`` of ``rows``.

    Rows ``end..tail_end`` (the lockout window) are only used for the lockout extension.
    Velocities are central differences (deg/s); ``peak_extension_velocity_deg_s`` is the
    largest extension *speed* (positive number) during the ascent; the bottom is
    lift-off, the last sample before the fastest extension at which the trunk was still
    (extension speed below :data:`LIFTOFF_SPEED_DEG_S`); ``smoothness`` is SPARC of the
    flexion speed resampled uniformly at the median step.
    """
    t, flexion = rows[start : tail_end + 1, 0], rows[start : tail_end + 1, 1]
    m = end - start  # position of the end in the local arrays
    v = velocity(flexion, t)
    peak = int(np.argmax(flexion[: m + 1]))
    fastest_up = peak + int(np.argmin(v[peak : m + 1]))
    moving = np.flatnonzero(v[peak : fastest_up + 1] >= -LIFTOFF_SPEED_DEG_S)
    bottom = peak + (int(moving[-1]) if moving.size else 0)
    lateral = rows[start : end + 1, 2]
    twist = unwrap_deg(rows[start : end + 1, 3])
    speed, rate_hz = np.zeros(0), 1.0
    if m >= 3:
        rate_hz = 1.0 / np.median(np.diff(t[: m + 1]))
        grid = np.arange(t[0], t[m], 1.0 / rate_hz)
        speed = np.abs(np.interp(grid, t[: m + 1], v[: m + 1]))
    measures = {
        "start_s": float(t[0]),
        "bottom_s": float(t[bottom]),
        "end_s": float(t[m]),
        "peak_flexion_deg": float(flexion[peak]),
        "liftoff_flexion_deg": float(flexion[bottom]),
        "lockout_extension_deg": float(-np.min(flexion[bottom : m + 1])),
        "descent_s": float(t[bottom] - t[0]),
        "ascent_s": float(t[m] - t[bottom]),
        "peak_flexion_velocity_deg_s": float(np.max(v[: bottom + 1])),
        "peak_extension_velocity_deg_s": float(-np.min(v[bottom : m + 1])),
        "lateral_bend_range_deg": float(np.ptp(lateral)),
        "twist_range_deg": float(np.ptp(twist)),
        "smoothness": sparc(speed, rate_hz),
    }
    return extend_lockout(measures, float(np.min(flexion[m:])), hyperextension_deg)


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
    """Time-normalised angle traces of rows ``start..end`` of ``rows`` on ``n_points``
    (0..100 % of the rep): lists by angle name."""
    t = rows[start : end + 1, 0]
    grid = np.linspace(t[0], t[-1], n_points)
    names = ("flexion_deg", "lateral_bend_deg", "twist_deg")
    return {
        name: np.interp(grid, t, rows[start : end + 1, k + 1]).tolist()
        for k, name in enumerate(names)
    }


def fitted_ends(values: np.ndarray) -> tuple[float, float]:
    """Least-squares line through ``values`` against their index: (value at first, at last).

    A line is less sensitive to one odd rep than "last minus first". NaN values are
    skipped; fewer than two finite values give ``(nan, nan)``.
    """
    values = np.asarray(values, dtype=np.float64)
    index = np.arange(len(values), dtype=np.float64)
    ok = np.isfinite(values)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(index[ok], values[ok], 1)
    return float(intercept), float(intercept + slope * (len(values) - 1))


def set_summary(reps: list[dict]) -> dict:
    """Per-set figures: rep count, tempo trend (s of rep duration per rep), peak flexion
    rise (the rise of a least-squares line through the reps' peak flexion, first to last
    rep, deg: :func:`fitted_ends`; None under two reps), and ``flexion_drift_deg`` (last
    minus first rep, kept for readers of the older field)."""
    durations = np.array([r["end_s"] - r["start_s"] for r in reps])
    peaks = np.array([r["peak_flexion_deg"] for r in reps])
    ascents = np.array([r["ascent_s"] for r in reps])
    trend = float(np.polyfit(np.arange(len(reps)), durations, 1)[0]) if len(reps) >= 2 else 0.0
    ascent_trend = float(np.polyfit(np.arange(len(reps)), ascents, 1)[0]) if len(reps) >= 2 else 0.0
    first, last = fitted_ends(peaks)
    rise = last - first
    return {
        "set": reps[0]["set"],
        "n_reps": len(reps),
        "start_s": reps[0]["start_s"],
        "end_s": reps[-1]["end_s"],
        "tempo_trend": trend,
        "ascent_trend_s_per_rep": ascent_trend,
        "peak_flexion_rise_deg": None if math.isnan(rise) else rise,
        "flexion_drift_deg": float(peaks[-1] - peaks[0]),
        "mean_peak_flexion_deg": float(peaks.mean()),
        "n_hyperextended": int(sum(r["hyperextended"] for r in reps)),
        "n_rounded": int(sum(bool(r.get("rounded")) for r in reps)),
    }
