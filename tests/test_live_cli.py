"""`imu live` end to end: the CLI, unmodified bleak, a fake BlueZ, a simulated lifter.

The CLI runs as a subprocess (as a user runs it: Ctrl-C, kill -9) pointed at the fake's
private system bus; the fake streams packets encoded from synthetic samples (imu.sim).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from imu.cli import main
from imu.session import read_session
from imu.sim import demo_session, make_lifter, simulate
from tests.fakebluez import FakeBluez
from tests.fakebluez.devices import (
    MOVESENSE_COMMAND,
    MOVESENSE_DATA,
    WIT_NOTIFY,
    chop,
    movesense_packets,
    movesense_spec,
    witmotion_quantise,
    witmotion_spec,
    witmotion_stream,
)

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

WIT = "C4:00:00:00:00:01"
MOVESENSE = "0C:8C:DC:00:00:01"


@pytest.fixture
def fake(monkeypatch):
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        yield fake


def start_live(fake: FakeBluez, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": fake.address}
    return subprocess.Popen(
        [sys.executable, "-m", "imu", "live", "--no-display", "--scan-timeout", "10", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt(process: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, then the CLI's output; it must exit 0 by itself."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out, err


def assert_same_reps(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for rep_a, rep_b in zip(a, b):
        assert rep_a.keys() == rep_b.keys()
        for key, value in rep_a.items():
            if isinstance(value, float) and isinstance(rep_b[key], float):
                assert np.isclose(value, rep_b[key], rtol=1e-4, atol=1e-3), (key, value, rep_b[key])
            else:
                assert value == rep_b[key], key


def still_then_moving(n: int, seed: int) -> np.ndarray:
    """Synthetic samples: lying still face up, with sensor noise (no reps)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 7))
    out[:, 1:4] = rng.normal(0, 0.3, (n, 3)) + [0, 0, 9.81]
    out[:, 4:7] = rng.normal(0, 2, (n, 3))
    return out


