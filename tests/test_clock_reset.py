"""A clock that goes back mid-recording: live (a device clock reset, through the
Timestamper) and replay (a file whose clock was set back) agree: every sample kept, the
analysis restarts at the reset with one line saying so, the same reps.

SYNTHETIC: imu.sim sets (``two_sets`` regenerates them); their reps are the truth.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np

from imu.ble.profiles.base import Frame
from imu.ble.timing import Timestamper
from imu.pipeline import Engine, analyze_session
from imu.session import read_session, write_session
from imu.sim import DeadliftSet, SessionScript, Stand, make_lifter, simulate
from imu.sim.matching import iou
from imu.sinks.lines import describe
from imu.text import Timeline

RATE_HZ = 100.0
T0 = 1.75e9
LATENCY_S = 0.02


def two_sets():
    """SYNTHETIC: stand, 4 deadlifts, stand, 4 deadlifts, stand (imu.sim, lifter 2)."""
    script = SessionScript(
        make_lifter(2),
        (Stand(3.0, still=True), DeadliftSet(4), Stand(4.0), DeadliftSet(4), Stand(2.0)),
    )
    return simulate(script, sampling_rate_hz=RATE_HZ, seed=4)


def test_live_device_clock_reset_and_a_file_clock_set_back_give_the_same_measurement():
    result = two_sets()
    samples = result.session.samples()
    truth = result.truth_reps
    # the clock goes back in the rest between the sets
    cut = int(np.searchsorted(samples[:, 0], (truth.end_s[3] + truth.start_s[4]) / 2))

    # live: a device counter restarting at 0 at the cut, frames of 8 on the host clock
    device = samples.copy()
    device[:, 0] = np.where(np.arange(len(samples)) < cut, 500.0 + samples[:, 0],
                            samples[:, 0] - samples[cut, 0])  # fmt: skip
    stamper, engine = Timestamper(RATE_HZ, device_clock=True), Engine()
    live_samples, live_events = [], []
    bounds = sorted({*range(0, len(samples), 8), cut, len(samples)})
    for a, b in itertools.pairwise(bounds):
        stamped = stamper.update(T0 + samples[b - 1, 0] + LATENCY_S, Frame(device[a:b]))
        for chunk, gap_before in stamped.chunks():
            live_samples.append(chunk)
            live_events += engine.update(chunk, gap_before).events
    live_events += engine.finish().events
    live_times = np.vstack(live_samples)[:, 0] - T0 - LATENCY_S

    # replay: the host clock of a logger set back by an hour at the cut
    data = result.session.data.copy()
    data.loc[cut:, "time_s"] -= 3600.0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reset.csv"
        write_session(type(result.session)(data=data, metadata={"sampling_rate_hz": "100"}), path)
        session = read_session(path)
    replay = analyze_session(session)

    # every sample kept, both on the true times (the reset removed)
    assert len(live_times) == len(session.data) == len(samples)
    np.testing.assert_allclose(live_times, samples[:, 0], atol=1e-4)  # float64 at 1.75e9 s
    np.testing.assert_allclose(session.time_s, samples[:, 0], atol=1e-6)
    # one line each, saying what happened; the analysis restarts there
    assert sum("time goes backwards" in w for w in session.warnings) == 1
    for events in (live_events, replay.events):
        (gap,) = [e for e in events if e["type"] == "gap"]
        assert gap["restarted"] and gap["clock_reset"]
        line = describe(gap, Timeline(0.0))
        assert line.endswith("the clock went back (reset): angles start again")
    # the same reps, each the true one
    live_reps = [(r["start_s"] - T0 - LATENCY_S, r["end_s"] - T0 - LATENCY_S)
                 for r in live_events if r["type"] == "rep"]  # fmt: skip
    replay_reps = [(r["start_s"], r["end_s"]) for r in replay.reps]
    assert len(live_reps) == len(replay_reps) == len(truth) == 8
    for live_rep, replay_rep, k in zip(live_reps, replay_reps, range(len(truth)), strict=True):
        true_rep = (truth.start_s[k], truth.end_s[k])
        assert iou(live_rep, true_rep) >= 0.5 and iou(replay_rep, true_rep) >= 0.5
        np.testing.assert_allclose(live_rep, replay_rep, atol=1e-3)
