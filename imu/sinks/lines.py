"""The session log: one plain line per event, for ``--no-display`` (stdout) and for the
scrolling log the live screen keeps above its panel.

A line starts with the time from the recording's start (``m:ss.s``), and the wall-clock
time in brackets when it is known (:class:`imu.text.Timeline`)::

    0:52.8  rep 1.1  peak flexion 50.5 deg  lockout 1.8 deg  descent 3.39 s  ascent 0.82 s  good (p=0.00 < 0.15)
    0:59.5  ALERT rep 1.3 rounded (p=1.00 ≥ 0.15)

Lines come in the order of the lift: a provisional alert for rep N (given at its lockout,
before rep N-1 is confirmed, docs/contracts.md) is held until the line of rep N-1 has
been written (:class:`LogOrder`), so the log never shows rep 1.3's alert before rep 1.2;
a line about a gap or a rep lost in one waits until the reps before it are out, so the log
reads in time order; the link lost or back is written at once (the lifter must know); a
line that still comes after a later one (a set found over late, a rep counted on looking
back after the next rep's alert, a rep decided after the link line) is stamped when it
was found, saying its own time (``0:15.2  rep 1.1 at 0:08.5 ...``).
A calibration line is stamped where its angles start (the first at the recording's start:
the engine held every row until it settled, and it comes before their events; a refined
one at its ``time_s``, which the engine gives once the reps before it are out), a failed
one when it was settled.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, TextIO

from imu.fileio import reader_went_away
from imu.sinks.base import Sink
from imu.text import (
    Timeline,
    clock,
    duration,
    is_flagged,
    lost_reps_text,
    plural,
    probability,
    signed,
    times,
    verdict,
)

HOLD_LIMIT_S = 10.0
"""An alert waits at most this long (sample time) for the rep before it."""


def fmt(value: Any, spec: str) -> str:
    """``format(value, spec)``; ``?`` when the value is missing or not finite; no ``-0``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return signed(value, spec)
    return "?" if value is None else format(value, spec)


def _num(value: Any, digits: int = 1) -> str:
    return fmt(value, f".{digits}f")


def rep_verdict(rep: dict[str, Any], threshold: float | None) -> str:
    """``good (p=0.05 < 0.15)``, ``ROUNDED (p=0.46 ≥ 0.15)``, ``HYPEREXTENDED``, ..."""
    word = verdict(rep)
    if is_flagged(rep):
        word = word.upper()
    p = probability(rep.get("p_rounded"), threshold)
    return f"{word} ({p})" if p else word


def describe(
    event: dict[str, Any],
    timeline: Timeline | None = None,
    threshold: float | None = None,
    width: int | None = None,
) -> str:
    """One line for an event, stamped with its time from the recording's start.

    ``timeline``: where the recording starts and its wall clock (None: times are shown
    as they are); ``threshold``: the model's threshold, shown beside each probability;
    ``width``: the columns a rep line should fit in (:func:`rep_line`; None: no limit)."""
    timeline = timeline or Timeline(0.0)
    kind = event.get("type", "?")

    def at(key: str) -> str:
        return timeline.stamp(event.get(key))

    if kind == "rep":
        return rep_line(event, timeline, threshold, width)
    if kind == "set":
        if event.get("found_s") is None:
            return f"{at('end_s')}  {set_text(event)}"
        return f"{at('found_s')}  {set_text(event, timeline.at(event.get('end_s')))}"
    if kind in ALERTS:
        # a flexion-limit alert comes mid-descent: the bend may not become that rep
        named = event.get("rep") and event.get("kind") != "flexion_limit"
        where = f"rep {event['set']}.{event['rep']} " if named else ""
        said = (  # renumbered: the provisional alert named the rep before it was counted
            f" (first said as rep {event['said_set']}.{event['said_rep']})"
            if kind == "alert_renumbered"
            else ""
        )
        stamp = "time_s"
        if event.get("found_s") is not None:  # after later lines: stamped when found
            stamp, where = "found_s", f"{where}at {timeline.at(event.get('time_s'))} "
        return f"{at(stamp)}  ALERT {where}{alert_text(event, threshold)}{said}"
    if kind == "alert_withdrawn":
        return f"{at('time_s')}  alert withdrawn: {event.get('message', '')}"
    found = event.get("found_s") is not None  # after later lines: stamped when found
    if kind == "gap" and event.get("clock_reset"):
        return f"{at('end_s')}  the clock went back (reset): angles start again"
    if kind == "gap":
        until = f" until {timeline.at(event.get('end_s'))}" if found else ""
        return (
            f"{at('found_s' if found else 'end_s')}  gap of {duration(event.get('duration_s'))}"
            f" in the data{until}"
            + (" (too long to bridge: angles start again)" if event.get("restarted") else "")
        )
    if kind == "rep_lost":
        if found:
            return (
                f"{at('found_s')}  a rep may be lost at {timeline.at(event.get('time_s'))}: "
                f"{event.get('message', '')}"
            )
        return f"{at('time_s')}  a rep may be lost: {event.get('message', '')}"
    if kind == "warning":
        if found:
            return (
                f"{at('found_s')}  warning at {timeline.at(event.get('time_s'))}: "
                f"{event.get('message', '')}"
            )
        return f"{at('time_s')}  warning: {event.get('message', '')}"
    if kind == "bad_data":  # may come before the first sample
        known = event.get("time_s") is not None and timeline.origin_s is not None
        return f"{at('time_s') + '  ' if known else ''}{event.get('message', '')}"
    if kind == "calibration":
        return calibration_text(event, timeline)
    if kind in ("connected", "disconnected"):
        what = "reconnected" if event.get("reconnect") else kind
        reason = f" ({event['reason']})" if event.get("reason") else ""
        known = event.get("time_s") is not None and timeline.origin_s is not None
        stamp = f"{at('time_s')}  " if known else ""  # a link event before the first sample
        when = ""
        if found and known:  # after later lines: stamped when found, saying when it was
            stamp, when = f"{at('found_s')}  ", f" at {timeline.at(event.get('time_s'))}"
        return f"{stamp}{what} {event.get('device', '')}".rstrip() + when + reason
    return f"{kind}: {event}"


