"""The ``imu`` process's exit (imu.cli._before_exit): outputs complete, in-process callers untouched.

Sessions are SYNTHETIC (imu.sim, seed 4; the fixture regenerates them).
"""

from __future__ import annotations

import csv
import gc
import json
import subprocess
import sys

import pytest

from imu.cli import main
from imu.session import write_session
from imu.sim import demo_session, make_lifter, simulate


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory):
    """Two short synthetic sets at 100 Hz (imu.sim, seed 4)."""
    script = demo_session(make_lifter(1), seed=4, n_sets=2, reps_per_set=(3, 4), rest_s=(20, 25))
    path = tmp_path_factory.mktemp("exit") / "sim.csv"
    write_session(simulate(script, sampling_rate_hz=100, seed=4).session, path)
    return path


def imu_process(*args: str) -> subprocess.CompletedProcess:
    """``python -m imu ARGS`` as a user runs it (main() is the process's entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "imu", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.slow  # two whole processes: about 10 s
def test_a_finished_process_leaves_every_output_complete(session_csv, tmp_path, capsys):
    angles, reps, events = tmp_path / "angles.csv", tmp_path / "reps.csv", tmp_path / "ev.jsonl"
    analyzed = imu_process(
        "analyze", str(session_csv), "--json", "--angles", str(angles), "--reps", str(reps)
    )
    assert analyzed.returncode == 0, analyzed.stderr
    assert main(["analyze", str(session_csv), "--json"]) == 0
    in_process = json.loads(capsys.readouterr().out)
    assert json.loads(analyzed.stdout) == in_process  # stdout flushed, to the last byte
    assert len(in_process["reps"]) >= 4
    n_samples = in_process["quality"]["n_samples"]
    with open(angles, newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + n_samples  # header + one per sample
    with open(reps, newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == 1 + len(in_process["reps"])
    replayed = imu_process(
        "replay", str(session_csv), "--fast", "--no-display", "--events", str(events)
    )
    assert replayed.returncode == 0, replayed.stderr
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    logged_reps = [
        {k: v for k, v in e.items() if k != "type"} for e in logged if e["type"] == "rep"
    ]
    assert logged_reps == in_process["reps"]  # the event log was closed, nothing lost


def test_only_the_process_entry_point_freezes_the_heap(session_csv, monkeypatch, capsys):
    frozen = gc.get_freeze_count()
    assert main(["analyze", str(session_csv), "--json"]) == 0
    assert gc.get_freeze_count() == frozen  # a caller that goes on keeps a collectable heap
    monkeypatch.setattr(sys, "argv", ["imu", "analyze", str(session_csv), "--json"])
    try:
        assert main() == 0
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    capsys.readouterr()
