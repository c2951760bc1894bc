"""Sensor Logger (phone app) exports: a folder or zip of one CSV per sensor.

Every sensor file has the header ``time,seconds_elapsed,z,y,x`` (note the axis order):
``time`` in nanoseconds since the Unix epoch. ``TotalAcceleration.csv`` (Android) is the
accelerometer with gravity (m/s^2); ``Accelerometer.csv`` has gravity removed and is
used only together with ``Gravity.csv`` (their sum; iOS records only these).
``Gyroscope.csv`` is rad/s. On iOS, unless "Standardise Units & Frames" is on, every
acceleration axis has the opposite sign (inertial rather than specific force): read from
``Metadata.csv`` (``platform``, ``standardisation``) and undone here. Units and signs:
Sensor Logger's UNITS.md and COORDINATES.md (tszheichoi/awesome-sensor-logger).

The legacy Android format has the header ``time,z,y,x`` (no ``seconds_elapsed``), the
same units, and sensors at their own rates (e.g. accelerometer 100 Hz, gyroscope 500 Hz:
merged onto the faster timeline as for every format), with ``Gravity.csv`` beside
``Accelerometer.csv``. Whatever the version, an ``Accelerometer.csv`` whose median
magnitude (in ``--acc-unit`` when given) is over half of 1 g holds gravity: it is then
used as it is, and ``Gravity.csv`` is not added a second time (a warning says so); the
iOS signs are undone there too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.importers._common import (
    finish_import,
    first_line,
    merge_streams,
    no_gyro,
    one_file,
    read_axes,
    split_header,
)
from imu.importers._sources import SourceFile
from imu.session import ACC, ACC_UNITS, TIME, Session, read_table

NAME = "sensor-logger"
HEADER = ["time", "seconds_elapsed", "z", "y", "x"]
LEGACY_HEADER = ["time", "z", "y", "x"]
WITH_GRAVITY_M_S2 = 0.5 * 9.80665
"""Median acceleration magnitude above which an Accelerometer.csv includes gravity."""
SENSORS = ("totalacceleration", "accelerometer", "gravity", "gyroscope")
AXIS_RE = re.compile(r"^([xyz])$")


def _legacy(found: dict[str, list[SourceFile]]) -> bool:
    """True when the sensor files (:func:`_sensor_files`) have the legacy Android header
    ``time,z,y,x``."""
    return all(
        split_header(first_line(f), ",")[:4] == LEGACY_HEADER
        for group in found.values()
        for f in group
    )


def _sensor_files(files: Sequence[SourceFile]) -> dict[str, list[SourceFile]]:
    found: dict[str, list[SourceFile]] = {}
    for file in files:
        stem = file.stem.lower()
        header = split_header(first_line(file), ",")
        if stem in SENSORS and (header[:5] == HEADER or header[:4] == LEGACY_HEADER):
            found.setdefault(stem, []).append(file)
    return found


def matches(files: Sequence[SourceFile]) -> bool:
    return bool(_sensor_files(files))


def _read(file: SourceFile, kind: str) -> tuple[pd.DataFrame, list[str]]:
    return read_axes(file, kind, AXIS_RE, time_column="time", time_scale=1e-9)


def _holds_gravity(acc: pd.DataFrame, acc_unit: str) -> bool:
    """True when an accelerometer stream's median magnitude (numbers in ``acc_unit``, a
    key of ``ACC_UNITS``) says gravity is in it."""
    values = acc[list(ACC)].to_numpy() * ACC_UNITS[acc_unit]
    return bool(np.median(np.linalg.norm(values, axis=1)) > WITH_GRAVITY_M_S2)


def _recording_info(files: Sequence[SourceFile]) -> dict[str, str]:
    """``device name``, ``platform`` and ``standardisation`` from ``Metadata.csv``, if any."""
    for file in files:
        if file.stem.lower() == "metadata" and "platform" in split_header(first_line(file), ","):
            table = read_table(file.text(), file.name)
            keys = [k for k in ("device name", "platform", "standardisation") if k in table.columns]
            return {key: table.text(key).iloc[0] for key in keys}
    return {}


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    found = _sensor_files(files)
    pick = {kind: one_file(group, kind, NAME) for kind, group in found.items()}
    used: list[SourceFile] = []
    info = _recording_info(files)
    if _legacy(found):  # the legacy format was Android's only
        info.setdefault("platform", "android")
    metadata = {"device": info["device name"]} if info.get("device name") else {}
    accelerometer = (
        _read(pick["accelerometer"], "acc")
        if "accelerometer" in pick and "totalacceleration" not in pick
        else None
    )
    if "totalacceleration" in pick:
        used.append(pick["totalacceleration"])
        acc, warnings = _read(pick["totalacceleration"], "acc")
    elif accelerometer is not None and _holds_gravity(accelerometer[0], acc_unit or "m/s2"):
        used.append(pick["accelerometer"])
        acc, warnings = accelerometer
        metadata["acceleration"] = "Accelerometer.csv (gravity included)"
        warnings.append(
            f"{pick['accelerometer'].name}: acceleration already includes gravity (median "
            f"magnitude over {WITH_GRAVITY_M_S2:.1f} m/s^2); used as it is"
            + (", Gravity.csv not added" if "gravity" in pick else "")
        )
    elif accelerometer is not None and "gravity" in pick:
        used += [pick["accelerometer"], pick["gravity"]]
        acc, warnings = accelerometer
        gravity, more = _read(pick["gravity"], "acc")
        warnings += more
        t, t_gravity = acc[TIME].to_numpy(), gravity[TIME].to_numpy()
        inside = (t >= t_gravity[0]) & (t <= t_gravity[-1])
        acc = acc.loc[inside].reset_index(drop=True)
        if len(acc) < 2:
            raise input_error(
                "Accelerometer.csv and Gravity.csv do not overlap in time",
                path=pick["gravity"].name,
                hint="give the files of one recording",
            )
        for column in ACC:
            acc[column] += np.interp(acc[TIME], t_gravity, gravity[column].to_numpy())
        metadata["acceleration"] = "Accelerometer.csv + Gravity.csv"
    else:
        where = pick.get("accelerometer") or next(iter(pick.values()))
        raise input_error(
            "no accelerometer with gravity: Sensor Logger's Accelerometer.csv has gravity "
            "removed, and there is neither TotalAcceleration.csv nor Gravity.csv",
            path=where.name,
            hint="enable 'Total Acceleration' (or 'Gravity') in Sensor Logger and record again",
        )
    if accelerometer is not None:  # with gravity in it or added: iOS signs either way
        if info.get("platform", "").lower() == "ios" and info.get("standardisation") != "true":
            # iOS reports inertial force: every acceleration axis has the opposite sign
            # of Android's specific force (Sensor Logger's COORDINATES.md); gyro agrees
            acc[list(ACC)] = -acc[list(ACC)]
            metadata["acceleration"] += ", negated (iOS sign convention)"
        elif "platform" not in info:
            warnings.append(
                f"{pick['accelerometer'].name}: no Metadata.csv to tell iOS from Android; "
                "assumed Android axes (an iOS recording without 'Standardise Units & Frames' "
                "would have every acceleration axis reversed: include Metadata.csv)"
            )
    if "gyroscope" in pick:
        used.append(pick["gyroscope"])
        gyr, more = _read(pick["gyroscope"], "gyr")
        warnings += more
        frame, note = merge_streams(acc, gyr, used[0].name, pick["gyroscope"].name)
    else:
        frame, note = no_gyro(acc), None
    return finish_import(
        frame,
        fmt=NAME,
        files=used,
        name=used[0].name,
        acc_unit=acc_unit or "m/s2",
        gyr_unit=gyr_unit or "rad/s",
        warnings=warnings,
        metadata=metadata,
        merge_note=note,
        labels={TIME: "time", "acc_x": "x", "gyr_x": "x"},
        gyro_name=pick["gyroscope"].name if "gyroscope" in pick else None,
        unix_time=True,
    )
