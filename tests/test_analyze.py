"""`imu analyze` end to end on a SYNTHETIC session (written by tests/test_pipeline_support)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_pipeline_support import motion, rep_curve

from imu.cli import main
from imu.session import Session, write_session

REP_FIELDS = {
    "set", "rep", "start_s", "bottom_s", "end_s", "peak_flexion_deg", "liftoff_flexion_deg",
    "lockout_extension_deg", "descent_s", "ascent_s", "peak_flexion_velocity_deg_s",
    "peak_extension_velocity_deg_s", "lateral_bend_range_deg", "twist_range_deg", "smoothness",
    "hyperextended", "rounded", "p_rounded",
}  # fmt: skip


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory):
    t = np.arange(0, 24, 0.01) + 1000.0  # any clock origin
    samples = motion(t, rep_curve(t, [1005.0, 1009.0, 1013.0], lockout_deg=-14.0), noise=1.0)
    frame = pd.DataFrame(
        samples, columns=["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    )
    path = tmp_path_factory.mktemp("analyze") / "s.csv"
    metadata = {
        "sampling_rate_hz": "100",
        "synthetic": "true",
        "generator": "tests/test_pipeline_support.py",
    }
    write_session(Session(frame, metadata), path)
    return path


def test_json_schema_and_outputs(session_csv, tmp_path, capsys):
    angles, reps = tmp_path / "angles.csv", tmp_path / "reps.csv"
    code = main(
        ["analyze", str(session_csv), "--json", "--no-model", "--angles", str(angles), "--reps", str(reps)]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sampling_rate_hz"] == 100.0
    assert out["calibration"]["ok"] is True and 0 <= out["calibration"]["quality"] <= 1
    assert [r["start_s"] for r in out["reps"]] == sorted(r["start_s"] for r in out["reps"])
    assert len(out["reps"]) == 3 and all(REP_FIELDS <= set(r) for r in out["reps"])
    assert all(r["hyperextended"] is True and r["rounded"] is None for r in out["reps"])
    assert out["reps"][0]["start_s"] == pytest.approx(1005.0, abs=0.2)
    assert out["sets"][0]["n_reps"] == 3 and out["model"] is None
    frame = pd.read_csv(angles)
    assert list(frame.columns) == ["time_s", "flexion_deg", "lateral_bend_deg", "twist_deg"]
    assert len(frame) == 2400
    assert len(pd.read_csv(reps)) == 3


def test_no_reps_still_writes_csv_headers(tmp_path, capsys):
    t = np.arange(0, 20, 0.01)
    frame = pd.DataFrame(
        motion(t, np.zeros_like(t)),
        columns=["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"],
    )
    path = tmp_path / "still.csv"
    write_session(Session(frame, {"sampling_rate_hz": "100", "synthetic": "true"}), path)
    reps = tmp_path / "reps.csv"
    assert main(["analyze", str(path), "--json", "--no-model", "--reps", str(reps)]) == 0
    assert json.loads(capsys.readouterr().out)["reps"] == []
    from imu.pipeline import REP_COLUMNS

    assert list(pd.read_csv(reps).columns) == list(REP_COLUMNS)
    # the table a person reads: one line, not an empty table with notes on its columns
    assert main(["analyze", str(path), "--no-model"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[-1] == "0 reps found" and not any("start:" in line for line in text)


def test_hyperextension_threshold_option(session_csv, capsys):
    assert main(["analyze", str(session_csv), "--json", "--no-model", "--hyperextension-deg", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not any(r["hyperextended"] for r in out["reps"])
    # the limit a verdict was judged by travels with it (the JSON had no way to say it)
    assert out["settings"] == {"lift": "deadlift", "mounting": None, "hyperextension_deg": 20.0,
                               "flexion_limit_deg": None, "set_rest_s": None,
                               "rest_pause_s": None}
    argv = ["analyze", str(session_csv), "--json", "--no-model", "--lift", "rdl", "--mounting",
            "NZPYPX", "--set-rest-s", "30", "--rest-pause-s", "20"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["settings"] == {
        "lift": "rdl", "mounting": "NZPYPX", "hyperextension_deg": 10.0,
        "flexion_limit_deg": None, "set_rest_s": 30.0, "rest_pause_s": 20.0}


def test_readable_summary(session_csv, capsys):
    assert main(["analyze", str(session_csv), "--no-model"]) == 0
    text = capsys.readouterr().out
    assert "3 reps in 1 set, 3 flagged (0 rounded, 3 hyperextended)" in text and "calibration" in text


def test_bad_inputs_are_one_line_errors(session_csv, tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2
    assert main(["analyze", str(session_csv), "--mounting", "sideways"]) == 2
    existing = tmp_path / "a.csv"
    existing.write_text("x")
    assert main(["analyze", str(session_csv), "--angles", str(existing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("imu analyze: error:") for line in err)


def test_model_hook_flags_reps_with_the_shipped_classifier(session_csv, capsys):
    # Without --model the shipped default is used; "--model default" names it explicitly.
    outs = []
    for extra in ([], ["--model", "default"]):
        assert main(["analyze", str(session_csv), "--json", *extra]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    for out in outs:
        assert out["model"]["path"].endswith("default.skops")
        for rep in out["reps"]:
            assert isinstance(rep["rounded"], bool) and 0.0 <= rep["p_rounded"] <= 1.0
    assert [r["p_rounded"] for r in outs[0]["reps"]] == [r["p_rounded"] for r in outs[1]["reps"]]


def test_unusable_model_file_is_a_one_line_error(session_csv, tmp_path, capsys):
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a model")
    assert main(["analyze", str(session_csv), "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.skops" in err[0]


def test_lift_choices_match_the_presets():
    from imu.commands.options import LIFT_CHOICES
    from imu.pipeline import LIFTS

    assert LIFT_CHOICES == tuple(LIFTS)


def test_lift_help_says_what_each_preset_is_for():
    """--help named only the default; a user choosing among the five presets could not
    tell that stoop is for laboratory trials of single bends."""
    import argparse

    from imu.commands.options import add_measurement_arguments
    from imu.pipeline import LIFTS

    parser = argparse.ArgumentParser()
    add_measurement_arguments(parser)
    (lift,) = [action for action in parser._actions if action.dest == "lift"]
    for name in LIFTS:
        assert f" {name} " in lift.help.replace(",", " ").replace(":", " ")
    assert "stoop (laboratory trials of single stoop bends" in lift.help


def test_a_lift_preset_gives_every_setting_it_changes_and_options_override_its_reps():
    """One table holds each lift's settings (reps and orientation): --lift squat brings
    its 0.15 s orientation gap with its rep thresholds; an option overrides the preset."""
    from dataclasses import replace

    from imu.errors import InputError
    from imu.pipeline import LIFTS, EngineSettings, engine_settings

    for name, preset in LIFTS.items():
        settings = engine_settings(lift=name)
        assert settings.reps == preset.reps and settings.reps.lift == name
        assert settings.orientation == preset.orientation
    default = EngineSettings()
    squat = engine_settings(lift="squat", hyperextension_deg=5.0)
    assert squat.reps == replace(LIFTS["squat"].reps, hyperextension_deg=5.0)
    assert (squat.orientation.gap_s, default.orientation.gap_s) == (0.15, 0.3)
    assert (squat.reps.bottom_deg, default.reps.bottom_deg) == (15.0, 20.0)
    assert engine_settings(lift="rdl").orientation == default.orientation
    with pytest.raises(InputError, match="unknown lift 'snatch'.*deadlift, rdl, good_morning"):
        engine_settings(lift="snatch")


def test_an_assumed_forward_axis_is_a_visible_warning(tmp_path, capsys):
    """A SYNTHETIC session (imu.sim): the lifter stands still, walks and stands, and never
    bends, so calibration has to guess the forward axis (a session without a standing
    start but with reps is calibrated from the reps: docs/calibration.md). The summary and
    the JSON say so and point to --mounting; with the mounting there is no warning."""
    from imu.sim import SessionScript, Stand, Walk, make_lifter, simulate

    script = SessionScript(make_lifter(0), (Stand(3.0, still=True), Walk(3.0), Stand(6.0)))
    path = tmp_path / "unbent.csv"
    result = simulate(script, sampling_rate_hz=50, mounting="xup_zback", seed=0)
    write_session(result.session, path)
    assert main(["analyze", str(path), "--json", "--no-model"]) == 0
    guessed = json.loads(capsys.readouterr().out)
    assert guessed["calibration"]["quality"] < 0.5
    assert any("pass --mounting" in w for w in guessed["warnings"])
    assert main(["analyze", str(path), "--no-model"]) == 0
    assert "warning: calibration is uncertain" in capsys.readouterr().out
    assert main(["analyze", str(path), "--json", "--no-model", "--mounting", "NZPYPX"]) == 0
    known = json.loads(capsys.readouterr().out)
    assert known["warnings"] == [] and known["calibration"]["quality"] > 0.5


def test_warnings_in_a_pipe_are_whole_lines(tmp_path, capsys):
    """Piped, the table is 140 columns wide, and the warnings were folded to it
    ("... deeper" / "than 30 deg"): a grep for a warning found half of it."""
    demo = Path(__file__).resolve().parents[1] / "datasets" / "demo" / "L11_s1.csv.gz"
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(demo.read_bytes()[:20000])  # an interrupted copy
    assert main(["analyze", str(cut), "--no-model"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (cut_off,) = [line for line in lines if "the gzip data is cut off" in line]
    assert cut_off.startswith(f"warning: {cut}: ") and cut_off.endswith(
        "the rest of the recording is missing")
    assert lines[0].startswith(f"{cut}: 100 Hz, calibration ") and lines[0].endswith(
        "pass --mounting)")  # the calibration's own words, on the line that names the file


def test_the_table_tells_a_lockout_from_its_limit(capsys):
    """At --hyperextension-deg 3 the demo's rep 1.2 (3.102 deg, hyperextended) showed
    '3' under 'hyperextended beyond 3 deg', a '3 deg beyond a limit of 3 deg' that
    docs/vocabulary.md rules out; whole degrees stay where they tell the side."""
    demo = Path(__file__).resolve().parents[1] / "datasets/demo/L11_s1.csv.gz"
    assert main(["analyze", str(demo),
                 "--hyperextension-deg", "3"]) == 0
    rows = {tuple(cells[:2]): cells for line in capsys.readouterr().out.splitlines()
            if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) > 8}
    assert rows[("1", "2")][6] == "3.1" and "hyperextended" in rows[("1", "2")][-1]
    assert rows[("1", "4")][6] == "3.2" and rows[("1", "5")][6] == "12"
    assert rows[("1", "1")][6] == "2" and rows[("1", "1")][-1] == "good"
