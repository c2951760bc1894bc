"""Streaming rep segmentation on flexion, with hysteresis: excursions, their decision, sets.

An excursion goes from upright (below ``top_deg``) to deeper than ``bottom_deg`` and
back below ``top_deg``. It is cut ``2 * lockout_window_s`` later, or as soon as the
next descent starts (touch-and-go). Where it starts, bottoms out and ends, and the rules
that reject excursions that cannot be reps (sitting, loading plates, ...), are in
:mod:`imu.pipeline.excursions`. Every other excursion is a candidate, and
:mod:`imu.pipeline.rep_decision` decides from its own kinematics and its context whether
it is a rep (a pick-up, a plate, the bar put down are not), when the next excursion rises
or ``decide_s`` after its lockout. Reps are grouped into sets by
:mod:`imu.pipeline.sets`. Verdict alerts are given at the lockout, before the rep is
confirmed (provisional, see :class:`RepSegmenter`). The work is done per chunk on
threshold crossings, and every decision depends only on the samples so far: streamed ==
batch. Settings and lift presets: :mod:`imu.pipeline.rep_settings`; defaults are
documented in docs/calibration.md.
"""

from __future__ import annotations

import numpy as np

from imu.pipeline.buffers import GrowingArray
from imu.pipeline.excursions import (
    crossing,
    is_rep,
    locate,
    lockout_in_gap,
    lockout_seen,
    rep_record,
)
from imu.pipeline.metrics import extend_lockout
from imu.pipeline.rep_decision import (
    Candidate,
    Context,
    DecisionSettings,
    EveryCandidate,
    after_features,
    default_model,
    look_back_features,
    own_features,
    relation,
)
from imu.pipeline.rep_settings import RepSettings
from imu.pipeline.sets import SetGrouping, withdraw
from imu.text import apart

SHORT_GAP_S = 0.1
"""A bridged gap this long or shorter (s, from the row before it to the row after it)
cannot make an excursion across it a non-rep: no rep of a SYNTHETIC set was missed with
a gap of up to 0.2 s anywhere in it (test_pipeline_gap_reps' set, 6 reps x 14 places;
imu.sim sets of lifters 0-3, every 0.25 s), the first at 0.24 s; a lost notification
makes a gap of 0.04-0.09 s (4-8 samples at 100 Hz)."""


