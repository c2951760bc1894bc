"""The session log reads in time order around gaps in the data (docs/vocabulary.md).

The engine gives a ``gap`` event when the rows resume, before the reps that locked out
before the gap are decided; a rep lost in a gap comes with the restart, after the gap;
a rep that the set's cadence puts in a gap comes when the set is closed, after the
later reps. Each line must still be written in the order of its time from the
recording's start, the same fed in small chunks (live) as in large ones (replay --fast).

SYNTHETIC: the set of tests/test_pipeline_gap_reps.py (imu.sim, lifter 4, seed 31), with
rows cut out of it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from imu.pipeline import Engine, EngineSettings
from imu.sinks.lines import LogOrder, SessionLog
from imu.text import Timeline
from tests.test_pipeline_gap_reps import RATE_HZ, gapped_set

STAMP = re.compile(r"^(?:(\d+):)?(\d+):(\d\d\.\d)  ")


def seconds(line: str) -> float:
    """The stamp of a log line (``m:ss.s`` or ``h:mm:ss.s``) in seconds."""
    match = STAMP.match(line)
    assert match, line
    hours, minutes, secs = match.groups()
    return 3600 * int(hours or 0) + 60 * int(minutes) + float(secs)


def logged(samples: np.ndarray, chunk: int, rate_hz: float = RATE_HZ, decision=None) -> list[str]:
    """The log's lines as the runner writes them (sink sees the rows, then their events)."""
    log = SessionLog(Timeline())
    engine = Engine(EngineSettings(sampling_rate_hz=rate_hz), decision=decision)
    lines = []
    for lo in range(0, len(samples), chunk):
        rows = samples[lo : lo + chunk]
        lines += log.see(rows)
        for event in engine.update(rows).events:
            lines += log.lines(event)
    for event in engine.finish().events:
        lines += log.lines(event)
    return lines + log.flush()


@pytest.mark.parametrize("chunk", [8, 100_000])
def test_lines_about_gaps_and_lost_reps_read_in_time_order(chunk):
    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    cuts = [
        (truth.end_s[1] + 0.1, truth.end_s[1] + 0.9),  # bridged, before rep 2 is decided
        (truth.start_s[3] + 1.0, truth.start_s[3] + 3.0),  # restarts in rep 4: one lost
    ]
    keep = np.ones(len(samples), dtype=bool)
    for lo, hi in cuts:
        keep &= (samples[:, 0] < lo) | (samples[:, 0] >= hi)
    lines = logged(samples[keep], chunk)
    stamps = [seconds(line) for line in lines]
    assert stamps == sorted(stamps), "\n".join(lines)
    gaps = [line for line in lines if " gap of " in line]
    lost = [line for line in lines if "a rep may be lost" in line]
    assert len(gaps) == 2 and len(lost) == 1, "\n".join(lines)
    # each gap line just after the last rep before it, the lost rep just before its gap
    rep_2 = next(k for k, line in enumerate(lines) if " rep 1.2 " in line)
    assert lines[rep_2 + 1] == gaps[0] and lines.index(lost[0]) + 1 == lines.index(gaps[1])


def test_a_rep_lost_found_after_later_lines_is_stamped_when_found():
    """A rep that the set's cadence puts in a gap is known when the set closes: its line is
    stamped then, saying where the rep was; the gap that the lockouts after it wait for
    comes before them; a link lost and back is written at once (the lifter must know), and
    a rep that locked out before it and is decided after it is stamped when found."""
    order = LogOrder()
    order.push({"type": "calibration", "ok": True, "from_s": 0.0})
    order.due(20.0)
    assert order.push({"type": "gap", "start_s": 15.0, "end_s": 17.0, "duration_s": 2.0}) == []
    assert order.push({"type": "disconnected", "time_s": 15.1}) == [
        {"type": "disconnected", "time_s": 15.1}
    ]
    (back,) = order.push({"type": "connected", "reconnect": True, "time_s": 16.9})
    assert "found_s" not in back
    out = order.push({"type": "rep", "set": 1, "rep": 3, "end_s": 14.0})
    assert [e["type"] for e in out] == ["gap", "rep"]  # locked out before the link was lost
    assert out[1]["found_s"] == 20.0
    out = order.push({"type": "rep", "set": 1, "rep": 4, "end_s": 21.0})
    assert [e["type"] for e in out] == ["rep"]
    order.due(29.0)
    lost = {"type": "rep_lost", "basis": "cadence", "time_s": 16.0, "message": "..."}
    (found,) = order.push(lost)
    assert found["found_s"] == 29.0
    (done,) = order.push({"type": "set", "set": 1, "end_s": 21.0})
    assert done["found_s"] == 29.0
    log = SessionLog(Timeline(0.0))
    log.see(np.array([[0.0, 0, 0, 9.8, 0, 0, 0], [29.0, 0, 0, 9.8, 0, 0, 0]]))
    log.lines({"type": "rep", "set": 1, "rep": 4, "end_s": 21.0})
    assert log.lines(lost) == ["0:29.0  a rep may be lost at 0:16.0: ..."]


