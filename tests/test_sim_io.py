"""Sensor error model, files written by the simulator, and `imu simulate`."""

from __future__ import annotations

import dataclasses
import gzip
import shlex

import numpy as np
import pandas as pd
import pytest

from imu.cli import main
from imu.importers import load
from imu.model.labels import read_labels
from imu.sim import (
    DeadliftSet,
    SensorModel,
    SessionScript,
    Stand,
    make_lifter,
    read_table,
    simulate,
    write_result,
)
from imu.sim.core import REP_COLUMNS, TRUTH_COLUMNS
from imu.sim.sensor import STANDARD_GRAVITY_M_S2 as G

QUIET = dataclasses.replace(
    SensorModel.ideal(), acc_noise_density_ug=400.0, gyr_noise_density_deg_s=0.005
)


def _constant(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.tile([0.0, 0.0, G], (n, 1)), np.tile([10.0, -5.0, 0.0], (n, 1))


def test_white_noise_matches_the_datasheet_density():
    acc, gyr = _constant(40_000)
    a, g = QUIET.measure(acc, gyr, 100.0, np.random.default_rng(1))
    # sd = density * sqrt(bandwidth), bandwidth = rate / 2 = 50 Hz
    np.testing.assert_allclose((a - acc).std(axis=0), 400e-6 * G * np.sqrt(50), rtol=0.03)
    np.testing.assert_allclose((g - gyr).std(axis=0), 0.005 * np.sqrt(50), rtol=0.03)
    np.testing.assert_allclose((a - acc).mean(axis=0), 0.0, atol=1e-3)


def test_bias_scale_and_cross_axis_are_constant_per_sensor():
    model = dataclasses.replace(
        SensorModel.ideal(),
        acc_bias_sigma_m_s2=0.15,
        gyr_bias_sigma_deg_s=1.0,
        scale_error_sigma=0.01,
        cross_axis_sigma=0.005,
    )
    acc, gyr = _constant(500)
    a, g = model.measure(acc, gyr, 50.0, np.random.default_rng(2))
    assert np.ptp(a, axis=0).max() < 1e-12 and np.ptp(g, axis=0).max() < 1e-12
    assert 0.001 < np.abs(a[0] - acc[0]).max() < 1.0 and 0.01 < np.abs(g[0] - gyr[0]).max() < 5.0


def test_bias_drift_is_a_slow_random_walk():
    model = dataclasses.replace(SensorModel.ideal(), gyr_bias_walk_deg_s_per_10min=0.2)
    acc, gyr = _constant(100 * 600)
    _, g = model.measure(acc, gyr, 100.0, np.random.default_rng(3))
    drift = g - gyr
    assert np.abs(np.diff(drift, axis=0)).max() < 0.01  # slow: no jumps
    assert 0.01 < np.abs(drift[-1]).max() < 1.0  # but it does wander over 10 minutes


def test_quantisation_and_range_limits_of_a_16_bit_part():
    model = SensorModel()
    acc = np.array([[0.0, 0.0, G], [200.0, -200.0, 3.0]])
    gyr = np.array([[1.0, 2.0, 3.0], [2500.0, -2500.0, 0.0]])
    a, g = model.measure(acc, gyr, 100.0, np.random.default_rng(4))
    acc_lsb, gyr_lsb = 2 * 16 * G / 2**16, 2 * 2000 / 2**16
    np.testing.assert_allclose(a / acc_lsb, np.round(a / acc_lsb), atol=1e-9)
    np.testing.assert_allclose(g / gyr_lsb, np.round(g / gyr_lsb), atol=1e-9)
    np.testing.assert_array_equal(a[1, :2], [16 * G, -16 * G])
    np.testing.assert_array_equal(g[1, :2], [2000.0, -2000.0])


def test_timestamp_jitter_keeps_time_increasing_and_drops_come_in_bursts():
    model = dataclasses.replace(SensorModel(), timestamp_jitter_s=0.004, drop_probability=0.01)
    instants, t, kept = model.timestamps(20_000, 100.0, np.random.default_rng(5))
    np.testing.assert_allclose(instants, np.arange(20_000) / 100)
    assert np.all(np.diff(t) > 0) and np.abs(t - np.arange(20_000) / 100).max() <= 0.01 / 3 + 1e-12
    assert kept[0] == 0 and np.all(np.diff(kept) >= 1)
    lost = 20_000 - len(kept)
    assert 0.01 * 20_000 * 2 < lost < 0.01 * 20_000 * 5  # bursts of 1..6 samples, mean 3.5
    assert np.diff(kept).max() > 2


def test_clock_error_changes_the_real_rate_and_the_motion_is_sampled_at_true_instants():
    script = SessionScript(make_lifter(0), (Stand(3.0, still=True), DeadliftSet(1)))
    fast = dataclasses.replace(SensorModel.ideal(), clock_error_ppm=500.0)
    exact = simulate(script, sampling_rate_hz=100, sensor=SensorModel.ideal(), seed=1)
    skewed = simulate(script, sampling_rate_hz=100, sensor=fast, seed=1)
    assert skewed.session.metadata["sampling_rate_hz"] == "100"
    assert 1 / np.median(np.diff(skewed.session.time_s)) == pytest.approx(100.05, abs=1e-6)
    # the same motion, seen at slightly earlier instants: truth agrees where times match
    t = skewed.session.time_s
    np.testing.assert_allclose(
        skewed.truth_angles.flexion_deg,
        np.interp(t, exact.session.time_s, exact.truth_angles.flexion_deg),
        atol=0.05,
    )


def test_gyro_bias_settles_after_power_on():
    model = dataclasses.replace(SensorModel.ideal(), gyr_warmup_deg_s=0.3)
    acc, gyr = _constant(100 * 1200)
    _, g = model.measure(acc, gyr, 100.0, np.random.default_rng(6))
    drift = g - gyr
    np.testing.assert_allclose(drift[0], 0.0, atol=1e-12)
    early, late = drift[100 * 240] - drift[0], drift[-1] - drift[100 * 900]
    assert np.abs(early).max() > 5 * np.abs(late).max()  # 63 % settled after 4 min, ~flat after 15


@pytest.fixture(scope="module")
def result():
    script = SessionScript(
        make_lifter(0),
        (Stand(3.0, still=True), DeadliftSet(3, "touch_and_go", (False, True, False))),
        clock_origin_s=5000.25,
    )
    return simulate(script, sampling_rate_hz=52, mounting="random", seed=8)


@pytest.mark.parametrize("compress", [False, True])
def test_written_files_round_trip(result, tmp_path, compress):
    paths = write_result(result, tmp_path, "one", compress=compress)
    assert [p.name for p in paths] == (
        ["one.csv.gz", "one.truth.csv.gz"] if compress else ["one.csv", "one.truth.csv"]
    ) + ["one.reps.csv"]
    session = load(paths[0])
    assert (
        session.metadata["synthetic"] == "true" and session.metadata["mounting"] == result.mounting
    )
    assert session.sampling_rate_hz == 52
    np.testing.assert_allclose(session.samples(), result.session.samples(), atol=6e-5)
    truth = read_table(paths[1])
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    np.testing.assert_allclose(truth.to_numpy(), result.truth_angles.to_numpy(), atol=0.006)
    reps = read_table(paths[2])
    assert list(reps.columns) == list(REP_COLUMNS)
    assert list(reps.rounded) == [False, True, False] and (reps.start_s > 5000.25).all()
    with pytest.raises(Exception, match="exists already"):
        write_result(result, tmp_path, "one", compress=compress)
    again = write_result(result, tmp_path / "again", "one", compress=compress)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]  # byte-identical
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(
        p.name for p in paths
    )


