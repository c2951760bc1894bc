"""Model selection, calibration, threshold and nested grouped CV on synthetic rep rows."""

from __future__ import annotations

import numpy as np
import pytest
from test_model_fakes import fake_lifters, fake_rep

from imu.errors import InputError
from imu.model.classifier import RepClassifier
from imu.model.features import model_row, model_rows
from imu.model.personalize import personal_cv, personal_target, personalize, user_groups
from imu.model.training import (
    choose_threshold,
    cross_validate,
    fit_model,
    group_splits,
    operating_point,
)


def dataset(n_lifters: int, reps: int = 24, seed: int = 0):
    data = fake_lifters(n_lifters, reps, seed=seed)
    X = np.vstack([model_rows(r) for _, r, _ in data])
    y = np.concatenate([yy for *_, yy in data])
    groups = np.concatenate([[name] * len(r) for name, r, _ in data])
    return X, y, groups


@pytest.fixture(scope="module")
def five_lifters():
    return dataset(5)


def test_operating_point_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.2, 0.7, 0.3, 0.1, 0.05])
    m = operating_point(y, p, 0.5)
    assert m["confusion"] == {"tp": 2, "fn": 1, "tn": 3, "fp": 1}
    assert m["sensitivity"] == pytest.approx(2 / 3) and m["specificity"] == pytest.approx(3 / 4)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["roc_auc"] == pytest.approx(9 / 12)   # 4 + 3 + 2 of the 12 (pos, neg) pairs ordered


def test_threshold_reaches_the_target_sensitivity_with_best_balance():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05])
    # sensitivity >= 0.9 needs all 4 positives: cut at or below 0.3 -> between 0.2 and 0.3
    assert choose_threshold(y, p, 0.9) == pytest.approx(0.25)
    # 0.75 allows the cut above 0.6: 3/4 positives, 4/4 negatives
    assert choose_threshold(y, p, 0.75) == pytest.approx(0.65)


def test_group_splits_never_share_a_group():
    y = np.tile([0, 1], 30)
    groups = np.repeat([f"g{i}" for i in range(12)], 5)
    for max_folds, expected in ((20, 12), (4, 4)):
        splits = group_splits(y, groups, max_folds)
        assert len(splits) == expected
        covered = np.concatenate([test for _, test in splits])
        assert sorted(covered) == list(range(60))
        for train, test in splits:
            assert not set(groups[train]) & set(groups[test])


def test_fit_model_calibrates_and_thresholds(five_lifters):
    X, y, groups = five_lifters
    fit = fit_model(X, y, groups)
    assert fit.chosen in fit.candidate_auc
    assert fit.inner_operating_point["sensitivity"] >= 0.9
    p = fit.probability(X)
    assert np.all((p >= 0) & (p <= 1))
    # calibrated: mean probability close to the positive rate of the training data
    assert abs(p.mean() - y.mean()) < 0.1


def test_nested_cv_scores_unseen_lifters_well_on_separable_fakes():
    X, y, groups = dataset(4, reps=20)
    cv = cross_validate(X, y, groups)
    assert cv.metrics["n_groups"] == 4 and cv.metrics["n_spans"] == len(y)
    assert cv.metrics["balanced_accuracy"] > 0.9 and cv.metrics["sensitivity"] >= 0.8
    assert set(cv.per_group) == set(groups)
    assert [f["test_groups"] for f in cv.folds] == [[g] for g in sorted(set(groups))]
    assert np.all(np.isfinite(cv.probability))


def test_labels_shuffled_within_lifter_score_at_chance(five_lifters):
    """Control: the same machinery on labels with no signal must not look good."""
    X, y, groups = five_lifters
    rng = np.random.default_rng(1)
    shuffled = y.copy()
    for g in np.unique(groups):
        m = groups == g
        shuffled[m] = rng.permutation(y[m])
    fit = fit_model(X, shuffled, groups)
    assert max(fit.candidate_auc.values()) < 0.7


