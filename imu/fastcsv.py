"""Compiled parser (numba) for the data rows of a plain numeric table.

:func:`parse_numbers` reads the rows of a delimited text straight from its bytes into a
float64 array in one pass. It takes only what it can read exactly and leaves everything
else to the general reader (:class:`imu.session.Table`, pandas' C parser), so that every
error message and recovery stays the general reader's:

- every row ends in ``\\n`` or ``\\r\\n`` (the last one may end the text instead), has
  exactly the header's number of fields, and not all of them empty;
- a field is empty (NaN; :meth:`imu.session.Table.floats` decides whether that is allowed)
  or a decimal number ``[+-]digits[.digits][(e|E)[+-]digits]`` with at least one mantissa
  digit (``1.`` and ``.5`` included, as for Python's ``float``), without spaces;
- its value is exact with one IEEE operation (Clinger's fast path: W. D. Clinger, *How to
  read floating point numbers accurately*, PLDI 1990): the decimal mantissa as an integer
  is at most 2^53 (exact as a double) and the decimal exponent at most 22 in size (10^k
  is then an exact double), so ``mantissa * 10^k`` or ``mantissa / 10^k`` is one correctly
  rounded operation: the value equals Python's ``float(text)``, the nearest double.

Anything else (more digits, a larger exponent, ``nan``, ``inf``, quotes, spaces, another
line break, a short or long row, a blank line) stops the parse and the caller falls back.
The session writer's ``%.6f`` times (up to Unix-epoch seconds, 9e9 s) and ``%.7g`` values
(zero or 1e-16 to 1e22 in size: any sensor's) all take the fast path.

A long text (at least :data:`MIN_PART_BYTES` twice) is parsed on several cores
(:func:`imu.workers.run_parts`): its bytes are cut at line ends into parts of whole lines,
a first pass counts each part's lines (one row each when the text is simple), and a second
parses every part straight into its own rows of one array: no row-count guess, no join,
the same numbers and flags as one part gives. If any part is not simple, the whole text
goes to the general reader, as for one part.

Compiled on first use and cached on disk like :mod:`imu.pipeline.fusion` (``cache=True``);
the kernels release the GIL (``nogil=True``) so that the parts run at the same time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from imu.workers import run_parts, thread_count

_POW10 = np.array([10.0**k for k in range(23)])  # 1e0 .. 1e22: every one an exact double
_MAX_EXACT = 1 << 53  # integers up to 2^53 are exact doubles
_DIGIT_0, _DIGIT_9 = 48, 57
_PLUS, _MINUS, _POINT, _LF, _CR = 43, 45, 46, 10, 13
_E_LOWER, _E_UPPER = 101, 69
NOT_SIMPLE = -1
"""Row count :func:`parse_rows` gives when the text needs the general reader."""
MIN_PART_BYTES = 1 << 19
"""Smallest part of a text parsed on its own thread (512 KiB, ~7,000 rows of a session:
a few ms of parsing against ~0.1 ms to hand a part to a thread)."""


@njit(cache=True, nogil=True)
def count_lines(data: np.ndarray) -> int:
    """Number of ``\\n`` bytes in ``data`` (uint8)."""
    lines = 0
    for byte in data:
        lines += byte == _LF
    return lines


@njit(cache=True, nogil=True)
def parse_rows(
    data: np.ndarray,
    start: int,
    sep: int,
    out: np.ndarray,
    row: int,
    capacity: int,
    integer: np.ndarray,
) -> tuple[int, int]:
    """Parse rows of ``data`` (uint8 bytes of whole lines: the last byte is ``\\n``) from
    byte ``start`` into ``out`` (columns x rows float64: one row of ``out`` per column
    of the table) from its column ``row`` on, until the text ends or ``capacity`` rows of
    ``out`` are full. Every scan stops at the final ``\\n``, so no byte is read past the end.

    Returns (rows in ``out``, byte where the next row starts), or (:data:`NOT_SIMPLE`,
    byte) at the first thing the general reader must see (module docstring). ``integer``
    (one flag per column, true on the first call) is cleared for a column with a cell
    that is not an integer of at most 15 digits (exact as an int64 too). One pass: each
    field is read digit by digit and must end at a separator or a line end.
    """
    n_columns = out.shape[0]
    last_column = n_columns - 1
    pow10 = _POW10
    size = len(data)
    i = start
    while i < size and row < capacity:
        empty_fields = 0
        for column in range(n_columns):
            field_start = i
            negative = data[i] == _MINUS
            if negative or data[i] == _PLUS:
                i += 1
            mantissa = 0
            digits = 0
            exponent = 0
            while _DIGIT_0 <= data[i] <= _DIGIT_9:
                mantissa = mantissa * 10 + (data[i] - _DIGIT_0)
                digits += 1
                i += 1
            whole = True
            if data[i] == _POINT:
                whole = False
                i += 1
                while _DIGIT_0 <= data[i] <= _DIGIT_9:
                    mantissa = mantissa * 10 + (data[i] - _DIGIT_0)
                    digits += 1
                    exponent -= 1
                    i += 1
            if digits and (data[i] == _E_LOWER or data[i] == _E_UPPER):
                whole = False
                i += 1
                exponent_negative = False
                if data[i] == _PLUS or data[i] == _MINUS:
                    exponent_negative = data[i] == _MINUS
                    i += 1
                written = 0
                exponent_digits = 0
                while _DIGIT_0 <= data[i] <= _DIGIT_9:
                    written = min(written * 10 + (data[i] - _DIGIT_0), 1000)
                    exponent_digits += 1
                    i += 1
                if exponent_digits == 0:
                    return NOT_SIMPLE, i
                exponent += -written if exponent_negative else written
            end = data[i]
            if end != sep and end != _LF and end != _CR:
                return NOT_SIMPLE, i
            if digits:
                # mantissa wraps past 18 digits: rejected before it is used
                if digits > 18 or mantissa > _MAX_EXACT or exponent > 22 or exponent < -22:
                    return NOT_SIMPLE, i
                value = float(mantissa)
                value = value * pow10[exponent] if exponent >= 0 else value / pow10[-exponent]
                out[column, row] = -value if negative else value
                if not whole or digits > 15:
                    integer[column] = False
            elif i == field_start:  # empty field
                out[column, row] = np.nan
                integer[column] = False
                empty_fields += 1
            else:  # a sign or a point without digits
                return NOT_SIMPLE, i
            if end == sep:
                if column == last_column:
                    return NOT_SIMPLE, i
                i += 1
            elif column != last_column:
                return NOT_SIMPLE, i
            elif end == _CR:
                if data[i + 1] != _LF:
                    return NOT_SIMPLE, i
                i += 2
            else:
                i += 1
        if empty_fields == n_columns:
            return NOT_SIMPLE, i  # a row of separators only: the general reader decides
        row += 1
    return row, i


def parse_numbers(
    data: bytes,
    start: int,
    sep: str,
    n_columns: int,
    *,
    threads: int | None = None,
    min_part_bytes: int | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows of ``data`` (a text's UTF-8 bytes) from byte ``start`` as numbers.

    Returns ``(values, integer)``: ``values`` (rows x ``n_columns``) float64 is the
    transposed view of a column-major array (each column contiguous; NaN = empty cell);
    ``integer`` (``n_columns`` bools) is true for a column of integers of at most 15
    digits. None when the rows are not simple (module docstring) or there are none: the
    caller reads them the general way.

    Rows from ``2 * min_part_bytes`` bytes on are parsed in parts on up to ``threads``
    threads (default :func:`imu.workers.thread_count`; ``min_part_bytes`` default
    :data:`MIN_PART_BYTES`), with the same result. In one
    part no pass counts the lines: room for the rows is guessed from the first row's
    length (a tenth more), and when they do not fit, from the mean row length so far.
    """
    code = sep.encode()
    if len(code) != 1 or code in b"0123456789+-.eE\r\n":
        return None
    lines_end = data.rfind(b"\n") + 1  # whole lines, then an unterminated last one
    tail = data[lines_end:]
    if tail.endswith(b"\r"):
        return None  # a CR ending the text: the general reader decides what it is
    integer = np.ones(n_columns, dtype=np.bool_)
    lines = np.frombuffer(data, dtype=np.uint8)[:lines_end]
    threads = thread_count() if threads is None else threads
    min_part_bytes = MIN_PART_BYTES if min_part_bytes is None else min_part_bytes
    if threads > 1 and lines_end - start >= 2 * min_part_bytes:
        parsed = _parse_parts(
            data, lines, start, code[0], (n_columns, bool(tail)), threads, min_part_bytes
        )
        if parsed is None:
            return None
        out, integer = parsed
        rows = out.shape[1] - bool(tail)
    else:
        first_end = data.find(b"\n", start)
        row_bytes = (first_end if first_end >= 0 else len(data)) - start + 1
        out = np.empty((n_columns, (len(data) - start) // row_bytes * 11 // 10 + 16))
        rows, i = 0, start
        while True:
            rows, i = parse_rows(lines, i, code[0], out, rows, out.shape[1], integer)
            if rows < 0:
                return None
            if i == lines_end:
                break
            out = _grown(out, rows, (lines_end - i) * rows // (i - start) * 11 // 10 + 16)
    if tail:
        if rows == out.shape[1]:
            out = _grown(out, rows, 1)
        last = np.frombuffer(tail + b"\n", dtype=np.uint8)
        rows, _ = parse_rows(last, 0, code[0], out, rows, out.shape[1], integer)
    if rows <= 0:
        return None
    return out[:, :rows].T, integer


def _parse_parts(
    data: bytes,
    lines: np.ndarray,
    start: int,
    sep: int,
    shape: tuple[int, int],
    threads: int,
    min_part_bytes: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The whole lines ``lines[start:]`` parsed in parts on several threads: (values
    (columns x lines + room: ``shape`` is (columns, room), room for an unterminated last
    line), integer flags), or None when a part is not simple. Parts end at line ends; a simple text
    has one row per line, so the counts of the first pass place every part's rows."""

    def cut(offset: int) -> int:
        """The start of the first line from ``start + offset`` on (line ends in ``data``)."""
        return start if offset == 0 else data.find(b"\n", start + offset - 1) + 1

    def count(first: int, stop: int) -> tuple[int, int, int]:
        low, high = cut(first), cut(stop)
        return low, high, count_lines(lines[low:high])

    parts = run_parts(count, len(lines) - start, min_rows=min_part_bytes, threads=threads)
    offsets = np.cumsum([0] + [n for _, _, n in parts]).tolist()
    n_columns, room = shape
    out = np.empty((n_columns, offsets[-1] + room))
    flags = np.ones((len(parts), n_columns), dtype=np.bool_)

    def parse(first: int, stop: int) -> bool:
        for k in range(first, stop):  # one part each when threads suffice, as counted
            low, high, _ = parts[k]
            end = offsets[k + 1]
            rows, i = parse_rows(lines[low:high], 0, sep, out, offsets[k], end, flags[k])
            if rows != end or i != high - low:
                return False
        return True

    if not all(run_parts(parse, len(parts), min_rows=1, threads=threads)):
        return None
    return out, flags.all(axis=0)


def _grown(out: np.ndarray, rows: int, more: int) -> np.ndarray:
    """A copy of the first ``rows`` of ``out`` (columns x rows) with room for ``more``."""
    grown = np.empty((out.shape[0], rows + more))
    grown[:, :rows] = out[:, :rows]
    return grown


def load() -> None:
    """Load (or, the first time after installing, compile) the parser with the argument
    types reading uses (``imu.pipeline.fusion.warm_up`` runs this with every kernel)."""
    parse_numbers(b"t,x\n0,1.5\n1,2\r\n2,3", 4, ",", 2)
