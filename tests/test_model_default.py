"""The shipped default model: found without a path, reproducible from datasets/, and
good on the held-out demo lifter (all SYNTHETIC data, datasets/README.md)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from imu.cli import main
from imu.model import load_model
from imu.model.files import default_model_path, sha256

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "models" / "default.manifest.json"


def test_default_model_is_found_and_describes_itself():
    assert default_model_path() == ROOT / "models" / "default.skops"
    model = load_model()
    summary = model.describe()
    assert summary["positive_label"] == "rounded" and 0 < summary["threshold"] < 1
    assert summary["cv"]["n_groups"] >= 10
    assert model.manifest == json.loads(MANIFEST.read_text())


def test_default_model_on_the_held_out_demo_lifter(capsys):
    labels = ROOT / "datasets" / "demo" / "labels.csv"
    assert main(["evaluate", str(labels), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = result["metrics"]
    # 13 reps of one unseen lifter: far better than chance (0.5), not a benchmark figure
    assert metrics["roc_auc"] >= 0.8 and metrics["balanced_accuracy"] >= 0.7
    c = metrics["confusion"]
    assert c["tp"] + c["fn"] == metrics["n_positive"] and sum(c.values()) == metrics["n_spans"]


@pytest.mark.slow
def test_retraining_with_the_documented_command_reproduces_the_manifest(tmp_path, monkeypatch, capsys):
    manifest = json.loads(MANIFEST.read_text())
    for item in manifest["training_files"]:
        labels = ROOT / item["labels"]
        assert sha256(labels) == item["sha256"], (
            f"{item['labels']} changed since models/default.skops was trained; retrain with "
            f"'{manifest['command']} --force' (models/README.md)")
        for session in item["sessions"]:
            assert sha256(labels.parent / session["path"]) == session["sha256"], session["path"]
    argv = shlex.split(manifest["command"])
    assert argv[:2] == ["imu", "train"]
    output = tmp_path / "again.skops"
    argv[argv.index("-o") + 1] = str(output)
    monkeypatch.chdir(ROOT)
    assert main([*argv[1:], "--json", "--quiet"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["chosen_model"] == manifest["chosen_model"]
    assert again["threshold"] == pytest.approx(manifest["threshold"], abs=0.05)
    for key in ("accuracy", "balanced_accuracy", "sensitivity", "specificity", "roc_auc"):
        assert again["cv"][key] == pytest.approx(manifest["cv"][key], abs=0.02), key
    assert again["cv"]["n_spans"] == manifest["cv"]["n_spans"]


def test_engine_and_labelled_span_path_give_the_same_probability(tmp_path):
    """`imu label` runs the streaming engine with the model (the live path); reading its
    rows back as labelled spans runs the training path. Both must score each rep alike."""
    import pandas as pd

    from imu.model.dataset import labelled_rows
    from imu.model.labels import read_labels

    session = ROOT / "datasets" / "demo" / "L11_s1.csv.gz"
    labels = tmp_path / "labels.csv"
    assert main(["label", str(session), "-o", str(labels)]) == 0
    written = pd.read_csv(labels)
    assert len(written) >= 10
    offline = load_model().probability(labelled_rows(read_labels(labels, allow_outside=True)).rows)
    assert offline == pytest.approx(written["p_rounded"].to_numpy(), abs=1e-3)
