"""Sample sources: the narrow interface live and replay share.

A source has

- ``device`` (str) and ``metadata`` (dict for a recording's header),
- ``batches()``: an async iterator of :class:`Batch` (raw samples in canonical units on
  the session clock, whether samples were lost just before them, and link events),
- ``status()``: a small dict for the display (link state, rate received, losses),
- ``stop()``: end the stream soon, delivering what was already received.

Implementations: :class:`FileSource` (a recording, paced in real time or as fast as
possible) and :class:`BleSource` (a BLE IMU through :class:`imu.ble.connection.BleConnection`).
Tests add their own (anything with these three members).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu.ble.connection import BleConnection, LinkEvent, Packet, host_time_s
from imu.ble.profiles import DecodeError, Decoder
from imu.ble.timing import Stamped, Timestamper
from imu.session import GAP_COLUMN, Session
from imu.text import plural

log = logging.getLogger(__name__)

EMPTY = np.empty((0, 7))
RATE_WINDOW_S = 2.0
"""Seconds over which :meth:`BleSource.status` measures the received rate."""


@dataclass
class Batch:
    """Samples that arrived together, plus events that happened before them.

    ``samples``: ``(n, 7)`` float64 ``[time_s, acc_x..z (m/s^2), gyr_x..z (deg/s)]``
    (``n`` may be 0 for an event-only batch). ``gap_before``: samples were lost
    immediately before the first row (link loss, lost packets, a gap mark in a file).
    ``events``: ``connected`` / ``disconnected`` dicts, emitted before the samples.
    """

    samples: np.ndarray
    gap_before: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


class FileSource:
    """Replays a :class:`~imu.session.Session` in chunks of ``chunk_s`` seconds.

    ``speed``: 1.0 = real time, 2.0 = twice as fast, None = as fast as possible (the
    chunks then only yield to the event loop). A jump of the recording's clock longer
    than ``max_pause_s`` (a gap, a clock that jumped by years) is played as
    ``max_pause_s`` of waiting, not waited out. A ``gap`` column (live recordings) marks
    ``gap_before``; a chunk always starts at a gap mark.
    """

    def __init__(
        self,
        session: Session,
        *,
        speed: float | None = 1.0,
        chunk_s: float = 0.1,
        max_pause_s: float = 2.0,
    ) -> None:
        self.session = session
        self.speed = speed
        self.chunk_s = chunk_s
        self.max_pause_s = max_pause_s
        self.device = session.metadata.get("device", session.source or "file")
        self.metadata = dict(session.metadata)
        self._samples = session.samples()
        gaps = session.data.get(GAP_COLUMN)
        self._gaps = (
            np.zeros(len(self._samples), dtype=bool)
            if gaps is None
            else np.asarray(gaps.fillna(0), dtype=float) > 0
        )
        self._position = 0
        self._stopped = False

    def stop(self) -> None:
        """End the replay after the current chunk."""
        self._stopped = True

    def chunk_bounds(self) -> list[tuple[int, int]]:
        """``[start, stop)`` row ranges of the chunks (split every ``chunk_s`` and at gaps).

        A chunk ends before the first sample at or after each tick ``t0 + k * chunk_s``
        (k = 1, 2, ...; 1 ns of slack for float rounding). The ticks a sample has passed
        are counted per sample, so memory follows the samples, not the time span (a
        recording with a clock jump of 1e8 s has no more ticks to store than without).
        """
        t = self._samples[:, 0]
        if len(t) == 0:
            return []
        with np.errstate(over="ignore", invalid="ignore"):
            offset = t - t[0]
            passed = np.floor(offset / self.chunk_s)  # ticks passed, +-1 from rounding
            passed += t[0] + self.chunk_s * (passed + 1) - 1e-9 <= t  # the next one too?
            passed -= t[0] + self.chunk_s * passed - 1e-9 > t  # or not even this one?
            np.minimum(passed, np.floor(offset[-1] / self.chunk_s), out=passed)  # last tick
        passed[~np.isfinite(passed)] = np.inf  # beyond float range: one last chunk
        edges = np.flatnonzero(passed[1:] != passed[:-1]) + 1
        edges = np.union1d(edges, np.flatnonzero(self._gaps))
        edges = edges[(edges > 0) & (edges < len(t))].tolist()
        starts = [0, *edges]
        return list(zip(starts, [*edges, len(t)]))

    def status(self) -> dict[str, Any]:
        """Replay progress (share of samples played), the recording's length (s, first to
        last sample), the playback ``speed`` (None: as fast as possible) and its rate."""
        n = len(self._samples)
        return {
            "state": "replay",
            "device": self.device,
            "progress": self._position / n if n else 1.0,
            "duration_s": float(self._samples[-1, 0] - self._samples[0, 0]) if n else 0.0,
            "speed": self.speed,
            "rate_hz": self.session.sampling_rate_hz,
        }

    async def batches(self) -> AsyncIterator[Batch]:
        t = self._samples[:, 0]
        start_wall = time.monotonic()
        skipped_s = 0.0  # recording time of jumps not waited out
        for start, stop in self.chunk_bounds():
            if self._stopped:
                return
            if self.speed is None:
                await asyncio.sleep(0)
            else:
                if start > 0:
                    skipped_s += max(0.0, t[start] - t[start - 1] - self.max_pause_s)
                due = start_wall + (t[stop - 1] - t[0] - skipped_s) / self.speed
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._position = stop
            yield Batch(self._samples[start:stop], gap_before=bool(self._gaps[start]))


class BleSource:
    """A BLE IMU as a sample source: decoding and timestamping off the callback path.

    The connection's callback only enqueues ``(host_time, bytes)``; :meth:`batches`
    decodes with a fresh profile decoder per connection and a
    :class:`~imu.ble.timing.Timestamper` (per connection without a device clock; kept
    over reconnections when the profile has one, since the device clock runs on while
    the link is down), and batches whatever has queued up (one notification when the host
    keeps up, several when it fell behind). Sample times are host time in seconds since
    1970-01-01 UTC (device clock mapped to it when the profile has one). The first
    samples after a reconnection, and after samples the timestamper knows were lost,
    have ``gap_before`` set; nothing is interpolated. ``status()["lost_samples"]``
    counts both (over a reconnection: the time step times the rate, less one; from the
    device clock when there is one).

    :meth:`stop` ends the stream cleanly: the link is closed, then everything already
    received is still decoded and yielded.
    """

    def __init__(self, connection: BleConnection, *, name: str | None = None) -> None:
        self.connection = connection
        self.profile = connection.profile
        self.rate_hz = connection.rate_hz
        self.device = f"{name or self.profile.title} ({connection.address})"
        self.metadata: dict[str, Any] = {
            "sampling_rate_hz": f"{self.rate_hz:g}",
            "device": self.profile.name,
            "device_name": name or "",
            "device_address": connection.address,
            "time_s": "host clock, seconds since 1970-01-01 UTC",
            "recorded_by": "imu live",
        }
        self.n_decode_errors = 0
        self.n_lost_samples = 0
        self.n_disconnects = 0
        self._state = "connecting"
        self._retry: dict[str, Any] = {}
        self._recent: deque[tuple[float, int]] = deque()
        self._stop = asyncio.Event()
        self._decoder: Decoder | None = None  # per connection
        self._stamper: Timestamper | None = None  # per connection
        self._gap_pending = False  # the next samples follow a link loss
        self._last_time_s: float | None = None  # of the last sample out, over connections
        self._events: list[dict[str, Any]] = []  # from decoding, for the next batch

    def stop(self) -> None:
        """Ask :meth:`batches` to close the link and finish (safe from a signal handler)."""
        self._stop.set()

    @property
    def n_held(self) -> int:
        """Samples received but held by the timestamper until the next arrivals tell a
        stall from a loss (a device without a clock whose last notification came late)."""
        return self._stamper.n_held if self._stamper is not None else 0

    def status(self) -> dict[str, Any]:
        """Link state, samples/s received over the last 2 s, losses so far."""
        now = host_time_s()
        while self._recent and self._recent[0][0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        received = sum(n for _, n in self._recent)
        return {
            "state": self._state,
            "device": self.device,
            "rate_hz": received / RATE_WINDOW_S,
            "nominal_rate_hz": self.rate_hz,
            "lost_samples": self.n_lost_samples,
            "decode_errors": self.n_decode_errors,
            "disconnects": self.n_disconnects,
            **self._retry,
        }

    async def batches(self) -> AsyncIterator[Batch]:
        queue: asyncio.Queue = asyncio.Queue()
        link = asyncio.create_task(self.connection.run(queue))
        stopping = asyncio.create_task(self._stop.wait())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, link, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if link in done:
                        link.result()  # raises the DeviceError that ended the link
                    break
                items = [getter.result()]
                while not queue.empty():
                    items.append(queue.get_nowait())
                for batch in self._batches_of(items):
                    yield batch
            # stopped: close the link, then deliver whatever was already received
            link.cancel()
            await asyncio.gather(link, return_exceptions=True)
            items = []
            while not queue.empty():
                items.append(queue.get_nowait())
            for batch in self._batches_of(items, last=True):
                yield batch
        finally:
            for task in (link, stopping):
                task.cancel()
            await asyncio.gather(link, stopping, return_exceptions=True)

    def _batches_of(self, items: list[Packet | LinkEvent], last: bool = False) -> list[Batch]:
        """Decode queued items into batches; a new batch at every link event and gap.
        Samples the timestamper holds are placed before a link event and at the ``last``
        items (the stream stopped)."""
        batches: list[Batch] = []
        current = Batch(EMPTY)
        pieces: list[np.ndarray] = []

        def close() -> None:
            nonlocal current, pieces
            if pieces or current.events:
                current.samples = np.vstack(pieces) if pieces else EMPTY
                batches.append(current)
            current, pieces = Batch(EMPTY), []

        def add(decoded: list[tuple[np.ndarray, bool]]) -> None:
            if self._events:  # (from decoding): before the samples decoded with them
                if pieces:
                    close()
                current.events.extend(self._events)
                self._events.clear()
            for samples, gap_before in decoded:
                if gap_before and pieces:
                    close()
                current.gap_before |= gap_before and not pieces
                pieces.append(samples)

        for item in items:
            if isinstance(item, LinkEvent):
                add(self._flush(item.host_time_s))
                event = self._link_event(item)
                if event is not None:
                    if pieces:
                        close()
                    current.events.append(event)
                continue
            add(self._decode(item))
        if last:
            add(self._flush(host_time_s()))
        close()
        return batches

    def _link_event(self, item: LinkEvent) -> dict[str, Any] | None:
        if item.kind == "retry":
            self._retry = {"attempt": item.detail["attempt"], "retry_in_s": item.detail["delay_s"]}
            return None
        base = {"time_s": item.host_time_s, "device": self.connection.address}
        if item.kind == "connected":
            self._state = "streaming"
            self._retry = {}
            self._decoder = self.profile.new_decoder(self.rate_hz)
            if self._stamper is None or not self.profile.device_clock:
                self._stamper = Timestamper(self.rate_hz, self.profile.device_clock)
                self._gap_pending = bool(item.detail.get("reconnect"))
            # else the device clock ran on over the link loss: the stamper keeps its clock
            # map (the first notifications after a reconnection often come late, in a
            # burst) and reports the gap and the samples lost from the device clock
            return {
                "type": "connected",
                **base,
                "profile": self.profile.name,
                "rate_hz": self.rate_hz,
                "reconnect": bool(item.detail.get("reconnect")),
            }
        self._state = "reconnecting"
        self.n_disconnects += 1
        return {"type": "disconnected", **base, "reason": "link lost; reconnecting"}

    def _decode(self, packet: Packet) -> list[tuple[np.ndarray, bool]]:
        """``(samples, gap_before)`` pieces of one notification (empty while reassembling)."""
        if self._decoder is None or self._stamper is None:
            return []
        skipped = self._decoder.n_skipped_bytes
        try:
            frames = self._decoder.feed(packet.data, packet.char_uuid)
        except DecodeError as exc:
            self._undecodable(packet, str(exc))
            return []
        skipped = self._decoder.n_skipped_bytes - skipped
        if skipped > 0:
            self._undecodable(packet, f"{plural(skipped, 'byte')} that are no packet, skipped")
        at = packet.host_time_s
        return [piece for f in frames for piece in self._pieces(self._stamper.update(at, f), at)]

    def _undecodable(self, packet: Packet, reason: str) -> None:
        """Count a notification that is not (all) samples; the first gets a ``bad_data``
        event (the log says it once; the summary counts them all)."""
        self.n_decode_errors += 1
        log.debug("undecodable notification %s: %s", packet.data.hex(), reason)
        if self.n_decode_errors == 1:
            self._events.append(
                {
                    "type": "bad_data",
                    "time_s": packet.host_time_s,
                    "device": self.connection.address,
                    "message": f"the device sent data that cannot be read as "
                    f"{self.profile.title} samples ({reason}); ignored, and counted in the "
                    "summary from now on",
                }
            )

    def _flush(self, host_time_s: float) -> list[tuple[np.ndarray, bool]]:
        """The samples the timestamper still holds, placed (before a link event, at the end)."""
        if self._stamper is None or not self._stamper.n_held:
            return []
        return self._pieces(self._stamper.flush(), host_time_s)

    def _pieces(self, stamped: Stamped, host_time_s: float) -> list[tuple[np.ndarray, bool]]:
        """``(samples, gap_before)`` pieces of stamped samples; counts losses and the rate."""
        pieces = []
        self.n_lost_samples += sum(g.lost_samples for g in stamped.gaps)
        for samples, gap_before in stamped.chunks():
            if self._gap_pending and self._last_time_s is not None:
                # lost over the reconnection, estimated from the host clock (the new
                # connection's timestamper knows nothing of the old one)
                step_s = float(samples[0, 0]) - self._last_time_s
                self.n_lost_samples += max(0, round(step_s * self.rate_hz) - 1)
            pieces.append((samples, gap_before or self._gap_pending))
            self._gap_pending = False
            self._last_time_s = float(samples[-1, 0])
            self._recent.append((host_time_s, len(samples)))
        return pieces
