"""The timing stage's annotations of hand-built timelines."""

from __future__ import annotations

import numpy as np

from imu.pipeline.timing import Timing, TimingSettings


def test_one_row_past_restart_after_restarts_when_gap_s_is_longer():
    timing = Timing(TimingSettings(gap_s=2.0))
    samples = np.zeros((3, 7))
    samples[:, 0] = [0.0, 0.005, 1.505]  # a 1.5 s step: no gap event, but a restart
    timing.update(samples[:2])
    got = timing.update(samples[2:])
    assert got.restart.tolist() == [True]
    assert got.dt_s.tolist() == [0.0]
    assert got.gaps == []
    assert timing.summary()["n_restarts"] == 1


def test_rows_one_by_one_and_in_one_chunk_give_the_same_annotations():
    """Regular steps, a duplicate, a row out of order, a missing gyroscope value, a gap
    and a long gap (restart), fed one row per update and as one chunk."""
    samples = np.ones((9, 7))
    samples[:, 0] = [0.0, 0.01, 0.02, 0.02, 0.015, 0.03, 0.33, 1.9, 1.91]
    samples[5, 4:] = np.nan
    whole = Timing().update(samples)
    assert whole.skip.tolist() == [False, False, False, True, True, True, False, False, False]
    assert whole.restart.tolist() == [True, False, False, False, False, False, False, True, False]
    assert [(row, event["restarted"]) for row, event in whole.gaps] == [(6, False), (7, True)]
    timing = Timing()
    rows = [timing.update(samples[i : i + 1]) for i in range(len(samples))]
    assert np.concatenate([r.dt_s for r in rows]).tobytes() == whole.dt_s.tobytes()
    assert np.concatenate([r.skip for r in rows]).tolist() == whole.skip.tolist()
    assert np.concatenate([r.restart for r in rows]).tolist() == whole.restart.tolist()
    assert [(i, event) for i, r in enumerate(rows) for _, event in r.gaps] == whole.gaps
