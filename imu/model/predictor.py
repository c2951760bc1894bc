"""The default model's ``predict_proba`` as a few numpy operations, without scikit-learn,
and the versioned payload of its numbers that a model file carries.

scikit-learn validates its input at every step of a pipeline (``check_array``, feature
names, fitted checks): for the one-row calls of the engine that costs ~3 ms per rep of a
sigmoid-calibrated logistic pipeline whose arithmetic takes a few microseconds
(``benchmarks/bench_classify.py``), and importing it costs a second or two. A
:class:`LogisticPredictor` holds the fitted numbers of such a model as plain arrays and
evaluates the same operations in the same order, so the probabilities equal
``predict_proba`` to the last bit or two (tests/test_model_predictor.py). It returns
``None`` for an input row the fitted pipeline would reject (an infinite value), so that
the caller asks scikit-learn and it fails exactly as there.

Supported: ``CalibratedClassifierCV(method="sigmoid")`` of a binary ``Pipeline`` whose
steps are :class:`imu.model.baseline.BaselineDeviation`, ``SimpleImputer`` (NaN as the
missing value, no indicator), ``StandardScaler`` and, last, ``LogisticRegression``. Any
other estimator (a forest, isotonic calibration, a step not listed) gets ``None`` from
:func:`numpy_predictor`, and the caller keeps using scikit-learn.

**Payload.** :func:`to_payload` writes those numbers as plain JSON (:data:`PAYLOAD_FORMAT`,
version :data:`PAYLOAD_VERSION`; floats as Python's shortest round-trip text, so they read
back to the same bits; NaN as ``NaN``) and :func:`from_payload` reads them back, checking
every key, type and width, into the same predictor. ``imu train`` stores the payload in
the model archive (:mod:`imu.model.files`), so loading the default model needs neither
scikit-learn nor skops and builds nothing but arrays and numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imu.errors import ModelError
from imu.model.features import RAW_FEATURES, deviation_rows, input_names


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
class LogisticPredictor:
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


#: Type names (module.class) of the supported estimators.
#: Model files written before BaselineDeviation moved to imu.model.baseline name it after
#: imu.model.features.
BASELINE_TYPES = ("imu.model.baseline.BaselineDeviation", "imu.model.features.BaselineDeviation")
IMPUTER_TYPE = "sklearn.impute._base.SimpleImputer"
SCALER_TYPE = "sklearn.preprocessing._data.StandardScaler"
LOGISTIC_TYPE = "sklearn.linear_model._logistic.LogisticRegression"
CALIBRATED_TYPE = "sklearn.calibration.CalibratedClassifierCV"
#: Type names of the supported steps, with the functions that take their numbers.
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
    transforms = []
    for step in steps[:-1]:
        make = STEP_TYPES.get(_type_name(step))
        transform = make(step) if make is not None else None
        if transform is None:
            return None
        transforms.append(transform)
    return Member(tuple(transforms), final.coef_, final.intercept_, a, b)


def numpy_predictor(estimator) -> LogisticPredictor | None:
    """The :class:`LogisticPredictor` of a fitted estimator, or None when it is not of the
    supported kind (module docstring). Reads attributes only: imports nothing."""
    if _type_name(estimator) != CALIBRATED_TYPE:
        return None
    members = []
    for member in estimator.calibrated_classifiers_:
        if member.method != "sigmoid" or len(member.classes) != 2 or len(member.calibrators) != 1:
            return None
        calibrator = member.calibrators[0]
        converted = _member(member.estimator, member.classes, float(calibrator.a_),
                            float(calibrator.b_))
        if converted is None:
            return None
        members.append(converted)
    return LogisticPredictor(tuple(members))


PAYLOAD_FORMAT = "imu-logistic-predictor"
PAYLOAD_VERSION = 1


def to_payload(predictor: LogisticPredictor, threshold: float) -> dict:
    """The numbers of ``predictor`` and the decision ``threshold`` as a JSON-able dict."""

    def step(transform: Step) -> dict:
        if isinstance(transform, Baseline):
            return {"step": "baseline", "prior": transform.prior.tolist(),
                    "prior_weight": float(transform.prior_weight),
                    "set_weight": float(transform.set_weight)}
        if isinstance(transform, Impute):
            return {"step": "impute", "statistics": transform.statistics.tolist()}
        return {"step": "standardise",
                "mean": None if transform.mean is None else transform.mean.tolist(),
                "scale": None if transform.scale is None else transform.scale.tolist()}

    members = [{"steps": [step(t) for t in m.steps], "coef": m.coef[0].tolist(),
                "intercept": float(m.intercept[0]), "a": float(m.a), "b": float(m.b)}
               for m in predictor.members]
    return {"format": PAYLOAD_FORMAT, "format_version": PAYLOAD_VERSION,
            "threshold": float(threshold), "members": members}


def from_payload(payload: object, where: str) -> tuple[LogisticPredictor, float]:
    """The predictor and threshold of a payload written by :func:`to_payload`; ModelError
    naming what is wrong for anything else (a wrong key, type, width or a non-finite
    weight)."""
    reader = _PayloadReader(where)
    payload = reader.keys(payload, {"format", "format_version", "threshold", "members"},
                          "payload")
    if payload["format"] != PAYLOAD_FORMAT:
        reader.fail(f"format is not {PAYLOAD_FORMAT!r}")
    if payload["format_version"] != PAYLOAD_VERSION:
        reader.fail(f"version {payload['format_version']!r}; this imu reads "
                    f"{PAYLOAD_VERSION} (retrain with 'imu train')")
    threshold = reader.number(payload["threshold"], "threshold")  # must equal the manifest's
    members = payload["members"]
    if not isinstance(members, list) or not members:
        reader.fail("no members")
    return LogisticPredictor(tuple(reader.member(m) for m in members)), threshold


class _PayloadReader:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, what: str):
        raise ModelError(f"{self.where}: damaged predictor payload ({what})")

    def keys(self, value: object, keys: set[str], what: str) -> dict:
        if not isinstance(value, dict) or set(value) != keys:
            self.fail(f"{what} keys")
        return value

    def number(self, value: object, what: str, finite: bool = True) -> float:
        if type(value) not in (int, float) or (finite and not math.isfinite(value)):
            self.fail(what)
        return float(value)

    def array(self, value: object, width: int, what: str, finite: bool = True) -> np.ndarray:
        if not isinstance(value, list) or len(value) != width:
            self.fail(f"{what} width")
        return np.array([self.number(v, what, finite) for v in value], dtype=np.float64)

    def member(self, member: object) -> Member:
        member = self.keys(member, {"steps", "coef", "intercept", "a", "b"}, "member")
        width = len(input_names())
        if not isinstance(member["steps"], list):
            self.fail("steps")
        steps = []
        for step in member["steps"]:
            kind = step.get("step") if isinstance(step, dict) else None
            if kind == "baseline" and width == len(input_names()):
                self.keys(step, {"step", "prior", "prior_weight", "set_weight"}, kind)
                f = len(RAW_FEATURES)
                steps.append(Baseline(self.array(step["prior"], f, "prior", finite=False),
                                      self.number(step["prior_weight"], "prior_weight"),
                                      self.number(step["set_weight"], "set_weight")))
                width = 3 * f
            elif kind == "impute":
                self.keys(step, {"step", "statistics"}, kind)
                steps.append(Impute(self.array(step["statistics"], width, "statistics",
                                               finite=False)))
            elif kind == "standardise":
                self.keys(step, {"step", "mean", "scale"}, kind)
                mean, scale = (None if step[k] is None else self.array(step[k], width, k)
                               for k in ("mean", "scale"))
                steps.append(Standardise(mean, scale))
            else:
                self.fail(f"step {kind!r}")
        coef = self.array(member["coef"], width, "coef")[None, :]
        intercept = np.array([self.number(member["intercept"], "intercept")])
        return Member(tuple(steps), coef, intercept, self.number(member["a"], "a"),
                      self.number(member["b"], "b"))
