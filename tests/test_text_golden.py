"""Golden snippets of the text a person reads: the analyze table and the replay log of
the bundled SYNTHETIC demo session (datasets/demo/L11_s1.csv.gz; regenerate with the
command in datasets/README.md), checked line for line against tests/golden/*.txt and
against the simulator's truth (datasets/demo/L11_s1.reps.csv).

When a change to the wording is intended, regenerate the golden files with
``imu replay --fast --no-display datasets/demo/L11_s1.csv.gz > tests/golden/demo_replay.txt``
(``demo_replay_80.txt``: the same with ``COLUMNS=80`` in a terminal of 80 columns, e.g.
``tmux new -x 80 'COLUMNS=80 imu replay ... | cat'`` does not work: a pipe gets whole lines;
write it from Python with a stdout whose ``isatty()`` is true, as the test does)
and ``imu analyze datasets/demo/L11_s1.csv.gz > tests/golden/demo_analyze.txt`` (run from
the repository root) and read the diff.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu.cli import main
from imu.session import Session, write_session

ROOT = Path(__file__).resolve().parents[1]
DEMO = "datasets/demo/L11_s1.csv.gz"
GOLDEN = Path(__file__).parent / "golden"
STAMP = r"(\d+):(\d\d)\.(\d)"
THRESHOLD = "{:.2f}".format(  # the shipped model's, as the log shows it
    json.loads((ROOT / "models/default.manifest.json").read_text())["threshold"])


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def run(capsys, monkeypatch, *argv: str) -> list[str]:
    monkeypatch.chdir(ROOT)  # the golden text names the file as given
    assert main(list(argv)) == 0
    return lines_of(capsys.readouterr().out)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    reps = pd.read_csv(ROOT / "datasets/demo/L11_s1.reps.csv")
    first = float(pd.read_csv(ROOT / DEMO, comment="#", nrows=1)["time_s"].iloc[0])
    return reps.assign(start=reps.start_s - first, end=reps.end_s - first)


def seconds(match: re.Match) -> float:
    return int(match[1]) * 60 + int(match[2]) + int(match[3]) / 10


def test_replay_log_of_the_demo(capsys, monkeypatch, truth):
    log = run(capsys, monkeypatch, "replay", "--fast", "--no-display", DEMO)
    assert log == lines_of((GOLDEN / "demo_replay.txt").read_text(encoding="utf-8"))
    # every true rep has its line, stamped at its lockout (time from the start), in order
    reps = [re.match(rf"{STAMP}  rep (\d)\.(\d+) ", line) for line in log]
    reps = [m for m in reps if m]
    assert [(int(m[4]), int(m[5])) for m in reps] == list(zip(truth.set, truth.rep, strict=True))
    assert np.allclose([seconds(m) for m in reps], truth.end, atol=0.5)
    stamps = [seconds(m) for m in (re.match(STAMP, line) for line in log) if m]
    assert stamps == sorted(stamps)  # the log reads in the order of the lift
    # each alert names its rep, which is flagged on its own line right after it
    for i, line in enumerate(log):
        alert = re.search(r"ALERT rep (\d\.\d) (rounded|hyperextended)", line)
        if alert:
            assert f"rep {alert[1]} " in log[i + 1]
            assert alert[2].upper() in log[i + 1]
    assert all("\a" not in line for line in log)


def test_replay_log_reads_in_order_when_calibration_comes_from_the_reps(
    capsys, monkeypatch, tmp_path
):
    """The demo cut 54 s in (mid-set, no still period): calibration from the movement
    settles at 0:06.6, after rep 1.1 locked out at 0:05.5. Its line, stamped 0:06.6, was
    written first (the log went back in time); it is now stamped where its angles start,
    the recording's start, and says when it settled."""
    from imu.session import read_session

    session = read_session(ROOT / DEMO)
    data = session.data
    cut = data[data.time_s >= data.time_s.iloc[0] + 54.0].reset_index(drop=True)
    path = tmp_path / "cut.csv"
    write_session(Session(cut, session.metadata), path)
    log = run(capsys, monkeypatch, "replay", "--fast", "--no-display", str(path))
    stamps = [seconds(m) for m in (re.match(STAMP, line) for line in log) if m]
    assert stamps == sorted(stamps), log
    assert log[0].startswith("0:00.0  calibration ok: ") and "from the movement" in log[0]
    assert log[0].endswith("; angles from 0:00.0, settled at 0:06.6")
    assert "rep 1.1 " in log[2] and "rep 1.2 " in log[3]  # (log[1]: rep 1.1's alert)