REP_LAYOUTS = ((True, True, True, "peak flexion"), (True, True, False, "peak flexion"),
               (False, True, False, "peak flexion"), (False, True, False, "peak"),
               (False, False, False, "peak"), (False, False, False, None))
"""What a rep line shows, richest first: (wall clock, lockout, descent and ascent, the
words before the peak flexion; None: no peak flexion)."""


def rep_line(
    event: dict[str, Any], timeline: Timeline, threshold: float | None, width: int | None = None
) -> str:
    """``0:52.8  rep 1.1  peak flexion 50.5 deg  lockout 1.8 deg  descent 3.39 s  ascent
    0.82 s  good (p=0.00 < 0.15)``, with the wall clock beside the time when known.

    When ``width`` is given (a narrow terminal), the first of :data:`REP_LAYOUTS` that fits
    in it: without descent and ascent, then without the wall clock, then ``peak`` for
    ``peak flexion`` (as the live panel says), then without the lockout, at last without
    the peak flexion (``ROUNDED + HYPEREXTENDED`` with four decimals). The rep and its
    verdict with the probability beside the threshold always stay.

    A rep whose line comes after a later line (counted on looking back after the next
    rep's alert) is stamped when found, saying its lockout: ``0:17.2  rep 1.1 at 0:08.5
    ...``."""
    time_s, name = event.get("end_s"), f"rep {event.get('set')}.{event.get('rep')}"
    if event.get("found_s") is not None:
        time_s, name = event.get("found_s"), f"{name} at {timeline.at(time_s)}"
    measures = {
        "lockout": f"lockout {_num(event.get('lockout_extension_deg'))} deg",
        "tempo": f"descent {_num(event.get('descent_s'), 2)} s  "
                 f"ascent {_num(event.get('ascent_s'), 2)} s",
    }
    line = ""
    for wall, lockout, tempo, peak in REP_LAYOUTS:
        parts = [timeline.stamp(time_s) if wall else timeline.at(time_s), name,
                 *([f"{peak} {_num(event.get('peak_flexion_deg'))} deg"] if peak else []),
                 *([measures["lockout"]] if lockout else []),
                 *([measures["tempo"]] if tempo else []),
                 rep_verdict(event, threshold),
                 *(["counted on looking back"] if event.get("look_back") else [])]
        line = "  ".join(parts)
        if width is None or len(line) <= width:
            break
    return line


def alert_text(event: dict[str, Any], threshold: float | None) -> str:
    """What an alert says: ``rounded (p=0.46 ≥ 0.15)``, ``hyperextended: lockout 12 deg
    beyond upright, limit 10 deg``, ``flexion 64 deg is beyond your limit of 60 deg``."""
    kind = event.get("kind")
    if kind == "rounded":
        p = probability(event.get("p_rounded"), threshold)
        return f"rounded ({p})" if p else "rounded"
    if kind == "hyperextension":
        return f"hyperextended: {event.get('message', '')}"
    return str(event.get("message", kind))


