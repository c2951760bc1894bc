"""Issue 13, gaps: a gap the engine bridges (under 1 s, no restart) inside a rep never
drops the rep in silence. Every rep of a simulated set with one flagged gap cut into it,
anywhere from before its start to after its lockout, is counted once or reported as
``rep_lost`` at the gap, and the reps outside the gap are all counted.

SYNTHETIC: ``gapped_set`` regenerates the set (imu.sim, lifter 4, seed 31); its reps are
the truth.
"""

from __future__ import annotations

import numpy as np
import pytest

from imu.pipeline import Engine, EngineSettings
from imu.sim import make_lifter, simulate
from imu.sim.matching import iou
from imu.sim.script import DeadliftSet, SessionScript, Stand

RATE_HZ = 104.0


def gapped_set():
    """SYNTHETIC: a standing start, 6 conventional deadlifts, standing (imu.sim)."""
    script = SessionScript(
        make_lifter(4),
        (Stand(3.0, still=True), DeadliftSet(6, "conventional"), Stand(3.0)),
        0.0,
        "gap-reps",
    )
    return simulate(script, sampling_rate_hz=RATE_HZ, seed=31)


@pytest.mark.parametrize("length_s", [0.6, 0.86])
@pytest.mark.parametrize("rep", [1, 2])
def test_a_bridged_gap_in_a_rep_counts_it_or_reports_it_lost(rep, length_s):
    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    for at in np.linspace(-0.2, 1.1, 14):
        lo = truth.start_s[rep] + at * (truth.end_s[rep] - truth.start_s[rep])
        hi = lo + length_s
        kept = samples[(samples[:, 0] < lo) | (samples[:, 0] >= hi)]
        after = int(np.searchsorted(kept[:, 0], hi))
        engine = Engine(EngineSettings(sampling_rate_hz=RATE_HZ))
        events = engine.update(kept[:after]).events + engine.update(kept[after:], True).events
        events += engine.finish().events
        (gap,) = [e for e in events if e["type"] == "gap"]
        assert not gap["restarted"]
        found = [(e["start_s"], e["end_s"]) for e in events if e["type"] == "rep"]
        lost = [e["time_s"] for e in events if e["type"] == "rep_lost"]
        assert all(gap["start_s"] - 0.01 <= t <= gap["end_s"] for t in lost), (at, lost)
        for k in range(len(truth)):
            matched = [f for f in found if iou(f, (truth.start_s[k], truth.end_s[k])) >= 0.25]
            cut = truth.start_s[k] < hi and truth.end_s[k] > lo
            assert len(matched) + (len(lost) if cut else 0) == 1, (at, k, matched, lost)
        assert len(found) + len(lost) == len(truth)
