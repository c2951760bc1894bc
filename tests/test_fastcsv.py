"""The compiled table parser (:mod:`imu.fastcsv`) against Python's ``float`` and pandas.

Every number it takes must be exactly ``float(text)`` (the nearest double); everything
else it must leave to the general reader, so that loading a file gives the same values,
file lines, warnings and error messages with or without it (checked by loading each
case twice: once as shipped, once with the compiled path switched off).
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imu.fastcsv
import imu.session
from imu.errors import InputError
from imu.fastcsv import parse_numbers
from imu.importers import load
from imu.session import Session, read_table, write_session
from tests.test_importers_fuzz import damage

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
HEADER = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
ROWS = [f"{i / 100:.2f},0.1,-0.2,9.8,{i},-{i}.5,0.5e-1" for i in range(300)]
META = "# sampling_rate_hz: 100\n# synthetic: true\n"


def _bits(value: float) -> bytes:
    return struct.pack("<d", value)


def _one(text: str) -> float | None:
    """The compiled parser's value of one cell, None when it leaves it to pandas."""
    parsed = parse_numbers(f"x\n{text}\n".encode(), 2, ",", 1)
    return None if parsed is None else float(parsed[0][0, 0])


def _simple(sign: str, whole: str, fraction: str | None, exponent: int | None) -> bool:
    """Whether a number is in the class the compiled parser must take (module docstring)."""
    digits = whole + (fraction or "")
    shift = (exponent or 0) - len(fraction or "")
    return 0 < len(digits) <= 18 and int(digits) <= 2**53 and abs(shift) <= 22


decimal_parts = st.tuples(
    st.sampled_from(["", "+", "-"]),
    st.text("0123456789", max_size=20),
    st.none() | st.text("0123456789", max_size=20),
    st.none() | st.integers(-40, 40),
    st.sampled_from(["e", "E"]),
    st.booleans(),
).filter(lambda p: p[1] or p[2])  # at least one mantissa digit


@settings(max_examples=1000, deadline=None)
@given(decimal_parts)
def test_a_decimal_number_is_exactly_float_of_its_text_or_left_alone(parts) -> None:
    sign, whole, fraction, exponent, e, plus = parts
    text = sign + whole + ("." + fraction if fraction is not None else "")
    if exponent is not None:
        text += e + ("+" if plus and exponent >= 0 else "") + str(exponent)
    value = _one(text)
    if _simple(sign, whole, fraction, exponent):
        assert value is not None, text
        assert _bits(value) == _bits(float(text)), text  # -0.0 too
    else:
        assert value is None, text


sample_values = st.just(0.0) | st.floats(1e-16, 1e22).flatmap(lambda v: st.sampled_from([v, -v]))


@settings(max_examples=1000, deadline=None)
@given(sample_values, st.floats(0, 2e9))
def test_what_the_session_writer_writes_takes_the_fast_path(value, time_s) -> None:
    # write_session's formats: %.7g for samples, %.6f for times, up to Unix-epoch seconds
    for text in (f"{value:.7g}", f"{time_s:.6f}"):
        parsed = _one(text)
        assert parsed is not None and _bits(parsed) == _bits(float(text)), text


@settings(max_examples=300, deadline=None)
@given(st.lists(decimal_parts, min_size=1, max_size=40))
def test_pandas_c_parser_agrees_with_float_on_simple_numbers(column) -> None:
    """If pandas ever differed from float() here, `imu analyze` results would change by
    the parser swap: this pins that they do not (pandas 3.1's default 'high' converter)."""
    texts = []
    for sign, whole, fraction, exponent, e, _ in column:
        if _simple(sign, whole, fraction, exponent):
            text = sign + whole + ("." + fraction if fraction is not None else "")
            texts.append(text + (f"{e}{exponent}" if exponent is not None else ""))
    if not texts:
        return
    data = ("x\n" + "\n".join(texts) + "\n").encode()
    with_pandas = pd.read_csv(io.BytesIO(data), dtype=np.float64)["x"].to_numpy()
    compiled = parse_numbers(data, 2, ",", 1)[0][:, 0]
    assert [_bits(v) for v in with_pandas] == [_bits(float(t)) for t in texts]
    assert [_bits(v) for v in compiled] == [_bits(float(t)) for t in texts]


