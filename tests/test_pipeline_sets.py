"""Set grouping on the bundled SYNTHETIC sessions against their truth (*.reps.csv).

datasets/demo and datasets/train are SYNTHETIC (imu.sim; see datasets/README.md for the
commands that regenerate them): rests of 15-40 s between sets, a few seconds at most
between reps of a set. Every rep is decided on its own (imu/pipeline/rep_decision.py) and
a set ends 8 s after its last rep (docs/calibration.md, sets).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imu.pipeline import analyze_session
from imu.session import read_session
from imu.sim.matching import iou

DATASETS = Path(__file__).resolve().parent.parent / "datasets"
SESSIONS = sorted(
    p for p in (DATASETS / "train").glob("*.csv.gz") if not p.name.endswith(".truth.csv.gz")
) + [DATASETS / "demo" / "L11_s1.csv.gz"]


def test_the_bundled_sessions_are_all_here():
    assert len(SESSIONS) == 41 and all(p.exists() for p in SESSIONS)


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.name.removesuffix(".csv.gz"))
def test_reps_are_true_and_sets_group_as_in_the_truth(path: Path):
    """At most one rep of a session miscounted (a true rep missed or a false one counted:
    with the shipped model one rep of the 41 sessions' 124 sets is missed, in L40_s1; the
    model before the accelerometer features missed the first rep of 2 Romanian deadlift
    sets and counted the demo's put-down); every true set's reps found fall in one set of
    their own."""
    truth = pd.read_csv(path.with_name(path.name.replace(".csv.gz", ".reps.csv")))
    analysis = analyze_session(read_session(path))
    spans = list(zip(truth.start_s, truth.end_s, strict=True))
    true_set, false = {}, []  # detected rep index -> its true set; false reps
    for k, rep in enumerate(analysis.reps):
        scores = [iou((rep["start_s"], rep["end_s"]), span) for span in spans]
        best = max(range(len(spans)), key=scores.__getitem__)
        if scores[best] >= 0.5:
            true_set[k] = int(truth.set.iloc[best])
        else:
            false.append(k)
    missed = len(truth) - len(true_set)
    assert missed + len(false) <= 1, (missed, [analysis.reps[k]["start_s"] for k in false])
    for number in truth.set.unique():
        detected_sets = {analysis.reps[k]["set"] for k, s in true_set.items() if s == number}
        assert len(detected_sets) == 1, f"true set {number} split over {detected_sets}"
        (detected,) = detected_sets
        others = [s for k, s in true_set.items() if analysis.reps[k]["set"] == detected]
        assert set(others) == {number}, f"true set {number} merged with another"
    numbers = [(r["set"], r["rep"]) for r in analysis.reps]
    assert numbers == sorted(numbers) and all(
        rep == 1 + sum(1 for s, _ in numbers[:i] if s == st) for i, (st, rep) in enumerate(numbers)
    )  # sets counted 1, 2, ... and reps 1, 2, ... within each
