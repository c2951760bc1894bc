"""Polar Sensor Logger (phone app) exports: one semicolon-separated file per stream.

ACC: ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]``
GYRO: ``Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]``

The sensor timestamp counts nanoseconds from 2000-01-01T00:00:00 UTC (Polar BLE SDK);
it is converted to Unix-epoch seconds. A Polar H10 has no gyroscope: an ACC file alone
loads with NaN ``gyr_*`` and a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from imu.importers._common import first_line, load_per_sensor_files, read_axes, split_header
from imu.importers._sources import SourceFile
from imu.session import TIME, Session

NAME = "polar"
POLAR_EPOCH_S = 946_684_800.0  # 2000-01-01T00:00:00Z in Unix seconds
TIME_COLUMN = "sensor timestamp [ns]"
KINDS = {"mg": "acc", "dps": "gyr"}  # axis unit -> sensor
AXIS_RE = re.compile(r"^([XYZ]) \[(mg|dps)\]$", re.IGNORECASE)


def _kinds(file: SourceFile) -> tuple[str, ...]:
    """What a Polar Sensor Logger file holds: ``("acc",)`` (mg), ``("gyr",)`` (dps) or ``()``."""
    header = split_header(first_line(file), ";")
    if header[:2] != ["Phone timestamp", TIME_COLUMN]:
        return ()
    units = {m.group(2).lower() for c in header if (m := AXIS_RE.match(c))}
    return tuple(
        {"mg": "acc", "dps": "gyr"}[u] for u in sorted(units) if u in {"mg": "acc", "dps": "gyr"}
    )


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_kinds(f) for f in files)


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    return load_per_sensor_files(
        files,
        fmt=NAME,
        kinds_of=_kinds,
        read=partial(
            read_axes,
            axis_re=AXIS_RE,
            time_column=TIME_COLUMN,
            time_scale=1e-9,
            time_offset_s=POLAR_EPOCH_S,
            sep=";",
        ),
        unix_time=True,
        units=("mg", "deg/s"),
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        labels={TIME: TIME_COLUMN, "acc_x": "X [mg]", "gyr_x": "X [dps]"},
        no_acc=(
            "no Polar ACC file ('X [mg]' columns); the gyroscope alone cannot give the trunk angle",
            "record the ACC stream in Polar Sensor Logger",
        ),
    )