def set_text(event: dict[str, Any], done_at: str = "") -> str:
    """``set 1 done: 5 reps, 2 flagged (1 rounded, 1 hyperextended), tempo trend ...``
    (``set 1 done at 1:06.6: ...`` with ``done_at``, its last lockout; ``5 reps (+ 2 lost
    in gaps in the data)`` when gaps hid reps of the set)."""
    n_reps = int(event.get("n_reps") or 0)
    rounded, hyper = int(event.get("n_rounded") or 0), int(event.get("n_hyperextended") or 0)
    done = f"done at {done_at}" if done_at else "done"
    counted = plural(n_reps, "rep")
    if event.get("n_reps_lost"):  # reps a gap in the data hid (rep_lost): not counted
        counted += f" (+ {event['n_reps_lost']} may be lost in gaps in the data)"
    parts = [f"set {event.get('set')} {done}: {counted}"]
    if "n_rounded" in event or "n_hyperextended" in event:
        parts.append(flagged_text(event.get("n_flagged"), rounded, hyper))
    if event.get("tempo_trend") is not None:
        parts.append(f"tempo trend {fmt(event.get('tempo_trend'), '+.2f')} s/rep")
    rise = event.get("peak_flexion_rise_deg", event.get("flexion_drift_deg"))  # older events
    if rise is not None:  # (None: one rep)
        parts.append(f"peak flexion rise {fmt(rise, '+.1f')} deg")
    return ", ".join(parts)


def flagged_text(n_flagged: int | None, n_rounded: int, n_hyperextended: int) -> str:
    """``3 flagged (2 rounded, 1 hyperextended)``; a rep with both flags counts once."""
    if n_flagged is None:
        n_flagged = n_rounded + n_hyperextended
    if not n_flagged:
        return "0 flagged"
    return f"{n_flagged} flagged ({n_rounded} rounded, {n_hyperextended} hyperextended)"


def calibration_text(event: dict[str, Any], timeline: Timeline) -> str:
    """``0:00.0  calibration ok: mounting NXNZNY (quality 0.96), still period at 0:01.5,
    forward axis from the first forward bend; angles from 0:00.0, settled at 0:52.5``:
    stamped where its angles start (``from_s``, set by :class:`SessionLog`), a failure
    when it was settled (``given_s``, set by the sink as well)."""
    detail = calibration_detail(event.get("message"))
    given, at = event.get("given_s"), stamp_s(event)
    stamp = f"{timeline.stamp(at)}  " if at is not None else ""
    if not event.get("ok"):
        return f"{stamp}calibration FAILED: {detail}"
    if event.get("refined"):  # stamped where it applies from; no "upright at" (unchanged)
        word = "revised" if event.get("revised") else "refined"
        return f"{stamp}calibration {word}: {mounting_text(event)}, {detail}"
    still_at = event.get("time_s")
    if still_at is not None and detail.startswith("still period"):
        detail = f"still period at {timeline.at(still_at)}" + detail.removeprefix("still period")
    elif still_at is not None and event.get("method") == "movement":
        detail += f"; upright at {timeline.at(still_at)}"
    if at is not None and given is not None and given > at:
        detail += f"; angles from {timeline.at(at)}, settled at {timeline.at(given)}"
    return f"{stamp}calibration ok: {mounting_text(event)}, {detail}"


def calibration_detail(message: Any) -> str:
    """A calibration message without the words that say its state (``calibrated: ``,
    ``calibration failed: ``): the line or the table says that already."""
    detail = str(message or "")
    said_words = ("calibration failed: ", "calibrated: ", "calibrated ", "calibration refined ",
                  "calibration revised: ")  # fmt: skip
    for said in said_words:
        detail = detail.removeprefix(said)
    return detail


def mounting_text(event: dict[str, Any]) -> str:
    """``mounting NXNZNY (quality 0.96)`` of a calibration event (log line and panel)."""
    quality = event.get("quality")
    return f"mounting {event.get('mounting')}" + (
        f" (quality {quality:.2f})" if isinstance(quality, (int, float)) else ""
    )