def test_too_few_groups_or_one_class_is_a_clear_error(five_lifters):
    X, y, groups = five_lifters
    two = np.isin(groups, ["lifter0", "lifter1"])
    with pytest.raises(InputError, match="at least 3 groups"):
        cross_validate(X[two], y[two], groups[two])
    with pytest.raises(InputError, match="every span is of the negative class"):
        fit_model(X, np.zeros_like(y), groups)


def test_user_groups_are_sessions_or_time_blocks():
    assert user_groups(np.array(["a", "b", "c", "a"])).tolist() == [
        "user:a", "user:b", "user:c", "user:a"]
    assert user_groups(np.array(["s"] * 6)).tolist() == [
        "user:block0", "user:block0", "user:block1", "user:block1", "user:block2", "user:block2"]


@pytest.mark.slow
def test_personalisation_is_no_worse_for_a_lifter_unlike_the_training_lifters():
    """Base lifters round with +7..13 deg; this lifter rounds subtly (about 5 deg less,
    slower unrounding, less twist) from a very deep hinge. Personalised on their own reps
    (held out by block), the model must score them at least as well as the base model."""
    X, y, groups = dataset(6, reps=24, seed=5)
    fit = fit_model(X, y, groups)
    base = RepClassifier(fit.estimator, fit.threshold, {"chosen_model": fit.chosen}, X, y, groups)
    from test_model_fakes import fake_rep

    rng = np.random.default_rng(9)
    labels = (rng.random(36) < 0.3).astype(int)
    labels[:3] = 0
    reps = [fake_rep(rng, 80.0, bool(r), 5.0 * k) for k, r in enumerate(labels)]
    for rep, r in zip(reps, labels):
        if r:   # subtle rounding: undo part of the fake generator's shift
            for key in ("peak_flexion_deg", "liftoff_flexion_deg"):
                rep[key] -= 5.0
            rep["peak_extension_velocity_deg_s"] *= 0.85
            rep["twist_range_deg"] -= 1.0
    rows = model_rows(reps)
    result = personal_cv(base, rows, labels, np.array(["s1"] * 36))
    assert result["personalised"]["balanced_accuracy"] >= result["base"]["balanced_accuracy"]
    assert result["personalised"]["n_spans"] == result["base"]["n_spans"] == 36


def test_personalisation_uses_the_standard_target_not_the_base_models(five_lifters):
    """A base model trained for sensitivity >= 0.97 is personalised for the standard 0.90
    (docs/classifier.md, personalisation), or for a target given. 10 % of the labels are
    flipped so that the two targets need different thresholds."""
    X, y, groups = five_lifters
    y = np.where(np.random.default_rng(1).random(len(y)) < 0.1, 1 - y, y)
    fit = fit_model(X, y, groups, target_sensitivity=0.97)
    base = RepClassifier(fit.estimator, fit.threshold,
                         {"chosen_model": fit.chosen, "target_sensitivity": 0.97}, X, y, groups)
    assert personal_target(None) == 0.90 and personal_target(0.8) == 0.8
    mine = groups == "lifter0"
    standard, _ = personalize(base, X[mine], y[mine], np.array(["s1"] * int(mine.sum())))
    strict, _ = personalize(base, X[mine], y[mine], np.array(["s1"] * int(mine.sum())),
                            target_sensitivity=0.97)
    assert strict.inner_operating_point["sensitivity"] >= 0.97
    assert standard.inner_operating_point["sensitivity"] < 0.97
    assert standard.threshold > strict.threshold


def _blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def test_fitting_runs_on_one_blas_thread_unless_the_user_set_the_count(monkeypatch):
    from threadpoolctl import threadpool_limits

    from imu.model.training import BLAS_THREADS_ENV

    data = fake_lifters(3, 10, seed=4)
    X = np.vstack([model_rows(r) for _, r, _ in data])
    y = np.concatenate([yy for *_, yy in data])
    groups = np.concatenate([[n] * len(r) for n, r, _ in data])
    for name in BLAS_THREADS_ENV:
        monkeypatch.delenv(name, raising=False)
    seen: list[int] = []
    with threadpool_limits(limits=2, user_api="blas"):
        fit_model(X, y, groups, only="logistic_C1", progress=lambda _: seen.append(_blas_threads()))
        assert seen == [1] and _blas_threads() == 2  # the caller's count is back afterwards
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
        fit_model(X, y, groups, only="logistic_C1", progress=lambda _: seen.append(_blas_threads()))
    assert seen == [1, 2]


