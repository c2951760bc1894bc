"""simulate(script) -> SimResult: a canonical session plus its ground truth, and writing it."""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.session import ACC, GYR, TIME, Session, write_session
from imu.sim.activities import SessionScript
from imu.sim.kinematics import Kinematics, sensor_kinematics
from imu.sim.rotations import MOUNTINGS, matrix, mounting_code, small_rotation
from imu.sim.script import build_motion
from imu.sim.sensor import SensorModel
from imu.sim.squat import SQUAT_FAULTS

TRUTH_COLUMNS = ("time_s", "flexion_deg", "lateral_bend_deg", "twist_deg")
REP_COLUMNS = (
    "set",
    "rep",
    "start_s",
    "bottom_s",
    "end_s",
    "kind",
    "rounded",
    "hyperextended",
    "lifter",
    "peak_flexion_deg",
)
MIN_RATE_HZ, MAX_RATE_HZ = 25.0, 400.0


@dataclass
class SimResult:
    """One simulated session and its truth.

    ``session``: canonical session (sensor frame, with errors). ``truth_angles``: columns
    TRUTH_COLUMNS per sample (deg, relative to the calibration posture). ``truth_reps``:
    REP_COLUMNS per true rep (times in the session clock), then the squat faults
    (``butt_wink``, ``forward_lean``: :mod:`imu.sim.squat`) when the session has squats. ``kinematics``: the error-free
    signals at the true sample instants (times from 0, before timestamp jitter and
    drops) for physics checks. ``body_sensor``: the mounting R_body_sensor actually used
    (axis-aligned mounting x misalignment x lordosis tilt).
    """

    session: Session
    truth_angles: pd.DataFrame
    truth_reps: pd.DataFrame
    kinematics: Kinematics
    body_sensor: np.ndarray
    mounting: str
    truth_bends: pd.DataFrame | None = None
    """Bends that are not reps (``kind``, ``start_s``, ``end_s``, ``peak_flexion_deg``;
    session clock): put-downs, plates, pick-ups, stretches, sitting down."""


def resolve_mounting(mounting: str, rng: np.random.Generator | None) -> str:
    """The key in MOUNTINGS of a mounting given by its code (``PZPYNX``, ``+z,+y,-x``: as
    ``imu analyze --mounting`` takes it) or its key (``xup_zback``), or 'random' for one
    drawn by ``rng``."""
    if mounting == "random":
        return str(rng.choice(sorted(MOUNTINGS)))
    if mounting in MOUNTINGS:
        return mounting
    from imu.errors import InputError
    from imu.pipeline.calibration import parse_mounting

    try:
        wanted = parse_mounting(mounting)
    except InputError:
        wanted = None
    for key, rotation in MOUNTINGS.items():
        if wanted is not None and np.array_equal(rotation, wanted):
            return key
    raise input_error(
        f"unknown mounting {mounting!r}",
        hint="use 'random' or body x,y,z as sensor axes, e.g. PZPYNX (docs/simulator.md)",
    )


def simulate(
    script: SessionScript,
    *,
    sampling_rate_hz: float = 100.0,
    mounting: str = "xup_zback",
    misalignment_deg: float = 3.0,
    sensor: SensorModel | None = None,
    seed: int = 0,
    generator: str = "imu.sim.simulate",
) -> SimResult:
    """Simulate ``script`` as recorded by an IMU on the lower back.

    ``mounting``: a code (``PZPYNX``) or key (``xup_zback``) of
    :data:`imu.sim.rotations.MOUNTINGS`, or 'random'; ``SimResult.mounting`` and the
    session's ``mounting`` metadata give the code (what calibration reports);
    ``misalignment_deg``: sigma of a random tilt of the device on the strap (capped at
    2.5 sigma); the lifter's lordosis tilts the sensor backward on top of that.
    ``sensor``: error model (default: :class:`SensorModel` typical MPU-6050 part; use
    ``SensorModel.ideal()`` for exact physics). Everything is reproducible from ``seed``.
    """
    if not MIN_RATE_HZ <= sampling_rate_hz <= MAX_RATE_HZ:
        raise input_error(
            f"sampling rate {sampling_rate_hz:g} Hz is outside 25-400 Hz",
            hint="choose a rate between 25 and 400 Hz",
        )
    sensor = SensorModel() if sensor is None else sensor
    motion_rng, mount_rng, sensor_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)
    )
    built = build_motion(script, motion_rng)
    name = resolve_mounting(mounting, mount_rng)
    body_sensor = (
        matrix("y", -script.lifter.lordosis_deg)
        @ small_rotation(mount_rng, misalignment_deg, 2.5 * misalignment_deg)
        @ MOUNTINGS[name]
    )

    n = int(np.floor(built.duration_s * sampling_rate_hz))
    instants, host, kept = sensor.timestamps(n, sampling_rate_hz, sensor_rng)
    kin = sensor_kinematics(built.motion, instants, script.lifter, body_sensor)
    acc, gyr = sensor.measure(kin.acc_m_s2, kin.gyr_deg_s, sampling_rate_hz, sensor_rng)

    origin = script.clock_origin_s
    time_s = origin + host[kept]
    data = pd.DataFrame({TIME: time_s})
    for i, column in enumerate(ACC):
        data[column] = acc[kept, i]
    for i, column in enumerate(GYR):
        data[column] = gyr[kept, i]
    lifter = script.lifter
    metadata = {
        "synthetic": "true",
        "generator": generator,
        "seed": str(seed),
        "lifter": lifter.name,
        "mounting": mounting_code(MOUNTINGS[name]),
        "sampling_rate_hz": f"{sampling_rate_hz:g}",
        "device": "simulated-imu (imu.sim, MPU-6050-like errors)",
    }
    session = Session(data=data, metadata=metadata, source=script.name)
    angles = kin.angles_deg[kept]
    angles[:, 2] = (angles[:, 2] + 180.0) % 360.0 - 180.0  # twist wrapped to [-180, 180)
    truth = pd.DataFrame(angles, columns=list(TRUTH_COLUMNS[1:]))
    truth.insert(0, "time_s", time_s)
    faults = [c for c in SQUAT_FAULTS if any(c in rep for rep in built.reps)]  # squats only
    reps = pd.DataFrame(built.reps, columns=[*REP_COLUMNS, *faults])
    reps[faults] = reps[faults].fillna(False).astype(bool)
    for column in ("start_s", "bottom_s", "end_s"):
        reps[column] += origin
    bends = pd.DataFrame(built.bends, columns=["kind", "start_s", "end_s", "peak_flexion_deg"])
    for column in ("start_s", "end_s"):
        bends[column] += origin
    mounting = mounting_code(MOUNTINGS[name])
    return SimResult(session, truth, reps, kin, body_sensor, mounting, bends)