def test_replay_log_reads_in_order_with_flexion_limit_alerts(capsys, monkeypatch):
    """With --flexion-limit-deg 45 the demo alerts on a bend after set 1's last rep
    (1:08.7); set 1 was found over later and its line, stamped at its last lockout
    (1:06.6), came after that alert. It is now stamped when found, with the lockout."""
    log = run(capsys, monkeypatch, "replay", "--fast", "--no-display",
              "--flexion-limit-deg", "45", DEMO)  # fmt: skip
    stamps = [seconds(m) for m in (re.match(STAMP, line) for line in log) if m]
    assert stamps == sorted(stamps), log
    (set_1,) = [line for line in log if " set 1 done" in line]
    assert re.match(rf"{STAMP}  set 1 done at 1:06\.6: 5 reps, 2 flagged ", set_1), set_1
    # bends before the first rep and after the last were named "rep 1.1" and "rep 1.6"
    limits = [line for line in log if "beyond your limit" in line]
    assert len(limits) > 10 and all(re.match(rf"{STAMP}  ALERT flexion ", x) for x in limits)


def in_terminal_of_80_columns(monkeypatch, argv: list[str]) -> str:
    """What ``imu ARGV`` prints to a terminal (stdout says it is a tty) of 80 columns."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "80")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(argv) == 0
    return terminal.getvalue()


def test_replay_log_of_the_demo_fits_a_terminal_of_80_columns(capsys, monkeypatch):
    """On a narrow terminal a rep line drops descent and ascent (then the wall clock,
    then "flexion" after "peak", then the lockout) and keeps the probability beside the
    threshold; any other line longer than the terminal (calibration, set, summary) is
    folded at spaces, the rest indented under its text, so the time column stays clear
    (the terminal cut words and began the rest at column 0); a file or a pipe gets the
    whole line (the test above)."""
    log = lines_of(in_terminal_of_80_columns(monkeypatch, ["replay", "--fast", "--no-display",
                                                           DEMO]))
    assert log == lines_of((GOLDEN / "demo_replay_80.txt").read_text(encoding="utf-8"))
    wide = lines_of((GOLDEN / "demo_replay.txt").read_text(encoding="utf-8"))
    reps = [line for line in log if re.match(rf"{STAMP}  rep ", line)]
    assert len(reps) == 13 and all(len(line) <= 80 for line in reps)
    assert all(re.search(rf"\(p=[01]\.\d\d [<≥] {re.escape(THRESHOLD)}\)$", line)
               for line in reps)
    assert all(len(line) <= 80 for line in log)
    unfolded = re.sub(r"\n +", " ", "\n".join(log)).splitlines()
    assert [line for line in unfolded if line not in reps] == [
        line for line in wide if not re.match(rf"{STAMP}  rep ", line)]


def test_analyze_table_of_the_demo(capsys, monkeypatch, truth):
    table = run(capsys, monkeypatch, "analyze", DEMO)
    assert table == lines_of((GOLDEN / "demo_analyze.txt").read_text(encoding="utf-8"))
    rows = [line for line in table if line.startswith("│")]
    starts = [re.search(rf"│ {STAMP} │", row) for row in rows]
    assert len(rows) == len(truth) and all(starts)  # times from the recording's start
    assert np.allclose([seconds(m) for m in starts], truth.start, atol=0.3)
    n_flagged = sum(not row.rstrip("│ ").endswith("good") for row in rows)
    assert any(f"13 reps in 2 sets, {n_flagged} flagged" in line for line in table)
    assert not any(re.search(r"(?<![\w.])-0(?![.\d])", line) for line in table)  # no "-0"
    assert "smooth" not in "\n".join(table)


def test_analyze_table_keeps_times_and_verdicts_whole_in_a_terminal_of_80_columns(
    capsys, monkeypatch, truth
):
    """At 80 columns rich cut the cells to fit ("0:48…", "roun…", "hype…") and split
    each probability over two lines; a narrow terminal now gets the table without
    vertical lines, titles folded at their spaces and (under 90 columns) without the duration and
    lift-off (in --json and --reps); a pipe keeps every column (the golden above)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", in_terminal_of_80_columns(monkeypatch, ["analyze",
                                                                                  DEMO]))  # no colours
    table = [line.rstrip() for line in plain.splitlines()]
    assert all(len(line) <= 80 for line in table)
    rows = [line.split() for line in table if re.match(rf"\s+\d+\s+\d+\s+{STAMP}\s", line)]
    assert len(rows) == len(truth) and "…" not in "".join(table)
    assert np.allclose([seconds(re.match(STAMP, row[2])) for row in rows], truth.start, atol=0.5)
    assert all(re.fullmatch(rf"[01]\.\d\d [<≥] {re.escape(THRESHOLD)}", " ".join(row[-4:-1])) for row in rows)
    assert {row[-1] for row in rows} == {"good", "rounded", "hyperextended"}
    at = table.index("set 1 done: 5 reps, 2 flagged (1 rounded, 1 hyperextended), tempo trend")
    assert table[at + 1] == "  -0.29 s/rep, peak flexion rise +7.3 deg"  # not "s/rep" alone


