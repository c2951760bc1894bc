"""Compiled forms of the classifier's per-rep arithmetic, equal to :mod:`imu.model.features`
to the bit.

The engine asks the classifier about every rep (twice: provisionally at its lockout and
once confirmed); in numpy each question is a few dozen small array operations whose call
overhead, not their arithmetic, is the cost. These numba kernels do the same IEEE
operations in the same order on the same values:

* :func:`trace_features` = :func:`imu.model.features.trace_features` (``np.interp`` by
  :func:`imu.pipeline.rep_kernels.interp`, ``np.gradient`` on the grid with the weights of
  :func:`imu.model.features._slope_weights`, ``np.argmax``/``np.argmin`` first places);
* :func:`standard_rows` = the baseline, imputer and scaler steps of the default model's
  compiled predictor (:mod:`imu.model.compiled`), element by element;
* :func:`baseline_columns` = :func:`imu.model.features.baseline_columns` (each column's
  non-NaN values sorted by insertion, the session's kept from rep to rep by
  :class:`SortedColumns`; the median is the mean of the two middle ones, as
  ``np.nanmedian``). Values that compare equal have equal bits except +0.0 and -0.0, whose
  order a sort may choose: a column whose middle holds a zero while it has zeros of both
  signs goes through numpy instead, so the sign is numpy's.

numpy stays the definition (training and :func:`imu.model.features.model_rows` use it);
tests/test_model_kernels.py holds the kernels to it. Compiled with ``cache=True`` and
loaded by :func:`load` (``imu.pipeline.fusion.warm_up``), so nothing compiles mid-session.
numba checks a cached kernel against its own file only: after editing
``rep_kernels.interp``, touch this file too.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from imu.model import features
from imu.pipeline.rep_kernels import interp

_N_TRACE_FEATURES = 4 + len(features.PULL_FRACTIONS) + 2 * len(features.SHAPE_FRACTIONS)


@njit(cache=True)
def _fastest_extension(grid: np.ndarray, slope: np.ndarray, bottom: float) -> float:
    """:func:`imu.model.features._fastest_extension`."""
    n = len(grid)
    first = np.searchsorted(grid, bottom)  # side "left", as numpy's default
    if n - first < 2 or bottom >= 1.0:
        return math.nan
    i = first
    for k in range(first + 1, n):  # the first minimum (the slope of a finite trace is finite)
        if slope[k] < slope[i]:
            i = k
    at = grid[i]
    if 0 < i < n - 1:
        left, mid, right = slope[i - 1], slope[i], slope[i + 1]
        curvature = left - 2 * mid + right
        if curvature > 0:
            at += 0.5 * (left - right) / curvature * (grid[1] - grid[0])
    return min(max((at - bottom) / (1.0 - bottom), 0.0), 1.0)  # never NaN: bottom < 1


@njit(cache=True)
def _trace_kernel(start_s: float, end_s: float, bottom_s: float, trace: np.ndarray,
                  twist: np.ndarray, grid: np.ndarray, twist_grid: np.ndarray,
                  a: np.ndarray, b: np.ndarray, c: np.ndarray, first_dx: float,
                  last_dx: float, shape_at: np.ndarray, pull_at: np.ndarray,
                  early_fraction: float, min_range_deg: float, out: np.ndarray) -> None:
    """The body of :func:`trace_features` for a 1-D ``trace`` of at least 3 points whose
    grid is not uniform (``a``, ``b``, ``c``, ``first_dx``, ``last_dx``: its slope
    weights); ``twist_grid`` is used only for a ``twist`` of at least 3 points."""
    n_pull, n_shape = len(pull_at), len(shape_at)
    out[:] = np.nan
    n = len(trace)
    for k in range(n):
        if not math.isfinite(trace[k]):
            return
    shape = out[4 + n_pull:4 + n_pull + n_shape]
    interp(shape_at, grid, trace, shape)
    ends_deg = 0.5 * (trace[0] + trace[-1])
    range_deg = trace.max() - ends_deg
    if range_deg >= min_range_deg:
        for k in range(n_shape):
            out[4 + n_pull + n_shape + k] = (shape[k] - ends_deg) / range_deg
    duration_s = end_s - start_s
    ascent_s = end_s - bottom_s
    if not (math.isfinite(ascent_s) and ascent_s > 0 and duration_s > 0):
        return
    bottom = (bottom_s - start_s) / duration_s
    later = bottom + early_fraction * (1.0 - bottom)
    at = np.empty(2)
    interp(np.array([bottom, later]), grid, trace, at)
    out[0] = (at[0] - at[1]) / (early_fraction * ascent_s)
    slope = np.empty(n)
    for k in range(1, n - 1):
        slope[k] = a[k - 1] * trace[k - 1] + b[k - 1] * trace[k] + c[k - 1] * trace[k + 1]
    slope[0] = (trace[1] - trace[0]) / first_dx
    slope[n - 1] = (trace[n - 1] - trace[n - 2]) / last_dx
    out[1] = _fastest_extension(grid, slope, bottom)
    peak = np.argmax(trace) / (n - 1)
    out[2] = _fastest_extension(grid, slope, peak)
    m = len(twist)
    if m >= 3 and np.isfinite(twist).all():
        twist_at_peak = np.empty(1)
        interp(np.array([peak]), twist_grid, twist, twist_at_peak)
        out[3] = abs(twist_at_peak[0] - 0.5 * (twist[0] + twist[m - 1]))
    pull_deg = at[0] - trace[n - 1]
    if pull_deg > 1.0:
        points = bottom + pull_at * (1 - bottom)
        done = np.empty(n_pull)
        interp(points, grid, trace, done)
        for k in range(n_pull):
            out[4 + k] = (at[0] - done[k]) / pull_deg


_SHAPE_AT = np.array(features.SHAPE_FRACTIONS)
_PULL_AT = np.array(features.PULL_FRACTIONS)
_NO_TWIST = np.empty(0)


def trace_features(start_s: float, end_s: float, bottom_s: float, trace: np.ndarray,
                   twist: np.ndarray) -> np.ndarray:
    """:func:`imu.model.features.trace_features` (same arguments, same bits), compiled for
    the traces the engine makes (1-D float64, at least 3 points, a grid that is not
    uniform); any other input goes to the numpy function."""
    n = len(trace) if trace.ndim == 1 else 0
    weights = features._slope_weights(n) if n >= 3 and trace.dtype == np.float64 else None
    if weights is None or twist.ndim != 1 or twist.dtype != np.float64:
        return features.trace_features(start_s, end_s, bottom_s, trace, twist)
    a, b, c, first_dx, last_dx = weights
    twist_grid = features._grid_of(len(twist)) if len(twist) >= 3 else _NO_TWIST
    out = np.empty(_N_TRACE_FEATURES)
    _trace_kernel(float(start_s), float(end_s), float(bottom_s), trace, twist,
                  features._grid_of(n), twist_grid, a, b, c, float(first_dx), float(last_dx),
                  _SHAPE_AT, _PULL_AT, features.EARLY_PULL_FRACTION,
                  features.MIN_SHAPE_RANGE_DEG, out)
    return out


@njit(cache=True)
def _insert_value(values: np.ndarray, count: int, value: float) -> None:
    """Insert ``value`` into the ascending ``values[:count]`` (after the values equal to it)."""
    k = count
    while k > 0 and values[k - 1] > value:
        values[k] = values[k - 1]
        k -= 1
    values[k] = value


@njit(cache=True)
def _pick(values: np.ndarray, count: int) -> tuple[float, bool]:
    """The median of the ascending non-NaN ``values[:count]`` as
    :func:`imu.model.features.median_columns` takes it (NaN without a finite value), and
    False when it may depend on the order a sort gives +0.0 and -0.0 (a middle value is
    zero and there are zeros of both signs)."""
    finite = False
    for k in range(count):
        if math.isfinite(values[k]):
            finite = True
            break
    if not finite:
        return math.nan, True
    low, high = values[(count - 1) // 2], values[count // 2]
    if low == 0.0 or high == 0.0:
        signs = 0
        for k in range(count):
            if values[k] == 0.0:
                signs |= 2 if math.copysign(1.0, values[k]) < 0 else 1
        if signs == 3:
            return math.nan, False
    return (low + high) / 2.0, True


@njit(cache=True)
def _insert(columns: np.ndarray, counts: np.ndarray, row: np.ndarray) -> None:
    """Insert the non-NaN values of ``row`` into the ascending ``columns[j, :counts[j]]``."""
    for j in range(len(row)):
        if not math.isnan(row[j]):
            _insert_value(columns[j], counts[j], row[j])
            counts[j] += 1


@njit(cache=True)
def _baseline(earlier: np.ndarray, first_in_set: int, columns: np.ndarray,
              counts: np.ndarray, held: bool, out: np.ndarray) -> bool:
    """The body of :func:`baseline_columns`; ``held``: ``columns``/``counts`` hold the sorted
    columns of ``earlier``. False (``out`` unfinished) where :func:`_pick` is."""
    n, f = earlier.shape
    values = np.empty(n)
    for part in range(2):
        first, at = (0, 0) if part == 0 else (first_in_set, f + 1)
        for j in range(f):
            if part == 0 and held:
                median, known = _pick(columns[j], counts[j])
            elif part == 1 and first_in_set == 0:  # the set is the session
                median, known = out[j], True
            else:  # sort the column's non-NaN values by insertion (a set has few)
                count = 0
                for i in range(first, n):
                    if not math.isnan(earlier[i, j]):
                        _insert_value(values, count, earlier[i, j])
                        count += 1
                median, known = _pick(values, count)
            if not known:
                return False
            out[at + j] = median
    out[f] = n
    out[2 * f + 1] = n - first_in_set
    return True


class SortedColumns:
    """Each column's non-NaN values of a matrix that grows by rows, in ascending order, so
    that the column medians of all its rows cost one pick per column (the session
    baseline of a classifier: one row per earlier rep). ``columns[j, :counts[j]]`` are
    column ``j``'s values; ``rows`` counts the rows added."""

    def __init__(self, width: int) -> None:
        self.rows = 0
        self.columns = np.empty((width, 64))
        self.counts = np.zeros(width, dtype=np.int64)

    def append(self, row: np.ndarray) -> None:
        """Add one row (float64, one value per column)."""
        if self.rows == self.columns.shape[1]:
            grown = np.empty((len(self.counts), 2 * self.rows))
            grown[:, :self.rows] = self.columns
            self.columns = grown
        _insert(self.columns, self.counts, row)
        self.rows += 1

    def reset(self, matrix: np.ndarray) -> None:
        """Hold the rows of ``matrix`` instead."""
        self.rows = 0
        self.counts[:] = 0
        for row in matrix:
            self.append(row)


