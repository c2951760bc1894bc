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
from imu.text import apart, probability


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


def withdraw(
    early: dict, row: int, why: str, numbers: tuple[int, int] | None = None
) -> list[tuple[int, dict]]:
    """``alert_withdrawn`` events for provisional alerts ``early`` (kind -> alert), each
    with the numbers it was given; ``numbers``: (set, rep) of the confirmed rep, which its
    message names when they differ (``rep 1.2 (first said as rep 1.1) ...``)."""
    return [
        (
            row,
            {
                "type": "alert_withdrawn",
                **{k: given[k] for k in ("kind", "time_s", "set", "rep")},
                "message": f"{_named(given, numbers)} {why}: its {kind} alert is withdrawn",
            },
        )
        for kind, given in early.items()
    ]


def _named(given: dict, numbers: tuple[int, int] | None) -> str:
    """``rep 1.1``, or ``rep 1.2 (first said as rep 1.1)`` when the rep of the provisional
    alert ``given`` was confirmed with other ``numbers`` (set, rep)."""
    said = (given["set"], given["rep"])
    if numbers is None or numbers == said:
        return f"rep {said[0]}.{said[1]}"
    return f"rep {numbers[0]}.{numbers[1]} (first said as rep {said[0]}.{said[1]})"


def renumber(given: dict, row: int, numbers: tuple[int, int]) -> list[tuple[int, dict]]:
    """An ``alert_renumbered`` event when the rep of the provisional alert ``given`` was
    confirmed with other ``numbers`` (set, rep) than it said (a rep before it counted on
    looking back since): the alert with the rep's numbers and the ones it said
    (``said_set``, ``said_rep``); nothing when they agree."""
    if (given["set"], given["rep"]) == numbers:
        return []
    kept = {k: v for k, v in given.items() if k not in ("type", "provisional", "set", "rep")}
    event = {"type": "alert_renumbered", **kept, "set": numbers[0], "rep": numbers[1]}
    return [(row, event | {"said_set": given["set"], "said_rep": given["rep"]})]


def flags(
    record: dict, p_rounded: float | None, rounded: bool | None,
    hyperextension_deg: float, threshold: float | None = None,
) -> list[tuple[str, str]]:  # fmt: skip
    """(kind, message) of each alert a rep with this record and verdict raises, each
    measure beside its limit (docs/vocabulary.md): ``lockout 12 deg beyond upright, limit
    10 deg``, ``rounded (p=0.46 ≥ 0.16)`` (the model's ``threshold``)."""
    lockout, limit = apart(float(record["lockout_extension_deg"]), hyperextension_deg)
    flagged = (
        (
            "hyperextension",
            record["hyperextended"],
            f"lockout {lockout} deg beyond upright, limit {limit} deg",
        ),
        ("rounded", bool(rounded), f"rounded ({probability(p_rounded, threshold)})"),
    )
    return [(kind, message) for kind, is_flagged, message in flagged if is_flagged]


