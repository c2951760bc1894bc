"""Importers of other apps' exports, on fixtures written to each app's documented header.

Expected values are the fixtures' numbers converted by hand: g * 9.80665 = m/s^2,
mg * 0.00980665 = m/s^2, rad/s * 180/pi = deg/s, and linear interpolation between
neighbouring samples where two sensors are merged onto one timeline.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu.errors import InputError
from imu.importers import FORMATS, detect, load
from imu.importers._common import merge_streams, no_gyro
from imu.importers._sources import gather
from imu.session import GYR, REQUIRED, Session, check_time, read_session, write_session

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
G = 9.80665
DEG = 180.0 / np.pi


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def error_of(*args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


# -------------------------------------------------------------------------------- phyphox

# accelerometer rows at 0.01..0.04 s (the gyroscope starts at 0.005 s, so 0.00 is outside
# the common span); gyroscope x = 10 rad/s^2 * t, y = -0.1 rad/s, sampled at 0.005 + 0.01 k
PHYPHOX = np.array(
    [
        [0.01, 0.2, 9.7, 0.3, 0.1 * DEG, -0.1 * DEG, 0.0],
        [0.02, 0.3, 9.6, 0.4, 0.2 * DEG, -0.1 * DEG, 0.0],
        [0.03, 0.4, 9.5, 0.5, 0.3 * DEG, -0.1 * DEG, 0.0],
        [0.04, 0.5, 9.4, 0.6, 0.4 * DEG, -0.1 * DEG, 0.0],
    ]
)


@pytest.mark.parametrize("flavour", ["phyphox_comma", "phyphox_semicolon", "phyphox_tab"])
def test_phyphox_csv_flavours(flavour):
    session = load(FIXTURES / flavour)
    # phyphox_semicolon has meta/time.csv: START at experiment time 0 = Unix T0
    origin = T0 if flavour == "phyphox_semicolon" else 0.0
    np.testing.assert_allclose(session.time_s, PHYPHOX[:, 0] + origin, rtol=0, atol=1e-6)
    # Unix-time stamps carry ~0.2 us of float64 rounding into the gyro interpolation
    np.testing.assert_allclose(session.samples()[:, 1:], PHYPHOX[:, 1:], atol=1e-3)
    assert session.metadata["source_format"] == "phyphox"
    assert session.metadata["gyr_unit_converted_from"] == "rad/s"
    assert session.metadata["merged_by_interpolation"] == (
        "gyr_* linearly interpolated from 100 Hz onto the 100 Hz accelerometer timeline"
    )
    assert session.warnings == []


def test_phyphox_zip_with_meta_folder(tmp_path):
    archive = zip_folder(FIXTURES / "phyphox_semicolon", tmp_path / "Acceleration 2024.zip")
    assert "meta/device.csv" in zipfile.ZipFile(archive).namelist()
    assert detect(gather(archive)) == "phyphox"
    session = load(archive)
    np.testing.assert_allclose(session.time_s, PHYPHOX[:, 0] + T0, rtol=0, atol=1e-6)
    # Unix-time stamps carry ~0.2 us of float64 rounding into the gyro interpolation
    np.testing.assert_allclose(session.samples()[:, 1:], PHYPHOX[:, 1:], atol=1e-3)
    assert session.metadata["source_files"] == (
        f"{archive}/Accelerometer.csv, {archive}/Gyroscope.csv"
    )
    assert session.metadata["device"] == "Pixel 7"
    assert session.metadata["time_origin"].startswith("Unix time from phyphox meta/time.csv")


def test_phyphox_pause_becomes_a_gap(tmp_path):
    folder = tmp_path / "export"
    (folder / "meta").mkdir(parents=True)
    t = np.arange(200) * 0.01  # 2 s of experiment time at 100 Hz, paused 5 s at 1.0 s
    rows = "".join(f"{v:.9E},0.1,9.8,0.2\n" for v in t)
    (folder / "Accelerometer.csv").write_text(
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)",'
        '"Acceleration z (m/s^2)"\n' + rows
    )
    (folder / "meta" / "time.csv").write_text(
        '"event","experiment time","system time","system time text"\n'
        '"START",0.000000000E0,1709288102.123,"2024-03-01 10:15:02.123 UTC+00:00"\n'
        '"PAUSE",1.000000000E0,1709288103.123,"2024-03-01 10:15:03.123 UTC+00:00"\n'
        '"START",1.000000000E0,1709288108.123,"2024-03-01 10:15:08.123 UTC+00:00"\n'
    )
    session = load(folder)
    expected = T0 + t + np.where(t >= 1.0, 5.0, 0.0)
    np.testing.assert_allclose(session.time_s, expected, rtol=0, atol=1e-6)
    assert (
        "1 gap in the data, longest 5.01 s, the first ended at 0:06.0 from the start;"
        in session.warnings[1]
    )


def test_phyphox_single_accelerometer_file_has_no_gyro():
    session = load(FIXTURES / "phyphox_comma" / "Accelerometer.csv")
    assert len(session.data) == 5
    assert np.isnan(session.samples()[:, 4:7]).all()
    assert "no gyroscope data" in session.warnings[0]


def test_phyphox_linear_acceleration_is_refused_with_an_explanation():
    message = error_of(FIXTURES / "phyphox_linear")
    assert "Linear Acceleration.csv: phyphox 'Linear Acceleration' has gravity removed" in message
    assert "'Acceleration (with g)'" in message


def test_phyphox_bad_cell_names_file_line_and_column(tmp_path):
    folder = copy_fixture("phyphox_semicolon", tmp_path)
    path = folder / "Accelerometer.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace("9,600000000E0", "n/a")
    path.write_text("\n".join(lines) + "\n")
    message = error_of(folder)
    assert message.startswith(f"{path}:4: column 'Acceleration y (m/s^2)': not a number: 'n/a'")


# -------------------------------------------------------------------------- Sensor Logger

T0 = 1709288102.123  # 2024-03-01T10:15:02.123Z, the fixtures' first timestamp


def test_sensor_logger_total_acceleration_folder_and_zip(tmp_path):
    expected = PHYPHOX.copy()
    expected[:, 0] += T0  # same numbers as the phyphox fixture, epoch time
    for source in (
        FIXTURES / "sensorlogger_total",
        zip_folder(FIXTURES / "sensorlogger_total", tmp_path / "2024-03-01_10-15-02.zip"),
    ):
        session = load(source)
        assert session.metadata["source_format"] == "sensor-logger"
        np.testing.assert_allclose(session.time_s, expected[:, 0], rtol=0, atol=1e-6)
        # z,y,x column order in the files -> x,y,z here
        np.testing.assert_allclose(session.samples()[:, 1:4], expected[:, 1:4], atol=1e-9)
        # ns epoch times carry ~0.2 us of float64 rounding into the interpolation
        np.testing.assert_allclose(session.samples()[:, 4:7], expected[:, 4:7], atol=1e-3)
        assert "Metadata.csv" not in session.metadata["source_files"]
        assert session.metadata["device"] == "Pixel 7"


def test_sensor_logger_accelerometer_plus_gravity():
    session = load(FIXTURES / "sensorlogger_gravity")
    # Accelerometer + Gravity at 0.01 and 0.02 s (the gyroscope starts at 0.005 s)
    np.testing.assert_allclose(
        session.samples()[:, 1:4], [[0.2, 9.7, 0.3], [0.3, 9.6, 0.4]], atol=1e-9
    )
    np.testing.assert_allclose(session.samples()[:, 4], [0.1 * DEG, 0.2 * DEG], atol=1e-3)
    assert session.metadata["acceleration"] == "Accelerometer.csv + Gravity.csv"


def test_sensor_logger_ios_acceleration_signs_are_turned_to_specific_force():
    # the iOS fixture holds the negated Accelerometer and Gravity of the Android one
    ios, android = load(FIXTURES / "sensorlogger_ios"), load(FIXTURES / "sensorlogger_gravity")
    np.testing.assert_allclose(ios.samples(), android.samples(), atol=1e-9)
    assert ios.metadata["acceleration"] == (
        "Accelerometer.csv + Gravity.csv, negated (iOS sign convention)"
    )
    assert ios.metadata["device"] == "iPhone 13"
    assert ios.warnings == []
    # without Metadata.csv the platform is unknown: Android axes assumed, with a warning
    assert "no Metadata.csv to tell iOS from Android" in android.warnings[0]


def test_sensor_logger_ios_accelerometer_holding_gravity_is_turned_too():
    # hand-made: an iOS Accelerometer.csv already holding gravity (the negated sum of
    # sensorlogger_gravity's Accelerometer and Gravity), Gravity.csv beside it
    ios = load(FIXTURES / "sensorlogger_ios_gravity_in")
    android = load(FIXTURES / "sensorlogger_gravity")
    np.testing.assert_allclose(ios.samples(), android.samples(), atol=1e-9)
    assert ios.metadata["acceleration"] == (
        "Accelerometer.csv (gravity included), negated (iOS sign convention)"
    )
    assert any("already includes gravity" in w and "Gravity.csv not added" in w
               for w in ios.warnings)


def test_sensor_logger_legacy_accelerometer_in_g_holding_gravity():
    # hand-made legacy Android files in g: Accelerometer.csv holds gravity (|a| = 1 g);
    # with --acc-unit g it is used as it is, Gravity.csv (in g too) not added again
    session = load(FIXTURES / "sensorlogger_legacy_g", acc_unit="g")
    k = np.arange(5)
    np.testing.assert_allclose(session.data["acc_x"], 0.01 * k * G, atol=1e-9)
    np.testing.assert_allclose(session.data["acc_y"], 0.02 * G, atol=1e-9)
    np.testing.assert_allclose(session.data["acc_z"], G, atol=1e-9)
    np.testing.assert_allclose(session.data["gyr_x"], 0.01 * k * DEG, atol=1e-9)
    assert session.metadata["acceleration"] == "Accelerometer.csv (gravity included)"
    assert any("Gravity.csv not added" in w for w in session.warnings)
    assert not any("iOS" in w for w in session.warnings)  # the legacy format is Android's


def test_sensor_logger_user_acceleration_alone_is_refused():
    message = error_of(FIXTURES / "sensorlogger_user_only")
    assert "Accelerometer.csv: no accelerometer with gravity" in message
    assert "enable 'Total Acceleration'" in message


# ------------------------------------------------------------------------------- MetaBase


def test_metabase_merges_acc_onto_the_faster_gyro_timeline():
    session = load(FIXTURES / "metabase")
    k = np.arange(7)
    np.testing.assert_allclose(session.time_s, 1709306102.0 + 0.04 * k, rtol=0, atol=1e-6)
    # acc at 80 ms steps: x = 0.01 + 0.02 j g; at 40 ms steps halfway values (epoch
    # seconds in float64 carry ~0.2 us, hence 1e-6 m/s^2 of interpolation rounding)
    np.testing.assert_allclose(session.data["acc_x"], (0.01 + 0.01 * k) * G, atol=1e-6)
    np.testing.assert_allclose(session.data["acc_y"], (1.0 - 0.005 * k) * G, atol=1e-6)
    np.testing.assert_allclose(session.data["acc_z"], (0.02 + 0.01 * k) * G, atol=1e-6)
    np.testing.assert_allclose(session.data["gyr_x"], 1.0 + 0.5 * k, atol=1e-12)
    np.testing.assert_allclose(session.data[["gyr_y", "gyr_z"]], [[-2.0, 0.5]] * 7)
    assert session.metadata["merged_by_interpolation"] == (
        "acc_* linearly interpolated from 12.5 Hz onto the 25 Hz gyroscope timeline"
    )
    assert session.metadata["acc_rate_hz"] == "12.500"
    assert session.metadata["gyr_rate_hz"] == "25.000"


def test_metabase_repeated_epoch_names_line_and_column(tmp_path):
    folder = copy_fixture("metabase", tmp_path)
    path = next(folder.glob("*Gyroscope*"))
    lines = path.read_text().splitlines()
    for i in range(3, len(lines)):  # most of the file on one time: no BLE notification
        lines[i] = lines[2].split(",", 1)[0] + "," + lines[i].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    message = error_of(folder)
    assert message.startswith(f"{path}:4: column 'epoc (ms)': time ")
    assert "repeats on 6 rows from line 3 with different values" in message


# ---------------------------------------------------------------------------------- Polar


def test_polar_acc_and_gyro():
    session = load(FIXTURES / "polar")
    np.testing.assert_allclose(session.time_s, T0 + 0.005 * np.arange(4), rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        session.samples()[:, 1:4],
        np.array([[12, -1000, 25], [14, -998, 27], [16, -996, 29], [18, -994, 31]]) * G / 1000,
        atol=1e-9,
    )
    # gyro at 10 ms steps interpolated onto the 5 ms accelerometer timeline
    np.testing.assert_allclose(session.data["gyr_x"], [1.5, 2.0, 2.5, 3.0], atol=1e-4)
    np.testing.assert_allclose(session.data["gyr_y"], -0.5)


def test_polar_h10_acc_only_loads_with_nan_gyro_and_a_warning():
    session = load(FIXTURES / "polar_h10")
    assert np.isnan(session.data[list(GYR)].to_numpy()).all()
    assert len(session.warnings) == 1
    assert "no gyroscope data" in session.warnings[0]
    assert "accelerometer-only mode" in session.warnings[0] and "twist is unavailable" in session.warnings[0]


def test_polar_gyro_alone_is_refused():
    message = error_of(next((FIXTURES / "polar").glob("*GYRO.txt")))
    assert "no Polar ACC file" in message


def test_polar_cut_off_last_line_loads_with_a_warning(tmp_path):
    path = tmp_path / "Polar_H10_X_ACC.txt"
    text = next((FIXTURES / "polar_h10").glob("*.txt")).read_text()
    path.write_text(text + "2024-03-01T10:15:02.143;762603302143000000;20;-99")
    session = load(path)
    assert len(session.data) == 4
    assert f"{path}:6: last line is incomplete (recording cut off?); dropped it" in (
        session.warnings
    )


# ------------------------------------------------------------------------------ WitMotion

WIT = np.array(
    [
        [0.1, 0.02, 0.99, 1.5, -2.0, 0.25],
        [0.11, 0.03, 0.98, 2.0, -2.5, 0.5],
        [0.12, 0.04, 0.97, 2.5, -3.0, 0.75],
        [0.13, 0.05, 0.96, 3.0, -3.5, 1.0],
    ]
)


@pytest.mark.parametrize(
    ("name", "t0"),
    [
        ("gen1_seconds.txt", 0.0),
        ("gen2_gbk.txt", T0),
        ("gen3_long_names.txt", T0),
        ("gen4_chinese_gbk.txt", T0),
    ],
)
def test_witmotion_header_generations(name, t0):
    session = load(FIXTURES / "witmotion" / name)
    assert session.metadata["source_format"] == "witmotion"
    np.testing.assert_allclose(session.time_s, t0 + 0.01 * np.arange(4), rtol=0, atol=1e-6)
    np.testing.assert_allclose(session.samples()[:, 1:4], WIT[:, :3] * G, atol=1e-9)
    np.testing.assert_allclose(session.samples()[:, 4:7], WIT[:, 3:], atol=1e-12)


def test_witmotion_preamble_is_kept_as_metadata():
    session = load(FIXTURES / "witmotion" / "gen2_gbk.txt")
    assert session.metadata["preamble"] == "Start time：2024-03-01 10:15:02"


def test_witmotion_several_devices_are_refused(tmp_path):
    source = (FIXTURES / "witmotion" / "gen2_gbk.txt").read_bytes()
    lines = source.split(b"\r\n")
    lines[3] = lines[3].replace(b"5A:12:34", b"5A:99:99")
    path = tmp_path / "two.txt"
    path.write_bytes(b"\r\n".join(lines))
    assert "2 devices in one file" in error_of(path)


def test_witmotion_unreadable_time_names_line(tmp_path):
    path = tmp_path / "bad_time.txt"
    text = (FIXTURES / "witmotion" / "gen3_long_names.txt").read_text()
    path.write_text(text.replace("2024-03-01 10:15:02.143", "yesterday"))
    assert f"{path}:4: column 'Time': not a time: 'yesterday'" in error_of(path)


# ----------------------------------------------------------------- canonical and detection


def canonical_session(tmp_path: Path) -> Path:
    t = np.arange(50) / 50.0
    data = pd.DataFrame({c: np.zeros(50) for c in REQUIRED})
    data["time_s"] = t
    data["acc_z"] = G
    data["seq"] = np.arange(50)
    write_session(Session(data, {"device": "x"}), tmp_path / "s.csv")
    return tmp_path / "s.csv"


def test_canonical_session_through_load(tmp_path):
    path = canonical_session(tmp_path)
    session = load(path)
    assert session.metadata == {"device": "x"}
    assert session.data["seq"].tolist() == list(range(50))
    assert detect(gather(path)) == "session"


def test_unknown_format_asks_for_format(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("a,b,c\n1,2,3\n")
    message = error_of(path)
    assert message.startswith(f"{path}: unknown file format: its first lines match none of")
    assert "a,b,c" not in message  # nothing of an unrecognised file is echoed
    assert "pass --format" in message


def test_format_override_uses_that_importer(tmp_path):
    path = canonical_session(tmp_path)
    assert "no Polar ACC file" in error_of(path, fmt="polar")
    assert "no Movella DOT file" in error_of(path, fmt="movella-dot")
    assert "unknown format 'excel'" in error_of(path, fmt="excel")
    assert set(FORMATS) == {
        "session", "phyphox", "sensor-logger", "metabase", "polar", "movella-dot", "witmotion"
    }  # fmt: skip


def test_acc_unit_override_replaces_the_declared_unit(tmp_path):
    path = tmp_path / "wit_ms2.txt"
    text = (FIXTURES / "witmotion" / "gen1_seconds.txt").read_text().splitlines()
    rows = [text[0]]
    for line in text[1:]:
        cells = line.split("\t")
        cells[1:4] = [f"{float(c) * G:.6f}" for c in cells[1:4]]
        rows.append("\t".join(cells))
    path.write_text("\n".join(rows) + "\n")
    message = error_of(path)
    assert (
        "after converting from g: the values were already m/s^2 (pass --acc-unit m/s2)" in message
    )
    session = load(path, acc_unit="m/s2")
    np.testing.assert_allclose(session.samples()[:, 1:4], WIT[:, :3] * G, atol=1e-5)


def test_missing_inputs(tmp_path):
    assert "no such file or folder" in error_of(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    assert "no CSV or text files found" in error_of(tmp_path / "empty")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zipfile.ZipFile.__doc__.encode()[:10] + b"PK\x05\x06" + b"\0" * 18)
    assert "broken.zip" in error_of(broken)
    assert "no input file given" in error_of([])


def test_empty_export_file(tmp_path):
    path = tmp_path / "Accelerometer.csv"
    path.write_text(
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"\n'
    )
    assert f"{path}:1: no data rows after the header" in error_of(path)


# ---------------------------------------------------------------------------------- merge


def stream(prefix: str, t: np.ndarray, slope: float) -> pd.DataFrame:
    frame = pd.DataFrame({"time_s": t})
    for axis in "xyz":
        frame[f"{prefix}_{axis}"] = slope * t
    return frame


def test_merge_leaves_out_samples_inside_a_gap_of_the_other_stream():
    t_acc = np.arange(100) * 0.01
    t_gyr = np.delete(np.arange(50) * 0.02 + 0.001, np.s_[20:30])  # 0.2 s hole
    merged, note = merge_streams(stream("acc", t_acc, 1.0), stream("gyr", t_gyr, 2.0), "a", "g")
    t = merged["time_s"].to_numpy()
    assert t[0] == pytest.approx(0.01) and t[-1] == pytest.approx(0.98)
    hole = (t > t_gyr[19]) & (t < t_gyr[20])
    assert not hole.any()
    assert len(t) == 98 - 22  # 0.01..0.98 minus the 22 acc samples 0.39..0.60 in the hole
    np.testing.assert_allclose(merged["gyr_x"], 2.0 * t, atol=1e-12)
    assert note == "gyr_* linearly interpolated from 50 Hz onto the 100 Hz accelerometer timeline"


def test_merge_of_identical_timelines_interpolates_nothing():
    t = np.arange(10) * 0.01
    merged, note = merge_streams(stream("acc", t, 1.0), stream("gyr", t, 2.0), "a", "g")
    assert note is None and list(merged.columns) == list(REQUIRED)


def test_merge_keeps_the_gap_marks_of_a_clock_set_back():
    """Both streams' clocks set back by 10 s at 0.5 s (check_time marks the first row
    after it in each): the merged timeline carries one mark, on its row nearest the
    marked times, so the analysis restarts there as with one file."""
    acc = stream("acc", np.arange(100) * 0.01 - np.where(np.arange(100) >= 50, 10.0, 0), 1.0)
    gyr = stream("gyr", np.arange(50) * 0.02 + 0.001 - np.where(np.arange(50) >= 25, 10.0, 0), 2.0)
    warnings: list[str] = []
    acc, gyr = (check_time(f, n, "time_s", warnings) for f, n in ((acc, "a"), (gyr, "g")))
    assert len(warnings) == 2
    merged, _ = merge_streams(acc, gyr, "a", "g")
    marks = np.flatnonzero(merged["gap"].to_numpy())
    t = merged["time_s"].to_numpy()
    assert len(marks) == 1 and t[marks[0]] == pytest.approx(0.5) and np.all(np.diff(t) > 0)
    alone = no_gyro(acc)
    assert np.flatnonzero(alone["gap"].to_numpy()).tolist() == [50]


def test_merge_of_disjoint_streams_is_an_error():
    with pytest.raises(InputError, match="do not overlap in time"):
        merge_streams(
            stream("acc", np.arange(10) * 0.01, 1.0),
            stream("gyr", 5 + np.arange(10) * 0.01, 1.0),
            "a.csv",
            "g.csv",
        )


def test_session_with_a_misnamed_column_is_told_which(tmp_path):
    path = canonical_session(tmp_path)
    path.write_text(path.read_text().replace("gyr_z", "gyro_z"))
    message = error_of(path)
    assert message.startswith(f"{path}:2: missing column 'gyr_z'; found 'time_s'")


def test_phyphox_one_file_with_both_sensors_needs_no_interpolation(tmp_path):
    path = tmp_path / "Raw Data.csv"
    path.write_text(
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)",'
        '"Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"\n'
        "0.00,0.1,9.8,0.2,0.5,0,-0.5\n0.02,0.2,9.7,0.3,1.0,0,-1.0\n"
    )
    session = load(path)
    assert "merged_by_interpolation" not in session.metadata
    assert session.metadata["source_files"] == str(path)
    np.testing.assert_allclose(
        session.samples(),
        [[0.0, 0.1, 9.8, 0.2, 0.5 * DEG, 0, -0.5 * DEG], [0.02, 0.2, 9.7, 0.3, DEG, 0, -DEG]],
    )


def test_two_recordings_in_one_folder_are_refused(tmp_path):
    folder = copy_fixture("polar", tmp_path)
    acc = next(folder.glob("*ACC.txt"))
    shutil.copy(acc, folder / "Polar_Sense_B36B5B21_20240302_080000_ACC.txt")
    message = error_of(folder)
    assert message.startswith("2 polar accelerometer files: ")
    assert "give the polar files of one recording only" in message


def test_witmotion_times_with_utc_offset_become_utc(tmp_path):
    text = (FIXTURES / "witmotion" / "gen3_long_names.txt").read_text()
    lines = text.splitlines()
    lines[1:] = [line.replace("\t", "+01:00\t", 1) for line in lines[1:]]
    path = tmp_path / "offset.txt"
    path.write_text("\n".join(lines) + "\n")
    session = load(path)
    np.testing.assert_allclose(session.time_s, T0 - 3600 + 0.01 * np.arange(4), rtol=0, atol=1e-6)


def test_witmotion_rows_ending_in_a_tab_the_header_lacks(tmp_path):
    lines = (FIXTURES / "witmotion" / "gen1_seconds.txt").read_text().splitlines()
    path = tmp_path / "trailing_tab.txt"
    path.write_text("\n".join([lines[0], *(line + "\t" for line in lines[1:])]) + "\n")
    np.testing.assert_allclose(load(path).samples()[:, 1:4], WIT[:, :3] * G, atol=1e-9)


def test_session_folder_with_other_csv_files(tmp_path):
    path = canonical_session(tmp_path)
    (tmp_path / "s.truth.csv").write_text("time_s,flexion_deg\n0.0,1.0\n0.02,1.5\n")
    (tmp_path / "s.reps.csv").write_text("set,rep,start_s\n1,1,0.0\n")
    assert load(tmp_path).data["seq"].tolist() == list(range(50))
    assert read_session(path).metadata == {"device": "x"}


@pytest.mark.parametrize(
    "name, started",
    [
        ("sensorlogger_total", "2024-03-01T10:15:02+00:00"),  # T0, epoch nanoseconds
        ("polar", "2024-03-01T10:15:02+00:00"),  # ns since 2000-01-01 UTC
        ("metabase", "2024-03-01T15:15:02+00:00"),  # epoch ms; its local column says -05:00
        ("phyphox_semicolon", "2024-03-01T10:15:02+00:00"),  # meta/time.csv gives the clock
        ("phyphox_comma", None),  # no meta/time.csv: experiment time, no start known
        ("session", None),  # a canonical file carries its own metadata only
    ],
)
def test_imports_with_a_unix_clock_record_their_start(name, started):
    """`imu report` orders sessions by this (the key `imu live --record` writes)."""
    assert load(FIXTURES / name).metadata.get("started_utc") == started


def test_a_unix_clock_that_is_no_date_gives_no_start_time(tmp_path):
    """Times ~1e12 s (year 33658): the recording loads, without a start time."""
    folder = copy_fixture("sensorlogger_total", tmp_path)
    for name in ("TotalAcceleration.csv", "Gyroscope.csv"):
        path = folder / name
        lines = path.read_text().splitlines()
        rows = [line.split(",", 1) for line in lines[1:]]
        shifted = [f"{int(t) + 10**21},{rest}" for t, rest in rows]  # + 1e12 s
        path.write_text("\n".join([lines[0], *shifted]) + "\n")
    session = load(folder)
    assert session.time_s[0] == pytest.approx(1e12 + T0, abs=0.02)
    assert "started_utc" not in session.metadata