def stamp_s(event: dict[str, Any]) -> float | None:
    """The sample time a line is stamped with: a rep, set or gap at its ``end_s``, a
    calibration where its angles start (``from_s``) or, failed, when it was settled
    (``given_s``), anything else at its ``time_s``."""
    kind = event.get("type")
    key = {"rep": "end_s", "set": "end_s", "gap": "end_s"}.get(kind, "time_s")
    if kind == "calibration":
        key = "from_s" if event.get("ok") else "given_s"
    value = event.get(key)
    return float(value) if isinstance(value, (int, float)) else None


ALERTS = ("alert", "alert_renumbered")
"""An alert, and an alert said again with the rep's number once the rep is counted."""

NOTES = ("gap", "rep_lost", "warning")
"""Events about the data or the calibration, not one rep: the engine gives a gap when the
rows resume, before the reps that locked out before it are decided, and a ``warning``
(the flexion sign looks inverted) when it sees it (:class:`LogOrder`)."""

LINK = ("connected", "disconnected")
"""The link lost or back: written at once, stamped when the host saw it (a lifter must
know at once that the sensor is not heard); the reps that locked out before it and are
decided after it are then stamped when found (:class:`LogOrder`)."""


LATE_KINDS = ("rep", *ALERTS, "set", *NOTES, *LINK)
"""Lines stamped when found when they come after a later line (:meth:`LogOrder._out`): a
rep counted on looking back after the next rep's alert, its alert, and that next rep's
alert said again with its number (``alert_renumbered``)."""


