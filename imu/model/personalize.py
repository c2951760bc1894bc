"""Personalisation: adapt a model to one lifter with a few dozen of their labelled reps.

Published deadlift work with IMUs (O'Reilly et al., J Biomech 2017) found classifiers
trained on other people poor and classifiers personalised to the lifter good. Here the
base model's training rows (kept inside every model file) are refitted together with the
lifter's own rows, repeated ``user_weight`` times (so they weigh as much as a sizeable
share of the base data), with the base model's chosen candidate, and the threshold is chosen on the pooled
out-of-fold probabilities for the standard target sensitivity (0.90) as in any training —
not the base model's own target: the shipped model's 0.97 makes up for the threshold
shift on lifters it has never seen, which a model that has seen the lifter does not need
(on simulated lifters kept out of training and benchmark, 0.90 gave +0.02 / +0.05 balanced
accuracy where inheriting 0.97 gave +0.01 / +0.01; docs/classifier.md). (A threshold chosen
on the lifter's ~25 reps alone was tried and dropped: with a handful of rounded reps it
moved too far, costing 0.06-0.13 of balanced accuracy on unseen simulated lifters.)
:func:`personal_cv` measures the result on the lifter's reps held out by group against
the base model on exactly the same reps.

The base rows answer the base model's question only, on the base model's lifts: they are
labelled for its positive label (``rounded``). Personalising for another label on a lift
the base model never saw (``--positive forward_lean`` on squats: :func:`uses_base_rows`)
fits the lifter's own rows alone; pooled, the base's rounded deadlifts were positives of
"forward lean" (docs/squat.md: 0.90 -> 1.00 median balanced accuracy on simulated
lifters). A label renamed on the base's own lifts (``bent`` for rounded deadlifts) pools.
"""

from __future__ import annotations

import numpy as np

from imu.errors import ModelError
from imu.model.classifier import RepClassifier
from imu.model.training import (
    TARGET_SENSITIVITY,
    FitResult,
    Progress,
    fit_model,
    group_splits,
    scores,
)

USER_PREFIX = "user:"
#: With fewer groups (sessions) than this, the lifter's reps are grouped into this many
#: consecutive blocks in time order for cross-validation.
MIN_USER_GROUPS = 3


def auto_user_weight(n_base: int, n_user: int) -> int:
    """Repeat the lifter's rows so they make about a fifth of the training weight (1..20)."""
    return int(np.clip(round(0.25 * n_base / max(n_user, 1)), 1, 20))


def user_groups(groups: np.ndarray) -> np.ndarray:
    """The lifter's groups for CV: their sessions, or consecutive blocks if too few."""
    groups = np.asarray(groups).astype(str)
    if len(np.unique(groups)) >= MIN_USER_GROUPS:
        return np.char.add(USER_PREFIX, groups)
    blocks = np.arange(len(groups)) * MIN_USER_GROUPS // max(len(groups), 1)
    return np.array([f"{USER_PREFIX}block{b}" for b in blocks])


def personal_target(target_sensitivity: float | None) -> float:
    """``target_sensitivity`` if given, else :data:`TARGET_SENSITIVITY` (module docstring)."""
    return TARGET_SENSITIVITY if target_sensitivity is None else target_sensitivity


def _base_data(base: RepClassifier) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if base.training_rows is None or len(base.training_rows) == 0:
        raise ModelError("the base model carries no training rows; it cannot be personalised")
    return (np.asarray(base.training_rows), np.asarray(base.training_labels).astype(int),
            np.asarray(base.training_groups).astype(str))


def uses_base_rows(base: RepClassifier, positive: str | None, lifts: set[str]) -> bool:
    """Whether personalising ``base`` to flag ``positive`` (None: the base's own label) on
    spans of ``lifts`` refits the base rows too: unless the label is another one and none
    of the lifts is one the base model was trained on (its manifest says which)."""
    from imu.model.lifts import trained_lifts

    if positive is None or positive == base.positive_label:
        return True
    known = trained_lifts(base.manifest)
    return not known or bool(set(lifts) & known)


def personalize(base: RepClassifier, rows: np.ndarray, y: np.ndarray, groups: np.ndarray, *,
                user_weight: int | None = None, target_sensitivity: float | None = None,
                progress: Progress | None = None,
                pooled: bool = True) -> tuple[FitResult, dict]:
    """Fit the personalised model. ``groups`` are the lifter's sessions (time-ordered rows).
    ``target_sensitivity`` None means the standard target (:func:`personal_target`).
    ``pooled`` False fits the lifter's rows alone (:func:`uses_base_rows`).

    Returns the fit and a description for the manifest (weights, row counts).
    """
    base_rows, base_y, base_groups = _base_data(base)
    if not pooled:
        base_rows, base_y, base_groups = base_rows[:0], base_y[:0], base_groups[:0]
    y = np.asarray(y).astype(int)
    weight = user_weight or auto_user_weight(len(base_rows), len(rows))
    mine = user_groups(groups)
    X = np.vstack([base_rows, np.repeat(rows, weight, axis=0)])
    yy = np.concatenate([base_y, np.repeat(y, weight)])
    gg = np.concatenate([base_groups, np.repeat(mine, weight)])
    fit = fit_model(X, yy, gg, target_sensitivity=personal_target(target_sensitivity),
                    only=base.manifest.get("chosen_model"), progress=progress)
    info = {"user_weight": weight, "n_user_spans": len(rows),
            "n_user_positive": int(y.sum()), "n_base_spans": len(base_rows)}
    return fit, info


def personal_cv(base: RepClassifier, rows: np.ndarray, y: np.ndarray, groups: np.ndarray, *,
                user_weight: int | None = None, target_sensitivity: float | None = None,
                progress: Progress | None = None, pooled: bool = True) -> dict:
    """Hold out each of the lifter's groups in turn: personalise on the rest, score the
    held-out reps; the base model scores the very same reps. Returns both figure sets.
    ``pooled``: as in :func:`personalize`."""
    y = np.asarray(y).astype(int)
    mine = user_groups(groups)
    p_personal = np.full(len(y), np.nan)
    predicted = np.zeros(len(y), dtype=bool)
    for train, test in group_splits(y, mine, max_folds=MIN_USER_GROUPS):
        fit, _ = personalize(base, rows[train], y[train], mine[train], user_weight=user_weight,
                             target_sensitivity=target_sensitivity, progress=progress,
                             pooled=pooled)
        p_personal[test] = fit.probability(rows[test])
        predicted[test] = p_personal[test] >= fit.threshold
    p_base = base.probability(rows)
    return {"personalised": {**scores(y, p_personal, predicted),
                             "n_groups": len(np.unique(mine))},
            "base": {**scores(y, p_base, p_base >= base.threshold),
                     "n_groups": len(np.unique(mine))}}