def test_analyze_table_folds_a_long_verdict_at_80_columns_instead_of_cutting_it(
    monkeypatch, tmp_path
):
    """With the clock column (a recording that says when it started) and a rep both
    rounded and hyperextended, the 80-column table cut the verdict to "rounded + hy" or
    "rounded + hyperextende"; the titles now fold at every space and the verdict at its
    spaces, so every word is whole and every line fits."""
    import gzip

    text = gzip.decompress((ROOT / DEMO).read_bytes()).decode("utf-8")
    dated = tmp_path / "dated.csv"
    dated.write_text("# started_utc: 2024-03-01T10:15:02Z\n" + text, encoding="utf-8")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", in_terminal_of_80_columns(
        monkeypatch, ["analyze", "--hyperextension-deg", "2.5", str(dated)]))
    table = [line.rstrip() for line in plain.splitlines()]
    assert all(len(line) <= 80 for line in table)
    assert "clock" in plain and "…" not in plain
    # rep 2.6 (lockout 2.7 deg, rounded): "rounded +" on its row, "hyperextended" below
    (at,) = [i for i, line in enumerate(table) if re.match(r"\s+2\s+6\s+1:52\.9\s", line)]
    assert table[at].endswith("  rounded +")
    assert table[at + 1].strip() == "hyperextended"
    assert "hyperextende" not in re.sub(r"hyperextended", "", plain)


