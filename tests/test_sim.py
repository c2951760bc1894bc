"""Physical truth checks of the simulator (imu.sim): it must be right before anything
downstream can be tested against it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imu.errors import InputError
from imu.sim import (
    MOUNTINGS,
    DeadliftSet,
    SensorModel,
    SessionScript,
    Stand,
    Walk,
    make_lifter,
    non_rep_session,
    simulate,
)
from imu.sim.kinematics import sensor_kinematics
from imu.sim.motion import Motion
from imu.sim.rotations import matrix
from imu.sim.sensor import STANDARD_GRAVITY_M_S2 as G

IDEAL = SensorModel.ideal()
LIFTER = make_lifter(3, seed=5)


def _set_script(rounded, hyper, kind="conventional", origin=0.0) -> SessionScript:
    acts = (
        Stand(3.0, still=True),
        Walk(2.0, 90.0),
        DeadliftSet(len(rounded), kind, tuple(rounded), tuple(hyper)),
        Stand(2.0),
    )
    return SessionScript(LIFTER, acts, origin)


def _world_sensor(result) -> np.ndarray:
    """R_world_sensor per sample from the truth angles and the mounting used."""
    flex, lat, twist = result.kinematics.angles_deg.T
    r_wb = Rotation.from_euler("ZXY", np.column_stack([twist, lat, flex]), degrees=True)
    return (r_wb * Rotation.from_matrix(result.body_sensor)).as_matrix()


def test_mountings_are_24_distinct_proper_rotations():
    assert len(MOUNTINGS) == 24
    mats = np.array(list(MOUNTINGS.values()))
    for m in mats:
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(m) == pytest.approx(1.0)
    assert len({m.tobytes() for m in mats}) == 24
    # the name says where the sensor's x and z axes point on the body
    np.testing.assert_array_equal(MOUNTINGS["xup_zback"][:, 0], [0, 0, 1])
    np.testing.assert_array_equal(MOUNTINGS["xup_zback"][:, 2], [-1, 0, 0])


def test_elementary_rotations_follow_the_coordinate_page():
    # positive flexion moves the top of the trunk forward (+x), positive lateral bend to
    # the right (-y), positive twist turns forward (+x) to the left (+y)
    np.testing.assert_allclose(matrix("y", 90) @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(matrix("x", 90) @ [0, 0, 1], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(matrix("z", 90) @ [1, 0, 0], [0, 1, 0], atol=1e-12)


@pytest.mark.parametrize("name", sorted(MOUNTINGS))
def test_at_rest_accelerometer_reads_gravity_up_in_every_mounting(name):
    motion = Motion()
    motion.tracks["flexion_deg"].key(1.0, 35.0)  # a static bent posture after 1 s
    t = np.linspace(2.0, 3.0, 11)
    kin = sensor_kinematics(motion, t, LIFTER, MOUNTINGS[name])
    np.testing.assert_allclose(np.linalg.norm(kin.acc_m_s2, axis=1), G, atol=1e-6)
    np.testing.assert_allclose(kin.gyr_deg_s, 0.0, atol=1e-9)
    up_in_body = matrix("y", 35.0).T @ [0, 0, G]
    np.testing.assert_allclose(
        kin.acc_m_s2, np.tile(MOUNTINGS[name].T @ up_in_body, (11, 1)), atol=1e-6
    )


def test_quiet_stance_reads_one_g_with_random_mounting():
    result = simulate(
        SessionScript(LIFTER, (Stand(4.0, still=True),)), mounting="random", sensor=IDEAL, seed=4
    )
    acc = result.session.samples()[:, 1:4]
    np.testing.assert_allclose(np.linalg.norm(acc, axis=1), G, atol=0.02)
    assert np.abs(result.truth_angles[["flexion_deg", "lateral_bend_deg"]].to_numpy()).max() < 0.5


@pytest.fixture(scope="module")
def set_result():
    script = _set_script([False, True, False, True, False], [False, False, True, False, False])
    return script, simulate(
        script, sampling_rate_hz=400, mounting="xleft_zback", sensor=IDEAL, seed=9
    )


def test_integrating_the_gyro_reproduces_the_truth_orientation(set_result):
    _, result = set_result
    samples = result.session.samples()
    dt = np.diff(samples[:, 0])
    gyr = np.deg2rad(samples[:, 4:7])
    steps = Rotation.from_rotvec(0.5 * (gyr[1:] + gyr[:-1]) * dt[:, None])  # body-frame increments
    r = Rotation.from_matrix(_world_sensor(result)[0])
    world_sensor = [r]
    for step in steps:
        r = r * step
        world_sensor.append(r)
    r_ws = Rotation.concatenate(world_sensor)
    up_in_body = (r_ws * Rotation.from_matrix(result.body_sensor).inv()).inv().apply([0, 0, 1])
    flexion = np.rad2deg(np.arctan2(-up_in_body[:, 0], up_in_body[:, 2]))
    lateral = np.rad2deg(np.arcsin(up_in_body[:, 1]))
    truth = result.truth_angles
    assert np.abs(flexion - truth.flexion_deg).max() < 0.5
    assert np.abs(lateral - truth.lateral_bend_deg).max() < 0.5
    assert truth.flexion_deg.max() > 40  # the check spans whole reps


def test_accelerometer_matches_second_difference_of_sensor_position(set_result):
    _, result = set_result
    kin = result.kinematics
    dt = 1 / 400
    fd = (
        kin.sensor_position_m[2:] - 2 * kin.sensor_position_m[1:-1] + kin.sensor_position_m[:-2]
    ) / dt**2
    acc_world = np.einsum("nij,nj->ni", _world_sensor(result), result.session.samples()[:, 1:4])
    acc_world[:, 2] -= G
    err = np.abs(acc_world[1:-1] - fd)
    assert err.max() < 0.05
    assert np.abs(fd).max() > 2.0  # real accelerations, not a still sensor


def test_truth_reps_match_the_script(set_result):
    script, result = set_result
    reps = result.truth_reps
    truth = result.truth_angles
    assert list(reps.rounded) == [False, True, False, True, False]
    assert list(reps.hyperextended) == [False, False, True, False, False]
    assert (
        list(reps.rep) == [1, 2, 3, 4, 5]
        and set(reps.set) == {1}
        and set(reps.kind) == {"conventional"}
    )
    assert (reps.start_s < reps.bottom_s).all() and (reps.bottom_s < reps.end_s).all()
    assert (reps.start_s.to_numpy()[1:] > reps.end_s.to_numpy()[:-1]).all()
    for rep in reps.itertuples():
        span = truth[(truth.time_s >= rep.start_s) & (truth.time_s <= rep.end_s)]
        i = span.flexion_deg.idxmax()
        assert span.flexion_deg[i] == pytest.approx(rep.peak_flexion_deg, abs=0.3)
        assert span.time_s[i] == pytest.approx(rep.bottom_s, abs=0.15)
        lockout = truth[
            (truth.time_s >= rep.bottom_s) & (truth.time_s <= rep.end_s + 0.5)
        ].flexion_deg.min()
        assert (lockout < -10) == rep.hyperextended
    depth = script.lifter.hinge_depth_deg
    good = reps[~reps.rounded].peak_flexion_deg
    rounded = reps[reps.rounded].peak_flexion_deg
    assert good.between(depth * 0.93, depth * 1.07 + 11).all()  # spread, a little rounding, fatigue
    assert rounded.mean() > good.mean() + 4  # rounded: up to 20 deg more flexion than good reps


def test_rounded_reps_unround_early_and_sway_more(set_result):
    _, result = set_result
    truth = result.truth_angles
    t = truth.time_s.to_numpy()
    velocity = np.gradient(truth.flexion_deg.to_numpy(), t)
    shares, sway = [], []
    for rep in result.truth_reps.itertuples():
        m = (t >= rep.bottom_s) & (t <= rep.end_s)
        fastest = t[m][np.argmin(velocity[m])]
        shares.append((fastest - rep.bottom_s) / (rep.end_s - rep.bottom_s))
        sway.append(np.ptp(truth.twist_deg[(t >= rep.start_s) & (t <= rep.end_s)]))
    shares, sway = np.array(shares), np.array(sway)
    rounded = result.truth_reps.rounded.to_numpy()
    good = ~rounded & ~result.truth_reps.hyperextended.to_numpy()  # a lean-back is fast too
    assert shares[rounded].mean() < shares[good].mean() - 0.1  # fastest earlier in the pull
    assert sway[rounded].mean() > 1.5 * sway[~rounded].mean()


def test_same_seed_same_session_other_seed_other_session():
    script = _set_script([False, True], [False, False], kind="touch_and_go")
    a = simulate(script, seed=1, mounting="random")
    b = simulate(script, seed=1, mounting="random")
    c = simulate(script, seed=2, mounting="random")
    np.testing.assert_array_equal(a.session.samples(), b.session.samples())
    assert a.truth_reps.equals(b.truth_reps) and a.mounting == b.mounting
    assert len(c.session.data) != len(a.session.data) or not np.array_equal(
        c.session.samples(), a.session.samples()
    )


@pytest.mark.parametrize("rate", [25.0, 52.0, 200.0, 400.0])
def test_sampling_rates_25_to_400_hz(rate):
    result = simulate(_set_script([False], [False], origin=1234.5), sampling_rate_hz=rate, seed=1)
    t = result.session.time_s
    assert np.median(np.diff(t)) == pytest.approx(1 / rate)
    assert t[0] == pytest.approx(1234.5) and result.session.sampling_rate_hz == rate
    assert result.truth_reps.start_s.iloc[0] > 1234.5
    np.testing.assert_array_equal(result.truth_angles.time_s.to_numpy(), t)


@pytest.mark.parametrize("rate", [10.0, 1000.0])
def test_rates_outside_range_are_refused(rate):
    with pytest.raises(InputError, match="25-400 Hz"):
        simulate(_set_script([False], [False]), sampling_rate_hz=rate)


def test_unknown_mounting_is_a_one_line_input_error():
    with pytest.raises(InputError, match="unknown mounting 'sideways'"):
        simulate(_set_script([False], [False]), mounting="sideways")


def test_non_rep_session_has_no_reps_but_deep_bends():
    result = simulate(non_rep_session(LIFTER, seed=2), seed=2)
    assert result.truth_reps.empty
    assert result.truth_angles.flexion_deg.max() > 50  # loading plates / picking up
    assert np.ptp(result.truth_angles.twist_deg) > 90  # turning
