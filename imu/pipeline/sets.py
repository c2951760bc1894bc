"""Reps grouped into sets, and the ``rep``, ``set`` and ``alert`` events of confirmed reps.

The rep segmenter (:mod:`imu.pipeline.reps`) hands every excursion decided a rep to
:class:`SetGrouping`. Reps form a set while they follow each other within ``quiet_s``
facing the same way (optionally also split at a pause longer than ``set_rest_s``, or kept
together through a longer rest-pause with ``rest_pause_s``). A rep's verdict comes from
the classifier hook; its alerts (hyperextension, rounded) are given with it unless they
were given early, at the lockout (``provisional``).
"""

from __future__ import annotations

import numpy as np

from imu.pipeline.excursions import first_true
from imu.pipeline.metrics import set_summary
from imu.pipeline.rep_decision import wrap_deg
from imu.pipeline.rep_settings import RepSettings


def alert(
    kind: str, message: str, time_s: float, set_number: int, rep_number: int,
    p_rounded: float | None, provisional: bool,
) -> dict:  # fmt: skip
    """A rep's ``alert`` event (``p_rounded`` only on a ``rounded`` one)."""
    event = {"type": "alert", "kind": kind, "time_s": time_s, "set": set_number}
    event |= {"rep": rep_number, "message": message, "provisional": provisional}
    if kind == "rounded":
        event["p_rounded"] = p_rounded
    return event


def withdraw(early: dict, row: int, why: str) -> list[tuple[int, dict]]:
    """``alert_withdrawn`` events for provisional alerts ``early`` (kind -> alert)."""
    return [
        (
            row,
            {
                "type": "alert_withdrawn",
                **{k: given[k] for k in ("kind", "time_s", "set", "rep")},
                "message": f"rep {given['set']}.{given['rep']} {why}: "
                f"its {kind} alert is withdrawn",
            },
        )
        for kind, given in early.items()
    ]


def flags(record: dict, p_rounded: float | None, rounded: bool | None) -> list[tuple[str, str]]:
    """(kind, message) of each alert a rep with this record and verdict raises."""
    flagged = (
        (
            "hyperextension",
            record["hyperextended"],
            f"lockout {record['lockout_extension_deg']:.0f} deg beyond upright",
        ),
        ("rounded", bool(rounded), f"rep looks rounded (p = {p_rounded or 0:.2f})"),
    )
    return [(kind, message) for kind, is_flagged, message in flagged if is_flagged]