class SetGrouping:
    """The reps confirmed so far, the set in progress and the sets closed.

    ``confirm`` takes a rep (its record, its heading at the lockout, the provisional alerts
    given for it) and returns its events; ``end`` closes the set in progress. The
    classifier (any object with ``classify(record, history) -> (p_rounded, rounded)``, or
    None) gives each rep's verdict.
    """

    def __init__(self, settings: RepSettings, classifier=None, lost: list | None = None) -> None:
        self.settings = settings
        self.classifier = classifier
        self.lost: list[dict] = [] if lost is None else lost
        """Every ``rep_lost`` event (the segmenter's, and the ones a set's cadence adds)."""
        self.set_lost_s: list[float] = []
        """Times of the excursions lost to a gap since the last set was closed."""
        self.set_gaps: list[dict] = []
        """The gaps that restarted the segmenter since the last set was closed
        (:meth:`note_gap`)."""
        self.set_bent_s: list[float] = []
        """How long each rep of the set in progress was bent (above ``top_deg``), s."""
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
        self.set_lost_s.append(time_s)

    def note_gap(self, gap: dict) -> None:
        """A gap restarted the segmenter: the reps it hid are counted when the set is
        closed (:func:`hidden_reps`). ``gap``: ``before_s``, ``after_s`` (the rows on either
        side), ``bent_from_s`` (an excursion cut before it: when the trunk left upright,
        else None), ``bent_after`` and ``bent_until_s`` (resumed bent: when the trunk was
        upright again, None until seen; the dict may be filled in later)."""
        self.set_gaps.append(gap)

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
        if not self.set_reps:  # (called as the first rep of a set is confirmed) the lost
            return []  # excursions so far stay: those within quiet_s before it are its own
        return self._close(row)

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

    def _flags(self, record: dict, p_rounded: float | None, rounded: bool | None):
        threshold = getattr(self.classifier, "threshold", None)
        return flags(record, p_rounded, rounded, self.settings.hyperextension_deg, threshold)

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
            for kind, message in self._flags(record, p_rounded, rounded)
        }

    def confirm(
        self, record: dict, end_twist_deg: float, row: int, early: dict, bent_s: float = 0.0,
        look_back: bool = False,
    ) -> list[tuple[int, dict]]:  # fmt: skip
        """Confirm ``record`` (heading ``end_twist_deg`` at its lockout) as a rep of the set
        in progress: its event, then alerts not already given early (``early``: kind ->
        provisional alert) and withdrawals of early ones it does not confirm. ``bent_s``: how
        long the rep was bent (above ``top_deg``); ``look_back``: counted on looking back
        (imu.pipeline.rep_decision)."""
        events: list[tuple[int, dict]] = []
        set_number, rep_number = self._place(record)
        if set_number > len(self.sets) + 1:
            events += self._close(row)
        p_rounded, rounded = self._verdict(record)
        rep = {
            "type": "rep",
            "set": set_number,
            "rep": rep_number,
            **{k: v for k, v in record.items() if k != "trace"},
            "rounded": rounded,
            "p_rounded": p_rounded,
            "look_back": look_back,
        }
        self.records.append(record)
        self.reps.append(rep)
        self.set_reps.append(rep)
        self.set_bent_s.append(bent_s)
        events.append((row, rep))
        raised = self._flags(record, p_rounded, rounded)
        for kind, message in raised:
            if kind not in early:
                event = alert(kind, message, rep["end_s"], set_number, rep_number, p_rounded, False)
                events.append((row, event))
        kinds = {kind for kind, _ in raised}
        numbers = (set_number, rep_number)
        for kind in (kind for kind, _ in raised if kind in early):  # said with other
            events += renumber(early[kind], row, numbers)  # numbers: said again with these
        unconfirmed = {kind: event for kind, event in early.items() if kind not in kinds}
        self.last, self.last_twist_deg, self.moved = record, end_twist_deg, False
        self.bar_down = False
        return events + withdraw(unconfirmed, row, "is not flagged once complete", numbers)

    def _close(self, row: int) -> list[tuple[int, dict]]:
        """Close the set in progress: a ``rep_lost`` event for each rep its cadence puts in
        a gap beyond those already reported (:func:`hidden_reps`), then its ``set`` event
        (``n_reps_lost``: the reps of the set lost to gaps)."""
        hidden = hidden_reps(self.set_reps, self.set_bent_s, self.set_gaps, self.set_lost_s)
        events = []
        for time_s, period_s, gap in hidden:
            lost = {
                "type": "rep_lost",
                "time_s": time_s,
                "basis": "cadence",
                "message": f"the set's own cadence (a rep every {period_s:.1f} s) puts a rep in "
                f"the gap of {gap['after_s'] - gap['before_s']:.1f} s in the data: not counted",
            }
            self.lost.append(lost)
            events.append((row, lost))
        n_lost = len(hidden) + len(own_lost(self.set_reps, self.set_lost_s, self.settings.quiet_s))
        summary = {"type": "set", **set_summary(self.set_reps), "n_reps_lost": n_lost}
        self.sets.append(summary)
        self.set_reps, self.set_lost_s, self.set_gaps, self.set_bent_s = [], [], [], []
        return [*events, (row, summary)]


