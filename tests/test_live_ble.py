"""Integration tests of the BLE connection layer through unmodified bleak and a fake BlueZ.

Runs a private dbus-daemon and the fake ``org.bluez`` of tests/fakebluez; bleak talks to
it over a real D-Bus socket exactly as it talks to BlueZ.
"""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from imu.ble import connection
from imu.ble.connection import Backoff, BleConnection, LinkEvent, Packet
from imu.ble.profiles import PROFILES
from imu.ble.scan import FoundDevice, find, scan, select_device
from imu.ble.source import Batch, BleSource
from imu.errors import DeviceError
from tests.fakebluez import DeviceSpec, FakeBluez
from tests.fakebluez.devices import (
    WIT_NOTIFY,
    WIT_WRITE,
    chop,
    witmotion_quantise,
    witmotion_spec,
    witmotion_stream,
)
from tests.fakebluez.fake import stop_when_done

pytestmark = pytest.mark.dbus  # skipped where there is no dbus-daemon: tests/conftest.py

WIT = "C4:00:00:00:00:01"
FAST = Backoff(initial_s=0.05, factor=2.0, max_s=0.2)


@pytest.fixture
def fake(monkeypatch):
    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        yield fake


def samples(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 7))
    out[:, 1:4] = rng.normal(0, 3, (n, 3)) + [0, 0, 9.81]
    out[:, 4:7] = rng.normal(0, 50, (n, 3))
    return out


def test_scan_recognises_profiles_and_keeps_unknown_devices_apart(fake):
    fake.add_device(witmotion_spec(WIT, rssi=-50))
    fake.add_device(DeviceSpec("C4:00:00:00:00:99", "Kettle", {}, rssi=-40))
    found = asyncio.run(scan(timeout_s=0.4))
    by_address = {f.address: f for f in found}
    assert by_address[WIT].profile is PROFILES["witmotion"]
    assert by_address[WIT].name == "WT901BLE67"
    assert -53 <= by_address[WIT].rssi_dbm <= -47
    assert by_address["C4:00:00:00:00:99"].profile is None
    assert found[0].address == WIT  # recognised devices first, whatever their signal
    assert select_device(found, 0.4).address == WIT


def test_find_by_name_stops_at_first_match(fake):
    fake.add_device(witmotion_spec(WIT, name="WT901BLE67"))
    device = asyncio.run(find("wt901ble67", timeout_s=3.0))
    assert device is not None and device.address == WIT
    assert asyncio.run(find("C4:00:00:00:00:42", timeout_s=0.3)) is None


def test_select_device_without_prompt_lists_the_candidates():
    wit = PROFILES["witmotion"]
    found = [
        FoundDevice("C4:00:00:00:00:01", "WT901BLE67", -50, (), wit),
        FoundDevice("C4:00:00:00:00:02", "WT901BLE68", -60, (), wit),
    ]
    with pytest.raises(DeviceError, match="2 IMUs found.*C4:00:00:00:00:01.*C4:00:00:00:00:02"):
        select_device(found, 1.0)
    assert select_device(found, 1.0, ask=lambda c: c[1]).address == "C4:00:00:00:00:02"
    with pytest.raises(DeviceError, match="no supported IMU"):
        select_device([FoundDevice("C4:00:00:00:00:03", "Kettle", -40, (), None)], 1.0)


async def _collect(conn: BleConnection, until, timeout_s: float = 10.0) -> list:
    """Run the connection, collecting queue items until ``until(items)`` is true."""
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.create_task(conn.run(queue))
    items: list = []

    async def gather() -> None:
        while not until(items):
            try:
                items.append(await asyncio.wait_for(queue.get(), 0.05))
            except asyncio.TimeoutError:
                pass

    try:
        await asyncio.wait_for(gather(), timeout_s)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return items


def _payloads(items) -> list[bytes]:
    return [i.data for i in items if isinstance(i, Packet)]


def test_connect_configures_subscribes_and_streams_split_and_merged_packets(fake):
    fake.add_device(witmotion_spec(WIT))
    truth = samples(300)
    # 20-byte packets cut into 7..45-byte notifications: splits and merges
    notifications = chop(witmotion_stream(truth), itertools.cycle([7, 13, 45, 20, 33, 2]))
    stream = fake.stream(WIT, WIT_NOTIFY, notifications, interval_s=0.001)
    profile = PROFILES["witmotion"]
    conn = BleConnection(WIT, profile, 100.0, backoff=FAST)
    items = asyncio.run(_collect(conn, lambda it: len(_payloads(it)) == len(notifications)))
    assert all(stream.result(timeout=5))
    assert isinstance(items[0], LinkEvent) and items[0].kind == "connected"
    # the configuration, byte for byte: unlock, rate register 0x03 = 0x09 (100 Hz), save
    assert fake.writes(WIT) == [
        (WIT_WRITE, bytes.fromhex("ffaa6988b5")),
        (WIT_WRITE, bytes.fromhex("ffaa030900")),
        (WIT_WRITE, bytes.fromhex("ffaa000000")),
    ]
    assert _payloads(items) == notifications
    times = [i.host_time_s for i in items if isinstance(i, Packet)]
    assert np.all(np.diff(times) >= 0)
    decoder = profile.new_decoder(100.0)
    decoded = np.vstack([f.samples for p in _payloads(items) for f in decoder.feed(p, WIT_NOTIFY)])
    np.testing.assert_allclose(decoded[:, 1:], witmotion_quantise(truth)[:, 1:], atol=1e-9)