def test_a_warning_or_link_line_found_after_later_lines_is_stamped_when_found():
    """A warning or a link lost/back that comes after a later line was written is stamped
    when found, saying when it was, as a lost rep is; the old log wrote it with its own,
    earlier time after the later line (out of time order, with no word of it)."""
    log = SessionLog(Timeline(0.0))
    log.see(np.array([[0.0, 0, 0, 9.8, 0, 0, 0], [29.0, 0, 0, 9.8, 0, 0, 0]]))
    log.lines({"type": "calibration", "ok": True, "from_s": 0.0})
    log.lines({"type": "rep", "set": 1, "rep": 4, "end_s": 21.0})
    assert log.lines({"type": "warning", "time_s": 16.0, "message": "sign?"}) == [
        "0:29.0  warning at 0:16.0: sign?"
    ]
    assert log.lines({"type": "disconnected", "time_s": 15.1, "device": "imu-1",
                      "reason": "link lost"}) == ["0:29.0  disconnected imu-1 at 0:15.1 (link lost)"]
    assert log.lines({"type": "connected", "reconnect": True, "time_s": 16.9,
                      "device": "imu-1"}) == ["0:29.0  reconnected imu-1 at 0:16.9"]
    # in time order: stamped as they are
    assert log.lines({"type": "warning", "time_s": 30.0, "message": "sign?"}) == []
    assert log.flush() == ["0:30.0  warning: sign?"]

def test_a_gap_line_waits_at_most_the_hold_limit_once_calibrated():
    order = LogOrder()
    gap = {"type": "gap", "start_s": 5.0, "end_s": 6.0, "duration_s": 1.0}
    assert order.push(gap) == [] and order.due(100.0) == []  # before calibration: held
    order.push({"type": "calibration", "ok": True, "from_s": 0.0})
    assert order.due(100.0) == [gap]
    assert order.push({**gap, "start_s": 95.0, "end_s": 96.0}) == []
    assert order.due(101.0) == [] and len(order.flush()) == 1


class _TurnDownTheFirst:
    """A rep decision that turns down the first candidate at first (taken at the lockout,
    then not a rep) and takes it back on looking back, when the next one is decided."""

    def __init__(self) -> None:
        self.n_final = 0

    def early(self, features):
        return 0.9, True

    def final(self, features):
        self.n_final += 1
        return (0.9, True) if self.n_final > 1 else (0.1, False)

    def look_back(self, features):
        return 0.8, True


def _second_rep_hyperextended() -> np.ndarray:
    """SYNTHETIC: imu.sim lifter 2 (seed 555), 5 conventional deadlifts at 100 Hz, rep 2
    hyperextended."""
    from imu.sim import make_lifter, simulate
    from imu.sim.script import DeadliftSet, SessionScript, Stand

    script = SessionScript(make_lifter(2, seed=555), (
        Stand(3.0, still=True),
        DeadliftSet(5, "conventional", hyperextended=(False, True, False, False, False)),
        Stand(6.0),
    ))  # fmt: skip
    return simulate(script, sampling_rate_hz=100.0, seed=5).session.samples()


