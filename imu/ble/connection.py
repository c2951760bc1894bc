"""A BLE link to one IMU that stays up: connect, configure, subscribe, reconnect.

:class:`BleConnection` wraps bleak behind one coroutine, :meth:`BleConnection.run`,
which puts everything that happens on the link into an ``asyncio.Queue`` in arrival
order:

- :class:`Packet` ``(host_time_s, char_uuid, data)`` for every notification; the bleak
  callback does nothing else (no decoding on the callback path);
- :class:`LinkEvent` for ``connected`` / ``disconnected`` / ``retry``.

Reconnection: after a link loss it reconnects forever with exponential backoff
(:class:`Backoff`), each attempt starting with a fresh scan for the address (BlueZ may
have forgotten the device). Only the *first* connection gives up, after
``first_attempts`` failures, with a :class:`~imu.errors.DeviceError`. A device that
refuses its configuration is a DeviceError at once (retrying would not help).

bleak-retry-connector was considered and not used: it is built around Home Assistant's
shared scanner, ESPHome proxies and BlueZ cache surgery; what this needs (backoff plus a
fresh scan per attempt) is a few lines here and one dependency fewer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from imu.ble.profiles import Profile, Write
from imu.errors import DeviceError

log = logging.getLogger(__name__)


def host_time_s() -> float:
    """Wall-clock seconds (Unix epoch) read from the monotonic clock.

    The offset between ``time.time()`` and ``time.monotonic()`` is taken once per
    process, so host times never jump when the system clock is adjusted.
    """
    return _WALL_OFFSET_S + time.monotonic()


_WALL_OFFSET_S = time.time() - time.monotonic()


@dataclass(frozen=True)
class Packet:
    """One notification: host arrival time (s, Unix epoch), characteristic, payload."""

    host_time_s: float
    char_uuid: str
    data: bytes


@dataclass(frozen=True)
class LinkEvent:
    """A change of the link: ``kind`` is ``connected``, ``disconnected`` or ``retry``.

    ``detail`` holds ``attempt`` (int), ``delay_s`` and ``reason`` (str) for retries,
    ``reconnect`` (bool) for ``connected``.
    """

    kind: str
    host_time_s: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between connection attempts: ``initial_s * factor**(n-1)``, capped."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 8.0

    def delay_s(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        return min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1))


class BleConnection:
    """Keeps a notification stream from ``address`` flowing into a queue.

    ``rate_hz`` must be one the profile supports (``profile.choose_rate``).
    ``connect_timeout_s`` bounds each attempt (scan + connect + service discovery).
    """

    def __init__(
        self,
        address: str,
        profile: Profile,
        rate_hz: float,
        *,
        connect_timeout_s: float = 10.0,
        reply_timeout_s: float = 5.0,
        backoff: Backoff = Backoff(),
        first_attempts: int = 5,
    ) -> None:
        self.address = address
        self.profile = profile
        self.rate_hz = rate_hz
        self.connect_timeout_s = connect_timeout_s
        self.reply_timeout_s = reply_timeout_s
        self.backoff = backoff
        self.first_attempts = first_attempts
        self._reply_waiters: dict[str, asyncio.Future[bytes]] = {}

    async def run(self, queue: asyncio.Queue) -> None:
        """Connect and stream until cancelled; reconnect after every link loss."""
        failures = 0
        connected_before = False
        while True:
            lost = asyncio.Event()
            try:
                client = await self._open(queue, lost, reconnect=connected_before)
            except DeviceError:
                raise
            except Exception as exc:  # noqa: BLE001 - bleak/D-Bus raise many types; all mean "retry"
                failures += 1
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                if not connected_before and failures >= self.first_attempts:
                    raise DeviceError(
                        f"could not connect to {self.address} after {failures} attempts "
                        f"({reason}); is the sensor on, in range and not connected to "
                        "another app?"
                    ) from None
                delay = self.backoff.delay_s(failures)
                log.info("connect attempt %d failed (%s); retry in %.1f s", failures, reason, delay)
                queue.put_nowait(
                    LinkEvent(
                        "retry",
                        host_time_s(),
                        {"attempt": failures, "delay_s": delay, "reason": reason},
                    )
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            connected_before = True
            try:
                await lost.wait()
            except asyncio.CancelledError:
                await self._close(client)
                raise
            queue.put_nowait(LinkEvent("disconnected", host_time_s()))

    async def _open(self, queue: asyncio.Queue, lost: asyncio.Event, *, reconnect: bool) -> Any:
        """One attempt: connect, subscribe, configure and start; returns the client."""
        from bleak import BleakClient

        client = BleakClient(
            self.address,
            disconnected_callback=lambda _client: lost.set(),
            timeout=self.connect_timeout_s,
        )

        def on_notify(characteristic: Any, data: bytearray) -> None:
            uuid = characteristic.uuid
            payload = bytes(data)
            queue.put_nowait(Packet(host_time_s(), uuid, payload))
            waiter = self._reply_waiters.get(uuid)
            if waiter is not None and not waiter.done():
                waiter.set_result(payload)

        await client.connect()
        try:
            # "connected" goes first so the consumer starts a fresh decoder before the
            # first packet of this connection arrives.
            queue.put_nowait(LinkEvent("connected", host_time_s(), {"reconnect": reconnect}))
            for uuid in self.profile.notify_uuids:
                await client.start_notify(uuid, on_notify)
            for write in self.profile.configure(self.rate_hz):
                await self._write(client, write)
            replies = [await self._write(client, w) for w in self.profile.prepare(self.rate_hz)]
            for write in self.profile.start(self.rate_hz, [r for r in replies if r is not None]):
                await self._write(client, write)
        except BaseException:
            await self._close(client, stop_device=False)
            raise
        return client

    async def _write(self, client: Any, write: Write) -> bytes | None:
        """Write; when ``write.reply_uuid`` is set, wait for the reply, check and return it."""
        log.debug("write %s: %s", write.what, write.data.hex())
        reply = None
        waiter: asyncio.Future[bytes] | None = None
        if write.reply_uuid is not None:
            waiter = asyncio.get_running_loop().create_future()
            self._reply_waiters[write.reply_uuid] = waiter
        try:
            await client.write_gatt_char(write.char_uuid, write.data, response=write.response)
            if waiter is not None:
                try:
                    reply = await asyncio.wait_for(waiter, self.reply_timeout_s)
                except asyncio.TimeoutError:
                    raise DeviceError(
                        f"{self.profile.title} did not answer '{write.what}' within "
                        f"{self.reply_timeout_s:g} s (check the firmware and --profile)"
                    ) from None
                self.profile.check_reply(write, reply)
        finally:
            if write.reply_uuid is not None:
                self._reply_waiters.pop(write.reply_uuid, None)
        return reply

    async def _close(self, client: Any, *, stop_device: bool = True) -> None:
        """Best effort: stop streaming and disconnect, never raising."""
        try:
            if stop_device and client.is_connected:
                for write in self.profile.stop():
                    await asyncio.wait_for(
                        client.write_gatt_char(
                            write.char_uuid, write.data, response=write.response
                        ),
                        2.0,
                    )
            await asyncio.wait_for(client.disconnect(), 5.0)
        except Exception as exc:  # noqa: BLE001 - closing a dead link may fail in many ways
            log.debug("closing %s: %s", self.address, exc)
