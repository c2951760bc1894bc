"""Per-rep and per-set measures computed from angle arrays (one path for live and labels).

Smoothness is SPARC, the spectral arc length of the speed profile (Balasubramanian,
Melendez-Calderon, Roby-Brami & Burdet, "On the analysis of movement smoothness",
J NeuroEng Rehabil 12:112, 2015; parameters from that paper: 4-fold zero padding, 10 Hz
cut-off, 0.05 amplitude threshold). It is applied to the flexion speed; values are
negative, closer to 0 is smoother.
"""

from __future__ import annotations

import numpy as np

ONSET_VELOCITY_DEG_S = 10.0
"""Flexion speed above which the trunk counts as moving (lift-off detection)."""


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
    """
    if len(speed) < 4 or not np.any(speed):
        return float("nan")
    n_fft = int(2 ** (np.ceil(np.log2(len(speed))) + pad_level))
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


def velocity(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Time derivative of ``values`` (units of ``values`` per s) at ``time_s``.

    Second-order central differences inside (the uneven-step formula of
    ``np.gradient``), one-sided differences at both ends; zeros for fewer than two
    samples. Each inner value depends only on its two neighbours, so any window of a
    longer series has the same inner values.
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
        -(dx2) / (dx1 * span) * values[:-2]
        + (dx2 - dx1) / (dx1 * dx2) * values[1:-1]
        + dx1 / (dx2 * span) * values[2:]
    )
    return out


def median(values: np.ndarray) -> float:
    """``np.median`` of a non-empty 1-D float array, the same operations (same bits,
    NaN if any value is NaN) without its generic overhead (a tenth of the time on the
    few hundred samples of a rep)."""
    n = len(values)
    k = n // 2
    if n % 2:
        part = np.partition(values, (k, -1))
        middle = part[k]
    else:
        part = np.partition(values, (k - 1, k, -1))
        middle = (part[k - 1] + part[k]) / 2
    return float("nan") if np.isnan(part[-1]) else float(middle)


def unwrap_deg(angles_deg: np.ndarray) -> np.ndarray:
    """Angles (deg) made continuous: ``np.degrees(np.unwrap(np.radians(angles_deg)))`` for a
    1-D float array, the same operations (same bits) without its generic overhead."""
    p = np.radians(angles_deg)
    dd = p[1:] - p[:-1]
    ddmod = np.mod(dd + np.pi, 2 * np.pi) - np.pi
    np.copyto(ddmod, np.pi, where=(ddmod == -np.pi) & (dd > 0))
    correction = ddmod - dd
    np.copyto(correction, 0, where=np.abs(dd) < np.pi)
    p[1:] += correction.cumsum()
    return np.degrees(p, out=p)


def _uniform_speed(time_s: np.ndarray, velocity: np.ndarray) -> tuple[np.ndarray, float]:
    rate = 1.0 / median(np.diff(time_s))
    grid = np.arange(time_s[0], time_s[-1], 1.0 / rate)
    return np.abs(np.interp(grid, time_s, velocity)), rate


def rep_metrics(
    time_s: np.ndarray,
    angles: np.ndarray,
    start: int,
    end: int,
    tail_end: int,
    hyperextension_deg: float,
) -> dict:
    """Measures of one rep from rows ``start..end`` (inclusive) of ``angles``.

    ``angles`` is (n, 3) ``[flexion_deg, lateral_bend_deg, twist_deg]`` at ``time_s``;
    rows ``end..tail_end`` (the lockout window) are only used for the lockout extension.
    Velocities are central differences (deg/s); ``peak_extension_velocity_deg_s`` is the
    largest extension *speed* (positive number) during the ascent.
    """
    t = time_s[start : tail_end + 1]
    flexion = angles[start : tail_end + 1, 0]
    m = end - start  # position of the end in the local arrays
    velocity_deg_s = velocity(flexion, t)
    peak = int(np.argmax(flexion[: m + 1]))
    fastest_up = peak + int(np.argmin(velocity_deg_s[peak : m + 1]))
    moving = np.flatnonzero(velocity_deg_s[peak : fastest_up + 1] >= -ONSET_VELOCITY_DEG_S)
    bottom = peak + (int(moving[-1]) if moving.size else 0)
    lateral = angles[start : end + 1, 1]
    twist = unwrap_deg(angles[start : end + 1, 2])
    lockout_extension = float(-np.min(flexion[bottom : m + 1]))
    speed, rate = (
        _uniform_speed(t[: m + 1], velocity_deg_s[: m + 1]) if m >= 3 else (np.zeros(0), 1.0)
    )
    measures = {
        "start_s": float(t[0]),
        "bottom_s": float(t[bottom]),
        "end_s": float(t[m]),
        "peak_flexion_deg": float(flexion[peak]),
        "liftoff_flexion_deg": float(flexion[bottom]),
        "lockout_extension_deg": lockout_extension,
        "descent_s": float(t[bottom] - t[0]),
        "ascent_s": float(t[m] - t[bottom]),
        "peak_flexion_velocity_deg_s": float(np.max(velocity_deg_s[: bottom + 1])),
        "peak_extension_velocity_deg_s": float(-np.min(velocity_deg_s[bottom : m + 1])),
        "lateral_bend_range_deg": float(np.ptp(lateral)),
        "twist_range_deg": float(np.ptp(twist)),
        "smoothness": sparc(speed, rate),
    }
    return extend_lockout(measures, flexion[m:], hyperextension_deg)


def extend_lockout(measures: dict, flexion_deg: np.ndarray, hyperextension_deg: float) -> dict:
    """``measures`` of a rep with the lockout window ``flexion_deg`` (the rows from its end
    on) taken into the lockout extension, and ``hyperextended`` decided on it."""
    extension = max(measures["lockout_extension_deg"], float(-np.min(flexion_deg)))
    return measures | {
        "lockout_extension_deg": extension,
        "hyperextended": bool(extension > hyperextension_deg),
    }


def trace(
    time_s: np.ndarray, angles: np.ndarray, start: int, end: int, n_points: int
) -> dict[str, list[float]]:
    """Time-normalised angle traces of rows ``start..end`` on ``n_points`` (0..100 % of the rep)."""
    t = time_s[start : end + 1]
    grid = np.linspace(t[0], t[-1], n_points)
    names = ("flexion_deg", "lateral_bend_deg", "twist_deg")
    return {
        name: np.interp(grid, t, angles[start : end + 1, k]).tolist()
        for k, name in enumerate(names)
    }


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