def _numeric_text(frame: pd.DataFrame, decimals: dict[str, int]) -> str:
    """CSV text of an all-numeric ``frame`` with a fixed number of decimals per column."""
    buffer = io.StringIO()
    buffer.write(",".join(frame.columns) + "\n")
    values = np.column_stack([frame[c].round(decimals[c]) + 0.0 for c in frame.columns])  # no "-0"
    np.savetxt(buffer, values, fmt=[f"%.{decimals[c]}f" for c in frame.columns], delimiter=",")
    return buffer.getvalue()


def synthetic_lines(generator: str) -> str:
    """The comment lines that open every table the simulator writes beside a session
    (truth, reps, lifters, labels): ``# synthetic: true`` and ``# generator:`` with the
    command that regenerates it, as in the session's own metadata (docs/contracts.md).
    :func:`read_table` and imu's labels reader skip them; pandas with ``comment="#"``."""
    return f"# synthetic: true\n# generator: {' '.join(str(generator).split())}\n"


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A table written by the simulator (``NAME.truth.csv[.gz]``, ``NAME.reps.csv``,
    ``lifters.csv``, a labels file), its leading ``#`` lines (:func:`synthetic_lines`)
    skipped; older files without them read the same."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        comments = 0
        for line in handle:
            if not line.startswith("#"):
                break
            comments += 1
    return pd.read_csv(path, skiprows=comments)


def _write_bytes(path: Path, data: bytes, compress: bool) -> None:
    """Write ``data``, gzipped with a zero timestamp when ``compress`` (same content gives
    the same bytes, so regenerated datasets do not change in git); complete or absent
    (:func:`imu.fileio.atomic_output`)."""
    from imu.fileio import atomic_output

    with atomic_output(path, force=True, binary=True) as handle:
        handle.write(gzip.compress(data, compresslevel=6, mtime=0) if compress else data)


def result_paths(directory: str | os.PathLike, name: str, compress: bool) -> list[Path]:
    """The files :func:`write_result` writes: session, truth, reps."""
    directory, gz = Path(directory), ".gz" if compress else ""
    return [
        directory / f"{name}.csv{gz}",
        directory / f"{name}.truth.csv{gz}",
        directory / f"{name}.reps.csv",
    ]


def write_result(
    result: SimResult,
    directory: str | os.PathLike,
    name: str,
    *,
    compress: bool = False,
    decimals: int = 4,
    force: bool = False,
) -> list[Path]:
    """Write NAME.csv, NAME.truth.csv and NAME.reps.csv into ``directory``.

    Each starts with the session's ``# synthetic: true`` and ``# generator:`` lines
    (:func:`synthetic_lines`; read the tables back with :func:`read_table`).
    ``compress`` gzips the session and the truth (``NAME.csv.gz``, ``NAME.truth.csv.gz``;
    both read transparently by imu.session and pandas). Sensor values are rounded to
    ``decimals`` (4 is below the 16-bit resolution), truth angles to 0.01 deg, times to
    1 us. Returns the paths (session, truth, reps). Refuses to overwrite unless ``force``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    targets = result_paths(directory, name, compress)
    if not force:
        for target in targets:
            if target.exists():
                raise input_error("exists already (use --force to overwrite)", path=str(target))
    data = result.session.data.copy()
    value_columns = [*ACC, *GYR]
    data[value_columns] = data[value_columns].round(decimals) + 0.0  # no "-0"
    plain = directory / (f".{name}.uncompressed.csv" if compress else f"{name}.csv")
    write_session(Session(data, result.session.metadata), plain, force=True)
    if compress:
        _write_bytes(targets[0], plain.read_bytes(), compress=True)
        plain.unlink()
    angles = dict.fromkeys(TRUTH_COLUMNS[1:], 2)
    marker = synthetic_lines(result.session.metadata.get("generator", "imu.sim.simulate"))
    truth = marker + _numeric_text(result.truth_angles, {"time_s": 6, **angles})
    _write_bytes(targets[1], truth.encode("utf-8"), compress)
    reps = result.truth_reps.copy()
    for column, places in (("start_s", 6), ("bottom_s", 6), ("end_s", 6), ("peak_flexion_deg", 2)):
        reps[column] = [f"{v:.{places}f}" for v in reps[column]]
    text = marker + reps.to_csv(index=False, lineterminator="\n")
    _write_bytes(targets[2], text.encode("utf-8"), False)
    return targets
