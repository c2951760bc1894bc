"""End to end on simulated (synthetic) sessions: imu train -> imu label -> review (from the
simulator's truth, as a lifter would from video) -> retrain -> evaluate, personalise."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

from imu.cli import main
from imu.commands.train import _sha256_tree
from imu.model import load_model
from imu.sim import read_table
from imu.sinks.base import decimals_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "-o", str(folder), "--lifters", "3", "--minutes", "3",
                 "--rest", "10", "20", "--rate", "50", "100", "--seed", "11",
                 "--labels", str(folder / "labels.csv")]) == 0
    return folder


def run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


def truth_label(row, truth: pd.DataFrame) -> str | None:
    """The true rep a detected span overlaps most (None: not a true rep)."""
    overlap = np.minimum(row.end_s, truth.end_s) - np.maximum(row.start_s, truth.start_s)
    best = int(np.argmax(overlap))
    if overlap.iloc[best] <= 0.5 * (row.end_s - row.start_s):
        return None
    return "bent" if truth.rounded.iloc[best] else "fine"


def test_train_label_review_retrain_evaluate(sim, tmp_path, capsys):
    base = tmp_path / "base.skops"
    out = run_json(capsys, ["train", str(sim / "labels.csv"), "-o", str(base), "--json", "--quiet"])
    cv = out["cv"]
    for key in ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "roc_auc"):
        assert 0.0 <= cv[key] <= 1.0
    assert cv["n_groups"] == 3 and cv["n_spans"] == len(read_table(sim / "labels.csv"))
    manifest = json.loads((tmp_path / "base.manifest.json").read_text())
    assert manifest["cv"]["balanced_accuracy"] == cv["balanced_accuracy"]
    assert manifest["training_files"][0]["sessions"][0]["path"] == "L01_s1.csv"
    assert manifest["command"].startswith("imu train ")
    # the manifest says the simulator's sessions were SYNTHETIC, and the report reads it
    # there (it went by the file name, default.skops: this model was said to be real)
    sessions = [s for item in manifest["training_files"] for s in item["sessions"]]
    assert len(sessions) == 3 and all(s["synthetic"] is True for s in sessions)
    page = tmp_path / "report.html"
    argv = ["report", str(sim / "L01_s1.csv"), "-o", str(page), "--model", str(base)]
    assert main(argv) == 0
    capsys.readouterr()
    assert ("The training data was SYNTHETIC (its manifest: all 3 training sessions marked "
            "synthetic, simulated lifters)") in page.read_text(encoding="utf-8")
    text = tmp_path / "text.skops"  # what a person reads: the threshold as everywhere
    assert main(["train", str(sim / "labels.csv"), "-o", str(text), "--quiet"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    threshold = json.loads((tmp_path / "text.manifest.json").read_text())["threshold"]
    assert first == f"{text}: model '{out['chosen_model']}', flags 'rounded' at p ≥ {threshold:.3f}"

    # imu label: one editable row per detected rep, pre-filled with the model's guess
    review = tmp_path / "review" / "labels.csv"
    review.parent.mkdir()
    sessions = sorted(str(p) for p in sim.glob("L0*_s1.csv"))
    assert main(["label", *sessions, "-o", str(review), "--model", str(base)]) == 0
    rows = pd.read_csv(review)
    assert {"label", "predicted", "p_rounded", "peak_flexion_deg", "subject"} <= set(rows.columns)
    assert set(rows.label) <= {"rounded", "good"} and rows.label.equals(rows.predicted)
    assert (review.parent / rows.session.iloc[0]).resolve() == (sim / "L01_s1.csv").resolve()

    # the lifter reviews: new label names, wrong guesses fixed, non-reps deleted
    fixed = []
    for row in rows.itertuples():
        truth = read_table(sim / (row.subject + "_s1.reps.csv"))
        label = truth_label(row, truth)
        if label is not None:
            fixed.append({**row._asdict(), "label": label})
    edited = pd.DataFrame(fixed).drop(columns=["Index"])
    assert len(edited) >= 0.8 * len(read_table(sim / "labels.csv"))
    edited.to_csv(review, index=False)

    mine = tmp_path / "retrained.skops"
    out = run_json(capsys, ["train", str(review), "-o", str(mine), "--positive", "bent",
                            "--negative", "fine", "--allow-outside", "--json", "--quiet"])
    assert out["positive_label"] == "bent" and out["cv"]["n_spans"] == len(edited)
    retrained = load_model(mine)
    assert retrained.positive_label == "bent"
    assert retrained.manifest["negative_label"] == "fine"

    # evaluate the retrained model on the simulator's own labels (names differ: --positive)
    plot = tmp_path / "roc.png"
    result = run_json(capsys, ["evaluate", "--model", str(mine), str(sim / "labels.csv"),
                               "--positive", "rounded", "--json", "--plot", str(plot), "--quiet"])
    assert result["metrics"]["balanced_accuracy"] >= 0.8
    assert set(result["per_group"]) == {"L01", "L02", "L03"}
    assert plot.stat().st_size > 1000
    # its training sessions: the figures are not of unseen lifters, and it says so (the
    # manifest keeps each session's SHA-256); the shipped model never saw them
    argv = ["evaluate", str(sim / "labels.csv"), "--positive", "rounded", "--quiet"]
    capsys.readouterr()
    assert main([*argv, "--model", str(mine)]) == 0
    assert ("warning: 3 of 3 sessions were in this model's training data (e.g. "
            f"{(sim / 'L01_s1.csv').resolve()}): the figures are not those of unseen data; "
            "evaluate on sessions the model never saw\n") in capsys.readouterr().err
    assert main(argv) == 0
    assert "training data" not in capsys.readouterr().err

    # personalise the base model to L03 with their reviewed reps
    l03 = tmp_path / "review" / "l03.csv"
    edited[edited.subject == "L03"].to_csv(l03, index=False)
    out = run_json(capsys, ["train", "--personalize", str(base), str(l03), "-o",
                            str(tmp_path / "l03.skops"), "--positive", "bent", "--negative", "fine",
                            "--allow-outside", "--json", "--quiet"])
    assert "base_model_on_same_spans" in out["cv"]
    personal = load_model(tmp_path / "l03.skops")
    assert personal.manifest["personalised_from"]["n_user_spans"] == int((edited.subject == "L03").sum())
    assert len(personal.training_rows) == len(load_model(base).training_rows) + int((edited.subject == "L03").sum())


# ---------------------------------------------------------------------------------------
# Spans are measured the way they were labelled: session options in the labels file.
# SYNTHETIC sessions (imu.sim, regenerated by the `unstarted` fixture below): no standing start
# (the lifter walks in and starts a Romanian deadlift set at once, standing still only
# after it), so the automatic calibration cannot find the forward axis before the reps
# and only the known mounting measures them. The sensor is strapped `xup_zback` (x to the
# head, z out of the back): body x, y, z = sensor -z, +y, +x = mounting NZPYPX.

MOUNTING = "NZPYPX"
TRUE_REPS = (True, False, True, False)


LIFTERS = (0, 1, 3)
"""Virtual lifters (and seeds) whose sets hold no still moment before their last rep (with
lifter 2 the automatic calibration finds one mid-set): calibrated from the movement."""


def unstarted_script(lifter: int, name: str):
    from imu.sim import DeadliftSet, SessionScript, Stand, Walk, make_lifter

    lift = DeadliftSet(4, "rdl", rounded=TRUE_REPS, hyperextended=(False, True, False, False))
    return SessionScript(make_lifter(lifter), (Walk(3.0), lift, Stand(9.0)), name=name)


def write_phyphox_zip(session, path) -> None:
    """A phyphox export (Accelerometer.csv in m/s^2, Gyroscope.csv in rad/s) of a session."""
    s = session.samples()
    acc = pd.DataFrame({"Time (s)": s[:, 0], **{f"Acceleration {a} (m/s^2)": s[:, 1 + i]
                                              for i, a in enumerate("xyz")}})
    acc["Absolute acceleration (m/s^2)"] = np.linalg.norm(s[:, 1:4], axis=1)
    gyr = pd.DataFrame({"Time (s)": s[:, 0], **{f"Gyroscope {a} (rad/s)": np.radians(s[:, 4 + i])
                                              for i, a in enumerate("xyz")}})
    gyr["Absolute (rad/s)"] = np.linalg.norm(gyr.iloc[:, 1:4], axis=1)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Accelerometer.csv", acc.to_csv(index=False, float_format="%.9g"))
        archive.writestr("Gyroscope.csv", gyr.to_csv(index=False, float_format="%.9g"))


@pytest.fixture(scope="module")
def unstarted(tmp_path_factory):
    """Three lifters' sessions (L03 as a phyphox zip) and their true reps."""
    from imu.pipeline import analyze_session
    from imu.sim import simulate, write_result

    folder = tmp_path_factory.mktemp("unstarted")
    for i, lifter in enumerate(LIFTERS):
        name = f"L0{i + 1}"
        result = simulate(unstarted_script(lifter, name), sampling_rate_hz=50,
                          mounting="xup_zback", seed=lifter)
        automatic = analyze_session(result.session)  # the premise: no still start
        assert automatic.calibration["method"] == "movement" and len(automatic.reps) == 4
        write_result(result, folder, name)
        if i == 2:  # as phyphox exports it: a zip, and unpacked into a folder
            write_phyphox_zip(result.session, folder / f"{name}.zip")
            with zipfile.ZipFile(folder / f"{name}.zip") as archive:
                archive.extractall(folder / f"{name}_export")
    return folder


