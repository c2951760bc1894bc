"""The numpy predictor equals scikit-learn's predict_proba; other models keep sklearn;
the engine hook keeps its history's features across calls without changing a probability."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GroupKFold
from test_model_fakes import fake_lifters

from imu.model import load_model
from imu.model.classifier import RepClassifier
from imu.model.features import RAW_FEATURES, input_names, model_row, model_rows
from imu.model.predictor import numpy_predictor
from imu.model.training import candidates


@pytest.fixture(scope="module")
def default_model() -> RepClassifier:
    return load_model()


@pytest.fixture(scope="module")
def sessions():
    return fake_lifters(4, reps_per_lifter=24, seed=11)


def session_rows(sessions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.vstack([model_rows(reps) for _, reps, _ in sessions])
    y = np.concatenate([yy for *_, yy in sessions])
    groups = np.concatenate([[name] * len(reps) for name, reps, _ in sessions])
    return X, y, groups


def test_default_model_compiles_and_equals_predict_proba(default_model, sessions):
    predict = numpy_predictor(default_model.estimator)
    assert predict is not None
    X = session_rows(sessions)[0]
    X[::7, 5] = np.nan                       # unknown features: the imputer's statistics
    X[::5, len(RAW_FEATURES):] = np.nan      # first reps of a session: the prior
    expected = default_model.estimator.predict_proba(X)[:, 1]
    np.testing.assert_allclose(predict(X), expected, rtol=0, atol=1e-15)
    for i in range(0, len(X), 9):           # the engine's one-row calls
        np.testing.assert_allclose(predict(X[i:i + 1]), expected[i:i + 1], rtol=0, atol=1e-15)
    assert 0.05 < expected.mean() < 0.95     # the rows exercise both classes' range


def test_infinite_input_is_left_to_scikit_learn(default_model, sessions):
    X = session_rows(sessions)[0][:3]
    X[1, 0] = np.inf
    assert numpy_predictor(default_model.estimator)(X) is None
    with pytest.raises(ValueError, match="infinity"):
        default_model.probability(X)         # exactly as before the numpy predictor


def fitted(sessions, name: str, method: str = "sigmoid") -> CalibratedClassifierCV:
    X, y, groups = session_rows(sessions)
    splits = list(GroupKFold(n_splits=2).split(X, y, groups))
    return CalibratedClassifierCV(candidates()[name], method=method, cv=splits,
                                  ensemble=False).fit(X, y)


@pytest.mark.parametrize("name, method", [("forest_leaf5", "sigmoid"),
                                          ("logistic_C1", "isotonic")])
def test_other_models_keep_scikit_learn(sessions, name, method):
    estimator = fitted(sessions, name, method)
    assert numpy_predictor(estimator) is None
    X = session_rows(sessions)[0]
    model = RepClassifier(estimator, 0.5)
    np.testing.assert_array_equal(model.probability(X), estimator.predict_proba(X)[:, 1])


def test_ensemble_of_calibrated_folds_is_averaged(sessions):
    X, y, groups = session_rows(sessions)
    splits = list(GroupKFold(n_splits=3).split(X, y, groups))
    estimator = CalibratedClassifierCV(candidates()["logistic_C1"], method="sigmoid",
                                       cv=splits, ensemble=True).fit(X, y)
    assert len(estimator.calibrated_classifiers_) == 3
    np.testing.assert_allclose(numpy_predictor(estimator)(X),
                               estimator.predict_proba(X)[:, 1], rtol=0, atol=1e-15)


def test_classify_equals_model_row_whatever_the_history_sequence(default_model, sessions):
    """The engine's pattern: growing history, a provisional call with a pending excursion
    that is later withdrawn (history shrinks), another session, a repeated call."""
    (_, first, _), (_, second, _) = sessions[:2]
    calls = [(first[i], first[:i]) for i in range(6)]
    calls += [(first[7], [*first[:6], first[6]]), (first[6], first[:6]), (first[7], first[:7])]
    calls += [(second[i], second[:i]) for i in range(4)] + [(first[9], first[:9])] * 2
    model = RepClassifier(default_model.estimator, default_model.threshold)
    for record, history in calls:
        expected = default_model.estimator.predict_proba(model_row(record, history)[None])[0, 1]
        p, flag = model.classify(record, history)
        assert p == pytest.approx(expected, rel=0, abs=1e-15)
        assert flag == (p >= default_model.threshold)


def test_cached_model_rows_equal_model_row_to_the_bit(default_model, sessions):
    """The engine's pattern (a provisional call that sees the pending rep as history, then
    the pending rep confirmed with one rep less, then the next), a set break, a history
    that changes in the middle, another session, and a repeated call."""
    (_, first, _), (_, second, _) = sessions[:2]
    first = [dict(r) for r in first]
    for record in first[12:]:                 # a new set after a long rest
        record["start_s"] += 60.0
        record["end_s"] += 60.0
        record["bottom_s"] += 60.0
    calls = []
    for i in range(1, 16):
        calls += [(first[i], first[:i]), (first[i - 1], first[:i - 1])]
    edited = [*first[:5], *second[5:10]]     # same times, other values
    calls += [(first[10], first[:10]), (first[10], edited), (first[11], first[:11]),
              (first[10], first[:10]), (second[3], second[:3]),
              (first[9], first[:9]), (first[9], first[:9])]
    model = RepClassifier(default_model.estimator, default_model.threshold)
    for record, history in calls:
        expected = model_row(record, history)
        got = model.model_row(record, history)
        np.testing.assert_array_equal(got.view(np.int64), expected.view(np.int64))


def test_classify_session_equals_rep_by_rep(default_model, sessions):
    _, reps, _ = sessions[2]
    p_all, flags = default_model.classify_session(reps)
    model = RepClassifier(default_model.estimator, default_model.threshold)
    for i, record in enumerate(reps):
        p, flag = model.classify(record, reps[:i])
        assert p == pytest.approx(p_all[i], rel=0, abs=1e-12) and flag == flags[i]
    assert len(input_names()) == model_rows(reps).shape[1]
