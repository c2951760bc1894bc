"""The one loop of ``imu live`` and ``imu replay``: source -> engine -> sinks.

A source (:mod:`imu.ble.source`: a BLE device, a recorded file, or a test fake) yields
:class:`~imu.ble.source.Batch` es of raw samples and link events. For each batch the
runner hands the raw samples to the sinks (the recorder writes them *before* anything
else can fail), feeds them to the engine and passes angles and events on.

``gap_before`` goes to the sinks (the recorder's ``gap`` column) and to the engine,
exactly as ``imu analyze`` feeds the recording's ``gap`` column, so live, replay and
analyze agree rep for rep (a flagged gap is always a ``gap`` event; what restarts:
:mod:`imu.pipeline.timing`). When the source ends, :meth:`Runner.stop` was called
(Ctrl-C) or the task is cancelled, it flushes the engine (``finish``: the rep or set in progress) and closes every sink
with the session summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from imu.sinks.base import Sink
from imu.text import is_flagged

log = logging.getLogger(__name__)


class Runner:
    """Drives one session. ``engine`` follows the Engine contract (``update``/``finish``).

    ``status_interval_s``: how often the source's status goes to the sinks.
    ``stopped_word``: how the summary says a session ended by :meth:`stop` (Ctrl-C):
    ``interrupted`` for a replay cut short, ``stopped`` for live, which Ctrl-C ends.

    When stdout's reader goes away (``| head``: a sink's write raises ``BrokenPipeError``)
    every other sink still gets what is under way, and the session ends after the batch
    with that error (the CLI exits 0, quietly); the engine's last events still reach the
    files, which are closed.
    """

    def __init__(
        self,
        source: Any,
        engine: Any,
        sinks: Sequence[Sink],
        *,
        status_interval_s: float = 0.25,
        stopped_word: str = "interrupted",
    ) -> None:
        self.source = source
        self.engine = engine
        self.sinks = list(sinks)
        self.status_interval_s = status_interval_s
        self.stopped_word = stopped_word
        self.counts: Counter[str] = Counter()
        self.n_reps_lost_in_sets = 0  # the sets' n_reps_lost (the rest: outside a set)
        self.n_samples = 0
        self.n_flagged = 0
        self.n_reconnects = 0  # "connected" events that say "reconnect"
        self.n_rounded = 0
        self.n_hyperextended = 0
        self._first_time_s: float | None = None
        self._last_time_s: float | None = None
        self._last_status = -np.inf
        self._stop_requested = False
        self._reader_gone: BaseException | None = None

    def stop(self) -> None:
        """End the session cleanly (Ctrl-C): the source stops, what it holds is processed."""
        self._stop_requested = True
        self.source.stop()

    async def run(self) -> dict[str, Any]:
        """Run to the end of the source (or cancellation); return the session summary."""
        try:
            async with contextlib.aclosing(self.source.batches()) as batches:
                async for batch in batches:
                    self._batch(batch)
            ended_by = self.stopped_word if self._stop_requested else "finished"
        except asyncio.CancelledError:
            ended_by = "interrupted"
        except BaseException as exc:
            ended_by = f"stopped by an error ({type(exc).__name__})"
            self._finish(ended_by)
            raise
        return self._finish(ended_by)

    def _batch(self, batch: Any) -> None:
        samples = batch.samples
        if len(samples):
            self._each("on_samples", samples, batch.gap_before)
        for event in batch.events:
            self._dispatch(event)
        if len(samples):
            self.n_samples += len(samples)
            if self._first_time_s is None:
                self._first_time_s = float(samples[0, 0])
            self._last_time_s = float(samples[-1, 0])
            self._step(self.engine.update(samples, batch.gap_before))
        now = time.monotonic()
        if now - self._last_status >= self.status_interval_s:
            self._last_status = now
            self._each("on_status", self.source.status())
        if self._reader_gone is not None:
            raise self._reader_gone

    def _step(self, step: Any) -> None:
        angles = step.angles
        if len(angles):
            self._each("on_angles", angles)
        for event in step.events:
            self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        self.counts[event["type"]] += 1
        if event["type"] == "connected" and event.get("reconnect"):
            self.n_reconnects += 1
        if event["type"] == "set":
            self.n_reps_lost_in_sets += int(event.get("n_reps_lost") or 0)
        if event["type"] == "rep":
            self.n_flagged += is_flagged(event)
            self.n_rounded += bool(event.get("rounded"))
            self.n_hyperextended += bool(event.get("hyperextended"))
        self._each("on_event", event)

    def _each(self, method: str, *args: Any) -> None:
        """``sink.method(*args)`` for every sink, also those after one whose reader went
        away (remembered in ``_reader_gone``, raised at the end of the batch)."""
        for sink in self.sinks:
            try:
                getattr(sink, method)(*args)
            except (Exception, SystemExit) as exc:
                if not _reader_gone(exc):
                    raise
                if self._reader_gone is None:
                    self._reader_gone = exc

    def _finish(self, ended_by: str) -> dict[str, Any]:
        try:
            self._step(self.engine.finish())
        except Exception:
            log.exception("flushing the engine failed")
        summary = self.summary(ended_by)
        status = self.source.status()
        for sink in self.sinks:
            try:
                sink.on_status(status)
                sink.close(summary)
            except (Exception, SystemExit) as exc:
                if not _reader_gone(exc):  # the reader of stdout went away: nothing to tell
                    log.exception("closing %s failed", type(sink).__name__)
        return summary

    def summary(self, ended_by: str) -> dict[str, Any]:
        """Counts of the session so far; sinks add where their files are.

        ``n_flagged`` counts reps rounded or hyperextended (a rep with both once).
        ``n_alerts`` counts alerts that stood (provisional alerts later withdrawn by an
        ``alert_withdrawn`` event are not counted).
        """
        duration = (
            0.0
            if self._first_time_s is None or self._last_time_s is None
            else self._last_time_s - self._first_time_s
        )
        summary: dict[str, Any] = {
            "ended_by": ended_by,
            "duration_s": round(duration, 3),
            "n_samples": self.n_samples,
            "n_reps": self.counts["rep"],
            "n_sets": self.counts["set"],
            "n_flagged": self.n_flagged,
            "n_rounded": self.n_rounded,
            "n_hyperextended": self.n_hyperextended,
            "n_alerts": self.counts["alert"] - self.counts["alert_withdrawn"],
            "n_gaps": self.counts["gap"],
            "n_reps_lost": self.counts["rep_lost"],
            "n_reps_lost_outside_sets": self.counts["rep_lost"] - self.n_reps_lost_in_sets,
            "n_disconnects": self.counts["disconnected"],
            "n_reconnects": self.n_reconnects,
            "n_undecodable": int(self.source.status().get("decode_errors", 0)),
        }
        for sink in self.sinks:
            summary.update(sink.outputs())
        return summary


def _reader_gone(exc: BaseException) -> bool:
    """A write to stdout failed because nobody reads it (``| head``, a terminal hung up);
    rich's Console says so with ``SystemExit`` raised from the ``BrokenPipeError``."""
    from imu.fileio import reader_went_away

    if isinstance(exc, SystemExit):
        return isinstance(exc.__context__, BrokenPipeError)
    return reader_went_away(exc)
