"""The project's own session CSV (``time_s,acc_x,...``), plain or gzipped."""

from __future__ import annotations

from collections.abc import Sequence

from imu.importers._common import one_file
from imu.importers._sources import SourceFile
from imu.session import REQUIRED, TIME, Session, read_session, split_metadata

NAME = "session"


def _is_session(file: SourceFile) -> bool:
    """A header with ``time_s`` and at least two more canonical names (so that a file
    with one misnamed column is read as a session and told which column is missing)."""
    head = file.head()
    lines = head.splitlines()
    _, header_index = split_metadata(head)
    if header_index >= len(lines):
        return False
    header = {h.strip() for h in lines[header_index].split(",")}
    return TIME in header and len(header & set(REQUIRED)) >= 3


def matches(files: Sequence[SourceFile]) -> bool:
    return any(_is_session(f) for f in files)


def load(files: Sequence[SourceFile], acc_unit: str | None, gyr_unit: str | None) -> Session:
    """The one session CSV among ``files`` (other files, e.g. a simulator's
    ``.truth.csv`` next to it, are ignored)."""
    sessions = [f for f in files if _is_session(f)] or list(files)
    file = one_file(sessions, "session", NAME)
    return read_session(file.name, data=file.data, acc_unit=acc_unit, gyr_unit=gyr_unit,
                        cut_off=file.cut_off)
