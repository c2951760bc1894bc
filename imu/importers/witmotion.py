"""WitMotion PC software / app exports: tab-separated text, several header generations.

Accepted headers (whitespace and case ignored; more columns such as angles, magnetic
field or temperature are ignored)::

    time    ax(g)   ay(g)   az(g)   wx(deg/s)   wy(deg/s)   wz(deg/s) ...
    Time    AccX(g) AccY(g) AccZ(g) AsX(°/s)    AsY(°/s)    AsZ(°/s) ...
    Time    Acceleration X(g) ... Angular velocity X(°/s) ...
    时间    设备名称    加速度X(g) ... 角速度X(°/s) ...      (Chinese-locale software)

A ``Start time...`` preamble line may precede the header. The degree sign may be
GBK-encoded (bytes A1 E3). Time is seconds or date-time text
(``2024-03-01 10:15:02.123``, read as given, without time zone). Files holding
several devices (a ``Device name`` column with more than one name) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.importers._common import finish_import, one_file, sniff_separator, split_header
from imu.importers._sources import SourceFile
from imu.session import TIME, Session, Table, check_time, read_table

NAME = "witmotion"
ENCODINGS = ("utf-8-sig", "gb18030")
# header names after _normalise (spaces removed, lower case); Chinese-locale software
# writes 时间 (time), 设备名称 (device name), 加速度 (acceleration), 角速度 (angular velocity)
ACC_RE = re.compile(r"^(?:a|acc|acceleration|加速度)([xyz])\(g\)$")
GYR_RE = re.compile(r"^(?:w|as|angularvelocity|gyro|角速度)([xyz])\((?:°/s|deg/s|dps)\)$")
TIME_NAMES = ("time", "时间", "date", "chiptime()", "chiptime")  # preferred first
DEVICE_NAMES = ("devicename", "设备名称")
MAX_PREAMBLE_LINES = 10


def _normalise(column: str) -> str:
    return re.sub(r"\s+", "", column).lower()


def _header(text: str) -> tuple[int, str, list[str]] | None:
    """(line index, separator, columns) of the header line, or None."""
    for index, line in enumerate(text.splitlines()[:MAX_PREAMBLE_LINES]):
        sep = "\t" if "\t" in line else sniff_separator(line)
        columns = split_header(line, sep)
        if any(ACC_RE.match(_normalise(c)) for c in columns):
            return index, sep, columns
    return None


def _head(file: SourceFile) -> str:
    """The first whole lines of a file in the first encoding that reads them (UTF-8, GBK)."""
    data = file.data[:4096]
    data = data[: data.rfind(b"\n") + 1] or data
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_header(_head(f)) for f in files)


def _times(table: Table, column: str) -> np.ndarray:
    """Seconds from a time column holding numbers or date-time text (as its first cell).

    An unreadable cell is an error naming its line, except on the cut-off last line of an
    unterminated file, which gives NaN (that row is dropped with the other columns).
    """
    cells = table.text(column)
    numeric = pd.notna(pd.to_numeric(cells.iloc[:1], errors="coerce")).all()
    if numeric:
        values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    else:
        values = _seconds(cells)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size and not (table.unterminated and bad[0] == len(cells) - 1):
        raise input_error(
            f"not a time: '{cells.iloc[bad[0]]}'",
            path=table.name,
            line=int(table.lines[bad[0]]),
            column=column,
            hint="expected seconds or a date-time like 2024-03-01 10:15:02.123",
        )
    return values


def _seconds(cells: pd.Series) -> np.ndarray:
    """Seconds since 1970-01-01 of date-time text: naive times on their own clock, times
    with a UTC offset in UTC (mixed offsets too); NaN where a cell is not a date-time."""
    try:
        stamps = pd.to_datetime(cells, errors="coerce", format="mixed")
    except ValueError:  # pandas refuses mixed offsets unless told to convert to UTC
        stamps = pd.to_datetime(cells, errors="coerce", format="mixed", utc=True)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert(None)
    return (stamps - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy(dtype=np.float64)


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    candidates = [f for f in files if _header(f.text(ENCODINGS))]
    if not candidates:
        raise input_error(
            "no WitMotion header (e.g. 'AccX(g)' or 'ax(g)') in the first lines",
            path=", ".join(f.name for f in files),
            hint="export the data as text from the WitMotion software",
        )
    file = one_file(candidates, "WitMotion", NAME)
    text = file.text(ENCODINGS)
    header_index, sep, _ = _header(text)
    table = read_table(text, file.name, header_index=header_index, sep=sep)
    normalised = {_normalise(c): c for c in table.columns}
    columns: dict[str, str] = {}
    for key, column in normalised.items():
        if match := ACC_RE.match(key):
            columns[column] = f"acc_{match.group(1)}"
        elif match := GYR_RE.match(key):
            columns[column] = f"gyr_{match.group(1)}"
    time_column = next((normalised[k] for k in TIME_NAMES if k in normalised), None)
    if time_column is None:
        raise input_error(
            f"no time column among {', '.join(table.columns)}",
            path=file.name,
            line=header_index + 1,
            hint="enable the time column when exporting",
        )
    for device_column in (normalised[k] for k in DEVICE_NAMES if k in normalised):
        devices = table.text(device_column).unique()
        if len(devices) > 1:
            raise input_error(
                f"{len(devices)} devices in one file ({', '.join(devices[:4])})",
                path=file.name,
                column=device_column,
                hint="export one device per file",
            )
    acc_columns = [c for c, t in columns.items() if t.startswith("acc")]
    gyr_columns = [c for c, t in columns.items() if t.startswith("gyr")]
    if len(acc_columns) != 3 or len(gyr_columns) not in (0, 3):
        raise input_error(
            f"expected x, y, z acceleration and angular velocity columns, found "
            f"{', '.join(table.columns)}",
            path=file.name,
            line=header_index + 1,
        )
    seconds = _times(table, time_column)
    frame = table.floats(columns)
    if len(frame) < len(seconds):  # the cut-off last line was dropped
        seconds = seconds[: len(frame)]
    elif np.isnan(seconds[-1]):
        raise input_error(
            "incomplete time", path=file.name, line=int(table.lines[-1]), column=time_column
        )
    frame.insert(0, TIME, seconds)
    for column in ("gyr_x", "gyr_y", "gyr_z"):
        if column not in frame:
            frame[column] = np.nan
    frame = check_time(frame, file.name, time_column, table.warnings)
    metadata = {}
    preamble = " ".join(line.strip() for line in text.splitlines()[:header_index] if line.strip())
    if preamble:
        metadata["preamble"] = preamble
    return finish_import(
        frame.loc[:, [TIME, "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]],
        fmt=NAME,
        files=[file],
        name=file.name,
        acc_unit=acc_unit or "g",
        gyr_unit=gyr_unit or "deg/s",
        warnings=table.warnings,
        metadata=metadata,
        labels={TIME: time_column, "acc_x": acc_columns[0], "gyr_x": (gyr_columns or ["-"])[0]},
    )
