"""Real-sensor realism of the simulator: parts, BLE time stamps, files cut to the set
(SYNTHETIC data, drawn here from fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from imu.sim.recording import realistic_set
from imu.sim.sensor import PARTS, SensorModel, part_model
from imu.units import STANDARD_GRAVITY_M_S2 as G


def test_parts_quantise_to_their_steps_and_clip_at_their_range():
    rng = np.random.default_rng(0)
    n = 2000
    acc = np.tile([0.0, 0.0, G], (n, 1))
    acc[::100, 0] = 3.5 * G  # jolts beyond +-2 g
    gyr = rng.normal(0, 30, (n, 3))
    sensor = part_model("mpu6050")  # +-2 g, +-500 deg/s, 16 bit
    measured_acc, measured_gyr = sensor.measure(acc, gyr, 100.0, rng)
    step = 2 * 2 * G / 2**16
    np.testing.assert_allclose(measured_acc / step, np.round(measured_acc / step), atol=1e-6)
    gyr_step = 2 * 500 / 2**16
    np.testing.assert_allclose(
        measured_gyr / gyr_step, np.round(measured_gyr / gyr_step), atol=1e-6
    )
    assert measured_acc[::100, 0].max() == pytest.approx(2 * G)  # saturated, not 3.5 g
    rig = part_model("adxl345_itg3200")  # its own steps: 3.9 mg, 1/14.375 deg/s
    rig_acc, rig_gyr = rig.measure(acc, gyr, 100.0, rng)
    acc_step, gyr_step = 0.0039 * G, 1 / 14.375
    np.testing.assert_allclose(rig_acc / acc_step, np.round(rig_acc / acc_step), atol=1e-6)
    np.testing.assert_allclose(rig_gyr / gyr_step, np.round(rig_gyr / gyr_step), atol=1e-6)


def test_gyroscope_offset_drifts_with_temperature_after_power_on():
    n, rate = 60_000, 100.0  # 10 minutes still, from power-on
    flat, still = np.tile([0, 0, G], (n, 1)), np.zeros((n, 3))
    warm = part_model("bmi160", temperature_rise_k=8.0, warmup_tau_s=120.0)
    cold = part_model("bmi160", temperature_rise_k=0.0, warmup_tau_s=120.0)
    _, warm_gyr = warm.measure(flat, still, rate, np.random.default_rng(3))
    _, cold_gyr = cold.measure(flat, still, rate, np.random.default_rng(3))
    drift = warm_gyr - cold_gyr  # the same draws: only the temperature term differs
    assert np.abs(drift[:100].mean(axis=0)).max() < 0.02  # nothing at power-on
    # TCO 0.08 deg/s/K x 8 K x (0.3..1 per axis) after ~5 time constants: 0.19-0.64 deg/s
    late = np.abs(drift[-3000:].mean(axis=0))
    assert late.min() > 0.15 and late.max() < 0.7


def test_ble_time_stamps_lose_packets_in_bursts_and_jitter():
    sensor = SensorModel(
        connection_interval_s=0.03, latency_jitter_s=0.02, loss_fraction=0.3, mean_burst_packets=5
    )
    n, rate = 60_000, 100.0
    instants, host, kept = sensor.timestamps(n, rate, np.random.default_rng(1))
    lost = 1 - len(kept) / n
    assert 0.2 < lost < 0.4
    missing = np.diff(kept) - 1
    gaps = missing[missing > 0]
    assert gaps.mean() > 3 * 3  # bursts of several 3-sample packets, not single samples
    step = np.diff(host[kept])
    assert step.std() > 0.003  # irregular at packet boundaries
    assert np.abs(host - instants).max() < 0.03  # late by at most the jitter
    clean = SensorModel().timestamps(n, rate, np.random.default_rng(1))
    assert len(clean[2]) == n  # the default model keeps every sample


@pytest.mark.parametrize("seed", [3, 4])
def test_realistic_sets_are_cut_to_the_set(seed):
    for start in ("before_first_rep", "mid_rep", "standing"):
        result, drawn = realistic_set(seed, start=start)
        time_s = result.session.data["time_s"].to_numpy()
        reps = result.truth_reps
        assert drawn["part"] in PARTS and 25 <= drawn["sampling_rate_hz"] <= 200
        assert time_s[-1] <= reps["end_s"].iloc[-1] + 1e-9  # ends at the last lockout
        assert reps["end_s"].iloc[-1] - time_s[-1] < 0.1
        # every true rep is wholly inside (host times are late by up to the BLE latency)
        assert reps["start_s"].iloc[0] >= time_s[0] - 0.06
        lead = reps["start_s"].iloc[0] - time_s[0]
        if start == "before_first_rep":
            assert lead <= 1.1
        elif start == "mid_rep":  # the cut rep is not in the truth; the file starts bent
            assert drawn["first_lockout_s"] < reps["start_s"].iloc[0]
            assert abs(result.truth_angles["flexion_deg"].iloc[0]) > 5.0
        else:
            assert lead > 2.0
        assert np.isin(result.truth_angles["time_s"], time_s).all()
        assert result.truth_bends.empty  # the put-down after the last lockout is cut off


def test_a_realistic_set_can_start_bent_in_the_set_up_hold():
    result, drawn = realistic_set(3, start="setup_hold", kinds=("conventional",))
    truth = result.truth_angles
    assert truth["flexion_deg"].iloc[0] > 30.0  # bent over the bar
    # the first pull is cut (not in the truth), its lockout is the first in the file
    assert drawn["first_lockout_s"] < result.truth_reps["start_s"].iloc[0]
    with pytest.raises(ValueError, match="from the floor"):
        realistic_set(3, start="setup_hold", kinds=("rdl",))


def test_realistic_squat_sets_draw_the_same_recording_as_the_deadlift_set_of_their_seed():
    """``squats=True``: the same part, rate, mounting and cut, a set of back squats whose
    truth carries the squat faults (bench_squat's cut-to-the-set rows)."""
    squats, drawn = realistic_set(5, start="mid_rep", n_reps=(6, 6), squats=True)
    _, deadlift = realistic_set(5, start="mid_rep", n_reps=(6, 6))
    same = ("part", "sampling_rate_hz", "mounting", "start", "loss_fraction")
    assert [drawn[k] for k in same] == [deadlift[k] for k in same]
    reps = squats.truth_reps
    assert drawn["kind"] == "squat" and set(reps["kind"]) == {"squat"} and len(reps) == 5
    assert {"butt_wink", "forward_lean"} <= set(reps.columns)
    assert squats.session.metadata["synthetic"] == "true"