def test_link_loss_reconnects_with_backoff_and_loses_nothing_received(fake):
    fake.add_device(witmotion_spec(WIT))
    truth = samples(400, seed=1)
    notifications = chop(witmotion_stream(truth), itertools.repeat(40))  # 2 samples each
    dropped_at = 100

    def on_packet(i: int) -> None:
        if i == dropped_at:
            device = fake.device(WIT)
            device.refuse_next_connects = 2  # the first two reconnection attempts fail
            device.drop_link()

    stream = fake.stream(WIT, WIT_NOTIFY, notifications, interval_s=0.004, on_packet=on_packet)
    conn = BleConnection(WIT, PROFILES["witmotion"], 100.0, backoff=FAST)

    def done(items) -> bool:  # sent, and every delivered notification has arrived
        return stream.done() and len(_payloads(items)) >= sum(stream.result())

    items = asyncio.run(_collect(conn, done, timeout_s=15))
    delivered = stream.result()
    kinds = [i.kind for i in items if isinstance(i, LinkEvent)]
    assert kinds[:5] == ["connected", "disconnected", "retry", "retry", "connected"]
    retries = [i.detail for i in items if isinstance(i, LinkEvent) and i.kind == "retry"]
    assert [r["delay_s"] for r in retries] == [0.05, 0.1]
    # every notification the fake delivered arrived, in order; the outage lost some
    sent = [p for p, ok in zip(notifications, delivered) if ok]
    assert not all(delivered[dropped_at : dropped_at + 5])
    assert delivered[-1]
    assert _payloads(items) == sent
    assert fake.connect_calls(WIT) == 4  # first connect, two refusals, the reconnect
    # the reconnection configured the sensor again
    assert len(fake.writes(WIT)) == 6


def test_first_connection_gives_up_with_a_clear_error(fake):
    fake.add_device(witmotion_spec(WIT))
    fake.refuse_connects(WIT, 10)
    conn = BleConnection(WIT, PROFILES["witmotion"], 100.0, backoff=FAST, first_attempts=3)

    async def main():
        await conn.run(asyncio.Queue())

    with pytest.raises(DeviceError, match=f"could not connect to {WIT} after 3 attempts"):
        asyncio.run(main())


def test_device_not_advertising_is_a_clear_error(fake):
    conn = BleConnection(
        "C4:00:00:00:00:42",
        PROFILES["witmotion"],
        100.0,
        connect_timeout_s=0.3,
        backoff=FAST,
        first_attempts=2,
    )
    with pytest.raises(DeviceError, match="could not connect to C4:00:00:00:00:42 after 2"):
        asyncio.run(conn.run(asyncio.Queue()))


def test_ble_source_decodes_stamps_marks_the_reconnection_gap_and_stops_cleanly(fake, monkeypatch):
    fake.add_device(witmotion_spec(WIT))
    truth = samples(300, seed=2)
    notifications = chop(witmotion_stream(truth), itertools.repeat(40))  # 2 samples, 50/s
    dropped_at = 60
    # Each notification arrives at the time the sensor sent it (a fixed latency), not when
    # this busy process got round to it: a notification held up beyond the timestamper's
    # stall_s would be taken, rightly, for lost samples (imu.ble.timing), and the gap
    # marks would depend on the scheduler. The D-Bus path, decoding, batching and the
    # link events stay real.
    sent_at = {payload: 1.7e9 + 0.02 * i + 0.03 for i, payload in enumerate(notifications)}
    assert len(sent_at) == len(notifications)  # random samples: every payload differs

    def packet_at_send_time(host_time_s: float, char_uuid: str, data: bytes) -> Packet:
        return Packet(sent_at.get(data, host_time_s), char_uuid, data)

    monkeypatch.setattr(connection, "Packet", packet_at_send_time)

    def on_packet(i: int) -> None:
        if i == dropped_at:
            fake.device(WIT).refuse_next_connects = 1
            fake.device(WIT).drop_link()

    stream = fake.stream(WIT, WIT_NOTIFY, notifications, interval_s=0.02, on_packet=on_packet)
    source = BleSource(BleConnection(WIT, PROFILES["witmotion"], 100.0, backoff=FAST), name="WT1")

    async def main() -> list[Batch]:
        stopper = asyncio.create_task(stop_when_done(stream, source))
        batches = [batch async for batch in source.batches()]
        await stopper
        return batches

    batches = asyncio.run(main())
    delivered = np.repeat(stream.result(), 2)  # per sample
    events = [e for b in batches for e in b.events]
    assert [(e["type"], e.get("reconnect")) for e in events] == [
        ("connected", False),
        ("disconnected", None),
        ("connected", True),
    ]
    got = np.vstack([b.samples for b in batches if len(b.samples)])
    np.testing.assert_allclose(got[:, 1:], witmotion_quantise(truth)[delivered][:, 1:], atol=1e-9)
    # one gap mark: on the first sample after the reconnection
    marks = np.concatenate(
        [[b.gap_before] + [False] * (len(b.samples) - 1) for b in batches if len(b.samples)]
    )
    assert np.flatnonzero(marks).tolist() == [2 * dropped_at]
    assert np.all(np.diff(got[:, 0]) > 0)
    before = np.diff(got[: 2 * dropped_at, 0])
    assert abs(np.median(before) - 0.01) < 0.0005  # spread at the nominal 100 Hz
    assert got[2 * dropped_at, 0] - got[2 * dropped_at - 1, 0] > 0.05  # the outage is visible
    status = source.status()
    assert status["disconnects"] == 1 and status["state"] == "streaming"
