"""MbientLab MetaBase exports: one CSV per sensor, e.g. ``..._Accelerometer_12.500Hz_1.4.4.csv``.

Header ``epoch (ms),time (-05:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)``; the
gyroscope's axes are ``x-axis (deg/s)``. The second column's name varies (``time
(-05:00)``, ``timestamp (-0700)``); some versions write ``epoc (ms)``. Time comes from the epoch column.
The two sensors run at different rates and are merged by interpolation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from imu.importers._common import first_line, load_per_sensor_files, read_axes, split_header
from imu.importers._sources import SourceFile
from imu.session import TIME, Session

NAME = "metabase"
EPOCH_RE = re.compile(r"^epoch? \(ms\)$", re.IGNORECASE)
KINDS = {"g": "acc", "deg/s": "gyr"}  # axis unit -> sensor
AXIS_RE = re.compile(r"^([xyz])-axis \((g|deg/s)\)$", re.IGNORECASE)
RATE_RE = re.compile(r"_(\d+(?:\.\d+)?)Hz", re.IGNORECASE)


def _kinds(file: SourceFile) -> tuple[str, ...]:
    """What a MetaBase file holds: ``("acc",)`` (g axes), ``("gyr",)`` (deg/s) or ``()``."""
    header = split_header(first_line(file), ",")
    if not header or not EPOCH_RE.match(header[0]):
        return ()
    units = {m.group(2).lower() for c in header if (m := AXIS_RE.match(c))}
    return tuple(
        {"g": "acc", "deg/s": "gyr"}[u] for u in sorted(units) if u in {"g": "acc", "deg/s": "gyr"}
    )


def _rate(file: SourceFile, kind: str) -> dict[str, str]:
    """The nominal rate in the file name (``..._12.500Hz_...``) as ``{kind}_rate_hz``."""
    match = RATE_RE.search(file.stem)
    return {f"{kind}_rate_hz": match.group(1)} if match else {}


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_kinds(f) for f in files)


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    return load_per_sensor_files(
        files,
        fmt=NAME,
        kinds_of=_kinds,
        read=partial(read_axes, axis_re=AXIS_RE, time_scale=1e-3),
        units=("g", "deg/s"),
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        labels={TIME: "epoch (ms)", "acc_x": "x-axis (g)", "gyr_x": "x-axis (deg/s)"},
        no_acc=(
            "no MetaBase accelerometer file ('x-axis (g)' columns)",
            "export the accelerometer stream from MetaBase too",
        ),
        metadata_of=_rate,
        unix_time=True,
    )
