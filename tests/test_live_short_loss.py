"""Short losses on devices without a clock (WitMotion, Thingy:52), through unmodified
bleak and the fake BlueZ: a notification or a few lost in the air with the link up,
shorter than the 0.25 s that used to be the least loss seen, against a link that merely
stalls and then delivers its backlog at once.

SYNTHETIC: the set is imu.sim's (``short_loss_set`` regenerates it); its reps and its
sample times are the truth. Each notification arrives at its send time on the sensor's
clock plus a fixed latency (tests/fakebluez/session.py), so the right host time of
every sample is known. The samples carry no time: the Timestamper counts them, so a
loss shows only as notifications that keep arriving late (imu/ble/timing.py). Goals:
the loss is a gap in the recording and the events, with the right count, and the
samples after it keep their true times (before, none was flagged: the samples after the
loss were placed up to 240 ms early and the gyroscope integrated the missing turn as if
it had not happened, bending flexion by up to 13 deg); a stall is no gap and moves no
sample.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from imu.ble.profiles import PROFILES
from imu.session import read_session
from imu.sim import make_lifter, simulate
from imu.sim.matching import iou
from imu.sim.script import DeadliftSet, SessionScript, Stand
from imu.sinks.recorder import Recorder
from tests.fakebluez import devices as fd
from tests.fakebluez.session import LINK_LATENCY_S, sensor_clock, stream_live

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

ADDRESS = "C4:00:00:00:00:07"
T0 = 1.75e9
SPEEDUP = 30.0
DEVICES = {
    # profile: (rate Hz, samples per notification, spec, characteristic, encoder)
    "witmotion": (100.0, 8, fd.witmotion_spec, fd.WIT_NOTIFY,
                  lambda s: fd.chop(fd.witmotion_stream(s), itertools.repeat(160))),
    "thingy52": (50.0, 1, lambda a: fd.thingy_spec(a), fd.THINGY_RAW,
                 lambda s: thingy_numbered(fd.thingy_packets(s))),
}  # fmt: skip


def thingy_numbered(packets: list[bytes]) -> list[bytes]:
    """Thingy:52 packets with their index in the compass field (which the profile does
    not read), so that samples at rest are distinct payloads for ``sensor_clock``."""
    return [p[:12] + i.to_bytes(6, "little") for i, p in enumerate(packets)]


def short_loss_set(rate_hz: float):
    """SYNTHETIC: a standing start, then 5 conventional deadlifts (imu.sim, lifter 3)."""
    script = SessionScript(
        make_lifter(3),
        (Stand(3.0, still=True), DeadliftSet(5, "conventional"), Stand(4.0)),
        0.0,
        "live-short-loss",
    )
    return simulate(script, sampling_rate_hz=rate_hz, seed=22)


@pytest.mark.parametrize(
    ("profile_name", "what", "n_notifications", "at"),
    [
        ("witmotion", "lost", 1, 0.85),
        ("witmotion", "lost", 3, 0.7),
        ("witmotion", "stall", 3, 0.7),
        ("thingy52", "lost", 6, 0.8),
        ("thingy52", "stall", 10, 0.8),
    ],
    ids=[
        "wit-80ms-lost",
        "wit-240ms-lost",
        "wit-240ms-stall",
        "thingy-120ms-lost",
        "thingy-200ms-stall",
    ],
)
def test_short_loss_is_a_gap_and_a_stall_is_not(
    monkeypatch, tmp_path, profile_name, what, n_notifications, at
):
    rate_hz, per, spec, uuid, encode = DEVICES[profile_name]
    result = short_loss_set(rate_hz)
    truth = result.truth_reps
    samples = result.session.samples()
    packets: list[bytes | None] = encode(samples)
    n_packets = len(packets)
    sizes = [min(per, len(samples) - i * per) for i in range(n_packets)]
    last = np.minimum(np.arange(n_packets) * per + per, len(samples)) - 1
    send = T0 + samples[last, 0]
    # the notifications from the one holding sample `at` of rep 3
    when = truth.start_s[2] + at * (truth.end_s[2] - truth.start_s[2])
    first = int(np.searchsorted(samples[last, 0], when))
    hit = list(range(first, first + n_notifications))
    if what == "stall":  # held back, then delivered at once with the next one
        send[hit] = send[hit[-1] + 1]
    sensor_clock(monkeypatch, packets, send)
    kept = np.ones(len(samples), dtype=bool)
    if what == "lost":
        for i in hit:
            packets[i] = None
        kept[hit[0] * per : (hit[-1] + 1) * per] = False

    record = tmp_path / "live.csv"
    got, _ = stream_live(
        monkeypatch, spec(ADDRESS), uuid, packets, per / rate_hz / SPEEDUP,
        PROFILES[profile_name], rate_hz, sizes,
        sinks=[Recorder(record, {"sampling_rate_hz": rate_hz, "synthetic": "imu.sim"})],
    )  # fmt: skip
    received = got.all_samples()
    assert len(received) == kept.sum()
    # every sample at its true time: the loss's own length is kept, a stall moves nothing
    host = received[:, 0] - T0 - LINK_LATENCY_S
    np.testing.assert_allclose(host, samples[kept, 0], rtol=0, atol=0.003)
    gaps = got.of_type("gap")
    recording = read_session(record)
    marks = np.flatnonzero(recording.data["gap"].to_numpy()).tolist()
    if what == "stall":
        assert gaps == [] and got.gap_rows == [] and marks == []
        assert got.status["lost_samples"] == 0
    else:
        after = hit[0] * per  # the first sample after the loss, among those received
        assert got.gap_rows == [after] and marks == [after]
        (gap,) = gaps
        lost_s = n_notifications * per / rate_hz
        assert gap["duration_s"] == pytest.approx(lost_s + 1 / rate_hz, abs=0.003)
        assert got.status["lost_samples"] == n_notifications * per
    assert len(recording.samples()) == kept.sum()

    found = [(r["start_s"] - T0 - LINK_LATENCY_S, r["end_s"] - T0 - LINK_LATENCY_S)
             for r in got.of_type("rep")]  # fmt: skip
    lost = got.of_type("rep_lost")
    for k in range(len(truth)):
        matched = [f for f in found if iou(f, (truth.start_s[k], truth.end_s[k])) >= 0.5]
        assert len(matched) + (len(lost) if k == 2 else 0) == 1, (k, matched, lost)
    assert len(found) + len(lost) == len(truth)
    assert {r["set"] for r in got.of_type("rep")} == {1}
    assert got.summary["n_reps_lost"] == len(lost)
