"""The bundled synthetic demo dataset (datasets/): labels agree with the true reps, the mix is
what datasets/README.md promises, it stays small, and the stored command regenerates it."""

from __future__ import annotations

import gzip
import shlex
from pathlib import Path

import pandas as pd
import pytest

from imu.cli import main
from imu.importers import load
from imu.sim import read_table
from imu.sim.rotations import MOUNTINGS, mounting_code

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
pytestmark = pytest.mark.skipif(
    not (DATASETS / "labels.csv").exists(), reason="datasets/ not checked out"
)


def _reps(session: Path) -> pd.DataFrame:
    return read_table(session.with_name(session.name.replace(".csv.gz", ".reps.csv")))


def test_labels_are_the_true_rep_spans():
    labels = pd.read_csv(DATASETS / "labels.csv")
    assert list(labels.columns) == ["session", "start_s", "end_s", "label", "subject"]
    assert labels.subject.nunique() == 40  # many lifters: the model must work on unseen ones
    assert 0.25 <= (labels.label == "rounded").mean() <= 0.35
    for session, rows in labels.groupby("session"):
        reps = _reps(DATASETS / session)
        assert 15 <= len(reps) <= 25  # three sets of 5-8 reps
        assert rows.start_s.tolist() == pytest.approx(reps.start_s.tolist(), abs=1e-6)
        assert rows.end_s.tolist() == pytest.approx(reps.end_s.tolist(), abs=1e-6)
        assert rows.label.tolist() == ["rounded" if r else "good" for r in reps.rounded]
        assert set(rows.subject) == set(reps.lifter)


def test_sessions_are_marked_synthetic_with_mixed_rates_and_mountings():
    sessions = sorted((DATASETS / "train").glob("*.csv.gz"))
    assert len(sessions) == 40
    assert not list((DATASETS / "train").glob("*.truth.*"))  # left out to keep the set small
    rates, mountings = [], set()
    for path in sessions:
        session = load(path)
        assert session.metadata["synthetic"] == "true"
        assert session.metadata["generator"].startswith("imu simulate ")
        rates.append(session.sampling_rate_hz)
        mountings.add(session.metadata["mounting"])
        assert session.time_s[-1] - session.time_s[0] < 300  # short sessions: rests of 15-25 s
    # mostly 25/50 Hz (small files), two sessions each at 100 and 200 Hz (the model's range)
    assert [rates.count(r) for r in (25.0, 50.0, 100.0, 200.0)] == [18, 18, 2, 2]
    assert len(mountings) >= 12
    total = sum(p.stat().st_size for p in DATASETS.rglob("*") if p.is_file())
    assert total < 6e6  # "a few MB at most" (7.5 MB with the ten 6-minute sessions before)


def test_demo_split_holds_an_unseen_lifter_and_a_session_without_reps():
    train = set(pd.read_csv(DATASETS / "labels.csv").subject)
    demo = pd.read_csv(DATASETS / "demo" / "labels.csv")
    assert not set(demo.subject) & train and len(demo) >= 10
    assert _reps(DATASETS / "demo" / "L11_nonreps1.csv.gz").empty


def test_the_stored_command_regenerates_the_first_session(tmp_path):
    path = DATASETS / "train" / "L12_s1.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    command = shlex.split(
        next(line for line in lines if line.startswith("# generator:")).split(":", 1)[1]
    )
    argv = command[1:]
    argv[argv.index("-o") + 1] = str(tmp_path)
    argv[argv.index("--lifters") + 1] = "1"
    del argv[argv.index("--labels") : argv.index("--labels") + 2]
    # Written before `--minutes` was honoured (issue 16): its sets were then
    # round((60 M - 40) / (mean rest + 35)); `--sets` gives that count (datasets/README.md).
    at = argv.index("--minutes")
    rest = (float(argv[argv.index("--rest") + 1]) + float(argv[argv.index("--rest") + 2])) / 2
    argv[at : at + 2] = ["--sets", str(round((60 * float(argv[at + 1]) - 40) / (rest + 35)))]
    assert main(argv) == 0
    again = gzip.decompress((tmp_path / "L12_s1.csv.gz").read_bytes()).decode().splitlines()
    # the mounting is named as calibration names it now (the old name is accepted on input)
    old = next(line for line in lines if line.startswith("# mounting:")).split(":", 1)[1]
    code = mounting_code(MOUNTINGS[old.strip()])
    lines = [f"# mounting: {code}" if x.startswith("# mounting:") else x for x in lines]
    assert [x for x in again if not x.startswith("# generator:")] == [
        x for x in lines if not x.startswith("# generator:")
    ]
    # the bundled tables predate the SYNTHETIC marker lines: the same but for them
    redone = (tmp_path / "L12_s1.reps.csv").read_text().splitlines()
    assert redone[0] == "# synthetic: true" and redone[1].startswith("# generator: imu simulate")
    assert redone[2:] == (DATASETS / "train" / "L12_s1.reps.csv").read_text().splitlines()
