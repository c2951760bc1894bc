"""The default model's ``predict_proba`` as a few numpy operations, without scikit-learn.

scikit-learn validates its input at every step of a pipeline (``check_array``, feature
names, fitted checks): for the one-row calls of the engine that costs ~3 ms per rep of a
sigmoid-calibrated logistic pipeline whose arithmetic takes a few microseconds
(``benchmarks/bench_classify.py``), and importing it costs a second or two. A
:class:`CompiledModel` holds the fitted numbers of such a model as plain arrays and
evaluates the same operations in the same order, so the probabilities equal
``predict_proba`` to the last bit or two (tests/test_model_compiled.py). It is built
either from a fitted estimator (:func:`compile_predictor`) or straight from a model file
(:mod:`imu.model.reader`), and it returns ``None`` for an input row the fitted pipeline
would reject (an infinite value), so that the caller asks scikit-learn and it fails
exactly as before.

Supported: ``CalibratedClassifierCV(method="sigmoid")`` of a binary ``Pipeline`` whose
steps are :class:`imu.model.baseline.BaselineDeviation`, ``SimpleImputer`` (NaN as the
missing value, no indicator), ``StandardScaler`` and, last, ``LogisticRegression``. Any
other estimator (a forest, isotonic calibration, a step not listed) gets ``None`` from
:func:`compile_predictor`, and the caller keeps using scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imu.model.features import deviation_rows


@dataclass(frozen=True)
class Baseline:
    """:class:`imu.model.baseline.BaselineDeviation`: ``prior_`` (one value per raw feature)
    and its two pseudo-rep weights."""

    prior: np.ndarray
    prior_weight: float
    set_weight: float

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return deviation_rows(X, self.prior, self.prior_weight, self.set_weight)


@dataclass(frozen=True)
class Impute:
    """``SimpleImputer`` with NaN as the missing value: ``statistics_``, one per column."""

    statistics: np.ndarray

    def __call__(self, X: np.ndarray) -> np.ndarray | None:
        if np.isinf(X).any():
            return None   # scikit-learn raises on infinity; let it
        np.copyto(X, self.statistics, where=np.isnan(X))
        return X


@dataclass(frozen=True)
class Standardise:
    """``StandardScaler``: ``mean_`` (None without centring), ``scale_`` (None without
    scaling)."""

    mean: np.ndarray | None
    scale: np.ndarray | None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if self.mean is not None:
            X -= self.mean
        if self.scale is not None:
            X /= self.scale
        return X


Step = Baseline | Impute | Standardise
"""One pipeline step on a float64 copy of the rows (may work in place); ``None`` = the
rows need scikit-learn's own path."""


@dataclass(frozen=True)
class Member:
    """One calibrated classifier: its pipeline's ``steps``, the binary logistic regression
    (``coef`` of shape (1, n), ``intercept`` of shape (1,)) and the Platt sigmoid
    ``P = 1 / (1 + exp(a * score + b))``."""

    steps: tuple[Step, ...]
    coef: np.ndarray
    intercept: np.ndarray
    a: float
    b: float

    def probability(self, rows: np.ndarray) -> np.ndarray | None:
        X = self._standard(rows)
        if X is None:
            return None
        scores = (X @ self.coef.T + self.intercept).reshape(-1)
        # scipy.special.expit(-(a * s + b)) is 1 / (1 + exp(a * s + b)) with the C
        # library's exp, as math.exp is (numpy's own SIMD exp may differ in the last bit)
        p = np.array([_sigmoid(v) for v in (self.a * scores + self.b).tolist()])
        p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
        return p

    def _standard(self, rows: np.ndarray) -> np.ndarray | None:
        """The rows after :attr:`steps` (None: leave them to scikit-learn)."""
        X = np.array(rows, dtype=np.float64)
        for step in self.steps:
            X = step(X)
            if X is None:
                return None
        return X