@pytest.mark.parametrize(
    "text", [" 1", "1 ", "nan", "inf", "-", "+", ".", "1e", "e5", "1.5.", "0x1", "1_0", '"1"']
)
def test_anything_but_a_plain_decimal_is_left_to_pandas(text: str) -> None:
    assert _one(text) is None


def test_an_empty_cell_is_nan_but_a_row_of_empty_cells_is_left_to_pandas() -> None:
    values, integer = parse_numbers(b"x,y\n,1\n2,3\n", 4, ",", 2)
    assert np.isnan(values[0, 0]) and values[1:, 0].tolist() == [2.0]
    assert integer.tolist() == [False, True]
    assert parse_numbers(b"x,y\n,\n2,3\n", 4, ",", 2) is None
    assert parse_numbers(b"x\n\n2\n", 2, ",", 1) is None  # a blank line


@pytest.mark.parametrize("end", ["\n", "\r\n", "", "\n7", "\n-8.5"])
def test_the_room_for_rows_grows_when_the_first_row_is_long(end: str) -> None:
    # a long first row makes the guess low; for one count of short rows they fill the
    # room exactly and an unterminated last row needs one more column
    for n_short in range(60):
        data = ("a\n1000000" + "\n1" * n_short + end).encode()
        values, _ = parse_numbers(data, 2, ",", 1)
        expected = pd.read_csv(io.BytesIO(data), dtype=np.float64)["a"].to_numpy()
        assert values[:, 0].tolist() == expected.tolist()


def test_rows_beyond_the_guessed_room_are_all_read() -> None:
    # a long first row makes the parser guess few rows: it must grow, not stop
    rows = ["1.123456789012,2.123456789012"] + [f"{i},{-i}" for i in range(5000)]
    data = ("a,b\n" + "\n".join(rows)).encode()  # and no final newline
    values, integer = parse_numbers(data, 4, ",", 2)
    expected = pd.read_csv(io.BytesIO(data)).to_numpy()
    assert values.shape == (5001, 2) and np.array_equal(values, expected)
    assert integer.tolist() == [False, False]  # the first row is not integers


# ------------------------------------------------------------- parts on several threads

cells = st.sampled_from(["0", "-1", "2.5", "+3e2", "", "123456789012345", "0.1", "7"])
damage_bytes = st.sampled_from(["x", " ", "\r", '"', ",", "\n", "nan", "1e99"])


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=60),
    line_end=st.sampled_from(["\n", "\r\n"]),
    cut=st.integers(0, 12),
    damage=st.none() | st.tuples(st.floats(0, 1), damage_bytes),
    threads=st.integers(2, 4),
    min_part_bytes=st.integers(1, 40),
)
def test_parts_on_threads_give_the_one_part_result(
    rows, line_end, cut, damage, threads, min_part_bytes
) -> None:
    """Random tables (empty cells, CRLF, a cut-off last line, a damaging byte somewhere)
    cut into parts of a few bytes: the same bits and flags as one part, or None for both."""
    text = "a,b,c\n" + line_end.join(",".join(row) for row in rows) + line_end
    text = text[: max(6, len(text) - cut)]  # the header stays whole
    if damage is not None:
        at = 6 + int(damage[0] * (len(text) - 6))
        text = text[:at] + damage[1] + text[at:]
    data = text.encode()
    one = parse_numbers(data, 6, ",", 3, threads=1)
    parts = parse_numbers(data, 6, ",", 3, threads=threads, min_part_bytes=min_part_bytes)
    if one is None:
        assert parts is None
        return
    assert parts is not None
    assert one[0].shape == parts[0].shape
    assert one[0].tobytes() == parts[0].tobytes()  # every bit, NaN and -0.0 too
    assert one[1].tolist() == parts[1].tolist()


