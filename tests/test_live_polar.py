"""`imu live --profile polar-h10` end to end against a fake H10 that answers as documented.

The fake (tests/fakebluez/devices.py) replies byte for byte as Polar's PMD documents
describe, including the reserved byte at the end of the H10's "start ACC" reply, and
streams raw int16 mG ACC frames encoded from a SYNTHETIC imu.sim set (lifter 3, seed 5:
stand, 5 reps none of them hyperextended, stand) with a forward push of 4 m/s^2 at each
lockout (imu.sim.disturb.push_at_lockouts: the hips driving through, which without a
gyroscope used to read as a hyperextension). The CLI runs as a subprocess through
unmodified bleak.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from imu.session import read_session
from imu.sim import DeadliftSet, SessionScript, Stand, make_lifter, simulate
from imu.sim.disturb import push_at_lockouts
from tests.fakebluez import FakeBluez
from tests.fakebluez import devices as fd

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

H10 = "A0:9E:1A:00:00:10"
NAME = "Polar H10 8A1B2C3D"
RATE_HZ = 100


@pytest.mark.slow
def test_live_polar_h10_records_the_stream_and_counts_the_reps(monkeypatch, tmp_path):
    script = SessionScript(
        make_lifter(3),
        (Stand(3.0, still=True), DeadliftSet(5, hyperextended=(False,) * 5), Stand(3.0)),
    )
    sim = simulate(script, sampling_rate_hz=RATE_HZ, seed=5)
    samples = push_at_lockouts(sim)
    samples[:, 0] = 1000.0 + np.arange(len(samples)) / RATE_HZ  # the sensor's own clock
    packets = fd.polar_packets(samples, with_gyro=False, per_frame=12)
    record, events = tmp_path / "live.csv", tmp_path / "events.jsonl"
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        fake.add_device(fd.polar_spec(H10, NAME))
        stream = fake.stream(H10, fd.POLAR_DATA, packets, interval_s=12 / RATE_HZ / 8)  # 8x
        live = subprocess.Popen(
            [sys.executable, "-m", "imu", "live", "--no-display", "--scan-timeout", "10",
             "--device", NAME, "--profile", "polar-h10",
             "--record", str(record), "--events", str(events)],
            env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": fake.address},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert all(stream.result(timeout=90))
        time.sleep(0.5)
        live.send_signal(signal.SIGINT)
        out, err = live.communicate(timeout=30)
        writes = [data.hex(" ") for _, data in fake.writes(H10)]
    assert live.returncode == 0, err
    # settings read, then the documented start (no CHANNELS), then stop on Ctrl-C
    assert writes == ["01 02", "02 02 00 01 64 00 01 01 10 00 02 01 08 00", "03 02"]
    got = read_session(record).samples()
    assert len(got) >= 0.95 * len(samples)
    expected = fd.polar_quantise(samples, False)[: len(got), 1:4]
    np.testing.assert_allclose(got[:, 1:4], expected, rtol=1e-6, atol=1e-5)  # 7 digits
    assert np.isnan(got[:, 4:7]).all()
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    reps = [e for e in logged if e["type"] == "rep"]
    assert abs(len(reps) - len(sim.truth_reps)) <= 1
    assert not any(r["hyperextended"] for r in reps)  # the truth has none
    assert not any(e["type"] == "alert" and e["kind"] == "hyperextension" for e in logged)
    assert "accelerometer only" in out + err or any(
        e["type"] == "calibration" and e["mode"] == "accelerometer_only" for e in logged
    )