class SetGrouping:
    """The reps confirmed so far, the set in progress and the sets closed.

    ``confirm`` takes a rep (its record, its heading at the lockout, the provisional alerts
    given for it) and returns its events; ``end`` closes the set in progress. The
    classifier (any object with ``classify(record, history) -> (p_rounded, rounded)``, or
    None) gives each rep's verdict.
    """

    def __init__(self, settings: RepSettings, classifier=None) -> None:
        self.settings = settings
        self.classifier = classifier
        self.records: list[dict] = []
        self.reps: list[dict] = []
        self.sets: list[dict] = []
        self.set_reps: list[dict] = []
        """The reps of the set in progress (their ``rep`` events)."""
        self.last: dict | None = None
        """The record of the last rep of the set in progress (None once it is over)."""
        self.last_twist_deg = 0.0
        self.moved = False
        """Turned away since the last rep's lockout (rest-pause)."""
        self.bar_down = False
        """A candidate that was not a rep since the last rep (rest-pause)."""
        self.lost_s: float | None = None
        """Time of the last excursion lost to a gap in the set in progress (``rep_lost``)."""

    def note_lost(self, time_s: float) -> None:
        """An excursion of the set in progress was lost to a gap at ``time_s``: the set goes
        on from there (two reps lost in a row must not end it)."""
        if self.last is not None:
            self.lost_s = max(time_s, self.lost_s or time_s)

    def _active_s(self) -> float:
        """The last rep's lockout, or a later excursion lost to a gap."""
        assert self.last is not None
        return max(self.last["end_s"], self.lost_s if self.lost_s is not None else -np.inf)

    def deadline(self) -> float:
        """Time (s) at which the set in progress is over without a next rep (``quiet_s``
        after its last rep's lockout or a later lost excursion), inf without one."""
        if self.last is not None:
            return self._active_s() + self.settings.quiet_s
        return np.inf

    def _turned(self, twist_deg: np.ndarray) -> np.ndarray:
        """Whether each twist is turned away from the last rep's heading at its lockout
        (False without a set in progress or with rest-pause off)."""
        s = self.settings
        if self.last is None or s.rest_pause_s is None:
            return np.zeros(len(twist_deg), dtype=bool)
        turned = wrap_deg(twist_deg - self.last_twist_deg)
        return np.abs(turned) > s.rest_pause_turn_deg

    def over(self, time_s: np.ndarray, twist_deg: np.ndarray) -> int | None:
        """First position of upright rows (``time_s``, ``twist_deg``) at which the set in
        progress is over: ``quiet_s`` after its last rep's lockout once the lifter has
        turned away (or with rest-pause off), ``rest_pause_s`` after it anyway. Remembers a
        turn. None when it goes on past these rows (or there is none)."""
        if self.last is None:
            return None
        s = self.settings
        t = time_s
        if s.rest_pause_s is None:  # times increase: the first row after the deadline
            late = int(np.searchsorted(t, self.deadline(), side="right"))
            return late if late < len(t) else None
        over = t > self.deadline()
        moved = self.moved | np.logical_or.accumulate(self._turned(twist_deg))
        self.moved = bool(moved[-1]) if len(moved) else self.moved
        over &= moved | (t > self.last["end_s"] + s.rest_pause_s)
        late = first_true(over)
        return late if late < len(t) else None

    def joins(self, record: dict, start_twist_deg: float) -> bool:
        """Whether rep ``record`` (starting at heading ``start_twist_deg``) continues the set
        in progress: it starts within ``quiet_s`` of the last rep's lockout, facing the same
        way (a set is done facing the bar; walking off and turning ends it), or, with
        ``rest_pause_s``, after a longer pause standing still."""
        s = self.settings
        if self.last is None:
            return False
        turned = wrap_deg(start_twist_deg - self.last_twist_deg)
        pause_s = record["start_s"] - self._active_s()
        if abs(turned) > s.max_turn_in_set_deg:
            return False
        if pause_s <= s.quiet_s:
            return True
        return (
            s.rest_pause_s is not None
            and pause_s <= s.rest_pause_s
            and not self.moved
            and not self.bar_down
        )

    def end(self, row: int) -> list[tuple[int, dict]]:
        """The set in progress is over: its ``set`` event."""
        self.last, self.lost_s = None, None
        return [(row, self._close())] if self.set_reps else []

    def _rested(self, before: dict, record: dict) -> bool:
        """Whether the pause from rep ``before`` to ``record`` exceeds ``set_rest_s``."""
        rest_s = self.settings.set_rest_s
        return rest_s is not None and record["start_s"] - before["end_s"] > rest_s

    def _place(self, record: dict) -> tuple[int, int]:
        """(set, rep) numbers ``record`` gets after the reps of the set in progress."""
        n_sets = len(self.sets)
        if self.set_reps and self._rested(self.set_reps[-1], record):
            return n_sets + 2, 1
        return n_sets + 1, len(self.set_reps) + 1

    def _verdict(self, record: dict) -> tuple[float | None, bool | None]:
        """(p_rounded, rounded) from the classifier hook, (None, None) without a classifier."""
        if self.classifier is None:
            return None, None
        p, flag = self.classifier.classify(record, list(self.records))
        return float(p), bool(flag)

    def provisional(self, record: dict, start_twist_deg: float) -> dict[str, dict]:
        """Provisional alerts (kind -> alert) for an excursion taken for a rep at its
        lockout, numbered as the rep it would be (the classifier sees the history it will
        see when the rep is confirmed)."""
        if self.joins(record, start_twist_deg):
            set_number, rep_number = self._place(record)
        else:
            set_number, rep_number = len(self.sets) + 1 + bool(self.set_reps), 1
        p_rounded, rounded = self._verdict(record)
        return {
            kind: alert(kind, message, record["end_s"], set_number, rep_number, p_rounded, True)
            for kind, message in flags(record, p_rounded, rounded)
        }

    def confirm(
        self, record: dict, end_twist_deg: float, row: int, early: dict
    ) -> list[tuple[int, dict]]:
        """Confirm ``record`` (heading ``end_twist_deg`` at its lockout) as a rep of the set
        in progress: its event, then alerts not already given early (``early``: kind ->
        provisional alert) and withdrawals of early ones it does not confirm."""
        events: list[tuple[int, dict]] = []
        set_number, rep_number = self._place(record)
        if set_number > len(self.sets) + 1:
            events.append((row, self._close()))
        p_rounded, rounded = self._verdict(record)
        rep = {
            "type": "rep",
            "set": set_number,
            "rep": rep_number,
            **{k: v for k, v in record.items() if k != "trace"},
            "rounded": rounded,
            "p_rounded": p_rounded,
        }
        self.records.append(record)
        self.reps.append(rep)
        self.set_reps.append(rep)
        events.append((row, rep))
        raised = flags(record, p_rounded, rounded)
        for kind, message in raised:
            if kind not in early:
                event = alert(kind, message, rep["end_s"], set_number, rep_number, p_rounded, False)
                events.append((row, event))
        kinds = {kind for kind, _ in raised}
        unconfirmed = {kind: event for kind, event in early.items() if kind not in kinds}
        self.last, self.last_twist_deg, self.moved = record, end_twist_deg, False
        self.bar_down = False
        return events + withdraw(unconfirmed, row, "is not flagged once complete")

    def _close(self) -> dict:
        summary = {"type": "set", **set_summary(self.set_reps)}
        self.sets.append(summary)
        self.set_reps = []
        return summary