def test_a_long_session_is_parsed_in_parts_with_the_same_bits(monkeypatch) -> None:
    rows = [f"{i / 200:.6f},{np.sin(i):.7g},-9.8,{i % 7}" for i in range(30_000)]
    data = ("t,x,y,k\n" + "\n".join(rows) + "\n").encode()  # ~1 MB
    calls = []
    count_lines = imu.fastcsv.count_lines
    monkeypatch.setattr(
        imu.fastcsv, "count_lines", lambda part: calls.append(1) or count_lines(part)
    )
    one = parse_numbers(data, 8, ",", 4, threads=1)
    assert not calls
    for threads in (2, 3, 4):
        parts = parse_numbers(data, 8, ",", 4, threads=threads, min_part_bytes=1 << 16)
        assert len(calls) == threads
        calls.clear()
        assert parts[0].tobytes() == one[0].tobytes()
        assert parts[1].tolist() == one[1].tolist() == [False, False, False, True]
    bad = data.replace(b"\n149.995000,", b"\nx149.995000,")  # an odd cell in the last part
    assert parse_numbers(bad, 8, ",", 4, threads=4, min_part_bytes=1 << 16) is None


def test_counted_parts_parsed_several_to_a_thread_give_the_one_part_result(monkeypatch) -> None:
    """The parse pass reads every counted part even when it gets fewer threads than the
    counting pass had (each thread then parses several parts in order)."""
    rows = [f"{i / 200:.6f},{np.cos(i):.7g},{i % 5}" for i in range(20_000)]
    data = ("t,x,k\n" + "\n".join(rows) + "\n").encode()
    one = parse_numbers(data, 6, ",", 3, threads=1)
    run_parts = imu.fastcsv.run_parts

    def fewer_for_the_parse(work, n, *, min_rows, threads=None):
        return run_parts(work, n, min_rows=min_rows, threads=2 if min_rows == 1 else threads)

    monkeypatch.setattr(imu.fastcsv, "run_parts", fewer_for_the_parse)
    parts = parse_numbers(data, 6, ",", 3, threads=4, min_part_bytes=1 << 15)
    assert parts[0].tobytes() == one[0].tobytes()
    assert parts[1].tolist() == one[1].tolist()


@pytest.fixture(params=["IMU_THREADS unset", "1", "3"])
def parts(request, monkeypatch) -> None:
    """The compiled parser as shipped, on one thread, and in parts of 40 bytes on three."""
    if request.param == "IMU_THREADS unset":
        monkeypatch.delenv("IMU_THREADS", raising=False)
    else:
        monkeypatch.setenv("IMU_THREADS", request.param)
        monkeypatch.setattr(imu.fastcsv, "MIN_PART_BYTES", 40)


# ------------------------------------------------------ whole files, with and without it


def _outcome(path: Path) -> tuple:
    """(data, metadata, warnings) of loading ``path``, or its error message."""
    try:
        session = load(path)
    except InputError as exc:
        return ("error", str(exc))
    return (session.data, session.metadata, session.warnings)


def _same(fast: tuple, general: tuple) -> None:
    if isinstance(general[0], str) or isinstance(fast[0], str):
        assert fast == general
        return
    pd.testing.assert_frame_equal(fast[0], general[0], check_exact=True)
    for column in fast[0]:  # -0.0 and every last bit
        a, b = fast[0][column].to_numpy(), general[0][column].to_numpy()
        if a.dtype.kind == "f":
            assert a.tobytes() == b.tobytes(), column
    assert fast[1:] == general[1:]


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple, bool]:
    """Outcomes with and without the compiled parser, and whether it read a table."""
    used = []
    numeric_table = imu.session._numeric_table

    def spy(*args):
        table = numeric_table(*args)
        used.append(table is not None)
        return table

    with monkeypatch.context() as patch:
        patch.setattr(imu.session, "_numeric_table", spy)
        fast = _outcome(path)
    with monkeypatch.context() as patch:
        patch.setattr(imu.session, "_numeric_table", lambda *args: None)
        general = _outcome(path)
    return fast, general, any(used)


