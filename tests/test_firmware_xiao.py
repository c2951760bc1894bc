"""The XIAO nRF52840 Sense reference firmware, run on the host.

``firmware_notes/xiao-nrf52840-sense/host/host_sim.cpp`` compiles the unmodified sketch
against host stand-ins of the Arduino/Bluefruit API, a simulated LSM6DS3TR-C (registers,
4 KB FIFO, output data rate off by a chosen ppm) and a simulated BLE stack that prints
every notification. Here the printed packets are decoded with ``imu``'s codec and
checked against the simulated sensor's ground truth: every sample present once and in
order, values converted to the right units, timestamps within a sample period of the
true sampling times, batching and latency as specified, dropped notifications counted
exactly by the sequence numbers, FIFO overflow flagged. What this cannot check: that the
real Bluefruit library and the real chip behave like the stand-ins.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_firmware_docs import throughput_table  # tests/ is on sys.path (no __init__.py)

from imu.ble import openimu_codec as oc

ROOT = Path(__file__).resolve().parents[1]
BOARD = ROOT / "firmware_notes" / "xiao-nrf52840-sense"
SKETCH = BOARD / "openimu_xiao" / "openimu_xiao.ino"
README = BOARD / "README.md"
C_DIR = ROOT / "firmware_notes" / "openimu"
CC = shutil.which("gcc") or shutil.which("cc")
CXX = shutil.which("g++") or shutil.which("c++")

ACC_CODE, GYR_CODE = 2, 3  # +-8 g, +-1000 deg/s as imu's openimu profile asks
ACC_MG_PER_CHIP_COUNT = 0.244  # LSM6DS3TR-C at +-8 g (datasheet table 3)
GYR_MDPS_PER_CHIP_COUNT = 35.0  # at +-1000 deg/s
CHIP_ACC = np.array([0, 100, 4096])  # the simulated sensor's constant accelerometer counts
CHIP_GYR_YZ = np.array([7, -7])  # and gyro y, z; gyro x is j % 20000 - 10000


def sketch_text() -> str:
    return SKETCH.read_text(encoding="utf-8")


def test_sketch_uuid_bytes_are_the_codec_uuids() -> None:
    """Bluefruit takes 128-bit UUIDs as little-endian byte arrays."""
    text = sketch_text()
    for name, value in [
        ("SERVICE", oc.SERVICE_UUID),
        ("DATA", oc.DATA_UUID),
        ("CONFIG", oc.CONFIG_UUID),
        ("INFO", oc.INFO_UUID),
    ]:
        match = re.search(rf"UUID_{name}\[16\]\s*=\s*\{{([^}}]*)\}}", text)
        assert match is not None, name
        array = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", match.group(1)))
        assert array == uuid.UUID(value).bytes[::-1], name


def test_sketch_sensor_description_parses() -> None:
    match = re.search(r"OPENIMU_INFO\[\]\s*=\s*((?:\s*\"[^\"]*\")+);", sketch_text())
    assert match is not None
    text = "".join(re.findall(r'"([^"]*)"', match.group(1)))  # C concatenates literals
    info = oc.decode_info(text.encode())
    assert info["profile"] == f"openimu/{oc.FORMAT_VERSION}"
    assert info["imu"] == "LSM6DS3TR-C"
    rates = re.findall(r"\{(\d+), 0x\d\}", sketch_text())
    assert [float(r) / 10 for r in rates] == [float(r) for r in info["rates_hz"].split(",")]


@dataclass
class Run:
    config: bytes
    info: str
    odr: list[tuple[float, float]]  # (start_ns, true period_ns) per sensor (re)configuration
    notifications: list[tuple[bool, int, oc.Packet]]  # (sent, time us, packet) in order
    stalls: int
    links: list[tuple[str, int]]  # ("DISCONNECT" | "CONNECT", time us)
    sent_bytes: list[bytes]  # the notifications that went through, as the central got them

    @property
    def sent(self) -> list[tuple[int, oc.Packet]]:
        return [(t, p) for ok, t, p in self.notifications if ok]

    @property
    def dropped(self) -> list[tuple[int, oc.Packet]]:
        return [(t, p) for ok, t, p in self.notifications if not ok]

    def samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per received sample: sequence (unwrapped), device time (us), gyro-x chip count."""
        seq, t_us, chip = [], [], []
        base = 0
        for i, (_, p) in enumerate(self.sent):
            if i and p.sequence < self.sent[i - 1][1].sequence:
                base += 1 << 16
            seq.extend(base + p.sequence + np.arange(p.count))
            t_us.extend(p.device_time_us + p.offsets_s * 1e6)
            chip.extend(np.rint(p.gyr_deg_s[:, 0] / (GYR_MDPS_PER_CHIP_COUNT / 1000)))
        return np.array(seq), np.array(t_us), np.array(chip, dtype=int)


