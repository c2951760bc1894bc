"""The fitted default model's ``predict_proba`` as a few numpy operations, for live reps.

scikit-learn validates its input at every step of a pipeline (``check_array``, feature
names, fitted checks): for the one-row calls of the engine that costs ~3 ms per rep of a
sigmoid-calibrated logistic pipeline whose arithmetic takes a few microseconds
(``benchmarks/bench_classify.py``). :func:`compile_predictor` reads the fitted
parameters of the model types that ``imu train`` produces with a linear classifier and
evaluates the same operations in the same order, so the probabilities equal
``predict_proba`` to the last bit or two (tests/test_model_compiled.py). Any other
estimator (a forest, isotonic calibration, a step this module does not know) gets
``None`` and the caller keeps using scikit-learn; so does an input row the fitted
pipeline would reject (an infinite value), so that it fails exactly as before.

Supported: ``CalibratedClassifierCV(method="sigmoid")`` of a binary ``Pipeline`` whose
steps are :class:`imu.model.features.BaselineDeviation`, ``SimpleImputer`` (NaN as the
missing value, no indicator), ``StandardScaler`` and, last, ``LogisticRegression``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray | None]
"""One pipeline step on a float64 copy of the rows (may work in place); ``None`` = the
row needs scikit-learn's own path."""


def _baseline(step) -> Transform:
    return step.deviation_rows


def _imputer(step) -> Transform | None:
    if step.add_indicator or not (isinstance(step.missing_values, float)
                                  and np.isnan(step.missing_values)):
        return None
    statistics = np.asarray(step.statistics_, dtype=np.float64)
    if not step.keep_empty_features and np.isnan(statistics).any():
        return None     # scikit-learn drops those columns (and warns): not mirrored here

    def impute(X: np.ndarray) -> np.ndarray | None:
        if np.isinf(X).any():
            return None   # scikit-learn raises on infinity; let it
        missing = np.isnan(X)
        X[missing] = np.broadcast_to(statistics, X.shape)[missing]
        return X
    return impute


def _scaler(step) -> Transform:
    mean = step.mean_ if step.with_mean else None
    scale = step.scale_ if step.with_std else None

    def standardise(X: np.ndarray) -> np.ndarray:
        if mean is not None:
            X -= mean
        if scale is not None:
            X /= scale
        return X
    return standardise


_STEPS: dict[str, Callable[[object], Transform | None]] = {
    "imu.model.features.BaselineDeviation": _baseline,
    "sklearn.impute._base.SimpleImputer": _imputer,
    "sklearn.preprocessing._data.StandardScaler": _scaler,
}


def _type_name(obj: object) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _decision(pipeline) -> Callable[[np.ndarray], np.ndarray | None] | None:
    """The pipeline's ``decision_function`` (binary logistic regression), or None."""
    steps = [step for _, step in getattr(pipeline, "steps", [])]
    if not steps or _type_name(steps[-1]) != "sklearn.linear_model._logistic.LogisticRegression":
        return None
    final = steps[-1]
    if len(final.classes_) != 2 or final.coef_.shape[0] != 1:
        return None
    transforms = []
    for step in steps[:-1]:
        make = _STEPS.get(_type_name(step))
        transform = make(step) if make is not None else None
        if transform is None:
            return None
        transforms.append(transform)
    coef_t, intercept = final.coef_.T, final.intercept_

    def decision(X: np.ndarray) -> np.ndarray | None:
        for transform in transforms:
            X = transform(X)
            if X is None:
                return None
        return (X @ coef_t + intercept).reshape(-1)
    return decision


def compile_predictor(estimator) -> Callable[[np.ndarray], np.ndarray | None] | None:
    """``rows -> P(positive class)`` equal to ``estimator.predict_proba(rows)[:, 1]``, or
    None when the estimator is not of the supported kind (module docstring). The function
    returns None for rows scikit-learn would reject, so the caller can ask it instead."""
    from scipy.special import expit

    if _type_name(estimator) != "sklearn.calibration.CalibratedClassifierCV":
        return None
    members = []
    for member in estimator.calibrated_classifiers_:
        if member.method != "sigmoid" or len(member.classes) != 2 or len(member.calibrators) != 1:
            return None
        if not np.array_equal(member.estimator.classes_, member.classes):
            return None
        decision = _decision(member.estimator)
        if decision is None:
            return None
        calibrator = member.calibrators[0]
        members.append((decision, float(calibrator.a_), float(calibrator.b_)))

    def positive_probability(rows: np.ndarray) -> np.ndarray | None:
        total = np.zeros(len(rows))
        for decision, a, b in members:
            scores = decision(np.array(rows, dtype=np.float64))
            if scores is None:
                return None
            p = expit(-(a * scores + b))
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            total += p
        return total / len(members)
    return positive_probability
