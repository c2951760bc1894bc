"""Compiled measures of one excursion for the rep segmenter (:mod:`imu.pipeline.reps`).

Each kernel repeats the numpy formulation it replaces operation by operation, in the
same order, so its results are the same bits: central differences with
``np.gradient``'s formula, numpy's pairwise summation for ``np.sum``, the
unwrap of ``np.unwrap``, the grids of ``np.arange`` and ``np.linspace``, the
interpolation of ``np.interp``, NaN-propagating minima and maxima, first-hit ``argmax``
and ``argmin``. The spectrum of SPARC stays numpy's FFT (:func:`imu.pipeline.metrics.sparc`);
:func:`arc_length` only measures it. ``tests/test_rep_kernels.py`` checks every kernel
against the numpy formulation on generated and simulated traces.

Rows are given as one C-ordered float array ``h`` (n, >= 4) with columns ``time_s``,
``flexion_deg``, ``lateral_bend_deg``, ``twist_deg`` (the segmenter's history), times
strictly increasing. ``(start, peak, end)`` are row positions in ``h``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TIME, FLEXION, LATERAL, TWIST = 0, 1, 2, 3
"""Columns of ``h``."""

LIFTOFF_SPEED_DEG_S = 10.0
"""Flexion speed above which the trunk counts as moving (lift-off detection)."""

N_MEASURES = 12
"""Length of :func:`rep_measures`' first result (its order is :data:`MEASURE_NAMES`)."""
MEASURE_NAMES = (
    "start_s", "bottom_s", "end_s", "peak_flexion_deg", "liftoff_flexion_deg",
    "lockout_extension_deg", "descent_s", "ascent_s", "peak_flexion_velocity_deg_s",
    "peak_extension_velocity_deg_s", "lateral_bend_range_deg", "twist_range_deg",
)  # fmt: skip

# Limits of :func:`is_rep`, in this order in its ``limits`` array (settings of
# :class:`imu.pipeline.reps.RepSettings`).
REP_LIMITS = (
    "min_rep_s", "max_rep_s", "max_lockout_flexion_deg", "hold_band_deg", "max_bottom_hold_s",
    "twisted_hold_s", "twisted_hold_deg", "max_twist_range_deg", "max_lateral_bend_range_deg",
    "min_extension_velocity_deg_s",
)  # fmt: skip

EXCURSION_SETTINGS = (
    "lookback_s", "onset_deg", "onset_velocity_deg_s", "lockout_window_s",
    "max_start_flexion_deg", *REP_LIMITS,
)  # fmt: skip
"""The settings of :func:`excursion`, in this order in its ``settings`` array."""

