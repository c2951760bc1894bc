"""A user's-eye pass over every command: bad paths and absurd option values end in one
line naming the culprit and exit status 2, never a traceback, and never overwrite data.

The session is synthetic (imu.sim, one lifter, 2 minutes), made once per test session.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from pathlib import Path

import pytest

from imu.cli import main


@pytest.fixture(scope="session")
def session_csv(tmp_path_factory) -> str:
    """A 2-minute synthetic session (regenerate: imu simulate -o DIR --lifters 1 --minutes 2)."""
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "-o", str(out), "--lifters", "1", "--minutes", "2"]) == 0
    return str(out / "L01_s1.csv")


def _one_line_error(capsys, argv: list[str], *words: str) -> str:
    """Run ``imu ARGV``; expect exit 2 and one stderr line containing every word."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)
    return err


def _one_line_error_in_last_line(capsys, argv: list[str], *words: str) -> None:
    """Like :func:`_one_line_error`, but progress lines may come first on stderr."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    assert all(word in err.splitlines()[-1] for word in words), err


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["analyze", "{s}", "--no-model", "--angles", "{missing}/a.csv"], "--angles"),
        (["analyze", "{s}", "--no-model", "--reps", "{missing}/r.csv"], "--reps"),
        (["label", "{s}", "-o", "{missing}/labels.csv"], "-o"),
        (["convert", "{s}", "-o", "{missing}/s.csv"], "-o"),
        (["replay", "{s}", "--fast", "--no-model", "--events", "{missing}/e.jsonl"], "--events"),
        (["train", "{s}", "-o", "{missing}/m.skops"], "-o"),
        (["evaluate", "{s}", "--plot", "{missing}/roc.png"], "--plot"),
    ],
)
def test_output_in_a_missing_directory_fails_before_any_work(
    capsys, tmp_path, session_csv, argv, option
):
    missing = tmp_path / "no" / "such"
    argv = [a.format(s=session_csv, missing=missing) for a in argv]
    _one_line_error(capsys, argv, option, "no such directory", str(missing))
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{s}", "--no-model", "--reps", "{d}", "--force"],
        ["label", "{s}", "-o", "{d}", "--force"],
        ["convert", "{s}", "-o", "{d}", "--force"],
        ["replay", "{s}", "--fast", "--no-model", "--events", "{d}", "--force"],
    ],
)
def test_output_that_is_a_directory_is_refused(capsys, tmp_path, session_csv, argv):
    argv = [a.format(s=session_csv, d=tmp_path) for a in argv]
    _one_line_error(capsys, argv, "is a directory", str(tmp_path))
    assert tmp_path.is_dir()


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{s}", "--no-model", "--angles", "{s}", "--force"],
        ["label", "{s}", "-o", "{s}", "--force"],
        ["convert", "{s}", "-o", "{s}", "--force"],
    ],
)
def test_output_never_overwrites_an_input_even_with_force(capsys, session_csv, argv):
    before = Path(session_csv).read_bytes()
    _one_line_error(capsys, [a.format(s=session_csv) for a in argv], "overwrite an input")
    assert Path(session_csv).read_bytes() == before


def test_simulate_into_a_file_is_refused_and_the_file_kept(capsys, session_csv):
    before = Path(session_csv).read_bytes()
    _one_line_error(
        capsys, ["simulate", "-o", session_csv, "--minutes", "1"], "-o must be a directory"
    )
    assert Path(session_csv).read_bytes() == before


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--hyperextension-deg", "nan"),
        ("--hyperextension-deg", "-1"),
        ("--hyperextension-deg", "inf"),
        ("--flexion-limit-deg", "-5"),
        ("--flexion-limit-deg", "nan"),
        ("--set-rest-s", "0"),
        ("--set-rest-s", "-1"),
        ("--set-rest-s", "nan"),
    ],
)
@pytest.mark.parametrize("command", ["analyze", "report", "replay"])
def test_absurd_measurement_options_are_refused(
    capsys, tmp_path, session_csv, command, option, value
):
    extra = {"report": ["-o", str(tmp_path / "r.html")], "replay": ["--fast"]}.get(command, [])
    argv = [command, session_csv, "--no-model", *extra, f"{option}={value}"]
    _one_line_error(capsys, argv, option, "between")
    assert not (tmp_path / "r.html").exists()


def test_sensible_measurement_options_still_work(capsys, session_csv):
    argv = ["analyze", session_csv, "--no-model", "--json", "--hyperextension-deg", "0",
            "--flexion-limit-deg", "60", "--set-rest-s", "30"]  # fmt: skip
    assert main(argv) == 0


def test_time_going_backwards_names_both_times_distinctly(capsys, tmp_path, session_csv):
    """Two samples 0.2 s apart on a clock near 61117 s must not both print as 61117.1
    (a step back by more than time stamps' jitter, 0.1 s: a clock reset, analysed with
    one warning that names both times)."""
    lines = Path(session_csv).read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line[:1].isdigit()) + 500
    lines[first], lines[first + 20] = lines[first + 20], lines[first]
    # the row moved 20 rows earlier is one late stamp; the one moved later goes back
    # behind the 20 rows before it: a reset, named against the latest of them
    later, earlier = (lines[k].split(",")[0] for k in (first, first + 20))
    bad = tmp_path / "swapped.csv"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(bad), "--no-model", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    (warned,) = [w for w in warnings if "time goes backwards" in w]
    assert f"({float(earlier)} after {float(later)})" in warned

def test_ble_host_time_jitter_is_analysed_with_one_warning(capsys, tmp_path):
    """A SYNTHETIC BLE recording whose host time stamps go back by a few ms at notification
    boundaries (imu.sim.recording.realistic_set 2) is analysed, not refused: exit 0, one
    warning counting the rows restamped, reps reported."""
    from imu.session import write_session
    from imu.sim.recording import realistic_set

    recording, _ = realistic_set(2)
    path = tmp_path / "ble.csv"
    write_session(recording.session, path)
    assert main(["analyze", str(path), "--no-model", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    back = [w for w in result["warnings"] if "time goes back on" in w]
    assert len(back) == 1 and "none dropped or sorted" in back[0], result["warnings"]
    assert result["reps"]


def test_ble_notification_stamps_are_analysed_with_the_same_reps(capsys, tmp_path):
    """The SYNTHETIC BLE recording of imu.sim.recording.realistic_set 2 (100 Hz, 3 samples
    per notification) with every sample of a notification stamped with its arrival, as
    a logger that stamps notifications writes it: exit 0, one warning counting the rows
    restamped, no row dropped, and the same reps as with the simulator's spread times."""
    import dataclasses

    import numpy as np

    from imu.session import write_session
    from imu.sim.recording import realistic_set

    recording, _ = realistic_set(2)
    data = recording.session.data
    t = data["time_s"].to_numpy()
    # within a notification the simulator spreads samples back from the arrival at the
    # nominal interval; the last sample of each notification carries the arrival itself
    last = np.r_[np.abs(np.diff(t) - 0.01) > 1e-9, True]
    stamps = t[last][np.r_[0, np.cumsum(last)[:-1]]]
    reps = {}
    for label, times in (("spread", t), ("stamped", stamps)):
        path = tmp_path / f"{label}.csv"
        session = dataclasses.replace(recording.session, data=data.assign(time_s=times))
        write_session(session, path)
        assert main(["analyze", str(path), "--no-model", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        reps[label] = len(result["reps"])
    restamped = [w for w in result["warnings"] if "rows restamped" in w]
    n_runs = int(np.count_nonzero(np.bincount(np.cumsum(last) - last) > 1))
    assert n_runs > 1 and len(restamped) == 1 and f"share {n_runs} time stamps with" in restamped[0]
    assert not any("dropped" in w for w in result["warnings"])
    assert reps["stamped"] == reps["spread"] > 0


@pytest.mark.parametrize("suffix", [".csv", ".zip"])
def test_random_bytes_are_called_binary_and_not_echoed(capsys, tmp_path, suffix):
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(bytes(range(256)) * 8)
    err = _one_line_error(capsys, ["analyze", str(junk), "--no-model"], "binary data", junk.name)
    assert err.isprintable() and err.isascii()


def test_an_empty_file_is_called_empty(capsys, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _one_line_error(capsys, ["analyze", str(empty), "--no-model"], "empty.csv: empty file")


@pytest.mark.parametrize("option", ["-o", "--csv"])
def test_report_keeps_an_existing_file_without_force(capsys, tmp_path, session_csv, option):
    kept = tmp_path / "mine.txt"
    kept.write_text("my notes\n")
    outputs = {"-o": str(tmp_path / "r.html"), option: str(kept)}
    argv = ["report", session_csv, "--no-model", *(x for kv in outputs.items() for x in kv)]
    _one_line_error(capsys, argv, "exists already", "--force")
    assert kept.read_text() == "my notes\n"
    assert main([*argv, "--force"]) == 0
    assert kept.read_text() != "my notes\n"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--rate", "nan"], ["--rate must be a positive number"]),
        (["--rate", "-5"], ["--rate must be a positive number"]),
        (["--rate", "inf"], ["--rate must be a positive number"]),
        (["--hyperextension-deg", "nan"], ["--hyperextension-deg", "between"]),
        (["--record", "{missing}/r.csv"], ["--record: no such directory"]),
    ],
)
def test_live_refuses_bad_options_before_looking_for_bluetooth(capsys, tmp_path, argv, words):
    argv = [a.format(missing=tmp_path / "no") for a in argv]
    err = _one_line_error(capsys, ["live", *argv], *words)
    assert "Bluetooth" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--clock-ppm", "nan"],
        ["--jitter-ms", "nan"],
        ["--jitter-ms", "inf"],
        ["--drop", "nan"],
        ["--rest", "nan", "60"],
        ["--labels", "{tmp}", "--force"],
    ],
)
def test_simulate_refuses_nan_options_and_writes_nothing(capsys, tmp_path, argv):
    """NaN slips through ``x < 0`` checks; --clock-ppm nan used to write all-empty rows."""
    out = tmp_path / "out"
    argv = ["simulate", "-o", str(out), "--minutes", "1", *(a.format(tmp=tmp_path) for a in argv)]
    _one_line_error(capsys, argv)
    assert not out.exists()


