"""phyphox exports: one CSV per sensor (or the exported zip with a ``meta/`` folder).

Headers (phyphox "Acceleration (with g)" and "Gyroscope" experiments)::

    "Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"
    "Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"

Any of phyphox's CSV flavours: separator ``,`` ``;`` or tab, decimal point or comma.
Further columns (e.g. "Absolute acceleration") are ignored. "Linear Acceleration" (gravity
removed) is refused: the trunk angle is measured against gravity.
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
    sniff_separator,
    split_header,
)
from imu.importers._sources import SourceFile
from imu.session import TIME, Session, read_table

NAME = "phyphox"
TIME_COLUMN = "Time (s)"
ACC_RE = re.compile(r"^(Linear )?Acceleration ([xyz]) \(m/s\^2\)$")
GYR_RE = re.compile(r"^Gyroscope ([xyz]) \(rad/s\)$")


def _columns(file: SourceFile) -> tuple[str, list[str]]:
    line = first_line(file)
    sep = sniff_separator(line)
    return sep, split_header(line, sep)


def _is_data(file: SourceFile) -> bool:
    return "/meta/" not in file.name.replace("\\", "/") and _columns(file)[1][:1] == [TIME_COLUMN]


def matches(files: Sequence[SourceFile]) -> bool:
    return any(
        _is_data(f) and any(ACC_RE.match(c) or GYR_RE.match(c) for c in _columns(f)[1])
        for f in files
    )


def _decimal(text: str, sep: str) -> str:
    lines = text.splitlines()
    sample = lines[1] if len(lines) > 1 else ""
    return "," if sep != "," and re.search(r"\d,\d", sample) else "."


def _read(file: SourceFile, pattern: re.Pattern, kind: str) -> tuple[pd.DataFrame, list[str]]:
    """The time and x, y, z columns of one sensor from one phyphox CSV file."""
    sep, header = _columns(file)
    columns = {TIME_COLUMN: TIME}
    for column in header:
        match = pattern.match(column)
        if match and not (pattern is ACC_RE and match.group(1)):
            columns[column] = f"{kind}_{match.groups()[-1]}"
    if len(columns) != 4:
        raise input_error(
            f"expected {kind} x, y and z columns, found {', '.join(header)}",
            path=file.name,
            line=1,
        )
    text = file.text()
    table = read_table(text, file.name, sep=sep)
    return read_stream(table, columns, decimal=_decimal(text, sep)), table.warnings


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    data_files = [f for f in files if _is_data(f)]
    acc_files, linear_files, gyr_files = [], [], []
    for file in data_files:
        header = _columns(file)[1]
        kinds = {m.group(1) or "" for c in header if (m := ACC_RE.match(c))}
        if "" in kinds:
            acc_files.append(file)
        elif kinds:
            linear_files.append(file)
        if any(GYR_RE.match(c) for c in header):
            gyr_files.append(file)
    if not acc_files:
        if linear_files:
            raise input_error(
                "phyphox 'Linear Acceleration' has gravity removed, but the trunk angle is "
                "measured against gravity",
                path=linear_files[0].name,
                hint="record with phyphox's 'Acceleration (with g)' experiment, or a "
                "custom experiment with the accelerometer including g",
            )
        raise input_error(
            "no accelerometer file ('Acceleration x (m/s^2)' columns) in the phyphox export",
            path=", ".join(f.name for f in files),
            hint="export the 'Acceleration (with g)' experiment",
        )
    acc_file = one_file(acc_files, "phyphox accelerometer", NAME)
    acc, warnings = _read(acc_file, ACC_RE, "acc")
    if gyr_files:
        gyr_file = one_file(gyr_files, "phyphox gyroscope", NAME)
        gyr, more = _read(gyr_file, GYR_RE, "gyr")
        frame, note = merge_streams(acc, gyr, acc_file.name, gyr_file.name)
        warnings = list(dict.fromkeys(warnings + more))
    else:
        frame, note = no_gyro(acc), None
    return finish_import(
        frame,
        fmt=NAME,
        files=[acc_file, *gyr_files],
        name=acc_file.name,
        acc_unit=acc_unit or "m/s2",
        gyr_unit=gyr_unit or "rad/s",
        warnings=warnings,
        merge_note=note,
        labels={
            TIME: TIME_COLUMN,
            "acc_x": "Acceleration x (m/s^2)",
            "gyr_x": "Gyroscope x (rad/s)",
        },
        gyro_name=gyr_files[0].name if gyr_files else None,
    )