@pytest.mark.parametrize("chunk", [8, 500])
def test_a_rep_counted_on_looking_back_after_a_later_alert_is_stamped_when_found(chunk):
    """The rep after the turned-down one leans back at lockout: its provisional alert is
    out at its lockout, before the look-back counts the one before it. The look-back line
    came after that alert with its own, earlier lockout and no word of it; it is now
    stamped when found, saying its lockout, as a late set, lost rep or warning line is.
    SYNTHETIC: imu.sim lifter 2 (seed 555), 5 conventional deadlifts, rep 2 hyperextended."""
    samples = _second_rep_hyperextended()
    lines = logged(samples, chunk, 100.0, _TurnDownTheFirst())
    stamps = [seconds(line) for line in lines]
    assert stamps == sorted(stamps), "\n".join(lines)
    alert = next(k for k, line in enumerate(lines) if "ALERT" in line)
    (back,) = [k for k, line in enumerate(lines) if line.endswith("counted on looking back")]
    assert alert < back, "\n".join(lines)  # the case: the alert was out first
    lockout = re.search(r"  rep 1\.1 at (\d+):(\d\d\.\d)  ", lines[back])
    assert lockout, lines[back]
    assert 60 * int(lockout[1]) + float(lockout[2]) < seconds(lines[alert]) <= seconds(lines[back])
    # the rep after it, decided with it after its own alert, says its lockout too
    assert re.match(r"\S+  rep 1\.2 at \d+:\d\d\.\d  .*HYPEREXTENDED", lines[back + 1])


def _event_stamp(event: dict) -> float:
    """Where an event stands in time: when it was found if it says so, else its own time
    (:func:`imu.sinks.lines.stamp_s`; a calibration at the start)."""
    from imu.sinks.lines import stamp_s

    found = event.get("found_s")
    return found if found is not None else (stamp_s(event) or 0.0)


def test_the_events_file_lists_gaps_and_lost_reps_in_time_order(tmp_path, capsys):
    """`imu replay --events` wrote each event when the engine gave it: a gap as soon as
    the rows resume, before the reps that locked out before it (only the printed log was
    put in order). The file now reads in time order, as the log, with every event.
    SYNTHETIC: the cut set of the first test above."""
    import json

    import pandas as pd

    from imu.cli import main
    from imu.session import Session, write_session

    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    keep = np.ones(len(samples), dtype=bool)
    for lo, hi in [(truth.end_s[1] + 0.1, truth.end_s[1] + 0.9),
                   (truth.start_s[3] + 1.0, truth.start_s[3] + 3.0)]:  # fmt: skip
        keep &= (samples[:, 0] < lo) | (samples[:, 0] >= hi)
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    path, events_path = tmp_path / "cut.csv", tmp_path / "events.jsonl"
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    write_session(Session(pd.DataFrame(samples[keep], columns=columns), metadata), path)
    argv = ["replay", "--fast", "--no-display", "--no-model", "--events", str(events_path)]
    assert main([*argv, str(path)]) == 0
    capsys.readouterr()
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    stamps = [_event_stamp(e) for e in events]
    assert stamps == sorted(stamps), [(e["type"], s) for e, s in zip(events, stamps)]
    kinds = [e["type"] for e in events]
    assert kinds.count("gap") == 2 and kinds.count("rep_lost") == 1 and kinds.count("set") == 1
    rep_2 = next(k for k, e in enumerate(events) if e["type"] == "rep" and e["rep"] == 2)
    assert kinds[rep_2 + 1] == "gap"  # right after the last rep before it
    assert not (tmp_path / "events.jsonl.held").exists()  # nothing waits once closed


