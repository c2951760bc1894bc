"""One excursion of the flexion: where it lies, whether it can be a rep, its rep record.

An excursion goes from upright (below ``top_deg``) to deeper than ``bottom_deg`` and
back below ``top_deg`` (the streaming scan that finds them is :mod:`imu.pipeline.reps`).
Where it lies (:func:`locate`):

- start of descent: searching back at most ``lookback_s`` (never before the previous
  rep's end), the last sample within ``onset_deg`` of the lowest flexion there or moving
  slower than ``onset_velocity_deg_s``;
- bottom: lift-off, the last sample before the fastest extension at which the trunk was
  still (extension speed below 10 deg/s) -- the end of a floor pause, or the turn-around
  (:func:`imu.pipeline.metrics.rep_metrics`);
- end at lockout: the first sample after the fastest extension at which extension has
  stopped (speed below ``onset_velocity_deg_s``).

Excursions that cannot be reps are rejected by rule (:func:`is_rep`, and a start more
bent than ``max_start_flexion_deg``): starting from a bent posture (sitting), too short or
too long, still bent at the lockout (``max_lockout_flexion_deg``), held near the bottom
too long (or turned aside while held: loading plates), twist or lateral bend ranges beyond
the limits, no real extension. Every other excursion is a candidate for
:mod:`imu.pipeline.rep_decision`. Thresholds: :class:`imu.pipeline.rep_settings.RepSettings`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from imu.pipeline.metrics import rep_metrics, trace, unwrap_deg, velocity
from imu.pipeline.rep_settings import RepSettings


def span_record(
    angles_df: pd.DataFrame,
    start_s: float,
    end_s: float,
    settings: RepSettings = RepSettings(),
) -> dict:
    """The rep record (measures + time-normalised traces) of ANY span of an analysed session.

    ``angles_df`` has columns ``time_s, flexion_deg, lateral_bend_deg, twist_deg`` (the
    ``imu analyze --angles`` CSV). Rows from ``start_s`` to ``end_s`` are the rep; rows up
    to ``end_s + lockout_window_s`` are used for the lockout extension. The engine builds
    its rep records with the same functions.
    """
    frame = angles_df.dropna(subset=["flexion_deg"])
    time_s = frame["time_s"].to_numpy(dtype=np.float64)
    # Keep strictly increasing times (the CSV repeats a row for each skipped duplicate).
    ordered = time_s > np.maximum.accumulate(np.concatenate(([-np.inf], time_s[:-1])))
    time_s = time_s[ordered]
    angles = frame[["flexion_deg", "lateral_bend_deg", "twist_deg"]].to_numpy(dtype=np.float64)[
        ordered
    ]
    start = int(np.searchsorted(time_s, start_s, side="left"))
    end = int(np.searchsorted(time_s, end_s, side="right")) - 1
    if end - start < 2:
        raise ValueError(f"span {start_s}..{end_s} s holds fewer than 3 analysed samples")
    tail_end = (
        int(np.searchsorted(time_s, time_s[end] + settings.lockout_window_s, side="right")) - 1
    )
    return rep_record(np.column_stack((time_s, angles)), start, end, tail_end, settings)


def rep_record(rows: np.ndarray, start: int, end: int, tail_end: int, settings: RepSettings) -> dict:
    """Rep record of rows ``start..end`` of ``rows`` (n, >= 4: time_s, flexion_deg,
    lateral_bend_deg, twist_deg), rows up to ``tail_end`` in the lockout extension."""
    record = rep_metrics(rows, start, end, tail_end, settings.hyperextension_deg)
    record["trace"] = trace(rows, start, end, int(settings.trace_points))
    return record


def first_true(mask: np.ndarray) -> int:
    """Position of the first True in ``mask``, ``len(mask)`` when there is none."""
    if not mask.size:
        return 0
    k = int(mask.argmax())
    return k if mask[k] else len(mask)


def crossing(values: np.ndarray, lo: int, hi: int, threshold: float, above: bool) -> int:
    """First position in ``lo..hi-1`` whose value is above ``threshold`` (``above``) or
    below it, ``hi`` when there is none (NaN crosses neither way)."""
    part = values[lo:hi]
    return lo + first_true(part > threshold if above else part < threshold)


def lockout_seen(
    time_s: np.ndarray, flexion: np.ndarray, onset_velocity_deg_s: float
) -> np.ndarray:
    """For every prefix of an extension, whether its lockout is established.

    ``time_s`` and ``flexion`` start at the peak. Element ``k`` is True when, on the
    velocities of the prefix ``0..k`` (:func:`imu.pipeline.metrics.velocity`), some
    sample after the fastest extension (first minimum) and before the last one has
    stopped extending (velocity >= ``-onset_velocity_deg_s``); False for ``k < 2``.
    All prefixes in one pass: a prefix's velocities are those of the whole series except
    at its last sample (a one-sided difference).
    """
    seen = np.zeros(len(flexion), dtype=bool)
    if len(flexion) < 3:
        return seen
    inner = velocity(flexion, time_s)[:-1]  # [:k] = prefix k's velocities but the last
    last = np.diff(flexion) / np.diff(time_s)  # [k - 1] = prefix k's last velocity
    positions = np.arange(len(inner))
    low = np.minimum.accumulate(inner)
    is_new_low = np.concatenate(([True], inner[1:] < low[:-1]))
    fastest = np.maximum.accumulate(np.where(is_new_low, positions, 0))
    stopped = np.maximum.accumulate(np.where(inner >= -onset_velocity_deg_s, positions, -1))
    # Prefix k (>= 2): its last velocity is not below the minimum before it (else it is
    # the fastest and nothing after it counts), and a stopped sample follows the fastest.
    seen[2:] = (last[1:] >= low[1:]) & (stopped[1:] >= fastest[1:])
    return seen


def locate(
    rows: np.ndarray, floor: int, rise: int, cut: int, s: RepSettings, end_at_cut: bool = False
) -> tuple[int, int, int, int, float]:
    """Where the excursion that rose above ``bottom_deg`` at position ``rise`` of ``rows``
    (time_s, flexion_deg, lateral_bend_deg, twist_deg, ...) lies when cut at ``cut``:
    ``(start, peak, end, tail_end, base_deg)``.

    Start: searching back ``lookback_s`` from the rise (not before ``floor``), the last
    row within ``onset_deg`` of the lowest flexion there (``base_deg``) or rising slower
    than ``onset_velocity_deg_s`` (and, if there is one, less bent than
    ``lockout_below_deg``). Peak: the highest flexion from the rise until it is
    back below ``top_deg`` (or the cut).
    End (lockout): after the fastest extension, the first row whose extension speed is
    below ``onset_velocity_deg_s`` (and, if there is one, whose flexion is below
    ``lockout_below_deg``), else the lowest flexion after it; ``end_at_cut``: the cut (the
    last row before a gap that hid the lockout, ``lockout_in_gap_s``). ``tail_end``: the
    last row within ``lockout_window_s`` of the end (at most the cut).
    """
    t, flexion = rows[:, 0], rows[:, 1]
    lo = max(floor, int(np.searchsorted(t, t[rise] - s.lookback_s, side="left")))
    before = flexion[lo : rise + 1]
    base = float(np.min(before))
    still = velocity(before, t[lo : rise + 1]) <= s.onset_velocity_deg_s
    if s.lockout_below_deg is not None:  # squat: a pause on the way down is not the start
        still &= before < s.lockout_below_deg
    quiet = np.flatnonzero((before <= base + s.onset_deg) | still)
    start = lo + int(quiet[-1])
    # the peak before the excursion came back below top_deg (the cut row may be the next
    # descent, deep already after a gap)
    back = crossing(flexion, rise, cut + 1, s.top_deg, False)
    peak = rise + int(np.argmax(flexion[rise : min(back, cut + 1)]))
    extension = velocity(flexion[peak : cut + 1], t[peak : cut + 1])
    fastest = int(np.argmin(extension))
    stopped = np.flatnonzero(extension[fastest:] >= -s.onset_velocity_deg_s)
    if stopped.size and s.lockout_below_deg is not None:  # skip stops still bent (squat)
        upright = stopped[flexion[peak + fastest + stopped] < s.lockout_below_deg]
        if upright.size or np.min(flexion[peak + fastest : cut + 1]) < s.lockout_below_deg:
            stopped = upright  # upright, its stop unseen (in a gap): the lowest row
    if end_at_cut:
        end = cut
    elif stopped.size:
        end = peak + fastest + int(stopped[0])
    else:  # still extending when cut: its lowest point
        end = peak + fastest + int(np.argmin(flexion[peak + fastest : cut + 1]))
    tail_end = int(np.searchsorted(t, t[end] + s.lockout_window_s, side="right")) - 1
    return start, peak, end, min(tail_end, cut), base


def lockout_in_gap(
    time_s: np.ndarray, flexion: np.ndarray, k: int, s: RepSettings
) -> bool:
    """Whether the gap after row ``k`` (of rows whose flexion stays above ``top_deg``
    around it) hides a lockout (``lockout_in_gap_s``): over the 0.1 s of rows before it
    the trunk extends, over the 0.1 s after it it flexes, both faster than
    ``min_extension_velocity_deg_s``, and straight lines at those speeds reach upright
    (0 deg) within the gap: a butt wink (the segment extends at the bottom, then flexes
    again as the lifter rises) stops short of it. Rows ``k - 1`` and ``k + 2`` must
    exist."""
    t, f = time_s, flexion
    b = min(int(np.searchsorted(t, t[k] - 0.1, side="left")), k - 1)
    a = max(int(np.searchsorted(t, t[k + 1] + 0.1, side="right")) - 1, k + 2)
    a = min(a, len(t) - 1)
    before = (f[k] - f[b]) / (t[k] - t[b])
    after = (f[a] - f[k + 1]) / (t[a] - t[k + 1])
    fast = s.min_extension_velocity_deg_s
    if before > -fast or after < fast:
        return False
    reach_s = f[k] / -before + f[k + 1] / after  # to upright (0 deg) and back
    return bool(reach_s <= t[k + 1] - t[k])


def is_rep(
    rows: np.ndarray, start: int, peak: int, end: int, s: RepSettings, lockout_unseen: bool = False
) -> bool:
    """Whether rows ``start..end`` of ``rows`` (flexion peak at ``peak``) are a rep:
    duration, upright lockout (unless ``lockout_unseen``: hidden in a gap after ``end``),
    no long (or turned) hold near the bottom, twist and lateral bend ranges, a real
    extension."""
    t, flexion = rows[start : end + 1, 0], rows[start : end + 1, 1]
    duration = t[-1] - t[0]
    if not s.min_rep_s <= duration <= s.max_rep_s or end - start < 3:
        return False
    if flexion[-1] > s.max_lockout_flexion_deg and not lockout_unseen:
        return False  # still bent at its lockout
    near = flexion >= rows[peak, 1] - s.hold_band_deg
    hold_s = float(np.sum(np.diff(t)[near[:-1] & near[1:]]))
    twist = unwrap_deg(rows[start : end + 1, 3])
    turned = abs(np.median(twist[near]) - twist[0])
    if hold_s > s.max_bottom_hold_s or (hold_s > s.twisted_hold_s and turned > s.twisted_hold_deg):
        return False  # loading plates: long hold at the bottom, turned to the side
    if np.ptp(twist) > s.max_twist_range_deg:
        return False
    if np.ptp(rows[start : end + 1, 2]) > s.max_lateral_bend_range_deg:
        return False
    fastest = 0.0
    if end > peak:  # two rows: the step between them (an ascent lost in a gap)
        fastest = float(np.min(velocity(rows[peak : end + 1, 1], rows[peak : end + 1, 0])))
    return -fastest >= s.min_extension_velocity_deg_s