@pytest.fixture(scope="module")
def host_sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CC is None or CXX is None:
        pytest.skip("no C/C++ compiler (gcc/g++) on PATH")
    out = tmp_path_factory.mktemp("firmware")
    obj = out / "openimu_packet.o"
    exe = out / "host_sim"
    for cmd in (
        [CC, "-std=c99", "-O2", "-c", str(C_DIR / "openimu_packet.c"), "-o", str(obj)],
        [CXX, "-std=c++11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{BOARD / 'host' / 'stubs'}",
         f"-I{C_DIR}", str(BOARD / "host" / "host_sim.cpp"), str(obj), "-o", str(exe)],
    ):  # fmt: skip
        done = subprocess.run(cmd, check=False, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return exe


def run(exe: Path, **args: object) -> Run:
    cmd = [str(exe), *(f"{k}={v}" for k, v in args.items())]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=60)
    result = Run(b"", "", [], [], 0, [], [])
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "CONFIG":
            result.config = bytes.fromhex(rest.split()[1])
        elif tag == "INFO":
            result.info = rest
        elif tag == "ODR":
            start_ns, period_ns = map(float, rest.split())
            result.odr.append((start_ns, period_ns))
        elif tag in ("N", "DROP"):
            t_us, hex_ = rest.split()
            data = bytes.fromhex(hex_)
            result.notifications.append((tag == "N", int(t_us), oc.decode_packet(data)))
            if tag == "N":
                result.sent_bytes.append(data)
        elif tag == "STALL":
            result.stalls += 1
        elif tag in ("DISCONNECT", "CONNECT"):
            result.links.append((tag, int(rest)))
        else:
            raise AssertionError(f"unexpected output line {line!r}")
    return result


def true_times_us(result: Run, chip_gyr_x: np.ndarray, first_index: int) -> np.ndarray:
    """Sampling time of each sample from the simulated sensor's own clock."""
    start_ns, period_ns = result.odr[-1]
    j = first_index + np.arange(len(chip_gyr_x))
    assert np.array_equal((j % 20000) - 10000, chip_gyr_x)
    return (start_ns + (j + 1) * period_ns) / 1000


def test_firmware_streams_every_sample_in_order_with_units_and_times(host_sim: Path) -> None:
    result = run(host_sim, rate_dhz=1040, acc=ACC_CODE, gyr=GYR_CODE, latency_ms=50, seconds=5)
    assert result.config == oc.encode_config(oc.Config(True, 104.0, ACC_CODE, GYR_CODE, 50))
    assert oc.decode_info(result.info.encode())["board"] == "xiao-nrf52840-sense"
    assert not result.dropped
    packets = [p for _, p in result.sent]
    assert packets[0].sequence == 0
    for prev, cur in itertools.pairwise(packets):
        assert oc.lost_samples(prev, cur) == 0
        assert not cur.device_overrun
        assert (cur.sampling_rate_hz, cur.acc_range_code, cur.gyr_range_code) == (104.0, 2, 3)

    seq, t_us, chip_x = result.samples()
    assert abs(len(seq) - 5 * 104) <= 8  # 5 s at 104 Hz, less start-up and the last batch
    assert np.array_equal(seq, np.arange(len(seq)))
    # the firmware converts chip counts (0.244 mg, 35 mdps) to wire counts: within 1/2 count
    # (plus 0.002 count for its float32 arithmetic)
    acc = np.concatenate([p.acc_m_s2 for p in packets])
    gyr = np.concatenate([p.gyr_deg_s for p in packets])
    acc_truth = CHIP_ACC * ACC_MG_PER_CHIP_COUNT * 1e-3 * oc.STANDARD_GRAVITY
    assert np.abs(acc - acc_truth).max() <= 0.502 * oc.acc_count_g(ACC_CODE) * oc.STANDARD_GRAVITY
    gyr_truth = np.column_stack([chip_x, np.tile(CHIP_GYR_YZ, (len(chip_x), 1))]) * (
        GYR_MDPS_PER_CHIP_COUNT * 1e-3
    )
    assert np.abs(gyr - gyr_truth).max() <= 0.502 * oc.gyr_count_deg_s(GYR_CODE)

    period_us = 1e6 / 104
    truth = true_times_us(result, chip_x, first_index=int(chip_x[0]) + 10000)
    assert np.abs(t_us - truth).max() <= period_us
    # latency: a sample waits at most max_latency_ms (+ one poll and one period) on the device
    for sent_us, p in result.sent:
        assert p.count <= 19
        assert sent_us - p.device_time_us <= 50_000 + 2_000 + period_us


