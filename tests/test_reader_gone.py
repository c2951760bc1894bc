"""stdout's reader goes away early (``imu ... | head -3``, ``script -c 'imu replay f' | head``):
no traceback, exit status 0 (docs/architecture.md, "Exit statuses"), every file written
complete and readable.

Each command runs as a user runs it: a subprocess whose stdout is a pipe (or a terminal, a
pty) that the reader closes early. Sessions are SYNTHETIC (imu.sim, seed 4).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imu.session import read_session, write_session
from imu.sim import demo_session, make_lifter, simulate

ROOT = Path(__file__).resolve().parent.parent
IMU = [sys.executable, "-m", "imu"]


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory) -> Path:
    """Two short synthetic sets at 100 Hz (imu.sim, seed 4), about 1:20."""
    script = demo_session(make_lifter(1), seed=4, n_sets=2, reps_per_set=(3, 4), rest_s=(20, 25))
    path = tmp_path_factory.mktemp("reader") / "sim.csv"
    write_session(simulate(script, sampling_rate_hz=100, seed=4).session, path)
    return path


def piped(args: list[str], lines: int, env: dict | None = None) -> tuple[int, str, list[bytes]]:
    """``imu ARGS | head -LINES``: the reader takes ``lines`` lines (0: none) and closes the
    pipe; the exit status, stderr and the lines read."""
    process = subprocess.Popen([*IMU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=ROOT, env=env)  # fmt: skip
    got = [process.stdout.readline() for _ in range(lines)]
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read().decode()
    return process.wait(120), err, got


_HUP_AS_IN_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
IN_A_TERMINAL = [sys.executable, "-c", _HUP_AS_IN_A_TERMINAL]
"""Prefix of a child that runs the rest of its argv with SIGHUP as in a terminal session (a
test run under nohup, as a CI job may be, passes SIGHUP ignored down to its children, and
imu keeps nohup's choice: then a hang-up would not end it)."""


def in_a_terminal(args: list[str], lines: int, *, hang_up: bool) -> tuple[int, str, list[str]]:
    """``script -c 'imu ARGS' /dev/null | head -LINES``: stdout is a terminal of 0 columns
    (one that never set its size, as script's without a terminal of its own), closed after
    ``lines`` lines; ``hang_up``: then SIGHUP, as the kernel sends when a terminal goes."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen([*IN_A_TERMINAL, *IMU, *args], stdout=slave, stderr=subprocess.PIPE,
                               cwd=ROOT, env=env)  # fmt: skip
    os.close(slave)
    text = b""
    try:
        while text.count(b"\n") < lines:
            text += os.read(master, 4096)
    finally:
        os.close(master)
    if hang_up:
        process.send_signal(signal.SIGHUP)
    with process.stderr:
        err = process.stderr.read().decode()
    return process.wait(120), err, text.decode(errors="replace").splitlines()[:lines]


def events_of(path: Path) -> list[dict]:
    text = path.read_text()
    assert text.endswith("\n")  # the last line whole
    return [json.loads(line) for line in text.splitlines()]


# --------------------------------------------------------------------------- analyze


@pytest.mark.parametrize("lines", [0, 1])
def test_analyze_into_a_closed_pipe_writes_its_files_and_exits_0(session_csv, tmp_path, lines):
    reps = tmp_path / "reps.csv"
    status, err, _ = piped(["analyze", str(session_csv), "--json", "--reps", str(reps)], lines)
    assert (status, err) == (0, "")
    with open(reps, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7  # 3 + 4 true reps (SYNTHETIC)


# --------------------------------------------------------------------------- replay


@pytest.mark.parametrize("display", [["--no-display"], []])
def test_replay_into_a_closed_pipe_closes_its_event_log_and_exits_0(session_csv, tmp_path, display):
    events = tmp_path / "events.jsonl"
    status, err, got = piped(
        ["replay", str(session_csv), "--speed", "20", *display, "--events", str(events)], 1
    )
    assert (status, err) == (0, "")
    assert got[0].startswith(b"0:00.0  calibration ok")
    logged = events_of(events)
    assert logged[0]["type"] == "calibration"


@pytest.mark.parametrize("display", [["--no-display"], []])
def test_replay_in_a_terminal_that_hangs_up_closes_its_event_log_and_exits_0(
    session_csv, tmp_path, display
):
    """The traceback a colleague saw (``script -q -c "imu replay ..." /dev/null | head -8``):
    a terminal 0 columns wide folded lines to width 0 (textwrap's ValueError, 'closing
    LineOutput failed'); the hangup then killed the process before the event log had a
    line (before: exit -1 by SIGHUP, an empty file; the display: an EIO traceback)."""
    events = tmp_path / "events.jsonl"
    argv = ["replay", str(session_csv), "--speed", "20", *display, "--events", str(events)]
    status, err, _ = in_a_terminal(argv, 1, hang_up=True)
    assert (status, err) == (0, "")
    assert events_of(events)[0]["type"] == "calibration"


def test_replay_in_a_terminal_closed_without_a_hangup_exits_0(session_csv, tmp_path):
    """EIO on every write once the terminal is gone (no SIGHUP: not its controlling one)."""
    events = tmp_path / "events.jsonl"
    argv = ["replay", str(session_csv), "--speed", "20", "--events", str(events)]
    status, err, _ = in_a_terminal(argv, 1, hang_up=False)
    assert (status, err) == (0, "")
    assert events_of(events)[0]["type"] == "calibration"


def test_replay_in_a_terminal_of_no_width_prints_whole_lines(session_csv):
    status, err, got = in_a_terminal(
        ["replay", str(session_csv), "--fast", "--no-display"], 2, hang_up=False
    )
    assert (status, err) == (0, "")
    assert got[0].startswith("0:00.0  calibration ok: mounting")
    assert "  rep 1.1  peak flexion" in got[1]


# --------------------------------------------------------------------------- report, batch


def test_report_into_a_closed_pipe_writes_its_report_and_exits_0(session_csv, tmp_path):
    html, table = tmp_path / "r.html", tmp_path / "r.csv"
    status, err, _ = piped(
        ["report", str(session_csv), "--no-model", "-o", str(html), "--csv", str(table)], 0
    )
    assert (status, err) == (0, "")
    assert html.read_text().rstrip().endswith("</html>")
    with open(table, newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 7


def test_batch_into_a_closed_pipe_writes_its_tables_and_exits_0(session_csv, tmp_path):
    out = tmp_path / "out"
    status, err, _ = piped(["batch", str(session_csv), "-o", str(out), "--jobs", "1",
                            "--no-model"], 0)  # fmt: skip
    assert status == 0 and "Traceback" not in err, err
    with open(out / "reps.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 7


# --------------------------------------------------------------------------- live


@pytest.mark.dbus
@pytest.mark.slow
@pytest.mark.parametrize("how", ["pipe", "terminal"])
def test_live_whose_reader_goes_away_closes_its_recording(tmp_path, how):
    """``imu live --record f | head -1`` (fake BlueZ, a WitMotion lying still: SYNTHETIC),
    then Ctrl-C, whose summary meets the closed pipe (before: 'closing LineOutput failed'
    and a traceback); or the terminal hangs up (before: killed by SIGHUP, the recording
    'in progress'). The recording is closed, saying so, with every row received."""
    from tests.fakebluez import FakeBluez
    from tests.fakebluez.devices import WIT_NOTIFY, chop, witmotion_spec, witmotion_stream
    from tests.test_live_cli import still_then_moving

    wit = "C4:00:00:00:00:01"
    record, events = tmp_path / "live.csv", tmp_path / "events.jsonl"
    with FakeBluez() as fake:
        fake.add_device(witmotion_spec(wit))
        notifications = chop(witmotion_stream(still_then_moving(600, seed=5)),
                             itertools.repeat(40))  # fmt: skip
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": fake.address}
        argv = [*IMU, "live", "--no-display", "--scan-timeout", "10", "--device", wit,
                "--no-model", "--record", str(record), "--events", str(events)]  # fmt: skip
        if how == "pipe":
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       cwd=ROOT, env=env)  # fmt: skip
            stream = fake.stream(wit, WIT_NOTIFY, notifications, interval_s=0.02)
            first = process.stdout.readline()  # "0:00.0  connected ..."
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and record.stat().st_size < 4000:
                time.sleep(0.1)  # rows on disk
            process.stdout.close()
            stream.result(timeout=60)
            process.send_signal(signal.SIGINT)  # Ctrl-C: the summary meets the closed pipe
        else:
            master, slave = pty.openpty()
            process = subprocess.Popen([*IN_A_TERMINAL, *argv], stdout=slave, stderr=subprocess.PIPE,
                                       cwd=ROOT, env=env)  # fmt: skip
            os.close(slave)
            stream = fake.stream(wit, WIT_NOTIFY, notifications, interval_s=0.02)
            first = b""
            while b"\n" not in first:
                first += os.read(master, 4096)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and record.stat().st_size < 4000:
                time.sleep(0.1)
            os.close(master)
            process.send_signal(signal.SIGHUP)
        status = process.wait(60)
        with process.stderr:
            err = process.stderr.read().decode()
        stream.result(timeout=60)  # the fake's stream ended before the fake closes
    assert b"connected" in first
    assert status == 0 and "Traceback" not in err, err
    recording = read_session(record)
    assert recording.metadata["recording"] != "in progress"  # closed, as Ctrl-C closes it
    assert len(recording.samples()) >= 40  # rows on disk when the reader went (>= 4000 bytes)
    assert events_of(events)[0]["type"] == "connected"
