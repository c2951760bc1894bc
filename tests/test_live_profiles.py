"""Every device profile streamed through unmodified bleak, a fake BlueZ and BleSource.

The fake sensors encode known samples in each vendor's packet format (encoders in
tests/fakebluez/devices.py, written from the layouts in ble-protocols.md); what comes
out of the live source must be those samples, within the format's quantisation, with
the configuration the profile asks for written to the device.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from imu.ble import openimu_codec as codec
from imu.ble.connection import Backoff, BleConnection
from imu.ble.profiles import PROFILES
from imu.ble.profiles import openimu as openimu_profile
from imu.ble.source import BleSource
from tests.fakebluez import DeviceSpec, FakeBluez
from tests.fakebluez import devices as fd
from tests.fakebluez.fake import stop_when_done

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

ADDRESS = "D0:00:00:00:00:01"


def openimu_packets(samples: np.ndarray, rate_hz: float, per_packet: int = 8) -> list[bytes]:
    acc_code, gyr_code = openimu_profile.ACC_RANGE_CODE, openimu_profile.GYR_RANGE_CODE
    counts = codec.counts_from_si(samples[:, 1:4], samples[:, 4:7], acc_code, gyr_code)
    return [
        codec.encode_packet(
            counts[i : i + per_packet],
            sequence=i % 65536,
            device_time_us=round(samples[i, 0] * 1e6) % (1 << 32),
            acc_range_code=acc_code,
            gyr_range_code=gyr_code,
            sampling_rate_hz=rate_hz,
        )
        for i in range(0, len(samples), per_packet)
    ]


def openimu_quantise(samples: np.ndarray) -> np.ndarray:
    acc_code, gyr_code = openimu_profile.ACC_RANGE_CODE, openimu_profile.GYR_RANGE_CODE
    counts = codec.counts_from_si(samples[:, 1:4], samples[:, 4:7], acc_code, gyr_code)
    out = np.full_like(samples, np.nan)
    out[:, 1:4] = counts[:, :3] * codec.acc_count_g(acc_code) * fd.STANDARD_GRAVITY
    out[:, 4:7] = counts[:, 3:] * codec.gyr_count_deg_s(gyr_code)
    return out


@dataclass
class Case:
    profile: str
    name: str
    rate_hz: float
    spec: Callable[[str, str], DeviceSpec]
    data_uuid: str
    packets: Callable[[np.ndarray], list[bytes]]
    quantise: Callable[[np.ndarray], np.ndarray]
    samples_per_packet: int
    speedup: float  # devices with a clock may stream faster than real time


CASES = [
    Case("witmotion", "WT901BLE67", 200.0, fd.witmotion_spec, fd.WIT_NOTIFY,
         lambda s: fd.packets_of(fd.witmotion_stream(s), 60), fd.witmotion_quantise, 3, 1.0),
    Case("thingy52", "Thingy", 100.0, fd.thingy_spec, fd.THINGY_RAW,
         fd.thingy_packets, fd.thingy_quantise, 1, 1.0),
    Case("movesense", "Movesense 223430000123", 208.0, fd.movesense_spec, fd.MOVESENSE_DATA,
         lambda s: fd.movesense_packets(s, 8), lambda s: s.astype(np.float32), 8, 3.0),
    Case("polar-verity", "Polar Sense B5A3C925", 208.0, fd.polar_spec, fd.POLAR_DATA,
         lambda s: fd.polar_packets(s, True), lambda s: fd.polar_quantise(s, True), 6, 3.0),
    Case("polar-h10", "Polar H10 8A1B2C3D", 200.0, fd.polar_spec, fd.POLAR_DATA,
         lambda s: fd.polar_packets(s, False), lambda s: fd.polar_quantise(s, False), 12, 3.0),
    Case("openimu", "OpenIMU-7F21", 208.0, fd.openimu_spec, codec.DATA_UUID,
         lambda s: openimu_packets(s, 208.0), openimu_quantise, 8, 3.0),
]  # fmt: skip


def moving_samples(n: int, rate_hz: float, seed: int) -> np.ndarray:
    """Synthetic: a sensor swinging forward and back (1 Hz), with noise; device clock from 50 s."""
    rng = np.random.default_rng(seed)
    t = 50.0 + np.arange(n) / rate_hz
    angle = np.radians(40) * np.sin(2 * np.pi * t)
    out = np.zeros((n, 7))
    out[:, 0] = t
    out[:, 1] = -9.81 * np.sin(angle) + rng.normal(0, 0.2, n)
    out[:, 2] = rng.normal(0, 0.2, n)
    out[:, 3] = 9.81 * np.cos(angle) + rng.normal(0, 0.2, n)
    out[:, 5] = np.degrees(np.radians(40) * 2 * np.pi * np.cos(2 * np.pi * t))
    out[:, 4] = rng.normal(0, 1, n)
    out[:, 6] = rng.normal(0, 1, n)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.profile for c in CASES])
def test_profile_streams_through_bleak_and_the_fake(monkeypatch, case: Case):
    profile = PROFILES[case.profile]
    truth = moving_samples(int(1.5 * case.rate_hz), case.rate_hz, seed=len(case.profile))
    packets = case.packets(truth)
    interval_s = case.samples_per_packet / case.rate_hz / case.speedup
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        fake.add_device(case.spec(ADDRESS, case.name))
        stream = fake.stream(ADDRESS, case.data_uuid, packets, interval_s)
        connection = BleConnection(ADDRESS, profile, case.rate_hz, backoff=Backoff(0.05))
        source = BleSource(connection, name=case.name)

        async def main() -> list[np.ndarray]:
            stopper = asyncio.create_task(stop_when_done(stream, source))
            got = [batch.samples async for batch in source.batches()]
            await stopper
            return got

        got = np.vstack(asyncio.run(main()))
        writes = fake.writes(ADDRESS)
    assert all(stream.result())
    # the profile's configuration and start commands reached the device, in order (the
    # start commands chosen from the settings the fake offers, as the makers document them)
    prepare = profile.prepare(case.rate_hz)
    replies = [fd.polar_reply(case.name, w.data) for w in prepare]
    commands = [*profile.configure(case.rate_hz), *prepare, *profile.start(case.rate_hz, replies)]
    assert writes[: len(commands)] == [(w.char_uuid, w.data) for w in commands]
    assert writes[len(commands) :] == [(w.char_uuid, w.data) for w in profile.stop()]
    expected = case.quantise(truth)
    assert len(got) == len(truth)
    np.testing.assert_allclose(got[:, 1:4], expected[:, 1:4], rtol=1e-6, atol=1e-5)
    if profile.has_gyro:
        np.testing.assert_allclose(got[:, 4:7], expected[:, 4:7], rtol=1e-6, atol=1e-5)
    else:
        assert np.isnan(got[:, 4:7]).all()
    steps = np.diff(got[:, 0])
    assert np.all(steps > 0)
    nominal = 1 / case.rate_hz / case.speedup if not profile.device_clock else 1 / case.rate_hz
    assert abs(np.median(steps) - nominal) < 0.05 * nominal


def test_polar_h10_start_command_matches_the_sdk_example():
    """H10 ACC 200 Hz, 16 bit, 8 g: ``02 02 00 01 C8 00 01 01 10 00 02 01 08 00`` (polar-ble-sdk)."""
    (write,) = PROFILES["polar-h10"].start(200.0)
    assert write.data == bytes.fromhex("0202 0001c800 01011000 02010800")
    assert write.char_uuid == fd.POLAR_CONTROL


def test_delta_encoder_round_trips_through_the_polar_decoder():
    from imu.ble.profiles.polar import decode_delta_frame

    values = np.array([[0, 0, 0], [5, -3, 1], [-200, 7, 4], [-201, 8, 4], [30000, -30000, 0]])
    np.testing.assert_array_equal(decode_delta_frame(fd.delta_payload(values), 16), values)


def test_lost_packets_are_gap_marks_not_invented_samples(monkeypatch):
    """OpenIMU counts lost samples from sequence numbers: 3 of 40 packets never arrive."""
    truth = moving_samples(320, 208.0, seed=9)
    packets = openimu_packets(truth, 208.0)
    lost = {7, 8, 20}  # packets the radio drops
    sent = [p for i, p in enumerate(packets) if i not in lost]
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        fake.add_device(fd.openimu_spec(ADDRESS))
        stream = fake.stream(ADDRESS, codec.DATA_UUID, sent, interval_s=8 / 208 / 3)
        source = BleSource(BleConnection(ADDRESS, PROFILES["openimu"], 208.0), name="OpenIMU")

        async def main():
            stopper = asyncio.create_task(stop_when_done(stream, source))
            batches = [b async for b in source.batches()]
            await stopper
            return batches

        batches = [b for b in asyncio.run(main()) if len(b.samples)]
    got = np.vstack([b.samples for b in batches])
    kept = np.ones(len(truth), dtype=bool)
    for i in lost:
        kept[8 * i : 8 * i + 8] = False
    np.testing.assert_allclose(got[:, 1:], openimu_quantise(truth)[kept][:, 1:], atol=1e-5)
    starts = np.cumsum([0] + [len(b.samples) for b in batches[:-1]])
    marked = sorted(int(s) for s, b in zip(starts, batches) if b.gap_before)
    assert marked == [8 * 7, 8 * 18]  # first sample after each run of lost packets
    assert source.status()["lost_samples"] == 24
    gap = np.diff(got[:, 0])[8 * 7 - 1]
    # 16 samples missing: 17 intervals (within the 2 % the host-clock map may slew)
    assert abs(gap - 17 / 208) < 0.03 * 17 / 208
