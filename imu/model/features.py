"""Rep features for the rounded-back classifier, relative to the lifter's own baseline.

One lumbar sensor sees the orientation of the pelvis/lumbar segment, not the curvature
of the spine (docs/classifier.md, /work/shared/notes/domain.md): a good hip hinge and a
rounded back can reach similar peak flexion. The evidence of rounding is relative to the
lifter's own good reps, so every rep is described in three ways:

* **raw** features of the rep itself (:data:`RAW_FEATURES`), computed from the rep
  record of :func:`imu.pipeline.excursions.span_record` / the engine's ``rep`` event;
* **deviations** from the lifter's baseline: the per-feature median of the *earlier*
  reps of the same session (``history``), shrunk towards a population prior of good
  reps with a weight of ``prior_weight`` pseudo-reps. Only earlier reps are used, so a
  live session, a replay and training compute the same numbers (streaming-safe).

A third view compares the rep with the earlier reps of its own **set** (reps no more
than :data:`SET_GAP_S` apart): a set has one lift variant and one load, so this baseline
absorbs a session that mixes, say, Romanian and conventional deadlifts.

The model input row is ``[raw (F), session median (F), n, set median (F), n_set]``
(:func:`model_row`); :class:`imu.model.baseline.BaselineDeviation`, the first step of the
scikit-learn Pipeline, learns the prior from the training rows and turns that row into
``[raw, raw - baseline, raw - set baseline]`` (:func:`deviation_rows`, plain numpy, so
that this module and the numpy predictor import without scikit-learn). The median makes the baseline robust
while fewer than half of the earlier reps are rounded; the prior protects the first
reps of a session (with no or few earlier reps), including a session that starts with
rounded reps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from imu.errors import ModelError

#: Rep metrics taken as they are from the rep record (docs/contracts.md, "rep object").
REP_METRICS: tuple[str, ...] = (
    "peak_flexion_deg",
    "liftoff_flexion_deg",
    "lockout_extension_deg",
    "descent_s",
    "ascent_s",
    "peak_flexion_velocity_deg_s",
    "peak_extension_velocity_deg_s",
    "lateral_bend_range_deg",
    "twist_range_deg",
    "smoothness",
)

#: ``record[TRACE_KEY][TRACE_FLEXION]``: the time-normalised flexion trace (deg) of a rep
#: record, sampled evenly from ``start_s`` (index 0) to ``end_s`` (last index).
TRACE_KEY = "trace"
TRACE_FLEXION = "flexion_deg"

#: Points of the flexion curve used as shape features (fractions of the rep duration).
SHAPE_FRACTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

#: Smallest flexion range (deg, peak above the mean of the rep's first and last sample) for
#: which the range-relative shape features are defined (NaN below it).
MIN_SHAPE_RANGE_DEG = 5.0

#: Points of the ascent at which the share of the pull's extension already done is a feature.
PULL_FRACTIONS: tuple[float, ...] = (0.2, 0.4, 0.6)

#: Fraction of the ascent (bottom to lockout) over which the early-pull speed is measured.
EARLY_PULL_FRACTION = 0.25
#: Earlier reps that ended at most this long before the next one started belong to the
#: same set (a set's baseline also absorbs the lift variant and the load of that set).
SET_GAP_S = 10.0

RAW_FEATURES: tuple[str, ...] = (
    *REP_METRICS,
    "duration_s",
    "early_pull_extension_deg_s",
    "fastest_extension_at_ascent_fraction",
    "fastest_extension_after_peak_fraction",
    "log_lateral_bend_range",
    "log_twist_range",
    "twist_shift_at_peak_deg",
    *(f"extension_done_at_{round(f * 100):02d}pct_ascent" for f in PULL_FRACTIONS),
    *(f"flexion_at_{round(f * 100):02d}pct_deg" for f in SHAPE_FRACTIONS),
    *(f"flexion_at_{round(f * 100):02d}pct_of_range" for f in SHAPE_FRACTIONS),
)


def record_value(record: dict, key: str) -> float:
    """``record[key]`` as a float; NaN if missing, None or not a number."""
    value = record.get(key)
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


@functools.lru_cache(maxsize=8)
def _grid_of(n: int) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, n)
    grid.flags.writeable = False
    return grid


def _grid(trace: np.ndarray) -> np.ndarray:
    """Where the points of an evenly sampled trace lie, as fractions (0..1) of the span."""
    return _grid_of(len(trace))


@functools.lru_cache(maxsize=8)
def _slope_weights(n: int) -> tuple[np.ndarray, ...] | None:
    """The weights ``np.gradient(f, grid)`` derives from the ``n``-point grid at every call
    (its non-uniform formula: interior ``a f[i-1] + b f[i] + c f[i+1]``, one-sided first
    differences at the ends), or None where numpy finds the spacing uniform."""
    dx = np.diff(_grid_of(n))
    if (dx == dx[0]).all():
        return None
    dx1, dx2 = dx[:-1], dx[1:]
    return (-dx2 / (dx1 * (dx1 + dx2)), (dx2 - dx1) / (dx1 * dx2),
            dx1 / (dx2 * (dx1 + dx2)), dx[0], dx[-1])


def _slope(trace: np.ndarray) -> np.ndarray:
    """``np.gradient(trace, _grid(trace))`` to the bit, with the grid's weights computed
    once per trace length rather than at every call (most of np.gradient's cost here)."""
    weights = _slope_weights(len(trace))
    if weights is None:
        return np.gradient(trace, _grid(trace))
    a, b, c, first_dx, last_dx = weights
    out = np.empty_like(trace)
    out[1:-1] = a * trace[:-2] + b * trace[1:-1] + c * trace[2:]
    out[0] = (trace[1] - trace[0]) / first_dx
    out[-1] = (trace[-1] - trace[-2]) / last_dx
    return out


_SHAPE_AT = np.array(SHAPE_FRACTIONS)
_PULL_AT = np.array(PULL_FRACTIONS)
_LATERAL = REP_METRICS.index("lateral_bend_range_deg")
_TWIST = REP_METRICS.index("twist_range_deg")


ShapeFeatures = Callable[[float, float, float, np.ndarray, np.ndarray], np.ndarray]
"""``(start_s, end_s, bottom_s, flexion_deg, twist_deg) -> features`` (:func:`trace_features`)."""


def rep_features(record: dict, shape_features: ShapeFeatures | None = None) -> np.ndarray:
    """Raw features of one rep record, in the order of :data:`RAW_FEATURES` (NaN = unknown).

    Units are in the names (deg, s, deg/s). ``early_pull_extension_deg_s`` is the mean
    extension speed over the first quarter of the ascent (positive = the trunk extends,
    i.e. flexion decreases), the "unrounding" of a back that rounded at lift-off;
    ``fastest_extension_at_ascent_fraction`` is when the extension is fastest, as a
    fraction of the ascent (0 = lift-off, 1 = lockout): early in a rounded pull, later
    in a good one where the knees extend first. ``extension_done_at_XXpct_ascent`` is
    the share (0..1) of the ascent's total extension done after XX % of the ascent time,
    a shape that does not depend on the lifter's depth or speed.
    ``flexion_at_XXpct_of_range`` is the flexion curve at XX % of the rep relative to the
    rep's own range: 0 = the mean of its first and last sample, 1 = its peak. Unlike the
    curve in degrees, it is unchanged by a constant angle offset (a calibration that fell
    back, a sensor that slipped) or a scale error of a few degrees.

    ``shape_features`` computes the features of the traces (default
    :func:`trace_features`; the classifier passes a remembering one).
    """
    start_s, end_s = record_value(record, "start_s"), record_value(record, "end_s")
    values = [record_value(record, key) for key in REP_METRICS]
    traces = record.get(TRACE_KEY) or {}
    flexion = np.asarray(traces.get(TRACE_FLEXION) or [], dtype=np.float64)
    twist = np.asarray(traces.get("twist_deg") or [], dtype=np.float64)
    shape = (shape_features or trace_features)(start_s, end_s, record_value(record, "bottom_s"),
                                               flexion, twist)
    log_ranges = np.log(np.maximum([values[_LATERAL], values[_TWIST]], 0.1))  # NaN stays NaN
    return np.concatenate([values, [end_s - start_s], shape[:3], log_ranges, shape[3:]],
                          dtype=np.float64)


def trace_features(start_s: float, end_s: float, bottom_s: float, trace: np.ndarray,
                   twist: np.ndarray) -> np.ndarray:
    """The features of a rep's time-normalised flexion and twist traces (deg, evenly
    sampled from ``start_s`` to ``end_s``; the deepest point at ``bottom_s``), as
    ``[early_pull_extension_deg_s, fastest_extension_at_ascent_fraction,
    fastest_extension_after_peak_fraction, twist_shift_at_peak_deg, extension done (3),
    flexion at fractions (9), flexion relative to the range (9)]`` (:func:`rep_features`
    places them among the others)."""
    duration_s = end_s - start_s
    shape = np.full(len(SHAPE_FRACTIONS), np.nan)
    relative = np.full(len(SHAPE_FRACTIONS), np.nan)
    pull = np.full(len(PULL_FRACTIONS), np.nan)
    early_pull = fastest_at = after_peak = twist_shift = float("nan")
    if trace.ndim == 1 and len(trace) >= 3 and np.isfinite(trace).all():
        grid = _grid(trace)
        shape = np.interp(_SHAPE_AT, grid, trace)
        ends_deg = 0.5 * (trace[0] + trace[-1])
        range_deg = float(trace.max()) - ends_deg
        if range_deg >= MIN_SHAPE_RANGE_DEG:
            relative = (shape - ends_deg) / range_deg
        ascent_s = end_s - bottom_s
        if np.isfinite(ascent_s) and ascent_s > 0 and duration_s > 0:
            bottom = (bottom_s - start_s) / duration_s
            later = bottom + EARLY_PULL_FRACTION * (1.0 - bottom)
            at_bottom, at_later = np.interp([bottom, later], grid, trace)
            early_pull = (at_bottom - at_later) / (EARLY_PULL_FRACTION * ascent_s)
            slope = _slope(trace)
            fastest_at = _fastest_extension(grid, slope, bottom)
            peak = float(np.argmax(trace)) / (len(trace) - 1)
            after_peak = _fastest_extension(grid, slope, peak)
            if twist.ndim == 1 and len(twist) >= 3 and np.isfinite(twist).all():
                twist_at_peak = float(np.interp(peak, _grid(twist), twist))
                twist_shift = abs(twist_at_peak - 0.5 * (twist[0] + twist[-1]))
            pull_deg = at_bottom - trace[-1]
            if pull_deg > 1.0:
                done = at_bottom - np.interp(bottom + _PULL_AT * (1 - bottom), grid, trace)
                pull = done / pull_deg
    return np.concatenate([[early_pull, fastest_at, after_peak, twist_shift], pull, shape,
                           relative], dtype=np.float64)


def _fastest_extension(grid: np.ndarray, slope: np.ndarray, bottom: float) -> float:
    """When flexion falls fastest after ``bottom`` (fractions of the rep), as a fraction
    of the ascent; ``slope`` is the trace's derivative at the points ``grid`` (0..1,
    increasing). Refined between trace points by a parabola through the slope minimum."""
    first = int(np.searchsorted(grid, bottom))      # the first point at or after bottom
    if len(grid) - first < 2 or bottom >= 1.0:
        return float("nan")
    i = first + int(np.argmin(slope[first:]))
    at = float(grid[i])
    if 0 < i < len(grid) - 1:
        left, mid, right = slope[i - 1:i + 2].tolist()
        curvature = left - 2 * mid + right
        if curvature > 0:
            at += 0.5 * (left - right) / curvature * float(grid[1] - grid[0])
    return min(max((at - bottom) / (1.0 - bottom), 0.0), 1.0)


def median_columns(matrix: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN (NaN for an empty matrix or a column without a finite
    value); equal to ``np.nanmedian`` to the bit, by one sort of the columns (NaN sorts
    last), which costs a fraction of ``nanmedian`` on the small matrices used here."""
    columns = np.sort(matrix.T, axis=1)
    counts = np.count_nonzero(~np.isnan(columns), axis=1)
    median = np.full(len(columns), np.nan)
    known = np.isfinite(columns).any(axis=1)
    rows = np.flatnonzero(known)
    low = columns[rows, (counts[rows] - 1) // 2]
    high = columns[rows, counts[rows] // 2]
    median[rows] = (low + high) / 2.0
    return median


def set_start(history: Sequence[dict], start_s: float) -> int:
    """Index in ``history`` of the first earlier rep of the current set: the trailing run of
    reps each separated from the next (and the last from ``start_s``) by at most
    :data:`SET_GAP_S`."""
    first = len(history)
    following = start_s
    for i in range(len(history) - 1, -1, -1):
        if following - record_value(history[i], "end_s") > SET_GAP_S:
            break
        first, following = i, record_value(history[i], "start_s")
    return first


def row_from_raw(raw: np.ndarray, earlier: np.ndarray, first_in_set: int) -> np.ndarray:
    """:func:`model_row` from raw features: ``[raw, session median, n, set median, n_set]``
    of one rep's ``raw`` features, the earlier reps' raw features ``earlier`` (one row
    each, time order) and the index of the first of them in the rep's set
    (:func:`set_start`)."""
    return np.concatenate([raw, baseline_columns(earlier, first_in_set)])


def baseline_columns(earlier: np.ndarray, first_in_set: int) -> np.ndarray:
    """The part of a model row after the raw features, ``[session median, n, set median,
    n_set]``, from the earlier reps' raw features ``earlier`` (one row each, time order)
    and the index of the first of them in the rep's set."""
    n, f = earlier.shape
    n_set = n - first_in_set
    if n == 0:
        return np.concatenate([np.full(f, np.nan), [0.0], np.full(f, np.nan), [0.0]])
    # one sort for both medians: the set's rows beside the session's, padded with NaN
    both = np.full((n, 2 * f), np.nan)
    both[:, :f] = earlier
    both[:n_set, f:] = earlier[first_in_set:]
    medians = median_columns(both)
    return np.concatenate([medians[:f], [float(n)], medians[f:], [float(n_set)]])


def model_row(record: dict, history: Sequence[dict]) -> np.ndarray:
    """The model's input row for one rep: ``[raw features, median of the session's earlier
    reps, their number, median of the earlier reps of the same set, their number]``.
    (:meth:`imu.model.classifier.RepClassifier.classify` computes the same row keeping
    the history's raw features from rep to rep.)"""
    earlier = (np.vstack([rep_features(r) for r in history]) if history
               else np.empty((0, len(RAW_FEATURES))))
    return row_from_raw(rep_features(record), earlier,
                        set_start(history, record_value(record, "start_s")))


def model_rows(records: Sequence[dict]) -> np.ndarray:
    """Input rows for the reps of ONE session in time order (each sees only earlier reps);
    row ``i`` equals ``model_row(records[i], records[:i])``."""
    if not records:
        return np.empty((0, len(input_names())))
    raw = np.vstack([rep_features(r) for r in records])
    return np.vstack([row_from_raw(raw[i], raw[:i], set_start(records[:i], record_value(r, "start_s")))
                      for i, r in enumerate(records)])


def input_names() -> list[str]:
    """Column names of :func:`model_row`."""
    return [*RAW_FEATURES, *(f"session_median_{n}" for n in RAW_FEATURES), "n_session",
            *(f"set_median_{n}" for n in RAW_FEATURES), "n_set"]


def feature_names() -> list[str]:
    """Names of the features :func:`deviation_rows` hands to the classifier."""
    return [*RAW_FEATURES, *(f"{n}_minus_baseline" for n in RAW_FEATURES),
            *(f"{n}_minus_set_baseline" for n in RAW_FEATURES)]


def _blend(weight: float, prior: np.ndarray, median: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``(weight * prior + n * median) / (weight + n)``; the prior where the median is
    unknown. (Call it under ``np.errstate(all="ignore")``: unknown medians are NaN.)"""
    n_col = n[:, None]
    blended = (weight * prior + n_col * median) / (weight + n_col)
    return np.where(np.isfinite(median) & (n_col > 0), blended, prior)


def split_input(X: np.ndarray) -> tuple[np.ndarray, ...]:
    """Model input rows (:func:`model_row`) as ``(raw, session median, n_session, set
    median, n_set)`` column blocks; ModelError if ``X`` is not a matrix of that width."""
    X = np.asarray(X, dtype=np.float64)
    f = len(RAW_FEATURES)
    width = 3 * f + 2      # len(input_names())
    if X.ndim != 2 or X.shape[1] != width:
        raise ModelError(f"model input has {X.shape[-1]} columns, expected {width} "
                         "(imu.model.features.input_names)")
    return X[:, :f], X[:, f:2 * f], X[:, 2 * f], X[:, 2 * f + 1:3 * f + 1], X[:, 3 * f + 1]


def deviation_rows(X: np.ndarray, prior: np.ndarray, prior_weight: float,
                   set_weight: float) -> np.ndarray:
    """Model input rows -> ``[raw, raw - baseline, raw - set baseline]`` (:func:`feature_names`).

    ``baseline = (prior_weight * prior + n * session_median) / (prior_weight + n)`` per
    feature; the set baseline blends that baseline with the median of the set's earlier
    reps the same way with ``set_weight``. Where a median is unknown the blend falls back
    to its prior; a feature unknown everywhere stays NaN. ``prior`` (one value per raw
    feature) is what :class:`imu.model.baseline.BaselineDeviation` learns in ``fit``.
    """
    raw, session, n_session, same_set, n_set = split_input(X)
    f = raw.shape[1]
    out = np.empty((len(raw), 3 * f))
    out[:, :f] = raw
    with np.errstate(all="ignore"):
        baseline = _blend(float(prior_weight), prior, session, n_session)
        np.subtract(raw, baseline, out=out[:, f:2 * f])
        set_baseline = _blend(float(set_weight), baseline, same_set, n_set)
        np.subtract(raw, set_baseline, out=out[:, 2 * f:])
    return out


def __getattr__(name: str):
    # Model files written before BaselineDeviation moved to imu.model.baseline name it
    # imu.model.features.BaselineDeviation; skops resolves that name through here.
    if name == "BaselineDeviation":
        from imu.model.baseline import BaselineDeviation

        return BaselineDeviation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
