"""Model selection, calibration, threshold and grouped cross-validation on model rows.

Everything here works on plain arrays: ``X`` rows from :func:`imu.model.features.model_row`,
``y`` (1 = the positive class, e.g. ``rounded``), ``groups`` (subject or session ids).

:func:`fit_model` is the whole training recipe, used identically for the final model and
inside every outer fold of :func:`cross_validate` (nested CV: the outer score never sees
the data that chose the model, its calibration or its threshold):

1. candidates (:func:`candidates`) are scored by grouped inner cross-validation
   (ROC AUC of out-of-fold scores; ties go to the simpler, earlier candidate);
2. the winner is refitted on all rows and calibrated with Platt scaling on its
   out-of-fold scores (``CalibratedClassifierCV(method="sigmoid", ensemble=False)``
   with the same grouped splits);
3. the decision threshold is chosen on those out-of-fold calibrated probabilities: the
   highest balanced accuracy among thresholds whose sensitivity is at least
   ``target_sensitivity`` (missing a rounded rep costs more than a false alert, but
   nagging false alerts are the first complaint about posture wearables).

Class imbalance: ``class_weight="balanced"`` in every candidate; stratified group folds.

Threads: :func:`fit_model` runs with one BLAS thread (threadpoolctl). Its matrices are
small (hundreds to thousands of rows, ~30 columns), and BLAS threads there cost more than
they gain: ``imu train`` on the bundled datasets took 2.7x as long with two threads on two
busy cores (80.7 s against 29.8 s; the model the same but for the threshold's last bits;
``benchmarks/bench_train.py``). Set ``OPENBLAS_NUM_THREADS`` (or
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) to choose the count yourself.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from imu.errors import InputError, ModelError
from imu.model.baseline import BaselineDeviation

#: Default minimum sensitivity of the operating point.
TARGET_SENSITIVITY = 0.90
#: Folds of the outer (scoring) and inner (selection) grouped cross-validation; with at
#: most that many groups, one group is left out per fold.
OUTER_FOLDS = 10
INNER_FOLDS = 4
RANDOM_STATE = 0

Progress = Callable[[str], None]


def candidates() -> dict[str, Pipeline]:
    """The model family searched by inner CV (name -> unfitted Pipeline)."""

    def logistic(c: float) -> Pipeline:
        return Pipeline([
            ("baseline", BaselineDeviation()),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, class_weight="balanced", solver="newton-cholesky",
                                            max_iter=200)),
        ])

    def forest(min_leaf: int) -> Pipeline:
        return Pipeline([
            ("baseline", BaselineDeviation()),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("classify", RandomForestClassifier(
                n_estimators=60, min_samples_leaf=min_leaf, max_features="sqrt",
                class_weight="balanced_subsample", random_state=RANDOM_STATE)),
        ])

    return {
        "logistic_C0.1": logistic(0.1),
        "logistic_C1": logistic(1.0),
        "logistic_C10": logistic(10.0),
        "forest_leaf5": forest(5),
    }


def group_splits(y: np.ndarray, groups: np.ndarray, max_folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped train/test index pairs: leave-one-group-out for up to ``max_folds``
    groups, else ``max_folds`` stratified group folds (as many as the larger class has
    spans, if that is fewer: a few subjects with one trial each). With a single group,
    stratified rep folds (then the scores are not "unseen lifter" scores;
    :func:`cross_validate` refuses it).
    """
    X_dummy = np.zeros((len(y), 1))
    n_groups = len(np.unique(groups))
    if n_groups == 1:
        smaller = int(np.bincount(y, minlength=2).min())
        if smaller < 2:
            raise InputError(f"too few spans: the smaller class has {smaller}; label more reps")
        splitter = StratifiedKFold(n_splits=min(max_folds, smaller), shuffle=True,
                                   random_state=RANDOM_STATE)
        return list(splitter.split(X_dummy, y))
    if n_groups <= max_folds:
        return list(LeaveOneGroupOut().split(X_dummy, y, groups))
    # scikit-learn refuses more folds than the larger class has spans (ValueError: 6
    # subjects with one trial each, 3 rounded, crashed imu train)
    folds = min(max_folds, int(np.bincount(y, minlength=2).max()))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    with warnings.catch_warnings():
        # fewer spans of a class than folds (a handful of lifters with a few trials): some
        # folds hold none of it, which the pooled out-of-fold scores allow; scikit-learn's
        # notice of it reached the user as two lines of Python warning per fit
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(splitter.split(X_dummy, y, groups))


