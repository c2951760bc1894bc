"""The canonical session CSV: the one module that reads and writes it.

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

This module also holds the checks every loader shares (:class:`Table` for cell-level
errors with file line numbers, :func:`check_time`, :func:`finish_session` for units,
sampling rate and data quality), so that the importers in :mod:`imu.importers` and the
canonical reader give the same answer to the same problem.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import sys
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from imu.errors import InputError, input_error
from imu.quality import data_quality, gap_intervals
from imu.units import STANDARD_GRAVITY_M_S2 as STANDARD_GRAVITY

if TYPE_CHECKING:
    from typing_extensions import Self

TIME = "time_s"
ACC = ("acc_x", "acc_y", "acc_z")
GYR = ("gyr_x", "gyr_y", "gyr_z")
REQUIRED = (TIME, *ACC, *GYR)
GAP_COLUMN = "gap"  # 1 on the first sample after a gap in a live recording

ACC_UNITS = {"m/s2": 1.0, "g": STANDARD_GRAVITY, "mg": STANDARD_GRAVITY / 1000}  # to m/s^2
GYR_UNITS = {"deg/s": 1.0, "rad/s": 180.0 / np.pi}  # factor to deg/s
MIN_RATE_HZ = 5.0
MAX_RATE_HZ = 2000.0
_MISSING = {"", "nan", "NaN", "NAN"}
# Bytes that cannot make a text unplain (see _plain_table): deleted before looking at the
# rest, which for a numeric table is its line ends and little more.
_PLAIN_BYTES = b"0123456789.,;+-eE \t"
# In that rest without its line ends: a quote, a control character or other white space
# (the line breaks of str.splitlines() other than "\n"; characters that str.strip() takes
# for white space but the parser does not).
_UNPLAIN = re.compile(r'["\x00-\x1f\x7f]|\s')
# a white-space-only line: with a white-space separator the parser keeps it as a row
_WHITE_LINE = re.compile(rb"\n[ \t]*(?:\n|\Z)")


@dataclass
class Session:
    """A recording in canonical units.

    ``data`` has float64 columns ``time_s, acc_x..z (m/s^2), gyr_x..z (deg/s)`` and any
    extra columns; ``metadata`` holds the ``# key: value`` lines; ``warnings`` collects
    data-quality notes made while loading (never errors).
    """

    data: pd.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def time_s(self) -> np.ndarray:
        """Sample times in s (float64, strictly increasing)."""
        return self.data[TIME].to_numpy(dtype=np.float64)

    def samples(self) -> np.ndarray:
        """(n, 7) float64 array ``[time_s, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z]``."""
        return self.data.loc[:, list(REQUIRED)].to_numpy(dtype=np.float64)

    @property
    def has_gyro(self) -> bool:
        """False for accelerometer-only recordings (``gyr_*`` all NaN, e.g. Polar H10)."""
        return bool(np.isfinite(self.data.loc[:, list(GYR)].to_numpy(dtype=np.float64)).any())

    @property
    def sampling_rate_hz(self) -> float:
        """Nominal rate from metadata, else 1 / median sample interval."""
        meta = self.metadata.get("sampling_rate_hz")
        if meta is not None:
            try:
                value = float(meta)
                if np.isfinite(value) and value > 0:
                    return value
            except ValueError:
                pass
        t = self.time_s
        if len(t) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(t)))

    def quality(self) -> dict:
        """:func:`imu.quality.data_quality` of this recording at its nominal rate."""
        return data_quality(self.time_s, self.sampling_rate_hz)


# --------------------------------------------------------------------------- text tables


def gunzip(data: bytes, name: str) -> bytes:
    """Decompress gzip data (several members too); other bytes are returned unchanged.

    A gzip stream cut off by a crash gives what was decompressed so far: the text then
    ends mid-line and the table reader drops that line with a warning.
    """
    out = []
    while data[:2] == b"\x1f\x8b":
        stream = zlib.decompressobj(wbits=31)
        try:
            out.append(stream.decompress(data))
        except zlib.error as exc:
            raise input_error(f"damaged gzip file ({exc})", path=name) from None
        data = stream.unused_data
    return b"".join(out) if out else data


def decode(data: bytes, name: str, encodings: Sequence[str] = ("utf-8-sig",)) -> str:
    """Bytes of a (possibly gzipped) text file -> text. Tries ``encodings`` in order."""
    data = gunzip(data, name)
    if b"\x00" in data:
        stripped = data.rstrip(b"\x00")
        if b"\x00" in stripped:
            raise input_error("binary file, not CSV text", path=name)
        data = stripped  # NUL padding left by a power cut: the text before it is intact
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise input_error(
        f"not a text file in {' or '.join(encodings)}",
        path=name,
        hint="export the data as CSV text",
    )


def read_bytes(path: str | os.PathLike) -> bytes:
    """Bytes of a file on disk (``.gz`` decompressed), errors as :class:`InputError`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise input_error("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise input_error("is a folder, not a file", path=str(path)) from None
    except OSError as exc:
        raise input_error(f"cannot read ({exc.strerror})", path=str(path)) from None
    return gunzip(data, str(path))


@dataclass
class Table:
    """One delimited text file: header, data rows and the file line of every row.

    Build with :func:`read_table`. Cells are parsed on demand: :meth:`floats` reads
    clean numeric columns with pandas' C parser and falls back to cell-by-cell checks
    only to explain a problem. ``unterminated`` is true when the last line has no newline
    (a recording cut off by a crash); :meth:`floats` then drops an incomplete last row
    with a warning instead of failing.

    A plain text (one row per ``\n``, no quotes or odd characters) is not split into
    rows: its rows start at byte ``start`` of ``data``, the text's UTF-8 bytes (a
    file's own: no copy; ``body`` is then empty). The first parse that finds anything odd
    (a field count, a bad cell, a row count that differs from the line count because
    the parser skipped a blank line) splits it line by line (:meth:`_exact`), which
    reports exactly what :func:`read_table`'s line-by-line path would have. When every
    row is simple numbers (:mod:`imu.fastcsv`), ``numbers`` holds them all (rows x
    columns, NaN for an empty cell) and ``integer`` flags the columns of integers.
    """

    name: str
    header_line: int
    columns: list[str]
    body: str
    sep: str
    lines: np.ndarray
    unterminated: bool
    warnings: list[str] = field(default_factory=list)
    start: int | None = None
    data: bytes | None = field(default=None, repr=False)
    numbers: np.ndarray | None = field(default=None, repr=False)
    integer: np.ndarray | None = field(default=None, repr=False)

    def _exact(self) -> None:
        """Split a plain table's text line by line like :func:`read_table`'s exact path
        (raising what it raises); a no-op for a table that is split already."""
        if self.start is None:
            return
        exact = _split_table(self.data.decode("utf-8"), self.name, self.header_line - 1, self.sep)
        self.body, self.lines, self.unterminated = exact.body, exact.lines, exact.unterminated
        self.start, self.data, self.numbers, self.integer = None, None, None, None

    def _read(self, sources: Sequence[str], **options: object) -> pd.DataFrame:
        """The ``sources`` columns of every kept row, parsed with ``options``."""
        wanted = [self.columns.index(c) for c in sources]
        if not len(self.lines):
            return pd.DataFrame({c: pd.Series(dtype=options.get("dtype")) for c in sources})
        if self.start is not None:
            frame = self._read_plain(wanted, options)
            if frame is not None:
                return frame
            self._exact()
        try:
            frame = self._parse(wanted, options)
        except pd.errors.ParserError as exc:
            if "Too many columns specified" not in str(exc):  # pandas: one short row
                raise self._parse_error(exc) from None
            frame = self._parse(None, options).iloc[:, sorted(wanted)]
        if len(frame) != len(self.lines):  # a quoted cell ran across line ends
            raise self._quote_error()
        frame.columns = [self.columns[i] for i in sorted(wanted)]
        return frame

    def _read_plain(self, wanted: list[int], options: Mapping[str, object]) -> pd.DataFrame | None:
        """:meth:`_read` of a plain table; None when a row has an unexpected field count.

        Every column is parsed (``usecols`` would hide rows with too many fields); the
        ``dtype`` and ``na_values`` options apply to the ``wanted`` ones only.
        """
        options = dict(options)
        for key in ("dtype", "na_values"):
            if key in options:
                options[key] = {i: options[key] for i in wanted}
        try:
            frame = self._parse(None, options)
        except pd.errors.ParserError:
            return None
        if len(frame) != len(self.lines):
            return None
        frame = frame[sorted(wanted)]
        frame.columns = [self.columns[i] for i in sorted(wanted)]
        return frame

    def _parse(self, usecols: list[int] | None, options: Mapping[str, object]) -> pd.DataFrame:
        # bytes: io.StringIO would hold the text as 4 bytes a character
        data = self.data if self.data is not None else self.body.encode("utf-8")
        stream = io.BytesIO(data)
        stream.seek(self.start or 0)  # ~1.5x faster than skiprows (pandas 3.1, 1 h at 200 Hz)
        return pd.read_csv(
            stream,
            sep=self.sep,
            header=None,
            names=range(len(self.columns)),
            usecols=usecols,
            engine="c",
            **options,
        )

    def _parse_error(self, exc: Exception) -> InputError:
        if "EOF inside string" in str(exc):
            return self._quote_error()
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not match:
            return input_error(f"cannot parse as CSV ({exc})", path=self.name)
        expected, row, saw = (int(g) for g in match.groups())
        return input_error(
            f"{saw} fields but the header has {expected}",
            path=self.name,
            line=int(self.lines[row - 1]) if row <= len(self.lines) else None,
            hint="fix or delete the line",
        )

    def _quote_error(self) -> InputError:
        return _quote_error(self.body.split("\n"), self.lines, self.name)

    def text(self, column: str) -> pd.Series:
        """The cells of one column as stripped text ('' where a row has no such field)."""
        self.require([column])
        return self._read([column], dtype=str, na_filter=False)[column].str.strip()

    def floats(
        self,
        columns: Mapping[str, str],
        *,
        decimal: str = ".",
        optional: Sequence[str] = (),
        scale: Mapping[str, float] | None = None,
        share: bool = False,
    ) -> pd.DataFrame:
        """Parse the source columns ``columns`` (source name -> output name) as float64.

        Unparseable text, infinities and empty cells are errors naming file, line and
        column, except: an incomplete last row of an unterminated file is dropped (warning),
        and a column listed in ``optional`` may be empty on every row (all NaN).
        ``scale`` multiplies output columns (unit conversion at the boundary).
        Returns a frame with the output names; its ``attrs["lines"]`` holds file lines.

        ``share`` (for a caller that reads these columns from the table only once, like
        :func:`read_session`): when the compiled parser read them and they are neighbours
        in the file in this order, the frame holds the parsed numbers themselves as its
        one block (no copy; a change made in place through the frame shows in the table).
        """
        self.require(columns)
        parsed = self._fast_floats(columns, decimal, optional)
        if parsed is None:
            self._exact()
            parsed = self._checked_floats(columns, decimal, optional)
        frame = self._shared_block(columns, decimal) if share else None
        if frame is None:
            frame = pd.DataFrame(parsed)
        for target, factor in (scale or {}).items():
            frame[target] = frame[target] * factor
        frame.attrs["lines"] = self.lines.copy()
        return frame

    def _shared_block(self, columns: Mapping[str, str], decimal: str) -> pd.DataFrame | None:
        """The compiled parser's numbers of ``columns`` as one frame (no copy) when they
        are neighbours in the file in this order (see :meth:`floats`); None otherwise."""
        if self.numbers is None or decimal != ".":  # parsed otherwise (see _fast_floats)
            return None
        first = self.columns.index(next(iter(columns)))
        if list(columns) != self.columns[first : first + len(columns)]:
            return None
        block = self.numbers[:, first : first + len(columns)]
        return pd.DataFrame(block, columns=list(columns.values()), copy=False)

    def _fast_floats(
        self, columns: Mapping[str, str], decimal: str, optional: Sequence[str]
    ) -> dict[str, np.ndarray] | None:
        """Columns of a clean file (the compiled parser's numbers or pandas' C parser);
        None when any cell needs a closer look."""
        if self.numbers is not None and decimal == ".":
            frame = {source: self.numbers[:, self.columns.index(source)] for source in columns}
        else:
            try:
                frame = self._read(
                    list(columns),
                    dtype=np.float64,
                    decimal=decimal,
                    na_values=sorted(_MISSING),
                    keep_default_na=False,
                )
            except ValueError:
                return None
        parsed = {}
        for source, target in columns.items():
            values = np.asarray(frame[source], dtype=np.float64)
            finite = np.isfinite(values)
            if not (finite.all() or (source in optional and np.isnan(values).all())):
                return None
            parsed[target] = values
        return parsed

    def _checked_floats(
        self, columns: Mapping[str, str], decimal: str, optional: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Cell-by-cell parse: drop a cut-off last row, raise on the first bad cell."""
        parsed: dict[str, np.ndarray] = {}
        texts: dict[str, pd.Series] = {}
        bad_rows = np.zeros(len(self.lines), dtype=bool)
        problems: dict[str, np.ndarray] = {}
        for source, target in columns.items():
            text = texts[source] = self.text(source)
            if decimal != ".":
                text = text.str.replace(decimal, ".", regex=False)
            values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
            missing = text.isin(_MISSING).to_numpy()
            unparsable = np.isnan(values) & ~missing
            empty_ok = source in optional and missing.all()
            bad = unparsable | np.isinf(values) | (missing if not empty_ok else False)
            bad_rows |= bad
            problems[source] = bad
            parsed[target] = values
        if self.unterminated and bad_rows[-1]:
            self._drop_last_row()
            parsed = {k: v[:-1] for k, v in parsed.items()}
            problems = {k: b[:-1] for k, b in problems.items()}
        if any(bad.any() for bad in problems.values()):
            first = min(int(np.argmax(bad)) for bad in problems.values() if bad.any())
            source = next(s for s, bad in problems.items() if bad[first])
            self._raise_bad_cell(source, texts[source].iloc[first], first, decimal)
        return parsed

    def integers(self, column: str) -> np.ndarray | None:
        """int64 values of a column whose every cell the compiled parser read as an
        integer (what ``pd.to_numeric`` makes of that text); None otherwise."""
        if self.numbers is None or not self.integer[self.columns.index(column)]:
            return None
        return self.numbers[:, self.columns.index(column)].astype(np.int64)

    def require(self, columns: Sequence[str] | Mapping[str, str]) -> None:
        """Raise naming the header line when any of ``columns`` is absent."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise input_error(
                f"missing column(s) {', '.join(repr(c) for c in missing)}; "
                f"found {', '.join(repr(c) for c in self.columns if c)}",
                path=self.name,
                line=self.header_line,
                hint="check the export settings or pass --format",
            )

    def _drop_last_row(self) -> None:
        line = int(self.lines[-1])
        self.lines = self.lines[:-1]
        self.body = self.body.rsplit("\n", 1)[0] if len(self.lines) else ""
        self.unterminated = False
        self.warnings.append(
            f"{self.name}:{line}: last line is incomplete (recording cut off?); dropped it"
        )

    def _raise_bad_cell(self, source: str, raw: str, row: int, decimal: str) -> None:
        if raw in _MISSING:
            message, hint = "empty cell", "fill in a value or delete the line"
        elif raw.lstrip("+-").lower() in ("inf", "infinity"):
            message, hint = f"infinite value '{raw}'", "delete the line"
        else:
            message = f"not a number: '{raw}'"
            hint = "fix or delete the line"
            if decimal == "." and re.fullmatch(r"[+-]?\d+,\d+", raw):
                hint = "decimal commas? re-export with a decimal point"
        line = int(self.lines[row])
        raise input_error(message, path=self.name, line=line, column=source, hint=hint)


def _quote_error(rows: Sequence[str], lines: Sequence[int], name: str) -> InputError:
    """The error naming the first row with an odd number of quote characters."""
    odd = next((i for i, row in enumerate(rows) if row.count('"') % 2), 0)
    return input_error(
        'unbalanced quote (")',
        path=name,
        line=int(lines[odd]),
        hint="delete the stray quote character",
    )


def read_table(
    text: str | None,
    name: str,
    *,
    header_index: int = 0,
    sep: str = ",",
    data: bytes | None = None,
    numeric: bool = True,
) -> Table:
    """Split ``text`` at line ``header_index`` (0-based) into header and data rows.

    Blank lines are skipped; every row keeps its 1-based file line number. A row with more
    fields than the header is an error, unless the extra fields are empty ones at the end
    (separators ending every row); missing trailing fields read as empty cells. An empty
    name in the header (a trailing separator) is kept so that rows with the same trailing
    separator still fit. ``data``, when given, is exactly ``text.encode("utf-8")`` (the
    file's bytes): the parser then reads it instead of a fresh copy, and ``text`` may be
    None (it is decoded only if the text is not plain). ``numeric=False`` skips the
    compiled parser (a caller that found these rows not simple already).
    """
    if data is None:
        data = text.encode("utf-8")
    table = (numeric and _numeric_table(data, name, header_index, sep)) or _plain_table(
        data, name, header_index, sep
    )
    if table is not None:
        return table
    text = data.decode("utf-8") if text is None else text
    return _split_table(text, name, header_index, sep)


def _header(line: str, name: str, header_index: int, sep: str) -> list[str]:
    """Column names of the header line; errors for a blank header or repeated names."""
    if not line.strip():
        raise input_error("empty file: no header line", path=name)
    header = [h.strip() for h in next(csv.reader([line], delimiter=sep))]
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise input_error(
            f"duplicate column name(s) {', '.join(repr(d) for d in duplicated)}",
            path=name,
            line=header_index + 1,
            hint="rename or delete the repeated column",
        )
    return header


def _header_end(data: bytes, header_index: int) -> int:
    """Byte offset of the ``\n`` ending line ``header_index`` (0-based), -1 if none."""
    end = -1
    for _ in range(header_index + 1):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return -1
    return end


def _numeric_table(data: bytes, name: str, header_index: int, sep: str) -> Table | None:
    """The Table of a text whose data rows are all simple numbers, parsed at once by the
    compiled parser (:func:`imu.fastcsv.parse_numbers`: ``\n`` or ``\r\n`` line ends,
    the header's field count on every row, nothing but decimal numbers and empty cells);
    None otherwise, and in a process that has not loaded numba. The lines up to the
    header are those ``str.splitlines`` gives, as for :func:`_split_table`. Its other
    columns' text is read like a plain table's."""
    end = _header_end(data, header_index)
    if end < 0:
        return None
    lines = data[:end].decode("utf-8").splitlines()
    if len(lines) != header_index + 1:
        return None  # other line breaks before the header
    header = _header(lines[-1], name, header_index, sep)
    if "numba" not in sys.modules:
        # a process without compiled code (imu convert) keeps pandas: loading numba (~1 s)
        # would cost more than the parse saves (~0.15 s per hour of 200 Hz samples)
        return None
    from imu.fastcsv import parse_numbers

    parsed = parse_numbers(data, end + 1, sep, len(header))
    if parsed is None:
        return None
    numbers, integer = parsed
    return _bytes_table(
        data, name, header_index, header, sep, end, len(numbers), numbers=numbers,
        integer=integer,
    )


def _bytes_table(
    data: bytes, name: str, header_index: int, header: list[str], sep: str, end: int,
    rows: int, **parsed: np.ndarray,
) -> Table:
    """The Table of ``rows`` data rows that start after the header's line end at byte
    ``end`` of ``data`` (unsplit; ``parsed``: the compiled parser's arrays, if any)."""
    first = header_index + 2
    return Table(
        name,
        header_index + 1,
        header,
        "",
        sep,
        np.arange(first, first + rows),
        not data.endswith(b"\n"),
        start=end + 1,
        data=data,
        **parsed,
    )


def _plain_table(data: bytes, name: str, header_index: int, sep: str) -> Table | None:
    """The Table of a text (``data``: its UTF-8 bytes) whose data rows are the
    ``\n``-separated lines after the header as they stand: no quotes (the parser skips
    lines to the header: a quote there would mislead it), no other line breaks or control
    characters, no white space but spaces and tabs, and a first row with no more fields
    than the header; None otherwise. Nothing is split: the rows are counted and the parser
    checks their fields; a blank line it skips shows as a row count that differs from the
    line count (see :class:`Table`). One pass over the bytes: only what is left after
    deleting digits, signs, decimal points, separators and spaces is looked at."""
    rest = data.translate(None, _PLAIN_BYTES)
    odd = rest.translate(None, b"\n").decode("utf-8")  # valid UTF-8 stays valid
    if _UNPLAIN.search(odd) or (sep.isspace() and _WHITE_LINE.search(data)):
        return None
    end = _header_end(data, header_index)
    if end < 0:
        return None
    start = data.rfind(b"\n", 0, end) + 1
    header = _header(data[start:end].decode("utf-8"), name, header_index, sep)
    first_end = data.find(b"\n", end + 1)
    first_row = data[end + 1 : first_end if first_end >= 0 else len(data)]
    if not first_row or first_row.count(sep.encode()) >= len(header):
        return None  # no rows, or pandas would take an extra first field for an index
    unterminated = not data.endswith(b"\n")
    rows = rest.count(b"\n") - data.count(b"\n", 0, end + 1) + unterminated
    return _bytes_table(data, name, header_index, header, sep, end, rows)


def _split_table(text: str, name: str, header_index: int, sep: str) -> Table:
    """:func:`read_table` line by line: every row checked, blank lines dropped."""
    lines = text.splitlines()
    unterminated = bool(text) and not text.endswith(("\n", "\r"))
    if header_index >= len(lines):
        raise input_error("empty file: no header line", path=name)
    header = _header(lines[header_index], name, header_index, sep)
    numbers = [i + 1 for i in range(header_index + 1, len(lines)) if lines[i].strip()]
    if not numbers:
        raise input_error(
            "no data rows after the header",
            path=name,
            line=header_index + 1,
            hint="the recording is empty; record again",
        )
    rows = [lines[n - 1] for n in numbers]
    limit = len(header) - 1
    trailing = False  # rows that end in separators the header does not have
    if any(row.count('"') % 2 for row in rows if '"' in row):
        raise _quote_error(rows, numbers, name)
    for number, row in zip(numbers, rows):
        if row.count(sep) <= limit:
            continue
        quoted = '"' in row  # separators may sit inside quotes: count real fields
        fields = next(csv.reader([row], delimiter=sep)) if quoted else row.split(sep)
        if len(fields) <= len(header):
            continue
        if not any(f.strip() for f in fields[len(header) :]):
            trailing = True  # empty fields at the end: separators ending the row
            continue
        raise input_error(
            f"{len(fields)} fields but the header has {len(header)}",
            path=name,
            line=number,
            hint="fix or delete the line",
        )
    body = "\n".join(row.rstrip(sep) for row in rows) if trailing else "\n".join(rows)
    return Table(name, header_index + 1, header, body, sep, np.asarray(numbers), unterminated)


def split_metadata(text: str | bytes) -> tuple[dict[str, str], int]:
    """Metadata dict of the leading ``# key: value`` lines, and the header's line index.

    ``text`` may be given as its UTF-8 bytes: only the head is decoded.
    """
    size = 1 << 16  # only the head of the text is split into lines
    while True:
        head = text[:size]
        lines = (
            head.decode("utf-8", errors="replace") if isinstance(head, bytes) else head
        ).splitlines()
        whole = size >= len(text)
        if not whole:
            lines.pop()  # may be cut off
        i = 0
        while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
            i += 1
        if i < len(lines) or whole:
            break
        size *= 16
    metadata: dict[str, str] = {}
    for line in lines[:i]:
        body = line.lstrip("#").strip()
        if ":" in body:
            key, value = body.split(":", 1)
            metadata[key.strip()] = value.strip()
    return metadata, i


# ------------------------------------------------------------------------ shared checks


def check_time(frame: pd.DataFrame, name: str, column: str, warnings: list[str]) -> pd.DataFrame:
    """Enforce strictly increasing time in ``frame`` (``frame.attrs["lines"]`` = file lines).

    Exact duplicate rows (a logger that wrote a row twice) are dropped with a warning; a
    repeated time with different values or a time that goes backwards is an error naming
    the line. ``column`` is the source's name for the time column (for messages).
    """
    lines = frame.attrs.get("lines", np.arange(len(frame)) + 2)
    t = frame[TIME].to_numpy(dtype=np.float64)
    steps = np.diff(t)
    repeated = np.flatnonzero(steps == 0) + 1
    if repeated.size:
        values = frame.to_numpy(dtype=np.float64)
        same = np.all(
            (values[repeated] == values[repeated - 1])
            | (np.isnan(values[repeated]) & np.isnan(values[repeated - 1])),
            axis=1,
        )
        if not same.all():
            i = int(repeated[np.argmin(same)])
            raise input_error(
                f"time {t[i]:g} repeats line {lines[i - 1]} with different values",
                path=name,
                line=int(lines[i]),
                column=column,
                hint="timestamps must be strictly increasing; delete one of the two lines",
            )
        keep = np.ones(len(frame), dtype=bool)
        keep[repeated] = False
        warnings.append(
            f"{name}: dropped {repeated.size} exact duplicate row(s), first at line "
            f"{lines[repeated[0]]}"
        )
        attrs = dict(frame.attrs)
        frame = frame.loc[keep].reset_index(drop=True)
        frame.attrs = {**attrs, "lines": np.asarray(lines)[keep]}
        lines = frame.attrs["lines"]
        t = frame[TIME].to_numpy(dtype=np.float64)
        steps = np.diff(t)
    backwards = np.flatnonzero(steps < 0)
    if backwards.size:
        i = int(backwards[0]) + 1
        raise input_error(
            f"time goes backwards ({float(t[i])} after {float(t[i - 1])}); "
            f"{backwards.size} such line(s) in the file",
            path=name,
            line=int(lines[i]),
            column=column,
            hint="timestamps must be strictly increasing; fix or delete the line, or split "
            "the file at it",
        )
    return frame


def _odd_median_magnitude(acc: np.ndarray) -> float | None:
    """Median length of the rows of ``acc`` (n x 3, m/s^2); None when counting shows it
    within 6-14 m/s^2, where :func:`_acc_magnitude_problem` has nothing to say (two
    counts cost less than the sort of a median).

    The counts are sound bounds: a length below 6 has a square below 36, one above 14 a
    square above 196; when at most ``(n - 1) // 2`` squares are below 36 and at most that
    many above 196, both middle values of the sorted lengths are within 6-14.
    """
    squared = np.einsum("ij,ij->i", acc, acc)
    limit = (len(squared) - 1) // 2
    if (
        np.count_nonzero(squared < 36.0) <= limit
        and np.count_nonzero(squared > 196.0) <= limit
        and not np.isnan(squared).any()  # np.median: NaN
    ):
        return None
    return float(np.median(np.sqrt(squared)))


def _acc_magnitude_problem(median: float, acc_unit: str | None) -> tuple[str, str] | None:
    """(message, hint) when the median acceleration magnitude is not gravity-like."""
    if 6.0 <= median <= 14.0:
        return None
    where = f"median |acc| is {median:.3g} m/s^2"
    if acc_unit is not None and acc_unit != "m/s2":
        where += f" after converting from {acc_unit}"
    if acc_unit in (None, "m/s2") and 0.6 <= median <= 1.4:
        return f"{where}, ~1: the accelerometer is in g", "pass --acc-unit g"
    if acc_unit not in (None, "m/s2") and 6.0 <= median / ACC_UNITS[acc_unit] <= 14.0:
        return f"{where}: the values were already m/s^2", "pass --acc-unit m/s2"
    if acc_unit in (None, "m/s2") and 600 <= median <= 1400:
        return f"{where}, ~1000: the accelerometer looks like milli-g", "convert to g or m/s^2"
    if median < 3.0:
        return (
            f"{where}: gravity seems removed (linear acceleration)",
            "record acceleration including gravity (total acceleration)",
        )
    return f"{where}, expected ~9.81 at rest", "check the accelerometer unit (--acc-unit)"


TILT_WINDOW_S = 0.5  # windows over which tilt and gyro rotation are compared
TILT_SMOOTHING_S = 0.2  # accelerometer mean at each window end (noise: std / sqrt(n))
MIN_TILT_DEG = 20.0  # a window counts when the gravity direction turned more than this
MIN_TILT_WINDOWS = 3


def _gyro_tilt_ratio(samples: np.ndarray, rate_hz: float) -> float | None:
    """How far the accelerometer's gravity direction turns per unit of gyroscope rotation.

    Over 0.5 s windows, the angle between the gravity directions seen by the accelerometer
    (0.2 s means) at the window's ends is compared with the rotation the gyroscope
    integrates over the window (|gyr| dt). The tilt cannot exceed the rotation, so with
    both in degrees the median ratio over windows that tilt by more than 20 deg is at
    most ~1 (linear acceleration blurs it a little; 1.0 on simulated deadlift sessions);
    a gyroscope in rad/s read as deg/s gives ~57x that. ``None`` when fewer than 3
    windows tilt that much (a still recording: even 1 m/s^2 of accelerometer noise at
    25 Hz turns the mean direction 20 deg with odds below 1e-6) or there is no gyroscope.
    Only the samples of the 0.2 s means are summed (strided views, no running sums).
    """
    time_s, acc, gyr = samples[:, 0], samples[:, 1:4], samples[:, 4:7]
    step = max(2, round(rate_hz * TILT_WINDOW_S))
    width = max(3, round(rate_hz * TILT_SMOOTHING_S))
    if not np.isfinite(gyr).all() or len(acc) < step + width:
        return None
    n_windows = (len(acc) - width - step) // step + 1  # windows whose far end fits too
    ends = np.arange(n_windows + 1) * step  # sample k starts the mean at a window end
    down = sliding_window_view(acc, width, axis=0)[ends].sum(axis=-1)
    norm = np.linalg.norm(down, axis=1, keepdims=True)
    down /= np.where(norm > 0, norm, np.nan)  # gravity direction; NaN for a zero mean
    cosine = np.einsum("ij,ij->i", down[:-1], down[1:])
    tilt_deg = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    tilted = tilt_deg > MIN_TILT_DEG
    if tilted.sum() < MIN_TILT_WINDOWS:
        return None
    # the rotation of the tilted windows only: a window runs between the centres of its
    # two means (the mean from k covers samples k .. k + width - 1); samples i - 1 -> i
    # turn by |gyr[i]| (t[i] - t[i - 1])
    after = (ends[:-1][tilted, np.newaxis] + width // 2 + 1 + np.arange(step)).ravel()
    # in the memory order of ``gyr`` (columns apart or rows apart): einsum may sum the
    # three products in another order otherwise, and round the last bit differently
    rates = np.asarray(gyr[after], order="F" if gyr.strides[0] < gyr.strides[1] else "C")
    turned = np.sqrt(np.einsum("ij,ij->i", rates, rates)) * (time_s[after] - time_s[after - 1])
    rotation_deg = turned.reshape(-1, step).sum(axis=-1)
    return float(np.median(tilt_deg[tilted] / np.maximum(rotation_deg, 1e-9)))


def finish_session(
    data: pd.DataFrame,
    *,
    name: str,
    metadata: dict[str, str] | None = None,
    warnings: Sequence[str] = (),
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    labels: Mapping[str, str] | None = None,
    gyro_name: str | None = None,
) -> Session:
    """Apply the unit overrides and the whole-recording checks, return the Session.

    ``data`` has the canonical columns, with acceleration in ``acc_unit`` (a key of
    ``ACC_UNITS``; ``None`` = m/s^2) and angular rate in ``gyr_unit`` (a key of
    ``GYR_UNITS``; ``None`` = deg/s): the unit the source declares or the user's
    ``--acc-unit``/``--gyr-unit``. They are converted to canonical units here.
    Errors: fewer than 2 samples, a sampling rate outside 5-2000 Hz, an accelerometer
    whose median magnitude is not gravity-like (g, milli-g, gravity removed), a gyroscope
    that looks like rad/s (or like deg/s after a rad/s conversion). Warnings: no gyroscope,
    gaps. ``labels`` maps canonical names to the source's column names and ``gyro_name``
    names the gyroscope's file when it differs from ``name``, for messages.
    """
    labels = dict(labels or {})
    metadata = dict(metadata or {})
    warnings = list(warnings)
    data = data.reset_index(drop=True)
    data.attrs = {}  # file lines served the checks; pandas deep-copies attrs at every step
    if acc_unit not in (None, *ACC_UNITS):
        raise input_error(f"unknown acceleration unit {acc_unit!r}", hint="use m/s2 or g")
    if gyr_unit not in (None, *GYR_UNITS):
        raise input_error(f"unknown angular-rate unit {gyr_unit!r}", hint="use deg/s or rad/s")
    if len(data) < 2:
        raise input_error(f"only {len(data)} sample(s); a session needs at least 2", path=name)
    for unit, table, columns, key in (
        (acc_unit, ACC_UNITS, ACC, "acc_unit_converted_from"),
        (gyr_unit, GYR_UNITS, GYR, "gyr_unit_converted_from"),
    ):
        if unit is not None and table[unit] != 1.0:
            data.loc[:, list(columns)] = data.loc[:, list(columns)] * table[unit]
            metadata[key] = unit
    t = data[TIME].to_numpy(dtype=np.float64)
    steps_s = np.diff(t)
    rate = 1.0 / float(np.median(steps_s))
    if not MIN_RATE_HZ <= float(f"{rate:.4g}") <= MAX_RATE_HZ:  # 5 Hz with us-rounded times
        hint = "time must be in seconds"
        for factor, unit in ((1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds")):
            if MIN_RATE_HZ <= rate * factor <= MAX_RATE_HZ:
                hint = f"time looks like {unit}; divide it by {factor:.0e} or pass --format"
        raise input_error(
            f"sampling rate {rate:.4g} Hz is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz",
            path=name,
            column=labels.get(TIME, TIME),
            hint=hint,
        )
    samples = data.loc[:, list(REQUIRED)].to_numpy(dtype=np.float64)
    acc = samples[:, 1:4]
    median_acc = _odd_median_magnitude(acc)
    problem = None if median_acc is None else _acc_magnitude_problem(median_acc, acc_unit)
    if problem:
        raise input_error(
            problem[0], path=name, column=labels.get("acc_x", "acc_x"), hint=problem[1]
        )
    gyro_nan = np.isnan(samples[:, 4:7])
    if gyro_nan.all():
        warnings.append(
            f"{name}: no gyroscope data; flexion comes from the accelerometer alone "
            "(accelerometer-only mode: less accurate during fast movement) and twist is "
            "unavailable"
        )
    else:
        ratio = _gyro_tilt_ratio(samples, rate)
        message = None
        if ratio is not None and ratio > 10.0:
            message = (
                f"the gyroscope turns ~{ratio:.0f}x slower than the accelerometer tilts: "
                "its values look like rad/s, not deg/s"
            )
            hint = "pass --gyr-unit rad/s" if gyr_unit in (None, "deg/s") else None
        elif ratio is not None and ratio < 0.1 and gyr_unit == "rad/s":
            message = (
                f"after converting from rad/s the gyroscope turns ~{1 / ratio:.0f}x faster "
                "than the accelerometer tilts: its values look like deg/s already"
            )
            hint = "pass --gyr-unit deg/s"
        if message:
            raise input_error(
                message,
                path=gyro_name or name,
                column=labels.get("gyr_x", "gyr_x"),
                hint=hint or "check the gyroscope unit (--gyr-unit)",
            )
    session = Session(data=data, metadata=metadata, source=name, warnings=warnings)
    nominal = session.sampling_rate_hz
    if abs(nominal / rate - 1.0) > 0.2:
        warnings.append(
            f"{name}: metadata says sampling_rate_hz {metadata['sampling_rate_hz']} but the "
            f"samples come at {rate:.4g} Hz (1 / median interval); gaps are judged at "
            f"{nominal:.4g} Hz"
        )
    if gap_intervals(steps_s, nominal).any():  # only then data_quality's summary
        quality = session.quality()
        longest = max(g["duration_s"] for g in quality["gaps"])
        warnings.append(
            f"{name}: {len(quality['gaps'])} gap(s) in the timeline, longest {longest:.3g} s, "
            f"the first {quality['gaps'][0]['start_s'] - data[TIME].iloc[0]:.4g} s into the "
            "recording; "
            f"about {100 * quality['fraction_lost']:.1f} % of samples missing"
        )
    return session


# ------------------------------------------------------------------------ reader/writer


def read_session(
    path: str | os.PathLike,
    *,
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    text: str | None = None,
    data: bytes | None = None,
) -> Session:
    """Read a canonical session CSV (or ``.csv.gz``). Raises :class:`InputError`.

    ``text`` or ``data`` (the file's bytes, gzip ones too) give the file's content when it
    does not come from disk (a zip member); ``path`` then only names it in messages.
    Warnings (dropped duplicate rows, a cut-off last line, gaps, no gyroscope) go to
    ``Session.warnings``.
    """
    name = str(path)
    table = None
    if text is None:
        data = gunzip(data, name) if data is not None else read_bytes(path)
        metadata, header_index = split_metadata(data)
        table, parsed = _ascii_numeric_table(data, name, header_index)
        if table is None and (not data.isascii() or b"\x00" in data):  # ASCII: bytes = text
            text = decode(data, name)
            if data.startswith(codecs.BOM_UTF8) or b"\x00" in data:
                data = None  # decoding dropped bytes: the text is not these bytes as they are
    else:
        data, table, parsed = None, None, False
    if table is None:
        if text is not None:  # decoded or given: a BOM may have gone; else split above
            metadata, header_index = split_metadata(text)
        again = not (parsed and data is not None)  # the same bytes give the same answer
        table = read_table(text, name, header_index=header_index, data=data, numeric=again)
    del text  # a plain table parses ``data``: no need to keep a second copy
    table.require(REQUIRED)
    numeric = table.floats({c: c for c in REQUIRED}, optional=GYR, share=True)
    extras = [c for c in table.columns if c not in REQUIRED]
    for column in extras:
        integers = table.integers(column)  # e.g. a recording's gap flags
        numeric[column] = integers if integers is not None else _extra_values(table.text(column))
    warnings = table.warnings
    # the file's bytes and the table's line numbers are no longer needed (the parsed
    # numbers live on in ``numeric``: its block when shared, else a copy)
    del table, data
    numeric = check_time(numeric, name, TIME, warnings)
    return finish_session(
        numeric,
        name=name,
        metadata=metadata,
        warnings=warnings,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
    )


def _ascii_numeric_table(data: bytes, name: str, header_index: int) -> tuple[Table | None, bool]:
    """:func:`_numeric_table` of a file's bytes whose lines up to the header are ASCII
    without NUL, and whether it ran to its answer: (None, False) otherwise and for any
    error (:func:`read_session` then checks the whole file first and reads it the general
    way, raising what that raises). A table it reads is all ASCII (its rows hold digits,
    signs, points, commas and line ends only): the bytes are the text, as the whole-file
    checks would have found, so they are not needed."""
    end = _header_end(data, header_index)
    if end < 0 or not data[:end].isascii() or b"\x00" in data[:end]:
        return None, False
    try:
        return _numeric_table(data, name, header_index, ","), True
    except InputError:
        return None, False


def _extra_values(cells: pd.Series) -> pd.Series:
    """An extra column as numbers when every non-empty cell is a number, else as text."""
    stripped = cells.reset_index(drop=True)
    numbers = pd.to_numeric(stripped.replace("", np.nan), errors="coerce")
    if (numbers.isna() & (stripped != "")).any():
        return stripped
    return numbers


def format_metadata(metadata: Mapping[str, object]) -> str:
    """``# key: value`` lines. Values are written as text with line breaks replaced by
    spaces (reading strips surrounding spaces); a key must be non-empty text without
    ``:`` or line breaks (ValueError otherwise: keys come from code, not users)."""
    lines = []
    for key, value in metadata.items():
        if not key.strip() or re.search(r"[:\r\n]", key) or key != key.strip():
            raise ValueError(f"metadata key {key!r} cannot be written as '# key: value'")
        text = re.sub(r"[\r\n]+", " ", str(value)).strip()
        lines.append(f"# {key}: {text}\n")
    return "".join(lines)


_CELL_FORMATS = {"time": "%.6f", "float": "%.7g", "int": "%d", "text": "%s"}
_NAN_CELL = re.compile(r"(?<![^,\n])nan(?![^,\n])")


def _text_cells(values: Sequence[object]) -> list[str]:
    """Cells of a text column: NaN/None empty, newlines replaced, CSV-quoted if needed."""
    cells = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            cells.append("")
            continue
        text = str(value).replace("\r", " ").replace("\n", " ")
        if "," in text or '"' in text:
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return cells


def _column_kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column) or (
        pd.api.types.is_integer_dtype(column) and not column.isna().any()
    ):
        return "int"
    if pd.api.types.is_float_dtype(column):
        return "float"
    return "text"


def _rows_text(columns: Sequence[Sequence[object]], kinds: Sequence[str]) -> str:
    """CSV rows, each ending in a newline, from per-column value lists.

    ``kinds``: ``time`` (1 us), ``float`` (7 significant digits), ``int``, ``text``
    (already cells). NaN becomes an empty cell. One ``%`` per row: ~4x faster than
    pandas' ``to_csv`` with a float format.
    """
    row_format = ",".join(_CELL_FORMATS[k] for k in kinds) + "\n"
    text = "".join([row_format % row for row in zip(*columns)])
    return _NAN_CELL.sub("", text) if "nan" in text else text


def write_session(session: Session, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write a canonical session CSV (metadata lines, header, rows; extra columns kept).

    ``time_s`` is written with 1 us resolution, the other float columns with 7
    significant digits (beyond any 16-bit sensor's resolution), NaN as an empty cell.
    A name ending in ``.gz`` is gzip-compressed. Refuses to overwrite an existing file
    unless ``force``. Writes to a temporary file and renames it, so an interrupted write
    never leaves half a session behind.
    """
    path = Path(path)
    if path.exists() and not force:
        raise input_error("exists already (use --force to overwrite)", path=str(path))
    columns = list(REQUIRED) + [c for c in session.data.columns if c not in REQUIRED]
    kinds = ["time"] + ["float"] * 6 + [_column_kind(session.data[c]) for c in columns[7:]]
    values = [
        _text_cells(session.data[c].tolist())
        if kind == "text"
        else session.data[c].to_numpy(dtype=np.int64 if kind == "int" else np.float64).tolist()
        for c, kind in zip(columns, kinds)
    ]
    header = ",".join(_text_cells(columns)) + "\n"
    text = format_metadata(session.metadata) + header + _rows_text(values, kinds)
    data = text.encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)  # same bytes for same data
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise input_error(f"cannot write ({exc.strerror})", path=str(path)) from None


class SessionWriter:
    """Crash-safe incremental recording of a canonical session CSV (``imu live --record``).

    The file gets the metadata lines and the header ``time_s,acc_x..gyr_z,gap[,extra...]``
    at once; :meth:`append` adds rows. Pending rows are flushed and fsynced once
    ``sync_interval_s`` has passed since the last sync (time-based, not per row): by the
    append that finds the interval over, or by a background thread when appends pause.
    After a crash or ``kill -9`` the file loads with :func:`read_session` and misses at
    most the last ``sync_interval_s`` of appended samples (a cut-off last line loads
    with a warning).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        metadata: Mapping[str, object] | None = None,
        *,
        extra_columns: Sequence[str] = (),
        force: bool = False,
        sync_interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self.extra_columns = list(extra_columns)
        self.sync_interval_s = sync_interval_s
        clash = set(self.extra_columns) & {*REQUIRED, GAP_COLUMN}
        if clash:
            raise ValueError(f"extra columns clash with standard columns: {sorted(clash)}")
        try:
            # the file stays open for the writer's lifetime; close() closes it
            self._handle = open(  # noqa: SIM115
                self.path, "w" if force else "x", encoding="utf-8", newline=""
            )
        except FileExistsError:
            raise input_error(
                "exists already (use --force to overwrite)", path=str(self.path)
            ) from None
        except OSError as exc:
            raise input_error(f"cannot write ({exc.strerror})", path=str(self.path)) from None
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = threading.Event()
        header = ",".join([*REQUIRED, GAP_COLUMN, *self.extra_columns])
        self._handle.write(format_metadata(metadata or {}) + header + "\n")
        self._sync()
        self._thread = threading.Thread(target=self._sync_loop, name="session-sync", daemon=True)
        self._thread.start()

    def append(
        self,
        samples: np.ndarray,
        gap_before: bool = False,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        """Write rows of an ``(n, 7)`` samples array (canonical units).

        ``gap_before`` marks the first row with ``gap`` = 1 (samples were lost before it).
        ``extra`` maps declared extra columns to a scalar or a length-n sequence.
        """
        samples = np.asarray(samples, dtype=np.float64)
        if samples.ndim != 2 or samples.shape[1] != len(REQUIRED):
            raise ValueError(f"samples must have shape (n, 7), got {samples.shape}")
        n = len(samples)
        if n == 0:
            return
        unknown = set(extra or {}) - set(self.extra_columns)
        if unknown:
            raise ValueError(f"undeclared extra columns {sorted(unknown)}")
        columns: list[list] = [samples[:, k].tolist() for k in range(len(REQUIRED))]
        columns.append([1 if gap_before and i == 0 else 0 for i in range(n)])
        for column in self.extra_columns:
            value = (extra or {}).get(column, "")
            values = [value] * n if isinstance(value, str) or np.ndim(value) == 0 else list(value)
            if len(values) != n:
                raise ValueError(f"extra column {column!r} has {len(values)} values for {n} rows")
            columns.append(_text_cells(values))
        kinds = ["time"] + ["float"] * 6 + ["int"] + ["text"] * len(self.extra_columns)
        text = _rows_text(columns, kinds)
        with self._lock:
            if self._handle.closed:
                raise ValueError("SessionWriter is closed")
            self._handle.write(text)
            self._dirty = True
            if time.monotonic() - self._synced_at >= self.sync_interval_s:
                self._sync()

    def _sync_loop(self) -> None:
        """Sync rows left pending when appends pause (appends sync on their own)."""
        while not self._closed.wait(self.sync_interval_s / 4):
            with self._lock:
                due = time.monotonic() - self._synced_at >= self.sync_interval_s
                if self._dirty and due and not self._handle.closed:
                    self._sync()

    def _sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._dirty = False
        self._synced_at = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close the file (idempotent)."""
        self._closed.set()
        with self._lock:
            if not self._handle.closed:
                self._sync()
                self._handle.close()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
