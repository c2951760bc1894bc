"""phyphox exports: one CSV per sensor (or the exported zip with a ``meta/`` folder).

Headers (phyphox "Acceleration (with g)" and "Gyroscope" experiments)::

    "Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"
    "Time (s)","Gyroscope x (rad/s)","Gyroscope y (rad/s)","Gyroscope z (rad/s)"

phyphox 1.2.x writes per-sensor files whose headers name only the axis, the file name
telling the sensor, with unquoted ``d.dddddddddE±x`` numbers (the last line may lack a
newline)::

    Accelerometer.csv  "Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"
    Gyroscope.csv      "Time (s)","X (rad/s)","Y (rad/s)","Z (rad/s)"

There m/s^2 axes are the accelerometer with gravity, unless the file name says "linear"
(gravity removed, refused as below); rad/s axes are the gyroscope.

Any of phyphox's CSV flavours: separator ``,`` ``;`` or tab, decimal point or comma.
Further columns (e.g. "Absolute acceleration") are ignored. "Linear Acceleration" (gravity
removed) is refused: the trunk angle is measured against gravity. When the export's
``meta/time.csv`` is there, experiment time becomes Unix time (pauses become gaps) and
``meta/device.csv`` gives the phone model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import numpy as np
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
from imu.session import TIME, Session, read_table

NAME = "phyphox"
TIME_COLUMN = "Time (s)"
ACC_RE = re.compile(r"^Acceleration ([xyz]) \(m/s\^2\)$")
LINEAR_RE = re.compile(r"^Linear Acceleration ([xyz]) \(m/s\^2\)$")
GYR_RE = re.compile(r"^Gyroscope ([xyz]) \(rad/s\)$")
AXIS_ACC_RE = re.compile(r"^([XYZ]) \(m/s\^2\)$")  # phyphox 1.2.x per-sensor files
AXIS_GYR_RE = re.compile(r"^([XYZ]) \(rad/s\)$")


def _columns(file: SourceFile) -> tuple[str, list[str]]:
    line = first_line(file)
    sep = sniff_separator(line)
    return sep, split_header(line, sep)


def _has(file: SourceFile, pattern: re.Pattern) -> bool:
    """A phyphox data file (first column ``Time (s)``) with columns matching ``pattern``."""
    header = _columns(file)[1]
    return header[:1] == [TIME_COLUMN] and any(pattern.match(c) for c in header)


def _pattern(file: SourceFile, kind: str) -> re.Pattern | None:
    """The axis pattern of ``kind`` (``acc``, ``gyr``, ``linear``) this file's columns
    match, None when it holds no such sensor. Axis-only headers (1.2.x) take the
    sensor from the unit and, for m/s^2, the file name ("linear": gravity removed)."""
    linear_name = "linear" in file.stem.lower()
    candidates = {
        "acc": [(ACC_RE, True), (AXIS_ACC_RE, not linear_name)],
        "gyr": [(GYR_RE, True), (AXIS_GYR_RE, True)],
        "linear": [(LINEAR_RE, True), (AXIS_ACC_RE, linear_name)],
    }[kind]
    return next((p for p, ok in candidates if ok and _has(file, p)), None)


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_pattern(f, kind) for f in files for kind in ("acc", "gyr", "linear"))


def _flavour(file: SourceFile) -> tuple[str, str]:
    """(separator, decimal mark) of a phyphox CSV: the separator from the header, a
    decimal comma when the separator is not a comma and the first rows have ``1,5``."""
    sep = _columns(file)[0]
    sample = "\n".join(file.head().splitlines()[1:50])
    return sep, "," if sep != "," and re.search(r"\d,\d", sample) else "."


def _clock(files: Sequence[SourceFile]) -> tuple[np.ndarray, np.ndarray] | None:
    """From ``meta/time.csv`` (``"event","experiment time","system time",...``): the
    experiment times of the START events and the offsets that turn experiment time into
    Unix time after each. None without that file or START events."""
    for file in files:
        if _columns(file)[1][:3] != ["event", "experiment time", "system time"]:
            continue
        sep, decimal = _flavour(file)
        table = read_table(file.text(), file.name, sep=sep)
        times = table.floats({"experiment time": "t", "system time": "unix"}, decimal=decimal)
        starts = (table.text("event") == "START").to_numpy()  # rows kept by floats()
        if not starts.any():
            return None
        t, unix = times["t"].to_numpy()[starts], times["unix"].to_numpy()[starts]
        return t, unix - t
    return None


def _device(files: Sequence[SourceFile]) -> dict[str, str]:
    """``{"device": model}`` from ``meta/device.csv`` (``"property","value"`` rows)."""
    for file in files:
        if _columns(file)[1][:2] == ["property", "value"]:
            table = read_table(file.text(), file.name, sep=_columns(file)[0])
            models = table.text("value")[table.text("property") == "deviceModel"]
            return {"device": models.iloc[0]} if len(models) else {}
    return {}


def _read(
    file: SourceFile, kind: str, clock: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The time and x, y, z columns of one sensor from one phyphox CSV file. With the
    ``clock`` of meta/time.csv, experiment time becomes Unix time: phyphox's time axis
    stands still while a measurement is paused, so a pause becomes a gap."""
    sep, decimal = _flavour(file)
    pattern = _pattern(file, kind)
    frame, warnings = read_axes(
        file, kind, pattern, time_column=TIME_COLUMN, sep=sep, decimal=decimal
    )
    if clock is not None:
        t = frame[TIME].to_numpy()
        segment = np.clip(np.searchsorted(clock[0], t, side="right") - 1, 0, None)
        frame[TIME] = t + clock[1][segment]
    return frame, warnings


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    acc_files = [f for f in files if _pattern(f, "acc")]
    gyr_files = [f for f in files if _pattern(f, "gyr")]
    linear_files = [f for f in files if _pattern(f, "linear")]
    if not acc_files and linear_files:
        raise input_error(
            "phyphox 'Linear Acceleration' has gravity removed, but the trunk angle is "
            "measured against gravity",
            path=linear_files[0].name,
            hint="record with phyphox's 'Acceleration (with g)' experiment, or a "
            "custom experiment with the accelerometer including g",
        )
    clock = _clock(files)
    extra = _device(files)
    if clock is not None:
        extra["time_origin"] = "Unix time from phyphox meta/time.csv (pauses become gaps)"
    return load_per_sensor_files(
        files,
        fmt=NAME,
        kinds_of=lambda f: ("acc",) * (f in acc_files) + ("gyr",) * (f in gyr_files),
        read=partial(_read, clock=clock),
        metadata_of=lambda _file, kind: extra if kind == "acc" else {},
        unix_time=clock is not None,
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
