"""Issue 12 through the live path: a set without a standing start, streamed by a fake
WitMotion through unmodified bleak (BleSource -> Runner -> engine -> sinks).

SYNTHETIC: imu.sim sets (``set_without_standing_start`` regenerates them) cut to start in
the middle of the first rep or 0-1 s before it, with no pause between reps, as files cut
to the set are; the strap is on in a random orientation. Goals (issue 12): live, the
engine starts measuring within the first rep or two from the movement itself and says so
(the calibration event and its log line); refining later does not rewrite what was
reported; every whole rep of the set is counted.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest

from imu.ble.profiles import PROFILES
from imu.sim import make_lifter, simulate
from imu.sim.matching import iou
from imu.sim.recording import cut
from imu.sim.script import DeadliftSet, SessionScript, Stand
from imu.sinks.lines import LineOutput
from imu.text import Timeline
from tests.fakebluez.devices import WIT_NOTIFY, chop, witmotion_spec, witmotion_stream
from tests.fakebluez.session import LINK_LATENCY_S, sensor_clock, stream_live

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

WIT = "C4:00:00:00:00:01"
RATE_HZ = 100.0
PER_PACKET = 8
T0 = 1.75e9
SPEEDUP = 30.0


def set_without_standing_start(seed: int, start: str):
    """SYNTHETIC: 6 touch-and-go deadlifts of lifter ``seed`` (random mounting), the file cut
    to start mid-rep (``mid_rep``) or 0-1 s before the first rep (``before_first_rep``)
    and to end at the last lockout."""
    script = SessionScript(
        make_lifter(seed),
        (Stand(3.0, still=True), DeadliftSet(6, "touch_and_go")),
        0.0,
        f"live-no-standing-start-{seed}",
    )
    result = simulate(script, sampling_rate_hz=RATE_HZ, mounting="random", seed=seed)
    first, last = result.truth_reps.iloc[0], result.truth_reps.iloc[-1]
    rng = np.random.default_rng(seed)
    if start == "mid_rep":
        begin = first.start_s + rng.uniform(0.3, 0.6) * (first.end_s - first.start_s)
    else:
        begin = first.start_s - rng.uniform(0.0, 1.0)
    recording = cut(result, float(begin), float(last.end_s))
    samples = recording.session.samples()
    samples[:, 0] -= samples[0, 0]
    truth = recording.truth_reps[["start_s", "end_s"]].to_numpy() - begin
    return samples, truth


@pytest.mark.parametrize(("start", "seed"), [("mid_rep", 4), ("before_first_rep", 8)])
def test_live_without_standing_start_measures_from_the_first_reps_and_says_so(
    monkeypatch, start, seed
):
    samples, truth = set_without_standing_start(seed, start)
    assert len(truth) >= 5
    packets = chop(witmotion_stream(samples), itertools.repeat(20 * PER_PACKET))
    send_times = T0 + (np.arange(len(packets)) * PER_PACKET + PER_PACKET - 1) / RATE_HZ
    send_times = np.minimum(send_times, T0 + (len(samples) - 1) / RATE_HZ)  # the short last one
    sensor_clock(monkeypatch, packets, send_times)
    log = io.StringIO()
    sizes = [len(p) // 20 for p in packets]
    got, delivered = stream_live(
        monkeypatch, witmotion_spec(WIT), WIT_NOTIFY, packets, PER_PACKET / RATE_HZ / SPEEDUP,
        PROFILES["witmotion"], RATE_HZ, sizes,
        sinks=[LineOutput(log, timeline=Timeline.host_clock())], timeout_s=30,
    )  # fmt: skip
    assert all(delivered)
    origin = T0 + LINK_LATENCY_S

    # measuring starts from the movement within the first two whole reps, and says so
    calibrations = [(e, s) for e, s in zip(got.events, got.seen_s) if e["type"] == "calibration"]
    first, given_s = calibrations[0]
    assert first["ok"] and first["method"] == "movement"
    assert given_s - origin <= truth[1, 1] + 0.5, (given_s - origin, truth[:2])
    text = log.getvalue()
    assert "calibration ok: mounting" in text and "from the movement" in text
    assert "e+09" not in text  # every time a person reads is from the recording's start

    # every whole rep is counted, the ones before calibration too (their rows were held)
    reps = got.of_type("rep")
    found = [(r["start_s"] - origin, r["end_s"] - origin) for r in reps]
    for k, true_rep in enumerate(truth):
        assert sum(iou(f, true_rep) >= 0.5 for f in found) == 1, (k, found, truth)
    assert len(found) == len(truth)

    # refining does not rewrite what was reported: each sample's angles come out once, in
    # order; reps are numbered on, never reported twice; a refinement only applies later
    angles = np.vstack(got.angles)
    np.testing.assert_array_equal(angles[:, 0], got.all_samples()[:, 0])
    assert [r["rep"] for r in reps] == list(range(1, len(reps) + 1))
    for event, seen_s in calibrations[1:]:
        assert event.get("refined") and event["time_s"] >= given_s
    refined_lines = [line for line in text.splitlines() if "calibration refined" in line]
    assert len(refined_lines) == len(calibrations) - 1
    assert all(
        line.split("  ")[1].startswith("calibration refined: mounting") for line in refined_lines
    )
    assert np.isfinite(angles[angles[:, 0] >= given_s, 1]).all()