_PW_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True)
def velocity(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Time derivative of ``values`` (units of ``values`` per s) at ``time_s``.

    Second-order central differences inside (the uneven-step formula of ``np.gradient``),
    one-sided differences at both ends; zeros for fewer than two samples. Each inner
    value depends only on its two neighbours, so any window of a longer series has the
    same inner values.
    """
    n = len(values)
    out = np.zeros(n)
    if n < 2:
        return out
    out[0] = (values[1] - values[0]) / (time_s[1] - time_s[0])
    out[n - 1] = (values[n - 1] - values[n - 2]) / (time_s[n - 1] - time_s[n - 2])
    for i in range(1, n - 1):
        dx1 = time_s[i] - time_s[i - 1]
        dx2 = time_s[i + 1] - time_s[i]
        span = dx1 + dx2
        out[i] = (
            -dx2 / (dx1 * span) * values[i - 1]
            + (dx2 - dx1) / (dx1 * dx2) * values[i]
            + dx1 / (dx2 * span) * values[i + 1]
        )
    return out


@njit(cache=True)
def _block_sum(values: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of at most 128 values ``values[lo : lo + n]`` (8 accumulators)."""
    if n < 8:
        out = 0.0
        for i in range(lo, lo + n):
            out += values[i]
        return out
    r = values[lo : lo + 8].copy()
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += values[lo + i + k]
        i += 8
    out = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for k in range(i, n):
        out += values[lo + k]
    return out


@njit(cache=True)
def total(values: np.ndarray) -> float:
    """``np.sum`` of a 1-D float array (the same bits): 0.0 plus numpy's pairwise sum,
    which halves a run longer than 128 values (the first half a multiple of 8) and adds
    the two halves' sums (the recursion made a loop over a stack of pending runs)."""
    # pending runs (start, length; length -1: add the last two sums), at most 3 per level
    los, ns, sums = np.empty(192, np.int64), np.empty(192, np.int64), np.empty(64)
    los[0], ns[0], pending, n_sums = 0, len(values), 1, 0
    while pending:
        pending -= 1
        lo, n = los[pending], ns[pending]
        if n < 0:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
        elif n <= _PW_BLOCK:
            sums[n_sums] = _block_sum(values, lo, n)
            n_sums += 1
        else:
            half = n // 2
            half -= half % 8
            # popped in reverse order: the first half, the second half, their sum
            los[pending], ns[pending] = 0, -1
            los[pending + 1], ns[pending + 1] = lo + half, n - half
            los[pending + 2], ns[pending + 2] = lo, half
            pending += 3
    return 0.0 + sums[0]


@njit(cache=True)
def lowest(values: np.ndarray) -> float:
    """``np.min`` of a non-empty 1-D array (NaN if any value is NaN; of 0.0 and -0.0,
    the first, where numpy's vectorised reduction may pick either)."""
    out = values[0]
    for x in values:
        if x < out or math.isnan(x):
            out = x
            if math.isnan(x):
                break
    return out


@njit(cache=True)
def highest(values: np.ndarray) -> float:
    """``np.max`` of a non-empty 1-D array (NaN if any value is NaN; of 0.0 and -0.0,
    the first, where numpy's vectorised reduction may pick either)."""
    out = values[0]
    for x in values:
        if x > out or math.isnan(x):
            out = x
            if math.isnan(x):
                break
    return out


@njit(cache=True)
def first_max(values: np.ndarray) -> int:
    """``np.argmax``: position of the first maximum (of the first NaN, if any)."""
    k = 0
    for i in range(len(values)):
        if math.isnan(values[i]):
            return i
        if values[i] > values[k]:
            k = i
    return k


@njit(cache=True)
def first_min(values: np.ndarray) -> int:
    """``np.argmin``: position of the first minimum (of the first NaN, if any)."""
    k = 0
    for i in range(len(values)):
        if math.isnan(values[i]):
            return i
        if values[i] < values[k]:
            k = i
    return k


@njit(cache=True)
def unwrap_deg(angles_deg: np.ndarray) -> np.ndarray:
    """Angles (deg) made continuous: ``np.degrees(np.unwrap(np.radians(angles_deg)))`` of
    a 1-D float array, the same operations (same bits)."""
    n = len(angles_deg)
    p = np.empty(n)
    for i in range(n):
        p[i] = angles_deg[i] * (np.pi / 180.0)
    correction_sum = 0.0
    previous = p[0] if n else 0.0  # p[0] keeps its value
    for i in range(1, n):
        dd = p[i] - previous
        previous = p[i]
        shifted = dd + np.pi
        # np.mod (Python's float modulo): the value itself within (0, 2 pi), else the
        # remainder of fmod with the divisor's sign
        ddmod = (shifted if 0.0 < shifted < 2 * np.pi else shifted % (2 * np.pi)) - np.pi
        if ddmod == -np.pi and dd > 0:
            ddmod = np.pi
        correction = 0.0 if abs(dd) < np.pi else ddmod - dd
        correction_sum = correction if i == 1 else correction_sum + correction  # np.cumsum
        p[i] += correction_sum
    for i in range(n):
        p[i] = p[i] * (180.0 / np.pi)
    return p


@njit(cache=True)
def _select(values: np.ndarray, k: int) -> float:
    """The ``k``-th smallest of ``values`` (no NaN), which it reorders so that
    ``values[:k]`` are not larger (Hoare's selection)."""
    lo, hi = 0, len(values) - 1
    while lo < hi:
        pivot = values[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return values[k]


@njit(cache=True)
def median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D float array (NaN if any value is NaN or it is empty; a
    median of -0.0 keeps its sign, where numpy's mean makes it 0.0)."""
    n = len(values)
    if n == 0:
        return np.nan
    for x in values:
        if math.isnan(x):
            return np.nan
    work = values.copy()
    k = n // 2
    upper = _select(work, k)
    return upper if n % 2 else (highest(work[:k]) + upper) / 2


@njit(cache=True)
def arange(start: float, stop: float, step: float) -> np.ndarray:
    """``np.arange(start, stop, step)`` of floats: ``start``, ``start + step``, then
    ``start + i * ((start + step) - start)``."""
    n = max(0, math.ceil((stop - start) / step))
    out = np.empty(n)
    if n:
        out[0] = start
    if n > 1:
        out[1] = start + step
        delta = out[1] - start
        for i in range(2, n):
            out[i] = start + i * delta
    return out


@njit(cache=True)
def linspace(start: float, stop: float, num: int) -> np.ndarray:
    """``np.linspace(start, stop, num)`` for ``num >= 2``."""
    div = num - 1
    delta = stop - start
    step = delta / div
    out = np.empty(num)
    for i in range(num):
        out[i] = (i / div * delta if step == 0 else i * step) + start
    out[num - 1] = stop
    return out


@njit(cache=True)
def _bisect(values: np.ndarray, x: float, lo: int, right: bool) -> int:
    """``np.searchsorted(values, x, side)`` of increasing ``values`` from position ``lo``:
    the first position whose value is above ``x`` (``right``) or not below it."""
    hi = len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x or (right and values[mid] == x):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.interp(x, xp, fp)`` for strictly increasing ``xp``, written into ``out``: the
    same slope, the same fallbacks when a value is not finite."""
    n = len(xp)
    j = 0
    for i in range(len(x)):
        value = x[i]
        if n == 1:  # numpy's answer at, left and right of (and NaN for) a single point
            out[i] = fp[0]
        elif math.isnan(value):
            out[i] = value
        elif value > xp[n - 1]:
            out[i] = fp[n - 1]
        elif value < xp[0]:
            out[i] = fp[0]
        else:
            # xp[j] <= value < xp[j + 1] (j = n - 1 at the last): from the previous j on
            if not (xp[j] <= value and (j == n - 1 or value < xp[j + 1])):
                j = _bisect(xp, value, 0, True) - 1
            if j == n - 1 or xp[j] == value:
                out[i] = fp[j]
            else:
                slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
                out[i] = slope * (value - xp[j]) + fp[j]
                if math.isnan(out[i]):
                    out[i] = slope * (value - xp[j + 1]) + fp[j + 1]
                    if math.isnan(out[i]) and fp[j] == fp[j + 1]:
                        out[i] = fp[j]
    return out


@njit(cache=True)
def first_crossing(values: np.ndarray, lo: int, hi: int, threshold: float, above: bool) -> int:
    """First position in ``lo..hi-1`` whose value is above ``threshold`` (``above``) or
    below it, ``hi`` when there is none (NaN crosses neither way)."""
    for k in range(lo, hi):
        if values[k] > threshold if above else values[k] < threshold:
            return k
    return hi


@njit(cache=True)
def lockout_seen(
    time_s: np.ndarray, flexion: np.ndarray, onset_velocity_deg_s: float
) -> np.ndarray:
    """For every prefix of an extension, whether its lockout is established.

    ``time_s`` and ``flexion`` start at the peak. Element ``k`` is True when, on the
    velocities of the prefix ``0..k`` (:func:`velocity`), some sample after the fastest
    extension (first minimum) and before the last one has stopped extending (velocity
    >= ``-onset_velocity_deg_s``); False for ``k < 2``. All prefixes in one pass: a
    prefix's velocities are those of the whole series except at its last sample (a
    one-sided difference).
    """
    n = len(flexion)
    seen = np.zeros(n, dtype=np.bool_)
    if n < 3:
        return seen
    inner = velocity(flexion, time_s)  # [:k] = prefix k's velocities but the last
    low, fastest = inner[0], 0  # the lowest of inner[:k] (NaN once one is NaN), its first place
    stopped = 0 if inner[0] >= -onset_velocity_deg_s else -1  # last place stopped, in [:k]
    for m in range(1, n - 1):  # prefix k = m + 1
        if inner[m] < low:
            fastest = m
        low = inner[m] if math.isnan(inner[m]) or inner[m] < low else low
        if inner[m] >= -onset_velocity_deg_s:
            stopped = m
        last = (flexion[m + 1] - flexion[m]) / (time_s[m + 1] - time_s[m])
        # its last velocity is not below the minimum before it (else it is the fastest and
        # nothing after it counts), and a stopped sample follows the fastest
        seen[m + 1] = last >= low and stopped >= fastest
    return seen


@njit(cache=True)
def locate(
    h: np.ndarray,
    floor: int,
    rise: int,
    cut: int,
    lookback_s: float,
    onset_deg: float,
    onset_velocity_deg_s: float,
    lockout_window_s: float,
) -> tuple[int, int, int, int, float, float]:
    """Where the excursion that rose above ``bottom_deg`` at ``rise`` lies when cut at
    ``cut``: ``(start, peak, end, tail_end, base_deg, tail_low_deg)``.

    Start: searching back ``lookback_s`` from the rise (not before ``floor``), the last
    row within ``onset_deg`` of the lowest flexion there (``base_deg``) or rising slower
    than ``onset_velocity_deg_s``. Peak: the highest flexion from the rise to the cut.
    End (lockout): after the fastest extension, the first row whose extension speed is
    below ``onset_velocity_deg_s``, else the lowest flexion after it. ``tail_end``: the
    last row within ``lockout_window_s`` of the end (at most the cut); ``tail_low_deg``:
    the lowest flexion from the end to it.
    """
    t, flexion = h[:, TIME], h[:, FLEXION]
    lo = max(floor, _bisect(t, t[rise] - lookback_s, 0, False))
    before = flexion[lo : rise + 1]
    base = lowest(before)
    rising = velocity(before, t[lo : rise + 1])
    start = lo
    for k in range(len(before) - 1, -1, -1):
        if before[k] <= base + onset_deg or rising[k] <= onset_velocity_deg_s:
            start = lo + k
            break
    peak = rise + first_max(flexion[rise : cut + 1])
    extension = velocity(flexion[peak : cut + 1], t[peak : cut + 1])
    fastest = first_min(extension)
    end = -1
    for k in range(fastest, len(extension)):
        if extension[k] >= -onset_velocity_deg_s:
            end = peak + k
            break
    if end < 0:  # still extending when cut: its lowest point
        end = peak + fastest + first_min(flexion[peak + fastest : cut + 1])
    tail_end = _bisect(t, t[end] + lockout_window_s, end, True) - 1
    tail_end = min(tail_end, cut)
    return start, peak, end, tail_end, base, lowest(flexion[end : tail_end + 1])


@njit(cache=True)
def is_rep(h: np.ndarray, start: int, peak: int, end: int, limits: np.ndarray) -> bool:
    """Whether rows ``start..end`` (flexion peak at ``peak``) are a rep by the limits
    ``limits`` (the :data:`REP_LIMITS` of the settings): duration, upright lockout, no
    long (or turned) hold near the bottom, twist and lateral bend ranges, a real extension.
    """
    min_rep_s, max_rep_s, max_lockout_deg, band_deg = limits[0], limits[1], limits[2], limits[3]
    max_hold_s, twisted_hold_s, twisted_hold_deg = limits[4], limits[5], limits[6]
    max_twist_deg, max_lateral_deg, min_extension_deg_s = limits[7], limits[8], limits[9]
    t, flexion = h[start : end + 1, TIME], h[start : end + 1, FLEXION]
    near = flexion >= h[peak, FLEXION] - band_deg
    held = np.empty(len(t))  # steps between two rows near the peak
    n_held = 0
    for k in range(len(t) - 1):
        if near[k] and near[k + 1]:
            held[n_held] = t[k + 1] - t[k]
            n_held += 1
    hold_s = total(held[:n_held])
    duration = t[-1] - t[0]
    if not min_rep_s <= duration <= max_rep_s or end - start < 3:
        return False
    if flexion[-1] > max_lockout_deg:
        return False  # still bent at its lockout
    twist = unwrap_deg(h[start : end + 1, TWIST])
    twist_near = np.empty(len(t))
    n_near = 0
    for k in range(len(t)):
        if near[k]:
            twist_near[n_near] = twist[k]
            n_near += 1
    turned = abs(median(twist_near[:n_near]) - twist[0])
    if hold_s > max_hold_s or (hold_s > twisted_hold_s and turned > twisted_hold_deg):
        return False  # loading plates: long hold at the bottom, turned to the side
    lateral = h[start : end + 1, LATERAL]
    if highest(twist) - lowest(twist) > max_twist_deg:
        return False
    if highest(lateral) - lowest(lateral) > max_lateral_deg:
        return False
    fastest = 0.0
    if end - peak >= 2:
        fastest = lowest(velocity(h[peak : end + 1, FLEXION], h[peak : end + 1, TIME]))
    return -fastest >= min_extension_deg_s


@njit(cache=True)
def rep_measures(h: np.ndarray, start: int, end: int, tail_end: int) -> tuple:
    """Measures of the rep of rows ``start..end``, rows up to ``tail_end`` counting for the
    lockout extension: ``(measures, speed, sampling_rate_hz)``.

    ``measures`` (:data:`N_MEASURES`) are the values of :data:`MEASURE_NAMES` (s, deg,
    deg/s); ``speed`` is the flexion speed (deg/s) resampled uniformly at
    ``sampling_rate_hz`` (the median step), empty for fewer than 4 rows, for SPARC.
    """
    t, flexion = h[start : tail_end + 1, TIME], h[start : tail_end + 1, FLEXION]
    m = end - start  # position of the end in the local arrays
    v = velocity(flexion, t)
    peak = first_max(flexion[: m + 1])
    fastest_up = peak + first_min(v[peak : m + 1])
    bottom = peak
    for k in range(fastest_up, peak - 1, -1):
        if v[k] >= -LIFTOFF_SPEED_DEG_S:
            bottom = k
            break
    twist = unwrap_deg(h[start : end + 1, TWIST])
    lateral = h[start : end + 1, LATERAL]
    lockout = -lowest(flexion[bottom : m + 1])
    tail = -lowest(flexion[m:])
    out = np.empty(N_MEASURES)
    out[0], out[1], out[2] = t[0], t[bottom], t[m]
    out[3], out[4] = flexion[peak], flexion[bottom]
    out[5] = max(lockout, tail)  # Python's max: the first unless the second is larger
    out[6], out[7] = t[bottom] - t[0], t[m] - t[bottom]
    out[8], out[9] = highest(v[: bottom + 1]), -lowest(v[bottom : m + 1])
    out[10] = highest(lateral) - lowest(lateral)
    out[11] = highest(twist) - lowest(twist)
    if m < 3:
        return out, np.zeros(0), 1.0
    rate = 1.0 / median(t[1 : m + 1] - t[:m])
    grid = arange(t[0], t[m], 1.0 / rate)
    speed = interp(grid, t[: m + 1], v[: m + 1], grid)  # in place: each x is read first
    for i in range(len(speed)):
        speed[i] = abs(speed[i])
    return out, speed, rate


@njit(cache=True)
def arc_length(
    magnitude: np.ndarray, n_fft: int, sampling_rate_hz: float, cutoff_hz: float, threshold: float
) -> float:
    """SPARC of a spectrum: the negative arc length of the normalised magnitude
    ``magnitude`` (the first bins of an ``n_fft``-point real FFT at ``sampling_rate_hz``)
    over the bins up to ``cutoff_hz`` from the first to the last reaching ``threshold``
    (frequency scaled to 0..1 over that band); 0 when fewer than two bins reach it."""
    n = 0
    while n < len(magnitude) and n * sampling_rate_hz / n_fft <= cutoff_hz:
        n += 1
    scale = highest(magnitude)
    first, last = -1, -1
    for k in range(n):
        if magnitude[k] / scale >= threshold:
            last = k
            if first < 0:
                first = k
    if last - first < 1:
        return 0.0
    width = last * sampling_rate_hz / n_fft - first * sampling_rate_hz / n_fft
    steps = np.empty(last - first)
    for k in range(first, last):
        d_freq = ((k + 1) * sampling_rate_hz / n_fft - k * sampling_rate_hz / n_fft) / width
        d_mag = magnitude[k + 1] / scale - magnitude[k] / scale
        steps[k - first] = math.sqrt(d_freq * d_freq + d_mag * d_mag)
    return -total(steps)


@njit(cache=True)
def trace(h: np.ndarray, start: int, end: int, n_points: int) -> np.ndarray:
    """Flexion, lateral bend and twist (deg) of rows ``start..end`` interpolated at
    ``n_points`` evenly spaced times (0..100 % of the rep): (3, ``n_points``)."""
    t = h[start : end + 1, TIME]
    grid = linspace(t[0], t[-1], n_points)
    out = np.empty((3, n_points))
    for k in range(3):
        interp(grid, t, h[start : end + 1, FLEXION + k], out[k])
    return out


@njit(cache=True)
def excursion(
    h: np.ndarray, floor: int, rise: int, cut: int, settings: np.ndarray, n_points: int
) -> tuple:
    """The segmenter's excursion that rose above ``bottom_deg`` at ``rise``, cut at ``cut``
    (one compiled call: :func:`locate`, :func:`is_rep`, :func:`rep_measures`,
    :func:`trace`). ``settings``: the :data:`EXCURSION_SETTINGS` values.

    Returns ``(start, end, after_end, tail_low_deg, is_rep, measures, speed,
    sampling_rate_hz, traces)``: the rep's rows ``start..end``, the row after the end
    (within the lockout window) that its measures use, the lowest flexion in the lockout
    window, whether it is a rep (upright start within ``max_start_flexion_deg`` and
    :func:`is_rep`), and for a rep the results of :func:`rep_measures` (with the row
    ``after_end``) and :func:`trace` (empty otherwise).
    """
    start, peak, end, tail_end, base, tail_low = locate(
        h, floor, rise, cut, settings[0], settings[1], settings[2], settings[3]
    )
    after_end = min(tail_end, end + 1)  # the velocity at the end needs the row after it
    ok = base <= settings[4] and is_rep(h, start, peak, end, settings[5:])
    if not ok:
        empty = np.zeros(0)
        return start, end, after_end, tail_low, ok, empty, empty, 1.0, np.zeros((3, 0))
    measures, speed, sampling_rate_hz = rep_measures(h, start, end, after_end)
    traces = trace(h, start, end, n_points)
    return start, end, after_end, tail_low, ok, measures, speed, sampling_rate_hz, traces


def settings_array(settings: object) -> np.ndarray:
    """The :data:`EXCURSION_SETTINGS` of ``settings`` (a RepSettings) as float64."""
    return np.array([getattr(settings, name) for name in EXCURSION_SETTINGS], dtype=np.float64)


def load() -> None:
    """Call every kernel that the engine calls once, with the argument types it uses
    (``imu.pipeline.fusion.warm_up`` runs this: nothing compiles mid-stream)."""
    time_s = np.arange(60) * 0.05
    flexion_deg = 50.0 * np.sin(np.pi * time_s / time_s[-1])
    h = np.column_stack((time_s, flexion_deg, np.zeros(60), np.zeros(60), np.arange(60.0)))
    excursion(h, 0, 20, 59, np.zeros(len(EXCURSION_SETTINGS)), 51)  # only the types matter
    arc_length(np.array([2.0, 1.0, 0.5]), 8, 8.0, 3.5, 0.05)
    lockout_seen(h[:, TIME], h[:, FLEXION], 2.0)  # columns of the history (provisional alerts)
    first_crossing(h[:, FLEXION], 0, 60, 35.0, True)
