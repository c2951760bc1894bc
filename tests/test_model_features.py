"""Rep features and the lifter's baseline: hand-computed values, streaming safety."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_model_fakes import fake_lifters

from imu.model.baseline import BaselineDeviation
from imu.model.features import (
    RAW_FEATURES,
    _slope,
    feature_names,
    input_names,
    median_columns,
    model_row,
    model_rows,
    rep_features,
    set_start,
)


def triangle_record() -> dict:
    """Flexion rises linearly 0 -> 60 deg over 2 s, falls back to 0 over 1 s (every 0.25 s)."""
    grid = np.linspace(0.0, 3.0, 13)
    flexion = np.where(grid <= 2.0, 30.0 * grid, 60.0 - 60.0 * (grid - 2.0))
    return {"start_s": 10.0, "bottom_s": 12.0, "end_s": 13.0, "peak_flexion_deg": 60.0,
            "descent_s": 2.0, "ascent_s": 1.0, "smoothness": None,
            "trace": {"flexion_deg": flexion.tolist()}}


def test_features_of_a_hand_made_rep():
    values = dict(zip(RAW_FEATURES, rep_features(triangle_record())))
    assert values["duration_s"] == pytest.approx(3.0)
    assert values["peak_flexion_deg"] == 60.0
    assert np.isnan(values["smoothness"]) and np.isnan(values["twist_range_deg"])
    # at 30 % of 3 s = 0.9 s: 27 deg; at 90 % = 2.7 s: 60 - 42 = 18 deg
    assert values["flexion_at_30pct_deg"] == pytest.approx(27.0)
    assert values["flexion_at_90pct_deg"] == pytest.approx(18.0)
    # first quarter of the 1 s ascent: 60 -> 45 deg in 0.25 s = 60 deg/s of extension
    assert values["early_pull_extension_deg_s"] == pytest.approx(60.0)
    # a straight-line pull has done 20/40/60 % of its extension after 20/40/60 % of the time
    for pct in (20, 40, 60):
        assert values[f"extension_done_at_{pct}pct_ascent"] == pytest.approx(pct / 100)
    assert np.isnan(values["log_twist_range"])                        # unknown range
    assert np.isnan(values["twist_shift_at_peak_deg"])                # no twist trace


def test_range_relative_shape_ignores_angle_offset_and_scale():
    values = dict(zip(RAW_FEATURES, rep_features(triangle_record())))
    # ends at 0 deg, peak 60 deg: 27 deg at 30 % is 0.45 of the range, 18 deg at 90 % is 0.3
    assert values["flexion_at_30pct_of_range"] == pytest.approx(0.45)
    assert values["flexion_at_90pct_of_range"] == pytest.approx(0.3)
    shifted = triangle_record()
    shifted["trace"]["flexion_deg"] = [8.0 + 1.1 * v for v in shifted["trace"]["flexion_deg"]]
    moved = dict(zip(RAW_FEATURES, rep_features(shifted)))
    for pct in range(10, 100, 10):
        name = f"flexion_at_{pct}pct_of_range"
        assert moved[name] == pytest.approx(values[name])
    assert moved["flexion_at_30pct_deg"] == pytest.approx(8.0 + 1.1 * 27.0)  # degrees do move
    flat = triangle_record()
    flat["trace"]["flexion_deg"] = [0.05 * v for v in flat["trace"]["flexion_deg"]]  # 3 deg range
    assert np.isnan(dict(zip(RAW_FEATURES, rep_features(flat)))["flexion_at_50pct_of_range"])


def test_missing_trace_gives_nan_shape_not_an_error():
    record = triangle_record()
    del record["trace"]
    values = dict(zip(RAW_FEATURES, rep_features(record)))
    assert np.isnan(values["flexion_at_50pct_deg"]) and values["peak_flexion_deg"] == 60.0


def test_rows_of_a_session_equal_rep_by_rep_rows():
    (_, reps, _), = fake_lifters(1, reps_per_lifter=8, seed=3)
    rows = model_rows(reps)
    assert rows.shape == (8, len(input_names()))
    for i in range(8):
        np.testing.assert_array_equal(rows[i], model_row(reps[i], reps[:i]))
    f = len(RAW_FEATURES)
    assert rows[0, 2 * f] == 0 and rows[0, -1] == 0
    assert np.all(np.isnan(rows[0, f:2 * f])) and np.all(np.isnan(rows[0, 2 * f + 1:-1]))
    peak = RAW_FEATURES.index("peak_flexion_deg")
    earlier = [r["peak_flexion_deg"] for r in reps[:5]]
    assert rows[5, f + peak] == pytest.approx(np.median(earlier))
    assert rows[5, 2 * f] == 5 and rows[5, -1] == 5     # 5 s apart: all in one set


def test_set_baseline_uses_only_the_current_set():
    reps = [{"start_s": t, "end_s": t + 2.0} for t in (0.0, 4.0, 8.0, 60.0, 64.0)]
    assert set_start(reps[:3], 12.0) == 0          # gaps of 2 s: one set
    assert set_start(reps[:3], 30.0) == 3          # 20 s after the last rep: a new set
    assert set_start(reps[:5], 68.0) == 3          # the set that began at 60 s
    assert set_start([], 5.0) == 0


def row(raw, session, n, same_set, n_set) -> np.ndarray:
    return np.concatenate([raw, session, [float(n)], same_set, [float(n_set)]])


def test_baseline_blends_prior_and_history_median():
    f = len(RAW_FEATURES)
    raw = np.arange(f, dtype=float)
    unknown = np.full(f, np.nan)
    X = np.vstack([row(raw + 10.0, unknown, 0, unknown, 0),     # first rep of a session
                   row(raw + 10.0, raw + 4.0, 3, raw + 8.0, 1),  # 3 earlier reps, 1 in set
                   row(raw, raw, 5, unknown, 0)])
    y = np.array([1, 0, 0])
    step = BaselineDeviation(prior_weight=3.0, set_weight=1.0).fit(X, y)
    # prior = median raw of the non-positive rows: (raw + 10 + raw) / 2 = raw + 5
    np.testing.assert_allclose(step.prior_, raw + 5.0)
    out = step.transform(X)
    assert out.shape == (3, 3 * f) and len(feature_names()) == 3 * f
    np.testing.assert_allclose(out[:, :f], X[:, :f])
    np.testing.assert_allclose(out[0, f:], 5.0)                  # prior only: 10 - 5, twice
    baseline = raw + (3 * 5.0 + 3 * 4.0) / 6                     # 50/50 blend: raw + 4.5
    np.testing.assert_allclose(out[1, f:2 * f], raw + 10.0 - baseline)
    set_baseline = (1 * baseline + 1 * (raw + 8.0)) / 2           # raw + 6.25
    np.testing.assert_allclose(out[1, 2 * f:], raw + 10.0 - set_baseline)
    np.testing.assert_allclose(out[2, f:2 * f], 0.0 - (3 * 5.0 + 5 * 0.0) / 8)
    np.testing.assert_allclose(out[2, 2 * f:], out[2, f:2 * f])  # no set history


def test_rounded_first_reps_do_not_hide_later_rounded_reps():
    """A session that opens with two rounded reps: the prior keeps the baseline near the
    population's good reps, so a later rounded rep still deviates clearly."""
    f = len(RAW_FEATURES)
    peak = RAW_FEATURES.index("peak_flexion_deg")
    good, rounded, unknown = np.full(f, 50.0), np.full(f, 60.0), np.full(f, np.nan)
    train = np.vstack([row(good, unknown, 0, unknown, 0)] * 4)
    step = BaselineDeviation().fit(train, np.zeros(4))
    history = np.median(np.vstack([rounded, rounded, good]), axis=0)   # 2 rounded of 3
    deviation = step.transform(row(rounded, history, 3, unknown, 0)[None])[0, f + peak]
    assert deviation == pytest.approx(60.0 - (3 * 50.0 + 3 * 60.0) / 6)   # 5 deg, not 0


