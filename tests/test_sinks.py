"""Sinks, alert policy and the runner, against hand-made streams with known answers."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

from imu.ble.source import Batch, FileSource
from imu.errors import ImuError, InputError
from imu.session import Session, read_session
from imu.sinks.alerts import AlertSound
from imu.sinks.display import Display, gauge
from imu.sinks.events import EventLog
from imu.sinks.lines import (
    HOLD_LIMIT_S,
    LineOutput,
    LogOrder,
    SessionLog,
    describe,
    fold,
    summary_lines,
)
from imu.sinks.recorder import Recorder
from imu.sinks.runner import Runner
from imu.text import Timeline


def angles_of(time_s: np.ndarray, flexion_deg: np.ndarray) -> np.ndarray:
    return np.column_stack([time_s, flexion_deg, np.zeros_like(time_s), np.zeros_like(time_s)])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_alert_sound_rings_the_bell_on_a_terminal_only_or_runs_the_command(tmp_path):
    terminal = _Terminal()
    bell = AlertSound(terminal=terminal, cooldown_s=60)
    bell.on_event({"type": "rep"})
    bell.on_event({"type": "alert", "kind": "flexion_limit"})
    bell.on_event({"type": "alert", "kind": "flexion_limit"})  # within the cooldown: silent
    bell.on_event({"type": "alert", "kind": "rounded"})  # a flagged rep always sounds
    assert terminal.getvalue() == "\a\a"
    assert bell.n_cues == 2
    log = io.StringIO()  # stderr redirected to a file or a pipe: no bell characters in it
    AlertSound(terminal=log).on_event({"type": "alert", "kind": "rounded"})
    assert log.getvalue() == ""
    marker = tmp_path / "cue"
    script = tmp_path / "cue.py"
    script.write_text(f"import sys; open({str(marker)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    sound = AlertSound(f"{sys.executable} {script} {{kind}}")
    sound.on_event({"type": "alert", "kind": "flexion_limit"})
    sound.close({})
    assert marker.read_text() == "flexion_limit\n"
    with pytest.raises(ImuError, match="'no-such-player-xyz' not found"):
        AlertSound("no-such-player-xyz --loud")


def test_the_bell_under_the_live_display_sounds_without_a_blank_log_line(monkeypatch):
    """rich's Live catches stderr and prints each write as a log line: a bare "\\a" there
    became an empty line under every alert (and rich dropped the bell itself). The sinks
    of replay/live ring it through the display's console instead."""
    import argparse
    import re

    from imu.commands.live import build_sinks

    screen, stderr = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", screen)  # the display's terminal
    monkeypatch.setattr(sys, "stderr", stderr)  # the same terminal, caught by Live
    args = argparse.Namespace(events=None, force=False, no_display=False,
                              flexion_limit_deg=None, alert_command=None)
    sinks = build_sinks(args, "imu replay - test", timeline=Timeline(100.0))
    assert [type(sink).__name__ for sink in sinks] == ["Display", "AlertSound"]
    sinks[0].on_samples(np.array([[100.0, 0, 0, 9.8, 0, 0, 0]]), False)
    alert = {"type": "alert", "kind": "rounded", "time_s": 103.0, "set": 1, "rep": 1,
             "p_rounded": 0.9}
    for sink in sinks:
        sink.on_event(alert)
    sinks[0].on_event({**alert, "time_s": 104.0})
    for sink in sinks:
        sink.close({"ended_by": "finished", "duration_s": 5.0, "n_reps": 0})
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # cursor moves, colours
    assert text.count("\a") == 1 and stderr.getvalue() == ""
    before_second = text.split("0:04.0  ALERT")[0]
    log = [line.split("\r")[-1] for line in before_second.split("\n")]
    log = [line for line in log if not line.startswith(("\u256d", "\u2502", "\u2570"))]  # panel
    assert log == ["0:03.0  ALERT rep 1.1 rounded (p=0.90)", ""]  # "" = where the next starts


@pytest.mark.parametrize("command", ["paplay a.oga > /dev/null", "paplay a.oga|tee x", "a; b"])
def test_alert_command_refuses_shell_syntax_it_would_pass_on_as_words(command):
    with pytest.raises(ImuError, match="not run through a shell"):
        AlertSound(command)


def test_alert_command_runs_a_shell_line_through_sh_c(tmp_path):
    marker = tmp_path / "cue"
    sound = AlertSound(f"sh -c 'echo {{kind}} >> {marker}'")
    sound.on_event({"type": "alert", "kind": "rounded"})
    sound.close({})
    assert marker.read_text() == "rounded\n"


