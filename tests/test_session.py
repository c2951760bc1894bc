"""The canonical session CSV: round trips, validation messages, crash-safe recording."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.errors import InputError
from imu.quality import data_quality
from imu.session import (
    GAP_COLUMN,
    GYR,
    REQUIRED,
    STANDARD_GRAVITY,
    Session,
    SessionWriter,
    read_session,
    read_table,
    write_session,
)

HEADER = ",".join(REQUIRED)


def tilting_samples(n: int = 1000, rate_hz: float = 100.0) -> np.ndarray:
    """(n, 7) samples of a sensor rocking +-40 deg about its x axis at 0.5 Hz.

    Exact kinematics: gravity seen in the sensor frame is (0, g sin a, g cos a) and the
    gyroscope reads da/dt about x, in deg/s. Values are rounded to what the writer keeps.
    """
    t = np.arange(n) / rate_hz
    angle = np.radians(40.0 * np.sin(2 * np.pi * 0.5 * t))
    rate_deg_s = 40.0 * 2 * np.pi * 0.5 * np.cos(2 * np.pi * 0.5 * t)
    g = STANDARD_GRAVITY
    zero = np.zeros_like(t)
    samples = np.column_stack(
        [t, zero, g * np.sin(angle), g * np.cos(angle), rate_deg_s, zero, zero]
    )
    return np.round(samples, 4)


def write_rows(path: Path, samples: np.ndarray, *, header: str = HEADER, meta: str = "") -> Path:
    lines = [
        ",".join(f"{v:.7g}" if i else f"{v:.6f}" for i, v in enumerate(row)) for row in samples
    ]
    path.write_text(meta + header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def session_lines(tmp_path: Path, n: int = 300) -> list[str]:
    """Lines of a valid canonical file (header is line 1, sample k is line k + 2)."""
    path = write_rows(tmp_path / "s.csv", tilting_samples(n))
    return path.read_text().splitlines()


def rewrite(tmp_path: Path, lines: list[str], name: str = "bad.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def error_of(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read_session(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------ round trips


def test_round_trip_keeps_values_extra_columns_and_metadata(tmp_path):
    samples = tilting_samples(500)
    data = pd.DataFrame(samples, columns=list(REQUIRED))
    data["seq"] = np.arange(500) + 7000
    data["note"] = ["start, light"] + [""] * 498 + ['say "end"']
    data["temperature_c"] = np.where(np.arange(500) % 7, 25.5, np.nan)
    metadata = {"sampling_rate_hz": "100", "device": "test-sensor", "synthetic": "true"}
    write_session(Session(data, metadata), tmp_path / "a.csv")
    back = read_session(tmp_path / "a.csv")
    assert back.metadata == metadata
    assert list(back.data.columns) == [*REQUIRED, "seq", "note", "temperature_c"]
    np.testing.assert_array_equal(back.data["temperature_c"], data["temperature_c"])
    np.testing.assert_array_equal(back.samples(), samples)
    np.testing.assert_array_equal(back.data["seq"], data["seq"])
    assert back.data["note"].tolist() == data["note"].tolist()
    assert back.warnings == []
    # and once more: the rewrite of a read file is byte-identical
    write_session(back, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_every_cell_reads_as_float_of_its_text(tmp_path):
    """pandas' C parser, which reads the rows, gives each cell exactly ``float()``'s double:
    long mantissas, many digits after the point, exponents, signs and bare points."""
    rng = np.random.default_rng(4)

    def digits() -> str:
        return "".join(rng.choice(list("0123456789"), int(rng.integers(1, 26))))

    def any_number() -> str:
        text, point = digits(), int(rng.integers(0, 26))
        cell = str(rng.choice(["", "-", "+"])) + text[:point] + "." + text[point:]
        return cell + (f"e{int(rng.integers(-30, 30))}" if rng.random() < 0.3 else "")

    rows = [
        f"{i / 100:.6f},0.0{digits()},-.{digits()}e-{int(rng.integers(1, 300))},9.{digits()},"
        + ",".join(any_number() for _ in range(3))
        for i in range(3000)
    ]
    text = HEADER + "\n" + "\n".join(rows) + "\n"
    expected = np.array([[float(cell) for cell in row.split(",")] for row in rows])
    # the table's parse: read_session would refuse gyro cells beyond any sensor's range
    parsed = read_table(text, "s.csv", header_index=0).floats({c: c for c in REQUIRED})
    assert parsed.to_numpy().tobytes() == expected.tobytes()


def test_nan_gyro_is_written_as_empty_cells(tmp_path):
    samples = tilting_samples(20)
    samples[:, 4:7] = np.nan
    write_session(Session(pd.DataFrame(samples, columns=list(REQUIRED))), tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text().splitlines()[1] == "0.000000,0,0,9.8066,,,"


def test_write_refuses_to_overwrite_without_force(tmp_path):
    session = Session(pd.DataFrame(tilting_samples(50), columns=list(REQUIRED)))
    write_session(session, tmp_path / "a.csv")
    with pytest.raises(InputError, match="exists already"):
        write_session(session, tmp_path / "a.csv")
    write_session(session, tmp_path / "a.csv", force=True)


def test_gzipped_session_reads_like_the_plain_file(tmp_path):
    plain = write_rows(tmp_path / "s.csv", tilting_samples(200), meta="# device: x\n")
    zipped = tmp_path / "s.csv.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = read_session(plain), read_session(zipped)
    np.testing.assert_array_equal(a.samples(), b.samples())
    assert b.metadata == {"device": "x"}


def test_write_gz_round_trip(tmp_path):
    session = Session(pd.DataFrame(tilting_samples(300), columns=list(REQUIRED)), {"a": "b"})
    write_session(session, tmp_path / "s.csv.gz")
    assert (tmp_path / "s.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    back = read_session(tmp_path / "s.csv.gz")
    np.testing.assert_array_equal(back.samples(), tilting_samples(300))
    assert back.metadata == {"a": "b"}


def test_gzip_cut_off_by_a_crash_loads_what_was_written(tmp_path):
    plain = write_rows(tmp_path / "s.csv", tilting_samples(2000))
    packed = gzip.compress(plain.read_bytes())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(packed[: len(packed) * 3 // 4])
    session = read_session(cut)
    assert 200 < len(session.data) < 2000
    np.testing.assert_array_equal(session.samples(), tilting_samples(len(session.data)))
    assert session.warnings[0].startswith(f"{cut}: the gzip data is cut off")
    assert "last line is incomplete (recording cut off?); dropped it" in session.warnings[1]


def test_any_time_origin_and_crlf_line_ends(tmp_path):
    samples = tilting_samples(200)
    samples[:, 0] += 1.7e9  # epoch seconds
    path = write_rows(tmp_path / "s.csv", samples)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    np.testing.assert_allclose(read_session(path).time_s, samples[:, 0], rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------ validation


def test_missing_column_names_the_header_line(tmp_path):
    lines = session_lines(tmp_path)
    lines[0] = lines[0].replace("gyr_y", "gyro_y")
    message = error_of(rewrite(tmp_path, ["# device: x", *lines]))
    assert message.startswith(f"{tmp_path / 'bad.csv'}:2: missing column 'gyr_y';")
    assert "'gyro_y'" in message


def test_duplicate_column_name(tmp_path):
    lines = session_lines(tmp_path)
    lines[0] += ",acc_x"
    lines[1:] = [line + ",0" for line in lines[1:]]
    assert "bad.csv:1: duplicate column name 'acc_x'" in error_of(rewrite(tmp_path, lines))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("abc", "column 'acc_y': not a number: 'abc'"),
        ("", "column 'acc_y': empty cell"),
        ("nan", "column 'acc_y': empty cell"),
        ("inf", "column 'acc_y': infinite value 'inf'"),
        ("-Infinity", "column 'acc_y': infinite value '-Infinity'"),
        ("9,81", "decimal commas?"),
    ],
)
def test_bad_cell_names_file_line_and_column(tmp_path, cell, expected):
    lines = session_lines(tmp_path)
    fields = lines[9].split(",")
    fields[2] = cell
    lines[9] = ",".join(fields)
    if cell == "9,81":
        lines[9] = lines[9].replace("9,81", '"9,81"')
    message = error_of(rewrite(tmp_path, lines))
    assert message.startswith(f"{tmp_path / 'bad.csv'}:10: ")
    assert expected in message


def test_too_many_fields_names_the_line(tmp_path):
    lines = session_lines(tmp_path)
    lines[20] += ",1,2"
    assert "bad.csv:21: 9 fields but the header has 7" in error_of(rewrite(tmp_path, lines))


def test_empty_file_only_metadata_and_only_header(tmp_path):
    assert "empty file: no header line" in error_of(rewrite(tmp_path, [""]))
    assert "empty file: no header line" in error_of(rewrite(tmp_path, ["# device: x"]))
    message = error_of(rewrite(tmp_path, ["# device: x", HEADER]))
    assert "bad.csv:2: no data rows after the header" in message
    message = error_of(rewrite(tmp_path, session_lines(tmp_path)[:2]))
    assert "only 1 sample; a session needs at least 2" in message


def test_not_text(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(bytes(range(256)))
    assert "binary file" in error_of(path)
    assert "no such file" in error_of(tmp_path / "missing.csv")


def test_a_clock_set_back_continues_the_rows_after_it_marked_as_a_gap(tmp_path):
    """A host clock set back by 100 s at sample 150 (or two recordings joined): every row
    kept, the rows from there continue one interval after the last before (as live does
    when a device clock goes back), the first marked as a gap so the analysis restarts
    there, one warning naming the line; a second step back is handled alike."""
    lines = session_lines(tmp_path)  # 100 Hz, sample k on line k + 2 at 0.01 k
    for k in range(150, 300):
        restamp(lines, k + 2, f"{0.01 * k - 100.0:.2f}")
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(300), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(session.samples()[:, 1:], tilting_samples(300)[:, 1:])
    assert np.flatnonzero(session.data["gap"].to_numpy()).tolist() == [150]
    assert session.warnings == [
        (f"{path}: time goes backwards at line 152 (-98.5 after 1.49), by 100 s, more than "
         "time stamps' jitter: a clock reset or recordings joined; the rows from there "
         "continue one sample interval after the latest earlier time, marked as a gap, and "
         "the analysis restarts there")
    ]
    lines[50], lines[70] = lines[70], lines[50]  # rows 49 and 69 swapped
    session = read_session(rewrite(tmp_path, lines))
    assert len(session.data) == 300 and np.all(np.diff(session.time_s) > 0)
    # 0.69 at row 49 is one row stamped late, not a reset; 0.49 at row 69 goes back behind
    # the 20 rows before it: a reset
    assert np.flatnonzero(session.data["gap"].to_numpy()).tolist() == [69, 150]
    assert "at line 71 (0.49 after 0.69), by 0.2 s (and at 1 more line)" in session.warnings[0]


def test_a_clock_set_back_restarts_the_analysis_as_live_does():
    """SYNTHETIC (imu.sim deadlift set, lifter 2, seed 4): the host clock set back by an
    hour mid-recording. The file's analysis restarts there (a flagged step with no room,
    as after a live device-clock reset) and finds the reps the unbroken recording has,
    with the same measures; no sample is lost."""
    from imu.pipeline import analyze_session
    from imu.sim import DeadliftSet, SessionScript, Stand, make_lifter, simulate

    script = SessionScript(make_lifter(2), (Stand(3.0, still=True), DeadliftSet(4), Stand(2.0),
                                            DeadliftSet(4), Stand(2.0)))
    session = simulate(script, sampling_rate_hz=100.0, seed=4).session
    whole = analyze_session(session)
    cut = int(np.searchsorted(session.time_s, whole.reps[3]["end_s"] + 1.0))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reset.csv"
        data = session.data.copy()
        data.loc[cut:, "time_s"] -= 3600.0
        write_session(type(session)(data=data, metadata=session.metadata), path)
        reset = read_session(path)
    assert len(reset.data) == len(session.data)
    result = analyze_session(reset)
    assert result.quality["n_restarts"] == 1
    assert len(result.reps) == len(whole.reps) == 8
    for a, b in zip(result.reps, whole.reps, strict=True):
        assert abs(a["start_s"] - b["start_s"]) < 0.02 and abs(a["end_s"] - b["end_s"]) < 0.02


def test_a_few_rows_stamped_late_are_jitter_not_a_clock_reset(tmp_path):
    """A notification of 8 rows stamped 0.15 s late (a logger busy for a moment), and one
    stamp 5 s out of place: the rows after them go back by more than 0.1 s, but only
    behind those few rows, so no clock was set back: no gap mark, no restart, every row
    kept, the late rows placed between their neighbours (here exactly their times)."""
    lines = session_lines(tmp_path)
    for k in range(100, 108):
        restamp(lines, k + 2, f"{0.01 * k + 0.15:.2f}")
    restamp(lines, 200 + 2, "7.00")
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(300), rtol=0, atol=1e-9)
    assert "gap" not in session.data
    assert len(session.warnings) == 1 and "9 rows restamped" in session.warnings[0]


def test_many_steps_back_are_no_clock_reset(tmp_path):
    """12 steps back of 0.5 s, 200 rows apart: more than 10 clock resets is a broken time
    column, refused naming the first."""
    lines = session_lines(tmp_path, n=2600)
    for j in range(200, 2600):
        restamp(lines, j + 2, f"{0.01 * j - 0.5 * (j // 200):.2f}")
    message = error_of(rewrite(tmp_path, lines))
    assert ("bad.csv:202: column 'time_s': time goes backwards (1.5 after 1.99), by 0.49 s, "
            "more than time stamps' jitter (0.1 s), at more than 10 lines: no clock reset") in message

def test_time_jitter_back_is_restamped_in_file_order_with_one_warning(tmp_path):
    """Host time stamps that go back by less than JITTER_S (BLE notifications arriving
    late): every row kept in file order; the rows stamped later than a row after them
    (late: host stamps are never early) are placed evenly between the nearest rows that
    keep their stamps."""
    lines = session_lines(tmp_path)
    restamp(lines, 49 + 2, "0.505")  # sample 49 (0.49) stamped 15 ms late, after 0.50
    restamp(lines, 100 + 2, "1.025")  # samples 100 and 101 (1.00, 1.01) stamped late,
    restamp(lines, 101 + 2, "1.028")  # after sample 102 (1.02)
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(300), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(session.samples()[:, 1:], tilting_samples(300)[:, 1:])
    assert session.warnings == [
        (f"{path}: time goes back on 2 lines, by up to 8 ms, first at line 52 (host time "
         "stamps' jitter, e.g. BLE notifications): 3 rows restamped evenly between the "
         "nearest rows in time order, none dropped or sorted (the file's order is the "
         "sensor's)")
    ]


def test_time_jitter_back_keeps_every_row_and_the_rows_in_time_order():
    """A SYNTHETIC realistic BLE recording (imu.sim.recording.realistic_set 2): every row
    kept in file order; the rows stamped later than a row after them move earlier (host
    stamps are late), by less than a connection interval and a half (27 ms here); the
    others keep their stamps."""
    from imu.pipeline.timing import Timing
    from imu.sim.recording import realistic_set

    recording, drawn = realistic_set(2)  # mid-rep, 100 Hz, 27 ms connection interval
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ble.csv"
        write_session(recording.session, path)
        raw = pd.read_csv(path, comment="#")[list(REQUIRED)].to_numpy()
        session = read_session(path)
    skipped = Timing().update(raw).skip
    n = int(skipped.sum())  # 53 when written; the simulator decides
    assert n > 0
    assert len(session.data) == len(raw)
    np.testing.assert_array_equal(session.samples()[:, 1:], raw[:, 1:])
    assert np.all(np.diff(session.time_s) > 0)
    late = raw[:-1, 0] >= np.minimum.accumulate(raw[::-1, 0])[::-1][1:]
    moved = session.time_s != raw[:, 0]
    assert moved[:-1].tolist() == late.tolist() and late.sum() > 0 and not moved[-1]
    shift = raw[moved, 0] - session.time_s[moved]
    assert shift.min() > 0 and shift.max() < 1.5 * drawn["connection_interval_s"]
    assert sum(f"time goes back on {n} line" in w for w in session.warnings) == 1


def restamp(lines: list[str], line: int, time_text: str) -> None:
    """Give file line ``line`` (header = line 1) the time ``time_text``."""
    rest = lines[line - 1].split(",", 1)[1]
    lines[line - 1] = f"{time_text},{rest}"


def test_notification_stamps_are_spread_back_with_one_warning_that_counts_them(tmp_path):
    """A logger that stamps the 4 samples of each BLE notification with its arrival (the
    time of the notification's last sample): every row is kept and the times come back
    at the file's rate, spread back from each stamp."""
    lines = session_lines(tmp_path)  # 100 Hz, sample k on line k + 2 at 0.01 k
    for k in range(300):
        restamp(lines, k + 2, f"{0.01 * (k // 4 * 4 + 3):.2f}")
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(300), rtol=0, atol=1e-12)
    assert session.warnings == [
        (f"{path}: 300 rows share 75 time stamps with different values (a logger stamping "
        "each BLE notification on arrival), first at line 2: 225 rows restamped, spread "
        "back from their stamp at 100 Hz")
    ]


