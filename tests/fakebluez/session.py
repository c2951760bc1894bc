"""A whole live session through unmodified bleak and the fake: BleSource -> Runner -> sinks.

What `imu live` runs after its scan (imu/commands/live.py), with a :class:`Collector`
sink beside the real ones. Time is driven by the fake, not by the scheduler:

- :func:`sensor_clock` makes each notification arrive at the time the sensor sent it on
  its own clock (a fixed link latency), however late this busy process handles it; the
  D-Bus path, decoding, batching, timestamping and link events stay real;
- :func:`lockstep` lets the fake send a notification only once the runner has handled
  every one delivered before it (or the source holds it: a late notification of a
  device without a clock waits for the next arrivals, imu/ble/timing.py), so the runner gets them one at a time, as a host that
  keeps up does, however slow this machine is at moments (batching would change when,
  in signal time, an event comes out, not what it says);
- the session stops when every sample the fake delivered has been through the runner
  (:func:`run_live`), not after a sleep.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from imu.ble import connection
from imu.ble.connection import Backoff, BleConnection, Packet
from imu.ble.source import BleSource
from imu.sinks.base import Sink
from imu.sinks.runner import Runner

FAST = Backoff(initial_s=0.05, factor=2.0, max_s=0.2)
LINK_LATENCY_S = 0.02


class Collector(Sink):
    """Keeps what the runner hands out: samples (with their gap marks), angles, events (each
    with ``seen_s``: the time of the last sample handed out when it came), summary."""

    def __init__(self) -> None:
        self.samples: list[np.ndarray] = []
        self.angles: list[np.ndarray] = []
        self.gap_rows: list[int] = []
        self.events: list[dict[str, Any]] = []
        self.seen_s: list[float] = []
        self.wall_s: list[float] = []  # time.monotonic() when each event came
        self.lines: list[str] = []
        self.summary: dict[str, Any] = {}
        self.status: dict[str, Any] = {}  # the source's last status
        self.n_samples = 0
        self.changed = asyncio.Event()
        self.source: Any = None  # the live source, whose held samples count as handled

    def held(self) -> int:
        """Samples the source received but holds for a decision (the timestamper waits
        for the next arrivals to tell a late notification's stall from a loss)."""
        return getattr(self.source, "n_held", 0)

    def on_samples(self, samples: np.ndarray, gap_before: bool) -> None:
        if gap_before:
            self.gap_rows.append(self.n_samples)
        self.samples.append(samples.copy())
        self.n_samples += len(samples)
        self.changed.set()

    def on_angles(self, angles: np.ndarray) -> None:
        self.angles.append(angles.copy())

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.seen_s.append(float(self.samples[-1][-1, 0]) if self.samples else float("nan"))
        self.wall_s.append(time.monotonic())

    def on_status(self, status: dict[str, Any]) -> None:
        self.status = status

    def close(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def all_samples(self) -> np.ndarray:
        return np.vstack(self.samples) if self.samples else np.empty((0, 7))


def lockstep(collector: Collector, samples_per_packet: Sequence[int]):
    """A ``gate`` for :meth:`FakeBluez.stream`: true once ``collector`` has every sample of
    the notifications delivered so far."""
    counts = list(samples_per_packet)

    def gate(delivered: list[bool]) -> bool:
        return collector.n_samples + collector.held() >= sum(
            n for n, sent in zip(counts, delivered) if sent
        )

    return gate


def _arriving_at(arrival: dict[bytes, float]):
    """A stand-in for :class:`Packet` that stamps a known payload with its arrival time."""

    def packet(host_time_s: float, char_uuid: str, data: bytes) -> Packet:
        return Packet(arrival.get(data, host_time_s), char_uuid, data)

    return packet


def arrival_times(
    packets: Sequence[bytes | None], send_times_s: Sequence[float]
) -> dict[bytes, float]:
    """Payload -> ``send time + LINK_LATENCY_S``; payloads must differ (asserted), which
    synthetic samples with noise do."""
    at = {p: t + LINK_LATENCY_S for p, t in zip(packets, send_times_s) if p is not None}
    assert len(at) == sum(p is not None for p in packets), "payloads must be unique"
    return at


def sensor_clock(
    monkeypatch: Any, packets: Sequence[bytes | None], send_times_s: Sequence[float]
) -> None:
    """Notification ``i`` arrives at ``send_times_s[i] + LINK_LATENCY_S`` (host clock), and
    the link is seen lost or back 1 ms after the last notification that arrived or the link
    event before it (the first connection 1 ms before the first notification), so link
    events and samples share one clock.

    Patches :class:`imu.ble.connection.Packet` and ``host_time_s`` for the test (see
    :func:`arrival_times`).
    """
    arrival = arrival_times(packets, send_times_s)
    stamp = _arriving_at(arrival)
    last = [min(arrival.values()) - 0.002]

    def packet(host_time_s: float, char_uuid: str, data: bytes) -> Packet:
        arrived = stamp(host_time_s, char_uuid, data)
        last[0] = max(last[0], arrived.host_time_s)
        return arrived

    def now() -> float:
        last[0] += 0.001
        return last[0]

    monkeypatch.setattr(connection, "Packet", packet)
    monkeypatch.setattr(connection, "host_time_s", now)


@contextlib.contextmanager
def packets_arrive_at(arrival: dict[bytes, float]) -> Iterator[None]:
    """:func:`sensor_clock` outside pytest (benchmarks): ``arrival`` from :func:`arrival_times`."""
    original = connection.Packet
    connection.Packet = _arriving_at(arrival)  # type: ignore[misc]
    try:
        yield
    finally:
        connection.Packet = original  # type: ignore[misc]


async def _stop_when_all_through(
    stream: concurrent.futures.Future, runner: Runner, collector: Collector, n_samples: list[int]
) -> None:
    """Stop once the fake has sent everything and every delivered sample went through."""
    delivered = await asyncio.wrap_future(stream)
    expected = sum(n for n, sent in zip(n_samples, delivered) if sent)
    while collector.n_samples + collector.held() < expected:
        collector.changed.clear()
        try:
            await asyncio.wait_for(collector.changed.wait(), 0.05)  # held() changes too
        except asyncio.TimeoutError:  # (Python 3.10: not the builtin TimeoutError)
            pass
    runner.stop()  # the source places what it holds as it stops


def run_live(
    address: str,
    profile: Any,
    rate_hz: float,
    stream: concurrent.futures.Future,
    engine: Any,
    sinks: Sequence[Sink],
    *,
    samples_per_packet: Sequence[int],
    collector: Collector | None = None,
    timeout_s: float = 60.0,
) -> Collector:
    """Run BleSource -> Runner(engine) -> ``sinks`` + a Collector until ``stream`` is through.

    ``samples_per_packet``: samples in each of the stream's notifications (to know when
    every delivered sample is in). ``collector``: the one a :func:`lockstep` gate watches.
    Raises TimeoutError after ``timeout_s``.
    """
    from imu.pipeline.fusion import warm_up

    warm_up()  # as `imu live` does before streaming
    source = BleSource(BleConnection(address, profile, rate_hz, backoff=FAST), name="fake")
    collector = collector or Collector()
    collector.source = source
    runner = Runner(source, engine, [*sinks, collector])

    async def main() -> None:
        stopper = asyncio.create_task(
            _stop_when_all_through(stream, runner, collector, list(samples_per_packet))
        )
        try:
            await asyncio.wait_for(runner.run(), timeout_s)
        finally:
            stopper.cancel()
            await asyncio.gather(stopper, return_exceptions=True)

    asyncio.run(main())
    return collector


def stream_live(
    monkeypatch: Any,
    device: Any,
    char_uuid: str,
    packets: Sequence[bytes | None],
    interval_s: float,
    profile: Any,
    rate_hz: float,
    samples_per_packet: Sequence[int],
    *,
    sinks: Sequence[Sink] = (),
    drop_at: int | None = None,
    refuse_reconnects: int = 0,
    hold_while_down: bool = False,
    timeout_s: float = 60.0,
) -> tuple[Collector, list[bool]]:
    """``imu live``'s path over ``packets`` from a fake ``device`` (a
    :class:`~tests.fakebluez.DeviceSpec`) on a private bus: notifications on ``char_uuid``
    one every ``interval_s`` (:meth:`FakeBluez.stream`, ``hold_while_down``) in
    :func:`lockstep` with the collector, through :func:`run_live` with an engine at
    ``rate_hz`` and ``sinks``. ``drop_at``: the link drops before packet ``drop_at``
    (None: never), the device refusing the next ``refuse_reconnects`` connections.
    Returns what the collector got and, per packet, whether it was delivered."""
    from imu.pipeline import Engine, EngineSettings
    from tests.fakebluez import FakeBluez

    with FakeBluez() as fake:
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", fake.address)
        fake.add_device(device)
        collector = Collector()

        def drop(i: int) -> None:
            if i == drop_at:
                fake.device(device.address).refuse_next_connects = refuse_reconnects
                fake.device(device.address).drop_link()

        stream = fake.stream(
            device.address,
            char_uuid,
            packets,
            interval_s,
            on_packet=drop,
            hold_while_down=hold_while_down,
            gate=lockstep(collector, samples_per_packet),
        )
        got = run_live(
            device.address,
            profile,
            rate_hz,
            stream,
            Engine(EngineSettings(sampling_rate_hz=rate_hz)),
            sinks,
            samples_per_packet=samples_per_packet,
            collector=collector,
            timeout_s=timeout_s,
        )
    return got, stream.result()