def test_event_log_writes_json_lines_with_null_for_nan_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.on_event(
        {"type": "rep", "set": 1, "rep": 1, "p_rounded": float("nan"), "peak": np.float64(5.5)}
    )
    log.on_event(
        {"type": "gap", "start_s": 1.0, "end_s": 2.0, "duration_s": 1.0, "restarted": True}
    )
    log.close({})
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"type": "rep", "set": 1, "rep": 1, "p_rounded": None, "peak": 5.5},
        {"type": "gap", "start_s": 1.0, "end_s": 2.0, "duration_s": 1.0, "restarted": True},
    ]
    with pytest.raises(InputError, match="exists already"):
        EventLog(path)
    EventLog(path, force=True).close({})
    assert path.read_text() == ""


def test_describe_gives_one_line_per_event_kind_with_times_from_the_start():
    rep = {
        "type": "rep",
        "set": 2,
        "rep": 3,
        "end_s": 1061.25,
        "peak_flexion_deg": 71.04,
        "lockout_extension_deg": -0.04,  # no "-0.0"
        "descent_s": 1.2,
        "ascent_s": 0.9,
        "rounded": True,
        "p_rounded": 0.8,
        "hyperextended": False,
    }
    timeline = Timeline(1000.0)
    assert describe(rep, timeline, threshold=0.166) == (
        "1:01.2  rep 2.3  peak flexion 71.0 deg  lockout 0.0 deg  descent 1.20 s  "
        "ascent 0.90 s  ROUNDED (p=0.80 ≥ 0.17)"
    )
    good = {**rep, "rounded": False, "p_rounded": 0.165}  # two digits would read 0.17 < 0.17
    assert describe(good, timeline, 0.166).endswith("good (p=0.165 < 0.166)")
    no_model = {**rep, "rounded": None, "p_rounded": None, "hyperextended": True}
    assert describe(no_model, timeline).endswith("  HYPEREXTENDED")
    alert = {"type": "alert", "kind": "rounded", "time_s": 1061.25, "set": 2, "rep": 3}
    assert describe({**alert, "p_rounded": 0.8}, timeline, 0.166) == (
        "1:01.2  ALERT rep 2.3 rounded (p=0.80 ≥ 0.17)"
    )
    withdrawn = {
        "type": "alert_withdrawn",
        "kind": "rounded",
        "time_s": 9.0,
        "set": 1,
        "rep": 4,
        "message": "rep 1.4 was the bar put down: its rounded alert is withdrawn",
    }
    assert describe(withdrawn, Timeline(2.0)) == (
        "0:07.0  alert withdrawn: rep 1.4 was the bar put down: its rounded alert is withdrawn"
    )
    gap = {"type": "gap", "start_s": 1.0, "end_s": 3.5, "duration_s": 2.5, "restarted": True}
    assert describe(gap) == (
        "0:03.5  gap of 2.50 s in the data (too long to bridge: angles start again)")
    lost = {"type": "rep_lost", "time_s": 12.25, "message": "an excursion was cut off by a gap"}
    assert describe(lost, Timeline(2.0)) == (
        "0:10.2  a rep may be lost: an excursion was cut off by a gap"
    )
    assert describe({"type": "disconnected", "device": "AA", "reason": "link lost"}) == (
        "disconnected AA (link lost)"
    )
    one_rep = {"type": "set", "set": 1, "n_reps": 1, "end_s": 3725.0, "n_rounded": 0,
               "n_hyperextended": 0, "tempo_trend": 0.0, "flexion_drift_deg": -0.01}  # fmt: skip
    assert describe(one_rep) == (
        "1:02:05.0  set 1 done: 1 rep, 0 flagged, tempo trend 0.00 s/rep, peak flexion rise 0.0 deg"
    )
    assert describe({**one_rep, "n_reps": 7, "n_reps_lost": 3}).startswith(
        "1:02:05.0  set 1 done: 7 reps (+ 3 may be lost in gaps in the data), 0 flagged, "
    )


