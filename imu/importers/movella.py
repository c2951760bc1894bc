"""Movella DOT (formerly Xsens DOT) CSV export: one file per sensor.

Columns (Movella DOT app / PC SDK export; the names are the SDK's data identifiers)::

    PacketCounter,SampleTimeFine,[Euler_X..Z | Quat_W..Z ...,]Acc_X,Acc_Y,Acc_Z,Gyr_X,Gyr_Y,Gyr_Z

``SampleTimeFine`` is the sensor's clock in microseconds, an unsigned 32-bit counter that
wraps every 2^32 us (about 71.6 minutes): a step back by more than half the range is a
wrap and is undone here. ``Acc_*`` is m/s^2 with gravity, ``Gyr_*`` deg/s. Orientation
columns (Euler angles, quaternion) may come before them and are ignored: imu computes
its own orientation. Lines before the header (device tag, firmware, output rate, ...)
are skipped; ``key:,value`` ones are kept as ``dot_*`` metadata. ``FreeAcc_*`` (gravity
removed) alone is refused: the trunk angle is measured against gravity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from imu.errors import input_error
from imu.importers._common import finish_import, no_gyro, one_file, read_stream, split_header
from imu.importers._sources import SourceFile
from imu.session import TIME, Session, read_table

NAME = "movella-dot"
TIME_COLUMN = "SampleTimeFine"
ACC_COLUMNS = {"Acc_X": "acc_x", "Acc_Y": "acc_y", "Acc_Z": "acc_z"}
GYR_COLUMNS = {"Gyr_X": "gyr_x", "Gyr_Y": "gyr_y", "Gyr_Z": "gyr_z"}
FREE_ACC = "FreeAcc_X"
US_PER_S = 1e6
WRAP_S = 2.0**32 / US_PER_S  # the counter's range, 4294.967296 s
HEADER_SCAN_LINES = 60
PREAMBLE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*,?\s*(.*?)\s*,*\s*$")


def _header_index(file: SourceFile) -> int | None:
    """0-based line of the column header (``SampleTimeFine`` and ``Acc_X`` or
    ``FreeAcc_X``), None when the file is not a Movella DOT export."""
    for i, line in enumerate(file.head(16384).splitlines()[:HEADER_SCAN_LINES]):
        fields = split_header(line, ",")
        if TIME_COLUMN in fields and ("Acc_X" in fields or FREE_ACC in fields):
            return i
    return None


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_header_index(f) is not None for f in files)


def unwrap_s(t: np.ndarray) -> np.ndarray:
    """Times (s) of the 32-bit microsecond counter with its wraps undone (a step back by
    more than half the range adds the range to every later time)."""
    steps = np.diff(t)
    wraps = np.concatenate([[0.0], np.cumsum(steps < -WRAP_S / 2)])
    return t + wraps * WRAP_S


def _preamble(lines: list[str]) -> dict[str, str]:
    """``key:,value`` lines before the header as ``dot_<key>`` metadata."""
    out = {}
    for line in lines:
        if match := PREAMBLE_RE.match(line):
            key = "dot_" + re.sub(r"\W+", "_", match.group(1).strip().lower())
            out[key] = match.group(2)
    return out


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    dots = [f for f in files if _header_index(f) is not None]
    if not dots:
        raise input_error(
            "no Movella DOT file (a header with SampleTimeFine and Acc_X)",
            path=", ".join(f.name for f in files[:3]),
            hint="export CSV from the Movella DOT app, or pass the right --format",
        )
    file = one_file(dots, "Movella DOT", NAME)
    index = _header_index(file)
    assert index is not None
    text = file.text()
    table = read_table(text, file.name, header_index=index)
    if "Acc_X" not in table.columns:
        raise input_error(
            "Movella DOT 'FreeAcc' has gravity removed, but the trunk angle is measured "
            "against gravity",
            path=file.name,
            line=table.header_line,
            hint="export with 'Acceleration' (Acc_X/Y/Z) selected in the Movella DOT app",
        )
    has_gyro = "Gyr_X" in table.columns
    columns = {TIME_COLUMN: TIME, **ACC_COLUMNS, **(GYR_COLUMNS if has_gyro else {})}
    frame = read_stream(table, columns, time_scale=1 / US_PER_S, time_fix=unwrap_s)
    metadata = _preamble(text.splitlines()[:index])
    metadata["time_origin"] = "SampleTimeFine, the sensor's us clock (32-bit wraps undone)"
    if not has_gyro:
        frame = no_gyro(frame)
    return finish_import(
        frame,
        fmt=NAME,
        files=[file],
        name=file.name,
        acc_unit=acc_unit or "m/s2",
        gyr_unit=gyr_unit or "deg/s",
        warnings=table.warnings,
        metadata=metadata,
        labels={TIME: TIME_COLUMN, "acc_x": "Acc_X", "gyr_x": "Gyr_X"},
        gyro_name=file.name if has_gyro else None,
    )
