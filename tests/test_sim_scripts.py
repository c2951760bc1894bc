"""Lift variants, non-rep movements and the rotation conventions of the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.sim import (
    DeadliftSet,
    SensorModel,
    SessionScript,
    Stand,
    demo_session,
    make_lifter,
    simulate,
)
from imu.sim.deadlift import pull_keys
from imu.sim.motion import Track
from imu.sim.rotations import body_to_world, small_rotation, world_to_body

LIFTER = make_lifter(5, seed=1)
angle = st.floats(-170, 170)


@settings(max_examples=200, deadline=None)
@given(angle, st.floats(-60, 60), angle)
def test_angles_recovered_from_the_up_vector_as_on_the_coordinate_page(flexion, lateral, twist):
    rad = np.deg2rad([flexion, lateral, twist])
    up_in_body = world_to_body(*rad, np.array([0.0, 0.0, 1.0]))
    assert np.rad2deg(np.arctan2(-up_in_body[0], up_in_body[2])) == pytest.approx(flexion, abs=1e-9)
    assert np.rad2deg(np.arcsin(up_in_body[1])) == pytest.approx(lateral, abs=1e-9)
    v = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(body_to_world(*rad, world_to_body(*rad, v)), v, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.5, 10))
def test_misalignment_is_a_small_proper_rotation(seed, sigma):
    m = small_rotation(np.random.default_rng(seed), sigma, 2.5 * sigma)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(m) == pytest.approx(1.0)
    assert np.rad2deg(np.arccos(np.clip((np.trace(m) - 1) / 2, -1, 1))) <= 2.5 * sigma + 1e-9


def _one_set(kind: str):
    script = SessionScript(
        LIFTER, (Stand(3.0, still=True), DeadliftSet(4, kind, (False,) * 4, (False,) * 4))
    )
    return simulate(script, sampling_rate_hz=100, sensor=SensorModel.ideal(), seed=3)


@pytest.fixture(scope="module")
def variants():
    return {
        kind: _one_set(kind) for kind in ("conventional", "touch_and_go", "rdl", "good_morning")
    }


def _time_near_bottom(result) -> np.ndarray:
    """Per rep: how long flexion stays within 2 deg of the rep's peak (s)."""
    t = result.truth_angles.time_s.to_numpy()
    flexion = result.truth_angles.flexion_deg.to_numpy()
    out = []
    for rep in result.truth_reps.itertuples():
        m = (t >= rep.start_s) & (t <= rep.end_s)
        out.append(np.sum(flexion[m] > rep.peak_flexion_deg - 2) / 100)
    return np.array(out)


def test_conventional_pauses_at_the_floor_and_touch_and_go_does_not(variants):
    conventional = _time_near_bottom(variants["conventional"])
    touch = _time_near_bottom(variants["touch_and_go"])
    assert conventional[1:].min() > touch[1:].max() + 0.5  # pauses 0.8-2 s vs 0.05-0.2 s


def test_romanian_and_good_morning_hinge_with_straighter_knees(variants):
    depth = {kind: r.truth_reps.peak_flexion_deg.mean() for kind, r in variants.items()}
    assert depth["rdl"] == pytest.approx(0.85 * depth["conventional"], rel=0.08)
    assert depth["good_morning"] == pytest.approx(0.95 * depth["conventional"], rel=0.08)
    # the sensor drops with the hips: far less without the knee bend (sensor height, world z)
    drop = {kind: np.ptp(r.kinematics.sensor_position_m[:, 2]) for kind, r in variants.items()}
    assert (
        drop["rdl"] < 0.75 * drop["conventional"]
        and drop["good_morning"] < 0.75 * drop["touch_and_go"]
    )


def test_sets_from_the_floor_end_with_putting_the_bar_down(variants):
    for kind, result in variants.items():
        t = result.truth_angles.time_s.to_numpy()
        after = result.truth_angles.flexion_deg.to_numpy()[t > result.truth_reps.end_s.max() + 0.5]
        assert (after.max() > 30) == (kind in ("conventional", "touch_and_go"))


def test_demo_session_has_bends_that_are_not_reps():
    result = simulate(
        demo_session(LIFTER, seed=4, n_sets=2, rest_s=(20, 30)), sensor=SensorModel.ideal(), seed=4
    )
    truth, reps = result.truth_angles, result.truth_reps
    t = truth.time_s.to_numpy()
    in_rep = np.zeros(len(t), dtype=bool)
    for rep in reps.itertuples():
        in_rep |= (t >= rep.start_s) & (t <= rep.end_s)
    bent = truth.flexion_deg.to_numpy() > 40
    starts = np.flatnonzero(np.diff((bent & ~in_rep).astype(int)) == 1)
    assert len(starts) >= 3  # two plates loaded, at least one bar put down
    assert len(reps) >= 10 and set(reps.set) == {1, 2}
    assert t[0] == result.truth_reps.start_s.min() - (
        result.truth_reps.start_s.min() - t[0]
    )  # same clock
    assert reps.start_s.min() > t[0] + 2.5  # calibration stance first
    still = result.session.samples()[t < t[0] + 2.0]
    assert np.abs(still[:, 4:7]).max() < 1.0  # quiet at the start (deg/s)


