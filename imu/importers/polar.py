"""Polar Sensor Logger exports (Jukka Happonen's app): one semicolon-separated file per stream.

ACC: ``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]``
GYRO: ``Phone timestamp;sensor timestamp [ns];X [dps];Y [dps];Z [dps]``

The sensor timestamp counts nanoseconds from 2000-01-01T00:00:00 UTC (Polar BLE SDK);
it is converted to Unix-epoch seconds. A Polar H10 has no gyroscope: an ACC file alone
loads with NaN ``gyr_*`` and a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from imu.errors import input_error
from imu.importers._common import (
    finish_import,
    first_line,
    merge_streams,
    no_gyro,
    one_file,
    read_stream,
    split_header,
)
from imu.importers._sources import SourceFile
from imu.session import TIME, Session, read_table

NAME = "polar"
POLAR_EPOCH_S = 946_684_800.0  # 2000-01-01T00:00:00Z in Unix seconds
TIME_COLUMN = "sensor timestamp [ns]"
AXIS_RE = re.compile(r"^([XYZ]) \[(mg|dps)\]$", re.IGNORECASE)


def _kind(file: SourceFile) -> str | None:
    header = split_header(first_line(file), ";")
    if header[:2] != ["Phone timestamp", TIME_COLUMN]:
        return None
    units = {m.group(2).lower() for c in header if (m := AXIS_RE.match(c))}
    return {"mg": "acc", "dps": "gyr"}.get(units.pop()) if len(units) == 1 else None


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_kind(f) for f in files)


def _read(file: SourceFile, kind: str) -> tuple[pd.DataFrame, list[str]]:
    table = read_table(file.text(), file.name, sep=";")
    columns = {TIME_COLUMN: TIME}
    for column in table.columns:
        if match := AXIS_RE.match(column):
            columns[column] = f"{kind}_{match.group(1).lower()}"
    frame = read_stream(table, columns, time_scale=1e-9)
    frame[TIME] += POLAR_EPOCH_S
    return frame, table.warnings


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    kinds: dict[str, list[SourceFile]] = {}
    for file in files:
        if kind := _kind(file):
            kinds.setdefault(kind, []).append(file)
    if "acc" not in kinds:
        raise input_error(
            "no Polar ACC file ('X [mg]' columns); the gyroscope alone cannot give the trunk angle",
            path=", ".join(f.name for f in files),
            hint="record the ACC stream in Polar Sensor Logger",
        )
    acc_file = one_file(kinds["acc"], "Polar ACC", NAME)
    acc, warnings = _read(acc_file, "acc")
    used = [acc_file]
    if "gyr" in kinds:
        gyr_file = one_file(kinds["gyr"], "Polar GYRO", NAME)
        used.append(gyr_file)
        gyr, more = _read(gyr_file, "gyr")
        warnings += more
        frame, note = merge_streams(acc, gyr, acc_file.name, gyr_file.name)
    else:
        frame, note = no_gyro(acc), None
    return finish_import(
        frame,
        fmt=NAME,
        files=used,
        name=acc_file.name,
        acc_unit=acc_unit or "mg",
        gyr_unit=gyr_unit or "deg/s",
        warnings=warnings,
        merge_note=note,
        labels={TIME: TIME_COLUMN, "acc_x": "X [mg]", "gyr_x": "X [dps]"},
        gyro_name=used[1].name if len(used) > 1 else None,
    )
