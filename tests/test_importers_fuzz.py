"""Damaged inputs of every format give a Session or a one-line InputError, never a traceback."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imu.errors import InputError
from imu.importers import load

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
CASES = [
    "phyphox_comma/Accelerometer.csv",
    "phyphox_semicolon/Gyroscope.csv",
    "sensorlogger_total/TotalAcceleration.csv",
    "metabase",
    "phyphox_semicolon",
    "sensorlogger_ios",
    "polar/Polar_Sense_B36B5B21_20240301_101502_ACC.txt",
    "witmotion/gen2_gbk.txt",
    "witmotion/gen1_seconds.txt",
    "session/session.csv",
    "movella_dot/D422CD001234_20240301_101502.csv",
    "phyphox_12x",
    "sensorlogger_legacy",
]

edits = st.lists(
    st.tuples(
        st.sampled_from(["delete", "insert", "replace", "truncate"]),
        st.floats(0, 1),
        st.sampled_from(
            [
                b",",
                b";",
                b"\t",
                b"\n",
                b"\r\n",
                b"-",
                b".",
                b"e",
                b"x",
                b'"',
                b"\xff",
                b"\x00",
                b"nan",
                b"1",
                b" ",
            ]
        ),
    ),
    min_size=1,
    max_size=4,
)


def damage(data: bytes, plan: list[tuple[str, float, bytes]]) -> bytes:
    for action, where, junk in plan:
        i = int(where * len(data))
        if action == "delete":
            data = data[:i] + data[i + 1 :]
        elif action == "insert":
            data = data[:i] + junk + data[i:]
        elif action == "replace":
            data = data[:i] + junk + data[i + len(junk) :]
        else:
            data = data[:i]
    return data


def check_loads_or_explains(path: Path) -> None:
    try:
        load(path)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize("case", CASES)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=edits, pick=st.integers(0, 10))
# phyphox_semicolon: a digit into a Unix start time makes it ~1.7e19 s, where the samples'
# times round to one value (a median step of 0 divided by)
@example(plan=[("insert", 0.71875, b"1")], pick=3)
def test_damaged_file_never_raises_anything_but_input_error(tmp_path, case, plan, pick):
    source = FIXTURES / case
    target = tmp_path / "case"
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target)
        files = sorted(p for p in target.rglob("*") if p.is_file())
        victim = files[pick % len(files)]
    else:
        target.mkdir()
        victim = target / source.name
        shutil.copy(source, victim)
    victim.write_bytes(damage(victim.read_bytes(), plan))
    check_loads_or_explains(target)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.floats(0, 1))
def test_truncated_zip_is_explained(tmp_path, cut):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (FIXTURES / "phyphox_comma").iterdir():
            z.write(path, path.name)
    data = archive.read_bytes()
    archive.write_bytes(data[: int(cut * len(data))])
    check_loads_or_explains(archive)
