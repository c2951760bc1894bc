"""What a person reads: times from the recording's start, clock times, verdict words.

One word per concept across the CLI, the live screen, the line log, the report and the
docs (docs/vocabulary.md):

- a rep's **verdict** is ``good``, ``rounded`` or ``hyperextended`` (both flags may be
  set); a rep is **flagged** when it is rounded or hyperextended (or both);
- a probability is always shown with the model's **threshold** beside it:
  ``p=0.46 ≥ 0.15`` (flagged rounded) or ``p=0.05 < 0.15``;
- times are **from the recording's first sample** as ``m:ss.s`` (``h:mm:ss.s`` from one
  hour on, ``Nd hh:mm:ss.s`` from one day on: a clock that jumped), with the wall-clock
  time beside them when the recording says when it started (``started_utc`` metadata, or
  a live sensor stamped by the host clock);
- a number compared with a limit has decimals enough to show which side it is on
  (:func:`apart`: ``flexion 60.2 deg is beyond your limit of 60.0 deg``).

The older words (``OK``/``ok`` in replay, ``neutral`` in the report) were never written
to files or events, so there is nothing to read back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

GOOD = "good"
ROUNDED = "rounded"
HYPEREXTENDED = "hyperextended"
NO_MODEL = "no flag (no model)"
"""The verdict of a rep neither hyperextended nor judged by a model (``--no-model``)."""
UNIX_TIME_MIN_S = 1e9
"""Sample times at least this large (2001-09-09 on) are taken as Unix time when the
recording's ``started_utc`` agrees with its first sample (live recordings, imports with a
clock)."""


DAY_S = 86400.0
FAR_S = 1e12
"""Times and durations beyond this (~31,700 years) are shown in seconds (``1e+15 s``)."""


def clock(seconds: float | None) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` from one hour on, ``Nd hh:mm:ss.s`` from one day on: a
    recording whose clock jumped) for a time from the recording's start; ``?`` when
    unknown. ``clock(52.84) == "0:52.8"``, ``clock(3725) == "1:02:05.0"``,
    ``clock(1e8) == "1157d 09:46:40.0"``."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    sign = "-" if seconds < 0 else ""
    if abs(seconds) >= FAR_S:
        return f"{sign}{abs(seconds):.3g} s"
    whole, tenth = divmod(round(abs(seconds) * 10), 10)
    days, hours, minutes, secs = _days_hours_minutes_seconds(whole)
    if days:
        return f"{sign}{days}d {hours:02d}:{minutes:02d}:{secs:02d}.{tenth}"
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}.{tenth}"
    return f"{sign}{minutes}:{secs:02d}.{tenth}"


def _days_hours_minutes_seconds(whole_s: int) -> tuple[int, int, int, int]:
    minutes, secs = divmod(whole_s, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return days, hours, minutes, secs


def duration(seconds: float | None, digits: int = 2) -> str:
    """A length of time in words: ``1.04 s`` (``digits`` decimals) under a minute, then
    ``5 min 03 s``, ``2 h 05 min``, ``1157 days 09 h`` (a clock that jumped); ``?`` when
    unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    if abs(seconds) < 60 or abs(seconds) >= FAR_S:
        return f"{signed(seconds, f'.{digits}f' if abs(seconds) < 60 else '.3g')} s"
    sign = "-" if seconds < 0 else ""
    days, hours, minutes, secs = _days_hours_minutes_seconds(round(abs(seconds)))
    if days:
        return f"{sign}{plural(days, 'day')} {hours:02d} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min {secs:02d} s"


def zone_name() -> str:
    """The name of this computer's time zone (``CET``, ``UTC``): clock times are local."""
    return dt.datetime.now().astimezone().tzname() or "local time"


def started_at(metadata: Mapping[str, Any] | None) -> dt.datetime | None:
    """``started_utc`` metadata as an aware datetime (a time without offset is UTC)."""
    text = str((metadata or {}).get("started_utc", "")).strip()
    if not text:
        return None
    try:
        started = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return started.replace(tzinfo=dt.timezone.utc) if started.tzinfo is None else started