def measured(labels_path, options=None):
    from imu.model.dataset import labelled_rows
    from imu.model.labels import read_labels

    return labelled_rows(read_labels(labels_path, allow_outside=True), options)


def test_labels_made_with_a_mounting_are_measured_with_it(unstarted, capsys):
    session = unstarted / "L01.csv"
    labels = unstarted / "l01.csv"
    assert main(["label", str(session), "-o", str(labels), "--mounting", MOUNTING,
                 "--lift", "rdl", "--force"]) == 0
    rows = pd.read_csv(labels)
    assert (rows["mounting"] == MOUNTING).all() and (rows["lift"] == "rdl").all()
    truth = read_table(unstarted / "L01.reps.csv")
    assert len(rows) == len(truth) == 4
    assert np.abs(rows["start_s"] - truth["start_s"]).max() < 0.6

    # the records train and evaluate measure == the reps analyze reports with the options
    capsys.readouterr()
    assert main(["analyze", str(session), "--json", "--no-model", "--mounting", MOUNTING,
                 "--lift", "rdl"]) == 0
    reps = json.loads(capsys.readouterr().out)["reps"]
    with_columns = measured(labels)
    assert with_columns.warnings == []
    for record, rep in zip(with_columns.records, reps, strict=True):
        for key in ("start_s", "end_s", "peak_flexion_deg", "liftoff_flexion_deg",
                    "lockout_extension_deg", "descent_s", "ascent_s", "smoothness"):
            # the JSON keeps each number to its resolution (imu.sinks.base.json_safe)
            resolution = 0.5 * 10.0 ** -decimals_for(key) + 1e-9
            assert record[key] == pytest.approx(rep[key], rel=0, abs=resolution), key
    peaks = [r["peak_flexion_deg"] for r in with_columns.records]
    assert np.abs(np.array(peaks) - truth["peak_flexion_deg"]).max() < 10.0  # the true bends

    # an old-style file (no option columns) is measured with defaults: the same bends (the
    # flexion axis and sign from the reps themselves); the lift preset differs
    stripped = unstarted / "l01_stripped.csv"
    rows.drop(columns=["mounting", "lift"]).to_csv(stripped, index=False)
    default = measured(stripped)
    assert len(default.records) == 4
    default_peaks = [r["peak_flexion_deg"] for r in default.records]
    assert np.abs(np.array(default_peaks) - truth["peak_flexion_deg"]).max() < 10.0
    # ... the command line's options give the labelled measures back, and a row's own
    # options win over them
    assert np.array_equal(measured(stripped, {"mounting": MOUNTING, "lift": "rdl"}).rows,
                          with_columns.rows, equal_nan=True)
    assert np.array_equal(measured(labels, {"mounting": "PZPYNX", "lift": "deadlift"}).rows,
                          with_columns.rows, equal_nan=True)
    # a threshold given on the command line reaches the span's measures, as in analyze
    capsys.readouterr()
    assert main(["analyze", str(session), "--json", "--no-model", "--mounting", MOUNTING,
                 "--lift", "rdl", "--hyperextension-deg", "60"]) == 0
    lenient = [r["hyperextended"] for r in json.loads(capsys.readouterr().out)["reps"]]
    records = measured(labels, {"hyperextension_deg": 60.0}).records
    assert [r["hyperextended"] for r in records] == lenient == [False] * 4
    assert [r["hyperextended"] for r in with_columns.records] == [r["hyperextended"] for r in reps]
    assert [r["hyperextended"] for r in reps] == [False, True, False, False]  # the truth