def _oof_scores(model: Pipeline, X: np.ndarray, y: np.ndarray, splits) -> np.ndarray:
    """Out-of-fold :func:`response` scores."""
    scores = np.empty(len(y))
    for train, test in splits:
        fitted = clone(model).fit(X[train], y[train])
        scores[test] = response(fitted, X[test])
    return scores


def response(fitted, X: np.ndarray) -> np.ndarray:
    """The score ``CalibratedClassifierCV`` calibrates: ``decision_function`` if the
    estimator has one, else the probability of the positive class."""
    if hasattr(fitted, "decision_function"):
        return fitted.decision_function(X)
    return fitted.predict_proba(X)[:, 1]


def choose_threshold(y: np.ndarray, p: np.ndarray, target_sensitivity: float) -> float:
    """Threshold on ``p`` (predict positive when ``p >= threshold``): the best balanced
    accuracy among thresholds with sensitivity >= ``target_sensitivity``. Thresholds sit
    halfway between consecutive distinct probabilities."""
    values = np.unique(p)
    cuts = np.concatenate([[values[0]], (values[:-1] + values[1:]) / 2.0]) if len(values) > 1 else values
    pos, neg = y == 1, y != 1
    best, best_score = float(cuts[0]), -1.0
    for cut in cuts:
        pred = p >= cut
        sens = pred[pos].mean() if pos.any() else 0.0
        spec = (~pred[neg]).mean() if neg.any() else 0.0
        if sens >= target_sensitivity and (sens + spec) / 2 >= best_score:
            best, best_score = float(cut), (sens + spec) / 2
    return best


