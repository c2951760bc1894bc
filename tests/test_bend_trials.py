"""Laboratory trials of one slow bend with a standing start (SYNTHETIC,
`imu.sim.recording.bend_trial`: 12 s, an ADXL345 + ITG-3200 board at 200 Hz): calibrated
from the standing start whatever the gyroscope's offset, flexion as simulated."""

from __future__ import annotations

import numpy as np
import pytest

from imu.pipeline import analyze_session
from imu.sim.recording import bend_trial


def _offset_deg_s(trial) -> np.ndarray:
    """The gyroscope's mean over the first 1.5 s of standing (its offset)."""
    data = trial.session.data
    first = data["time_s"] < data["time_s"].iloc[0] + 1.5
    return data.loc[first, ["gyr_x", "gyr_y", "gyr_z"]].mean().to_numpy()


@pytest.mark.parametrize("seed", [107, 118, 125])  # a stoop, two squats (dev seeds)
def test_an_offset_beyond_10_deg_s_is_read_from_the_standing_start(seed):
    """An ITG-3200's offset reaches +-40 deg/s (data sheet); these trials draw 10-11.3
    deg/s, mostly about horizontal axes, which a steady accelerometer shows to be no
    rotation. They were taken for motion: no still period, so a calibration from the one
    bend (or none: two of them failed outright)."""
    trial, drawn = bend_trial(seed)
    assert drawn["n_reps"] == 1
    offset = _offset_deg_s(trial)
    assert np.linalg.norm(offset) > 10.0  # the premise
    analysis = analyze_session(trial.session)
    calibration = analysis.calibration
    assert calibration["method"] == "still_period", calibration["message"]
    assert calibration["quality"] >= 0.8
    np.testing.assert_allclose(calibration["gyro_bias_deg_s"], offset, atol=0.3)
    flexion = analysis.angles[:, 1]
    truth = trial.truth_angles["flexion_deg"].to_numpy()
    assert np.max(np.abs(flexion - truth)) < 3.0  # the sign and the peak included
    assert abs(np.max(flexion) - np.max(truth)) < 2.0


@pytest.mark.parametrize("bend", ["stoop", "squat"])
def test_a_bend_trial_is_12_s_at_200_hz_with_one_bend_after_standing(bend):
    trial, drawn = bend_trial(3, bend=bend)
    data = trial.session.data
    time_s = data["time_s"].to_numpy()
    assert drawn["bend"] == bend and len(trial.truth_reps) == 1
    assert time_s[-1] - time_s[0] == pytest.approx(12.0, abs=0.01)
    assert np.median(np.diff(time_s)) == pytest.approx(1 / 200, rel=0.01)
    rep = trial.truth_reps.iloc[0]
    assert rep["kind"] == ("squat" if bend == "squat" else "good_morning")
    assert rep["start_s"] - time_s[0] == pytest.approx(drawn["stand_s"], abs=0.01)
    truth = trial.truth_angles
    standing = truth["time_s"] < rep["start_s"]
    assert np.abs(truth.loc[standing, "flexion_deg"]).max() < 0.5
    if bend == "stoop":  # slow: 2-3.5 s down
        assert 2.0 * 0.9 <= rep["bottom_s"] - rep["start_s"]
    assert trial.session.metadata["synthetic"] in (True, "true")
    assert "adxl345_itg3200" in trial.session.metadata["device"]


@pytest.mark.parametrize("seed", [102, 119, 120])  # squats of 22-24 deg (dev seeds)
def test_a_squat_shallower_than_30_deg_gives_the_flexion_sign_from_the_drop(seed):
    """No bend deeper than 30 deg after the standing start: the forward axis was assumed
    from the deepest tilt (quality 0.25, "flexion sign may be wrong"). The sensor drops
    with the hips at that side, so it is a forward bend: the sign is known."""
    trial, drawn = bend_trial(seed)
    truth = trial.truth_angles["flexion_deg"].to_numpy()
    assert drawn["bend"] == "squat" and 20.0 < truth.max() < 30.0  # the premise
    analysis = analyze_session(trial.session)
    calibration = analysis.calibration
    assert calibration["method"] == "still_period"
    assert calibration["quality"] >= 0.5, calibration["message"]
    assert "from the deepest bend" in calibration["message"]
    assert "m/rad there" in calibration["message"]
    flexion = analysis.angles[:, 1]
    assert np.max(np.abs(flexion - truth)) < 2.0