def test_events_that_wait_for_their_place_are_on_disk_beside_the_file():
    """A crash must not lose an event that waits for the reps before it: the waiting ones
    are in FILE.held, which follows FILE in time; an event waits at most 10 s of the
    recording once calibrated."""
    import json
    import tempfile
    from pathlib import Path

    from imu.sinks.events import EventLog

    def read(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.jsonl"
        held = Path(folder) / "e.jsonl.held"
        log = EventLog(path)
        log.on_samples(np.array([[0.0] * 7, [20.0] + [0.0] * 6]), False)
        log.on_event({"type": "calibration", "ok": True, "time_s": 1.5})
        log.on_event({"type": "rep", "set": 1, "rep": 1, "end_s": 12.0})
        gap = {"type": "gap", "start_s": 15.0, "end_s": 17.0, "duration_s": 2.0}
        log.on_event(gap)  # given before rep 2, which locked out at 14.0
        assert [e["type"] for e in read(path)] == ["calibration", "rep"] and read(held) == [gap]
        log.on_event({"type": "rep", "set": 1, "rep": 2, "end_s": 14.0})
        assert [e["type"] for e in read(path)] == ["calibration", "rep", "rep"]
        assert read(held) == [gap]  # still waits: a rep may yet lock out before 17.0
        log.on_samples(np.array([[27.5] + [0.0] * 6]), False)
        assert read(path)[-1] == gap and not held.exists()  # 10 s of the recording
        log.on_event({**gap, "start_s": 30.0, "end_s": 31.0})
        log.close({})
        assert [e.get("end_s") for e in read(path)] == [None, 12.0, 14.0, 17.0, 31.0]
        assert not held.exists()


def _alerts_standing(events: list[dict]) -> set[tuple]:
    """(kind, set, rep) of each rep alert that stands once every ``alert_renumbered`` and
    ``alert_withdrawn`` is applied (an alert is known by its kind and lockout)."""
    standing: dict[tuple, tuple] = {}
    for e in events:
        key = (e.get("kind"), e.get("time_s"))
        if e["type"] in ("alert", "alert_renumbered") and e["kind"] != "flexion_limit":
            standing[key] = (e["kind"], e["set"], e["rep"])
        elif e["type"] == "alert_withdrawn":
            standing.pop(key, None)
    return set(standing.values())


@pytest.mark.parametrize("chunk", [8, 500])
def test_an_alert_given_before_a_rep_counted_on_looking_back_is_said_again_with_its_number(
    tmp_path, chunk
):
    """The provisional alert of the rep after the turned-down one names it rep 1.1 (at
    its lockout the one before is not a rep); the look-back then counts that one as rep
    1.1 and this one is confirmed rep 1.2. Its alert is said again with its number
    (``alert_renumbered``), so the alerts, the rep lines, the --events file and the
    report (analyze) name the same reps. SYNTHETIC: as above."""
    import json

    from imu.pipeline import analyze_samples
    from imu.sinks.events import EventLog

    samples = _second_rep_hyperextended()
    engine = Engine(EngineSettings(sampling_rate_hz=100.0), decision=_TurnDownTheFirst())
    events_file = EventLog(tmp_path / "events.jsonl")
    for lo in range(0, len(samples), chunk):
        events_file.on_samples(samples[lo : lo + chunk], False)
        for event in engine.update(samples[lo : lo + chunk]).events:
            events_file.on_event(event)
    for event in engine.finish().events:
        events_file.on_event(event)
    events_file.close({})
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    reps = [e for e in events if e["type"] == "rep"]
    assert [(r["set"], r["rep"]) for r in reps] == [(1, k) for k in range(1, len(reps) + 1)]
    assert reps[0]["look_back"] and reps[1]["hyperextended"]
    flagged = {("hyperextension", r["set"], r["rep"]) for r in reps if r["hyperextended"]}
    assert flagged == {("hyperextension", 1, 2)}
    assert _alerts_standing(events) == flagged  # the --events file
    (renumbered,) = [e for e in events if e["type"] == "alert_renumbered"]
    assert (renumbered["said_set"], renumbered["said_rep"]) == (1, 1)
    assert renumbered["time_s"] == reps[1]["end_s"]
    # the report's reps (imu analyze, the same decision) have the same numbers
    analysed = analyze_samples(samples, decision=_TurnDownTheFirst()).reps
    assert [(r["set"], r["rep"], round(r["end_s"], 6)) for r in analysed] == [
        (r["set"], r["rep"], r["end_s"]) for r in reps
    ]  # (the file's times are rounded to 1 us)
    # the log: the alert said first as rep 1.1 is said again as rep 1.2, after its rep line
    lines = logged(samples, chunk, 100.0, _TurnDownTheFirst())
    stamps = [seconds(line) for line in lines]
    assert stamps == sorted(stamps), "\n".join(lines)
    alerts = [line for line in lines if "ALERT" in line]
    assert len(alerts) == 2 and " ALERT rep 1.1 hyperextended: " in alerts[0], alerts
    assert re.match(
        r"\S+  ALERT rep 1\.2 at \d+:\d\d\.\d hyperextended: lockout \d+ deg beyond upright, "
        r"limit 10 deg \(first said as rep 1\.1\)$", alerts[1]
    ), alerts[1]  # fmt: skip
    rep_line = next(k for k, line in enumerate(lines) if re.match(r"\S+  rep 1\.2 ", line))
    assert lines.index(alerts[1]) == rep_line + 1