class RepSegmenter:
    """Streaming segmenter: ``update`` takes accepted rows, returns ``(row, event)`` pairs.

    Rows are given as ``time_s`` (n,), ``angles`` (n, 3) and their global ``rows``
    indices (used to order events). ``restart()`` (after a long gap) settles what the rows
    so far allow and reports an excursion cut off by the gap as ``rep_lost``.

    Each candidate excursion is held until the next one rises past ``bottom_deg`` or
    ``decide_s`` after its lockout; then ``decision`` (default: the shipped
    :class:`~imu.pipeline.rep_decision.DecisionModel`; any object with ``early(features)``
    and ``final(features)`` returning ``(p_rep, is_rep)``) decides whether it is a rep. So
    a ``rep`` event comes at most ``decide_s`` after its lockout.

    Alerts do not wait: a candidate that the early verdict (the same features without what
    follows the lockout) takes for a rep is judged as soon as its lockout is established
    (``provisional: true`` alerts); the rep's own verdict is made when it is confirmed, and
    early alerts it does not confirm (or of a candidate that was not a rep after all) get
    an ``alert_withdrawn`` event (docs/calibration.md, latency).
    """

    def __init__(
        self, settings: RepSettings = RepSettings(), classifier=None, decision=None
    ) -> None:
        self.settings = settings
        if decision is None:
            decision = default_model() if settings.learned_decision else EveryCandidate()
        self.decision = decision
        self.decision_settings = DecisionSettings(
            decide_s=settings.decide_s, lockout_window_s=settings.lockout_window_s
        )
        self.lost: list[dict] = []
        """``rep_lost`` events: excursions cut off by a gap (possibly reps)."""
        self._gaps: list[tuple[float, float]] = []  # bridged gaps (start_s, end_s) still near
        self._sets = SetGrouping(settings, classifier, self.lost)
        self._gap: dict | None = None  # the last restart gap, while its edges are being seen
        self._context = Context()
        self._lost_context: list[Candidate] = []  # see _lost_to_context
        self._candidate: dict | None = None  # the excursion awaiting its decision
        self._early: dict = {}  # the provisional alerts of the excursion in progress
        self._early_done = True  # whether the provisional check of the one in progress is done
        self._withdrawn: list[dict] = []  # withdrawals to emit with the next row
        self._check_resume = False  # the first row after a restart is still to be checked
        self._resumed: tuple[np.ndarray, np.ndarray] | None = None  # see _lost_after_restart
        self._decided_rep = False  # the last decision
        self._not_reps: list[dict] = []  # the candidates decided not reps since the last rep
        self._judged: tuple[tuple[float, ...], dict | None] | None = None  # see _excursion
        self._limit_armed = True
        self._clear()

    def _clear(self) -> None:
        # time_s, flexion, lateral, twist, global row, |acc| (m/s^2; NaN when not given)
        self._history = GrowingArray(6)
        self._state = "up"
        self._floor = 0  # no rep may start before this position (previous rep's end)
        self._floor_in_gap = False  # the previous rep's lockout was hidden in a gap after it
        self._bent_until_s = None  # rows started bent (recording start, restart): upright from
        self._cut_in_gap = False  # the excursion being judged is cut at a gap hiding its lockout
        self._cursor = 0  # next position to examine
        self._rise = self._down = -1

    def restart(self) -> None:
        """After a long gap: settle what the rows before it allow (an excursion past its
        lockout is cut there and decided on the rows it has; a candidate awaiting its
        decision is held until the rows after the gap tell whether the next one rose in it,
        :meth:`_hold`), report an excursion that the gap cut off and that is not a rep on
        the rows before it as ``rep_lost`` (withdrawing its early alerts; the later
        decisions see it as a rep, :meth:`_lost_to_context`), and forget the history; the
        set in progress goes on."""
        n = self._history.n
        events: list[tuple[int, dict]] = []
        # the candidates turned down before the gap stay for the look-back: the rep after
        # a rep lost in the gap may show that they were reps
        self._check_resume = True  # a lifter bent when the rows resume was cut off too
        if n:
            bent_from_s = None  # when the trunk last left upright before an excursion in progress
            peak = (-np.inf, np.nan)  # its deepest flexion before the gap (deg) and when (s)
            if self._state != "up":
                upright = np.flatnonzero(self._a[: self._rise, 0] < self.settings.top_deg)
                bent_from_s = float(self._t[upright[-1] if upright.size else self._rise])
                k = self._rise + int(np.argmax(self._a[self._rise :, 0]))
                peak = (float(self._a[k, 0]), float(self._t[k]))
            row, cut_off = int(self._rows[-1]), False
            if self._state == "lockout":  # cut at the gap: a rep if its rows say so
                events += self._cut(n - 1)
                self._state = "up"
                cut_off = self._candidate is None  # else: unless decided a rep
                if self._candidate is not None:
                    events += self._decide(n - 1, next_rise=False)
                    cut_off = not self._decided_rep
            elif self._state == "down":
                events += withdraw(self._early, row, "was cut off by a gap")
                cut_off = True
            elif self._candidate is not None:  # the next rise may be hidden in the gap
                self._hold(n - 1)
            tail = n  # the rows of an excursion cut off before the gap (0.1 s and one)
            if cut_off:
                events.append((row, self._lost(float(self._t[-1]), "before")))
                self._check_resume = False
                tail = max(int(np.searchsorted(self._t, self._t[-1] - 0.1)) - 1, 0)
            self._resumed = (self._t[tail:].copy(), self._a[tail:, 0].copy())
            self._gap = {"before_s": float(self._t[-1]), "after_s": None,
                         "bent_from_s": bent_from_s if cut_off else None,
                         "bent_after": False, "bent_until_s": None,
                         "peak": peak if cut_off else (-np.inf, np.nan)}  # fmt: skip
        self._withdrawn += [event for _, event in events]
        self._early, self._early_done = {}, True
        self._clear()

    def _lost_after_restart(self, unseen_start: bool, row: int) -> list[tuple[int, dict]]:
        """A ``rep_lost`` event for an excursion that is not a rep because the rows resumed
        in it after a restart (``unseen_start``: never below ``max_start_flexion_deg``
        from the first row after the restart to its rise), unless it was said already: at
        the first row (resumed above ``top_deg``, no excursion cut before the gap), or as
        the excursion cut before the gap, when it is the same one (the trunk not seen to
        reach upright in the gap: extending before it, flexing after it, straight lines from
        either side reaching upright within it, :func:`lockout_in_gap`)."""
        resumed, self._resumed = self._resumed, None
        t, flexion = self._t, self._a[:, 0]
        if resumed is None or not unseen_start or len(t) < 2:
            return []
        tail_t, tail_f = resumed
        if tail_t.size == 0:  # nothing cut before the gap: said at the first row if bent
            return (
                []
                if flexion[0] > self.settings.top_deg
                else [(row, self._lost(float(t[0]), "after"))]
            )
        head = int(np.searchsorted(t, t[0] + 0.1, side="right")) + 1
        both_t = np.concatenate([tail_t, t[:head]])
        both_f = np.concatenate([tail_f, flexion[:head]])
        if tail_t.size < 2 or not lockout_in_gap(both_t, both_f, tail_t.size - 1, self.settings):
            return []
        return [(row, self._lost(float(t[0]), "after"))]

    def _lost_to_context(self, gap: dict, heading_deg: float) -> None:
        """An excursion the restart ``gap`` cut off (``rep_lost``, cut before it or resumed
        in after it), once the trunk is upright again: the later candidates' decisions see
        it as a rep, as they would have without the gap (measured on the rows seen, heading
        ``heading_deg`` where it ended). Without it, the rep after a rep lost in a link
        loss had no rep before it and was taken for a lone bend (2 of 6 SYNTHETIC gym
        sessions with a 1 s loss every 30 s, bench_gym --seed 80 and 83: a set's second
        rep not found though the lost second ended 5.9 and 2.6 s before it)."""
        if gap["bent_from_s"] is None and not gap["bent_after"]:
            return  # no excursion cut off
        start_s = gap["bent_from_s"] if gap["bent_from_s"] is not None else gap["before_s"]
        end_s = gap["bent_until_s"] if gap["bent_after"] else gap["after_s"]
        peak_deg, peak_s = gap["peak"]
        if not np.isfinite(peak_deg):
            return
        self._lost_context.append(
            Candidate(
                start_s, end_s, peak_deg, max(peak_s - start_s, 0.1), max(end_s - peak_s, 0.1),
                heading_deg, True,
            )
        )  # fmt: skip

    def note_gap(self, start_s: float, end_s: float) -> None:
        """A gap the orientation bridged (no restart) between the rows at ``start_s`` and
        ``end_s``: an excursion across it that is not taken for a rep is reported as
        ``rep_lost``, not dropped silently (its shape and timing lost the missing rows).
        Not a gap of at most :data:`SHORT_GAP_S` (a notification or two lost): it hides
        nothing that tells a rep from a non-rep, and every bend that is no rep (loading
        plates, picking up chalk) with one in it was said to be a rep lost."""
        if end_s - start_s > SHORT_GAP_S:
            self._gaps.append((start_s, end_s))

    def _across_gap(self, start_s: float, end_s: float) -> float | None:
        """Start of the first bridged gap inside ``start_s..end_s`` (None: none); forgets
        the gaps before ``start_s`` (no later excursion starts earlier)."""
        self._gaps = [g for g in self._gaps if g[1] > start_s]
        return next((g[0] for g in self._gaps if g[0] < end_s), None)

    def _lost(self, time_s: float, where: str) -> dict:
        """A ``rep_lost`` event: an excursion (possibly a rep) cut off by a gap, seen bent
        ``where`` (``before``: at the last row before the gap, ``after``: at the first row
        after it), at ``time_s``."""
        lost = {
            "type": "rep_lost",
            "time_s": time_s,
            "basis": "across" if where == "across" else "cut",
            "message": "an excursion (possibly a rep) was cut off by a gap in the data "
            f"(bent {where} it): not counted"
            if where != "across"
            else "an excursion (possibly a rep) spans a gap in the data and could not be "
            "told from a non-rep without the rows lost: not counted",
        }
        self.lost.append(lost)
        self._sets.note_lost(time_s)
        return lost

    @property
    def undecided_from_s(self) -> float:
        """The earliest time (s) a rep, alert or withdrawal still to come from the rows fed
        so far can be stamped with: the lockout of the candidate awaiting its decision, the
        rise of an excursion whose lockout is being established; ``inf`` when none is
        (a set's own event may still come: it ends ``quiet_s`` after its last lockout)."""
        pending = [self._candidate["record"]["end_s"]] if self._candidate is not None else []
        if self._state == "lockout":
            pending.append(float(self._t[self._rise]))
        return min(pending, default=float("inf"))

    @property
    def classifier(self):
        """The classifier hook that gives each rep its verdict (None: no verdicts)."""
        return self._sets.classifier

    @property
    def _t(self) -> np.ndarray:
        return self._history.array[:, 0]

    @property
    def _a(self) -> np.ndarray:
        return self._history.array[:, 1:4]

    @property
    def _rows(self) -> np.ndarray:
        return self._history.array[:, 4]

    def update(
        self, time_s: np.ndarray, angles: np.ndarray, rows: np.ndarray,
        acc_norm_mps2: np.ndarray | None = None,
    ) -> list[tuple[int, dict]]:  # fmt: skip
        """Feed accepted rows (and the magnitude of their acceleration, m/s^2, which the
        rep decision reads); returns the events they made final, in sample order."""
        if acc_norm_mps2 is None:
            acc_norm_mps2 = np.full(len(time_s), np.nan)
        if not self._history.n:
            self._bent_until_s = np.inf if angles[0, 0] > self.settings.top_deg else -np.inf
        if self._bent_until_s == np.inf:  # the excursion the rows started in: when it ends
            upright = np.flatnonzero(angles[:, 0] < self.settings.top_deg)
            if upright.size:
                self._bent_until_s = float(time_s[upright[0]])
        self._history.append(time_s, angles, rows, acc_norm_mps2)
        events = [(int(rows[0]), event) for event in self._withdrawn]
        self._withdrawn = []
        gap = self._gap
        if gap is not None and gap["after_s"] is None:  # the first rows after a restart
            gap["after_s"] = float(time_s[0])
            gap["bent_after"] = bool(self._a[0, 0] > self.settings.top_deg)
            self._sets.note_gap(gap)
            if not gap["bent_after"]:
                self._gap = None
                self._lost_to_context(gap, float(angles[0, 2]))
        if self._gap is not None:  # resumed bent: when is the trunk upright again?
            upright = np.flatnonzero(angles[:, 0] < self.settings.top_deg)
            bent = angles[: upright[0] if upright.size else len(angles), 0]
            if bent.size and bent.max() > gap["peak"][0]:
                gap["peak"] = (float(bent.max()), float(time_s[int(np.argmax(bent))]))
            if upright.size:
                gap["bent_until_s"] = float(time_s[upright[0]])
                self._gap = None
                self._lost_to_context(gap, float(angles[upright[0], 2]))
        if self._check_resume:
            self._check_resume = False
            if self._a[0, 0] > self.settings.top_deg:  # resumed bent: mid-excursion
                events.append((int(rows[0]), self._lost(float(self._t[0]), "after")))
        events += self._scan(final=False)
        self._trim()
        return events

    def finish(self) -> list[tuple[int, dict]]:
        """End of the source: cut a rep waiting for its lockout, decide the last candidate,
        close the set."""
        row = int(self._rows[-1]) if len(self._rows) else 0
        events = [(row, event) for event in self._withdrawn]
        self._withdrawn = []
        events += self._scan(final=True)
        if self._candidate is not None:
            events += self._decide(self._history.n - 1, next_rise=False)
        return events + self._end_set(row)

    # -- scanning --------------------------------------------------------------------
    def _advance(self, i: int, j: int, events: list) -> None:
        """Flexion-limit alerts (with re-arm hysteresis) for positions ``i..j-1``."""
        limit = self.settings.flexion_limit_deg
        if limit is None:
            return
        flexion = self._a[:, 0]
        rearm = limit - self.settings.flexion_limit_rearm_deg
        while i < j:
            hits = np.flatnonzero(
                flexion[i:j] > limit if self._limit_armed else flexion[i:j] < rearm
            )
            if not hits.size:
                return
            i += int(hits[0])
            self._limit_armed = not self._limit_armed
            if not self._limit_armed:
                rep = len(self._sets.set_reps) + 1
                events.append(
                    (
                        int(self._rows[i]),
                        {
                            "type": "alert",
                            "kind": "flexion_limit",
                            "time_s": float(self._t[i]),
                            "set": len(self._sets.sets) + 1,
                            "rep": rep,
                            "message": "flexion {} deg is beyond your limit of {} deg".format(
                                *apart(float(flexion[i]), limit)
                            ),
                        },
                    )
                )

    def _deadline(self) -> float:
        """Time (s) after which a decision is due: the candidate's, else the end of the set
        in progress (``quiet_s`` after its last rep)."""
        if self._candidate is not None:
            return self._candidate["record"]["end_s"] + self.settings.decide_s
        return self._sets.deadline()

    def _set_over(self, i: int, stop: int) -> int | None:
        """First position in ``i..stop-1`` (upright rows) at which the set in progress is
        over (:meth:`SetGrouping.over`). None while a candidate awaits its decision (it may
        continue the set)."""
        if self._candidate is not None:
            return None
        late = self._sets.over(self._t[i:stop], self._a[i:stop, 2])
        return None if late is None else i + late

    def _scan(self, final: bool) -> list[tuple[int, dict]]:
        s = self.settings
        t, flexion = self._t, self._a[:, 0]
        n = len(t)
        events: list[tuple[int, dict]] = []
        i = self._cursor
        while i < n:
            if self._state == "up":
                stop = crossing(flexion, i, n, s.bottom_deg, True)
                if self._candidate is not None:
                    due = i + int(np.searchsorted(t[i:stop], self._deadline(), side="right"))
                    if due < stop or stop < n:
                        self._advance(i, due, events)
                        events += self._decide(due, next_rise=due == stop)
                        i = due
                        continue
                row = self._set_over(i, stop)
                if row is not None:
                    self._advance(i, row, events)
                    events += self._end_set(int(self._rows[row]))
                    i = row
                    continue
                if stop == n:
                    self._advance(i, n, events)
                    i = n
                    break
                self._advance(i, stop + 1, events)
                self._rise, self._state, i = stop, "down", stop + 1
            elif self._state == "down":
                j = crossing(flexion, i, n, s.top_deg, False)
                k, wait = self._gap_lockout(i, j, final)
                if k is not None:  # a lockout hidden in the gap after row k (or maybe)
                    self._advance(i, k + 1, events)
                    i = k + 1
                    if wait:  # the rows after the gap are still to come
                        break
                    self._down, self._state = k, "lockout"
                    self._early = {}
                    self._cut_in_gap = True
                    if s.early_alerts:
                        events += self._provisional(k)
                    self._early_done = True
                    events += self._cut(k)
                    self._cut_in_gap = False
                    self._state = "up"
                    continue
                self._advance(i, min(j + 1, n), events)
                if j == n:
                    i = n
                    break
                self._down, self._state, i = j, "lockout", j + 1
                self._early = {}
                self._early_done = not s.early_alerts
            else:
                deadline = t[self._down] + 2 * s.lockout_window_s
                # times increase: only rows before the deadline need the flexion test
                late = i + int(np.searchsorted(t[i:], deadline, side="left"))
                first = crossing(flexion, i, late, s.top_deg, True)
                found = first < late or late < n
                if not found and not final:
                    self._advance(i, n, events)
                    events += self._check_lockout(i, n)
                    i = n
                    break
                cut = min(first, late) if found else n - 1
                self._advance(i, cut, events)
                events += self._check_lockout(i, cut if found else n)
                if not self._early_done:  # lockout not established before the cut: judge at it
                    self._early_done = True
                    events += self._provisional(cut)
                events += self._cut(cut)
                self._state, i = "up", cut
        if final and self._state == "lockout":  # lockout reached on the very last row
            events += self._cut(n - 1)
            self._state = "up"
        self._cursor = i
        return events

    def _gap_lockout(self, i: int, j: int, final: bool) -> tuple[int | None, bool]:
        """In a descent-and-ascent that is bent from its rise to position ``j`` (scanned
        from ``i``): the first row ``k`` followed by a gap that hides a lockout
        (:func:`lockout_in_gap`), and whether the rows after it are still to come (wait at
        ``k``); ``(None, False)`` when there is none."""
        s = self.settings
        if s.lockout_in_gap_s is None:
            return None, False
        t, flexion = self._t, self._a[:, 0]
        lo = max(i - 1, self._rise + 1)  # the step into row i may be the gap
        steps = lo + np.flatnonzero(np.diff(t[lo:j]) > s.lockout_in_gap_s)
        for k in steps.tolist():
            if k + 2 >= len(t) or (t[-1] < t[k + 1] + 0.1 and not final):
                if final:
                    return None, False
                return k, True  # judged when the rows after the gap are in
            if lockout_in_gap(t, flexion, k, s):
                return k, False
        return None, False

    def _excursion(self, cut: int) -> tuple[dict, int, int, tuple[float, float]] | None:
        """The excursion as if cut at position ``cut``: (record, start and end positions,
        twist at start and end), or None when it cannot be a rep (:func:`locate`,
        :func:`is_rep`). Changes no decision state: the record of its span (rows
        start..end and the one after) is kept for the next call (the provisional check and
        the cut usually find the same span; only the lockout window grows)."""
        s = self.settings
        h = self._history.array
        floor = self._floor + int(self._floor_in_gap)  # after the gap that hid the lockout
        start, peak, end, tail_end, base = locate(h, floor, self._rise, cut, s, self._cut_in_gap)
        if self._floor_in_gap and base >= h[floor, 1]:  # going down from the gap's first row:
            base = min(base, s.max_start_flexion_deg)  # its start is hidden in the gap
        after_end = min(tail_end, end + 1)  # the velocity at the end needs the row after it
        rows = self._rows
        span = (float(rows[start]), float(rows[end]), float(rows[after_end]), self._cut_in_gap)
        if self._judged is None or self._judged[0] != span:
            record = None
            if base <= s.max_start_flexion_deg and is_rep(
                h, start, peak, end, s, lockout_unseen=self._cut_in_gap
            ):
                record = rep_record(h, start, end, after_end, s)
            self._judged = (span, record)
        if self._judged[1] is None:
            return None
        tail_low = float(np.min(h[end : tail_end + 1, 1]))
        record = extend_lockout(self._judged[1], tail_low, s.hyperextension_deg)
        twist = self._a[:, 2]
        return record, start, end, (float(twist[start]), float(twist[end]))

    def _features(self, excursion: tuple, cut: int) -> dict:
        """Own and context features of ``excursion`` (a result of :meth:`_excursion`) cut
        at position ``cut`` (the rows after its end up to the cut are its lockout window)."""
        record, start, end, twist_deg = excursion
        for lost in self._lost_context:  # excursions cut off by gaps before it (see restart)
            self._context.add(lost)
        self._lost_context = []
        own = own_features(self._history.array, start, end, cut, record, self.decision_settings)
        return {
            **own,
            **self._context.features(own, record["start_s"], twist_deg[0]),
            "_start_s": record["start_s"],
            "_end_s": record["end_s"],
        }

    def _cut(self, cut: int) -> list[tuple[int, dict]]:
        """Cut the excursion ending at position ``cut``: a candidate awaits its decision."""
        self._down = -1
        early, self._early = self._early, {}
        excursion = self._excursion(cut)
        self._judged = None
        if excursion is None:
            events = withdraw(early, int(self._rows[cut]), "was not a rep after all")
            gap_s = self._across_gap(float(self._t[self._rise]), float(self._t[cut]))
            # the rows started in it (the recording's start or a restart's, said then):
            # refused for its unseen start, not for a gap
            started_bent = self._t[self._rise] < self._bent_until_s
            if gap_s is not None and not started_bent:
                events.append((int(self._rows[cut]), self._lost(gap_s, "across")))
            unseen = np.min(self._a[: self._rise + 1, 0]) > self.settings.max_start_flexion_deg
            events += self._lost_after_restart(bool(unseen), int(self._rows[cut]))
            if self._cut_in_gap:  # the rows after the gap are the next excursion's
                self._floor, self._floor_in_gap = cut, True
            return events
        record, _, end, twist_deg = excursion
        self._floor, self._floor_in_gap = end, self._cut_in_gap
        self._candidate = {
            "record": record,
            "features": self._features(excursion, cut),
            "twist_deg": twist_deg,
            "early": early,
        }
        return []

    def _hold(self, pos: int) -> None:
        """Keep the candidate across a restart (its decision is due after the gap): what
        followed its lockout is measured on the rows up to position ``pos`` (the last before
        the gap); whether the next excursion rose before its deadline is told by the rows
        after the gap (resumed past ``bottom_deg``: it rose in the gap, when a straight line
        from the last row before it to the first after it did). Deciding it at the gap as if
        nothing followed took the first rep of a set locked out 2.4 s before a 1 s loss
        for a non-rep, dropped in silence (SYNTHETIC, bench_gym --seed 77)."""
        c, t = self._candidate, self._t
        if c is None:
            return
        c["held_last"] = (float(t[-1]), float(self._a[-1, 0]))  # the last row before the gap
        if "held" in c:  # held already (a second restart before the decision)
            return
        end_s = c["record"]["end_s"]
        end = min(int(np.searchsorted(t, end_s, side="left")), len(t) - 1)
        c["held"] = after_features(
            self._history.array, end, pos, end_s, float(t[pos]), False, self.decision_settings
        )
        c["held_row"] = int(self._rows[pos])
        c["bent_s"] = self._bent_s(c["record"])

    def _bent_s(self, record: dict) -> float:
        """How long the excursion ``record`` was bent (above ``top_deg``), s."""
        t = self._t
        inside = (t >= record["start_s"]) & (t <= record["end_s"])
        bent = t[inside][self._a[inside, 0] > self.settings.top_deg]
        return float(bent[-1] - bent[0]) if bent.size else 0.0

    def _decide(self, pos: int, next_rise: bool) -> list[tuple[int, dict]]:
        """Decide the candidate at position ``pos`` (the next excursion's rise when
        ``next_rise``, else its deadline or the last row before the end of the recording
        or a gap, whatever rows it has then): rep or not, and its set."""
        c, self._candidate = self._candidate, None
        record, twist_deg = c["record"], c["twist_deg"]
        t = self._t
        if "held" in c:  # kept across a restart: the rows after its lockout are the gap's
            after = dict(c["held"])
            if next_rise:
                rise_s = float(t[pos])
                if pos == 0:  # risen past bottom_deg in the gap: where a straight line does
                    (t0, f0), f1 = c["held_last"], float(self._a[0, 0])
                    share = (self.settings.bottom_deg - f0) / max(f1 - f0, 1e-9)
                    rise_s = t0 + float(np.clip(share, 0.0, 1.0)) * (rise_s - t0)
                decided_s = rise_s - record["end_s"]
                after["next_rise_s"] = min(decided_s, self.decision_settings.decide_s)
            row = int(self._rows[pos]) if len(t) else c["held_row"]
        else:
            end = min(int(np.searchsorted(t, record["end_s"], side="left")), len(t) - 1)
            after = after_features(
                self._history.array, end, pos, record["end_s"], float(t[pos]), next_rise,
                self.decision_settings,
            )  # fmt: skip
            row = int(self._rows[pos])
        features = {**c["features"], **after}
        p_rep, is_rep = self.decision.final(features)
        self._decided_rep = bool(is_rep)
        candidate = Candidate(
            record["start_s"], record["end_s"], record["peak_flexion_deg"],
            record["descent_s"], record["ascent_s"], twist_deg[1], bool(is_rep),
        )  # fmt: skip
        self._context.add(candidate)
        bent_s = c["bent_s"] if "held" in c else self._bent_s(record)
        if not is_rep:
            events = withdraw(c["early"], row, "was not a rep after all")
            gap_s = self._across_gap(record["start_s"], record["end_s"])
            if gap_s is not None:  # possibly a rep that the gap cut: said, not silent
                self._not_reps = []
                return [*events, (row, self._lost(gap_s, "across"))]
            self._sets.bar_down = True
            turned_down = {"record": record, "twist_deg": twist_deg, "features": features,
                           "p_rep": p_rep, "bent_s": bent_s, "candidate": candidate}  # fmt: skip
            self._not_reps = [*self._not_reps[-2:], turned_down]  # the look-back's reach: 3
            return events
        events: list[tuple[int, dict]] = []
        for earlier in self._look_back(features, p_rep, record["start_s"], twist_deg[0]):
            events += self._confirm(earlier["record"], earlier["twist_deg"], row, {},
                                    earlier["bent_s"], look_back=True)  # fmt: skip
            self._context.count_as_rep(earlier["candidate"])
        self._not_reps = []
        return events + self._confirm(record, twist_deg, row, c["early"], bent_s)

    def _confirm(
        self, record: dict, twist_deg: tuple, row: int, early: dict, bent_s: float,
        look_back: bool = False,
    ) -> list[tuple[int, dict]]:  # fmt: skip
        """A rep (``twist_deg``: at its start and its lockout): the set in progress is
        over unless it joins it, then its events."""
        events = [] if self._sets.joins(record, twist_deg[0]) else self._end_set(row)
        return events + self._sets.confirm(record, twist_deg[1], row, early, bent_s, look_back)

    def _look_back(
        self, features: dict, p_rep: float, start_s: float, start_twist_deg: float
    ) -> list[dict]:
        """The candidates decided not a rep just before a rep (``features``, ``p_rep``,
        starting at ``start_s`` facing ``start_twist_deg``) that the look-back verdict now
        takes for reps, oldest first: the one right before it, then the one before that
        while each is taken (a set's first reps that looked like bends on their own,
        recognised once the set goes on). The rep is related to the one right before it
        even when a gap came between them and the excursion it cut off is the last
        candidate of the context (:meth:`_lost_to_context`): the turned-down candidates
        before a gap stay for the look-back."""
        look_back = getattr(self.decision, "look_back", None)
        taken: list[dict] = []
        last = self._not_reps[-1]["candidate"] if self._not_reps else None
        following = {**features, **relation(features, start_s, start_twist_deg, last)}
        next_p = p_rep
        for earlier in reversed(self._not_reps if look_back else []):
            _, is_rep = look_back(
                look_back_features(earlier["features"], earlier["p_rep"], following, next_p)
            )
            if not is_rep:
                break
            taken.insert(0, earlier)
            following, next_p = earlier["features"], earlier["p_rep"]
        return taken

    def _check_lockout(self, i: int, j: int) -> list[tuple[int, dict]]:
        """Provisional alerts at the first of positions ``i..j-1`` where the lockout is
        established (each position is judged on the rows up to it: chunking does not matter)."""
        if self._early_done:
            return []
        t, flexion = self._t, self._a[:, 0]
        # Rows from the rise to `down` are above top_deg, later ones (before the cut) not:
        # the peak is the same for every position judged.
        peak = self._rise + int(np.argmax(flexion[self._rise : i + 1]))
        seen = lockout_seen(t[peak:j], flexion[peak:j], self.settings.onset_velocity_deg_s)
        hits = np.flatnonzero(seen[i - peak :])
        if not hits.size:
            return []
        self._early_done = True
        return self._provisional(i + int(hits[0]))

    def _provisional(self, p: int) -> list[tuple[int, dict]]:
        """Early alerts at position ``p`` (lockout established) for an excursion that the
        early verdict takes for a rep (the earlier candidates are decided by then, so the
        classifier sees the very history it will see when this one is confirmed)."""
        excursion = self._excursion(p)
        if excursion is None:
            return []
        _, is_rep = self.decision.early(self._features(excursion, p))
        if not is_rep:
            return []
        early = self._sets.provisional(excursion[0], excursion[3][0])
        self._early.update(early)
        return [(int(self._rows[p]), alert) for alert in early.values()]

    def _end_set(self, row: int) -> list[tuple[int, dict]]:
        """The set in progress is over: its ``set`` event."""
        return self._sets.end(row)

    def _trim(self) -> None:
        """Forget rows no future decision can reach (keeps memory flat on long sessions)."""
        if self._state != "up" or self._history.n < 4096:
            return
        # a later excursion starts at most lookback_s before its rise (after the last row)
        # and its decision sees context_s before its start: the same rows in any chunking
        reach_s = self.settings.lookback_s + self.decision_settings.context_s + 1.0
        keep_from = int(np.searchsorted(self._t, self._t[-1] - reach_s, side="left"))
        keep_from = min(keep_from, self._cursor)
        if self._candidate is not None:  # its lockout onward: the rows of its decision
            end_s = self._candidate["record"]["end_s"]
            keep_from = min(keep_from, int(np.searchsorted(self._t, end_s, side="left")))
        if keep_from <= 0:
            return
        self._history.drop_front(keep_from)
        self._resumed = None  # the rows after the restart are gone
        self._cursor -= keep_from
        self._floor = max(0, self._floor - keep_from)
        self._rise = self._down = -1
