"""Optional loads lifted per set, given by the user (one sensor cannot weigh the bar).

A loads CSV has the header ``session,set,load_kg`` and one row per set, e.g.::

    session,set,load_kg
    monday,1,60
    monday,2,100

``session`` is the session's name in the report (its file name without ``.csv``), ``set``
the set number as counted by the analysis, ``load_kg`` the bar load in kg.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from imu.errors import input_error

LOAD_HEADER = ("session", "set", "load_kg")


def read_loads(path: str | os.PathLike) -> dict[str, dict[int, float]]:
    """Read a loads CSV -> ``{session: {set: load_kg}}``; bad rows raise ``InputError``."""
    from imu.fileio import read_input

    path = Path(path)
    try:
        text = read_input(path).decode("utf-8")  # a missing path or a device is refused unread
    except UnicodeDecodeError:
        raise input_error("not a text CSV file", path=str(path)) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(c.strip() for c in rows[0]) != LOAD_HEADER:
        raise input_error(
            "not a loads file",
            path=str(path),
            line=1,
            hint=f"the header must be {','.join(LOAD_HEADER)}",
        )
    loads: dict[str, dict[int, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise input_error(f"expected 3 fields, found {len(row)}", path=str(path), line=line)
        session, set_text, load_text = (cell.strip() for cell in row)
        try:
            number = int(set_text)
        except ValueError:
            raise input_error(
                f"'{set_text}' is not a set number", path=str(path), line=line, column="set"
            ) from None
        try:
            load = float(load_text)
        except ValueError:
            load = math.nan
        if not (math.isfinite(load) and load >= 0):
            raise input_error(
                f"'{load_text}' is not a load", path=str(path), line=line, column="load_kg",
                hint="give the bar load in kg, e.g. 100",
            )  # fmt: skip
        if number in loads.setdefault(session, {}):
            raise input_error(
                f"set {number} of session '{session}' is given twice", path=str(path), line=line
            )
        loads[session][number] = load
    return loads
