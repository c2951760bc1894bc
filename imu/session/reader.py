"""Reading a canonical session CSV (or ``.csv.gz``) into a checked :class:`Session`."""

from __future__ import annotations

import codecs
import os

import numpy as np
import pandas as pd

from imu.session.checks import check_time, finish_session
from imu.session.model import GYR, REQUIRED, TIME, Session
from imu.session.table import (
    cut_gzip_warning,
    decode,
    gunzip_cut,
    read_bytes,
    read_table,
    split_metadata,
)
from imu.session.writer import IN_PROGRESS, RECORDING_KEY


def read_session(
    path: str | os.PathLike,
    *,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    text: str | None = None,
    data: bytes | None = None,
    cut_off: bool = False,
) -> Session:
    """Read a canonical session CSV (or ``.csv.gz``). Raises :class:`InputError`.

    ``text`` or ``data`` (the file's bytes, gzip ones too) give the file's content when it
    does not come from disk (a zip member); ``path`` then only names it in messages;
    ``cut_off``: that content was decompressed already from gzip data that is cut off
    (:func:`imu.session.table.gunzip_cut`), a warning says so. Warnings (dropped duplicate rows, a cut-off last line, gaps, no gyroscope) go to
    ``Session.warnings``.
    """
    name = str(path)
    if text is None:
        data, cut = gunzip_cut(data if data is not None else read_bytes(path), name)
        cut_off |= cut
        if not data.isascii() or b"\x00" in data:  # ASCII: the bytes are the text
            text = decode(data, name)
            if data.startswith(codecs.BOM_UTF8) or b"\x00" in data:
                data = None  # decoding dropped bytes: the text is not these bytes as they are
    else:
        data = None
    metadata, header_index = split_metadata(text if text is not None else data)
    table = read_table(text, name, header_index=header_index, data=data)
    del text, data  # a plain table parses its own reference to the bytes
    table.require(REQUIRED)
    numeric = table.floats({c: c for c in REQUIRED}, optional=GYR)
    for column in (c for c in table.columns if c not in REQUIRED):
        numeric[column] = _extra_values(table.text(column))
    warnings = table.warnings
    if cut_off:
        warnings.insert(0, cut_gzip_warning(name, len(numeric)))
    del table  # the file's bytes and the table's line numbers are no longer needed
    numeric = check_time(numeric, name, TIME, warnings)
    if metadata.get(RECORDING_KEY) == IN_PROGRESS:  # SessionWriter's mark (imu live)
        warnings.insert(
            0,
            f"{name}: the recording was not closed (the recorder was killed or crashed, "
            "or is still recording): it holds every sample written up to its last row",
        )
    return finish_session(
        numeric,
        name=name,
        metadata=metadata,
        warnings=warnings,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
    )


def _extra_values(cells: pd.Series) -> pd.Series:
    """An extra column as numbers when every non-empty cell is a number, else as text."""
    stripped = cells.reset_index(drop=True)
    numbers = pd.to_numeric(stripped.replace("", np.nan), errors="coerce")
    if (numbers.isna() & (stripped != "")).any():
        return stripped
    return numbers