def own_lost(reps: list[dict], lost_s: list[float], quiet_s: float) -> list[float]:
    """The times in ``lost_s`` (excursions lost to gaps since the set before) that belong
    to the set of ``reps``: within ``quiet_s`` of its reps or of another lost excursion of
    it (the rule that keeps a set going, :meth:`SetGrouping.note_lost`), so two reps lost
    in a row before the first counted one are both the set's (the log said 2 reps may be
    lost, the set '+ 1'). The others are lost outside a set: said by the session summary."""
    lo, hi = reps[0]["start_s"], reps[-1]["end_s"]
    for t in sorted(t for t in lost_s if t > hi):
        if t > hi + quiet_s:
            break
        hi = t
    for t in sorted((t for t in lost_s if t < lo), reverse=True):
        if t < lo - quiet_s:
            break
        lo = t
    return [t for t in lost_s if lo <= t <= hi]


def hidden_reps(
    reps: list[dict], bent_s: list[float], gaps: list[dict], lost_s: list[float]
) -> list[tuple[float, float, dict]]:
    """Reps of a set hidden in gaps that restarted the segmenter (:meth:`SetGrouping.note_gap`),
    beyond the ``rep_lost`` already reported (at ``lost_s``): ``(time_s, period_s, gap)``
    for each.

    The set's cadence is the median lockout-to-lockout interval of its consecutive reps
    with no such gap and no lost rep between them (none: nothing is added). Between two
    reps with gaps between them, ``round(interval / cadence) - 1`` reps were done, none of
    them measured, but no more than the gaps have room for (:func:`room`, each rep bent at
    least as long as the set's shortest, ``bent_s``) and no fewer than were reported lost.
    Those not reported yet are added, timed at the lockouts the cadence puts between the
    two (within the nearest gap)."""
    ends = np.array([r["end_s"] for r in reps])
    starts = np.array([r["start_s"] for r in reps])
    lost = np.array(lost_s, dtype=float)
    if len(reps) < 2 or not gaps:
        return []
    shortest_s = max(float(min(bent_s)), 0.5)

    def between(k: int) -> tuple[list[dict], int]:
        inside = [g for g in gaps if g["after_s"] > ends[k] and g["before_s"] < starts[k + 1]]
        return inside, int(np.sum((lost > ends[k]) & (lost < ends[k + 1])))

    pairs = [between(k) for k in range(len(reps) - 1)]
    clean = [ends[k + 1] - ends[k] for k, (g, n) in enumerate(pairs) if not g and not n]
    if not clean:
        return []
    period_s = float(np.median(clean))
    hidden = []
    for k, (inside, n_lost) in enumerate(pairs):
        if not inside:
            continue
        n_done = round((ends[k + 1] - ends[k]) / period_s) - 1
        n_done = min(n_done, sum(room(g, shortest_s) for g in inside))
        for m in range(n_lost, n_done):  # the later lockouts: the first ones were reported
            time_s = float(ends[k] + (m + 1) * (ends[k + 1] - ends[k]) / (n_done + 1))
            gap = min(inside, key=lambda g: abs((g["before_s"] + g["after_s"]) / 2 - time_s))
            hidden.append((float(np.clip(time_s, gap["before_s"], gap["after_s"])), period_s, gap))
    return hidden


def room(gap: dict, bent_s: float) -> int:
    """How many reps, each bent (above ``top_deg``) at least ``bent_s``, a gap can hide
    (:meth:`SetGrouping.note_gap`): the excursions seen cut off on either side of it (two
    if they are too far apart to be one rep), and as many whole reps as fit between
    them (or the gap's edges where the trunk was upright)."""
    lo, hi = gap["before_s"], gap["after_s"]
    cut_before = gap["bent_from_s"] is not None
    n = int(cut_before) + int(gap["bent_after"])
    if cut_before:  # the excursion cut before it ended no earlier (and not before the gap)
        lo = max(lo, gap["bent_from_s"] + bent_s)
    if gap["bent_after"] and gap["bent_until_s"] is not None:
        hi = min(hi, gap["bent_until_s"] - bent_s)  # nor did the one cut after it start later
        if cut_before and gap["bent_until_s"] - gap["bent_from_s"] < 2 * bent_s:
            return 1  # one excursion, cut on both sides
    return n + max(0, int((hi - lo) // bent_s))
