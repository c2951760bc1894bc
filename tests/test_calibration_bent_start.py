"""A recording that starts in a still period held bent (SYNTHETIC, simulated truth).

The file is cut from a simulated session (``imu.sim``, lifter 5, 50 Hz, random mounting,
seed 5: three deadlifts from the floor, a walk, standing, five more) inside the set-up
hold of the first pull. That hold is still enough to be a still period: it was taken
as upright and the lifter standing up as the first forward bend, so the flexion sign
came out inverted for the whole file (before imu/pipeline/upright_check.py: no rep of 7
counted, flexion off by ~79 deg, never revisited). The walk contradicts that upright.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_pipeline_support import feed

from imu.pipeline import EngineSettings, analyze_session
from imu.sim import make_lifter, simulate
from imu.sim.activities import DeadliftSet, SessionScript, Stand, Walk
from imu.sim.matching import iou
from imu.sim.recording import cut


@pytest.fixture(scope="module")
def bent_start():
    script = SessionScript(
        make_lifter(5),
        (Stand(2.0), DeadliftSet(3), Walk(6.0, 180.0), Stand(3.0), DeadliftSet(5)),
        variety=True,
    )
    result = simulate(script, sampling_rate_hz=50.0, mounting="random", seed=5)
    first = result.truth_reps.iloc[0]  # cut in its set-up hold, near the bottom
    start_s = first.start_s + 0.9 * (first.bottom_s - first.start_s)
    result = cut(result, start_s, float(result.session.data.time_s.iloc[-1]))
    return result, analyze_session(result.session)


def test_a_still_period_held_bent_is_revised_by_the_walking_after_it(bent_start):
    result, analysis = bent_start
    calibrations = [e for e in analysis.events if e["type"] == "calibration"]
    assert calibrations[0]["method"] == "still_period"  # the bent hold was taken first
    revised = [e for e in calibrations if e.get("revised")]
    assert len(revised) == 1, [e["message"] for e in calibrations]
    assert revised[0]["refined"] and "held bent" in revised[0]["message"]
    since_s = revised[0]["time_s"]
    t = analysis.angles[:, 0]
    truth = result.truth_angles
    error = analysis.angles[:, 1] - np.interp(t, truth.time_s, truth.flexion_deg)
    assert np.nanmedian(np.abs(error[t > since_s])) < 5.0
    # every rep after the revision is counted, with its depth (the flexion sign is right)
    after = result.truth_reps[result.truth_reps.start_s > since_s]
    assert len(after) == 5
    for _, rep in after.iterrows():
        found = [
            r
            for r in analysis.reps
            if iou((r["start_s"], r["end_s"]), (rep.start_s, rep.end_s)) >= 0.5
        ]
        assert len(found) == 1
        assert abs(found[0]["peak_flexion_deg"] - rep.peak_flexion_deg) < 10.0
    # what was reported before the revision stays as it was (read bent: inverted)
    assert np.nanmedian(np.abs(error[t <= since_s])) > 30.0


def test_the_revision_is_the_same_in_any_chunking(bent_start):
    result, batch = bent_start
    settings = EngineSettings(sampling_rate_hz=float(result.session.sampling_rate_hz))
    angles, events = feed(result.session.samples(), (7, 1, 300, 33), settings)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events
