"""Export dialects: phyphox 1.2.x axis-only files, Sensor Logger's legacy Android format,
Movella DOT CSV.

Two kinds of truth: the hand-made fixtures in tests/fixtures/importers (small round
numbers, expected values computed by hand; see its README), and round trips: a
SYNTHETIC imu.sim session (lifter 1, seed 3: `imu simulate` makes the same kind) written
out in the dialect by the writers below, imported, and compared with what was written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from imu.errors import InputError
from imu.importers import detect, load
from imu.importers._sources import gather
from imu.importers.movella import unwrap_s
from imu.sim import DeadliftSet, SessionScript, Stand, make_lifter, simulate

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
DEG = 180 / math.pi
T0_NS = 1709288102000000000  # 2024-03-01T10:15:02Z


def simulated(rate_hz: float) -> np.ndarray:
    """(n, 7) canonical samples of a short SYNTHETIC session (stand, one deadlift)."""
    script = SessionScript(make_lifter(1), (Stand(1.0, still=True), DeadliftSet(1), Stand(0.5)))
    return simulate(script, sampling_rate_hz=rate_hz, seed=3).session.samples()


# --- phyphox 1.2.x -----------------------------------------------------------------------
def test_phyphox_12x_axis_only_files_fixture():
    files = gather(FIXTURES / "phyphox_12x")
    assert detect(files) == "phyphox"
    session = load(FIXTURES / "phyphox_12x")
    data = session.data
    # the gyroscope's last line has no newline: kept, not taken for a cut-off line
    assert len(data) == 4 and session.warnings == []
    np.testing.assert_allclose(data["time_s"], [0.0, 0.01, 0.02, 0.03])
    np.testing.assert_allclose(data["acc_x"], [0.10, 0.11, 0.12, 0.13])
    np.testing.assert_allclose(data["acc_z"], [9.80, 9.81, 9.82, 9.83])
    np.testing.assert_allclose(data["gyr_x"], 0.01 * DEG)  # rad/s -> deg/s
    np.testing.assert_allclose(data["gyr_z"], -0.02 * DEG)


def write_phyphox_12x(folder: Path, samples: np.ndarray, acc_name: str = "Accelerometer") -> None:
    """phyphox 1.2.x per-sensor files: axis-only headers, unquoted d.dddddddddE±x numbers,
    no newline after the last line."""
    folder.mkdir()

    def write(name: str, unit: str, values: np.ndarray) -> None:
        rows = np.column_stack([samples[:, 0] - samples[0, 0], values])
        lines = [",".join(f"{v:.9E}" for v in row) for row in rows]
        header = ",".join(f'"{h}"' for h in ["Time (s)", *(f"{a} ({unit})" for a in "XYZ")])
        (folder / f"{name}.csv").write_text(header + "\n" + "\n".join(lines))

    write(acc_name, "m/s^2", samples[:, 1:4])
    write("Gyroscope", "rad/s", samples[:, 4:7] / DEG)


def test_phyphox_12x_round_trip(tmp_path):
    truth = simulated(100.0)
    write_phyphox_12x(tmp_path / "export", truth)
    assert "E-" in (tmp_path / "export" / "Accelerometer.csv").read_text()
    session = load(tmp_path / "export")
    got = session.samples()
    assert len(got) == len(truth) and session.warnings == []
    np.testing.assert_allclose(got[:, 0], truth[:, 0] - truth[0, 0], atol=1e-9)
    np.testing.assert_allclose(got[:, 1:], truth[:, 1:], rtol=1e-8, atol=1e-8)


def test_phyphox_12x_linear_accelerometer_file_is_refused(tmp_path):
    write_phyphox_12x(tmp_path / "export", simulated(50.0), acc_name="Linear Accelerometer")
    with pytest.raises(InputError, match="Linear Acceleration.*gravity"):
        load(tmp_path / "export")


# --- Sensor Logger, legacy Android format ---------------------------------------------------
def test_sensor_logger_legacy_fixture_acc_100_hz_gyro_500_hz():
    files = gather(FIXTURES / "sensorlogger_legacy")
    assert detect(files) == "sensor-logger"
    session = load(FIXTURES / "sensorlogger_legacy")
    data = session.data
    # the 500 Hz gyroscope timeline over the 40 ms both cover: 21 rows
    assert len(data) == 21
    np.testing.assert_allclose(data["time_s"] - data["time_s"][0], np.arange(21) * 0.002, atol=1e-6)
    # Accelerometer (x = 0.1 k at 100 Hz, y 0.2, z -0.1) + Gravity (z 9.8), interpolated
    np.testing.assert_allclose(data["acc_x"], 0.02 * np.arange(21), atol=1e-5)
    np.testing.assert_allclose(data["acc_y"], 0.2)
    np.testing.assert_allclose(data["acc_z"], 9.7)
    np.testing.assert_allclose(data["gyr_x"], 0.01 * np.arange(21) * DEG)
    assert session.metadata["started_utc"] == "2024-03-01T10:15:02+00:00"
    assert session.metadata["acceleration"] == "Accelerometer.csv + Gravity.csv"
    assert "500 Hz gyroscope timeline" in session.metadata["merged_by_interpolation"]
    assert not any("iOS" in w for w in session.warnings)  # the legacy format is Android's


def write_sensor_logger_legacy(folder: Path, samples: np.ndarray, acc_every: int) -> None:
    """Legacy Android files ``time,z,y,x``: gyroscope (rad/s) on every row, the
    accelerometer without gravity and Gravity.csv on every ``acc_every``-th row."""
    folder.mkdir()
    t_ns = T0_NS + np.round((samples[:, 0] - samples[0, 0]) * 1e9).astype(np.int64)
    acc = samples[::acc_every, 1:4]
    kernel = np.ones(25) / 25  # a slow gravity estimate, as a phone's fusion gives
    gravity = np.column_stack(
        [np.convolve(np.pad(acc[:, k], 12, mode="edge"), kernel, "valid") for k in range(3)]
    )

    def write(name: str, times: np.ndarray, xyz: np.ndarray) -> None:
        lines = [
            f"{t},{float(z)!r},{float(y)!r},{float(x)!r}"
            for t, (x, y, z) in zip(times, xyz, strict=True)
        ]
        (folder / f"{name}.csv").write_text("time,z,y,x\n" + "\n".join(lines) + "\n")

    write("Gyroscope", t_ns, samples[:, 4:7] / DEG)
    write("Accelerometer", t_ns[::acc_every], acc - gravity)
    write("Gravity", t_ns[::acc_every], gravity)


def test_sensor_logger_legacy_round_trip(tmp_path):
    # gyroscope at 400 Hz (the simulator's top rate), accelerometer and gravity at 100 Hz
    truth = simulated(400.0)
    write_sensor_logger_legacy(tmp_path / "rec", truth, acc_every=4)
    session = load(tmp_path / "rec")
    got = session.samples()
    assert len(got) == len(truth) - (len(truth) - 1) % 4  # gyro rows past the last acc row
    assert session.metadata["sampling_rate_hz"] == "400"
    np.testing.assert_allclose(got[:, 0] - got[0, 0], truth[: len(got), 0] - truth[0, 0], atol=1e-6)
    np.testing.assert_allclose(got[:, 4:7], truth[: len(got), 4:7], rtol=1e-9, atol=1e-9)
    # at the accelerometer's own times the sum Accelerometer + Gravity is the total again
    # (time stamps carry float64's 0.24 us step at Unix times: a tiny interpolation error)
    np.testing.assert_allclose(got[::4, 1:4], truth[: len(got) : 4, 1:4], atol=1e-4)


def test_sensor_logger_accelerometer_holding_gravity_is_not_given_it_twice(tmp_path):
    truth = simulated(100.0)
    write_sensor_logger_legacy(tmp_path / "rec", truth, acc_every=1)
    total = (tmp_path / "rec" / "Accelerometer.csv").read_text().splitlines()
    gyro = (tmp_path / "rec" / "Gyroscope.csv").read_text().splitlines()
    t_ns = [line.split(",")[0] for line in gyro[1:]]
    rows = [
        f"{t},{float(z)!r},{float(y)!r},{float(x)!r}"
        for t, (x, y, z) in zip(t_ns, truth[:, 1:4], strict=True)
    ]
    (tmp_path / "rec" / "Accelerometer.csv").write_text(total[0] + "\n" + "\n".join(rows) + "\n")
    session = load(tmp_path / "rec")
    assert session.metadata["acceleration"] == "Accelerometer.csv (gravity included)"
    assert any("already includes gravity" in w for w in session.warnings)
    np.testing.assert_allclose(session.samples()[:, 1:4], truth[:, 1:4], atol=1e-9)


# --- Movella DOT -----------------------------------------------------------------------------
def test_movella_dot_fixture_preamble_euler_columns_and_the_32_bit_wrap():
    files = gather(FIXTURES / "movella_dot")
    assert detect(files) == "movella-dot"
    session = load(FIXTURES / "movella_dot")
    data = session.data
    # SampleTimeFine 4294947296, 4294957296, 0, 10000, 20000 us: 10 ms steps across the wrap
    np.testing.assert_allclose(np.diff(data["time_s"]), 0.01, atol=1e-9)
    np.testing.assert_allclose(data["acc_x"], [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(data["gyr_x"], [1.0, 1.5, 2.0, 2.5, 3.0])  # deg/s as given
    assert session.metadata["dot_devicetag"] == "D4:22:CD:00:12:34"
    assert session.metadata["dot_outputrate"] == "100Hz"
    assert "wrap" in session.metadata["time_origin"]


def test_unwrap_of_the_microsecond_counter():
    ticks = np.array([2**32 - 20, 2**32 - 10, 0, 10, 2**32 - 5, 3]) / 1e6
    expected = np.array([2**32 - 20, 2**32 - 10, 2**32, 2**32 + 10, 2**33 - 5, 2**33 + 3]) / 1e6
    np.testing.assert_allclose(unwrap_s(ticks), expected, rtol=0, atol=1e-9)


def write_movella(path: Path, samples: np.ndarray, start_us: int, orientation: str) -> None:
    """A Movella DOT export: preamble, PacketCounter (u16), SampleTimeFine (u32 us),
    orientation columns before Acc_* (m/s^2) and Gyr_* (deg/s)."""
    ticks = (start_us + np.round((samples[:, 0] - samples[0, 0]) * 1e6).astype(np.int64)) % 2**32
    extra = {
        "euler": ["Euler_X", "Euler_Y", "Euler_Z"],
        "quat": ["Quat_W", "Quat_X", "Quat_Y", "Quat_Z"],
    }
    names = extra[orientation]
    header = ["PacketCounter", "SampleTimeFine", *names]
    header += ["Acc_X", "Acc_Y", "Acc_Z", "Gyr_X", "Gyr_Y", "Gyr_Z"]
    lines = ["DeviceTag:,D4:22:CD:00:56:78", "OutputRate:,60Hz", ",".join(header)]
    for i, (tick, row) in enumerate(zip(ticks, samples, strict=True)):
        cells = [str(i % 65536), str(tick), *(["0.25"] * len(names))]
        cells += [f"{v:.6f}" for v in row[1:7]]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("orientation", ["euler", "quat"])
def test_movella_dot_round_trip_across_the_wrap(tmp_path, orientation):
    truth = simulated(60.0)
    path = tmp_path / "dot.csv"
    write_movella(path, truth, start_us=2**32 - 2_000_000, orientation=orientation)  # wraps at 2 s
    session = load(path)
    got = session.samples()
    assert len(got) == len(truth) and session.warnings == []
    np.testing.assert_allclose(got[:, 0] - got[0, 0], truth[:, 0] - truth[0, 0], atol=1e-6)
    np.testing.assert_allclose(got[:, 1:], truth[:, 1:], atol=5e-7)


def test_movella_dot_free_acceleration_alone_is_refused(tmp_path):
    path = tmp_path / "dot.csv"
    path.write_text(
        "PacketCounter,SampleTimeFine,FreeAcc_X,FreeAcc_Y,FreeAcc_Z\n1,1000,0.1,0.2,0.3\n"
        "2,17667,0.1,0.2,0.3\n"
    )
    with pytest.raises(InputError, match="FreeAcc.*gravity"):
        load(path)


def test_movella_dot_without_gyro_loads_with_nan_gyro(tmp_path):
    path = tmp_path / "dot.csv"
    path.write_text(
        "PacketCounter,SampleTimeFine,Acc_X,Acc_Y,Acc_Z\n1,1000,0.1,0.2,9.8\n2,17667,0.1,0.2,9.8\n"
        "3,34333,0.1,0.2,9.8\n"
    )
    data = load(path).data
    assert len(data) == 3 and data[["gyr_x", "gyr_y", "gyr_z"]].isna().all().all()
