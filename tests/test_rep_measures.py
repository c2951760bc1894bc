"""Locating, judging and measuring one excursion (imu.pipeline.excursions.locate / is_rep,
imu.pipeline.metrics.rep_metrics) on hand-made flexion traces with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from imu.pipeline.excursions import is_rep, locate
from imu.pipeline.metrics import rep_metrics, sparc, trace
from imu.pipeline.rep_settings import RepSettings


def _bend(knots_s: list[float], knots_deg: list[float]) -> tuple[np.ndarray, int, int]:
    """Rows (time_s, flexion, lateral bend, twist, row) of a flexion trace through the
    knots at 100 Hz (no twist or lateral bend), the rise above ``bottom_deg`` and the
    segmenter's cut (1 s after the flexion is back below ``top_deg``)."""
    time_s = np.arange(int(knots_s[-1] * 100) + 1) / 100
    flexion = np.interp(time_s, knots_s, knots_deg)
    zeros = np.zeros_like(time_s)
    h = np.column_stack((time_s, flexion, zeros, zeros, np.arange(len(time_s), dtype=float)))
    rise = int(np.argmax(flexion > 35.0))
    down = rise + int(np.argmax(flexion[rise:] < 15.0))
    return h, rise, int(np.searchsorted(time_s, time_s[down] + 1.0))


def test_a_triangle_bend_by_hand():
    """Upright until 1 s, bending at 60 deg/s to 60 deg at 2 s, extending at 60 deg/s to
    upright at 3 s: the rep starts at 1.00 s (the last row within 0.5 deg of upright),
    its bottom is the turn-around at 2.00 s (extension speed below 10 deg/s there), its
    end the first row after the fastest extension that has stopped: 3.01 s."""
    h, rise, cut = _bend([0, 1, 2, 3, 5], [0, 0, 60, 0, 0])
    s = RepSettings()
    start, peak, end, tail_end, base = locate(h, 0, rise, cut, s)
    assert (start, peak, end, tail_end, base) == (100, 200, 301, 351, 0.0)
    assert is_rep(h, start, peak, end, s)
    record = rep_metrics(h, start, end, end + 1, s.hyperextension_deg)
    assert (record["start_s"], record["bottom_s"], record["end_s"]) == (1.0, 2.0, 3.01)
    assert record["peak_flexion_deg"] == record["liftoff_flexion_deg"] == 60.0
    assert record["descent_s"] == 1.0 and record["ascent_s"] == pytest.approx(1.01)
    assert record["peak_flexion_velocity_deg_s"] == pytest.approx(60.0)
    assert record["peak_extension_velocity_deg_s"] == pytest.approx(60.0)
    assert record["lateral_bend_range_deg"] == record["twist_range_deg"] == 0.0
    assert record["lockout_extension_deg"] == 0.0 and not record["hyperextended"]
    assert -3.0 < record["smoothness"] < 0.0  # one smooth bump
    traces = trace(h, start, end, 51)
    assert len(traces["flexion_deg"]) == 51
    assert traces["flexion_deg"][25] == pytest.approx(60.0, abs=0.7)


def test_a_hyperextended_lockout_counts_the_lockout_window():
    """Back to upright at 3 s, then on to 12 deg of extension within the lockout window:
    the rep ends at upright, its lockout extension is the window's 12 deg."""
    h, rise, cut = _bend([0, 1, 2, 3, 3.3, 6], [0, 0, 60, 0, -12, -12])
    s = RepSettings()
    start, peak, end, tail_end, _ = locate(h, 0, rise, cut, s)
    assert is_rep(h, start, peak, end, s)
    record = rep_metrics(h, start, end, tail_end, s.hyperextension_deg)
    assert record["lockout_extension_deg"] == pytest.approx(12.0)
    assert record["hyperextended"]


@pytest.mark.parametrize(
    ("why", "knots_s", "knots_deg"),
    [
        ("held 9 s at the bottom (loading plates)", [0, 1, 2, 11, 12, 14], [0, 0, 60, 60, 0, 0]),
        ("too quick (0.5 s)", [0, 1, 1.25, 1.5, 3], [0, 0, 60, 0, 0]),
        ("too slow an extension (10 deg/s)", [0, 1, 2, 8, 10], [0, 0, 60, 0, 0]),
    ],
)
def test_excursions_that_are_not_reps(why, knots_s, knots_deg):
    h, rise, cut = _bend(knots_s, knots_deg)
    s = RepSettings()
    start, peak, end, _, base = locate(h, 0, rise, cut, s)
    assert base <= s.max_start_flexion_deg
    assert not is_rep(h, start, peak, end, s), why


def test_a_set_up_held_5_s_at_the_bottom_is_left_to_the_rep_decision():
    """A grip-and-brace set-up before a pull from the floor can hold 4-5 s: the rules let
    it through (a candidate), the learned decision tells it from a plate held as long."""
    h, rise, cut = _bend([0, 1, 2, 7, 8, 10], [0, 0, 60, 60, 0, 0])
    s = RepSettings()
    start, peak, end, _, _ = locate(h, 0, rise, cut, s)
    assert is_rep(h, start, peak, end, s)
    assert not is_rep(h, start, peak, end, RepSettings(max_bottom_hold_s=4.5))


def test_a_bend_from_sitting_starts_bent():
    h, rise, cut = _bend([0, 1, 2, 3, 5], [10, 10, 60, 10, 10])
    assert locate(h, 0, rise, cut, RepSettings())[4] == 10.0  # above max_start_flexion_deg


def test_sparc_by_hand():
    """An impulse has a flat spectrum: every bin up to the cut-off has the largest
    magnitude, so the arc is a straight line across the normalised band: SPARC = -1."""
    assert sparc(np.array([1.0, 0.0, 0.0, 0.0]), 50.0) == pytest.approx(-1.0, abs=1e-12)
    # A smooth bell is smoother (closer to 0) than the same bell with a tremor.
    t = np.arange(0, 2.0, 0.01)
    bell = np.sin(np.pi * t / t[-1]) ** 2
    assert sparc(bell * (1 + 0.3 * np.sin(2 * np.pi * 6 * t)), 100.0) < sparc(bell, 100.0)
    assert np.isnan(sparc(np.zeros(10), 100.0)) and np.isnan(sparc(np.ones(3), 100.0))