def test_the_python_example_in_docs_simulator_runs(tmp_path, monkeypatch):
    doc = (Path(__file__).resolve().parent.parent / "docs" / "simulator.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "docs/simulator.md", "exec"), namespace)  # noqa: S102 - our own docs
    result = namespace["result"]
    assert len(result.truth_angles) == len(result.session.data) and not result.truth_reps.empty
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "L01_s1.csv",
        "L01_s1.reps.csv",
        "L01_s1.truth.csv",
    ]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.2, 3.0), st.floats(-90, 90), st.floats(-200, 200)),
        min_size=1,
        max_size=6,
    )
)
def test_keyframed_tracks_pass_through_their_keys_with_their_velocities(keys):
    track = Track()
    t = 0.0
    for dt, value, velocity in keys:
        t += dt
        track.key(t, value, velocity)
    times = np.array(track.times)
    h = 1e-6
    np.testing.assert_allclose(track.evaluate(times), track.values, atol=1e-9)
    slope = (track.evaluate(times[1:-1] + h) - track.evaluate(times[1:-1] - h)) / (2 * h)
    np.testing.assert_allclose(slope, track.velocities[1:-1], atol=1e-3)
    # C2: the acceleration is zero at every key, from both sides (no impulse in the accelerometer)

    def accel(x: np.ndarray, step: float) -> np.ndarray:
        return (
            track.evaluate(x + step) - 2 * track.evaluate(x) + track.evaluate(x - step)
        ) / step**2

    scale = np.abs(accel(np.linspace(times[0], times[-1], 2001), 1e-4)).max()
    assert np.abs(accel(times[1:-1], 1e-5)).max(initial=0.0) <= 0.01 * scale + 1e-3


@settings(max_examples=40, deadline=None)
@given(st.floats(0.25, 0.7), st.floats(0.5, 2.5), st.floats(30, 100), st.floats(-17, 0))
def test_a_pull_is_monotone_fastest_at_its_peak_knot_and_ends_at_lockout(
    fast, ascent_s, start, end
):
    knots = [
        (0.0, 0.0),
        (0.2, 0.3),
        (fast + 0.05, 1.0),
        (fast + 0.05 + 0.5 * (0.95 - fast), 0.3),
        (1.0, 0.0),
    ]
    track = Track(values=[start])
    for key in pull_keys(0.0, ascent_s, start, end, knots):
        track.key(*key)
    t = np.linspace(0, ascent_s, 4001)
    flexion = track.evaluate(t)
    speed = -np.gradient(flexion, t)
    assert flexion[-1] == pytest.approx(end, abs=1e-9) and np.all(np.diff(flexion) <= 1e-9)
    assert t[np.argmax(speed)] / ascent_s == pytest.approx(fast + 0.05, abs=2e-3)


@pytest.mark.parametrize("rest_s", [(60.0, 180.0), (15.0, 25.0)])
def test_demo_session_lasts_the_minutes_asked_within_15_percent(rest_s):
    """``imu simulate --minutes`` (issue 16: 2 gave 1.5 min, 10 gave 8.0): as many sets
    as fit, then a rest to the end; 2 minutes hold one set, 12 several."""
    from imu.sim.script import build_motion

    for minutes in (2, 4, 10, 12):
        for seed in range(3):
            script = demo_session(make_lifter(seed), seed, minutes=minutes, rest_s=rest_s)
            built = build_motion(script, np.random.default_rng(seed))
            assert abs(built.duration_s / 60 / minutes - 1) <= 0.15, (minutes, seed)
            n_sets = sum(isinstance(a, DeadliftSet) for a in script.activities)
            assert n_sets >= (3 if minutes == 12 else 1)


def test_simulator_mountings_are_named_as_calibration_names_them():
    from imu.pipeline.calibration import mounting_name, parse_mounting
    from imu.sim.core import resolve_mounting
    from imu.sim.rotations import MOUNTINGS, mounting_code

    for key, matrix in MOUNTINGS.items():
        code = mounting_code(matrix)
        assert mounting_name(matrix) == (code, 0.0)
        assert np.array_equal(parse_mounting(code), matrix)
        assert resolve_mounting(code, None) == resolve_mounting(key, None) == key
    assert mounting_code(MOUNTINGS["xup_zback"]) == "NZPYPX"  # by hand: x->head, z->back
