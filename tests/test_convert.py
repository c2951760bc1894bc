"""`imu convert` end to end: exit codes, messages, the written session."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np

from imu.cli import main
from imu.importers import load
from imu.session import read_session

FIXTURES = Path(__file__).parent / "fixtures" / "importers"


def test_convert_metabase_folder_writes_a_canonical_session(tmp_path, capsys):
    out = tmp_path / "session.csv"
    assert main(["convert", str(FIXTURES / "metabase"), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith(f"wrote {out}: 7 samples, 0.24 s at 25 Hz from metabase")
    written = read_session(out)
    direct = load(FIXTURES / "metabase")
    np.testing.assert_allclose(written.samples(), direct.samples(), rtol=1e-6, atol=1e-6)
    assert written.metadata == direct.metadata
    assert written.metadata["merged_by_interpolation"].startswith("acc_* linearly interpolated")


def test_convert_refuses_to_overwrite_then_forces(tmp_path, capsys):
    out = tmp_path / "session.csv"
    out.write_text("keep me")
    args = ["convert", str(FIXTURES / "polar"), "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == f"imu convert: error: {out}: exists already (use --force to overwrite)\n"
    assert out.read_text() == "keep me"
    assert main([*args, "--force"]) == 0
    assert len(read_session(out).data) == 4


def test_convert_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "Accelerometer.csv"
    bad.write_text(
        '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)",'
        '"Acceleration z (m/s^2)"\n0.0,0.1,9.8,0.2\n0.01,0.1,x,0.2\n'
    )
    out = tmp_path / "out.csv"
    assert main(["convert", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"imu convert: error: {bad}:3: column 'Acceleration y (m/s^2)': not a number: 'x' "
        "(fix or delete the line)\n"
    )
    assert not out.exists()


def test_convert_prints_warnings_and_unit_options(tmp_path, capsys):
    out = tmp_path / "h10.csv"
    assert main(["convert", str(FIXTURES / "polar_h10"), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "imu convert: warning: " in captured.err and "no gyroscope data" in captured.err
    assert captured.out.rstrip().endswith("(no gyroscope)")
    # a g-valued WitMotion file declared m/s^2 by the user is refused with a hint
    wit = FIXTURES / "witmotion" / "gen1_seconds.txt"
    assert main(["convert", str(wit), "-o", str(tmp_path / "w.csv"), "--acc-unit", "m/s2"]) == 2
    assert "(pass --acc-unit g)" in capsys.readouterr().err


def test_convert_as_a_real_process_with_format_override(tmp_path):
    out = tmp_path / "wit.csv"
    wit = FIXTURES / "witmotion" / "gen3_long_names.txt"
    done = subprocess.run(
        [sys.executable, "-m", "imu", "convert", str(wit), "-o", str(out), "--format", "witmotion"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert read_session(out).metadata["source_format"] == "witmotion"
    failed = subprocess.run(
        [
            sys.executable,
            "-m",
            "imu",
            "convert",
            str(wit),
            "-o",
            str(tmp_path / "p.csv"),
            "--format",
            "polar",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 2
    assert failed.stderr.startswith("imu convert: error: ") and "no Polar ACC file" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_convert_session_to_gzip_and_back(tmp_path, capsys):
    source = FIXTURES / "session" / "session.csv"
    packed = tmp_path / "s.csv.gz"
    assert main(["convert", str(source), "-o", str(packed)]) == 0
    assert capsys.readouterr().out.startswith(
        f"wrote {packed}: 20 samples, 0.38 s at 50 Hz from a session CSV"
    )
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    plain = tmp_path / "s.csv"
    assert main(["convert", str(packed), "-o", str(plain)]) == 0
    assert plain.read_bytes() == gzip.decompress(packed.read_bytes())
    np.testing.assert_array_equal(read_session(plain).samples(), read_session(source).samples())