def _sigmoid(z: float) -> float:
    """``1 / (1 + exp(z))``, 0 where exp overflows (like expit(-z))."""
    try:
        return 1.0 / (1.0 + math.exp(z))
    except OverflowError:
        return 0.0


@dataclass(frozen=True)
class CompiledModel:
    """``rows -> P(positive class)``: the mean of the members' calibrated probabilities,
    equal to ``CalibratedClassifierCV.predict_proba(rows)[:, 1]``; ``None`` for rows
    scikit-learn would reject."""

    members: tuple[Member, ...]

    def __call__(self, rows: np.ndarray) -> np.ndarray | None:
        total = np.zeros(len(rows))
        for member in self.members:
            p = member.probability(rows)
            if p is None:
                return None
            total += p
        return total / len(self.members)


def _type_name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _baseline(step) -> Baseline:
    return Baseline(np.asarray(step.prior_, dtype=np.float64), step.prior_weight,
                    step.set_weight)


def _imputer(step) -> Impute | None:
    if step.add_indicator or not (isinstance(step.missing_values, float)
                                  and np.isnan(step.missing_values)):
        return None
    statistics = np.asarray(step.statistics_, dtype=np.float64)
    if not step.keep_empty_features and np.isnan(statistics).any():
        return None     # scikit-learn drops those columns (and warns): not mirrored here
    return Impute(statistics)


def _scaler(step) -> Standardise:
    return Standardise(step.mean_ if step.with_mean else None,
                       step.scale_ if step.with_std else None)


#: Type names (module.class) of the supported estimators, shared with imu.model.reader.
#: Model files written before BaselineDeviation moved to imu.model.baseline name it after
#: imu.model.features.
BASELINE_TYPES = ("imu.model.baseline.BaselineDeviation", "imu.model.features.BaselineDeviation")
IMPUTER_TYPE = "sklearn.impute._base.SimpleImputer"
SCALER_TYPE = "sklearn.preprocessing._data.StandardScaler"
LOGISTIC_TYPE = "sklearn.linear_model._logistic.LogisticRegression"
CALIBRATED_TYPE = "sklearn.calibration.CalibratedClassifierCV"
#: Type names of the steps compiled, with their readers.
STEP_TYPES: dict[str, Callable[[object], Step | None]] = {
    **dict.fromkeys(BASELINE_TYPES, _baseline),
    IMPUTER_TYPE: _imputer,
    SCALER_TYPE: _scaler,
}


def _member(pipeline, classes: np.ndarray, a: float, b: float) -> Member | None:
    """A fitted binary logistic ``Pipeline`` of known steps as a :class:`Member`, or None."""
    steps = [step for _, step in getattr(pipeline, "steps", [])]
    if not steps or _type_name(steps[-1]) != LOGISTIC_TYPE:
        return None
    final = steps[-1]
    if (len(final.classes_) != 2 or final.coef_.shape[0] != 1
            or not np.array_equal(final.classes_, classes)):
        return None
    compiled = []
    for step in steps[:-1]:
        make = STEP_TYPES.get(_type_name(step))
        transform = make(step) if make is not None else None
        if transform is None:
            return None
        compiled.append(transform)
    return Member(tuple(compiled), final.coef_, final.intercept_, a, b)


def compile_predictor(estimator) -> CompiledModel | None:
    """The :class:`CompiledModel` of a fitted estimator, or None when it is not of the
    supported kind (module docstring). Reads attributes only: imports nothing."""
    if _type_name(estimator) != CALIBRATED_TYPE:
        return None
    members = []
    for member in estimator.calibrated_classifiers_:
        if member.method != "sigmoid" or len(member.classes) != 2 or len(member.calibrators) != 1:
            return None
        calibrator = member.calibrators[0]
        compiled = _member(member.estimator, member.classes, float(calibrator.a_),
                           float(calibrator.b_))
        if compiled is None:
            return None
        members.append(compiled)
    return CompiledModel(tuple(members))
