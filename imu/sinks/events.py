"""``--events FILE``: every event as one JSON object per line (JSON Lines), in the order
of their times from the recording's start, as the session log reads.

The engine gives a ``gap`` when the rows resume, before the reps that locked out before
it are decided, and a provisional alert for rep N before rep N-1 is confirmed; the file
puts each event in its place with the log's order (:class:`imu.sinks.lines.LogOrder`);
the link lost or back (``disconnected``, ``connected``) is written at once.
An event waits at most :data:`imu.sinks.lines.HOLD_LIMIT_S` (10 s) of the recording for
the events before it once the calibration is out (a rep is decided at most 5 s after its
lockout; before the calibration has settled the engine holds every row, so nothing about
them can come sooner). While events wait they are kept in ``FILE.held`` beside the file
(rewritten whole, replaced at once, removed when none waits and when the session ends),
so a crash loses none: after one, ``FILE`` then ``FILE.held`` are every event given, in
time order.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from imu.errors import input_error
from imu.sinks.base import Sink, json_safe
from imu.sinks.lines import LINK, LogOrder

HELD_SUFFIX = ".held"
"""``FILE.held``: the events that wait for their place (:class:`EventLog`)."""


def _line(event: dict[str, Any]) -> str:
    return json.dumps(json_safe(event), allow_nan=False) + "\n"


class EventLog(Sink):
    """Appends each event as one JSON line in time order and flushes it, so ``tail -f``
    sees it as soon as its place is known (module docstring: how long an event may wait,
    and ``FILE.held``).

    A ``rep`` line carries the same fields as a rep in ``imu analyze --json``; NaN becomes
    ``null``; an event that still comes after a later one (a set found over late) carries
    ``found_s``, when it was found, as the log stamps its line. The file is created fresh;
    an existing file is an error unless ``force``. A named pipe or a device (``/dev/stdout``)
    is written through without ``FILE.held`` (the waiting events are then in memory only).
    """

    def __init__(self, path: str | os.PathLike, *, force: bool = False) -> None:
        self.path = Path(path)
        try:
            self._handle = open(  # noqa: SIM115 - open for the session's lifetime
                self.path, "w" if force else "x", encoding="utf-8"
            )
        except FileExistsError:
            raise input_error("exists already (use --force to overwrite)", path=str(path)) from None
        except OSError as exc:
            raise input_error(f"cannot write ({exc.strerror})", path=str(path)) from None
        regular = stat.S_ISREG(os.fstat(self._handle.fileno()).st_mode)
        self.held_path = self.path.with_name(self.path.name + HELD_SUFFIX) if regular else None
        self._order = LogOrder()
        self._seen_samples = False
        self._held: list[dict[str, Any]] = []  # the events in FILE.held

    def on_samples(self, samples: Any, gap_before: bool) -> None:
        if len(samples):
            self._seen_samples = True
            self._write(self._order.due(float(samples[-1, 0])))

    def on_event(self, event: dict[str, Any]) -> None:
        if not self._seen_samples and event.get("type") in LINK:
            self._write([event])  # before the first sample: nothing can come before it
        else:
            self._write(self._order.push(event))

    def outputs(self) -> dict[str, str]:
        return {"events_file": str(self.path)}

    def close(self, summary: dict[str, Any]) -> None:
        if not self._handle.closed:
            self._write(self._order.flush())
            self._handle.close()

    def _write(self, events: list[dict[str, Any]]) -> None:
        """Append ``events``, then make ``FILE.held`` the events still waiting."""
        if events:
            self._handle.write("".join(_line(event) for event in events))
            self._handle.flush()
        if self.held_path is None:
            return
        held = self._order.waiting()
        if len(held) == len(self._held) and all(a is b for a, b in zip(held, self._held)):
            return  # the same events still wait (every batch of samples): nothing to rewrite
        if held:
            temporary = self.held_path.with_name(self.held_path.name + ".tmp")
            temporary.write_text("".join(_line(event) for event in held), encoding="utf-8")
            os.replace(temporary, self.held_path)
        else:
            self.held_path.unlink(missing_ok=True)
        self._held = held
