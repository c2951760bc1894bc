"""The bundled synthetic demo dataset (datasets/): labels agree with the truth, the mix is
what datasets/README.md promises, and the stored command regenerates it."""

from __future__ import annotations

import gzip
import shlex
from pathlib import Path

import pandas as pd
import pytest

from imu.cli import main
from imu.importers import load

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
pytestmark = pytest.mark.skipif(
    not (DATASETS / "labels.csv").exists(), reason="datasets/ not checked out"
)


def _reps(session: Path) -> pd.DataFrame:
    return pd.read_csv(session.with_name(session.name.replace(".csv.gz", ".reps.csv")))


def test_labels_are_the_true_rep_spans():
    labels = pd.read_csv(DATASETS / "labels.csv")
    assert list(labels.columns) == ["session", "start_s", "end_s", "label", "subject"]
    assert labels.subject.nunique() >= 8  # enough lifters for grouped cross-validation
    assert 0.25 <= (labels.label == "rounded").mean() <= 0.35
    for session, rows in labels.groupby("session"):
        reps = _reps(DATASETS / session)
        assert 25 <= len(reps) <= 40
        assert rows.start_s.tolist() == pytest.approx(reps.start_s.tolist(), abs=1e-6)
        assert rows.end_s.tolist() == pytest.approx(reps.end_s.tolist(), abs=1e-6)
        assert rows.label.tolist() == ["rounded" if r else "good" for r in reps.rounded]
        assert set(rows.subject) == set(reps.lifter)


def test_sessions_are_marked_synthetic_with_mixed_rates_and_mountings():
    sessions = sorted((DATASETS / "train").glob("*.csv.gz"))
    sessions = [s for s in sessions if ".truth." not in s.name]
    assert len(sessions) == 10
    rates, mountings = set(), set()
    for path in sessions:
        session = load(path)
        assert session.metadata["synthetic"] == "true"
        assert session.metadata["generator"].startswith("imu simulate ")
        rates.add(session.sampling_rate_hz)
        mountings.add(session.metadata["mounting"])
        truth = pd.read_csv(path.with_name(path.name.replace(".csv.gz", ".truth.csv.gz")))
        assert truth.time_s.tolist() == pytest.approx(session.time_s.tolist(), abs=1e-6)
    assert min(rates) >= 50 and max(rates) <= 200 and len(rates) >= 3 and len(mountings) >= 5
    total = sum(p.stat().st_size for p in DATASETS.rglob("*") if p.is_file())
    assert total < 8.5e6


def test_demo_split_holds_an_unseen_lifter_and_a_session_without_reps():
    train = set(pd.read_csv(DATASETS / "labels.csv").subject)
    demo = pd.read_csv(DATASETS / "demo" / "labels.csv")
    assert not set(demo.subject) & train and len(demo) >= 10
    assert _reps(DATASETS / "demo" / "L11_nonreps1.csv.gz").empty


def test_the_stored_command_regenerates_the_first_session(tmp_path):
    path = DATASETS / "train" / "L01_s1.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    command = shlex.split(
        next(line for line in lines if line.startswith("# generator:")).split(":", 1)[1]
    )
    argv = command[1:]
    argv[argv.index("-o") + 1] = str(tmp_path)
    argv[argv.index("--lifters") + 1] = "1"
    del argv[argv.index("--labels") : argv.index("--labels") + 2]
    assert main(argv) == 0
    again = gzip.decompress((tmp_path / "L01_s1.csv.gz").read_bytes()).decode().splitlines()
    assert [x for x in again if not x.startswith("# generator:")] == [
        x for x in lines if not x.startswith("# generator:")
    ]
    assert (tmp_path / "L01_s1.reps.csv").read_text() == (
        DATASETS / "train" / "L01_s1.reps.csv"
    ).read_text()