def test_identical_samples_inside_a_notification_are_kept(tmp_path):
    """A sensor at rest with a coarse ADC sends two identical samples in one notification
    of 4 (stamped with its arrival): both are samples, kept and spread back like the
    others, not dropped as a row written twice (which lost a sample and moved the
    notification's earlier samples one interval late)."""
    lines = session_lines(tmp_path)  # 100 Hz, sample k on line k + 2 at 0.01 k
    values = {k: lines[k + 2 - 1].split(",", 1)[1] for k in range(300)}
    values[42] = values[41]  # samples 41 and 42 of the notification 40-43 repeat
    for k in range(300):
        lines[k + 2 - 1] = f"{0.01 * (k // 4 * 4 + 3):.2f},{values[k]}"
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(300), rtol=0, atol=1e-12)
    expected = tilting_samples(300)
    expected[42, 1:] = expected[41, 1:]
    np.testing.assert_allclose(session.samples()[:, 1:], expected[:, 1:], rtol=0, atol=1e-9)
    assert session.warnings == [
        (f"{path}: 300 rows share 75 time stamps with different values (a logger stamping "
        "each BLE notification on arrival), first at line 2: 225 rows restamped, spread "
        "back from their stamp at 100 Hz")
    ]


def test_notifications_arriving_bunched_are_placed_at_the_rate_before_the_later_stamp(tmp_path):
    """Two notifications of 4: the first stamped 0.43, the second 35 ms later, too close
    for 4 samples at 10 ms. A stamp is an upper bound of when its samples (and every
    sample before them) were measured: the second's samples go back from 0.465 at 100 Hz
    (0.435-0.465) and the rows before it no later than 0.435 allows, one interval less 1 %
    (LEAK) per row back, so what 0.465 proves fades out within 49 rows. The old reader
    spaced the second notification evenly between 0.43 and 0.465 (8.75 ms steps at 100
    Hz). No row dropped, none after its own stamp."""
    lines = session_lines(tmp_path)
    for k in range(40, 44):
        restamp(lines, k + 2, "0.43")
    for k in range(44, 48):
        restamp(lines, k + 2, "0.465")
    path = rewrite(tmp_path, lines)
    session = read_session(path)
    expected = 0.01 * np.arange(300)
    expected[44:48] = [0.435, 0.445, 0.455, 0.465]
    expected[:44] = 0.435 - (44 - np.arange(44)) * 0.0099
    np.testing.assert_allclose(session.time_s, expected, rtol=0, atol=1e-12)
    assert session.warnings == [
        (f"{path}: 8 rows share 2 time stamps with different values (a logger stamping "
        "each BLE notification on arrival), first at line 42: 47 rows restamped, spread "
        "back from their stamp at 100 Hz")
    ]