@pytest.mark.parametrize("command", ["replay", "analyze"])
def test_a_session_too_short_to_analyse_is_one_line_and_exit_2(capsys, tmp_path, session_csv, command):
    lines = Path(session_csv).read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:60]) + "\n")  # metadata, header and ~0.5 s of samples
    extra = ["--fast", "--no-display"] if command == "replay" else []
    assert main([command, str(short), *extra, "--no-model"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    error = captured.err.strip()
    assert "\n" not in error and "too short to analyse" in error and "52 samples over 0.51 s" in error, error



@pytest.mark.parametrize(
    "stamps", [("0.000000", "0.000100", "0.020000"), ("0.000000", "0.000000", "0.020000")],
    ids=["nearly one stamp", "one stamp"],
)
def test_a_tiny_file_stamped_in_bunches_is_too_short_not_a_broken_time_column(
    capsys, tmp_path, stamps
):
    """3 rows, the first 2 one BLE notification stamped on arrival: the old reader refused
    the time column ("too many for one BLE notification (they are most of the file's 3
    rows)"); the file is too short to analyse, and says so."""
    rows = [f"{t},0,0,9.81,0,0,{k}" for k, t in enumerate(stamps)]
    path = tmp_path / "tiny.csv"
    path.write_text("time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n" + "\n".join(rows) + "\n")
    assert main(["analyze", str(path), "--no-model"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith("too short to analyse: 3 samples over 0.04 s (a recording needs at "
                          "least 1.5 s: standing still at the start, then the lifts)"), error
    assert "\n" not in error and "notification" not in error

class _ClosedAfterOneLine(io.StringIO):
    """stdout of ``imu replay ... | head -1``: the reader goes away after the first line."""

    def write(self, text: str) -> int:
        if "\n" in self.getvalue():
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_replay_into_a_closed_pipe_exits_quietly_and_keeps_the_event_log(
    monkeypatch, caplog, tmp_path, session_csv
):
    events = tmp_path / "events.jsonl"
    monkeypatch.setattr(sys, "stdout", _ClosedAfterOneLine())
    argv = ["replay", session_csv, "--fast", "--no-display", "--no-model", "--events", str(events)]
    assert main(argv) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert kinds[0] == "calibration" and "rep" in kinds  # the engine was flushed into the log


UNWRITABLE = "/proc/imu-cannot-write-here"  # exists as a directory, refuses new files (Linux)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{s}", "--no-model", "--reps", "{u}.csv"],
        ["label", "{s}", "-o", "{u}.csv"],
        ["report", "{s}", "--no-model", "-o", "{u}.html"],
        ["simulate", "-o", "{u}", "--minutes", "1"],
        ["replay", "{s}", "--fast", "--no-model", "--events", "{u}.jsonl"],
        ["convert", "{s}", "-o", "{u}.csv"],
    ],
)
def test_a_place_that_refuses_writes_is_one_line(capsys, session_csv, argv):
    argv = [a.format(s=session_csv, u=UNWRITABLE) for a in argv]
    _one_line_error_in_last_line(capsys, argv, "cannot write", UNWRITABLE)


def test_label_refuses_a_session_given_twice(capsys, tmp_path, session_csv):
    """Twice would write every span twice, which train and evaluate reject as overlaps."""
    other_name = str(Path(session_csv).parent / "." / Path(session_csv).name)
    out = tmp_path / "labels.csv"
    argv = ["label", session_csv, other_name, "-o", str(out)]
    _one_line_error(capsys, argv, "given twice", f"also as {session_csv}")
    assert not out.exists()


def test_the_command_list_of_imu_help_fits_the_terminal_and_names_every_importer(
    capsys, monkeypatch
):
    """`imu --help` printed each command's purpose on one line (113 columns for batch), so
    an 80-column terminal cut words; convert's purpose left out Movella DOT."""
    from imu.cli import COMMANDS

    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(len(line) <= 80 for line in text.splitlines()), text
    listed = re.findall(r"^  (\w+) +\S", text, flags=re.MULTILINE)
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)
    convert = re.search(r"^  convert +(.*?)^  label ", text, re.MULTILINE | re.DOTALL)
    purpose = " ".join(convert[1].split())
    for app in ("phyphox", "Sensor Logger", "MetaBase", "WitMotion", "Polar", "Movella DOT"):
        assert app in purpose


@pytest.mark.parametrize(("command", "option", "words"), [
    ("analyze", "--hyperextension-deg X",
     "degrees of lockout extension beyond upright that flag a rep (default 10)"),
    ("simulate", "--rate HZ [HZ ...]",
     "sampling rate 25-400 Hz, or several used in turn (default 100)"),
])
def test_option_help_says_units_and_counts_in_words(capsys, monkeypatch, command, option, words):
    """The help said "(default 10)" of a limit without its unit, and "sampling rate(s)"."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"{option} {words}" in text
