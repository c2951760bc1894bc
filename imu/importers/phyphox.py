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
    first_line,
    load_per_sensor_files,
    read_axes,
    sniff_separator,
    split_header,
)
from imu.importers._sources import SourceFile
from imu.session import TIME, Session

NAME = "phyphox"
TIME_COLUMN = "Time (s)"
ACC_RE = re.compile(r"^Acceleration ([xyz]) \(m/s\^2\)$")
LINEAR_RE = re.compile(r"^Linear Acceleration ([xyz]) \(m/s\^2\)$")
GYR_RE = re.compile(r"^Gyroscope ([xyz]) \(rad/s\)$")


def _columns(file: SourceFile) -> tuple[str, list[str]]:
    line = first_line(file)
    sep = sniff_separator(line)
    return sep, split_header(line, sep)


def _has(file: SourceFile, pattern: re.Pattern) -> bool:
    """A phyphox data file (first column ``Time (s)``) with columns matching ``pattern``."""
    header = _columns(file)[1]
    return header[:1] == [TIME_COLUMN] and any(pattern.match(c) for c in header)


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_has(f, ACC_RE) or _has(f, GYR_RE) or _has(f, LINEAR_RE) for f in files)


def _read(file: SourceFile, kind: str) -> tuple[pd.DataFrame, list[str]]:
    """The time and x, y, z columns of one sensor from one phyphox CSV file (any flavour:
    separator from the header, decimal comma when the separator is not a comma)."""
    sep = _columns(file)[0]
    sample = "\n".join(file.head().splitlines()[1:50])
    decimal = "," if sep != "," and re.search(r"\d,\d", sample) else "."
    pattern = ACC_RE if kind == "acc" else GYR_RE
    return read_axes(file, kind, pattern, time_column=TIME_COLUMN, sep=sep, decimal=decimal)


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    acc_files = [f for f in files if _has(f, ACC_RE)]
    gyr_files = [f for f in files if _has(f, GYR_RE)]
    linear_files = [f for f in files if _has(f, LINEAR_RE)]
    if not acc_files and linear_files:
        raise input_error(
            "phyphox 'Linear Acceleration' has gravity removed, but the trunk angle is "
            "measured against gravity",
            path=linear_files[0].name,
            hint="record with phyphox's 'Acceleration (with g)' experiment, or a "
            "custom experiment with the accelerometer including g",
        )
    return load_per_sensor_files(
        files,
        fmt=NAME,
        kinds_of=lambda f: ("acc",) * (f in acc_files) + ("gyr",) * (f in gyr_files),
        read=_read,
        units=("m/s2", "rad/s"),
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        labels={
            TIME: TIME_COLUMN,
            "acc_x": "Acceleration x (m/s^2)",
            "gyr_x": "Gyroscope x (rad/s)",
        },
        no_acc=(
            "no accelerometer file ('Acceleration x (m/s^2)' columns) in the phyphox export",
            "export the 'Acceleration (with g)' experiment",
        ),
    )
