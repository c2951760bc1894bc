"""End to end on simulated (synthetic) sessions: imu train -> imu label -> review (from the
simulator's truth, as a lifter would from video) -> retrain -> evaluate, personalise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from imu.cli import main
from imu.model import load_model

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
    assert cv["n_groups"] == 3 and cv["n_spans"] == len(pd.read_csv(sim / "labels.csv"))
    manifest = json.loads((tmp_path / "base.manifest.json").read_text())
    assert manifest["cv"]["balanced_accuracy"] == cv["balanced_accuracy"]
    assert manifest["training_files"][0]["sessions"][0]["path"] == "L01_s1.csv"
    assert manifest["command"].startswith("imu train ")

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
        truth = pd.read_csv(sim / (row.subject + "_s1.reps.csv"))
        label = truth_label(row, truth)
        if label is not None:
            fixed.append({**row._asdict(), "label": label})
    edited = pd.DataFrame(fixed).drop(columns=["Index"])
    assert len(edited) >= 0.8 * len(pd.read_csv(sim / "labels.csv"))
    edited.to_csv(review, index=False)

    mine = tmp_path / "retrained.skops"
    out = run_json(capsys, ["train", str(review), "-o", str(mine), "--positive", "bent",
                            "--json", "--quiet"])
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

    # personalise the base model to L03 with their reviewed reps
    l03 = tmp_path / "review" / "l03.csv"
    edited[edited.subject == "L03"].to_csv(l03, index=False)
    out = run_json(capsys, ["train", "--personalize", str(base), str(l03), "-o",
                            str(tmp_path / "l03.skops"), "--positive", "bent", "--json", "--quiet"])
    assert "base_model_on_same_spans" in out["cv"]
    personal = load_model(tmp_path / "l03.skops")
    assert personal.manifest["personalised_from"]["n_user_spans"] == int((edited.subject == "L03").sum())
    assert len(personal.training_rows) == len(load_model(base).training_rows) + int((edited.subject == "L03").sum())
