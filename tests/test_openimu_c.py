"""The firmware's C packet encoder against the Python codec, on the shared vectors.

Builds ``firmware_notes/openimu/openimu_packet.c`` with the host C compiler (strict C99
warnings as errors) into a shared library, calls it through ctypes, and checks both
directions: C bytes decode in Python to the vector's values; Python bytes equal C bytes;
the C decoder parses Python bytes and rejects what Python rejects. The C self-test
(``test_openimu_packet.c``) also runs under AddressSanitizer/UndefinedBehaviorSanitizer.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.ble import openimu_codec as oc

ROOT = Path(__file__).resolve().parents[1]
C_DIR = ROOT / "firmware_notes" / "openimu"
VECTORS = json.loads((ROOT / "tests" / "vectors" / "openimu_vectors.json").read_text())
CC = shutil.which("gcc") or shutil.which("cc")
STRICT = [
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wconversion",
    "-Wsign-conversion",
    "-Wshadow",
    "-Werror",
]

pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler (gcc/cc) on PATH")


class Sample(ctypes.Structure):
    _fields_ = [("acc", ctypes.c_int16 * 3), ("gyr", ctypes.c_int16 * 3)]


class Header(ctypes.Structure):
    _fields_ = [
        ("count", ctypes.c_uint8),
        ("sequence", ctypes.c_uint16),
        ("device_time_us", ctypes.c_uint32),
        ("acc_range_code", ctypes.c_uint8),
        ("gyr_range_code", ctypes.c_uint8),
        ("flags", ctypes.c_uint8),
        ("rate_dhz", ctypes.c_uint16),
    ]


class Config(ctypes.Structure):
    _fields_ = [
        ("command", ctypes.c_uint8),
        ("rate_dhz", ctypes.c_uint16),
        ("acc_range_code", ctypes.c_uint8),
        ("gyr_range_code", ctypes.c_uint8),
        ("max_latency_ms", ctypes.c_uint8),
    ]


def _compile(args: list[str]) -> None:
    done = subprocess.run([CC, *STRICT, *args], check=False, capture_output=True, text=True)
    assert done.returncode == 0, f"C compile failed:\n{done.stderr}"


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    path = tmp_path_factory.mktemp("openimu") / "libopenimu.so"
    _compile(["-O2", "-shared", "-fPIC", str(C_DIR / "openimu_packet.c"), "-o", str(path)])
    library = ctypes.CDLL(str(path))
    library.openimu_max_samples.restype = ctypes.c_size_t
    library.openimu_max_samples.argtypes = [ctypes.c_uint16]
    library.openimu_encode_packet.argtypes = [
        ctypes.POINTER(Header),
        ctypes.POINTER(Sample),
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    library.openimu_decode_packet.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(Header),
        ctypes.POINTER(Sample),
        ctypes.c_size_t,
    ]
    library.openimu_encode_config.argtypes = [
        ctypes.POINTER(Config),
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    library.openimu_decode_config.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(Config),
    ]
    for name in ("openimu_acc_counts", "openimu_gyr_counts"):
        getattr(library, name).restype = ctypes.c_int16
        getattr(library, name).argtypes = [ctypes.c_float, ctypes.c_uint8]
    return library


def c_encode(lib: ctypes.CDLL, fields: dict) -> bytes:
    raw = fields["raw"]
    samples = (Sample * len(raw))()
    for sample, row in zip(samples, raw):
        sample.acc[:] = row[:3]
        sample.gyr[:] = row[3:]
    header = Header(
        count=len(raw),
        sequence=fields["sequence"],
        device_time_us=fields["device_time_us"],
        acc_range_code=fields["acc_range_code"],
        gyr_range_code=fields["gyr_range_code"],
        flags=oc.FLAG_DEVICE_OVERRUN if fields["device_overrun"] else 0,
        rate_dhz=round(fields["sampling_rate_hz"] * 10),
    )
    out = ctypes.create_string_buffer(oc.MAX_ATTRIBUTE_SIZE)
    n = lib.openimu_encode_packet(ctypes.byref(header), samples, out, len(out))
    assert n > 0, f"C encoder refused a valid packet (status {n})"
    return out.raw[:n]


def c_decode(lib: ctypes.CDLL, data: bytes) -> tuple[int, Header, np.ndarray]:
    header = Header()
    samples = (Sample * oc.MAX_SAMPLES)()
    status = lib.openimu_decode_packet(
        data, len(data), ctypes.byref(header), samples, oc.MAX_SAMPLES
    )
    raw = np.array([[*s.acc, *s.gyr] for s in samples[: max(status, 0)]], dtype=np.int16)
    return status, header, raw.reshape(-1, 6)


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=[v["name"] for v in VECTORS["packets"]])
def test_c_encoder_bytes_equal_vector_and_decode_in_python(lib: ctypes.CDLL, vector: dict) -> None:
    fields = vector["fields"]
    data = c_encode(lib, fields)
    assert data == bytes.fromhex(vector["hex"])
    packet = oc.decode_packet(data)
    np.testing.assert_array_equal(packet.raw, fields["raw"])
    assert (packet.sequence, packet.device_time_us) == (
        fields["sequence"],
        fields["device_time_us"],
    )


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=[v["name"] for v in VECTORS["packets"]])
def test_c_decoder_parses_python_bytes(lib: ctypes.CDLL, vector: dict) -> None:
    fields = vector["fields"]
    data = oc.encode_packet(
        np.array(fields["raw"]), **{k: v for k, v in fields.items() if k != "raw"}
    )
    status, header, raw = c_decode(lib, data)
    assert status == len(fields["raw"])
    np.testing.assert_array_equal(raw, fields["raw"])
    assert header.sequence == fields["sequence"]
    assert header.device_time_us == fields["device_time_us"]
    assert (header.acc_range_code, header.gyr_range_code) == (
        fields["acc_range_code"],
        fields["gyr_range_code"],
    )
    assert header.rate_dhz / 10 == fields["sampling_rate_hz"]
    assert bool(header.flags & oc.FLAG_DEVICE_OVERRUN) == fields["device_overrun"]


@pytest.mark.parametrize(
    "vector", VECTORS["invalid_packets"], ids=[v["name"] for v in VECTORS["invalid_packets"]]
)
def test_c_decoder_rejects_invalid_packets(lib: ctypes.CDLL, vector: dict) -> None:
    status, _, _ = c_decode(lib, bytes.fromhex(vector["hex"]))
    assert status < 0


def test_c_decoder_reports_small_output_buffer(lib: ctypes.CDLL) -> None:
    data = bytes.fromhex(VECTORS["packets"][0]["hex"])  # two samples
    header, samples = Header(), (Sample * 1)()
    assert lib.openimu_decode_packet(data, len(data), ctypes.byref(header), samples, 1) == -1


def test_c_encoder_reports_small_output_buffer(lib: ctypes.CDLL) -> None:
    header = Header(count=2, acc_range_code=0, gyr_range_code=0, rate_dhz=1000)
    samples = (Sample * 2)()
    out = ctypes.create_string_buffer(35)
    assert lib.openimu_encode_packet(ctypes.byref(header), samples, out, 35) == -1
    assert lib.openimu_encode_packet(ctypes.byref(header), samples, out, 36) == 36


@pytest.mark.parametrize("vector", VECTORS["configs"], ids=[v["name"] for v in VECTORS["configs"]])
def test_c_config_round_trip(lib: ctypes.CDLL, vector: dict) -> None:
    fields = vector["fields"]
    config = Config(
        command=oc.COMMAND_START if fields["start"] else oc.COMMAND_STOP,
        rate_dhz=round(fields["sampling_rate_hz"] * 10),
        acc_range_code=fields["acc_range_code"],
        gyr_range_code=fields["gyr_range_code"],
        max_latency_ms=fields["max_latency_ms"],
    )
    out = ctypes.create_string_buffer(oc.CONFIG_SIZE)
    assert lib.openimu_encode_config(ctypes.byref(config), out, len(out)) == oc.CONFIG_SIZE
    assert out.raw == bytes.fromhex(vector["hex"])
    parsed = Config()
    assert lib.openimu_decode_config(out.raw, len(out.raw), ctypes.byref(parsed)) == 0
    assert bytes(parsed) == bytes(config)


@pytest.mark.parametrize(
    "vector", VECTORS["invalid_configs"], ids=[v["name"] for v in VECTORS["invalid_configs"]]
)
def test_c_rejects_invalid_configs(lib: ctypes.CDLL, vector: dict) -> None:
    data = bytes.fromhex(vector["hex"])
    assert lib.openimu_decode_config(data, len(data), ctypes.byref(Config())) < 0


@pytest.mark.parametrize("row", VECTORS["conversions"], ids=lambda r: r["note"])
def test_c_counts_conversion(lib: ctypes.CDLL, row: dict) -> None:
    acc = [lib.openimu_acc_counts(v, row["acc_range_code"]) for v in row["acc_g"]]
    gyr = [lib.openimu_gyr_counts(v, row["gyr_range_code"]) for v in row["gyr_deg_s"]]
    assert acc + gyr == row["counts"]


@pytest.mark.parametrize(("mtu", "n"), VECTORS["mtu"])
def test_c_samples_per_notification(lib: ctypes.CDLL, mtu: int, n: int) -> None:
    assert lib.openimu_max_samples(mtu) == n


@st.composite
def near_valid_packets(draw: st.DrawFn) -> bytes:
    """A valid packet (any count, header and samples) with one byte overwritten."""
    n = draw(st.integers(1, oc.MAX_SAMPLES))
    header = bytes([1, n]) + draw(st.binary(min_size=6, max_size=6))
    ranges = draw(st.integers(0, 3)) | draw(st.integers(0, 4)) << 4
    tail = bytes([ranges, draw(st.integers(0, 1))]) + draw(st.integers(1, 65535)).to_bytes(
        2, "little"
    )
    data = bytearray(header + tail + draw(st.binary(min_size=12 * n, max_size=12 * n)))
    data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=520) | near_valid_packets())
def test_c_and_python_decoders_agree_on_arbitrary_bytes(lib: ctypes.CDLL, data: bytes) -> None:
    """Differential fuzzing: both accept exactly the same inputs, with the same values."""
    status, header, raw = c_decode(lib, data)
    try:
        packet = oc.decode_packet(data)
    except oc.OpenImuError:
        assert status < 0
        return
    assert status == packet.count
    np.testing.assert_array_equal(raw, packet.raw)
    assert (header.sequence, header.device_time_us, header.rate_dhz) == (
        packet.sequence,
        packet.device_time_us,
        round(packet.sampling_rate_hz * 10),
    )


def _run_self_test(tmp_path: Path, flags: list[str]) -> None:
    exe = tmp_path / "openimu_selftest"
    sources = [str(C_DIR / "test" / "test_openimu_packet.c"), str(C_DIR / "openimu_packet.c")]
    _compile([*flags, *sources, "-o", str(exe)])
    done = subprocess.run([str(exe)], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all OpenIMU C checks passed" in done.stdout


def test_c_self_test(tmp_path: Path) -> None:
    """The C-only self-test: the hand vector literally, and a pseudo-random decode fuzz."""
    _run_self_test(tmp_path, ["-O2"])


def test_c_self_test_under_sanitizers(tmp_path: Path) -> None:
    """The same self-test under AddressSanitizer and UndefinedBehaviorSanitizer."""
    sanitize = ["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    probe = subprocess.run(
        [CC, *sanitize, "-x", "c", "-", "-o", str(tmp_path / "probe")],
        input="int main(void){return 0;}",
        check=False,
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"{CC} cannot link with -fsanitize=address,undefined: {probe.stderr[:200]}")
    _run_self_test(tmp_path, sanitize)