_NO_COLUMNS = np.empty((0, 0))
_NO_COUNTS = np.empty(0, dtype=np.int64)


def baseline_columns(earlier: np.ndarray, first_in_set: int,
                     session: SortedColumns | None = None) -> np.ndarray:
    """:func:`imu.model.features.baseline_columns` (same arguments, same bits); ``session``
    may hold the sorted columns of ``earlier`` (all its rows)."""
    if earlier.dtype != np.float64:
        return features.baseline_columns(earlier, first_in_set)
    out = np.empty(2 * earlier.shape[1] + 2)
    held = session is not None
    if not _baseline(np.ascontiguousarray(earlier), first_in_set,
                     session.columns if held else _NO_COLUMNS,
                     session.counts if held else _NO_COUNTS, held, out):
        return features.baseline_columns(earlier, first_in_set)
    return out


@njit(cache=True)
def _blend(weight: float, prior: float, median: float, n: float) -> float:
    """:func:`imu.model.features._blend` of one value."""
    if math.isfinite(median) and n > 0:
        return (weight * prior + n * median) / (weight + n)
    return prior


@njit(cache=True)
def _standard_rows(rows: np.ndarray, prior: np.ndarray, prior_weight: float,
                   set_weight: float, statistics: np.ndarray, mean: np.ndarray,
                   scale: np.ndarray, out: np.ndarray) -> bool:
    """``Standardise(Impute(Baseline(rows)))`` of :mod:`imu.model.compiled` into ``out``
    (:func:`imu.model.features.deviation_rows`, NaN -> ``statistics``, ``(x - mean) /
    scale``); False (``out`` unfinished) when a deviation row holds an infinity, which
    the compiled predictor leaves to scikit-learn."""
    f = len(prior)
    for i in range(rows.shape[0]):
        n_session, n_set = rows[i, 2 * f], rows[i, 3 * f + 1]
        for j in range(f):
            raw = rows[i, j]
            baseline = _blend(prior_weight, prior[j], rows[i, f + j], n_session)
            set_baseline = _blend(set_weight, baseline, rows[i, 2 * f + 1 + j], n_set)
            out[i, j], out[i, f + j], out[i, 2 * f + j] = raw, raw - baseline, raw - set_baseline
        for k in range(3 * f):
            v = out[i, k]
            if math.isinf(v):
                return False
            if math.isnan(v):
                v = statistics[k]
            out[i, k] = (v - mean[k]) / scale[k]
    return True