def test_personalising_for_another_label_fits_the_lifters_rows_alone(five_lifters):
    """The base rows are labelled for the base model's positive label (rounded) on its own
    lifts; personalised to flag another one on a lift it never saw (forward_lean on
    squats) the model is fitted on the lifter's rows alone, as a plain fit on them would
    be; a label renamed on the base's lifts (bent deadlifts) pools as before."""
    from imu.model.personalize import uses_base_rows

    X, y, groups = five_lifters
    fit = fit_model(X, y, groups)
    trained = {"training_files": [{"sessions": [{"options": {}}, {"options": {"lift": "rdl"}}]}]}
    manifest = {"chosen_model": fit.chosen, "positive_label": "rounded", **trained}
    base = RepClassifier(fit.estimator, fit.threshold, manifest, X, y, groups)
    assert uses_base_rows(base, None, {"squat"}) and uses_base_rows(base, "rounded", {"squat"})
    assert uses_base_rows(base, "bent", {"deadlift"}) and uses_base_rows(base, "bent", {"rdl"})
    assert not uses_base_rows(base, "forward_lean", {"squat"})
    mine = groups == "lifter0"
    rows, lean = X[mine], 1 - y[mine]  # another question: its answer is not the base's
    sessions = np.array(["s1", "s2", "s3"] * int(mine.sum()))[: int(mine.sum())]
    own, info = personalize(base, rows, lean, sessions, pooled=False)
    alone = fit_model(rows, lean, user_groups(sessions), target_sensitivity=0.90,
                      only=fit.chosen)
    assert info["n_base_spans"] == 0 and info["user_weight"] == 1
    np.testing.assert_allclose(own.probability(rows), alone.probability(rows))
    assert own.threshold == alone.threshold
    _, pooled = personalize(base, rows, lean, sessions)
    assert pooled["n_base_spans"] == len(X)


def _cv_covers_each_group_once(cv, groups: np.ndarray) -> None:
    tested = [g for fold in cv.folds for g in fold["test_groups"]]
    assert sorted(tested) == sorted(set(groups))  # every lifter scored once, as unseen
    assert np.all(np.isfinite(cv.probability))


def test_cv_by_subject_with_a_handful_of_lifters_and_a_couple_of_sets_each():
    """4 lifters with 2 sets of 5 reps each (fake rows, known truth); one lifter never
    rounds and another rounds only in the second set: every lifter is still scored by
    a model that never saw them, and well."""
    rng = np.random.default_rng(12)
    truth = {"a": [0, 0, 1, 0, 1, 0, 1, 0, 0, 1], "b": [0] * 10,
             "c": [0, 0, 0, 0, 0, 0, 1, 1, 0, 1], "d": [0, 1, 0, 1, 1, 0, 0, 1, 0, 0]}
    X, y, groups = [], [], []
    for name, labels in truth.items():
        peak = rng.uniform(40.0, 75.0)
        starts = [10.0 + 5.0 * k + (90.0 if k >= 5 else 0.0) for k in range(10)]  # 2 sets
        records = [fake_rep(rng, peak, bool(r), s) for r, s in zip(labels, starts, strict=True)]
        X.append(model_rows(records))
        y += labels
        groups += [name] * len(labels)
    X, y, groups = np.vstack(X), np.array(y), np.array(groups)
    cv = cross_validate(X, y, groups)
    assert cv.metrics["n_groups"] == 4 and cv.metrics["n_spans"] == 40
    _cv_covers_each_group_once(cv, groups)
    assert cv.metrics["balanced_accuracy"] >= 0.8