# every recording among the fixtures (the witmotion folder holds four of them)
FIXTURE_CASES = sorted(
    str(p.relative_to(FIXTURES))
    for p in [*FIXTURES.iterdir(), *(FIXTURES / "witmotion").iterdir()]
    if (p.is_dir() and p.name != "witmotion") or p.suffix == ".txt"
)


@pytest.mark.parametrize("case", FIXTURE_CASES)
def test_every_fixture_loads_the_same_either_way(case: str, monkeypatch, parts) -> None:
    fast, general, _ = _both_ways(FIXTURES / case, monkeypatch)
    _same(fast, general)  # the same session, or the same error (two fixtures are refused)


def test_the_fixtures_exercise_the_compiled_path(monkeypatch) -> None:
    used = {case: _both_ways(FIXTURES / case, monkeypatch)[2] for case in FIXTURE_CASES}
    assert used["session"] and used["phyphox_tab"]  # ',' and tab separators
    assert not used["witmotion/gen2_gbk.txt"]  # text cells: the general reader


@pytest.mark.parametrize("rate_hz", [25.0, 52.0, 200.0, 400.0])
def test_simulated_sessions_load_the_same_either_way(rate_hz, tmp_path, monkeypatch) -> None:
    from imu.sim import demo_session, make_lifter, simulate

    plan = demo_session(make_lifter(1), seed=3, minutes=1)
    session = simulate(plan, sampling_rate_hz=rate_hz, seed=3).session
    path = tmp_path / "s.csv"
    write_session(session, path)
    fast, general, used = _both_ways(path, monkeypatch)
    assert used
    _same(fast, general)
    assert len(fast[0]) == len(session.data)


def _session_text(rows: list[str], *, header: str = HEADER, end: str = "\n") -> str:
    return META + header + "\n" + "\n".join(rows) + end


