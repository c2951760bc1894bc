"""`imu replay` against `imu analyze` on simulated sessions (synthetic data from imu.sim)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imu.cli import main
from imu.session import write_session
from imu.sim import demo_session, make_lifter, simulate


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory):
    """A short synthetic session: 2 sets of 3-5 reps (imu.sim, seed 4), 100 Hz."""
    script = demo_session(make_lifter(1), seed=4, n_sets=2, reps_per_set=(3, 5), rest_s=(35, 40))
    result = simulate(script, sampling_rate_hz=100, seed=4)
    path = tmp_path_factory.mktemp("replay") / "sim.csv"
    write_session(result.session, path)
    return path, result.truth_reps


def analyze_json(path, capsys, *extra) -> dict:
    assert main(["analyze", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_fast_replay_gives_exactly_the_reps_and_flags_of_analyze(session_csv, tmp_path, capsys):
    path, truth = session_csv
    events = tmp_path / "events.jsonl"
    options = ["--flexion-limit-deg", "45", "--hyperextension-deg", "8"]
    status = main(
        ["replay", str(path), "--fast", "--no-display", "--events", str(events), *options]
    )
    assert status == 0
    out = capsys.readouterr().out
    analysis = analyze_json(path, capsys, *options)
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    reps = [{k: v for k, v in e.items() if k != "type"} for e in logged if e["type"] == "rep"]
    # (a set found over after a later event, an alert on a bend that was no rep, says when)
    sets = [{k: v for k, v in e.items() if k not in ("type", "found_s")}
            for e in logged if e["type"] == "set"]  # fmt: skip
    assert len(reps) >= len(truth) - 1 > 0  # the session's reps were found (truth: imu.sim)
    assert reps == analysis["reps"]  # every field, including the flags
    assert sets == analysis["sets"]
    assert [e["kind"] for e in logged if e["type"] == "alert"].count("flexion_limit") >= 1
    assert logged[0]["type"] == "calibration" and logged[0]["ok"]
    assert f"{len(reps)} reps in {len(sets)} sets" in out


def test_real_time_replay_paces_by_the_recording_clock(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.arange(200) / 100.0  # 2 s at 100 Hz
    data = np.column_stack(
        [
            t,
            rng.normal(0, 0.05, (200, 2)),
            9.81 + rng.normal(0, 0.05, 200),
            rng.normal(0, 0.5, (200, 3)),
        ]
    )
    path = tmp_path / "still.csv"
    header = "# sampling_rate_hz: 100\ntime_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
    path.write_text(header + "\n".join(",".join(f"{v:.6f}" for v in row) for row in data) + "\n")
    import time

    start = time.monotonic()
    assert main(["replay", str(path), "--speed", "3", "--no-display", "--no-model"]) == 0
    elapsed = time.monotonic() - start
    # Paced: never faster than 3x the recording; the upper bound is generous because
    # start-up on a loaded machine varies, and only catches pacing far slower than asked.
    assert 1.99 / 3 * 0.9 < elapsed < 1.99 + 2.0
    assert "200 samples, 0 reps" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "missing.csv", "--fast"], "missing.csv"),
        (["replay", "{csv}", "--speed", "0"], "--speed must be a positive number"),
        (["replay", "{csv}", "--fast", "--events", "{csv}"], "--events would overwrite an input"),
        (["replay", "{csv}", "--fast", "--model", "nope.skops"], "nope.skops"),
        (["replay", "{csv}", "--fast", "--alert-command", "no-such-player-xyz"], "not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(session_csv, capsys, argv, message):
    path, _ = session_csv
    argv = [a.replace("{csv}", str(path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("imu replay: error:") and message in err[0]


def test_replay_leaves_the_process_signal_handlers_as_they_were(session_csv, capsys):
    """In process (a library call), replay's Ctrl-C/SIGTERM handling is undone on return:
    asyncio's loop, closing, set Python's defaults (an ignored SIGINT, as in a background
    job, became KeyboardInterrupt; a caller's SIGTERM handler was dropped)."""
    import signal

    def own(number, frame):  # a caller's SIGTERM handler
        pass

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, own)
        assert main(["replay", str(session_csv[0]), "--fast", "--no-display", "--no-model"]) == 0
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_lift_mismatch_names_only_a_lift_option_that_exists():
    """A '# lift:' line is matched without case, and a lift with no preset is not told to
    pass a --lift option argparse would refuse."""
    from imu.measure import lift_mismatch
    from imu.pipeline import LIFTS

    assert lift_mismatch({"lift": "Squat"}, "squat") is None
    assert lift_mismatch({"lift": ""}, "deadlift") is None
    assert lift_mismatch({"lift": "Squat"}, "deadlift") == (
        "the recording says lift Squat, measured as deadlift: pass --lift squat"
    )
    assert lift_mismatch({"lift": "bench press"}, "deadlift") == (
        "the recording says lift bench press, which has no preset, measured as deadlift "
        f"(presets: {', '.join(LIFTS)})"
    )
