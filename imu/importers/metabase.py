"""MbientLab MetaBase exports: one CSV per sensor, e.g. ``..._Accelerometer_12.500Hz_1.4.4.csv``.

Header ``epoch (ms),time (-05:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)``; the
gyroscope's axes are ``x-axis (deg/s)``. The second column's name carries the time-zone
offset and varies; some versions write ``epoc (ms)``. Time comes from the epoch column.
The two sensors run at different rates and are merged by interpolation.
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

NAME = "metabase"
EPOCH_RE = re.compile(r"^epoch? \(ms\)$", re.IGNORECASE)
AXIS_RE = re.compile(r"^([xyz])-axis \((g|deg/s)\)$", re.IGNORECASE)
RATE_RE = re.compile(r"_(\d+(?:\.\d+)?)Hz", re.IGNORECASE)


def _kind(file: SourceFile) -> str | None:
    """``acc`` / ``gyr`` for a MetaBase accelerometer / gyroscope file, else None."""
    header = split_header(first_line(file), ",")
    if not header or not EPOCH_RE.match(header[0]):
        return None
    units = {m.group(2).lower() for c in header if (m := AXIS_RE.match(c))}
    if units == {"g"}:
        return "acc"
    if units == {"deg/s"}:
        return "gyr"
    return None


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_kind(f) for f in files)


def _read(file: SourceFile, kind: str) -> tuple[pd.DataFrame, list[str]]:
    table = read_table(file.text(), file.name)
    columns = {table.columns[0]: TIME}
    for column in table.columns:
        if match := AXIS_RE.match(column):
            columns[column] = f"{kind}_{match.group(1).lower()}"
    return read_stream(table, columns, time_scale=1e-3), table.warnings


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    kinds: dict[str, list[SourceFile]] = {}
    for file in files:
        if kind := _kind(file):
            kinds.setdefault(kind, []).append(file)
    if "acc" not in kinds:
        raise input_error(
            "no MetaBase accelerometer file ('x-axis (g)' columns)",
            path=", ".join(f.name for f in files),
            hint="export the accelerometer stream from MetaBase too",
        )
    acc_file = one_file(kinds["acc"], "MetaBase accelerometer", NAME)
    acc, warnings = _read(acc_file, "acc")
    used = [acc_file]
    metadata = {}
    if rate := RATE_RE.search(acc_file.stem):
        metadata["acc_rate_hz"] = rate.group(1)
    if "gyr" in kinds:
        gyr_file = one_file(kinds["gyr"], "MetaBase gyroscope", NAME)
        used.append(gyr_file)
        gyr, more = _read(gyr_file, "gyr")
        warnings += more
        if rate := RATE_RE.search(gyr_file.stem):
            metadata["gyr_rate_hz"] = rate.group(1)
        frame, note = merge_streams(acc, gyr, acc_file.name, gyr_file.name)
    else:
        frame, note = no_gyro(acc), None
    return finish_import(
        frame,
        fmt=NAME,
        files=used,
        name=acc_file.name,
        acc_unit=acc_unit or "g",
        gyr_unit=gyr_unit or "deg/s",
        warnings=warnings,
        metadata=metadata,
        merge_note=note,
        labels={TIME: "epoch (ms)", "acc_x": "x-axis (g)", "gyr_x": "x-axis (deg/s)"},
        gyro_name=used[1].name if len(used) > 1 else None,
    )