CUT = ROWS[-1][: len(ROWS[-1]) // 2]
MALFORMED = {
    "short row": (_session_text([*ROWS[:9], "0.09,0.1,0.2", *ROWS[10:]]), False),
    "long row": (_session_text([*ROWS[:9], ROWS[9] + ",7", *ROWS[10:]]), False),
    "quote": (_session_text([*ROWS[:9], '"' + ROWS[9], *ROWS[10:]]), False),
    "text cell": (_session_text([*ROWS[:9], "0.09,0.1,x,9.8,1,1,1", *ROWS[10:]]), False),
    "empty cell": (_session_text([*ROWS[:9], "0.09,0.1,,9.8,1,1,1", *ROWS[10:]]), True),
    "NaN": (_session_text([*ROWS[:9], "0.09,0.1,nan,9.8,1,1,1", *ROWS[10:]]), False),
    "inf": (_session_text([*ROWS[:9], "0.09,0.1,-inf,9.8,1,1,1", *ROWS[10:]]), False),
    "BOM": ("\ufeff" + _session_text(ROWS), True),
    "CRLF": (_session_text(ROWS).replace("\n", "\r\n"), True),
    "CRLF, last row cut at the CR": (_session_text(ROWS).replace("\n", "\r\n")[:-1], False),
    "no final newline": (_session_text(ROWS, end=""), True),
    "cut-off last line": (_session_text([*ROWS[:-1], CUT], end=""), False),
    "cut-off last line, all fields": (_session_text([*ROWS[:-1], ROWS[-1][:-3]], end=""), True),
    "blank line": (_session_text([*ROWS[:9], "", *ROWS[9:]]), False),
    "row of separators": (_session_text([*ROWS[:9], ",,,,,,", *ROWS[9:]]), False),
    "no gyroscope": (_session_text([r.rsplit(",", 3)[0] + ",,," for r in ROWS]), True),
    "time backwards": (_session_text([*ROWS[:9], ROWS[20], *ROWS[10:]]), True),
    "duplicate row": (_session_text([*ROWS[:9], ROWS[8], *ROWS[9:]]), True),
    "gap flags": (_session_text([r + f",{i % 2}" for i, r in enumerate(ROWS)], header=HEADER + ",gap"), True),
    "extra float column": (_session_text([r + f",{i / 3:.4f}" for i, r in enumerate(ROWS)], header=HEADER + ",temp_c"), True),
    "extra text column": (_session_text([r + f",set {i}" for i, r in enumerate(ROWS)], header=HEADER + ",note"), False),
    "gyroscope in rad/s": (_session_text([r.replace(",0.5e-1", ",1e2") for r in ROWS]), True),
    "only a header": (_session_text([], end=""), False),
    "more digits than exact": (_session_text([*ROWS[:9], "0.09,0.1000000000000000055511151231257827,0.2,9.8,1,1,1", *ROWS[10:]]), False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_or_odd_files_give_the_same_result_or_error(case, tmp_path, monkeypatch, parts):
    text, compiled = MALFORMED[case]
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode())
    fast, general, used = _both_ways(path, monkeypatch)
    _same(fast, general)
    assert used == compiled  # the case exercises the path it is meant to


def test_integer_extra_columns_keep_their_integer_type(tmp_path) -> None:
    path = tmp_path / "s.csv"
    rows = [r + f",{i % 2},{-i}" for i, r in enumerate(ROWS)]
    path.write_text(_session_text(rows, header=HEADER + ",gap,count"))
    data = load(path).data
    assert data["gap"].dtype == np.int64 and data["count"].dtype == np.int64
    assert data["gap"].tolist() == [i % 2 for i in range(len(ROWS))]
    assert data["count"].tolist() == [-i for i in range(len(ROWS))]


def test_a_table_of_numbers_with_a_tab_separator_and_blank_metadata_lines() -> None:
    text = "# a: 1\n\n# b: 2\r\nt\tx\n0\t1.5\n1\t-2.25\n"
    table = read_table(text, "f.tsv", header_index=3, sep="\t")
    assert table.numbers is not None and table.lines.tolist() == [5, 6]
    assert table.floats({"t": "t", "x": "x"})["x"].tolist() == [1.5, -2.25]


def test_a_line_break_python_knows_but_the_parser_does_not_is_left_alone() -> None:
    # U+2028 in the metadata makes str.splitlines() count one more line than "\n" does
    text = "# a: 1\u2028more\nt,x\n0,1\n"
    table = read_table(text, "f.csv", header_index=2)
    assert table.numbers is None


def test_gzip_and_plain_give_the_same_session(tmp_path, monkeypatch) -> None:
    plain, gz = tmp_path / "s.csv", tmp_path / "s.csv.gz"
    plain.write_text(_session_text(ROWS))
    write_session(Session(load(plain).data, {"synthetic": "true"}), gz)
    fast, general, used = _both_ways(gz, monkeypatch)
    assert used
    _same(fast, general)
    pd.testing.assert_frame_equal(fast[0], load(plain).data, check_exact=True)


@pytest.mark.parametrize("threads", [None, 1, 3])
@settings(max_examples=150, deadline=None)
@given(
    plan=st.lists(
        st.tuples(
            st.sampled_from(["delete", "insert", "replace", "truncate"]),
            st.floats(0, 1),
            st.sampled_from(
                [b",", b"\n", b"\r\n", b"\r", b"-", b"+", b".", b"e", b"E", b"x", b'"', b" ", b"1"]
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_damaged_session_file_gives_the_same_outcome_either_way(
    plan, threads, tmp_path_factory
) -> None:
    """Random edits of a session file (the damage of tests/test_importers_fuzz.py, with
    the bytes a number is made of): the same session or the same error either way, with
    the parser on one thread and in parts of 40 bytes on three."""
    data = (FIXTURES / "session" / "session.csv").read_bytes()
    path = tmp_path_factory.mktemp("damaged") / "s.csv"
    path.write_bytes(damage(data, plan))
    with pytest.MonkeyPatch.context() as monkeypatch:
        if threads is None:
            monkeypatch.delenv("IMU_THREADS", raising=False)
        else:
            monkeypatch.setenv("IMU_THREADS", str(threads))
            monkeypatch.setattr(imu.fastcsv, "MIN_PART_BYTES", 40)
        fast, general, _ = _both_ways(path, monkeypatch)
    _same(fast, general)


def test_a_process_without_numba_reads_with_pandas_and_does_not_load_it(tmp_path) -> None:
    # imu convert: numba's import and set-up would cost more than the parse saves
    path = tmp_path / "s.csv"
    path.write_text(_session_text(ROWS))
    script = (
        "import sys; from imu.importers import load; "
        f"data = load({str(path)!r}).data; "
        "print('numba' in sys.modules, data.to_numpy().tobytes().hex())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded, values = done.stdout.split()
    assert loaded == "False"
    assert values == load(path).data.to_numpy().tobytes().hex()  # compiled here


@pytest.mark.parametrize("gyr_z_first", [False, True])
def test_shared_floats_are_the_parsed_numbers_when_in_file_order(gyr_z_first: bool) -> None:
    from imu.session import GYR, REQUIRED

    rows, header = ROWS, HEADER
    if gyr_z_first:  # the same table with its last column moved to the front
        rows = [r.rsplit(",", 1)[1] + "," + r.rsplit(",", 1)[0] for r in ROWS]
        header = "gyr_z," + HEADER.removesuffix(",gyr_z")
    table = read_table(header + "\n" + "\n".join(rows) + "\n", "s.csv")
    columns = {c: c for c in REQUIRED}
    shared = table.floats(columns, optional=GYR, share=True)
    copied = table.floats(columns, optional=GYR)
    pd.testing.assert_frame_equal(shared, copied, check_exact=True)
    assert not np.shares_memory(copied.to_numpy(), table.numbers)
    assert np.shares_memory(shared.to_numpy(), table.numbers) == (not gyr_z_first)
    assert shared["gyr_y"].tolist() == [-(i + 0.5) for i in range(len(ROWS))]
    assert shared["gyr_z"].tolist() == [0.05] * len(ROWS)


GOOD = _session_text(ROWS).encode()
BYTE_CASES = {
    "invalid UTF-8 in a row": (GOOD.replace(b"\n0.09,", b"\n0.09\xff,"), "not a text file"),
    "NUL padding after a power cut": (GOOD + b"\x00" * 64, None),
    "NUL inside the rows": (GOOD.replace(b"\n0.09,", b"\n0.09\x00,"), "binary file"),
    "a UTF-8 cell in a row": (GOOD.replace(b"\n0.09,", "\n0.09é,".encode()), "not a number"),
    "a UTF-8 metadata value": ("# note: café\n".encode() + GOOD, None),
    "repeated header name, invalid UTF-8 in a row": (
        GOOD.replace(b"gyr_z\n", b"gyr_y\n").replace(b"\n0.09,", b"\n0.09\xff,"),
        "not a text file",
    ),
}


@pytest.mark.parametrize("case", list(BYTE_CASES))
def test_odd_bytes_after_an_ascii_header_give_the_whole_file_checks_answer(
    case, tmp_path, monkeypatch
) -> None:
    """read_session parses a file with an ASCII head before looking at the whole file:
    odd bytes in its rows must still give what the whole-file checks give first."""
    data, error = BYTE_CASES[case]
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    fast, general, _ = _both_ways(path, monkeypatch)
    _same(fast, general)
    if error is None:
        assert len(fast[0]) == len(ROWS)
    else:
        assert fast[0] == "error" and error in fast[1]
