"""The project's own session CSV (``time_s,acc_x,...``), plain or gzipped."""

from __future__ import annotations

from collections.abc import Sequence

from imu.importers._common import one_file
from imu.importers._sources import SourceFile
from imu.session import REQUIRED, TIME, Session, read_session, split_metadata

NAME = "session"


def matches(files: Sequence[SourceFile]) -> bool:
    """A header with ``time_s`` and at least two more canonical names (so that a file
    with one misnamed column is read as a session and told which column is missing)."""
    for file in files:
        lines = file.head().splitlines()
        _, header_index = split_metadata(file.head())
        if header_index < len(lines):
            header = {h.strip() for h in lines[header_index].split(",")}
            if TIME in header and len(header & set(REQUIRED)) >= 3:
                return True
    return False


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    file = one_file(files, "session", NAME)
    return read_session(file.name, text=file.text(), acc_unit=acc_unit, gyr_unit=gyr_unit)