def test_wall_clock_shown_beside_when_the_recording_says_when_it_started(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        started = {"started_utc": "2026-12-07T01:00:00+00:00"}
        # a simulator-like clock: the first sample is at started_utc
        timeline = Timeline.for_recording(1054.6, started)
        assert timeline.stamp(1054.6 + 75.25) == "1:15.2 (01:01:15)"
        # a live recording: the samples are Unix time already
        unix = Timeline.for_recording(1796605203.5, started)
        assert unix.stamp(1796605203.5 + 10) == "0:10.0 (01:00:13)"
        assert Timeline.for_recording(1054.6, {}).stamp(1060.0) == "0:05.4"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_calibration_line_is_stamped_where_its_angles_start_and_says_when_it_settled():
    log = SessionLog(Timeline(100.0))
    log.see(np.array([[100.0, 0, 0, 9.8, 0, 0, 0], [112.8, 0, 0, 9.8, 0, 0, 0]]))
    event = {"type": "calibration", "ok": True, "quality": 0.29, "mounting": "PZPYNX",
             "time_s": 101.5, "message": "calibrated: still period, forward axis assumed (no "
             "forward bend deeper than 30 deg before the end; flexion sign may be wrong: "
             "pass --mounting)"}  # fmt: skip
    assert log.lines(event) + log.flush() == [
        (
            "0:00.0  calibration ok: mounting PZPYNX (quality 0.29), still period at 0:01.5, "
            "forward axis assumed (no forward bend deeper than 30 deg before the end; flexion "
            "sign may be wrong: pass --mounting); angles from 0:00.0, settled at 0:12.8"
        )
    ]


def test_log_puts_an_early_alert_after_the_rep_before_it():
    def rep(n):
        return {"type": "rep", "set": 1, "rep": n, "end_s": 10.0 * n}

    def alert(n):
        return {"type": "alert", "kind": "rounded", "set": 1, "rep": n, "time_s": 10.0 * n}

    order = LogOrder()
    stream = [rep(1), alert(3), rep(2), rep(3), alert(1)]  # engine order (alert 1 at its rep)
    written = [e for event in stream for e in order.push(event)]
    assert [(e["type"], e["rep"]) for e in written] == [
        ("rep", 1), ("rep", 2), ("alert", 3), ("rep", 3), ("alert", 1)
    ]  # fmt: skip
    order.push(alert(5))  # rep 1.4 never comes (not a rep after all): out at the set, or late
    assert order.push({"type": "set", "set": 1})[0]["rep"] == 5
    order.push(alert(7))
    assert order.due(70.0 + HOLD_LIMIT_S / 2) == [] and len(order.due(81.0)) == 1


@dataclass
class Step:
    angles: np.ndarray
    events: list = field(default_factory=list)


class EchoEngine:
    """Test double with the Engine contract: flexion = 100 * acc_x; a flagged rep at t >= 1 s."""

    def __init__(self):
        self.updates = []
        self.finished = False
        self._rep_sent = False

    def update(self, samples, gap_before=False):
        self.updates.append((samples.copy(), gap_before))
        events = []
        if not self._rep_sent and samples[-1, 0] >= 1.0:
            self._rep_sent = True
            end = float(samples[-1, 0])
            rep = {"type": "rep", "set": 1, "rep": 1, "end_s": end, "rounded": True}
            events.append({**rep, "p_rounded": 0.9, "hyperextended": False})
            alert = {"type": "alert", "kind": "rounded", "time_s": end, "set": 1, "rep": 1}
            events.append({**alert, "message": "rep looks rounded (p = 0.90)"})
        return Step(angles_of(samples[:, 0], 100 * samples[:, 1]), events)

    def finish(self):
        self.finished = True
        return Step(np.empty((0, 4)), [{"type": "set", "set": 1, "n_reps": 1, "end_s": 2.0}])


def recorded_session(n: int, rate_hz: float = 100.0, gap_rows=()) -> Session:
    import pandas as pd

    t = np.arange(n) / rate_hz
    data = pd.DataFrame(
        {
            "time_s": t,
            "acc_x": 0.7 * np.sin(np.pi * t),
            "acc_y": 0.0,
            "acc_z": 9.81,
            "gyr_x": 0.0,
            "gyr_y": 0.0,
            "gyr_z": 0.0,
            "gap": 0,
        }
    )
    data.loc[list(gap_rows), "gap"] = 1
    return Session(data=data, metadata={"sampling_rate_hz": str(rate_hz), "device": "test"})


def test_file_source_chunks_split_at_gap_marks_and_pace_in_real_time():
    source = FileSource(recorded_session(100, gap_rows=[37]), speed=4.0, chunk_s=0.1)
    assert source.chunk_bounds() == [
        (0, 10),
        (10, 20),
        (20, 30),
        (30, 37),
        (37, 40),
        (40, 50),
        (50, 60),
        (60, 70),
        (70, 80),
        (80, 90),
        (90, 100),
    ]

    async def collect():
        start = asyncio.get_running_loop().time()
        batches = [b async for b in source.batches()]
        return batches, asyncio.get_running_loop().time() - start

    batches, elapsed = asyncio.run(collect())
    assert [b.gap_before for b in batches] == [False] * 4 + [True] + [False] * 6
    assert np.array_equal(np.vstack([b.samples for b in batches]), source.session.samples())
    assert 0.99 / 4 * 0.9 <= elapsed < 0.99 / 4 + 0.2  # 0.99 s of data at 4x


def test_runner_records_everything_dispatches_in_order_and_summarises(tmp_path):
    session = recorded_session(200, gap_rows=[120])
    engine = EchoEngine()
    out = io.StringIO()
    events_path = tmp_path / "e.jsonl"
    sinks = [
        Recorder(tmp_path / "rec.csv", {"device": "test", "sampling_rate_hz": 100}),
        EventLog(events_path),
        LineOutput(out),
    ]
    summary = asyncio.run(Runner(FileSource(session, speed=None), engine, sinks).run())
    types = [json.loads(line)["type"] for line in events_path.read_text().splitlines()]
    assert types == ["rep", "alert", "set"]  # finish() closes the set
    assert engine.finished
    # the engine sees every sample once, in order, and the gap mark with the row it is on
    assert np.array_equal(np.vstack([u for u, _ in engine.updates]), session.samples())
    starts = np.cumsum([0] + [len(u) for u, _ in engine.updates])[:-1]
    assert [int(row) for row, (_, g) in zip(starts, engine.updates, strict=True) if g] == [120]
    recording = read_session(tmp_path / "rec.csv")
    np.testing.assert_allclose(recording.samples(), session.samples(), atol=1e-5)
    assert recording.data["gap"].tolist() == session.data["gap"].tolist()
    assert summary == {
        "ended_by": "finished",
        "duration_s": 1.99,
        "n_samples": 200,
        "n_reps": 1,
        "n_sets": 1,
        "n_flagged": 1,
        "n_rounded": 1,
        "n_hyperextended": 0,
        "n_alerts": 1,
        "n_gaps": 0,
        "n_reps_lost": 0,
        "n_reps_lost_outside_sets": 0,
        "n_disconnects": 0,
        "n_reconnects": 0,
        "n_undecodable": 0,
        "recording": str(tmp_path / "rec.csv"),
        "events_file": str(events_path),
    }
    lines = out.getvalue().splitlines()
    # the rep is emitted with the chunk that reaches t >= 1 s: rows 1.00..1.09 s
    assert (
        lines[0]
        == "0:01.1  rep 1.1  peak flexion ? deg  lockout ? deg  descent ? s  ascent ? s  ROUNDED (p=0.90)"
    )
    assert lines[1] == "0:01.1  ALERT rep 1.1 rounded"  # the test engine's alert has no p
    assert lines[-2:] == [f"recording: {tmp_path / 'rec.csv'}", f"events: {events_path}"]


class EndlessSource:
    device = "endless"

    def __init__(self):
        self.metadata = {}

    def status(self):
        return {"state": "streaming"}

    async def batches(self):
        t = 0.0
        while True:
            await asyncio.sleep(0.005)
            yield Batch(np.array([[t, 1.0, 0, 9.81, 0, 0, 0]]))
            t += 0.01


def test_cancelling_the_run_ends_cleanly_with_the_recording_closed(tmp_path):
    engine = EchoEngine()
    recorder = Recorder(tmp_path / "rec.csv", {"device": "endless"})

    async def main():
        runner = Runner(EndlessSource(), engine, [recorder])
        task = asyncio.create_task(runner.run())

        # cancelled mid-stream once samples are through, not after a fixed 0.2 s (37
        # samples on an idle machine, 15 with both cores busy; > 5 is asserted)
        async def samples_through() -> None:
            while runner.n_samples <= 20:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(samples_through(), timeout=30)
        task.cancel()
        return await task

    summary = asyncio.run(main())
    assert summary["ended_by"] == "interrupted"
    assert engine.finished
    assert len(read_session(tmp_path / "rec.csv").samples()) == summary["n_samples"] > 5


def test_gauge_marks_flexion_and_limit():
    # -30..110 deg over 14 cells = 10 deg a cell: 45 deg fills 7.5 -> 8 cells, 60 deg at cell 9
    assert gauge(45.0, 60.0, width=14) == "########.|...."
    assert gauge(None, None, width=5) == "....."
    assert gauge(500.0, None, width=5) == "#####"


def test_display_shows_link_calibration_gauge_verdicts_alerts_and_summary():
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, width=120, force_terminal=False, color_system=None)
    display = Display("imu live - test", flexion_limit_deg=60, console=console)
    console.print(display.render())
    before = screen.getvalue()
    assert "before the first set" in before and before.count("no rep yet") == 1  # was twice
    display.on_samples(np.array([[100.0, 0, 0, 9.8, 0, 0, 0]]), False)
    display.on_status(
        {
            "state": "streaming",
            "rate_hz": 99.5,
            "nominal_rate_hz": 100.0,
            "lost_samples": 3,
            "disconnects": 1,
        }
    )
    display.on_event(
        {"type": "calibration", "ok": True, "quality": 0.93, "mounting": "PZPYNX", "time_s": 101.5}
    )
    display.on_angles(angles_of(np.array([102.0, 102.01]), np.array([50.0, 64.0])))
    rep = {
        "type": "rep",
        "set": 1,
        "rep": 2,
        "end_s": 110.0,
        "peak_flexion_deg": 64.2,
        "lockout_extension_deg": 1.0,
        "descent_s": 1.1,
        "ascent_s": 0.8,
        "rounded": True,
        "p_rounded": 0.81,
        "hyperextended": False,
    }
    display.on_event(rep)
    display.on_event(
        {
            "type": "alert",
            "kind": "rounded",
            "time_s": 110.0,
            "set": 1,
            "rep": 2,
            "message": "rep looks rounded (p = 0.81)",
        }
    )
    console.print(display.render())
    text = screen.getvalue()
    display.close(
        {
            "ended_by": "interrupted",
            "duration_s": 12.0,
            "n_samples": 1200,
            "n_reps": 1,
            "n_sets": 0,
            "recording": "/tmp/x.csv",
        }
    )
    assert "streaming  99.5 of 100 Hz  lost 3 samples  link lost once" in text
    assert "calibration ok: mounting PZPYNX (quality 0.93)" in text
    assert f"{gauge(64.0, 60.0)} 110    64 deg  limit 60 deg" in text
    assert "set 1, rep 2 done    session: 1 rep, 0 sets done, 1 flagged" in text
    assert "last rep 1.2  peak 64 deg" in text and "ROUNDED (p=0.81)" in text
    assert "!! 0:10.0  ALERT rep 1.2 rounded" in text
    assert "0:10.0  rep 1.2" in text  # the log above the panel, times from the first sample
    tail = screen.getvalue()[len(text) :]
    assert "session over: 1 rep, 0 sets done, 1 flagged" in tail  # the panel's last state
    assert "session interrupted: 0:12.0, 1200 samples, 1 rep in 0 sets" in tail
    assert "recording: /tmp/x.csv" in tail