def scores(y: np.ndarray, p: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, balanced accuracy, sensitivity, specificity, ROC AUC (from ``p``) and
    confusion counts of boolean predictions. A figure undefined for the data (e.g. the
    sensitivity of a group without positives) is None."""
    y = np.asarray(y).astype(int)
    predicted = np.asarray(predicted, dtype=bool)
    pos, neg = y == 1, y == 0
    tp, fn = int(np.sum(predicted & pos)), int(np.sum(~predicted & pos))
    tn, fp = int(np.sum(~predicted & neg)), int(np.sum(predicted & neg))
    sens = tp / (tp + fn) if tp + fn else None
    spec = tn / (tn + fp) if tn + fp else None
    defined = [v for v in (sens, spec) if v is not None]
    return {
        "accuracy": (tp + tn) / len(y) if len(y) else None,
        "balanced_accuracy": float(np.mean(defined)) if defined else None,
        "sensitivity": sens,
        "specificity": spec,
        "roc_auc": float(roc_auc_score(y, p)) if pos.any() and neg.any() else None,
        "confusion": {"tp": tp, "fn": fn, "tn": tn, "fp": fp},
        "n_spans": len(y),
        "n_positive": int(pos.sum()),
    }


def operating_point(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """:func:`scores` of probabilities ``p`` at ``threshold`` (positive when ``p >= threshold``)."""
    return {**scores(y, p, np.asarray(p) >= threshold), "threshold": float(threshold)}


@dataclass
class FitResult:
    """A trained, calibrated model with its operating point (from inner out-of-fold data)."""

    estimator: CalibratedClassifierCV
    threshold: float
    chosen: str
    candidate_auc: dict[str, float]
    inner_operating_point: dict = field(default_factory=dict)
    inner_cv: str = "grouped"

    def probability(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class for each row."""
        return self.estimator.predict_proba(X)[:, 1]


def check_classes(y: np.ndarray, what: str) -> None:
    if len(np.unique(y)) < 2:
        only = "positive" if np.all(y == 1) else "negative"
        raise InputError(f"{what}: every span is of the {only} class; training needs both "
                         "(check --positive and the label column)")


BLAS_THREADS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Variables that set the BLAS thread count; when one is set, training leaves it alone."""


def one_blas_thread(fit: Callable) -> Callable:
    """Run ``fit`` with one BLAS thread, unless the user set :data:`BLAS_THREADS_ENV`
    (module docstring)."""

    @functools.wraps(fit)
    def limited(*args, **kwargs):
        if any(os.environ.get(name) for name in BLAS_THREADS_ENV):
            return fit(*args, **kwargs)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fit(*args, **kwargs)

    return limited


@one_blas_thread
def fit_model(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *,
              target_sensitivity: float = TARGET_SENSITIVITY,
              only: str | None = None, progress: Progress | None = None) -> FitResult:
    """Select, fit, calibrate and threshold a model (the recipe in the module docstring).

    ``only`` restricts the search to one named candidate (personalisation keeps the base
    model's choice).
    """
    y = np.asarray(y).astype(int)
    check_classes(y, "training data")
    splits = group_splits(y, np.asarray(groups), INNER_FOLDS)
    inner_cv = "grouped"
    if any(len(np.unique(y[train])) < 2 for train, _ in splits):
        # too few groups with both classes (e.g. a lifter who never rounds among three):
        # select and calibrate on stratified rep folds instead; the outer CV stays grouped
        splits = group_splits(y, np.zeros(len(y)), INNER_FOLDS)
        inner_cv = "stratified reps (too few groups with both classes)"
    pool = candidates()
    if only is not None:
        if only not in pool:
            raise ModelError(f"unknown model candidate {only!r} (known: {', '.join(pool)})")
        pool = {only: pool[only]}
    aucs: dict[str, float] = {}
    oof: dict[str, np.ndarray] = {}
    for name, model in pool.items():
        oof[name] = _oof_scores(model, X, y, splits)
        aucs[name] = float(roc_auc_score(y, oof[name]))
        if progress:
            progress(name)
    chosen = max(aucs, key=lambda n: (aucs[n], -list(aucs).index(n)))
    calibrated = CalibratedClassifierCV(pool[chosen], method="sigmoid", cv=splits, ensemble=False)
    calibrated.fit(X, y)
    calibrator = calibrated.calibrated_classifiers_[0].calibrators[0]
    p_oof = calibrator.predict(oof[chosen])
    threshold = choose_threshold(y, p_oof, target_sensitivity)
    return FitResult(calibrated, threshold, chosen, aucs, operating_point(y, p_oof, threshold),
                     inner_cv)


@dataclass
class CvResult:
    """Outer cross-validation: pooled metrics, per-group figures, out-of-fold outputs."""

    metrics: dict
    per_group: dict[str, dict]
    probability: np.ndarray
    predicted: np.ndarray
    folds: list[dict]

    def to_json(self) -> dict:
        return {**self.metrics, "per_group": self.per_group, "folds": self.folds}


def per_group_metrics(y: np.ndarray, p: np.ndarray, predicted: np.ndarray,
                      groups: np.ndarray) -> dict[str, dict]:
    """:func:`scores` of each group (subject or session) separately."""
    return {str(g): scores(y[groups == g], p[groups == g], predicted[groups == g])
            for g in np.unique(groups)}


def cross_validate(X: np.ndarray, y: np.ndarray, groups: np.ndarray, *,
                   target_sensitivity: float = TARGET_SENSITIVITY,
                   progress: Progress | None = None) -> CvResult:
    """Nested grouped CV of :func:`fit_model`: every group is predicted by a model that
    never saw it (neither for fitting nor for choosing model, calibration, threshold).

    Metrics are pooled over all out-of-fold predictions, each at its own fold's threshold.
    """
    y = np.asarray(y).astype(int)
    groups = np.asarray(groups).astype(str)
    n_groups = len(np.unique(groups))
    if n_groups < 3:
        raise InputError(f"nested cross-validation needs at least 3 groups (subjects or "
                         f"sessions), got {n_groups}; label more lifters or use --group-by session")
    check_classes(y, "training data")
    p = np.full(len(y), np.nan)
    predicted = np.zeros(len(y), dtype=bool)
    folds = []
    for train, test in group_splits(y, groups, OUTER_FOLDS):
        counts = np.bincount(y[train], minlength=2)
        if counts.min() < 2:
            names = sorted(set(groups[test]))
            holds, them = (f"group {names[0]} holds", "it") if len(names) == 1 else (
                f"groups {', '.join(names)} hold", "them")
            if counts.min() == 0:
                raise InputError(f"{holds} every span of one class: cross-validation cannot "
                                 f"train without {them}")
            # (the inner folds' own error said "the smaller class has 1" of a file with 2)
            which = "positive" if counts[1] < counts[0] else "negative"
            raise InputError(f"{holds} all but 1 span of the {which} class: cross-validation "
                             f"cannot train on 1 without {them} (label more spans of that "
                             "class, from more subjects)")
        fit = fit_model(X[train], y[train], groups[train],
                        target_sensitivity=target_sensitivity, progress=progress)
        p[test] = fit.probability(X[test])
        predicted[test] = p[test] >= fit.threshold
        folds.append({"test_groups": sorted(set(groups[test])), "chosen": fit.chosen,
                      "threshold": fit.threshold})
    metrics = {**scores(y, p, predicted), "n_groups": n_groups}
    return CvResult(metrics, per_group_metrics(y, p, predicted, groups), p, predicted, folds)


def n_fits(n_groups: int) -> int:
    """Candidate evaluations :func:`cross_validate` + final :func:`fit_model` report to
    ``progress`` (for a progress bar's total)."""
    return (min(n_groups, OUTER_FOLDS) + 1) * len(candidates())