def test_a_refined_calibration_says_when_in_words_not_a_field_name(capsys, monkeypatch,
                                                                  tmp_path):
    """No still period, a lean back between the first reps (test_pipeline's refinement
    case): the calibration is refined from the movement, and analyze printed "angles from
    here on (time_s) use it" - a field name, and no "here" in a table's header line. It
    now says when: "from then on ... (refined at 0:13.4)", the mark as m:ss.s."""
    from test_pipeline_support import motion, rep_curve

    from imu.pipeline import parse_mounting

    t = np.arange(0, 24, 0.01)
    starts = [0.8 + 3.0 * k for k in range(7)]
    level = -12.0 * np.clip((starts[1] + 0.6 - t) / 0.5, 0.0, 1.0)
    samples = motion(t, rep_curve(t, starts) + level, rotation_bs=parse_mounting("NZPXNY"),
                     noise=1.0)  # fmt: skip
    frame = pd.DataFrame(samples, columns=["time_s", "acc_x", "acc_y", "acc_z", "gyr_x",
                                           "gyr_y", "gyr_z"])  # fmt: skip
    path = tmp_path / "lean.csv"
    write_session(Session(frame, {"sampling_rate_hz": "100", "synthetic": "true"}), path)
    text = "\n".join(run(capsys, monkeypatch, "analyze", str(path), "--no-model"))
    capsys.readouterr()
    assert main(["analyze", str(path), "--no-model", "--json"]) == 0
    calibration = json.loads(capsys.readouterr().out)["calibration"]
    assert calibration["refined"]
    assert "(time_s)" not in text and "(time_s)" not in calibration["message"]
    mark = calibration["time_s"] - t[0]
    match = re.search(rf"angles from then on use it, earlier ones stay as reported "
                      rf"\(refined at {STAMP}\)", " ".join(text.split()))
    assert match and abs(seconds(match) - mark) <= 0.05, text


def _demo_with_a_hole(tmp_path, from_s: float, to_s: float):
    """The demo recording without its rows from ``from_s`` to ``to_s`` (s from its start)."""
    from imu.session import read_session

    session = read_session(ROOT / DEMO)
    t = session.data.time_s - session.data.time_s.iloc[0]
    holed = session.data[(t < from_s) | (t >= to_s)].reset_index(drop=True)
    path = tmp_path / "holed.csv"
    write_session(Session(holed, session.metadata), path)
    return path


def test_gaps_say_what_they_did_without_jargon(capsys, monkeypatch, tmp_path):
    """A 2 s hole in the demo's rest: analyze said "1 gap, 2.0 s in total, 1 restart", the
    log "(state restarted)"."""
    path = _demo_with_a_hole(tmp_path, 80.0, 82.0)
    table = run(capsys, monkeypatch, "analyze", str(path))
    said = "1 gap in the data, 2.01 s in total, 1 too long to bridge (angles started again)"
    assert said in table
    log = run(capsys, monkeypatch, "replay", "--fast", "--no-display", str(path))
    assert "1:22.0  gap of 2.01 s in the data (too long to bridge: angles start again)" in log


def test_a_bridged_gap_is_not_said_to_be_too_long_to_bridge(capsys, monkeypatch, tmp_path):
    """A 0.5 s hole in the demo's rest is bridged: analyze said '1 gap in the data, 0.5 s in
    total, 0 too long to bridge (angles started again)' (no angles started again)."""
    path = _demo_with_a_hole(tmp_path, 80.0, 80.5)
    table = run(capsys, monkeypatch, "analyze", str(path))
    assert "1 gap in the data, 0.51 s in total" in table, table
    assert not any("too long to bridge" in line or "started again" in line for line in table)