def test_train_and_evaluate_measure_each_session_as_labelled(unstarted, tmp_path, capsys):
    sessions = [unstarted / "L01.csv", unstarted / "L02.csv", unstarted / "L03_export"]
    labels = tmp_path / "labels.csv"
    assert main(["label", *map(str, sessions), "-o", str(labels), "--mounting", MOUNTING,
                 "--lift", "rdl", "--format", "session"]) == 2  # L03 is not a session CSV
    assert "Accelerometer.csv" in capsys.readouterr().err
    parts = []
    for path in sessions:  # as a lifter would: one label run per recording
        part = tmp_path / f"{path.stem}.labels.csv"
        assert main(["label", str(path), "-o", str(part), "--mounting", MOUNTING, "--lift", "rdl",
                     "--subject", path.stem[:3]]) == 0
        parts.append(pd.read_csv(part))
        truth = read_table(unstarted / f"{path.stem[:3]}.reps.csv")  # phyphox too
        assert np.abs(parts[-1]["start_s"].to_numpy() - truth["start_s"]).max() < 0.6
    reviewed = pd.concat(parts, ignore_index=True)
    assert len(reviewed) == 12 and set(reviewed["mounting"]) == {MOUNTING}
    reviewed["label"] = ["rounded" if r else "good" for r in TRUE_REPS * 3]  # the video says
    reviewed.to_csv(labels, index=False)

    model = tmp_path / "mine.skops"
    out = run_json(capsys, ["train", str(labels), "-o", str(model), "--json", "--quiet",
                            "--allow-outside"])  # the sessions are in a sibling folder
    assert set(out) == {"model", "cv", "threshold", "chosen_model", "inner_cv",
                        "positive_label", "group_by"}
    assert out["cv"]["n_spans"] == 12 and out["group_by"] == "subject"
    manifest = json.loads((tmp_path / "mine.manifest.json").read_text())
    sessions_used = manifest["training_files"][0]["sessions"]
    assert [s["path"] for s in sessions_used] == [os.path.relpath(p, tmp_path) for p in sessions]
    assert all(s["options"] == {"mounting": MOUNTING, "lift": "rdl"} for s in sessions_used)
    assert sessions_used[2]["sha256"] == _sha256_tree(str(sessions[2]))  # a folder

    # evaluate: the same spans measured the same way, from the columns or from the options
    capsys.readouterr()
    scored = run_json(capsys, ["evaluate", "--model", str(model), str(labels), "--json",
                               "--quiet", "--allow-outside"])
    stripped = tmp_path / "stripped.csv"
    reviewed.drop(columns=["mounting", "lift"]).to_csv(stripped, index=False)
    again = run_json(capsys, ["evaluate", "--model", str(model), str(stripped), "--json",
                              "--quiet", "--mounting", MOUNTING, "--lift", "rdl",
                              "--allow-outside"])
    assert again["metrics"] == scored["metrics"]
    # without the options: calibrated from the movement, measured with the default preset
    assert main(["evaluate", "--model", str(model), str(stripped), "--json", "--quiet",
                 "--allow-outside"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["n_spans"] == 12


@pytest.mark.parametrize("option, value, message", [
    ("--mounting", "sideways", "--mounting 'sideways': not a mounting"),
    ("--mounting", "PXPXPZ", "repeated or left-handed"),
    ("--set-rest-s", "0", "--set-rest-s must be seconds of rest between 0.1 and 3600"),
    ("--rest-pause-s", "nan", "--rest-pause-s must be"),
])
def test_bad_measurement_options_are_one_line_errors(sim, tmp_path, capsys, option, value, message):
    for command in (["train", str(sim / "labels.csv"), "-o", str(tmp_path / "m.skops")],
                    ["evaluate", str(sim / "labels.csv")]):
        capsys.readouterr()
        assert main([*command, option, value]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m.skops").exists()


def test_a_session_in_g_is_labelled_and_measured_with_its_unit(unstarted, capsys):
    from imu.errors import InputError

    text = (unstarted / "L01.csv").read_text().splitlines(keepends=True)
    header = [line for line in text if line.startswith("#")]
    samples = pd.read_csv(unstarted / "L01.csv", comment="#")
    samples[["acc_x", "acc_y", "acc_z"]] /= 9.80665  # the same recording, in g
    in_g = unstarted / "L01_g.csv"
    in_g.write_text("".join(header) + samples.to_csv(index=False, float_format="%.9g"))
    labels = unstarted / "l01_g.csv"
    assert main(["label", str(in_g), "-o", str(labels), "--acc-unit", "g", "--mounting",
                 MOUNTING, "--lift", "rdl", "--force"]) == 0
    rows = pd.read_csv(labels)
    assert (rows["acc_unit"] == "g").all() and len(rows) == 4
    reference = unstarted / "l01_ref.csv"
    assert main(["label", str(unstarted / "L01.csv"), "-o", str(reference), "--mounting",
                 MOUNTING, "--lift", "rdl", "--force"]) == 0
    # (the same within the rounding of the file in g: the calibration from the movement
    # is a least-squares fit, a little more sensitive to it than a still period's mean)
    np.testing.assert_allclose(measured(labels).rows, measured(reference).rows,
                               rtol=1e-5, atol=1e-4)
    # without the unit the accelerometer reads ~1 "m/s^2": refused, saying what to pass
    stripped = unstarted / "l01_g_stripped.csv"
    rows.drop(columns=["acc_unit"]).to_csv(stripped, index=False)
    with pytest.raises(InputError, match=r"L01_g.csv: column 'acc_x': .*pass --acc-unit g"):
        measured(stripped)


def test_a_multi_file_export_folder_is_a_session(unstarted, tmp_path, capsys):
    folder = unstarted / "L03_export"
    labels = tmp_path / "labels.csv"
    assert main(["label", str(folder), "-o", str(labels), "--mounting", MOUNTING, "--lift",
                 "rdl", "--format", "phyphox"]) == 0
    rows = pd.read_csv(labels)
    assert rows["session"].iloc[0] == os.path.relpath(folder, tmp_path)
    assert (rows["format"] == "phyphox").all() and len(rows) == 4
    zipped = tmp_path / "zipped.csv"
    assert main(["label", str(unstarted / "L03.zip"), "-o", str(zipped), "--mounting",
                 MOUNTING, "--lift", "rdl"]) == 0
    assert np.array_equal(measured(labels).rows, measured(zipped).rows, equal_nan=True)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    first = _sha256_tree(str(copy))
    assert len(first) == 64 and first == _sha256_tree(str(folder))
    (copy / "Gyroscope.csv").write_text((copy / "Gyroscope.csv").read_text() + "\n")
    assert _sha256_tree(str(copy)) != first  # a changed file changes the folder's hash
