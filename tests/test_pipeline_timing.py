"""The timing stage's whole-chunk fast path gives exactly the general path's annotations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.pipeline.timing import TimedRows, Timing, TimingSettings


class GeneralOnly(Timing):
    """The timing stage without its fast path (every chunk through ``_annotate``)."""

    def _steady(self, samples: np.ndarray) -> TimedRows | None:
        return None

    def advance_plain(self, time_s: float) -> float | None:
        return None


STEPS = [0.005, 0.01, 0.0, -0.003, 0.3, 1.5, float("nan")]  # regular, duplicate, back, gaps
"""Time steps between rows (s): 200 and 100 Hz, a duplicate, out of order, a gap, a long
gap, a missing time."""


@st.composite
def chunks(draw) -> list[tuple[np.ndarray, bool]]:
    """A stream of (samples, gap_before) chunks: mostly regular steps, some of every kind."""
    n_rows = draw(st.integers(1, 120))
    present = draw(st.lists(st.sampled_from(range(len(STEPS))), min_size=1, unique=True))
    kinds = draw(st.lists(st.sampled_from(present), min_size=n_rows, max_size=n_rows))
    regular = draw(st.floats(0.5, 1.0))  # share of rows with a regular step
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    steps = np.where(rng.random(n_rows) < regular, 0.005, [STEPS[k] for k in kinds])
    samples = rng.normal(0.0, 1.0, (n_rows, 7))
    samples[:, 0] = 10.0 + np.cumsum(np.nan_to_num(steps))
    samples[np.isnan(steps), 0] = np.nan
    no_gyro = rng.random(n_rows) < draw(st.sampled_from([0.0, 0.05]))
    samples[no_gyro, 4:] = np.nan
    cuts = sorted(set(draw(st.lists(st.integers(0, n_rows), max_size=8))) | {0, n_rows})
    flags = draw(st.lists(st.booleans(), min_size=len(cuts), max_size=len(cuts)))
    return [(samples[lo:hi], flag) for lo, hi, flag in zip(cuts, cuts[1:], flags, strict=False)]


@settings(max_examples=300, deadline=None)
@given(chunks(), st.sampled_from([TimingSettings(), TimingSettings(gap_s=2.0)]))
def test_fast_path_equals_general_path(stream, timing_settings):
    fast, general = Timing(timing_settings), GeneralOnly(timing_settings)
    for samples, gap_before in stream:
        got, want = fast.update(samples, gap_before), general.update(samples, gap_before)
        assert got.dt_s.tobytes() == want.dt_s.tobytes()  # the same bits
        assert np.array_equal(got.skip, want.skip)
        assert np.array_equal(got.restart, want.restart)
        assert got.gaps == want.gaps
        assert vars(fast) == vars(general)  # counters, last time, regular step
    assert fast.summary() == general.summary()


def test_a_regular_chunk_takes_the_fast_path():
    timing = Timing()
    samples = np.zeros((200, 7))
    samples[:, 0] = np.arange(200) * 0.005
    timing.update(samples[:100])
    assert timing._steady(samples[100:]) is not None
    timing.update(samples[100:])
    duplicate = samples[[-1, -1]]
    assert timing._steady(duplicate) is None  # the general path annotates it


def test_one_row_past_restart_after_restarts_when_gap_s_is_longer():
    timing, general = Timing(TimingSettings(gap_s=2.0)), GeneralOnly(TimingSettings(gap_s=2.0))
    samples = np.zeros((3, 7))
    samples[:, 0] = [0.0, 0.005, 1.505]  # a 1.5 s step: no gap event, but a restart
    for stage in (timing, general):
        stage.update(samples[:2])
    got, want = timing.update(samples[2:]), general.update(samples[2:])
    assert got.restart.tolist() == want.restart.tolist() == [True]
    assert got.dt_s.tolist() == want.dt_s.tolist() == [0.0]
    assert vars(timing) == vars(general)