@given(arrays(np.float64, st.tuples(st.integers(0, 9), st.integers(1, 4)),
              elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan), st.just(np.inf),
                                 st.just(-np.inf), st.sampled_from([0.0, 1.0, 2.5]))))
def test_column_medians_equal_nanmedian_to_the_bit(matrix):
    """The sort-based medians of the baseline equal numpy's nanmedian exactly (ties,
    infinities, NaN-only and empty columns included)."""
    expected = np.full(matrix.shape[1], np.nan)
    known = np.isfinite(matrix).any(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if known.any():
            expected[known] = np.nanmedian(matrix[:, known], axis=0)
    np.testing.assert_array_equal(median_columns(matrix), expected)


def test_column_medians_by_hand():
    matrix = np.array([[3.0, np.nan, np.inf], [1.0, np.nan, 2.0], [np.nan, np.nan, 4.0],
                       [2.0, np.nan, np.nan], [10.0, np.nan, np.nan]])
    np.testing.assert_array_equal(median_columns(matrix), [2.5, np.nan, 4.0])
    np.testing.assert_array_equal(median_columns(np.empty((0, 2))), [np.nan, np.nan])


@given(st.integers(3, 260), st.integers(0, 2**32 - 1))
def test_slope_equals_numpy_gradient_to_the_bit(n, seed):
    """The flexion slope with cached grid weights is np.gradient on the trace's grid."""
    trace = np.random.default_rng(seed).normal(40.0, 20.0, n)
    expected = np.gradient(trace, np.linspace(0.0, 1.0, n))
    np.testing.assert_array_equal(_slope(trace).view(np.int64), expected.view(np.int64))
