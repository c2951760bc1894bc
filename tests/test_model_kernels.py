"""The compiled per-rep features (imu.model.kernels) equal imu.model.features' numpy
definitions to the bit: random traces and baselines, NaN, infinities, ties, signed zeros."""

from __future__ import annotations

import numpy as np
import pytest

from imu.model import features, kernels


def _bits(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).view(np.int64)


def _rep(rng: np.random.Generator, n: int) -> tuple:
    """A bend-shaped trace of ``n`` points with noise, its twist and rep times (some odd)."""
    x = np.linspace(0.0, 1.0, n)
    depth = rng.choice([2.0, 40.0, 80.0])
    trace = depth * np.sin(np.pi * x ** rng.uniform(0.5, 2.0)) + rng.normal(0, 1.5, n)
    if rng.random() < 0.2:
        trace = np.round(trace)  # ties: several equal maxima and slope minima
    twist = rng.normal(0, 3, rng.choice([n, 2, 7]))
    start_s = rng.uniform(0, 100)
    end_s = start_s + rng.choice([rng.uniform(0.5, 4.0), 0.0, -1.0])
    bottom_s = start_s + (end_s - start_s) * rng.choice([rng.uniform(0, 1), 0.0, 1.0, -0.2])
    return start_s, end_s, bottom_s, trace, twist


@pytest.mark.parametrize("seed", range(6))
def test_trace_features_equal_numpy_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        start_s, end_s, bottom_s, trace, twist = _rep(rng, int(rng.integers(3, 90)))
        if rng.random() < 0.1:
            trace[rng.integers(len(trace))] = rng.choice([np.nan, np.inf])
        if rng.random() < 0.1:
            twist[0] = np.nan
        if rng.random() < 0.05:
            bottom_s = np.nan
        expected = features.trace_features(start_s, end_s, bottom_s, trace, twist)
        got = kernels.trace_features(start_s, end_s, bottom_s, trace, twist)
        np.testing.assert_array_equal(_bits(got), _bits(expected))


def test_trace_features_of_a_hand_made_rep():
    """A triangle 0 -> 60 -> 0 deg over 2 s (bottom at 1 s): the early pull falls 15 deg
    in 0.25 s of ascent (60 deg/s), the extension is done in equal shares."""
    trace = np.concatenate([np.linspace(0, 60, 26), np.linspace(60, 0, 26)[1:]])
    got = kernels.trace_features(0.0, 2.0, 1.0, trace, np.zeros(51))
    assert got[0] == pytest.approx(60.0)
    np.testing.assert_allclose(got[4:7], [0.2, 0.4, 0.6])
    np.testing.assert_allclose(got[7:16], [12, 24, 36, 48, 60, 48, 36, 24, 12])
    assert got[3] == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_baseline_columns_equal_numpy_to_the_bit(seed):
    rng = np.random.default_rng(100 + seed)
    f = 6
    held = kernels.SortedColumns(f)
    rows = np.empty((0, f))
    for _ in range(120):
        row = rng.normal(size=f)
        row[rng.random(f) < 0.15] = np.nan
        row[rng.random(f) < 0.05] = np.inf
        row[1] = np.round(row[1])  # ties
        if seed % 2:
            row[2] = rng.choice([0.0, -0.0, 1.0])  # zeros of both signs: numpy decides
        rows = np.vstack([rows, row])
        held.append(row)
        first = int(rng.integers(0, len(rows) + 1))
        expected = features.baseline_columns(rows, first)
        for session in (held, None):
            got = kernels.baseline_columns(rows, first, session)
            np.testing.assert_array_equal(_bits(got), _bits(expected))


def test_baseline_of_no_earlier_rep_and_by_hand():
    np.testing.assert_array_equal(kernels.baseline_columns(np.empty((0, 2)), 0),
                                  [np.nan, np.nan, 0.0, np.nan, np.nan, 0.0])
    rows = np.array([[1.0, np.nan], [4.0, np.nan], [2.0, 5.0], [3.0, np.nan]])
    held = kernels.SortedColumns(2)
    held.reset(rows)
    np.testing.assert_array_equal(kernels.baseline_columns(rows, 2, held),
                                  [2.5, 5.0, 4.0, 2.5, 5.0, 2.0])


def test_sorted_columns_reset_and_growth():
    rng = np.random.default_rng(7)
    rows = rng.normal(size=(200, 3))   # past the initial capacity of 64 rows
    held = kernels.SortedColumns(3)
    held.reset(rows[:150])
    held.reset(rows[:90])
    assert held.rows == 90
    median = np.median(rows[:90], axis=0)
    np.testing.assert_array_equal(kernels.baseline_columns(rows[:90], 0, held),
                                  [*median, 90.0, *median, 90.0])


def test_standard_rows_equal_the_compiled_steps_to_the_bit():
    """Baseline, imputer and scaler of the default model in one kernel: random model rows
    with unknown medians, no earlier reps, NaN features; an infinity is refused (None)."""
    from imu.model import load_model

    member = load_model().compiled.members[0]
    baseline, impute, standardise = member.steps
    rng = np.random.default_rng(3)
    f = len(features.RAW_FEATURES)
    rows = rng.normal(size=(300, 3 * f + 2)) * 20
    rows[:, 2 * f] = rng.integers(0, 4, 300)
    rows[:, 3 * f + 1] = rng.integers(0, 3, 300)
    rows[rng.random(rows.shape) < 0.1] = np.nan
    rows[:, 2 * f] = np.where(np.isnan(rows[:, 2 * f]), 0.0, rows[:, 2 * f])
    args = (baseline.prior, baseline.prior_weight, baseline.set_weight, impute.statistics,
            standardise.mean, standardise.scale)
    expected = rows.copy()
    for step in member.steps:
        expected = step(expected)
    np.testing.assert_array_equal(_bits(kernels.standard_rows(rows, *args)), _bits(expected))
    rows[5, 7] = np.inf
    assert kernels.standard_rows(rows, *args) is None
