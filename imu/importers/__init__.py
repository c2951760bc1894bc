"""Load any supported recording as a canonical :class:`imu.session.Session`.

``load(paths, fmt=None, acc_unit=None, gyr_unit=None)`` is the one entry point every
command that takes a session uses. ``paths`` is one path or a list: files, a folder or a
zip archive of a multi-file export. The format is detected from the files' headers unless
``fmt`` names it. Formats (docs/importers.md):

========================  ===============================================================
``session``               the project's own CSV (docs/session-format.md), also ``.csv.gz``
``phyphox``               phyphox CSV export or its zip
``sensor-logger``         Sensor Logger folder or zip (TotalAcceleration/Gyroscope.csv)
``metabase``              MbientLab MetaBase per-sensor CSV files
``witmotion``             WitMotion PC software / app text export
``polar``                 Polar Sensor Logger ACC (and GYRO) files
``movella-dot``           Movella DOT CSV export (SampleTimeFine, Acc_*, Gyr_*)
========================  ===============================================================

Importers convert to canonical units once; ``acc_unit``/``gyr_unit`` (``--acc-unit``,
``--gyr-unit``) state the unit of the numbers in the file when it differs from what the
format declares (or, for the canonical CSV, when the file is not in m/s^2 / deg/s).
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from imu.errors import input_error
from imu.text import plural

if TYPE_CHECKING:  # numpy/pandas load only when a file is loaded, so `--help` stays fast
    from imu.importers._sources import SourceFile
    from imu.session import Session

COMMENT_LINE = "'#' line"

# format name -> module in this package; detection tries them in this order (most
# specific headers first)
FORMATS: dict[str, str] = {
    "session": "canonical",
    "phyphox": "phyphox",
    "sensor-logger": "sensorlogger",
    "metabase": "metabase",
    "polar": "polar",
    "movella-dot": "movella",
    "witmotion": "witmotion",
}
ACC_UNIT_CHOICES = ("m/s2", "g")
GYR_UNIT_CHOICES = ("deg/s", "rad/s")

PathArg = str | os.PathLike


def importer(fmt: str) -> ModuleType:
    """The module of a format: ``matches(files) -> bool`` and ``load(files, acc, gyr)``."""
    return importlib.import_module(f"imu.importers.{FORMATS[fmt]}")


def detect(files: Sequence[SourceFile]) -> str:
    """Name of the format of ``files`` (see ``FORMATS``); InputError when none fits."""
    for name in FORMATS:
        if importer(name).matches(files):
            return name
    first = files[0]
    head = first.head()
    if not head.strip() and len(files) == 1:
        raise input_error("empty file", path=first.name, hint="nothing was recorded; record again")
    # Nothing of an unrecognised file is echoed: it may be any file (a labels row naming
    # /etc/shadow), and its first line could be a secret.
    binary = "\x00" in head or "\ufffd" in head
    lines = head.splitlines()
    comments = next((i for i, line in enumerate(lines) if not line.startswith("#")), 0)
    what = ("binary data, not one of the text formats" if binary
            else "unknown file format: its first lines match none of" if not comments
            else f"unknown file format: the header after {plural(comments, COMMENT_LINE)} matches "
                 "none of")
    raise input_error(
        f"{what} {', '.join(FORMATS)}",
        path=first.name if len(files) == 1 else ", ".join(f.name for f in files[:3]),
        line=comments + 1 if comments and not binary and len(files) == 1 else None,
        hint="check the export or pass --format; docs/importers.md lists the headers",
    )


def load(
    paths: PathArg | Sequence[PathArg],
    fmt: str | None = None,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
) -> Session:
    """Load a recording in any supported format as a validated canonical Session.

    Raises :class:`imu.errors.InputError` (one line naming file, line, column and a fix)
    on any problem; recoverable ones are in ``Session.warnings``.
    """
    _check_format(fmt)
    from imu.importers._sources import gather

    return load_files(gather(paths), fmt, acc_unit, gyr_unit)


def load_files(
    files: Sequence[SourceFile],
    fmt: str | None = None,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
) -> Session:
    """:func:`load` for files already read (``imu batch`` reads each once, to hash and
    measure the same bytes: :func:`imu.importers._sources.from_bytes`)."""
    _check_format(fmt)
    return importer(fmt or detect(files)).load(files, acc_unit, gyr_unit)


def _check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise input_error(f"unknown format {fmt!r}", hint=f"choose one of {', '.join(FORMATS)}")


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--format``, ``--acc-unit`` and ``--gyr-unit`` (pass them on to :func:`load`)."""
    group = parser.add_argument_group("input")
    group.add_argument(
        "--format",
        choices=list(FORMATS),
        default=None,
        help="input format (default: detected from the file headers)",
    )
    group.add_argument(
        "--acc-unit",
        choices=ACC_UNIT_CHOICES,
        default=None,
        help="unit of the acceleration numbers in the file when it is not what the format "
        "declares (e.g. a session CSV in g)",
    )
    group.add_argument(
        "--gyr-unit",
        choices=GYR_UNIT_CHOICES,
        default=None,
        help="unit of the angular-rate numbers in the file when it is not what the format "
        "declares (e.g. a session CSV in rad/s)",
    )


def load_from_args(paths: PathArg | Sequence[PathArg], args: argparse.Namespace) -> Session:
    """:func:`load` with the options added by :func:`add_input_arguments`."""
    return load(paths, fmt=args.format, acc_unit=args.acc_unit, gyr_unit=args.gyr_unit)


__all__ = ["FORMATS", "add_input_arguments", "detect", "importer", "load", "load_files",
           "load_from_args"]