def test_analyze_table_shows_the_clock_time_when_the_recording_says_when_it_started(
    capsys, monkeypatch, tmp_path
):
    """A recording with ``started_utc`` (a live recording: sample times are Unix time)
    gets a clock column beside the time from its start; one set reads "1 set"."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        from test_pipeline_support import every_excursion_is_a_rep, motion, rep_curve

        every_excursion_is_a_rep(monkeypatch)  # analytic curves: the table is under test
        t0 = 1796605200.0  # 2026-12-07T01:00:00Z
        t = np.arange(0, 18, 0.01) + t0
        samples = motion(t, rep_curve(t, [t0 + 5.0, t0 + 9.0], lockout_deg=-3.0), noise=1.0)
        frame = pd.DataFrame(
            samples, columns=["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
        )
        metadata = {"sampling_rate_hz": "100", "synthetic": "true",
                    "started_utc": "2026-12-07T01:00:00+00:00"}  # fmt: skip
        path = tmp_path / "one.csv"
        write_session(Session(frame, metadata), path)
        table = run(capsys, monkeypatch, "analyze", str(path), "--no-model")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert any("2 reps in 1 set, 0 flagged" in line for line in table)
    header = next(line for line in table if "start" in line and "set" in line)
    assert "clock (UTC)" in header
    row = next(line for line in table if line.startswith("│"))
    assert re.search(r"│ 0:0[45]\.\d │ +01:00:0[45] │", row), row


def test_training_says_how_it_was_checked():
    from imu.commands.train import _how_checked, _too_few_groups

    personal = _how_checked(True, "subject", 1, 8)
    assert "1 groups" not in personal and "8 spans in 3 blocks in time order" in personal
    assert _how_checked(True, "session", 3, 40).startswith(
        "checked by holding out each of your 3 sessions in turn"
    )
    # more groups than folds: several groups share a fold (3 folds when personalising, 10
    # otherwise), so the words must not say each one was held out alone
    assert _how_checked(True, "session", 4, 40).startswith(
        "checked by holding out your 4 sessions in 3 folds, each fold in turn"
    )
    assert _how_checked(False, "subject", 5, 60) == (
        "cross-validated by subject: each of 5 subjects held out in turn (60 spans)"
    )
    assert _how_checked(False, "subject", 40, 783) == (
        "cross-validated by subject: 40 subjects in 10 folds, each fold held out in turn "
        "(783 spans)"
    )
    # the way out offered exists for these labels
    assert "--group-by session (4 sessions)" in _too_few_groups(1, "subject", 4)
    one = _too_few_groups(1, "subject", 1)
    assert "--group-by session" not in one and "--personalize default" in one


def test_training_one_lifter_without_personalising_is_refused_with_a_way_out(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(ROOT)
    model = str(tmp_path / "x.skops")
    assert main(["train", "datasets/demo/labels.csv", "-o", model, "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "the labels have 1 subject;" in error and "--personalize default" in error


def test_label_file_says_where_each_rep_is_on_a_video(capsys, monkeypatch, tmp_path, truth):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "review.csv"
    assert main(["label", DEMO, "-o", str(out)]) == 0
    assert f"13 reps, 5 predicted rounded (p ≥ {THRESHOLD})" in capsys.readouterr().err
    rows = pd.read_csv(out)
    starts = [re.fullmatch(STAMP, text) for text in rows["start_in_recording"]]
    assert all(starts)
    assert np.allclose([seconds(m) for m in starts], truth.start, atol=0.3)


def test_analyze_json_numbers_are_rounded_to_their_resolution(capsys, monkeypatch):
    """No 1.8500000000058208: times to 1 us, angles to 0.001 deg, the rest to 6 decimals;
    the field names stay those of docs/contracts.md (imu batch reads them)."""
    import json

    from imu.pipeline import REP_COLUMNS

    monkeypatch.chdir(ROOT)
    assert main(["analyze", DEMO, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert all(list(rep) == list(REP_COLUMNS) for rep in result["reps"])

    def decimals(value: float) -> int:
        text = repr(value)
        return 0 if "e" in text or "." not in text else len(text.split(".")[1])

    seen = 0
    for rep in result["reps"]:
        for key, value in rep.items():
            if isinstance(value, float):
                seen += 1
                limit = 3 if key.endswith(("_deg", "_deg_s")) else 6
                assert decimals(value) <= limit, (key, value)
    assert seen > 100
    durations = [rep["ascent_s"] for rep in result["reps"]]
    assert all(round(d, 2) == d for d in durations)  # differences of 100 Hz sample times


def test_ctrl_c_during_a_replay_stamps_the_calibration_when_it_was_settled(tmp_path):
    """Issue 16: Ctrl-C 12.8 s into the demo printed 'no forward bend deeper than 30 deg
    within 180 s' stamped t=1.5 s. Now it says it settled when the replay stopped and that
    the recording ended first (stamped where its angles start, the recording's start).

    Ctrl-C must come between 0:02 of the recording (the still period ends at 0:01.5) and
    about 0:18 (a bend that settles the calibration). A fixed 7 s after starting the
    process fell before 0:01.5 on a busy machine (imports and kernels took over 5 s):
    the replay prints nothing before the calibration, so the test waits for ``--events
    FILE`` to be created (after loading and the kernels, just before the first sample
    plays), then lets 6 s of the recording play in real time."""
    import os
    import signal
    import subprocess
    import sys

    events = tmp_path / "events.jsonl"
    replay = subprocess.Popen(
        [sys.executable, "-m", "imu", "replay", "--no-display", "--events", str(events), DEMO],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        started = time.monotonic()
        while not events.exists():  # start-up (imports, kernels), however long it takes
            assert replay.poll() is None, replay.communicate()
            assert time.monotonic() - started < 180.0, "the replay did not start in 180 s"
            time.sleep(0.05)
        time.sleep(6.0)  # 0:06 of the recording, played in real time: no bend yet
        replay.send_signal(signal.SIGINT)
        out, err = replay.communicate(timeout=60)
    finally:
        if replay.poll() is None:
            replay.kill()
            replay.communicate()
    assert replay.returncode == 130, err  # interrupted, as the shell counts SIGINT
    (line,) = [x for x in out.splitlines() if "calibration" in x]
    assert line.startswith("0:00.0  ") and "; angles from 0:00.0, settled at " in line, line
    settled = re.fullmatch(STAMP, line.rsplit(" settled at ", 1)[1])
    assert settled and seconds(settled) > 1.5, line  # not the still period's end
    assert "still period at 0:01.5" in line and "before the end" in line
    assert "within 180 s" not in line
    (summary,) = [x for x in out.splitlines() if x.startswith("session interrupted: ")]
    assert summary.startswith(f"session interrupted: {settled[0]}")


def test_alerts_show_each_measure_beside_its_limit(capsys, monkeypatch, tmp_path):
    """The hyperextension alert names the limit (--hyperextension-deg), with decimals
    enough to show the side (rep 1.5's lockout is 12.3 deg); a rounded alert's message in
    the events file carries the model's threshold, as the log does."""
    events = tmp_path / "events.jsonl"
    log = run(capsys, monkeypatch, "replay", "--fast", "--no-display", "--hyperextension-deg",
              "12", "--events", str(events), DEMO)
    assert ("1:06.6  ALERT rep 1.5 hyperextended: lockout 12.3 deg beyond upright, limit "
            "12.0 deg") in log
    alerts = [e for e in map(json.loads, events.read_text().splitlines()) if e["type"] == "alert"]
    by_rep = {(e["set"], e["rep"], e["kind"]): e["message"] for e in alerts}
    assert by_rep[(1, 5, "hyperextension")] == "lockout 12.3 deg beyond upright, limit 12.0 deg"
    assert by_rep[(1, 3, "rounded")] == f"rounded (p=1.00 ≥ {THRESHOLD})"


def test_every_probability_the_docs_show_is_beside_the_shipped_models_threshold():
    """The default model was retrained (threshold 0.158 -> 0.153): the quickstart screen
    was recaptured, but docs/live.md, vocabulary.md and report.md still showed 'p=0.81 ≥
    0.16' (and live.md a rep 2.3 the demo no longer flags). Every 'p=X < T' / 'p=X ≥ T' a
    person reads in the docs is what imu prints for X with the shipped model's threshold."""
    from imu.text import probability

    threshold = json.loads((ROOT / "models/default.manifest.json").read_text())["threshold"]
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             ROOT / "docs" / "quickstart-terminal.txt"]  # fmt: skip
    shown = [(page.name, match[0], match[1]) for page in pages
             for match in re.finditer(r"p=([01]\.\d+) [<≥] [01]\.\d+",
                                      page.read_text(encoding="utf-8"))]
    assert len(shown) > 20
    wrong = [(name, text) for name, text, p in shown
             if text != probability(float(p), threshold)]
    assert wrong == []