@pytest.mark.slow
def test_live_session_of_a_simulated_lifter_matches_analyze_of_its_recording(fake, tmp_path):
    # synthetic: imu.sim demo session (lifter 2, seed 7), one set, at Movesense's 104 Hz
    script = demo_session(make_lifter(2), seed=7, n_sets=1, reps_per_set=(4, 4), non_reps=False)
    sim = simulate(script, sampling_rate_hz=104, seed=7)
    samples = sim.session.samples()
    samples[:, 0] = 1000.0 + np.arange(len(samples)) / 104.0  # the sensor's own clock
    packets = movesense_packets(samples, per_packet=8)
    fake.add_device(movesense_spec(MOVESENSE))
    stream = fake.stream(MOVESENSE, MOVESENSE_DATA, packets, interval_s=8 / 104 / 8)  # 8x
    record, events = tmp_path / "live.csv", tmp_path / "events.jsonl"
    live = start_live(
        fake, "--device", "Movesense 223430000123", "--record", str(record), "--events", str(events)
    )
    assert all(stream.result(timeout=60))
    time.sleep(0.5)
    out, _ = interrupt(live)
    # configured as the protocol says: HELLO, then SUBSCRIBE /Meas/IMU6/104
    assert fake.writes(MOVESENSE) == [
        (MOVESENSE_COMMAND, bytes([0, 0x48])),
        (MOVESENSE_COMMAND, bytes([1, 0x63]) + b"/Meas/IMU6/104"),
        (MOVESENSE_COMMAND, bytes([2, 0x63])),  # unsubscribe on Ctrl-C
    ]
    recording = read_session(record)
    assert recording.metadata["device"] == "movesense"
    assert recording.metadata["sampling_rate_hz"] == "104"
    got = recording.samples()
    assert len(got) == len(samples)  # every sample, once
    np.testing.assert_allclose(got[:, 1:], samples[:, 1:].astype(np.float32), rtol=1e-6, atol=1e-5)
    assert np.all(np.diff(got[:, 0]) > 0)
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    live_reps = [{k: v for k, v in e.items() if k != "type"} for e in logged if e["type"] == "rep"]
    assert len(live_reps) == len(sim.truth_reps) == 4
    analysed = subprocess.run(
        [sys.executable, "-m", "imu", "analyze", str(record), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    # the same reps and flags; numbers equal up to the recording's text precision
    # (time to 1 us, values to 7 significant digits: SessionWriter)
    assert_same_reps(live_reps, json.loads(analysed.stdout)["reps"])
    assert [e["type"] for e in logged][:2] == ["connected", "calibration"]
    assert f"recording: {record}" in out
    assert "4 reps in 1 set" in out


def test_kill_9_leaves_every_sample_received_in_a_recording_that_says_so(fake, tmp_path):
    """``kill -9`` of ``imu live --record`` mid-stream: the file holds every sample the
    process handled (each notification is handed to the OS at once; before, up to the last
    second was lost: 296 of 300 on disk), loads, and ``imu analyze`` says it was not closed."""
    truth = still_then_moving(320, seed=3)
    notifications = chop(witmotion_stream(truth), itertools.repeat(40))  # 2 samples, 50/s
    fake.add_device(witmotion_spec(WIT))
    record = tmp_path / "crash.csv"
    live = start_live(fake, "--device", WIT, "--record", str(record), "--no-model")
    killed_at = 150  # 3 s of streaming
    stream = fake.stream(WIT, WIT_NOTIFY, notifications[:killed_at], interval_s=0.02)
    stream.result(timeout=60)
    # killed once the process has handled what reached it (on a loaded machine it may lag
    # the stream by seconds): the file stops growing for 1.5 s, then kill -9
    rows, still_since = -1, time.monotonic()
    deadline = still_since + 30
    while time.monotonic() < deadline and time.monotonic() - still_since < 1.5:
        time.sleep(0.1)
        now = record.read_bytes().count(b"\n") if record.exists() else 0
        if now != rows:
            rows, still_since = now, time.monotonic()
    live.send_signal(signal.SIGKILL)
    live.communicate(timeout=10)
    assert live.returncode == -signal.SIGKILL
    recording = read_session(record)
    got = recording.samples()
    sent = 2 * killed_at
    print(f"kill -9 after {sent} samples sent: {len(got)} on disk")
    assert sent - 10 <= len(got) <= sent  # only notifications still in flight (D-Bus) lost
    np.testing.assert_allclose(got[:, 1:], witmotion_quantise(truth)[: len(got), 1:], atol=1e-5)
    assert recording.metadata["recording"] == "in progress"
    (note,) = [w for w in recording.warnings if "not closed" in w]
    assert note.endswith("it holds every sample written up to its last row")
    env = {**os.environ, "COLUMNS": "300"}
    analysed = subprocess.run(
        [sys.executable, "-m", "imu", "analyze", str(record), "--no-model"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert analysed.returncode == 0, analysed.stderr
    said = " ".join((analysed.stdout + analysed.stderr).split())  # folded lines unfolded
    assert "the recording was not closed (the recorder was killed or crashed" in said


def test_link_loss_mid_session_reconnects_into_the_same_recording_with_a_gap_mark(fake, tmp_path):
    truth = still_then_moving(300, seed=4)
    notifications = chop(witmotion_stream(truth), itertools.repeat(40))
    fake.add_device(witmotion_spec(WIT))
    dropped_at = 60

    def drop(i: int) -> None:
        if i == dropped_at:
            fake.device(WIT).refuse_next_connects = 1
            fake.device(WIT).drop_link()

    record, events = tmp_path / "rec.csv", tmp_path / "events.jsonl"
    live = start_live(
        fake, "--device", WIT, "--record", str(record), "--events", str(events), "--no-model"
    )
    stream = fake.stream(WIT, WIT_NOTIFY, notifications, interval_s=0.02, on_packet=drop)
    delivered = np.repeat(stream.result(timeout=60), 2)
    time.sleep(0.3)
    out, _ = interrupt(live)
    recording = read_session(record)
    assert recording.metadata["recording"] == "complete"  # closed by Ctrl-C: no note
    assert not [w for w in recording.warnings if "not closed" in w]
    # everything received is in the one file, in order; lost packets are not invented
    np.testing.assert_allclose(
        recording.samples()[:, 1:], witmotion_quantise(truth)[delivered][:, 1:], atol=1e-5
    )
    assert np.flatnonzero(recording.data["gap"].to_numpy()).tolist() == [2 * dropped_at]
    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert [k for k in kinds if k in ("connected", "disconnected")] == [
        "connected",
        "disconnected",
        "connected",
    ]
    assert "disconnected" in out and "reconnected" in out
    assert "link lost once, reconnected\n" in out
    # Ctrl-C is how a live session ends: "stopped", not "interrupted" as a cut replay
    assert any(line.startswith("session stopped: ") for line in out.splitlines()), out


def test_no_device_and_ambiguous_devices_are_one_line_errors(fake, tmp_path, capsys):
    assert main(["live", "--scan-timeout", "0.3", "--no-display"]) == 2
    assert "no supported IMU advertised within 0.3 s" in capsys.readouterr().err
    fake.add_device(witmotion_spec(WIT))
    fake.add_device(witmotion_spec("C4:00:00:00:00:02", name="WT901BLE68"))
    assert main(["live", "--scan-timeout", "0.5", "--no-display"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imu live: error: 2 IMUs found, choose one with --device ADDRESS")
    assert WIT in err and "C4:00:00:00:00:02" in err and "\n" not in err
    existing = tmp_path / "exists.csv"
    existing.write_text("keep me\n")
    assert main(["live", "--device", WIT, "--record", str(existing), "--no-display"]) == 2
    assert "exists already (use --force to overwrite)" in capsys.readouterr().err
    assert existing.read_text() == "keep me\n"
    assert main(["live", "--device", WIT, "--profile", "nope", "--no-display"]) == 2
    assert "unknown device profile 'nope'" in capsys.readouterr().err
    assert main(["live", "--device", WIT, "--rate", "333", "--no-display"]) == 2
    assert "cannot stream at 333 Hz" in capsys.readouterr().err