def test_cv_by_subject_with_many_lifters_and_a_few_single_bend_trials_each():
    """14 lifters with 2-3 trials of one bend each (no earlier rep in its recording:
    no baseline of the lifter; fake rows, known truth): 10 folds of whole lifters,
    every lifter scored once by a model that never saw them, well above chance."""
    rng = np.random.default_rng(5)
    X, y, groups = [], [], []
    for i in range(14):
        peak = rng.uniform(40.0, 75.0)
        for _ in range(int(rng.integers(2, 4))):
            rounded = bool(rng.random() < 0.35)
            X.append(model_row(fake_rep(rng, peak, rounded, 3.0), []))
            y.append(int(rounded))
            groups.append(f"lifter{i}")
    X, y, groups = np.vstack(X), np.array(y), np.array(groups)
    cv = cross_validate(X, y, groups)
    assert cv.metrics["n_groups"] == 14 and len(cv.folds) == 10
    _cv_covers_each_group_once(cv, groups)
    assert cv.metrics["balanced_accuracy"] >= 0.8


def test_a_group_holding_every_rounded_span_is_named_in_one_sentence():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = np.zeros(40, dtype=int)
    y[:4] = 1  # every rounded span is lifter A's
    groups = np.array(["A"] * 10 + ["B"] * 10 + ["C"] * 10 + ["D"] * 10)
    with pytest.raises(InputError) as caught:
        cross_validate(X, y, groups)
    assert str(caught.value) == ("group A holds every span of one class: cross-validation "
                                 "cannot train without it")
    y[:4] = 0
    y[[0, 10]] = 1  # two rounded spans, lifters A and B: without A, one is left
    with pytest.raises(InputError) as caught:
        cross_validate(X, y, groups)
    assert str(caught.value) == (
        "group A holds all but 1 span of the positive class: cross-validation cannot train "
        "on 1 without it (label more spans of that class, from more subjects)")


def test_cv_by_subject_with_a_handful_of_lifters_and_few_rounded_trials_says_nothing_odd():
    """6 lifters with 3 single-bend trials each, 4 rounded among them (fake rows, known
    truth): fewer rounded spans than inner folds. Every lifter is scored once by a model
    that never saw them, and no Python warning reaches the user (scikit-learn's notice
    that a class has fewer members than folds printed two lines per fit)."""
    import warnings

    rng = np.random.default_rng(8)
    rounded = {"a": [1, 0, 0], "b": [0, 0, 0], "c": [0, 1, 0], "d": [0, 0, 0],
               "e": [1, 0, 1], "f": [0, 0, 0]}
    X, y, groups = [], [], []
    for name, labels in rounded.items():
        peak = rng.uniform(40.0, 75.0)
        for r in labels:
            X.append(model_row(fake_rep(rng, peak, bool(r), 3.0), []))
            y.append(r)
            groups.append(name)
    X, y, groups = np.vstack(X), np.array(y), np.array(groups)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cv = cross_validate(X, y, groups)
    # a socket another test in this worker left to the garbage collector (fake BlueZ) may
    # say so here: not the training's
    said = [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)]
    assert said == []
    assert cv.metrics["n_groups"] == 6 and cv.metrics["n_spans"] == 18
    _cv_covers_each_group_once(cv, groups)


@pytest.mark.parametrize("n_subjects, n_rounded", [(6, 3), (12, 4)])
def test_cv_by_subject_with_one_trial_per_subject(n_subjects, n_rounded):
    """One single-bend trial per subject (fake rows, known truth): fewer spans of either
    class than folds (inner 4 when 5 subjects train, outer 10 of 12 subjects) made
    scikit-learn raise a ValueError out of imu train. Each subject is scored once, by a
    model that never saw them."""
    rng = np.random.default_rng(n_subjects)
    y = np.array([1] * n_rounded + [0] * (n_subjects - n_rounded))
    X = np.vstack([model_row(fake_rep(rng, rng.uniform(40.0, 75.0), bool(r), 3.0), [])
                   for r in y])
    groups = np.array([f"S{k}" for k in range(n_subjects)])
    cv = cross_validate(X, y, groups)
    assert cv.metrics["n_spans"] == n_subjects
    _cv_covers_each_group_once(cv, groups)