@pytest.mark.parametrize(("mtu", "expected_full"), [(247, 19), (185, 14), (27, 1)])
def test_firmware_fills_packets_to_the_mtu_at_416_hz(
    host_sim: Path, mtu: int, expected_full: int
) -> None:
    result = run(host_sim, rate_dhz=4160, acc=ACC_CODE, gyr=GYR_CODE, mtu=mtu, seconds=2)
    counts = [p.count for _, p in result.sent]
    assert max(counts) == expected_full
    assert np.median(counts) == expected_full  # latency never triggers before a packet fills
    assert all(len(oc.encode_packet(p.raw, **_fields(p))) <= mtu - 3 for _, p in result.sent)


def _fields(p: oc.Packet) -> dict:
    return {
        "sequence": p.sequence,
        "device_time_us": p.device_time_us,
        "acc_range_code": p.acc_range_code,
        "gyr_range_code": p.gyr_range_code,
        "sampling_rate_hz": p.sampling_rate_hz,
        "device_overrun": p.device_overrun,
    }


def test_true_sensor_rate_is_recovered_from_device_time_and_sequence(host_sim: Path) -> None:
    """The IMU's oscillator runs 1.5 % fast: a fit of device time on sequence finds it."""
    result = run(
        host_sim, rate_dhz=4160, acc=ACC_CODE, gyr=GYR_CODE, odr_error_ppm=15000, seconds=4
    )
    seq, t_us, chip_x = result.samples()
    slope_us = np.polyfit(seq, t_us, 1)[0]
    assert 1e6 / slope_us == pytest.approx(416 * 1.015, rel=1e-3)
    truth = true_times_us(result, chip_x, first_index=int(chip_x[0]) + 10000)
    assert np.abs(t_us - truth).max() <= 1.5 * 1e6 / 416


def test_refused_notifications_are_counted_by_the_sequence(host_sim: Path) -> None:
    result = run(host_sim, rate_dhz=2080, acc=ACC_CODE, gyr=GYR_CODE, fail_every=7, seconds=3)
    assert len(result.dropped) >= 5
    lost_since_last_sent = 0
    previous = None
    for ok, _, packet in result.notifications:
        if not ok:
            lost_since_last_sent += packet.count
            continue
        if previous is not None:
            assert oc.lost_samples(previous, packet) == lost_since_last_sent
        lost_since_last_sent = 0
        previous = packet
    assert result.notifications[0][0], "the first notification went through"


