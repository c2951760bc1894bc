"""Set grouping on the bundled SYNTHETIC sessions against their truth (*.reps.csv).

datasets/demo and datasets/train are SYNTHETIC (imu.sim; see datasets/README.md for the
commands that regenerate them): rests of 15-40 s between sets, a few seconds at most
between reps of a set. A set ends with its burst (docs/calibration.md, sets), so every
session gives exactly its true per-set rep counts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imu.pipeline import analyze_session
from imu.session import read_session

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
SESSIONS = sorted(
    p for p in (DATASETS / "train").glob("*.csv.gz") if not p.name.endswith(".truth.csv.gz")
) + [DATASETS / "demo" / "L11_s1.csv.gz"]


def test_the_bundled_sessions_are_all_here():
    assert len(SESSIONS) == 41 and all(p.exists() for p in SESSIONS)


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.name.removesuffix(".csv.gz"))
def test_per_set_rep_counts_match_the_truth(path: Path):
    truth = pd.read_csv(path.with_name(path.name.replace(".csv.gz", ".reps.csv")))
    analysis = analyze_session(read_session(path))
    assert [s["n_reps"] for s in analysis.sets] == truth.groupby("set").size().tolist()
    assert [(r["set"], r["rep"]) for r in analysis.reps] == list(zip(truth.set, truth.rep))