def test_display_counts_and_colours_flagged_reps_as_the_log_and_summary_do():
    """A rep rounded and hyperextended is flagged once, a hyperextended one is flagged
    (red) whatever its probability: the panel's count, the set line and the summary agree."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None)
    display = Display("imu live - test", console=console)
    display.on_samples(np.array([[0.0, 0, 0, 9.8, 0, 0, 0]]), False)
    flags = [(True, True), (False, True), (True, False), (False, False)]
    for k, (rounded, hyper) in enumerate(flags, start=1):
        display.on_event({"type": "rep", "set": 1, "rep": k, "end_s": 2.0 * k,
                          "rounded": rounded, "hyperextended": hyper, "p_rounded": 0.01})
        style = display._rep_line().spans[-1].style
        assert style == ("bold red" if rounded or hyper else "bold green"), (k, style)
    display.on_event({"type": "set", "set": 1, "n_reps": 4, "start_s": 0.0, "end_s": 8.0,
                      "n_rounded": 2, "n_hyperextended": 2})
    assert display.n_flagged == 3 and display.last_set["n_flagged"] == 3
    assert "4 reps, 1 set done, 3 flagged" in display._progress_line()
    assert "set 1 done: 4 reps, 3 flagged (2 rounded, 2 hyperextended)" in display._set_line()
    display.close({"n_reps": 4, "n_sets": 1, "n_flagged": 3, "n_rounded": 2,
                   "n_hyperextended": 2})


def test_live_display_logs_every_rep_above_the_panel_with_the_host_clock(monkeypatch):
    """Live samples are stamped by the host clock (Unix time): the log shows the time from
    the first sample and the time of day beside it; no rep is dropped from the log."""
    import time

    from rich.console import Console

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        screen = io.StringIO()
        console = Console(file=screen, width=200, force_terminal=False, color_system=None)
        display = Display("imu live - test", console=console, timeline=Timeline.host_clock())
        t0 = 1796605200.0  # 2026-12-07T01:00:00Z
        display.on_samples(np.array([[t0, 0, 0, 9.8, 0, 0, 0]]), False)
        for n in range(1, 13):
            rep = {"type": "rep", "set": 1, "rep": n, "end_s": t0 + 4.0 * n, "rounded": False,
                   "p_rounded": 0.01, "hyperextended": False}  # fmt: skip
            display.on_event(rep)
        display.close({"ended_by": "finished", "duration_s": 50.0, "n_reps": 12})
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    text = screen.getvalue()
    for n in range(1, 13):
        assert f"({time.strftime('%H:%M:%S', time.gmtime(t0 + 4.0 * n))})  rep 1.{n} " in text
    assert "0:48.0 (01:00:48)  rep 1.12" in text
    assert "session finished: 0:50.0 (01:00:00 to 01:00:50)" in text


def test_calibration_lines_need_no_holding_back_to_read_in_time_order():
    """The engine gives a calibration before the events of the rows it held (all from the
    recording's start), a refined one once the reps before its time_s are out, a failure
    after the rows it held: each line is written at once, and the log reads in order."""
    log = SessionLog(Timeline(100.0))
    log.see(np.array([[100.0, 0, 0, 9.8, 0, 0, 0], [107.1, 0, 0, 9.8, 0, 0, 0]]))
    event = {"type": "calibration", "ok": True, "method": "movement", "quality": 0.49,
             "mounting": "NXNZNY", "time_s": 106.5, "message": "calibrated from the movement "
             "(2 bends; upright = the tops of the reps, flexion sign from axes)"}  # fmt: skip
    rep = {"type": "rep", "set": 1, "rep": 1, "end_s": 103.9, "rounded": False}
    refined = {**event, "time_s": 112.0, "refined": True, "message": "calibration refined "
               "from the movement (5 rep tops): body axes turned by 3.0 deg"}  # fmt: skip
    lines = log.lines(event) + log.lines(rep)
    lines += log.see(np.array([[113.0, 0, 0, 9.8, 0, 0, 0]]))  # nothing held, nothing due
    lines += log.lines({**rep, "rep": 2, "end_s": 109.4}) + log.lines(refined)
    lines += log.lines({**rep, "rep": 3, "end_s": 112.4})
    assert lines == [
        (
            "0:00.0  calibration ok: mounting NXNZNY (quality 0.49), from the movement (2 bends; "
            "upright = the tops of the reps, flexion sign from axes); upright at 0:06.5; angles "
            "from 0:00.0, settled at 0:07.1"
        ),
        "0:03.9  rep 1.1  peak flexion ? deg  lockout ? deg  descent ? s  ascent ? s  good",
        "0:09.4  rep 1.2  peak flexion ? deg  lockout ? deg  descent ? s  ascent ? s  good",
        (
            "0:12.0  calibration refined: mounting NXNZNY (quality 0.49), from the movement "
            "(5 rep tops): body axes turned by 3.0 deg"
        ),
        "0:12.4  rep 1.3  peak flexion ? deg  lockout ? deg  descent ? s  ascent ? s  good",
    ]
    assert log.flush() == []
    failed = {"type": "calibration", "ok": False, "message": "calibration failed: no bend"}
    assert log.lines(failed) == ["0:13.0  calibration FAILED: no bend"]  # when it settled


def test_times_after_a_huge_clock_jump_read_as_days_not_clock_sized_hours():
    from imu.text import clock, duration

    assert clock(3725) == "1:02:05.0" and clock(86399.96) == "1d 00:00:00.0"
    assert clock(1e8 + 38.02) == "1157d 09:47:18.0"
    assert clock(-1e8) == "-1157d 09:46:40.0" and clock(1e300) == "1e+300 s"
    assert [duration(s) for s in (1.04, 303, 7500, 1e8)] == [
        "1.04 s", "5 min 03 s", "2 h 05 min", "1157 days 09 h"]
    timeline = Timeline(100.0)  # the recording's clock jumps by 1e8 s after 38 s
    gap = {"type": "gap", "end_s": 100.0 + 38.02 + 1e8, "duration_s": 1e8, "restarted": True}
    assert describe(gap, timeline) == (
        "1157d 09:47:18.0  gap of 1157 days 09 h in the data "
        "(too long to bridge: angles start again)")
    assert describe({**gap, "duration_s": 1.04}, Timeline(0.0)).endswith(
        "gap of 1.04 s in the data (too long to bridge: angles start again)")


def test_a_rep_line_fits_80_columns_with_the_threshold_beside_the_probability():
    timeline = Timeline(1_700_000_000.0, 0.0)  # live: the host clock stamps the samples
    rep = {"type": "rep", "set": 12, "rep": 15, "end_s": 1_700_003_725.0,
           "peak_flexion_deg": 101.5, "lockout_extension_deg": -12.3, "descent_s": 10.25,
           "ascent_s": 1.5, "rounded": True, "hyperextended": True, "p_rounded": 0.1664}
    whole = describe(rep, timeline, 0.1661)
    assert whole.startswith("1:02:05.0 (") and "descent 10.25 s  ascent 1.50 s" in whole
    assert describe(rep, timeline, 0.1661, width=200) == whole
    narrow = describe(rep, timeline, 0.1661, width=80)
    assert narrow == "1:02:05.0  rep 12.15  ROUNDED + HYPEREXTENDED (p=0.1664 ≥ 0.1661)"
    good = {**rep, "rep": 1, "rounded": False, "hyperextended": False, "p_rounded": 0.05}
    assert describe(good, timeline, 0.17, width=80) == (
        "1:02:05.0  rep 12.1  peak 101.5 deg  lockout -12.3 deg  good (p=0.05 < 0.17)")
    for width in (80, 100, 120):
        assert len(describe(rep, timeline, 0.1661, width=width)) <= width


def test_lines_longer_than_the_terminal_fold_under_their_text_in_the_live_log():
    """At 80 columns the set line (~108 characters) and the session summary wrapped where
    the terminal cut them (mid-word, the rest at column 0 under the times); they fold at
    spaces, the rest indented under the text, and every line fits."""
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=False, color_system=None)
    display = Display("imu live - test", flexion_limit_deg=None, console=console,
                      whole_lines=False)  # a terminal of 80 columns
    display.on_samples(np.array([[100.0, 0, 0, 9.8, 0, 0, 0]]), False)
    display.on_event({"type": "set", "set": 1, "n_reps": 5, "end_s": 166.6, "n_rounded": 2,
                      "n_hyperextended": 1, "n_flagged": 3, "tempo_trend": -0.29,
                      "flexion_drift_deg": 6.7})  # fmt: skip
    console.print(display.render())
    assert "│   -0.29 s/rep, peak flexion rise +6.7 deg" in screen.getvalue()  # the panel's too
    display.close({"ended_by": "finished", "duration_s": 136.5, "n_samples": 13652,
                   "n_reps": 13, "n_sets": 2, "n_flagged": 7, "n_rounded": 6,
                   "n_hyperextended": 1, "n_alerts": 7})  # fmt: skip
    lines = screen.getvalue().splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    at = lines.index(
        "1:06.6  set 1 done: 5 reps, 3 flagged (2 rounded, 1 hyperextended), tempo trend")
    assert lines[at + 1] == "        -0.29 s/rep, peak flexion rise +6.7 deg"
    at = next(i for i, line in enumerate(lines) if line.startswith("session finished: 2:16.5"))
    assert lines[at + 1].startswith("  ") and lines[at + 1].endswith("7 alerts, 0 gaps")
    assert fold("0:01.0  short", 80) == ["0:01.0  short"] and fold("x " * 50, None) == ["x " * 50]


def test_the_live_screen_written_to_a_file_or_a_pipe_keeps_its_log_lines_whole():
    """``imu replay --fast demo > log.txt`` (the display's default): rich takes a file
    as 80 columns wide, and the log folded its calibration, set and summary lines there
    (docs/live.md: "Written to a file or a pipe, lines are always whole"), unlike
    ``--no-display`` and ``imu analyze`` in a pipe."""
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=False, color_system=None)
    display = Display("imu replay - test", flexion_limit_deg=None, console=console)
    display.on_samples(np.array([[100.0, 0, 0, 9.8, 0, 0, 0]]), False)
    display.on_event({"type": "set", "set": 1, "n_reps": 5, "end_s": 166.6, "n_rounded": 2,
                      "n_hyperextended": 1, "n_flagged": 3, "tempo_trend": -0.29,
                      "flexion_drift_deg": 6.7})  # fmt: skip
    display.close({"ended_by": "finished", "duration_s": 136.5, "n_samples": 13652,
                   "n_reps": 13, "n_sets": 2, "n_flagged": 7, "n_rounded": 6,
                   "n_hyperextended": 1, "n_alerts": 7})  # fmt: skip
    lines = screen.getvalue().splitlines()
    assert ("1:06.6  set 1 done: 5 reps, 3 flagged (2 rounded, 1 hyperextended), tempo trend "
            "-0.29 s/rep, peak flexion rise +6.7 deg") in lines
    assert ("session finished: 2:16.5, 13652 samples, 13 reps in 2 sets, 7 flagged (6 rounded, "
            "1 hyperextended), 7 alerts, 0 gaps") in lines


def test_a_set_found_over_after_later_lines_is_stamped_when_found():
    log = SessionLog(Timeline(0.0))
    log.see(np.array([[0.0, 0, 0, 9.8, 0, 0, 0], [68.8, 0, 0, 9.8, 0, 0, 0]]))
    log.lines({"type": "rep", "set": 1, "rep": 5, "end_s": 66.6})
    alert = {"type": "alert", "kind": "flexion_limit", "set": 1, "rep": 6, "time_s": 68.7,
             "message": "flexion 45.01 deg is beyond your limit of 45.00 deg"}  # fmt: skip
    assert log.lines(alert) == [
        "1:08.7  ALERT flexion 45.01 deg is beyond your limit of 45.00 deg"]  # not a rep 1.6
    log.see(np.array([[75.7, 0, 0, 9.8, 0, 0, 0]]))
    done = {"type": "set", "set": 1, "n_reps": 5, "end_s": 66.6, "flexion_drift_deg": 6.7}
    assert log.lines(done) == ["1:15.7  set 1 done at 1:06.6: 5 reps, peak flexion rise +6.7 deg"]
    in_order = SessionLog(Timeline(0.0))
    in_order.see(np.array([[0.0, 0, 0, 9.8, 0, 0, 0], [75.7, 0, 0, 9.8, 0, 0, 0]]))
    assert in_order.lines(done) == ["1:06.6  set 1 done: 5 reps, peak flexion rise +6.7 deg"]


def test_the_summary_counts_lost_reps_and_links_in_words():
    summary = {"ended_by": "stopped", "duration_s": 754.0, "n_samples": 75400, "n_reps": 1,
               "n_sets": 1, "n_flagged": 0, "n_alerts": 0, "n_gaps": 2}
    one = summary_lines({**summary, "n_reps_lost": 1, "n_disconnects": 1, "n_reconnects": 1},
                        Timeline(0.0))
    assert one == [
        "session stopped: 12:34.0, 75400 samples, 1 rep in 1 set, 0 flagged, 0 alerts, 2 gaps",
        "1 rep may be lost in a gap in the data",
        "link lost once, reconnected",
    ]
    two = summary_lines({**summary, "n_reps_lost": 2, "n_disconnects": 3, "n_reconnects": 3},
                        Timeline(0.0))
    assert two[1:] == ["2 reps may be lost in gaps in the data",
                       "link lost 3 times, reconnected each time"]
    # the sensor that went away for good (it said "reconnected when it came back")
    gone = summary_lines({**summary, "n_disconnects": 1, "n_reconnects": 0}, Timeline(0.0))
    assert gone[1:] == ["link lost once; not back when the session ended"]
    later = summary_lines({**summary, "n_disconnects": 3, "n_reconnects": 2}, Timeline(0.0))
    assert later[1:] == [("link lost 3 times, reconnected 2 times; not back when the session "
                          "ended")]


def test_the_replay_panel_says_where_the_replay_is_and_folds_a_long_alert():
    """The panel said only "replay 53 %  (100 Hz)": not the time the log lines are stamped
    with; a long alert wrapped under the frame's edge at 80 columns."""
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=False, color_system=None)
    display = Display("imu replay - test", console=console)
    source = FileSource(recorded_session(300), speed=None)

    async def play_half():
        async for batch in source.batches():
            display.on_samples(batch.samples, batch.gap_before)
            if batch.samples[-1, 0] >= 1.49:
                return

    asyncio.run(play_half())  # the first 1.5 s played
    display.on_status({**source.status(), "speed": 4.0})  # as --speed 4 says it
    display.on_event({"type": "alert", "kind": "hyperextension", "time_s": 1.2, "set": 1,
                      "rep": 5, "message": "lockout 12 deg beyond upright, limit 10 deg"})
    console.print(display.render())
    text = screen.getvalue()
    assert "│ replay 0:01.5 of 0:03.0 (50 %)  speed 4x  100 Hz" in text
    assert ("│ !! 0:01.2  ALERT rep 1.5 hyperextended: lockout 12 deg beyond upright, limit │\n"
            "│            10 deg ") in text
    display.on_status(source.status())
    console.print(display.render())
    assert "│ replay 0:01.5 of 0:03.0 (50 %)  fast  100 Hz" in screen.getvalue()


def test_the_link_line_fits_80_columns_while_reconnecting():
    """It wrapped to the frame's edge ("(attempt 1, next" / "in 0.5 s)"), and called the
    link losses "link drops" where the summary and the log say "link lost"."""
    from rich.console import Console

    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=False, color_system=None)
    display = Display("imu live - test", console=console)
    display.on_status({"state": "reconnecting", "rate_hz": 0.0, "nominal_rate_hz": 100.0,
                       "lost_samples": 1, "disconnects": 1, "attempt": 5, "retry_in_s": 8.0})
    console.print(display.render())
    display.on_status({"state": "streaming", "rate_hz": 99.5, "nominal_rate_hz": 100.0,
                       "lost_samples": 40, "disconnects": 2})
    console.print(display.render())
    lines = screen.getvalue().splitlines()
    assert "│ reconnecting (attempt 5, next in 8.0 s)  lost 1 sample  link lost once".ljust(79) + "│" in lines
    assert "│ streaming  99.5 of 100 Hz  lost 40 samples  link lost 2 times".ljust(79) + "│" in lines
