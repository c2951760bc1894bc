"""Rep features for the rounded-back classifier, relative to the lifter's own baseline.

One lumbar sensor sees the orientation of the pelvis/lumbar segment, not the curvature
of the spine (docs/classifier.md, /work/shared/notes/domain.md): a good hip hinge and a
rounded back can reach similar peak flexion. The evidence of rounding is relative to the
lifter's own good reps, so every rep is described twice:

* **raw** features of the rep itself (:data:`RAW_FEATURES`), computed from the rep
  record of :func:`imu.pipeline.reps.span_record` / the engine's ``rep`` event;
* **deviations** from the lifter's baseline: the per-feature median of the *earlier*
  reps of the same session (``history``), shrunk towards a population prior of good
  reps with a weight of ``prior_weight`` pseudo-reps. Only earlier reps are used, so a
  live session, a replay and training compute the same numbers (streaming-safe).

The model input row is ``[raw (F), history median (F), n_history (1)]``
(:func:`model_row`); :class:`BaselineDeviation`, the first step of the scikit-learn
Pipeline, learns the prior from the training rows and turns that row into
``[raw, raw - baseline]``. The median makes the baseline robust while fewer than half of
the earlier reps are rounded; the prior protects the first reps of a session (with no or
few earlier reps), including a session that starts with rounded reps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

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

#: Fraction of the ascent (bottom to lockout) over which the early-pull speed is measured.
EARLY_PULL_FRACTION = 0.25

RAW_FEATURES: tuple[str, ...] = (
    *REP_METRICS,
    "duration_s",
    "early_pull_extension_deg_s",
    *(f"flexion_at_{round(f * 100):02d}pct_deg" for f in SHAPE_FRACTIONS),
)


def _number(record: dict, key: str) -> float:
    value = record.get(key)
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _trace_at(trace: np.ndarray, fraction: float) -> float:
    """Linear interpolation of an evenly sampled trace at ``fraction`` of the span."""
    grid = np.linspace(0.0, 1.0, len(trace))
    return float(np.interp(fraction, grid, trace))


def rep_features(record: dict) -> np.ndarray:
    """Raw features of one rep record, in the order of :data:`RAW_FEATURES` (NaN = unknown).

    Units are in the names (deg, s, deg/s). ``early_pull_extension_deg_s`` is the mean
    extension speed over the first quarter of the ascent (positive = the trunk extends,
    i.e. flexion decreases), the "unrounding" of a back that rounded at lift-off.
    """
    start_s, end_s = _number(record, "start_s"), _number(record, "end_s")
    duration_s = end_s - start_s
    values = [_number(record, key) for key in REP_METRICS]
    trace = np.asarray((record.get(TRACE_KEY) or {}).get(TRACE_FLEXION) or [], dtype=np.float64)
    if trace.ndim != 1 or len(trace) < 2 or not np.all(np.isfinite(trace)):
        shape = [float("nan")] * len(SHAPE_FRACTIONS)
        early_pull = float("nan")
    else:
        shape = [_trace_at(trace, f) for f in SHAPE_FRACTIONS]
        bottom_s = _number(record, "bottom_s")
        ascent_s = end_s - bottom_s
        if np.isfinite(ascent_s) and ascent_s > 0 and duration_s > 0:
            bottom = (bottom_s - start_s) / duration_s
            later = bottom + EARLY_PULL_FRACTION * (1.0 - bottom)
            drop_deg = _trace_at(trace, bottom) - _trace_at(trace, later)
            early_pull = drop_deg / (EARLY_PULL_FRACTION * ascent_s)
        else:
            early_pull = float("nan")
    return np.array([*values, duration_s, early_pull, *shape], dtype=np.float64)


def _median_columns(matrix: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN (NaN for an empty matrix or an all-NaN column)."""
    median = np.full(matrix.shape[1], np.nan)
    finite = np.isfinite(matrix).any(axis=0)
    if finite.any():
        median[finite] = np.nanmedian(matrix[:, finite], axis=0)
    return median


def history_median(history: Sequence[dict]) -> tuple[np.ndarray, int]:
    """Per-feature median of earlier reps (NaN where unknown) and how many there were."""
    if not history:
        return np.full(len(RAW_FEATURES), np.nan), 0
    return _median_columns(np.vstack([rep_features(r) for r in history])), len(history)


def model_row(record: dict, history: Sequence[dict]) -> np.ndarray:
    """The model's input row ``[raw features, history median, n_history]`` for one rep."""
    median, n = history_median(history)
    return np.concatenate([rep_features(record), median, [float(n)]])


def model_rows(records: Sequence[dict]) -> np.ndarray:
    """Input rows for the reps of ONE session in time order (each sees only earlier reps);
    row ``i`` equals ``model_row(records[i], records[:i])``."""
    width = 2 * len(RAW_FEATURES) + 1
    if not records:
        return np.empty((0, width))
    raw = np.vstack([rep_features(r) for r in records])
    medians = [_median_columns(raw[:i]) for i in range(len(records))]
    return np.hstack([raw, np.vstack(medians), np.arange(len(records), dtype=np.float64)[:, None]])


def input_names() -> list[str]:
    """Column names of :func:`model_row`."""
    return [*RAW_FEATURES, *(f"history_median_{n}" for n in RAW_FEATURES), "n_history"]


def feature_names() -> list[str]:
    """Names of the features :class:`BaselineDeviation` hands to the classifier."""
    return [*RAW_FEATURES, *(f"{n}_minus_baseline" for n in RAW_FEATURES)]


class BaselineDeviation(TransformerMixin, BaseEstimator):
    """``[raw, history median, n]`` -> ``[raw, raw - baseline]``.

    ``baseline = (prior_weight * prior + n * history_median) / (prior_weight + n)``
    per feature, where ``prior`` (learned in :meth:`fit`) is the median raw feature of
    the training reps that are not of the positive class (all reps if ``y`` is not
    given). Where the history median is unknown the prior alone is used; a feature
    unknown everywhere stays NaN (the next step imputes it).
    """

    def __init__(self, prior_weight: float = 3.0):
        self.prior_weight = prior_weight

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        f = len(RAW_FEATURES)
        if X.ndim != 2 or X.shape[1] != 2 * f + 1:
            raise ModelError(
                f"model input has {X.shape[-1]} columns, expected {2 * f + 1} "
                "(raw features, history median, n_history)"
            )
        return X[:, :f], X[:, f : 2 * f], X[:, 2 * f]

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> BaselineDeviation:
        raw, _, _ = self._split(X)
        rows = raw if y is None or np.all(np.asarray(y) == 1) else raw[np.asarray(y) != 1]
        self.prior_ = _median_columns(rows)
        self.n_features_in_ = 2 * raw.shape[1] + 1
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        raw, median, n = self._split(X)
        k = float(self.prior_weight)
        n_col = n[:, None]
        known = np.isfinite(median) & (n_col > 0)
        with np.errstate(all="ignore"):
            blended = (k * self.prior_ + n_col * median) / (k + n_col)
        baseline = np.where(known, blended, self.prior_)
        return np.hstack([raw, raw - baseline])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(feature_names(), dtype=object)
