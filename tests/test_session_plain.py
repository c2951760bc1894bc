"""The plain-text fast path of :func:`imu.session.read_table` against the line-by-line one.

A plain table is parsed without splitting its text into lines; anything the parser finds
odd (a bad cell, a field count, a blank line it skipped) sends it back to the
line-by-line reader. Every case below must give the same values, file lines, warnings
and error messages either way.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.errors import InputError
from imu.session import GYR, REQUIRED, read_session, read_table, split_metadata
from imu.session.table import _split_table

HEADER = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
ROWS = [f"{i / 100:.2f},0.1,0.2,9.8,{i},-{i},0.5" for i in range(6)]
META = "# sampling_rate_hz: 100\n# device: test\n"


def _text(rows: list[str], *, header: str = HEADER, end: str = "\n") -> str:
    return META + header + "\n" + "\n".join(rows) + end


def _outcome(table_of) -> tuple:
    """(floats, file lines, extra texts, warnings) of a table, or the error message."""
    try:
        table = table_of()
        numbers = table.floats({c: c for c in REQUIRED}, optional=GYR)
        extras = {c: table.text(c).tolist() for c in table.columns if c not in REQUIRED}
    except InputError as exc:
        return ("error", str(exc))
    values = [[repr(v) for v in row] for row in numbers.to_numpy().tolist()]  # nan == nan
    return (values, numbers.attrs["lines"].tolist(), extras, table.warnings)


def _both(text: str, sep: str = ",") -> tuple[tuple, tuple, str]:
    """Outcomes of the fast and the line-by-line reader, and the fast one's path:
    ``plain`` (never split the text into lines), ``fell back`` (started plain, a parse found
    something odd) or ``split`` (not plain from the start)."""
    seen: dict = {}

    def fast():
        seen["table"] = read_table(text, "f.csv", header_index=2, sep=sep)
        seen["started plain"] = seen["table"].start is not None
        return seen["table"]

    exact = _outcome(lambda: _split_table(text, "f.csv", 2, sep))
    outcome = _outcome(fast)
    if not seen.get("started plain"):
        return outcome, exact, "split"
    stayed = outcome[0] != "error" and seen["table"].start is not None  # errors come split
    return outcome, exact, "plain" if stayed else "fell back"


CASES = {
    "clean": (_text(ROWS), "plain"),
    "unterminated": (_text(ROWS, end=""), "plain"),
    "cut-off last row": (_text([*ROWS[:-1], "0.05,0.1,0.2"], end=""), "fell back"),
    "short row inside": (_text([*ROWS[:2], "0.02,0.1,0.2", *ROWS[3:]]), "fell back"),
    "extra field inside": (_text([*ROWS[:2], ROWS[2] + ",7", *ROWS[3:]]), "fell back"),
    "extra field on the first row": (_text([ROWS[0] + ",7", *ROWS[1:]]), "split"),
    "trailing separators": (_text([r + ",," for r in ROWS]), "split"),
    "trailing separator in the header too": (
        _text([r + "," for r in ROWS], header=HEADER + ","),
        "plain",
    ),
    "not a number": (_text([*ROWS[:3], "0.03,0.1,x,9.8,1,1,1", *ROWS[4:]]), "fell back"),
    "NA is not a missing value": (
        _text([*ROWS[:3], "0.03,0.1,NA,9.8,1,1,1", *ROWS[4:]]),
        "fell back",
    ),
    "infinity": (_text([*ROWS[:3], "0.03,0.1,inf,9.8,1,1,1", *ROWS[4:]]), "fell back"),
    "no gyroscope": (_text([f"{i / 100:.2f},0.1,0.2,9.8,,," for i in range(6)]), "plain"),
    "blank line": (_text([*ROWS[:3], "", *ROWS[3:]]), "fell back"),
    "blank lines at the end": (_text(ROWS, end="\n\n\n"), "fell back"),
    "white-space line": (_text([*ROWS[:3], "  \t", *ROWS[3:]]), "fell back"),
    "white-space last line, unterminated": (_text(ROWS, end="\n  "), "fell back"),
    "no-break-space line": (_text([*ROWS[:3], "\u00a0", *ROWS[3:]]), "split"),
    "unit-separator line": (_text([*ROWS[:3], "\x1f", *ROWS[3:]]), "split"),
    "indented row": (_text([*ROWS[:3], " " + ROWS[3], *ROWS[4:]]), "plain"),
    "CRLF": (_text(ROWS).replace("\n", "\r\n"), "split"),
    "CRLF, unterminated": (_text(ROWS, end="").replace("\n", "\r\n"), "split"),
    "CRLF with a numeric extra column": (
        _text([r + f",{i % 2}" for i, r in enumerate(ROWS)], header=HEADER + ",gap").replace(
            "\n", "\r\n"
        ),
        "split",
    ),
    "lone carriage return": (_text([*ROWS[:3], ROWS[3] + "\r" + ROWS[4], *ROWS[5:]]), "split"),
    "exponents, signs, bare points": (
        _text([f"{i}.,+1e-3,-.5E+1,9.8,1E2,-0,0.{i}" for i in range(6)]),
        "plain",
    ),
    "more digits than a double holds": (
        _text([*ROWS[:3], "0.03,0.1000000000000000055511151231257827,0.2,9.8,1,1,1", *ROWS[4:]]),
        "plain",
    ),
    "line separator inside a row": (_text([*ROWS[:3], ROWS[3] + "\u2028", *ROWS[4:]]), "split"),
    "non-ASCII text column": (
        _text([r + f",{i} \u00b0" for i, r in enumerate(ROWS)], header=HEADER + ",note"),
        "plain",
    ),
    "quoted text column": (
        _text([r + ',"a, b"' for r in ROWS], header=HEADER + ",note"),
        "split",
    ),
    "extra columns": (
        _text([r + f",{i},lift {i}" for i, r in enumerate(ROWS)], header=HEADER + ",gap,note"),
        "plain",
    ),
    "spaces around cells": (_text([r.replace(",", " , ") for r in ROWS]), "plain"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_plain_and_line_by_line_readers_agree(case: str) -> None:
    text, expect_path = CASES[case]
    fast, exact, path = _both(text)
    assert fast == exact
    assert path == expect_path  # the case exercises the path it is meant to


@pytest.mark.parametrize("white", ["\t", " \t ", ""])
def test_a_white_space_line_is_dropped_with_a_tab_separator(white: str) -> None:
    # the parser keeps a line of separators when the separator is white space
    rows = [r.replace(",", "\t") for r in ROWS]
    text = _text([*rows[:3], white, *rows[3:]], header=HEADER.replace(",", "\t"))
    fast, exact, path = _both(text, sep="\t")
    assert fast == exact and path == "split"
    assert fast[1] == [4, 5, 6, 8, 9, 10]  # file lines: line 7 is the white-space one


def test_a_clean_table_has_the_file_lines_of_its_rows() -> None:
    numbers, lines, _, warnings = _outcome(lambda: read_table(_text(ROWS), "f.csv", header_index=2))
    assert lines == list(range(4, 4 + len(ROWS)))  # 2 metadata lines, the header, rows
    assert [row[4] for row in numbers] == [repr(float(i)) for i in range(len(ROWS))]
    assert warnings == []


def test_extra_first_field_is_an_error_not_an_index() -> None:
    # pandas alone would silently read the first column as the row index here
    text = _text([ROWS[0] + ",7", *ROWS[1:]])
    with pytest.raises(InputError, match=r"f\.csv:4: 8 fields but the header has 7"):
        read_table(text, "f.csv", header_index=2).floats({c: c for c in REQUIRED})


def test_bytes_and_text_give_the_same_session(tmp_path) -> None:
    rows = [
        f"{i / 100:.2f},{np.sin(i / 9):.4f},0.2,9.8,{10 * np.cos(i / 9):.3f},-1,0.5,{i % 2}"
        for i in range(300)
    ]
    text = META + HEADER + ",gap\n" + "\n".join(rows) + "\n" + rows[-1] + "\n"  # a duplicate
    path = tmp_path / "s.csv"
    path.write_text(text)
    from_disk = read_session(path)
    from_bytes = read_session(path, data=text.encode())
    from_bom = read_session(path, data=b"\xef\xbb\xbf" + text.encode())
    from_text = read_session(path, text=text)
    from_gzip = read_session(path, data=gzip.compress(text.encode()))
    accented = text.replace("# device: test", "# device: M\u00fcller \u00b0")  # not ASCII
    from_accented = read_session(path, data=accented.encode())
    for other in (from_bytes, from_bom, from_text, from_gzip, from_accented):
        pd.testing.assert_frame_equal(other.data, from_disk.data)
        assert other.warnings == from_disk.warnings
        assert other.metadata == {**from_disk.metadata, "device": other.metadata["device"]}
    assert from_accented.metadata["device"] == "M\u00fcller \u00b0"
    assert {o.metadata["device"] for o in (from_bytes, from_bom, from_text, from_gzip)} == {"test"}
    assert len(from_disk.data) == 300
    assert any(
        "dropped 1 exact duplicate row, first at line 304" in w for w in from_disk.warnings
    )
    assert from_disk.data["gap"].tolist() == [i % 2 for i in range(300)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_metadata_longer_than_the_head_that_is_split_first(newline: str) -> None:
    # 3000 lines of ~30 characters: past the 64 KiB head split_metadata starts with
    meta = [f"# key_{i:04d}: value {i}" for i in range(3000)] + ["", "#"]
    text = newline.join([*meta, HEADER, *ROWS]) + newline
    metadata, header_index = split_metadata(text)
    assert header_index == len(meta)
    assert metadata == {f"key_{i:04d}": f"value {i}" for i in range(3000)}
    table = read_table(text, "f.csv", header_index=header_index)
    assert table.columns == HEADER.split(",")
    lines = table.floats({c: c for c in REQUIRED}).attrs["lines"]
    assert lines.tolist() == list(range(len(meta) + 2, len(meta) + 2 + len(ROWS)))


ROW_PIECES = st.sampled_from(
    ["0.5", "1", "-2e3", "9.8", "", " ", "\t", ",", "x", "nan", "inf", '"', "\r", "\n",
     "\u00a0", "\x1f", "\x0b", "\u2028", "\u00b0", "#"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(ROW_PIECES, max_size=12).map("".join), max_size=8), st.booleans())
def test_any_rows_give_the_same_outcome_either_way(rows: list[str], terminated: bool) -> None:
    """Random rows of numbers, separators, blanks, quotes, odd line breaks and non-ASCII
    white space: the fast reader must say exactly what the line-by-line one says."""
    text = _text([*ROWS[:2], *rows, *ROWS[2:]], end="\n" if terminated else "")
    fast, exact, _ = _both(text)
    assert fast == exact
