"""A recording that starts while the lifter walks (no still period at its start).

The bundled SYNTHETIC demo session (datasets/demo/L11_s1.csv.gz; regenerate with the
command in tests/test_text_golden.py) begins with ~1.5 s of standing, then walking, two
long holds bent over and two sets of reps from 48.6 s. Cut 1.5-30 s in, it starts
mid-walk: calibration from the movement took the turning while walking as the flexion
axis (the up vector's wobble about a near-vertical axis looked like bends of 20 deg and
more), calibrated within ~2 s with the flexion sign inverted (cut at 2.6 s) or the wrong
forward axis (cut at 30 s: 52 instead of 82 deg at depth), reported quality ~0.6 and
counted none of the 13 reps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_pipeline_support import feed

from imu.pipeline import EngineSettings, analyze_session
from imu.session import Session, read_session, write_session

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "datasets" / "demo" / "L11_s1.csv.gz"


@pytest.fixture(scope="module")
def demo():
    session = read_session(DEMO)
    return session, analyze_session(session)


def cut_session(session, start_s: float, tmp_path: Path) -> Session:
    """The session from ``start_s`` after its first row, written and read back."""
    data = session.data
    cut = data[data.time_s >= data.time_s.iloc[0] + start_s].reset_index(drop=True)
    path = tmp_path / f"cut_{start_s:g}.csv"
    write_session(Session(cut, session.metadata), path)
    return read_session(path)


@pytest.mark.parametrize("start_s", [1.5, 2.6, 5.0, 10.0, 30.0])
def test_a_recording_cut_mid_walk_counts_every_rep_inside_it(demo, start_s, tmp_path):
    session, whole = demo
    assert len(whole.reps) == 13 and len(whole.sets) == 2  # the uncut file's reps
    cut = cut_session(session, start_s, tmp_path)
    first_s = float(cut.data.time_s.iloc[0])
    inside = [r for r in whole.reps if r["start_s"] >= first_s]
    analysis = analyze_session(cut)
    cal = analysis.calibration
    assert cal["ok"], cal["message"]
    starts = np.array([r["start_s"] for r in analysis.reps])
    assert len(analysis.reps) == len(inside), (cal["message"], starts)
    for rep, truth in zip(analysis.reps, inside, strict=True):
        assert abs(rep["start_s"] - truth["start_s"]) < 0.5
        # the flexion sign and the forward axis: the depth of the uncut analysis
        assert abs(rep["peak_flexion_deg"] - truth["peak_flexion_deg"]) < 5.0, cal["message"]


def test_a_recording_cut_mid_walk_is_analysed_the_same_in_any_chunking(demo, tmp_path):
    """Live (odd chunks) and batch agree on the cut file (calibration from its rows)."""
    session, _ = demo
    cut = cut_session(session, 2.6, tmp_path)
    batch = analyze_session(cut)
    samples = cut.samples()
    settings = EngineSettings(sampling_rate_hz=float(cut.sampling_rate_hz))
    angles, events = feed(samples, (7, 1, 300, 33), settings)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events
    assert len(batch.reps) == 13
