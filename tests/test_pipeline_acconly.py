"""Accelerometer-only mode (Polar H10, gyro-less exports) against the simulator's truth.

SYNTHETIC sessions generated in memory by imu.sim (`imu simulate` writes the same ones);
the gyroscope columns are set to NaN as an accelerometer-only device delivers them.
Accuracy bounds are the figures of `python benchmarks/bench_acconly.py` with margin.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_pipeline_support import feed

from imu.cli import main
from imu.pipeline import analyze_samples, analyze_session
from imu.pipeline.angles import up_in_sensor
from imu.pipeline.calibration import mounting_name
from imu.pipeline.orientation import GravityTilt, GravityTiltSettings
from imu.session import write_session
from imu.sim import DeadliftSet, SessionScript, Stand, demo_session, make_lifter, simulate
from imu.sim.matching import iou

GYR = ["gyr_x", "gyr_y", "gyr_z"]
G = 9.80665


def without_gyro(result):
    result.session.data[GYR] = np.nan
    return result


@pytest.fixture(scope="module")
def demo():
    script = demo_session(make_lifter(1), seed=1, n_sets=3)
    result = without_gyro(simulate(script, sampling_rate_hz=100, mounting="xleft_zfwd", seed=1))
    return result, analyze_session(result.session)


def test_calibrates_and_says_what_is_unavailable(demo):
    result, analysis = demo
    calibration = analysis.calibration
    assert calibration["ok"] and calibration["quality"] > 0.8
    assert calibration["mode"] == "accelerometer_only"
    assert calibration["gyro_bias_deg_s"] is None
    assert {"twist_deg", "twist_range_deg"} <= set(calibration["unavailable"])
    assert "flexion_during_fast_motion" in calibration["degraded"]
    assert "accelerometer only" in calibration["message"]
    # The forward axis found by the first bend is the simulated mounting's.
    assert calibration["mounting"] == mounting_name(result.body_sensor)[0]


def test_flexion_and_lateral_bend_within_bounds_twist_nan(demo):
    result, analysis = demo
    truth = result.truth_angles
    assert len(analysis.angles) == len(truth)
    flexion_error = analysis.angles[:, 1] - truth["flexion_deg"].to_numpy()
    lateral_error = analysis.angles[:, 2] - truth["lateral_bend_deg"].to_numpy()
    # Measured 4.4 / 1.4 deg (gyro fusion on the same session: 0.8 / 0.4 deg).
    assert np.sqrt(np.nanmean(flexion_error**2)) < 5.5
    assert np.sqrt(np.nanmean(lateral_error**2)) < 2.5
    # While standing still the gravity tilt is as good as fusion.
    still = np.abs(truth["flexion_deg"].to_numpy()) < 3
    assert np.nanmedian(np.abs(flexion_error[still])) < 1.5
    assert np.isnan(analysis.angles[:, 3]).all()
    assert np.isfinite(analysis.angles[:, 1]).mean() > 0.99


def test_reps_sets_and_hyperextension(demo):
    result, analysis = demo
    truth = result.truth_reps
    assert [s["n_reps"] for s in analysis.sets] == truth.groupby("set").size().tolist()
    assert len(analysis.reps) == len(truth)
    for rep, (start, end) in zip(analysis.reps, zip(truth.start_s, truth.end_s), strict=True):
        assert iou((rep["start_s"], rep["end_s"]), (start, end)) >= 0.5
        assert rep["twist_range_deg"] is None
        assert math.isfinite(rep["peak_extension_velocity_deg_s"])  # from differentiated flexion
    assert truth.hyperextended.sum() > 0
    assert [r["hyperextended"] for r in analysis.reps] == truth.hyperextended.tolist()


def test_plate_loading_before_a_set_is_not_its_first_rep():
    """Rising from loading a plate pauses while still bent (~60 deg, lockout extension
    -62 deg with the gravity tilt): that excursion used to be taken as the set's first
    rep, so the set's real last rep became the put-down and its hyperextension flag was
    lost. A rep must end upright (RepSettings.max_lockout_flexion_deg)."""
    script = demo_session(make_lifter(1), seed=0, n_sets=3)  # plate loading, then set 1
    result = without_gyro(simulate(script, sampling_rate_hz=50, mounting="xleft_zfwd", seed=0))
    analysis = analyze_session(result.session)
    truth = result.truth_reps
    spans = list(zip(truth.start_s, truth.end_s, strict=True))
    # every true rep is counted, and every rep counted is a true one (the plate is none)
    assert len(analysis.reps) == len(truth)
    for rep in analysis.reps:
        assert max(iou((rep["start_s"], rep["end_s"]), span) for span in spans) >= 0.5
        assert rep["lockout_extension_deg"] > -15.0
    last_of_set_1 = int(truth.groupby("set").size().iloc[0]) - 1
    assert truth.hyperextended.iloc[last_of_set_1]  # the flag that was lost
    for rep in analysis.reps:  # each counted rep keeps its true hyperextension flag
        best = max(range(len(spans)), key=lambda k: iou((rep["start_s"], rep["end_s"]), spans[k]))
        assert rep["hyperextended"] == truth.hyperextended.iloc[best]
    assert any(r["hyperextended"] for r in analysis.reps)


def short_session(rate_hz: float = 50.0, seed: int = 0):
    script = SessionScript(
        make_lifter(seed), (Stand(3.0, still=True), DeadliftSet(3, "conventional"), Stand(9.0))
    )
    return without_gyro(simulate(script, sampling_rate_hz=rate_hz, seed=seed))


@pytest.mark.parametrize("sizes", [(1,), (3, 97, 1, 640)])
def test_streamed_equals_batch(sizes):
    result = short_session()
    samples = result.session.samples()
    batch = analyze_samples(samples, chunk=len(samples))
    assert batch.calibration["mode"] == "accelerometer_only"
    # the 3 reps (the put-down 2 s before the recording ends may be taken for a 4th)
    assert len(result.truth_reps) == 3 and len(batch.reps) in (3, 4)
    angles, events = feed(samples, sizes)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events


def test_partial_gyro_loss_stays_in_fusion_mode():
    result = simulate(
        SessionScript(make_lifter(0), (Stand(3.0, still=True), DeadliftSet(3), Stand(9.0))),
        sampling_rate_hz=50,
        seed=0,
    )
    samples = result.session.samples()
    samples[200:205, 4:7] = np.nan  # a few rows without gyroscope: skipped, as duplicates are
    analysis = analyze_samples(samples)
    assert (
        analysis.calibration["mode"] == "gyro_fusion" and analysis.calibration["unavailable"] == []
    )
    np.testing.assert_array_equal(analysis.angles[200:205, 1:], analysis.angles[[199] * 5, 1:])
    assert np.isfinite(analysis.angles[:, 3]).all()


def test_mode_is_decided_by_the_first_rows():
    samples = short_session().session.samples()
    samples[:, 4:7] = 0.0
    samples[:10, 4:7] = np.nan  # the first 10 rows (CalibrationSettings.mode_rows) decide
    assert analyze_samples(samples).calibration["mode"] == "accelerometer_only"
    samples[9, 4] = 0.0
    assert analyze_samples(samples).calibration["mode"] == "gyro_fusion"


def test_gravity_tilt_low_pass_and_rejection():
    settings = GravityTiltSettings(time_constant_s=0.1, rejection_m_s2=2.0, rejection_timeout_s=1.0)
    tilt = GravityTilt(settings)
    dt = 0.01
    n = 11
    upright, tilted = [0.0, 0.0, G], [G, 0.0, 0.0]  # gravity moves 90 deg onto sensor x
    acc = np.array([upright] + [tilted] * (n - 1))
    q = tilt.update(
        acc, np.full((n, 3), np.nan), np.full(n, dt), np.zeros(n, bool), np.eye(1, n, dtype=bool)[0]
    )
    # After k steps g = tilted + (upright - tilted) (1 - alpha)^k, alpha = dt / (tau + dt);
    # the quaternion's world up, seen from the sensor, is the direction of g.
    keep = (1 - dt / (0.1 + dt)) ** (n - 1)
    gravity = np.array([1 - keep, 0.0, keep])
    np.testing.assert_allclose(
        up_in_sensor(q[-1:])[0], gravity / np.linalg.norm(gravity), atol=1e-12
    )

    def one_row(acc: list[float]) -> np.ndarray:
        rows = np.array([acc])
        return tilt.update(rows, np.full((1, 3), np.nan), np.full(1, dt), np.zeros(1, bool),
                           np.zeros(1, bool))[0]  # fmt: skip

    # A sample 3 m/s^2 off g is rejected (the estimate holds) ...
    before = one_row([0.0, 0.0, G]).copy()
    held = one_row([0.0, 0.0, G + 3.0])
    np.testing.assert_array_equal(held, before)
    # ... until it has lasted longer than the rejection timeout.
    for _ in range(100):
        one_row([0.0, G + 3.0, 0.0])
    moved = one_row([0.0, G + 3.0, 0.0])
    assert not np.allclose(moved, before)


def test_analyze_json_on_a_csv_with_empty_gyro_columns(tmp_path, capsys):
    result = short_session(rate_hz=100.0, seed=2)
    path = tmp_path / "h10.csv"
    write_session(result.session, path)
    header = path.read_text().splitlines()
    row = next(line for line in header if line[:1].isdigit())
    assert row.endswith(",,,") or ",,," in row  # gyro cells are empty on disk
    assert main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calibration"]["mode"] == "accelerometer_only"
    assert "twist_deg" in out["calibration"]["unavailable"]
    assert len(out["reps"]) == len(result.truth_reps) == 3 and all(
        r["twist_range_deg"] is None for r in out["reps"]
    )


def test_analyze_a_polar_sensor_logger_acc_file_alone(tmp_path, capsys):
    """A Polar H10 ACC export (mg, ns since 2000) written from a simulated session."""
    result = short_session(rate_hz=100.0, seed=3)  # SYNTHETIC (Polar H10 ACC runs at 25-200 Hz)
    data = result.session.data
    lines = ["Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]"]
    for time_s, *acc in data[["time_s", "acc_x", "acc_y", "acc_z"]].itertuples(index=False):
        mg = [round(v / G * 1000.0) for v in acc]
        ns = round((time_s + 7.0e8) * 1e9)  # any sensor clock after 2000-01-01
        lines.append(f"2024-03-01T10:15:02.123;{ns};{mg[0]};{mg[1]};{mg[2]}")
    path = tmp_path / "Polar_H10_A1B2C3D4_20240301_101502_ACC.txt"
    path.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calibration"]["mode"] == "accelerometer_only"
    truth = result.truth_reps
    assert [s["n_reps"] for s in out["sets"]] == truth.groupby("set").size().tolist()
    assert [r["hyperextended"] for r in out["reps"]] == truth.hyperextended.tolist()
