"""Garbage from a device, through unmodified bleak and the fake BlueZ: notifications of
the wrong length, with a wrong header, or bytes between packets are ignored, counted,
and said once (a ``bad_data`` event, one log line, a count in the summary); every real
sample around them still comes through, and nothing raises.

SYNTHETIC: the samples are a sensor swinging at 1 Hz (``swinging`` below).
"""

from __future__ import annotations

import numpy as np
import pytest

from imu.ble.profiles import PROFILES
from imu.sinks.lines import describe, summary_lines
from tests.fakebluez import devices as fd
from tests.fakebluez.session import sensor_clock, stream_live

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

ADDRESS = "C4:00:00:00:00:0B"
T0 = 1.75e9


def swinging(n: int, rate_hz: float) -> np.ndarray:
    """SYNTHETIC: a sensor swinging 40 deg forward and back at 1 Hz, with noise."""
    rng = np.random.default_rng(5)
    t = np.arange(n) / rate_hz
    angle = np.radians(40) * np.sin(2 * np.pi * t)
    out = np.zeros((n, 7))
    out[:, 0] = t
    out[:, 1] = -9.81 * np.sin(angle) + rng.normal(0, 0.2, n)
    out[:, 3] = 9.81 * np.cos(angle) + rng.normal(0, 0.2, n)
    out[:, 5] = np.degrees(np.radians(40) * 2 * np.pi * np.cos(2 * np.pi * t))
    out[:, 4] = rng.normal(0, 1, n)
    return out


def witmotion_with_garbage(samples: np.ndarray) -> tuple[list[bytes], list[int], int]:
    """Notifications of 4 packets; after every 10th, garbage: bytes without 0x55, a
    packet whose header says 55 62 (no such packet), or junk before 4 real packets.
    Returns (notifications, samples in each, garbage notifications)."""
    stream = fd.witmotion_stream(samples)
    packets, sizes, bad = [], [], 0
    for k, i in enumerate(range(0, len(stream), 80)):
        chunk = stream[i : i + 80]
        if k % 10 == 5:
            kind = (k // 10) % 3
            junk = bytes([0x10 + k % 64, 0x22, 0x33, 0x44])
            if kind == 0:
                packets.append(junk * 3)
                sizes.append(0)
            elif kind == 1:
                packets.append(b"\x55\x62" + junk * 4 + bytes([k % 256, 1]))
                sizes.append(0)
            else:
                chunk = junk + chunk  # junk, then real packets in one notification
            bad += 1
        packets.append(chunk)
        sizes.append(len(chunk) // 20)
    return packets, sizes, bad


def thingy_with_garbage(samples: np.ndarray) -> tuple[list[bytes], list[int], int]:
    """One sample per notification; every 25th is followed by one of 7 or 19 bytes."""
    packets, sizes, bad = [], [], 0
    for k, p in enumerate(fd.thingy_packets(samples)):
        packets.append(p[:12] + k.to_bytes(6, "little"))  # distinct payloads
        sizes.append(1)
        if k % 25 == 10:
            packets.append(bytes([k % 256]) * (7 if k % 50 == 10 else 19))
            sizes.append(0)
            bad += 1
    return packets, sizes, bad


CASES = {
    "witmotion": (100.0, fd.witmotion_spec, fd.WIT_NOTIFY, witmotion_with_garbage),
    "thingy52": (50.0, fd.thingy_spec, fd.THINGY_RAW, thingy_with_garbage),
}


@pytest.mark.parametrize("profile_name", list(CASES))
def test_garbage_is_counted_and_said_once_and_every_sample_comes_through(monkeypatch, profile_name):
    rate_hz, spec, uuid, encode = CASES[profile_name]
    samples = swinging(int(12 * rate_hz), rate_hz)
    packets, sizes, n_bad = encode(samples)
    assert n_bad >= 6
    # each notification arrives when its last sample was taken (garbage: with the one before)
    last = np.cumsum(sizes) - 1
    send = T0 + samples[np.maximum(last, 0), 0]
    sensor_clock(monkeypatch, packets, send)
    got, delivered = stream_live(
        monkeypatch, spec(ADDRESS), uuid, packets, 0.002, PROFILES[profile_name], rate_hz, sizes
    )
    assert all(delivered)
    received = got.all_samples()
    assert len(received) == len(samples)  # every real sample, none invented
    quantise = fd.witmotion_quantise if profile_name == "witmotion" else fd.thingy_quantise
    np.testing.assert_allclose(received[:, 1:], quantise(samples)[:, 1:], atol=1e-6)
    assert got.gap_rows == []
    (bad,) = got.of_type("bad_data")
    assert bad["device"] == ADDRESS
    line = describe(bad)
    assert "cannot be read as" in line and "\n" not in line
    assert got.summary["n_undecodable"] == n_bad
    assert got.status["decode_errors"] == n_bad
    said = [s for s in summary_lines(got.summary) if "could not be read" in s]
    assert said == [f"{n_bad} notifications from the device could not be read as samples (ignored)"]