def standard_rows(rows: np.ndarray, prior: np.ndarray, prior_weight: float,
                  set_weight: float, statistics: np.ndarray, mean: np.ndarray,
                  scale: np.ndarray) -> np.ndarray | None:
    """The model rows ``rows`` (float64, :func:`imu.model.features.input_names` wide) after
    the default pipeline's baseline, imputer and scaler, the same bits as those steps of
    :mod:`imu.model.compiled`; None where the imputer would refuse an infinity."""
    out = np.empty((rows.shape[0], 3 * len(prior)))
    ok = _standard_rows(rows, prior, float(prior_weight), float(set_weight), statistics,
                        mean, scale, out)
    return out if ok else None


_LOADED = False


def loaded() -> bool:
    """Whether :func:`load` has run in this process."""
    return _LOADED


def load() -> None:
    """Call every kernel once with the argument types the classifier uses (loads the
    cached machine code; compiles it on a fresh install). Until then the classifier uses
    numpy (:func:`imu.model.compiled.loaded_kernels`)."""
    global _LOADED
    trace = np.sin(np.linspace(0.0, np.pi, 51)) * 40.0
    trace_features(0.0, 2.0, 1.0, trace, trace.copy())
    rows = np.zeros((2, len(features.RAW_FEATURES)))
    session = SortedColumns(rows.shape[1])
    session.reset(rows)
    baseline_columns(rows, 1, session)
    width = 3 * rows.shape[1]
    standard_rows(np.zeros((1, width + 2)), rows[0], 3.0, 1.0, np.zeros(width),
                  np.zeros(width), np.ones(width))
    _LOADED = True
