"""The canonical session CSV: the one package that reads and writes it.

Format (see docs/session-format.md)::

    # sampling_rate_hz: 100
    # device: witmotion-wt901blecl
    time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z
    12.000000,0.12,-9.79,0.40,0.5,-1.2,0.0

- ``time_s`` seconds, strictly increasing, any origin.
- ``acc_*`` specific force in m/s^2, sensor frame, gravity included.
- ``gyr_*`` angular rate in deg/s, sensor frame, right-handed.
- Extra columns are kept and written back. Metadata lines are ``# key: value``.
- A ``.csv.gz`` file is read transparently.

Modules: :mod:`~imu.session.model` (:class:`Session`, column names, units),
:mod:`~imu.session.table` (text files as tables with file line numbers, used by the
importers too), :mod:`~imu.session.checks` (time, units, rate, gaps: the checks every
loader shares, so that the importers in :mod:`imu.importers` and the canonical reader
give the same answer to the same problem), :mod:`~imu.session.reader`
(:func:`read_session`) and :mod:`~imu.session.writer` (:func:`write_session`, the
crash-safe :class:`SessionWriter`). Everything public is importable from here.
"""

from imu.session.checks import check_time, finish_session
from imu.session.model import (
    ACC,
    ACC_UNITS,
    GAP_COLUMN,
    GYR,
    GYR_UNITS,
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    REQUIRED,
    STANDARD_GRAVITY,
    TIME,
    Session,
    is_synthetic,
)
from imu.session.reader import read_session
from imu.session.table import (
    Table,
    decode,
    gunzip,
    gunzip_cut,
    read_bytes,
    read_table,
    split_metadata,
)
from imu.session.writer import SessionWriter, format_metadata, write_session

__all__ = [
    "ACC",
    "ACC_UNITS",
    "GAP_COLUMN",
    "GYR",
    "GYR_UNITS",
    "MAX_RATE_HZ",
    "MIN_RATE_HZ",
    "REQUIRED",
    "STANDARD_GRAVITY",
    "TIME",
    "Session",
    "SessionWriter",
    "Table",
    "check_time",
    "decode",
    "finish_session",
    "format_metadata",
    "gunzip",
    "gunzip_cut",
    "is_synthetic",
    "read_bytes",
    "read_session",
    "read_table",
    "split_metadata",
    "write_session",
]