@pytest.mark.parametrize("seed", [102, 103, 104, 105])
def test_a_lean_back_is_not_taken_for_a_shallow_forward_bend(monkeypatch, seed):
    """The same trials, but the subject leans back 24 deg instead: the sensor, behind the
    hip joint, drops by about its depth there (0.02-0.13 m/rad), not like a squat's hips:
    the forward axis stays assumed, with the warning, as before."""
    import imu.sim.core
    from imu.sim.activities import Stand
    from imu.sim.script import Builder, BuiltMotion

    def lean_back(script, rng):
        b = Builder(script.lifter, rng)
        b.stand(Stand(3.0, still=True))
        b.path("flexion_deg", b.t, [(2.5, -24.0, 0.0), (4.0, -24.0, 0.0), (6.5, 0.0, 0.0)])
        b.t += 6.5
        b.stand(Stand(4.0, still=True))
        return BuiltMotion(b.motion, b.t)

    monkeypatch.setattr(imu.sim.core, "build_motion", lean_back)
    trial, _ = bend_trial(seed)
    truth = trial.truth_angles["flexion_deg"].to_numpy()
    assert truth.min() < -23.0 and truth.max() < 1.0
    calibration = analyze_session(trial.session).calibration
    assert calibration["quality"] < 0.5
    assert "forward axis assumed" in calibration["message"]


def test_label_with_the_stoop_preset_finds_every_slow_stoop_and_train_reads_it_back(
    tmp_path, capsys
):
    """`imu label` on trials of one slow stoop each (SYNTHETIC, dev seeds): the default
    preset says what to pass (its rep decision was trained on gym sessions, where a slow
    lone bend is a stretch: the 48-lifter model found no rep in seeds 107 and 112, the
    96-lifter one finds all six); `--lift stoop` finds each true bend, writes `lift`
    stoop, and `imu train` / `imu evaluate` measure every labelled span of the file back."""
    import pandas as pd

    from imu.cli import main
    from imu.sim import write_result

    seeds = (107, 112, 100, 101, 105, 106)
    truth = {}
    for seed in seeds:
        trial, _ = bend_trial(seed, bend="stoop")
        write_result(trial, tmp_path, f"t{seed}")
        truth[f"t{seed}.csv"] = trial.truth_reps.iloc[0]
    files = [str(tmp_path / name) for name in truth]
    out = tmp_path / "review.csv"

    capsys.readouterr()
    assert main(["label", *files, "-o", str(out)]) == 0
    # each trial names its preset (metadata `lift`), so the default says what to pass
    assert capsys.readouterr().err.count("measured as deadlift: pass --lift stoop") == len(seeds)
    assert main(["label", *files, "-o", str(out), "--lift", "stoop",
                 "--force"]) == 0
    rows = pd.read_csv(out, comment="#")
    assert sorted(rows["session"]) == sorted(truth) and set(rows["lift"]) == {"stoop"}
    for row in rows.itertuples():
        rep = truth[row.session]
        overlap = min(row.end_s, rep.end_s) - max(row.start_s, rep.start_s)
        assert overlap > 0.8 * (rep.end_s - rep.start_s)
    # reviewed: half of them called rounded, one subject per trial (6 subjects)
    rows["label"] = ["rounded", "good"] * (len(rows) // 2)
    rows["subject"] = [f"S{k}" for k in range(len(rows))]
    rows.to_csv(out, index=False)
    capsys.readouterr()
    model = tmp_path / "m.skops"
    assert main(["train", str(out), "-o", str(model), "--json", "--quiet"]) == 0
    import json

    captured = capsys.readouterr()
    trained = json.loads(captured.out)
    assert "left out" not in captured.err and "clipped" not in captured.err
    assert trained["cv"]["n_spans"] == len(seeds)
    assert main(["evaluate", "--model", str(model), str(out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["metrics"]["n_spans"] == len(seeds)


@pytest.mark.parametrize("seed", [101, 104, 106])  # dev seeds
def test_a_slow_stoop_is_one_rep_with_the_stoop_preset(seed):
    """Stoops of 4-6 s down and up (a slow laboratory pace; SYNTHETIC): the turn-around
    stays within a few degrees of the peak for over 2.5 s, which the RDL's
    max_bottom_hold_s took for a hold, not a rep (0 of 12 trials, seeds 100-111, were
    found). The stoop preset keeps the default's 8 s: each is one rep, where it is."""
    from imu.pipeline.measurement_options import engine_settings

    trial, _ = bend_trial(seed, bend="stoop", bend_s=(4.0, 6.0), duration_s=20.0)
    rep = trial.truth_reps.iloc[0]
    assert rep["end_s"] - rep["start_s"] > 8.0  # the premise: slow
    (found,) = analyze_session(trial.session, engine_settings(lift="stoop")).reps
    overlap = min(found["end_s"], rep["end_s"]) - max(found["start_s"], rep["start_s"])
    assert overlap > 0.8 * (rep["end_s"] - rep["start_s"])


@pytest.mark.parametrize("bend", [None, "squat"])
def test_a_trial_names_its_preset_and_the_call_that_draws_it_again(bend):
    """SYNTHETIC metadata: `lift` (the preset to measure it with) and `generator`, the call
    that regenerates the same samples (a bend passed in changes the draws after it, so a
    squat of seed 7 passed in and one drawn from seed 7 are different files)."""
    import imu.sim.recording

    trial, drawn = bend_trial(7, bend=bend)
    metadata = trial.session.metadata
    assert metadata["lift"] == drawn["bend"]
    again, _ = eval(metadata["generator"], {"imu": imu})  # our own string
    assert again.session.data.equals(trial.session.data)
    assert ("bend=" in metadata["generator"]) == (bend is not None)