def test_cli_writes_sessions_truth_and_labels_and_is_reproducible(tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "simulate",
        "-o",
        str(out),
        "--lifters",
        "2",
        "--minutes",
        "2",
        "--rest",
        "10",
        "20",
        "--rate",
        "50",
        "100",
        "--gzip",
        "--labels",
        str(tmp_path / "labels.csv"),
        "--non-rep-sessions",
        "1",
        "--seed",
        "3",
    ]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert (
        "L01_s1.csv.gz" in names and "L02_s1.reps.csv" in names and "L01_nonreps1.csv.gz" in names
    )
    labels = read_table(tmp_path / "labels.csv")
    assert list(labels.columns) == ["session", "start_s", "end_s", "label", "subject"]
    reps = pd.concat([read_table(out / f"L0{i}_s1.reps.csv") for i in (1, 2)], ignore_index=True)
    assert len(labels) == len(reps) >= 10
    assert list(labels.label) == ["rounded" if r else "good" for r in reps.rounded]
    assert set(labels.session) == {"out/L01_s1.csv.gz", "out/L02_s1.csv.gz"}
    assert load(out / "L02_s1.csv.gz").sampling_rate_hz == 100
    # the generator line in the metadata regenerates the very same bytes
    with gzip.open(out / "L01_s1.csv.gz", "rt") as handle:
        generator = (
            next(line for line in handle if line.startswith("# generator:"))
            .split(":", 1)[1]
            .strip()
        )
    again = shlex.split(generator)[1:]
    again[again.index("-o") + 1] = str(tmp_path / "again")
    again[again.index("--labels") + 1] = str(tmp_path / "again.csv")
    assert main(again) == 0
    # every file it writes opens with the SYNTHETIC marker and that very command
    written = [*sorted(out.iterdir()), tmp_path / "labels.csv"]
    assert len(written) == 3 * 3 + 2
    for path in written:
        data = path.read_bytes()
        lines = (gzip.decompress(data) if path.suffix == ".gz" else data).decode().splitlines()
        assert lines[:2] == ["# synthetic: true", f"# generator: {generator}"], path.name
        if path.parent == out:  # regenerated: the same but for the -o and --labels paths
            data = (tmp_path / "again" / path.name).read_bytes()
            redone = (gzip.decompress(data) if path.suffix == ".gz" else data).decode()
            assert redone.splitlines()[2:] == lines[2:], path.name
    # ... and every reader of them still takes them
    lifters = read_table(out / "lifters.csv")
    assert list(lifters.name) == ["L01", "L02"] and (lifters.height_m > 1.5).all()
    read = read_labels(tmp_path / "labels.csv")
    assert read[["start_s", "end_s", "label"]].equals(labels[["start_s", "end_s", "label"]])
    truth = read_table(out / "L01_s1.truth.csv.gz")
    assert list(truth.columns) == list(TRUTH_COLUMNS) and len(truth) == len(
        load(out / "L01_s1.csv.gz").data)
    first, second = (
        [
            line
            for line in gzip.decompress(path.read_bytes()).decode().splitlines()
            if not line.startswith("# generator:")
        ]
        for path in (out / "L01_s1.csv.gz", tmp_path / "again" / "L01_s1.csv.gz")
    )
    assert first == second and len(first) > 1000
    capsys.readouterr()
    (out / "L02_s1.reps.csv").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(argv) == 2  # refused before writing anything
    assert "exists already (use --force to overwrite)" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert main([*argv, "--force"]) == 0 and (out / "L02_s1.reps.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mounting", "sideways"], "unknown mounting"),
        (["--rate", "10"], "between 25 and 400 Hz"),
        (["--kinds", "snatch"], "unknown lift kind"),
        (["--lifters", "0"], ">= 1"),
    ],
)
def test_cli_bad_options_are_one_line_errors(tmp_path, capsys, extra, message):
    assert main(["simulate", "-o", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not list(tmp_path.iterdir())
