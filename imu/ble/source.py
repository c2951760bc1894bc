"""Sample sources: the narrow interface live and replay share.

A source has

- ``device`` (str) and ``metadata`` (dict for a recording's header),
- ``batches()``: an async iterator of :class:`Batch` (raw samples in canonical units on
  the session clock, whether samples were lost just before them, and link events),
- ``status()``: a small dict for the display (link state, rate received, losses).

Implementations: :class:`FileSource` (a recording, paced in real time or as fast as
possible) and :class:`BleSource` (a BLE IMU through :class:`imu.ble.connection.BleConnection`).
Tests add their own (anything with these three members).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imu.session import GAP_COLUMN, Session

EMPTY = np.empty((0, 7))


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
    chunks then only yield to the event loop). A ``gap`` column (live recordings) marks
    ``gap_before``; a chunk always starts at a gap mark.
    """

    def __init__(
        self, session: Session, *, speed: float | None = 1.0, chunk_s: float = 0.1
    ) -> None:
        self.session = session
        self.speed = speed
        self.chunk_s = chunk_s
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

    def chunk_bounds(self) -> list[tuple[int, int]]:
        """``[start, stop)`` row ranges of the chunks (split every ``chunk_s`` and at gaps)."""
        t = self._samples[:, 0]
        if len(t) == 0:
            return []
        ticks = t[0] + self.chunk_s * np.arange(1, int((t[-1] - t[0]) / self.chunk_s) + 1)
        edges = set(np.searchsorted(t, ticks - 1e-9).tolist())  # 1 ns: float rounding
        edges |= set(np.flatnonzero(self._gaps).tolist())
        edges = sorted(e for e in edges if 0 < e < len(t))
        starts = [0, *edges]
        return list(zip(starts, [*edges, len(t)]))

    def status(self) -> dict[str, Any]:
        n = len(self._samples)
        return {
            "state": "replay",
            "device": self.device,
            "progress": self._position / n if n else 1.0,
            "rate_hz": self.session.sampling_rate_hz,
        }

    async def batches(self) -> AsyncIterator[Batch]:
        t = self._samples[:, 0]
        start_wall = time.monotonic()
        for start, stop in self.chunk_bounds():
            if self.speed is None:
                await asyncio.sleep(0)
            else:
                due = start_wall + (t[stop - 1] - t[0]) / self.speed
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._position = stop
            yield Batch(self._samples[start:stop], gap_before=bool(self._gaps[start]))