def test_notification_after_one_stamped_back_bounds_the_rows_before_it(tmp_path):
    """Three notifications of 4: 0.43, then one whose stamp goes back to 0.42, then one at
    0.45. Host stamps are late, never early: the samples of the one at 0.45 were measured
    at 0.42-0.45 (100 Hz back from it), so every row before them at most 9.9 ms (10 ms
    less the 1 % LEAK) before the next: the stamp that went back needs no restamping of
    its own, every row is kept in file order, and time increases."""
    lines = session_lines(tmp_path)
    for first, stamp in ((40, "0.43"), (44, "0.42"), (48, "0.45")):
        for k in range(first, first + 4):
            restamp(lines, k + 2, stamp)
    session = read_session(rewrite(tmp_path, lines))
    expected = 0.01 * np.arange(300)
    expected[48:52] = [0.42, 0.43, 0.44, 0.45]
    expected[:48] = 0.42 - (48 - np.arange(48)) * 0.0099
    np.testing.assert_allclose(session.time_s, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(session.samples()[:, 1:], tilting_samples(300)[:, 1:])
    assert not any("time goes back" in w for w in session.warnings)


@pytest.mark.parametrize(("rate_hz", "per"), [(25.0, 4), (50.0, 6), (50.0, 8)])
def test_late_notification_with_its_backlog_loads_at_the_sampling_times(
    tmp_path, rate_hz, per
):
    """A logger stamps each notification of ``per`` samples on arrival, 20 ms after its
    last sample; one is held 0.3 s by a stalled link and the ones due meanwhile arrive 3
    ms apart just after it. Each backlog notification's samples reach far back over the
    late stamp (at 25 Hz 4 samples span 0.16 s, the stamps leave 3 ms): the file was
    refused as 'too many for one BLE notification'. The late notification and its
    backlog are placed back at the file's rate from the backlog's last stamp: every
    sample at its sampling time (plus the constant 20 ms), no gap, one warning counting
    the notifications placed back."""
    truth = tilting_samples(600, rate_hz)
    index = np.arange(600) // per
    due = truth[np.minimum((index + 1) * per - 1, 599), 0] + 0.02  # each row's stamp
    late = 40  # the notification held back
    late_row = late * per
    stall_end = due[index == late][0] + 0.3
    stamps = due.copy()
    for k in range(late, index.max() + 1):
        if due[index == k][0] <= stall_end:
            stamps[index == k] = stall_end + 0.003 * (k - late)
    rows = truth.copy()
    rows[:, 0] = np.round(stamps, 3)
    path = write_rows(tmp_path / "stalled.csv", rows)
    session = read_session(path)
    np.testing.assert_allclose(session.time_s, truth[:, 0] + 0.02, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(session.samples()[:, 1:], truth[:, 1:])
    assert len(session.warnings) == 1
    late = np.count_nonzero(stamps[::per] - due[::per] > 0.05)  # placed back > 0.05 s
    assert late > 1
    assert session.warnings[0].endswith(
        f"; {late} notifications placed more than 0.05 s before their stamp, as the stamps "
        "after them allow at that rate (late: a stalled link and its backlog), by up to "
        f"0.3 s, the first at line {late_row + 2}")


def held_stamps(
    truth: np.ndarray, per: int, held: list[tuple[int, float]], first_rows: int | None = None
) -> np.ndarray:
    """Arrival stamps (s, to 1 ms) of notifications of ``per`` samples, 20 ms after the last
    (``first_rows``: the first stamp's rows, two notifications of one connection event);
    each ``(notification, s)`` in ``held`` arrives ``s`` late, the ones due meanwhile 3 ms
    apart just after it."""
    k = np.arange(len(truth))
    index = k // per
    if first_rows is not None:
        index = np.where(k < first_rows, 0, (k - first_rows) // per + 1)
    last = np.flatnonzero(np.r_[index[1:] != index[:-1], True])
    stamps = truth[last, 0] + 0.02
    due = stamps.copy()
    for late, held_s in held:
        backlog = np.flatnonzero((np.arange(due.size) >= late) & (due <= due[late] + held_s))
        stamps[backlog] = due[late] + held_s + 0.003 * (backlog - late)
    return np.round(stamps[index], 3)


@pytest.mark.parametrize("stall", [False, True], ids=["no stall", "stall later"])
def test_first_stamp_of_two_notifications_loads_with_a_stall_later(tmp_path, stall):
    """SYNTHETIC 25 Hz, 4 samples a notification stamped on arrival; the first stamp holds
    8 rows (two notifications of the connection's first event, bunched). The first run of
    a file has no stamp before it: its samples may reach back as far as they need. Once a
    stall later in the file was joined with its backlog, the checks measured the first
    run's room to the stamp after it instead, and refused the file ('time 0.3 repeats on
    8 rows from line 2 ...: at 25 Hz they span 0.32 s, the stamps leave 0.16 s'), which
    loaded without the stall. Now both load, every sample at its sampling time plus the
    link's 20 ms, no gap."""
    truth = tilting_samples(600, 25.0)
    rows = truth.copy()
    rows[:, 0] = held_stamps(truth, 4, [(40, 0.3)] if stall else [], first_rows=8)
    session = read_session(write_rows(tmp_path / "first.csv", rows))
    np.testing.assert_allclose(session.time_s, truth[:, 0] + 0.02, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(session.samples()[:, 1:], truth[:, 1:])
    assert session.quality()["gaps"] == []
    assert len(session.warnings) == 1 and "restamped" in session.warnings[0]


def test_first_notification_held_with_its_backlog_names_the_backlog(tmp_path):
    """SYNTHETIC 25 Hz, 4 samples a notification: the first held 0.3 s, the ones due
    meanwhile 3 ms behind it. The second's 4 samples (0.16 s) cannot fit in the 3 ms after
    the first stamp, and no stamp before bounds a join: refused, naming the second
    notification (line 6). The checks named the first (line 2: 'the stamps leave 0.003
    s', the time to the stamp after it), which has nothing before it to fit into."""
    truth = tilting_samples(600, 25.0)
    rows = truth.copy()
    rows[:, 0] = held_stamps(truth, 4, [(0, 0.3)])
    message = error_of(write_rows(tmp_path / "bad.csv", rows))
    assert (
        "bad.csv:7: column 'time_s': time 0.443 repeats on 4 rows from line 6 with "
        "different values: too many for one BLE notification (at 25 Hz they span 0.16 "
        "s, the stamps leave 0.003 s)"
    ) in message


def test_two_stamps_of_many_rows_each_are_no_notifications(tmp_path):
    """A short file on two time stamps (150 rows each) would spread back at a plausible
    rate from its two stamps alone; no BLE notification holds 150 samples."""
    lines = session_lines(tmp_path)
    for k in range(300):
        restamp(lines, k + 2, "1.50" if k < 150 else "3.00")
    message = error_of(rewrite(tmp_path, lines))
    assert ("bad.csv:3: column 'time_s': time 1.5 repeats on 150 rows from line 2 with "
            "different values: too many for one BLE notification (more than 128 rows on "
            "one stamp)") in message


@pytest.mark.parametrize(
    ("first", "end", "stamp", "words"),
    [
        (10, 300, "0.10", ("time 0.1 repeats on 290 rows from line 12 with different values: "
         "too many for one BLE notification (they are most of the file's 300 rows)")),
        (100, 150, "1.00", ("time 1 repeats on 50 rows from line 102 with different values: "
         "too many for one BLE notification (at 100 Hz they span 0.5 s, the stamps leave "
         "0.01 s)")),
        (100, 112, "0.94", ("time 0.94 repeats on 12 rows from line 102 with different values: "
         "too many for one BLE notification (at 100 Hz they span 0.12 s behind a stamp "
         "already 0.05 s behind an earlier one)")),
    ],
)
def test_repeated_time_that_is_no_notification_is_an_error(tmp_path, first, end, stamp, words):
    """Rows sharing a time that cannot be one notification (most of the file, or 50
    samples at 100 Hz behind a stamp 10 ms after the previous one) are refused in one
    line naming the second row."""
    lines = session_lines(tmp_path)
    for k in range(first, end):
        restamp(lines, k + 2, stamp)
    message = error_of(rewrite(tmp_path, lines))
    assert f"bad.csv:{first + 3}: column 'time_s': {words}" in message


def test_exact_duplicate_rows_are_dropped_with_a_warning(tmp_path):
    lines = session_lines(tmp_path)
    lines.insert(31, lines[30])
    lines.insert(101, lines[100])
    session = read_session(rewrite(tmp_path, lines))
    assert len(session.data) == 300
    assert session.warnings == [
        f"{tmp_path / 'bad.csv'}: dropped 2 exact duplicate rows, first at line 32"
    ]
    np.testing.assert_array_equal(session.samples(), tilting_samples(300))


def test_truncated_last_line_loads_with_a_warning(tmp_path):
    lines = session_lines(tmp_path)
    path = tmp_path / "cut.csv"
    path.write_text("\n".join(lines) + "\n" + lines[-1][:9].replace("2.99", "3.00"))
    session = read_session(path)
    assert len(session.data) == 300
    assert session.warnings == [
        f"{path}:302: last line is incomplete (recording cut off?); dropped it"
    ]
    # the same incomplete line followed by more data is an error, not a recovery
    path.write_text("\n".join([*lines, lines[-1][:9].replace("2.99", "3.00"), "3.1,0,0,9.8,0,0,0"]))
    assert "cut.csv:302: column 'acc_x': empty cell" in error_of(path)


def test_no_trailing_newline_keeps_a_complete_last_line(tmp_path):
    lines = session_lines(tmp_path)
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines))
    session = read_session(path)
    assert len(session.data) == 300 and session.warnings == []


@pytest.mark.parametrize(
    ("factor", "expected"),
    [(1e3, "time looks like milliseconds; divide it by 1000 or pass --format"),
     (1e6, "time looks like microseconds; divide it by 1000000 or pass --format"), (1e-3, "")],
)
def test_impossible_sampling_rate(tmp_path, factor, expected):
    samples = tilting_samples(300)
    samples[:, 0] *= factor
    message = error_of(write_rows(tmp_path / "bad.csv", samples))
    assert "column 'time_s': sampling rate" in message
    assert "is outside 5-2000 Hz" in message
    assert expected in message


def test_accelerometer_in_g_is_refused_then_accepted_with_acc_unit(tmp_path):
    samples = tilting_samples(300)
    in_g = samples.copy()
    in_g[:, 1:4] /= STANDARD_GRAVITY
    path = write_rows(tmp_path / "bad.csv", in_g)
    message = error_of(path)
    assert "column 'acc_x': median |acc| is 1 m/s^2, ~1: the accelerometer is in g" in message
    assert message.endswith("(pass --acc-unit g)")
    session = read_session(path, acc_unit="g")
    np.testing.assert_allclose(session.samples()[:, 1:4], samples[:, 1:4], atol=1e-4)
    assert session.metadata["acc_unit_converted_from"] == "g"
    # m/s^2 data with --acc-unit g is caught too
    good = write_rows(tmp_path / "good.csv", samples)
    assert "already m/s^2 (pass --acc-unit m/s2)" in error_of(good, acc_unit="g")


def test_gravity_removed_and_milli_g(tmp_path):
    samples = tilting_samples(300)
    linear = samples.copy()
    linear[:, 1:4] = 0.05
    assert "gravity seems removed" in error_of(write_rows(tmp_path / "a.csv", linear))
    milli = samples.copy()
    milli[:, 1:4] *= 1000 / STANDARD_GRAVITY
    assert "milli-g" in error_of(write_rows(tmp_path / "b.csv", milli))


def test_gyroscope_in_rad_s_is_refused_then_accepted_with_gyr_unit(tmp_path):
    samples = tilting_samples(1000)
    rad = samples.copy()
    rad[:, 4:7] = np.radians(rad[:, 4:7])
    path = write_rows(tmp_path / "bad.csv", rad)
    message = error_of(path)
    assert re.search(r"column 'gyr_x': the gyroscope turns ~[4-6]\dx slower than the acc", message)
    assert "look like rad/s, not deg/s" in message
    assert message.endswith("(pass --gyr-unit rad/s)")
    session = read_session(path, gyr_unit="rad/s")
    np.testing.assert_allclose(session.samples()[:, 4], samples[:, 4], rtol=1e-4, atol=1e-3)
    # the correct deg/s file passes the same check
    assert read_session(write_rows(tmp_path / "good.csv", samples)).warnings == []


def test_still_sensor_in_rad_s_cannot_be_told_and_loads(tmp_path):
    samples = tilting_samples(300)
    samples[:, 1:3] = 0.0
    samples[:, 3] = STANDARD_GRAVITY
    samples[:, 4:7] = 0.001
    assert read_session(write_rows(tmp_path / "still.csv", samples)).warnings == []


@pytest.mark.parametrize("rate_hz", [25.0, 100.0])
def test_noisy_still_recording_is_not_mistaken_for_rad_s(tmp_path, rate_hz):
    rng = np.random.default_rng(3)
    n = int(120 * rate_hz)
    samples = np.zeros((n, 7))
    samples[:, 0] = np.arange(n) / rate_hz
    samples[:, 1:4] = [0.0, 0.0, STANDARD_GRAVITY] + rng.normal(0, 1.0, (n, 3))
    samples[:, 4:7] = rng.normal(0, 0.2, (n, 3))
    session = read_session(write_rows(tmp_path / "still.csv", samples))
    assert session.warnings == []


def test_accelerometer_only_recording_loads_with_nan_gyro_and_a_warning(tmp_path):
    lines = session_lines(tmp_path)
    lines[1:] = [",".join(line.split(",")[:4] + ["", "", ""]) for line in lines[1:]]
    session = read_session(rewrite(tmp_path, lines, "acc_only.csv"))
    assert np.isnan(session.samples()[:, 4:7]).all()
    assert not session.has_gyro
    assert len(session.warnings) == 1
    assert "no gyroscope data" in session.warnings[0]
    assert (
        "accelerometer-only mode" in session.warnings[0]
        and "twist is unavailable" in session.warnings[0]
    )
    # a gyro that is missing on only some rows is an error
    lines[6] = lines[6].split(",", 1)[0] + ",0,0,9.81,1,2,3"
    assert "acc_only.csv:2: column 'gyr_x': empty cell" in error_of(
        rewrite(tmp_path, lines, "acc_only.csv")
    )


def test_gaps_are_a_warning_and_a_quality_figure(tmp_path):
    samples = np.delete(tilting_samples(1000), np.s_[300:350], axis=0)
    session = read_session(write_rows(tmp_path / "gappy.csv", samples))
    assert len(session.data) == 950
    assert len(session.warnings) == 1
    assert (
        "1 gap in the data, longest 0.51 s, the first ended at 0:03.5 from the start;"
        in session.warnings[0]
    )
    gaps = session.quality()["gaps"]
    assert gaps == [pytest.approx({"start_s": 2.99, "end_s": 3.5, "duration_s": 0.51})]


def test_metadata_rate_that_disagrees_with_the_samples_is_a_warning(tmp_path):
    path = write_rows(tmp_path / "s.csv", tilting_samples(300), meta="# sampling_rate_hz: 50\n")
    session = read_session(path)
    assert session.warnings == [
        (
            f"{path}: metadata says sampling_rate_hz 50 but the samples come at 100 Hz "
            "(1 / median interval); gaps are judged at 50 Hz"
        )
    ]


def test_unknown_unit_names(tmp_path):
    path = write_rows(tmp_path / "s.csv", tilting_samples(100))
    assert "unknown acceleration unit 'furlong'" in error_of(path, acc_unit="furlong")
    assert "already m/s^2 (pass --acc-unit m/s2)" in error_of(path, acc_unit="mg")
    assert "unknown angular-rate unit 'rpm'" in error_of(path, gyr_unit="rpm")


# --------------------------------------------------------------------------------- quality


def test_data_quality_of_a_known_timeline():
    rng = np.random.default_rng(1)
    t = np.arange(2000) / 100.0
    t = np.delete(t, np.s_[500:600])  # 100 samples lost: one 1.01 s gap after 4.99 s
    t[1:-1] += rng.normal(0, 0.0005, len(t) - 2)
    q = data_quality(t, nominal_rate_hz=100.0)
    assert q["n_samples"] == 1900
    assert q["duration_s"] == pytest.approx(19.99)
    assert [round(g["start_s"], 2) for g in q["gaps"]] == [4.99]
    assert q["gaps"][0]["duration_s"] == pytest.approx(1.01, abs=0.003)
    assert q["fraction_lost"] == pytest.approx(100 / 2000, abs=0.001)
    assert q["measured_rate_hz"] == pytest.approx(100.0, rel=0.01)
    # intervals differ by two independent N(0, 0.5 ms) draws: std sqrt(2) * 0.5 ms
    assert q["jitter_std_ms"] == pytest.approx(0.707, rel=0.1)
    assert 10.5 < q["interval_p95_ms"] < 11.6


def test_data_quality_of_too_short_input():
    q = data_quality(np.array([1.0]))
    assert q["n_samples"] == 1 and q["gaps"] == [] and np.isnan(q["measured_rate_hz"])


# ---------------------------------------------------------------------------- SessionWriter


def test_session_writer_writes_gap_marker_extras_and_refuses_overwrite(tmp_path):
    path = tmp_path / "rec.csv"
    samples = tilting_samples(400)
    with SessionWriter(
        path, {"device": "sim", "sampling_rate_hz": 100}, extra_columns=["seq"]
    ) as w:
        w.append(samples[:200], extra={"seq": np.arange(200)})
        w.append(samples[200:], gap_before=True, extra={"seq": 9})
    session = read_session(path)
    # closed: its mark says so, in place of 'in progress' (same length), and no note
    assert session.metadata == {"device": "sim", "sampling_rate_hz": "100", "recording": "complete"}
    assert not [w for w in session.warnings if "not closed" in w]
    np.testing.assert_array_equal(session.samples(), samples)
    assert session.data[GAP_COLUMN].tolist() == [0] * 200 + [1] + [0] * 199
    assert session.data["seq"].tolist() == list(range(200)) + [9] * 200
    with pytest.raises(InputError, match="rec.csv: exists already"):
        SessionWriter(path)
    SessionWriter(path, force=True).close()
    header = ",".join([*REQUIRED, GAP_COLUMN]) + "\n"
    assert path.read_text() == "# recording: complete   \n" + header


def test_session_writer_writes_nan_gyro_as_empty_cells(tmp_path):
    samples = tilting_samples(100)
    samples[:, 4:7] = np.nan
    with SessionWriter(tmp_path / "h10.csv") as w:
        w.append(samples)
    assert (tmp_path / "h10.csv").read_text().splitlines()[2].endswith(",,,,0")
    assert not read_session(tmp_path / "h10.csv").has_gyro


NAMES = {
    "long": "Gurt " * 14000,  # 70 kB: the metadata head outgrows the reader's first 64 KiB
    "non-ASCII": "Rückenwächter 背中 🏋️",
    "U+2028": "Gurt\u2028links",  # str.splitlines() breaks the line there
    "NEL": "Gurt\x85links",
    "surrogate": "Gurt \udcff",  # a name decoded with surrogateescape
}
READ_BACK = {
    "long": NAMES["long"].strip(),
    "non-ASCII": NAMES["non-ASCII"],
    "U+2028": "Gurt links",
    "NEL": "Gurt links",
    "surrogate": "Gurt \\udcff",
}


@pytest.mark.parametrize("kind", NAMES)
def test_session_writer_closes_whatever_the_device_name(tmp_path, kind):
    """A recording whose metadata line is long, non-ASCII, or holds a character that ends
    a line for the reader closes as 'complete' and reads back with its name (line breaks
    as spaces, what UTF-8 cannot hold escaped). A name with U+2028 or NEL ended its
    metadata line: the rest was read as the header ('8 fields but the header has 1'); a
    lone surrogate was a UnicodeEncodeError when the recording started."""
    path = tmp_path / "rec.csv"
    samples = tilting_samples(300)
    with SessionWriter(path, {"device": NAMES[kind], "sampling_rate_hz": 100}) as w:
        w.append(samples)
    session = read_session(path)
    assert session.metadata == {
        "device": READ_BACK[kind], "sampling_rate_hz": "100", "recording": "complete"
    }
    assert session.warnings == []
    np.testing.assert_array_equal(session.samples(), samples)


def test_session_writer_marks_the_line_it_wrote_whatever_its_format(tmp_path, monkeypatch):
    """The mark 'in progress' is overwritten where it was written, not where a
    '# key: value' layout would put it: with metadata lines written '#key :  value' (which
    the reader takes too), the recording still closes as 'complete' and the header is
    untouched (the offset counted '# recording: ' and wrote into the mark's leading space:
    'complete   s')."""
    from imu.session import writer

    def padded(metadata):
        return "".join(f"#{key} :  {value}\n" for key, value in metadata.items())

    monkeypatch.setattr(writer, "format_metadata", padded)
    path = tmp_path / "rec.csv"
    with SessionWriter(path, {"device": "Gürtel"}) as w:
        w.append(tilting_samples(300))
    session = read_session(path)
    assert session.metadata == {"device": "Gürtel", "recording": "complete"}
    assert path.read_text(encoding="utf-8").splitlines()[1] == "#recording :  complete   "


@pytest.mark.parametrize("kind", ["long", "non-ASCII", "U+2028"])
def test_recording_cut_off_before_close_reads_back_unclosed(tmp_path, kind):
    """A recorder that ends without closing (os._exit: a crash) leaves 'in progress': the
    file reads back with its rows, its device name and the documented warning."""
    path = tmp_path / "crash.csv"
    child = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        from imu.session import SessionWriter
        writer = SessionWriter(sys.argv[1], {"device": sys.argv[2]})
        writer.append(np.array([[0.01 * k, 0.0, 0.0, 9.81, 1.0, 2.0, 3.0] for k in range(50)]))
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", child, str(path), NAMES[kind]], check=True)
    session = read_session(path)
    assert session.metadata == {"device": READ_BACK[kind], "recording": "in progress"}
    assert session.warnings == [
        (
            f"{path}: the recording was not closed (the recorder was killed or crashed, or is "
            "still recording): it holds every sample written up to its last row"
        )
    ]
    np.testing.assert_allclose(session.time_s, 0.01 * np.arange(50), rtol=0, atol=1e-9)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from imu.session import SessionWriter
    writer = SessionWriter(sys.argv[1], {"device": "crash-test"})
    k = 0
    while True:
        rows = np.array([[k + i, 0.0, 0.0, 9.81, 1.0, 2.0, 3.0] for i in range(5)]) * [0.01, 1, 1, 1, 1, 1, 1]
        writer.append(rows)
        k += 5
        print(f"{time.monotonic():.6f} {rows[-1, 0]:.2f}", flush=True)  # after the append
        time.sleep(0.05)
    """
)


def test_session_writer_survives_kill_9_losing_no_row_appended(tmp_path):
    path = tmp_path / "crash.csv"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    reports = [child.stdout.readline()]  # "monotonic time after an append, its last time_s"
    try:
        while float(reports[-1].split()[0]) < float(reports[0].split()[0]) + 2.5:
            reports.append(child.stdout.readline())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    reports += child.stdout.read().splitlines()  # printed before the kill, not yet read
    appended = [tuple(map(float, r.split())) for r in reports if len(r.split()) == 2]
    session = read_session(path)  # loads; a cut-off last line would only be a warning
    assert session.metadata == {"device": "crash-test", "recording": "in progress"}
    assert any("the recording was not closed" in w for w in session.warnings)
    assert session.time_s[0] == 0.0
    # every append reported done before the kill is on disk (each is handed to the OS at
    # once; before, those of the last second could be lost)
    assert len(appended) > 30
    assert session.time_s[-1] >= appended[-1][1]
    assert len(session.data) >= 2.0 / 0.05 * 5 * 0.5  # at least ~half of 2 s of appends
    np.testing.assert_allclose(np.diff(session.time_s), 0.01)
    assert np.all(session.data[list(GYR)].to_numpy() == [1.0, 2.0, 3.0])


def test_deg_s_gyroscope_declared_rad_s_is_caught(tmp_path):
    path = write_rows(tmp_path / "s.csv", tilting_samples(1000))
    message = error_of(path, gyr_unit="rad/s")
    assert re.search(r"after converting from rad/s the gyroscope turns ~[5-7]\dx faster", message)
    assert message.endswith("(pass --gyr-unit deg/s)")


def test_stray_quote_names_its_line(tmp_path):
    lines = session_lines(tmp_path)
    lines[7] = '"' + lines[7]
    assert "bad.csv:8: unbalanced quote" in error_of(rewrite(tmp_path, lines))


def test_trailing_separator_on_every_line_is_accepted(tmp_path):
    lines = [line + "," for line in session_lines(tmp_path)]
    session = read_session(rewrite(tmp_path, lines, "trailing.csv"))
    np.testing.assert_array_equal(session.samples(), tilting_samples(300))


def test_only_a_cut_off_first_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text(HEADER + "\n0.000000,0.1,9.8")
    assert "only 0 samples; a session needs at least 2" in error_of(path)


def test_the_example_in_the_format_doc_reads(tmp_path):
    doc = (Path(__file__).parents[1] / "docs" / "session-format.md").read_text()
    example = doc.split("```\n", 2)[1]
    (tmp_path / "example.csv").write_text(example)
    session = read_session(tmp_path / "example.csv")
    assert session.metadata["acc_unit_converted_from"] == "g"
    assert session.sampling_rate_hz == 100.0
    np.testing.assert_allclose(session.time_s, [0.0, 0.01, 0.02, 0.04])
    assert session.data[GAP_COLUMN].tolist() == [0, 0, 0, 1]
    # the marked lost sample is a gap in the data, as the engine reports it (0.02 s)
    assert len(session.warnings) == 1
    assert "1 gap in the data, longest 0.02 s" in session.warnings[0], session.warnings


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 60),
    rate_hz=st.floats(7.0, 1500.0),  # jitter keeps the median rate inside 5-2000 Hz
    jitter=st.floats(0.0, 0.25),
    down=st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0.2, 1)),
    seed=st.integers(0, 2**32 - 1),
    note=st.lists(st.sampled_from(["", "a", "b, c", 'say "x"', "ü"]), min_size=60, max_size=60),
    meta=st.dictionaries(
        st.text("abcxyz_", min_size=1, max_size=8),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(str.strip),
        max_size=4,
    ),
)
def test_any_valid_session_survives_write_and_read(n, rate_hz, jitter, down, seed, note, meta):
    rng = np.random.default_rng(seed)
    intervals = (1.0 / rate_hz) * (1 + rng.uniform(-jitter, jitter, n - 1))
    data = pd.DataFrame(
        {"time_s": np.round(1000.0 + np.concatenate([[0.0], np.cumsum(intervals)]), 6)}
    )
    direction = np.array(down) / np.linalg.norm(down)
    acc = STANDARD_GRAVITY * direction + rng.normal(0, 0.05, (n, 3))
    for k, column in enumerate(REQUIRED[1:4]):
        data[column] = acc[:, k]
    for column in GYR:
        data[column] = rng.normal(0, 2.0, n)
    data["seq"] = np.arange(n)
    data["note"] = note[:n]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        write_session(Session(data, meta), path)
        back = read_session(path)
    assert back.metadata == {k: v for k, v in meta.items()}
    np.testing.assert_allclose(back.time_s, data["time_s"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.samples()[:, 1:], data.loc[:, list(REQUIRED[1:])], rtol=1e-6)
    assert back.data["seq"].tolist() == list(range(n))
    assert ["" if pd.isna(v) else v for v in back.data["note"]] == note[:n]  # all-empty: NaN


@pytest.mark.parametrize("rate_hz", [5.0, 25.0, 100.0, 200.0])
@pytest.mark.parametrize("gyro_factor", [1.0, np.pi / 180])  # deg/s, and rad/s read as deg/s
def test_gyro_tilt_ratio_is_the_median_of_its_windows(rate_hz, gyro_factor):
    """The vectorised check against its definition, window by window in plain Python:
    tilt between the 0.2 s mean gravity directions at both ends of each 0.5 s window
    over the rotation sum |gyr| dt between their centres, median over windows > 20 deg."""
    from imu.session.checks import _gyro_tilt_ratio

    samples = tilting_samples(int(20 * rate_hz), rate_hz)
    samples[:, 4] *= gyro_factor
    step, width = max(2, round(rate_hz * 0.5)), max(3, round(rate_hz * 0.2))
    ratios = []
    for k in range(0, len(samples) - width - step + 1, step):
        a = samples[k : k + width, 1:4].mean(axis=0)
        b = samples[k + step : k + step + width, 1:4].mean(axis=0)
        cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        tilt = np.degrees(np.arccos(min(1.0, max(-1.0, cos))))
        c = k + width // 2
        rotation = sum(
            np.linalg.norm(samples[i, 4:7]) * (samples[i, 0] - samples[i - 1, 0])
            for i in range(c + 1, c + step + 1)
        )
        if tilt > 20.0:
            ratios.append(tilt / rotation)
    expected = float(np.median(ratios))
    assert _gyro_tilt_ratio(samples, rate_hz) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(1.0 if gyro_factor == 1.0 else 57.3, rel=0.25)


def _tilt_ratio_all_samples(samples: np.ndarray, rate_hz: float) -> float | None:
    """The gyro/tilt ratio with the rotation of every window, tilted or not, summed from
    the rotation of every sample (how it was computed before only tilted windows were)."""
    from numpy.lib.stride_tricks import sliding_window_view

    time_s, acc, gyr = samples[:, 0], samples[:, 1:4], samples[:, 4:7]
    step, width = max(2, round(rate_hz * 0.5)), max(3, round(rate_hz * 0.2))
    if len(acc) < step + width:
        return None
    ends = np.arange((len(acc) - width - step) // step + 2) * step
    down = sliding_window_view(acc, width, axis=0)[ends].sum(axis=-1)
    down /= np.linalg.norm(down, axis=1, keepdims=True)
    cosine = np.einsum("ij,ij->i", down[:-1], down[1:])
    tilt_deg = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    turned = np.sqrt(np.einsum("ij,ij->i", gyr[1:], gyr[1:])) * np.diff(time_s)
    rotation_deg = sliding_window_view(turned, step)[ends[:-1] + width // 2].sum(axis=-1)
    tilted = tilt_deg > 20.0
    if tilted.sum() < 3:
        return None
    return float(np.median(tilt_deg[tilted] / np.maximum(rotation_deg[tilted], 1e-9)))


@pytest.mark.parametrize("layout", ["C", "F", "F, every other column"])
def test_gyro_tilt_ratio_has_every_bit_of_the_all_samples_sum(layout):
    """Summing the rotation of the tilted windows only changes no bit of the ratio (its
    value is printed in the rad/s message), in any memory order of the samples."""
    from imu.session.checks import _gyro_tilt_ratio

    rng = np.random.default_rng(5)
    compared = 0
    for _ in range(100):
        n, rate_hz = int(rng.integers(10, 3000)), float(rng.choice([25, 52, 100, 200, 400]))
        angle = np.cumsum(rng.normal(0, 0.2, n))
        samples = np.column_stack(
            [
                np.cumsum(rng.uniform(0.5, 1.5, n)) / rate_hz,
                rng.normal(0, 1, n),
                STANDARD_GRAVITY * np.sin(angle),
                STANDARD_GRAVITY * np.cos(angle),
                rng.normal(0, 1, (n, 3)) * rng.choice([1, 50, 3000]),
            ]
        )
        if layout != "C":
            samples = np.asfortranarray(samples)
        if layout == "F, every other column":
            samples = np.asfortranarray(np.repeat(samples, 2, axis=1))[:, ::2]
        expected = _tilt_ratio_all_samples(samples, rate_hz)
        assert _gyro_tilt_ratio(samples, rate_hz) == expected
        compared += expected is not None
    assert compared > 80


def test_the_median_magnitude_is_exact_whenever_it_is_not_gravity_like():
    """Counting skips the median only when it lies within 6-14 m/s^2: for lengths
    crowded around both limits (odd and even counts, NaN), the median is either returned
    exactly or None, and None only when np.median's value is within 6-14."""
    from imu.session.checks import _odd_median_magnitude

    rng = np.random.default_rng(11)
    skipped = exact = 0
    for _ in range(2000):
        n = int(rng.integers(2, 9))
        lengths = rng.choice(
            [5.999999, 6.0, 6.000001, 10.0, 13.999999, 14.0, 14.00001, 3.0, 20.0], n
        )
        if rng.random() < 0.05:
            lengths[0] = np.nan
        direction = rng.normal(0, 1, (n, 3))
        acc = direction / np.linalg.norm(direction, axis=1, keepdims=True) * lengths[:, None]
        truth = float(np.median(np.sqrt(np.einsum("ij,ij->i", acc, acc))))
        got = _odd_median_magnitude(acc)
        if got is None:
            assert 6.0 <= truth <= 14.0
            skipped += 1
        else:
            assert got == truth or (np.isnan(got) and np.isnan(truth))
            exact += 1
    assert skipped > 300 and exact > 300