class LogOrder:
    """Puts each event in the order of the lift and of its time from the recording's start.

    An alert for rep N of a set waits until rep N-1's line is out (at most
    :data:`HOLD_LIMIT_S` of sample time, or until an event that is neither a rep nor an
    alert comes). A note (:data:`NOTES`: a gap, a rep lost in one, a warning) waits until a
    line stamped at or after it is written, or :data:`HOLD_LIMIT_S` of sample time once the
    calibration line is out (a rep is decided at most ``decide_s``, 5 s, after its lockout;
    before calibration has settled the engine holds every row). A note that comes after a
    later line is written at once (:class:`SessionLog` stamps it when found). The link lost
    or back (:data:`LINK`) never waits: it is written at once with the alerts held, so a
    rep that locked out before it and is decided later is stamped when found."""

    def __init__(self) -> None:
        self._held: list[dict[str, Any]] = []  # alerts waiting for the rep before them
        self._notes: list[tuple[float, dict[str, Any]]] = []  # (stamp, note), in time order
        self._reps_out: set[tuple[Any, Any]] = set()
        self._latest_s: float | None = None  # the latest stamp handed out
        self._calibrated = False  # the calibration line is out
        self.now_s: float | None = None  # the latest sample seen (:meth:`due`)

    def push(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Events to write now, in order (``event`` may be held for later)."""
        kind = event.get("type")
        stamp = stamp_s(event)
        if kind in NOTES and stamp is not None:
            if self._latest_s is None or stamp > self._latest_s:
                self._notes.append((stamp, event))
                self._notes.sort(key=lambda pair: pair[0])
                return []
            return self._out([event])
        if kind == "calibration":
            self._calibrated = True
        if kind == "alert" and self._waits(event):
            self._held.append(event)
            return []
        if kind == "rep":
            self._reps_out.add((event.get("set"), event.get("rep")))
            out = [event]
            still = []
            for held in self._held:
                (still if self._waits(held) else out).append(held)
            self._held = still
            return self._out(out)
        if kind in ALERTS:
            return self._out([event])
        out, self._held = [*self._held, event], []
        return self._out(out)

    def due(self, now_s: float) -> list[dict[str, Any]]:
        """Held alerts and notes older than :data:`HOLD_LIMIT_S` at sample time ``now_s``
        (notes only once calibrated), in time order."""
        self.now_s = now_s
        late = [e for e in self._held if now_s - float(e.get("time_s") or now_s) > HOLD_LIMIT_S]
        self._held = [e for e in self._held if e not in late]
        if self._calibrated:
            late += [e for s, e in self._notes if now_s - s > HOLD_LIMIT_S]
            self._notes = [(s, e) for s, e in self._notes if now_s - s <= HOLD_LIMIT_S]
        late.sort(key=lambda e: stamp_s(e) or -math.inf)
        return self._out(late)

    def waiting(self) -> list[dict[str, Any]]:
        """The events held for later (alerts and notes), in time order: after every event
        handed out so far."""
        held = self._held + [e for _, e in self._notes]
        return sorted(held, key=lambda e: stamp_s(e) or -math.inf)

    def flush(self) -> list[dict[str, Any]]:
        out = self._out(self._held)
        notes, self._held, self._notes = [e for _, e in self._notes], [], []
        return out + self._out(notes)

    def _out(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``events`` with each held note before the first of them stamped at or after it;
        one of :data:`LATE_KINDS` stamped before a line already out is stamped when found
        (``found_s``: the latest sample seen), saying when it was."""
        out = []
        for event in events:
            stamp = stamp_s(event)
            late = stamp is not None and self._latest_s is not None and stamp < self._latest_s
            if late and event.get("type") in LATE_KINDS and self.now_s is not None:
                # found after later lines (a set over after a bend that was not a rep; a
                # rep lost that the set's cadence puts in a gap; a rep counted on looking
                # back after the next one's alert)
                event = {**event, "found_s": self.now_s}
                stamp = max(self.now_s, self._latest_s)
            if stamp is not None:
                while self._notes and self._notes[0][0] <= stamp:
                    out.append(self._notes.pop(0)[1])
                self._latest_s = stamp if self._latest_s is None else max(self._latest_s, stamp)
            out.append(event)
        return out

    def _waits(self, alert: dict[str, Any]) -> bool:
        rep = alert.get("rep")
        if not isinstance(rep, int) or rep <= 1:
            return False
        return (alert.get("set"), rep - 1) not in self._reps_out


class SessionLog:
    """The log's state: the timeline (origin from the first sample seen), the order, the
    threshold, and when each calibration event was given and where its angles start. :meth:`lines` turns an event
    into the lines to write now. ``width()``: the columns a rep line should fit in now
    (a terminal's width; None: no limit)."""

    def __init__(self, timeline: Timeline | None = None, threshold: float | None = None,
                 width: Callable[[], int | None] | None = None):
        self.timeline = timeline or Timeline()
        self.threshold = threshold
        self.width = width or (lambda: None)
        self.order = LogOrder()
        self.now_s: float | None = None
        self._flagged: dict[Any, int] = {}  # set number -> flagged reps so far

    def see(self, samples: Any) -> list[str]:
        if len(samples):
            self.timeline.see(float(samples[0, 0]))
            self.now_s = float(samples[-1, 0])
            return self._lines(self.order.due(self.now_s))
        return []

    def lines(self, event: dict[str, Any]) -> list[str]:
        kind = event.get("type")
        if kind == "calibration":  # its angles start at the recording's start, or refined later
            from_s = event.get("time_s") if event.get("refined") else self.timeline.origin_s
            event = {**event, "given_s": self.now_s, "from_s": from_s}
        elif kind == "rep":
            set_number = event.get("set")
            self._flagged[set_number] = self._flagged.get(set_number, 0) + is_flagged(event)
        elif kind == "set" and "n_flagged" not in event:
            event = {**event, "n_flagged": self.flagged_in(event.get("set"))}
        elif kind in (*NOTES, *LINK) and self.timeline.origin_s is None:  # before the first sample
            return self._lines([event])
        return self._lines(self.order.push(event))

    def flush(self) -> list[str]:
        return self._lines(self.order.flush())

    def fitted(self, lines: list[str]) -> list[str]:
        """``lines`` as they are, or each folded to the width (:func:`fold`)."""
        width = self.width()
        return [part for line in lines for part in fold(line, width)]

    def flagged_in(self, set_number: Any) -> int | None:
        """Flagged reps of set ``set_number`` seen so far (None: none of its reps seen)."""
        return self._flagged.get(set_number)

    def _lines(self, events: list[dict[str, Any]]) -> list[str]:
        width = self.width()
        return [
            part
            for event in events
            for part in fold(describe(event, self.timeline, self.threshold, width), width)
        ]


def fold(line: str, width: int | None) -> list[str]:
    """``line`` as it is when it fits in ``width`` columns (None: no limit, as in a file or
    a pipe), else folded at spaces with the rest indented under the text after its time
    stamp (``0:52.5  calibration ok: ...``), so that the time column stays clear; a line
    without a stamp (the summary) goes on two columns in. A number keeps the word after
    it (``-0.29 s/rep``, ``5 reps``)."""
    if width is None or width <= 0 or len(line) <= width:
        return [line]
    import re
    import textwrap

    after_stamp = line.find("  ")
    indent = after_stamp + 2 if 0 < after_stamp < width // 2 else 2
    glued = re.sub(r"(\d) (?=\S)", "\\1\u00a0", line)  # textwrap breaks at ASCII spaces only
    parts = textwrap.wrap(
        glued, width, subsequent_indent=" " * indent, break_long_words=False,
        break_on_hyphens=False,
    )  # fmt: skip
    return [part.replace("\u00a0", " ") for part in parts]


class LineOutput(Sink):
    """Writes the session log (:class:`SessionLog`), flushed line by line."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        timeline: Timeline | None = None,
        threshold: float | None = None,
    ) -> None:
        self._stream = stream
        self.log = SessionLog(timeline, threshold, lambda: terminal_width(self.stream))
        self._reader_gone = False

    def on_samples(self, samples: Any, gap_before: bool) -> None:
        for line in self.log.see(samples):
            self._print(line)

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def on_event(self, event: dict[str, Any]) -> None:
        for line in self.log.lines(event):
            self._print(line)

    def close(self, summary: dict[str, Any]) -> None:
        summary_text = self.log.fitted(summary_lines(summary, self.log.timeline))
        for line in self.log.flush() + summary_text:
            self._print(line)

    def _print(self, line: str) -> None:
        """Print and flush; when the reader has gone (``| head``), raise once (the runner
        then closes the other sinks and the CLI exits quietly) and stay silent after."""
        if self._reader_gone:
            return
        try:
            print(line, file=self.stream, flush=True)
        except OSError as exc:
            if not reader_went_away(exc):
                raise
            self._reader_gone = True
            if isinstance(exc, BrokenPipeError):
                raise
            raise BrokenPipeError(exc.errno, exc.strerror) from exc  # EIO: the terminal hung up


def terminal_width(stream: TextIO) -> int | None:
    """Columns of the terminal ``stream`` writes to (``$COLUMNS`` when set, as
    ``shutil.get_terminal_size`` reads it); None (no limit: whole lines for grep and
    logs) when ``stream`` is a file or a pipe."""
    import os

    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # a closed stream, or no file at all
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        columns_now = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None
    return columns_now or None  # 0: a terminal that never set its size (`script ... | head`)


def link_lines(n_lost: int, n_back: int) -> list[str]:
    """``link lost once, reconnected`` / ``link lost 3 times, reconnected each time``, or
    that the sensor was not back when the session ended (the last loss not followed by a
    reconnection)."""
    if not n_lost:
        return []
    lost = f"link lost {times(n_lost)}"
    if n_back >= n_lost:
        return [f"{lost}, reconnected" + (" each time" if n_lost > 1 else "")]
    back = f", reconnected {times(n_back)}" if n_back else ""
    return [f"{lost}{back}; not back when the session ended"]


def summary_lines(summary: dict[str, Any], timeline: Timeline | None = None) -> list[str]:
    """The end-of-session summary as a few lines (shared by line output and display)."""
    timeline = timeline or Timeline()
    span = clock(summary.get("duration_s"))
    origin = timeline.origin_s
    if origin is not None and timeline.has_wall_clock:
        end = origin + float(summary.get("duration_s") or 0.0)
        span += f" ({timeline.wall(origin)} to {timeline.wall(end)})"
    n_reps, n_sets = int(summary.get("n_reps", 0)), int(summary.get("n_sets", 0))
    flagged = flagged_text(
        summary.get("n_flagged", 0),
        int(summary.get("n_rounded", 0)),
        int(summary.get("n_hyperextended", 0)),
    )
    lines = [
        (
            f"session {summary.get('ended_by', 'ended')}: {span}, "
            f"{plural(int(summary.get('n_samples', 0)), 'sample')}, {plural(n_reps, 'rep')} in "
            f"{plural(n_sets, 'set')}, {flagged}, {plural(int(summary.get('n_alerts', 0)), 'alert')}, "
            f"{plural(int(summary.get('n_gaps', 0)), 'gap')}"
        )
    ]
    if summary.get("n_reps_lost"):
        outside = int(summary.get("n_reps_lost_outside_sets") or 0)
        lines.append(lost_reps_text(int(summary["n_reps_lost"]), outside))
    lines += link_lines(int(summary.get("n_disconnects") or 0),
                        int(summary.get("n_reconnects") or 0))
    if summary.get("n_undecodable"):
        n_bad = int(summary["n_undecodable"])
        lines.append(
            f"{plural(n_bad, 'notification')} from the device could not be read as samples "
            "(ignored)"
        )
    if summary.get("recording"):
        lines.append(f"recording: {summary['recording']}")
    if summary.get("events_file"):
        lines.append(f"events: {summary['events_file']}")
    return lines