def test_fifo_overflow_during_a_stall_is_flagged(host_sim: Path) -> None:
    """notify() blocks 1.5 s at 416 Hz: the 0.8 s FIFO overflows; the next packet says so."""
    result = run(
        host_sim, rate_dhz=4160, acc=ACC_CODE, gyr=GYR_CODE, stall_at_s=1, stall_s=1.5, seconds=3
    )
    assert result.stalls == 1 and len(result.dropped) == 1
    stall = next(i for i, (ok, _, _) in enumerate(result.notifications) if not ok)
    before = [p for _, _, p in result.notifications[:stall]]
    after = [p for _, _, p in result.notifications[stall + 1 :]]
    assert before and after
    assert not any(p.device_overrun for p in before)
    assert after[0].device_overrun
    assert not any(p.device_overrun for p in after[1:])
    # the refused packet's samples are counted; the overwritten ones only flagged
    assert oc.lost_samples(before[-1], after[0]) == result.dropped[0][1].count
    _, _, chip_x = result.samples()
    jumps = np.diff((chip_x + 10000) % 20000)
    (gap,) = np.flatnonzero(jumps != 1)  # one span missing: the refused packet, then the
    missing = jumps[gap] - 1  # samples the full FIFO overwrote while notify() blocked
    assert missing > result.dropped[0][1].count + 0.5 * 416  # most of the 1.5 s stall


def test_configuration_in_effect_is_written_back(host_sim: Path) -> None:
    asked = run(host_sim, rate_dhz=1000, acc=ACC_CODE, gyr=GYR_CODE, seconds=0.5)
    assert oc.decode_config(asked.config).sampling_rate_hz == 104.0  # nearest supported
    assert {p.sampling_rate_hz for _, p in asked.sent} == {104.0}


def test_invalid_configuration_write_is_ignored_and_readback_matches_readme(
    host_sim: Path,
) -> None:
    result = run(host_sim, config="0101100447", seconds=0.5)  # 5 bytes: not a configuration
    assert not result.sent
    readme = re.search(r"configuration characteristic reads\s+`([0-9a-f ]+)`", README.read_text())
    assert readme is not None
    assert result.config == bytes.fromhex(readme.group(1))
    assert oc.decode_config(result.config) == oc.Config(False, 104.0, 2, 4, 50)


def test_disconnect_stops_streaming_and_a_new_start_restarts_the_sequence(host_sim: Path) -> None:
    result = run(
        host_sim,
        rate_dhz=2080,
        acc=ACC_CODE,
        gyr=GYR_CODE,
        disconnect_at_s=1,
        reconnect_at_s=2,
        seconds=3,
    )
    (_, down_us), (_, up_us) = result.links
    during = [t for t, _ in result.sent if down_us <= t < up_us]
    assert not during
    assert result.odr[-2][1] == 0.0  # the IMU was powered down while disconnected
    after = [p for t, p in result.sent if t >= up_us]
    assert after[0].sequence == 0
    assert all(oc.lost_samples(a, b) == 0 for a, b in itertools.pairwise(after))


def test_firmware_batches_as_the_spec_throughput_table_says(host_sim: Path) -> None:
    """Samples per notification of the spec's table (50 ms latency), from the firmware."""
    for rate, cells in throughput_table():
        for mtu, (n, _) in cells.items():
            if mtu < 100:
                continue  # MTU 27 at 416 notifications/s: the table itself says not achievable
            result = run(host_sim, rate_dhz=rate * 10, latency_ms=50, mtu=mtu, seconds=2)
            counts = [p.count for _, p in result.sent]
            assert np.median(counts) == n, (rate, mtu, counts[:10])


def test_imu_openimu_profile_decodes_the_firmware_stream(host_sim: Path) -> None:
    """End to end: firmware notifications through imu's own OpenIMU profile decoder."""
    from imu.ble.profiles import PROFILES

    result = run(host_sim, rate_dhz=2080, acc=ACC_CODE, gyr=GYR_CODE, fail_every=9, seconds=3)
    decoder = PROFILES["openimu"].new_decoder(208.0)
    frames = [f for data in result.sent_bytes for f in decoder.feed(data)]
    assert sum(f.lost_before for f in frames) == sum(p.count for _, p in result.dropped) > 0
    t = np.concatenate([f.samples[:, 0] for f in frames])
    assert np.all(np.diff(t) > 0)
    samples = np.concatenate([f.samples for f in frames])
    np.testing.assert_allclose(
        samples[:, 3].mean(), 4096 * 0.244e-3 * oc.STANDARD_GRAVITY, rtol=1e-3
    )
