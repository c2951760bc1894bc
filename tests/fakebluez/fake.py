"""Run the fake BlueZ in a background thread with its own event loop.

Why a thread and not a subprocess: tests inspect the fake's state directly (bytes
written, notifications delivered, connect attempts) and drive it (drop the link,
refuse connections) without an IPC protocol of their own; all traffic between bleak and
the fake still crosses a real D-Bus daemon socket. The code under test runs either in
the test's own event loop or in an ``imu`` subprocess pointed at the same bus.

Usage::

    with FakeBluez() as fake:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
        fake.add_device(spec)
        stream = fake.stream(address, char_uuid, packets, interval_s=0.01)
        ...
        stream.result()  # -> list of delivered flags, one per packet
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from dbus_fast.aio import MessageBus

from .bus import PrivateSystemBus
from .service import DeviceSpec, FakeBluezService, FakeDevice

T = TypeVar("T")


class FakeBluez:
    """A private system bus with a fake ``org.bluez`` on it (context manager)."""

    def __init__(self) -> None:
        self._bus = PrivateSystemBus()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.service: FakeBluezService | None = None
        self._message_bus: MessageBus | None = None

    @property
    def address(self) -> str:
        """Value for ``DBUS_SYSTEM_BUS_ADDRESS``."""
        return self._bus.address

    def __enter__(self) -> FakeBluez:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        self._bus.start()
        self._thread.start()
        self.call(self._setup())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._teardown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()
            self._bus.stop()

    async def _setup(self) -> None:
        self._message_bus = await MessageBus(bus_address=self._bus.address).connect()
        self.service = FakeBluezService(self._message_bus)
        await self.service.start()

    async def _teardown(self) -> None:
        assert self.service is not None and self._message_bus is not None
        await self.service.stop()
        self._message_bus.disconnect()

    # --- calling into the fake's loop -------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a plain function on the fake's loop and return its result."""

        async def wrapper() -> T:
            return fn(*args)

        return self.call(wrapper())

    def device(self, address: str) -> FakeDevice:
        assert self.service is not None
        return self.service.devices[address.upper()]

    # --- what tests use ---------------------------------------------------------------

    def add_device(self, spec: DeviceSpec) -> None:
        assert self.service is not None
        self.run(self.service.add_device, spec)

    def writes(self, address: str) -> list[tuple[str, bytes]]:
        return self.run(lambda: list(self.device(address).writes))

    def connect_calls(self, address: str) -> int:
        return self.run(lambda: self.device(address).connect_calls)

    def discovery_filters(self) -> list[dict]:
        assert self.service is not None
        return self.run(lambda: list(self.service.discovery_filters))

    def drop_link(self, address: str) -> None:
        """Simulate a link loss (the sensor walked out of range)."""
        self.run(lambda: self.device(address).drop_link())

    def refuse_connects(self, address: str, count: int) -> None:
        """Make the next ``count`` Connect calls fail as a flaky radio does."""

        def set_count() -> None:
            self.device(address).refuse_next_connects = count

        self.run(set_count)

    def wait_connected(self, address: str, timeout: float = 10.0) -> None:
        async def wait() -> None:
            await asyncio.wait_for(self.device(address).link_up.wait(), timeout)

        self.call(wait(), timeout + 1)

    def stream(
        self,
        address: str,
        char_uuid: str,
        packets: Sequence[bytes | None],
        interval_s: float,
        on_packet: Callable[[int], None] | None = None,
        *,
        hold_while_down: bool = False,
        sent_at: list[float] | None = None,
        gate: Callable[[list[bool]], bool] | None = None,
    ) -> concurrent.futures.Future[list[bool]]:
        """Emit ``packets`` as notifications, one every ``interval_s``, like a sensor.

        Starts when the sensor first streams (the central subscribed to ``char_uuid``
        and, for ``needs_start`` devices, started it). As with a real sensor, the clock
        keeps running while the link is down: packets that fall in a disconnection,
        or before the restarted sensor streams again, are lost. ``on_packet(i)`` runs
        (on the fake's loop) before packet ``i`` is sent, so a test can drop the link at
        a chosen packet. The future's result says, per packet, whether it was delivered.

        Deterministic outages (the test, not the scheduler, decides what is lost): a
        ``None`` packet is lost in the air (never sent); ``hold_while_down``: a packet due
        while the link is down waits until the sensor streams again, so a disconnection
        loses exactly the ``None`` packets the test put there, however long the
        reconnection takes. ``sent_at``: filled with each packet's send time
        (``time.monotonic()``; NaN when not sent), for latency measurements. ``gate``:
        before each packet, wait until ``gate(delivered so far)`` is true (called from the
        fake's thread), e.g. until the receiver has handled every delivered packet, so a
        receiver gets one notification at a time however slow it is at times (lockstep).
        """

        async def run() -> list[bool]:
            device = self.device(address)
            while not device.streaming(char_uuid):
                await asyncio.sleep(0.005)
            delivered = []
            start = time.monotonic()
            for i, payload in enumerate(packets):
                delay = start + i * interval_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if on_packet is not None:
                    on_packet(i)
                while gate is not None and not gate(delivered):
                    await asyncio.sleep(0.001)
                if payload is None:
                    delivered.append(False)
                    if sent_at is not None:
                        sent_at.append(float("nan"))
                    continue
                if hold_while_down and not device.streaming(char_uuid):
                    waited = time.monotonic()
                    while not device.streaming(char_uuid):
                        await asyncio.sleep(0.005)
                    start += time.monotonic() - waited  # the sensor's clock paused too
                sent = device.streaming(char_uuid) and device.notify(char_uuid, payload)
                delivered.append(sent)
                if sent_at is not None:
                    sent_at.append(time.monotonic() if sent else float("nan"))
            return delivered

        return asyncio.run_coroutine_threadsafe(run(), self._loop)


async def stop_when_done(
    stream: concurrent.futures.Future, source: Any, linger_s: float = 0.3
) -> None:
    """Stop a live ``source`` once the fake's ``stream`` is sent and ``linger_s`` has passed."""
    await asyncio.wrap_future(stream)
    await asyncio.sleep(linger_s)
    source.stop()