class Timeline:
    """Turns a sample time (s, the recording's own clock) into what a person reads.

    ``origin_s``: the recording's first sample time (shown as ``0:00.0``).
    ``unix_offset_s``: add it to a sample time to get Unix time (None: unknown, no
    wall-clock shown). Build one with :meth:`for_recording` or :meth:`host_clock`.
    """

    def __init__(self, origin_s: float | None = None, unix_offset_s: float | None = None):
        self.origin_s = origin_s
        self.unix_offset_s = unix_offset_s

    @classmethod
    def for_recording(
        cls, first_time_s: float | None, metadata: Mapping[str, Any] | None
    ) -> Timeline:
        """The first sample is ``0:00.0``; the wall clock comes from ``started_utc``.

        When the sample times are themselves Unix time (within a minute of
        ``started_utc``: live recordings, imports with a clock) they are used as they are;
        otherwise the first sample is taken to be at ``started_utc``."""
        started = started_at(metadata)
        offset = None
        if started is not None and first_time_s is not None and math.isfinite(first_time_s):
            start_unix = started.timestamp()
            is_unix = first_time_s >= UNIX_TIME_MIN_S and abs(first_time_s - start_unix) < 60
            offset = 0.0 if is_unix else start_unix - first_time_s
        return cls(first_time_s, offset)

    @classmethod
    def host_clock(cls) -> Timeline:
        """A live sensor: sample times are the host's Unix time; the origin is set by the
        first sample :meth:`see` is given."""
        return cls(None, 0.0)

    def see(self, first_time_s: float) -> None:
        """Take ``first_time_s`` as the origin unless one is set already."""
        if self.origin_s is None and math.isfinite(first_time_s):
            self.origin_s = float(first_time_s)

    def since_start(self, time_s: float | None) -> float | None:
        if time_s is None or self.origin_s is None:
            return None if time_s is None else float(time_s)
        return float(time_s) - self.origin_s

    def at(self, time_s: float | None) -> str:
        """``m:ss.s`` from the start."""
        return clock(self.since_start(time_s))

    def wall(self, time_s: float | None, utc: bool = False) -> str:
        """Clock time ``HH:MM:SS`` of a sample time, local (``utc``: in UTC); ``""`` when
        unknown."""
        if time_s is None or self.unix_offset_s is None or not math.isfinite(time_s):
            return ""
        try:
            zone = dt.timezone.utc if utc else None
            moment = dt.datetime.fromtimestamp(time_s + self.unix_offset_s, zone)
        except (OverflowError, OSError, ValueError):
            return ""
        return moment.strftime("%H:%M:%S")

    def stamp(self, time_s: float | None) -> str:
        """``0:52.8`` or, with a known wall clock, ``0:52.8 (14:03:21)``."""
        wall = self.wall(time_s)
        return f"{self.at(time_s)} ({wall})" if wall else self.at(time_s)

    @property
    def has_wall_clock(self) -> bool:
        return self.unix_offset_s is not None


def probability(p: float | None, threshold: float | None) -> str:
    """``p=0.46 ≥ 0.15`` / ``p=0.05 < 0.15`` (more digits when two would hide the side);
    ``p=0.46`` without a threshold; ``""`` without a probability."""
    if p is None or not isinstance(p, (int, float)) or not math.isfinite(p):
        return ""
    if threshold is None or not math.isfinite(threshold):
        return f"p={p:.2f}"
    shown, limit = apart(p, threshold, 2)
    side = "≥" if p >= threshold else "<"
    return f"p={shown} {side} {limit}"


def apart(value: float, limit: float, digits: int = 0) -> tuple[str, str]:
    """``value`` and ``limit`` with ``digits`` decimals, or up to two more when fewer would
    show the same number on both sides of a comparison: ``apart(75.4, 75) == ("75.4",
    "75.0")``, ``apart(0.165, 0.166, 2) == ("0.165", "0.166")``."""
    last = digits + 2
    while digits < last and f"{value:.{digits}f}" == f"{limit:.{digits}f}":
        digits += 1
    return f"{value:.{digits}f}", f"{limit:.{digits}f}"


def verdict(rep: Mapping[str, Any]) -> str:
    """``good``, ``rounded``, ``hyperextended``, ``rounded + hyperextended``; a rep with
    no classifier verdict and no flag is ``no flag (no model)``."""
    flags = [name for name in (ROUNDED, HYPEREXTENDED) if rep.get(name)]
    if flags:
        return " + ".join(flags)
    return GOOD if rep.get(ROUNDED) is not None else NO_MODEL


def is_flagged(rep: Mapping[str, Any]) -> bool:
    """Rounded or hyperextended (or both): what "flagged" counts everywhere."""
    return bool(rep.get(ROUNDED) or rep.get(HYPEREXTENDED))


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 set``, ``2 sets``, ``0 reps``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def times(n: int) -> str:
    """``once``, ``2 times``, ``0 times`` (how often: the link lost, reconnected)."""
    return "once" if n == 1 else f"{n} times"


def signed(value: float | None, spec: str = "+.1f") -> str:
    """``format(value, spec)`` without a negative zero (``-0.0`` -> ``0.0``); ``?`` if missing."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "?"
    text = format(value, spec)
    if float(text) == 0:
        text = format(0.0, spec.replace("+", ""))
    return text


def lost_reps_text(n_lost: int, n_outside: int = 0) -> str:
    """``1 rep may be lost in a gap in the data`` (``rep_lost`` events, whatever their
    ``basis``: cut off by a gap, spanning one, or put in one by the set's cadence; the live
    and replay summary, ``imu analyze``, the report say it alike). ``n_outside``: those not
    counted in a set's ``n_reps_lost`` (the set lines' '+ n' add up to the rest):
    ``3 reps may be lost in gaps in the data (1 of them outside a set)``."""
    gaps = "a gap" if n_lost == 1 else "gaps"
    text = f"{plural(n_lost, 'rep')} may be lost in {gaps} in the data"
    if n_outside and n_lost == 1:
        return f"{text} (outside a set)"
    if n_outside:
        return f"{text} ({n_outside} of them outside a set)"
    return text
