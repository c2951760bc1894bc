"""Streaming rep and set segmentation on flexion, with hysteresis and non-rep rejection.

An excursion goes from upright (below ``top_deg``) to deeper than ``bottom_deg`` and
back below ``top_deg``. It is cut ``2 * lockout_window_s`` later, or as soon as the
next descent starts (touch-and-go):

- start of descent: searching back at most ``lookback_s`` (never before the previous
  rep's end), the last sample within ``onset_deg`` of the lowest flexion there or moving
  slower than ``onset_velocity_deg_s``;
- bottom: lift-off, the last sample before the fastest extension at which the trunk was
  still (extension speed below 10 deg/s) -- the end of a floor pause, or the turn-around;
- end at lockout: the first sample after the fastest extension at which extension has
  stopped (speed below ``onset_velocity_deg_s``).

Excursions that cannot be reps are rejected by rule: starting from a bent posture
(sitting), too short or too long, still bent at the lockout (``max_lockout_flexion_deg``),
held near the bottom too long (or turned aside while held: loading plates), twist or
lateral bend ranges beyond the limits, no real extension. Every other excursion is a
candidate, and :mod:`imu.pipeline.rep_decision` decides from its own kinematics and its
context whether it is a rep (a pick-up, a plate, the bar put down are not), when the next
excursion rises or ``decide_s`` after its lockout. Reps form a set while they follow
each other within ``quiet_s`` facing the same way (optionally also split at a pause
longer than ``set_rest_s``). Verdict alerts are given at the lockout, before the rep is
confirmed (provisional, see :class:`RepSegmenter`). The work is done per chunk on
threshold crossings, and every decision depends only on the samples so far: streamed == batch. Defaults are documented
in docs/calibration.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from imu.pipeline.buffers import GrowingArray
from imu.pipeline.metrics import (
    extend_lockout,
    rep_metrics,
    set_summary,
    trace,
    unwrap_deg,
    velocity,
)
from imu.pipeline.rep_decision import (
    Candidate,
    Context,
    DecisionSettings,
    EveryCandidate,
    after_features,
    default_model,
    own_features,
    wrap_deg,
)


@dataclass(frozen=True)
class RepSettings:
    """Thresholds of the rep segmenter and the rule-based flags (deg, s, deg/s)."""

    lift: str = "deadlift"
    top_deg: float = 15.0
    bottom_deg: float = 20.0
    """An excursion must pass this flexion to be a candidate (the decision stage, not this
    threshold, tells a 30 deg Romanian deadlift from a bend; a 10 deg sway never passes)."""
    onset_deg: float = 0.5
    max_start_flexion_deg: float = 8.0
    """A rep starts from upright: excursions starting more bent (sitting, slumped) are not reps."""
    lookback_s: float = 2.5
    lockout_window_s: float = 0.5
    min_rep_s: float = 0.8
    max_rep_s: float = 12.0
    onset_velocity_deg_s: float = 2.0
    """The descent starts where flexion speed last exceeded this (or left the standing level)."""
    max_bottom_hold_s: float = 4.5
    hold_band_deg: float = 8.0
    twisted_hold_s: float = 2.5
    twisted_hold_deg: float = 20.0
    """A hold near the bottom longer than ``twisted_hold_s``, turned (median twist) more than
    this from the start, is not a rep (loading plates)."""
    quiet_s: float = 8.0
    """A set is over this long after its last rep's lockout without a next rep (longer
    while the lifter stands still: ``rest_pause_s``)."""
    learned_decision: bool = True
    """Decide candidates with the shipped model (imu/pipeline/rep_decision.py); False =
    every candidate the rules let through is a rep (lifts the model has not seen)."""
    decide_s: float = 5.0
    """A candidate excursion is decided when the next one rises past ``bottom_deg`` or
    this long after its lockout."""
    rest_pause_s: float | None = None
    """Rest-pause and cluster sets (opt-in, e.g. 25): a pause longer than ``quiet_s`` but at
    most this long (s, lockout to the next start) keeps a set going when the lifter stood
    still facing the bar (twist within ``rest_pause_turn_deg`` of the heading at the
    lockout) with the bar in hand (no excursion that was not a rep, such as putting the
    bar down, in between). Off by default: standing still through a short rest between two sets looks
    the same. None = a pause longer than ``quiet_s`` ends the set."""
    rest_pause_turn_deg: float = 20.0
    max_turn_in_set_deg: float = 45.0
    """Excursions facing directions further apart than this are not in the same set."""
    max_twist_range_deg: float = 30.0
    max_lateral_bend_range_deg: float = 25.0
    min_extension_velocity_deg_s: float = 20.0
    max_lockout_flexion_deg: float = 15.0
    """A rep ends upright: an excursion whose lockout (end) is more bent than this is not a
    rep (a pause while still bent, e.g. rising from loading a plate)."""
    lockout_below_deg: float | None = None
    """The lockout is the first stop after the fastest extension that is less bent than this
    (None: the first stop). For squats, whose butt wink (the pelvis tucking under at the
    bottom) can extend the segment faster than the ascent does, then stop at the bottom."""
    set_rest_s: float | None = None
    """A pause longer than this between reps also starts a new set; None = a set ends only
    when no rep follows within ``quiet_s`` (or one follows turned away)."""
    hyperextension_deg: float = 10.0
    """Lockout extension beyond calibrated upright that flags a rep as hyperextended."""
    flexion_limit_deg: float | None = None
    """Alert as soon as flexion exceeds this mid-rep (None = off)."""
    flexion_limit_rearm_deg: float = 10.0
    """The flexion-limit alert re-arms once flexion is this far below the limit."""
    trace_points: int = 51
    early_alerts: bool = True
    """Judge an excursion that the early verdict takes for a rep at its lockout
    (``provisional`` alerts). Off, alerts come with the ``rep`` events only: the same reps
    and sets with half the classifier calls (``imu analyze``, which reports no alerts,
    turns it off)."""


REP_COLUMNS = (
    "set", "rep", "start_s", "bottom_s", "end_s", "peak_flexion_deg", "liftoff_flexion_deg",
    "lockout_extension_deg", "descent_s", "ascent_s", "peak_flexion_velocity_deg_s",
    "peak_extension_velocity_deg_s", "lateral_bend_range_deg", "twist_range_deg", "smoothness",
    "hyperextended", "rounded", "p_rounded",
)  # fmt: skip
"""The fields of a rep object, in the order of ``imu analyze --reps`` columns."""

LIFTS: dict[str, RepSettings] = {
    # Conventional (dead-stop, short floor pause) and touch-and-go deadlifts.
    "deadlift": RepSettings(),
    # Romanian deadlift: no floor, turn-around above the knee, slower eccentric.
    "rdl": RepSettings(
        lift="rdl",
        max_bottom_hold_s=2.5,
        min_extension_velocity_deg_s=15.0,
    ),
    # Good morning: bar on the back, deep hinge, no floor.
    "good_morning": RepSettings(
        lift="good_morning",
        max_bottom_hold_s=2.5,
        min_extension_velocity_deg_s=15.0,
    ),
    # Back squat: the bar on the back, no floor; the lumbar/pelvis segment flexes only
    # ~20-50 deg (a deadlift's 45-80), and reps follow each other every 2-3 s.
    "squat": RepSettings(
        lift="squat",
        top_deg=8.0,
        bottom_deg=15.0,
        max_start_flexion_deg=6.0,
        max_lockout_flexion_deg=8.0,
        lockout_below_deg=8.0,
        max_bottom_hold_s=2.5,
        min_extension_velocity_deg_s=10.0,
        learned_decision=False,  # the rep decision was trained on hinges, not squats
    ),
}


def lift_settings(lift: str, **overrides: object) -> RepSettings:
    """The preset for ``lift`` (a key of :data:`LIFTS`) with some fields replaced."""
    from imu.errors import input_error

    if lift not in LIFTS:
        raise input_error(f"unknown lift {lift!r}", hint=f"choose one of {', '.join(LIFTS)}")
    return replace(LIFTS[lift], **{k: v for k, v in overrides.items() if v is not None})


def span_record(
    angles_df: pd.DataFrame,
    start_s: float,
    end_s: float,
    settings: RepSettings = RepSettings(),
) -> dict:
    """The rep record (measures + time-normalised traces) of ANY span of an analysed session.

    ``angles_df`` has columns ``time_s, flexion_deg, lateral_bend_deg, twist_deg`` (the
    ``imu analyze --angles`` CSV). Rows from ``start_s`` to ``end_s`` are the rep; rows up
    to ``end_s + lockout_window_s`` are used for the lockout extension. The engine builds
    its rep records with the same functions.
    """
    frame = angles_df.dropna(subset=["flexion_deg"])
    time_s = frame["time_s"].to_numpy(dtype=np.float64)
    # Keep strictly increasing times (the CSV repeats a row for each skipped duplicate).
    ordered = time_s > np.maximum.accumulate(np.concatenate(([-np.inf], time_s[:-1])))
    time_s = time_s[ordered]
    angles = frame[["flexion_deg", "lateral_bend_deg", "twist_deg"]].to_numpy(dtype=np.float64)[
        ordered
    ]
    start = int(np.searchsorted(time_s, start_s, side="left"))
    end = int(np.searchsorted(time_s, end_s, side="right")) - 1
    if end - start < 2:
        raise ValueError(f"span {start_s}..{end_s} s holds fewer than 3 analysed samples")
    tail_end = (
        int(np.searchsorted(time_s, time_s[end] + settings.lockout_window_s, side="right")) - 1
    )
    return _record(np.column_stack((time_s, angles)), start, end, tail_end, settings)


def _record(rows: np.ndarray, start: int, end: int, tail_end: int, settings: RepSettings) -> dict:
    """Rep record of rows ``start..end`` of ``rows`` (n, >= 4: time_s, flexion_deg,
    lateral_bend_deg, twist_deg), rows up to ``tail_end`` in the lockout extension."""
    record = rep_metrics(rows, start, end, tail_end, settings.hyperextension_deg)
    record["trace"] = trace(rows, start, end, int(settings.trace_points))
    return record


def _first(mask: np.ndarray) -> int:
    """Position of the first True in ``mask``, ``len(mask)`` when there is none."""
    if not mask.size:
        return 0
    k = int(mask.argmax())
    return k if mask[k] else len(mask)


def _crossing(values: np.ndarray, lo: int, hi: int, threshold: float, above: bool) -> int:
    """First position in ``lo..hi-1`` whose value is above ``threshold`` (``above``) or
    below it, ``hi`` when there is none (NaN crosses neither way)."""
    part = values[lo:hi]
    return lo + _first(part > threshold if above else part < threshold)


def lockout_seen(
    time_s: np.ndarray, flexion: np.ndarray, onset_velocity_deg_s: float
) -> np.ndarray:
    """For every prefix of an extension, whether its lockout is established.

    ``time_s`` and ``flexion`` start at the peak. Element ``k`` is True when, on the
    velocities of the prefix ``0..k`` (:func:`imu.pipeline.metrics.velocity`), some
    sample after the fastest extension (first minimum) and before the last one has
    stopped extending (velocity >= ``-onset_velocity_deg_s``); False for ``k < 2``.
    All prefixes in one pass: a prefix's velocities are those of the whole series except
    at its last sample (a one-sided difference).
    """
    seen = np.zeros(len(flexion), dtype=bool)
    if len(flexion) < 3:
        return seen
    inner = velocity(flexion, time_s)[:-1]  # [:k] = prefix k's velocities but the last
    last = np.diff(flexion) / np.diff(time_s)  # [k - 1] = prefix k's last velocity
    positions = np.arange(len(inner))
    low = np.minimum.accumulate(inner)
    is_new_low = np.concatenate(([True], inner[1:] < low[:-1]))
    fastest = np.maximum.accumulate(np.where(is_new_low, positions, 0))
    stopped = np.maximum.accumulate(np.where(inner >= -onset_velocity_deg_s, positions, -1))
    # Prefix k (>= 2): its last velocity is not below the minimum before it (else it is
    # the fastest and nothing after it counts), and a stopped sample follows the fastest.
    seen[2:] = (last[1:] >= low[1:]) & (stopped[1:] >= fastest[1:])
    return seen


def locate(
    rows: np.ndarray, floor: int, rise: int, cut: int, s: RepSettings
) -> tuple[int, int, int, int, float]:
    """Where the excursion that rose above ``bottom_deg`` at position ``rise`` of ``rows``
    (time_s, flexion_deg, lateral_bend_deg, twist_deg, ...) lies when cut at ``cut``:
    ``(start, peak, end, tail_end, base_deg)``.

    Start: searching back ``lookback_s`` from the rise (not before ``floor``), the last
    row within ``onset_deg`` of the lowest flexion there (``base_deg``) or rising slower
    than ``onset_velocity_deg_s``. Peak: the highest flexion from the rise to the cut.
    End (lockout): after the fastest extension, the first row whose extension speed is
    below ``onset_velocity_deg_s`` (and, if there is one, whose flexion is below
    ``lockout_below_deg``), else the lowest flexion after it. ``tail_end``: the
    last row within ``lockout_window_s`` of the end (at most the cut).
    """
    t, flexion = rows[:, 0], rows[:, 1]
    lo = max(floor, int(np.searchsorted(t, t[rise] - s.lookback_s, side="left")))
    before = flexion[lo : rise + 1]
    base = float(np.min(before))
    rising = velocity(before, t[lo : rise + 1])
    quiet = np.flatnonzero((before <= base + s.onset_deg) | (rising <= s.onset_velocity_deg_s))
    start = lo + int(quiet[-1])
    peak = rise + int(np.argmax(flexion[rise : cut + 1]))
    extension = velocity(flexion[peak : cut + 1], t[peak : cut + 1])
    fastest = int(np.argmin(extension))
    stopped = np.flatnonzero(extension[fastest:] >= -s.onset_velocity_deg_s)
    if stopped.size and s.lockout_below_deg is not None:  # skip stops still bent (squat)
        upright = stopped[flexion[peak + fastest + stopped] < s.lockout_below_deg]
        stopped = upright if upright.size else stopped
    if stopped.size:
        end = peak + fastest + int(stopped[0])
    else:  # still extending when cut: its lowest point
        end = peak + fastest + int(np.argmin(flexion[peak + fastest : cut + 1]))
    tail_end = int(np.searchsorted(t, t[end] + s.lockout_window_s, side="right")) - 1
    return start, peak, end, min(tail_end, cut), base


def is_rep(rows: np.ndarray, start: int, peak: int, end: int, s: RepSettings) -> bool:
    """Whether rows ``start..end`` of ``rows`` (flexion peak at ``peak``) are a rep:
    duration, upright lockout, no long (or turned) hold near the bottom, twist and
    lateral bend ranges, a real extension."""
    t, flexion = rows[start : end + 1, 0], rows[start : end + 1, 1]
    duration = t[-1] - t[0]
    if not s.min_rep_s <= duration <= s.max_rep_s or end - start < 3:
        return False
    if flexion[-1] > s.max_lockout_flexion_deg:
        return False  # still bent at its lockout
    near = flexion >= rows[peak, 1] - s.hold_band_deg
    hold_s = float(np.sum(np.diff(t)[near[:-1] & near[1:]]))
    twist = unwrap_deg(rows[start : end + 1, 3])
    turned = abs(np.median(twist[near]) - twist[0])
    if hold_s > s.max_bottom_hold_s or (hold_s > s.twisted_hold_s and turned > s.twisted_hold_deg):
        return False  # loading plates: long hold at the bottom, turned to the side
    if np.ptp(twist) > s.max_twist_range_deg:
        return False
    if np.ptp(rows[start : end + 1, 2]) > s.max_lateral_bend_range_deg:
        return False
    fastest = 0.0
    if end - peak >= 2:
        fastest = float(np.min(velocity(rows[peak : end + 1, 1], rows[peak : end + 1, 0])))
    return -fastest >= s.min_extension_velocity_deg_s


def _alert(
    kind: str, message: str, time_s: float, set_number: int, rep_number: int,
    p_rounded: float | None, provisional: bool,
) -> dict:  # fmt: skip
    """A rep's ``alert`` event (``p_rounded`` only on a ``rounded`` one)."""
    alert = {"type": "alert", "kind": kind, "time_s": time_s, "set": set_number}
    alert |= {"rep": rep_number, "message": message, "provisional": provisional}
    if kind == "rounded":
        alert["p_rounded"] = p_rounded
    return alert


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
        self.classifier = classifier
        if decision is None:
            decision = default_model() if settings.learned_decision else EveryCandidate()
        self.decision = decision
        self.decision_settings = DecisionSettings(
            decide_s=settings.decide_s, lockout_window_s=settings.lockout_window_s
        )
        self.records: list[dict] = []
        self.reps: list[dict] = []
        self.sets: list[dict] = []
        self.lost: list[dict] = []
        """``rep_lost`` events: excursions cut off by a gap (possibly reps)."""
        self._set_reps: list[dict] = []
        self._context = Context()
        self._candidate: dict | None = None  # the excursion awaiting its decision
        self._last: dict | None = None  # the last rep of the set in progress
        self._last_twist_deg = 0.0
        self._moved = False  # turned away since the last rep's lockout (rest-pause)
        self._bar_down = False  # a candidate that was not a rep since then (rest-pause)
        self._early: dict = {}  # the provisional alerts of the excursion in progress
        self._early_done = True  # whether the provisional check of the one in progress is done
        self._withdrawn: list[dict] = []  # withdrawals to emit with the next row
        self._check_resume = False  # the first row after a restart is still to be checked
        self._decided_rep = False  # the last decision
        self._judged: tuple[tuple[float, ...], dict | None] | None = None  # see _excursion
        self._limit_armed = True
        self._clear()

    def _clear(self) -> None:
        self._history = GrowingArray(5)  # time_s, flexion, lateral, twist, global row
        self._state = "up"
        self._floor = 0  # no rep may start before this position (previous rep's end)
        self._cursor = 0  # next position to examine
        self._rise = self._down = -1

    def restart(self) -> None:
        """After a long gap: settle what the rows before it allow (an excursion past its
        lockout is cut there, a candidate is decided on the rows it has), report an
        excursion that the gap cut off and that is not a rep on the rows before it as
        ``rep_lost`` (withdrawing its early alerts), and forget the history; the set in
        progress goes on."""
        n = self._history.n
        events: list[tuple[int, dict]] = []
        self._check_resume = True  # a lifter bent when the rows resume was cut off too
        if n:
            row, cut_off = int(self._rows[-1]), False
            if self._state == "lockout":  # cut at the gap: a rep if its rows say so
                events += self._cut(n - 1)
                self._state = "up"
                cut_off = self._candidate is None  # else: unless decided a rep
                if self._candidate is not None:
                    events += self._decide(n - 1, next_rise=False)
                    cut_off = not self._decided_rep
            elif self._state == "down":
                events += self._withdraw(self._early, row, "was cut off by a gap")
                cut_off = True
            elif self._candidate is not None:  # decided on the rows before the gap
                events += self._decide(n - 1, next_rise=False)
            if cut_off:
                events.append((row, self._lost(float(self._t[-1]), "before")))
                self._check_resume = False
        self._withdrawn += [event for _, event in events]
        self._early, self._early_done = {}, True
        self._clear()

    def _lost(self, time_s: float, where: str) -> dict:
        """A ``rep_lost`` event: an excursion (possibly a rep) cut off by a gap, seen bent
        ``where`` (``before``: at the last row before the gap, ``after``: at the first row
        after it), at ``time_s``."""
        lost = {
            "type": "rep_lost",
            "time_s": time_s,
            "message": "an excursion (possibly a rep) was cut off by a gap in the data "
            f"(bent {where} it): not counted",
        }
        self.lost.append(lost)
        return lost

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
        self, time_s: np.ndarray, angles: np.ndarray, rows: np.ndarray
    ) -> list[tuple[int, dict]]:
        """Feed accepted rows; returns the events they made final, in sample order."""
        self._history.append(time_s, angles, rows)
        events = [(int(rows[0]), event) for event in self._withdrawn]
        self._withdrawn = []
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
                rep = len(self._set_reps) + 1
                events.append(
                    (
                        int(self._rows[i]),
                        {
                            "type": "alert",
                            "kind": "flexion_limit",
                            "time_s": float(self._t[i]),
                            "set": len(self.sets) + 1,
                            "rep": rep,
                            "message": f"flexion {flexion[i]:.0f} deg is beyond your limit of {limit:.0f} deg",
                        },
                    )
                )

    def _deadline(self) -> float:
        """Time (s) after which a decision is due: the candidate's, else the end of the set
        in progress (``quiet_s`` after its last rep)."""
        if self._candidate is not None:
            return self._candidate["record"]["end_s"] + self.settings.decide_s
        if self._last is not None:
            return self._last["end_s"] + self.settings.quiet_s
        return np.inf

    def _turned(self, twist_deg: np.ndarray) -> np.ndarray:
        """Whether each twist is turned away from the last rep's heading at its lockout
        (False without a set in progress or with rest-pause off)."""
        s = self.settings
        if self._last is None or s.rest_pause_s is None:
            return np.zeros(len(twist_deg), dtype=bool)
        turned = wrap_deg(twist_deg - self._last_twist_deg)
        return np.abs(turned) > s.rest_pause_turn_deg

    def _set_over(self, i: int, stop: int) -> int | None:
        """First position in ``i..stop-1`` (upright rows) at which the set in progress is
        over: ``quiet_s`` after its last rep's lockout once the lifter has turned away (or
        with rest-pause off), ``rest_pause_s`` after it anyway. Remembers a turn. None
        while a candidate awaits its decision (it may continue the set)."""
        if self._last is None or self._candidate is not None:
            return None
        s = self.settings
        t = self._t[i:stop]
        if s.rest_pause_s is None:  # times increase: the first row after the deadline
            late = i + int(np.searchsorted(t, self._deadline(), side="right"))
            return late if late < stop else None
        over = t > self._deadline()
        moved = self._moved | np.logical_or.accumulate(self._turned(self._a[i:stop, 2]))
        self._moved = bool(moved[-1]) if len(moved) else self._moved
        over &= moved | (t > self._last["end_s"] + s.rest_pause_s)
        late = i + _first(over)
        return late if late < stop else None

    def _scan(self, final: bool) -> list[tuple[int, dict]]:
        s = self.settings
        t, flexion = self._t, self._a[:, 0]
        n = len(t)
        events: list[tuple[int, dict]] = []
        i = self._cursor
        while i < n:
            if self._state == "up":
                stop = _crossing(flexion, i, n, s.bottom_deg, True)
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
                j = _crossing(flexion, i, n, s.top_deg, False)
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
                first = _crossing(flexion, i, late, s.top_deg, True)
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

    def _excursion(self, cut: int) -> tuple[dict, int, int, tuple[float, float]] | None:
        """The excursion as if cut at position ``cut``: (record, start and end positions,
        twist at start and end), or None when it cannot be a rep (:func:`locate`,
        :func:`is_rep`). Changes no decision state: the record of its span (rows
        start..end and the one after) is kept for the next call (the provisional check and
        the cut usually find the same span; only the lockout window grows)."""
        s = self.settings
        h = self._history.array
        start, peak, end, tail_end, base = locate(h, self._floor, self._rise, cut, s)
        after_end = min(tail_end, end + 1)  # the velocity at the end needs the row after it
        rows = self._rows
        span = (float(rows[start]), float(rows[end]), float(rows[after_end]))
        if self._judged is None or self._judged[0] != span:
            record = None
            if base <= s.max_start_flexion_deg and is_rep(h, start, peak, end, s):
                record = _record(h, start, end, after_end, s)
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
            return self._withdraw(early, int(self._rows[cut]), "was not a rep after all")
        record, _, end, twist_deg = excursion
        self._floor = end
        self._candidate = {
            "record": record,
            "features": self._features(excursion, cut),
            "twist_deg": twist_deg,
            "early": early,
        }
        return []

    def _decide(self, pos: int, next_rise: bool) -> list[tuple[int, dict]]:
        """Decide the candidate at position ``pos`` (the next excursion's rise when
        ``next_rise``, else its deadline or the last row before the end of the recording
        or a gap, whatever rows it has then): rep or not, and its set."""
        c, self._candidate = self._candidate, None
        record, twist_deg = c["record"], c["twist_deg"]
        t = self._t
        end = min(int(np.searchsorted(t, record["end_s"], side="left")), len(t) - 1)
        after = after_features(
            self._history.array, end, pos, record["end_s"], float(t[pos]), next_rise,
            self.decision_settings,
        )  # fmt: skip
        _, is_rep = self.decision.final({**c["features"], **after})
        self._decided_rep = bool(is_rep)
        joins = is_rep and self._joins(record, twist_deg[0])
        row = int(self._rows[pos])
        events = self._end_set(row) if is_rep and not joins else []
        self._context.add(
            Candidate(
                record["start_s"], record["end_s"], record["peak_flexion_deg"],
                record["descent_s"], record["ascent_s"], twist_deg[1], bool(is_rep),
            ),
            joins,
        )  # fmt: skip
        if not is_rep:
            self._bar_down = True
            return self._withdraw(c["early"], row, "was not a rep after all")
        events += self._emit(record, row, c["early"])
        self._last, self._last_twist_deg, self._moved = record, twist_deg[1], False
        self._bar_down = False
        return events

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
        record = excursion[0]
        if self._joins(record, excursion[3][0]):
            set_number, rep_number = self._place(record, self._set_reps, len(self.sets))
        else:
            set_number, rep_number = len(self.sets) + 1 + bool(self._set_reps), 1
        p_rounded, rounded = self._verdict(record, list(self.records))
        events = []
        for kind, message in self._flags(record, p_rounded, rounded):
            alert = _alert(kind, message, record["end_s"], set_number, rep_number, p_rounded, True)
            self._early[kind] = alert
            events.append((int(self._rows[p]), alert))
        return events

    def _withdraw(self, early: dict, row: int, why: str) -> list[tuple[int, dict]]:
        """``alert_withdrawn`` events for provisional alerts ``early`` (kind -> alert)."""
        return [
            (
                row,
                {
                    "type": "alert_withdrawn",
                    **{k: alert[k] for k in ("kind", "time_s", "set", "rep")},
                    "message": f"rep {alert['set']}.{alert['rep']} {why}: "
                    f"its {kind} alert is withdrawn",
                },
            )
            for kind, alert in early.items()
        ]

    # -- reps and sets ----------------------------------------------------------------
    def _joins(self, record: dict, start_twist_deg: float) -> bool:
        """Whether rep ``record`` (starting at heading ``start_twist_deg``) continues the set
        in progress: it starts within ``quiet_s`` of the last rep's lockout, facing the same
        way (a set is done facing the bar; walking off and turning ends it), or, with
        ``rest_pause_s``, after a longer pause standing still."""
        s = self.settings
        if self._last is None:
            return False
        turned = wrap_deg(start_twist_deg - self._last_twist_deg)
        pause_s = record["start_s"] - self._last["end_s"]
        if abs(turned) > s.max_turn_in_set_deg:
            return False
        if pause_s <= s.quiet_s:
            return True
        return (
            s.rest_pause_s is not None
            and pause_s <= s.rest_pause_s
            and not self._moved
            and not self._bar_down
        )

    def _end_set(self, row: int) -> list[tuple[int, dict]]:
        """The set in progress is over: its ``set`` event."""
        self._last = None
        self._context.set_closed()
        return [(row, self._close_set())] if self._set_reps else []

    def _rested(self, before: dict, record: dict) -> bool:
        """Whether the pause from rep ``before`` to ``record`` exceeds ``set_rest_s``."""
        rest_s = self.settings.set_rest_s
        return rest_s is not None and record["start_s"] - before["end_s"] > rest_s

    def _place(self, record: dict, set_reps: list[dict], n_sets: int) -> tuple[int, int]:
        """(set, rep) numbers ``record`` gets after the set's reps ``set_reps``."""
        if set_reps and self._rested(set_reps[-1], record):
            return n_sets + 2, 1
        return n_sets + 1, len(set_reps) + 1

    def _verdict(self, record: dict, history: list[dict]) -> tuple[float | None, bool | None]:
        """(p_rounded, rounded) from the classifier hook, (None, None) without a classifier."""
        if self.classifier is None:
            return None, None
        p, flag = self.classifier.classify(record, history)
        return float(p), bool(flag)

    @staticmethod
    def _flags(
        record: dict, p_rounded: float | None, rounded: bool | None
    ) -> list[tuple[str, str]]:
        """(kind, message) of each alert a rep with this record and verdict raises."""
        flags = (
            (
                "hyperextension",
                record["hyperextended"],
                f"lockout {record['lockout_extension_deg']:.0f} deg beyond upright",
            ),
            ("rounded", bool(rounded), f"rep looks rounded (p = {p_rounded or 0:.2f})"),
        )
        return [(kind, message) for kind, flagged, message in flags if flagged]

    def _emit(self, record: dict, row: int, early: dict) -> list[tuple[int, dict]]:
        """Confirm ``record`` as a rep: its event, then alerts not already given early
        (``early``: kind -> provisional alert) and withdrawals of early ones it does not
        confirm."""
        events: list[tuple[int, dict]] = []
        set_number, rep_number = self._place(record, self._set_reps, len(self.sets))
        if set_number > len(self.sets) + 1:
            events.append((row, self._close_set()))
        p_rounded, rounded = self._verdict(record, list(self.records))
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
        self._set_reps.append(rep)
        events.append((row, rep))
        flags = self._flags(record, p_rounded, rounded)
        for kind, message in flags:
            if kind not in early:
                alert = _alert(
                    kind, message, rep["end_s"], set_number, rep_number, p_rounded, False
                )
                events.append((row, alert))
        kinds = {kind for kind, _ in flags}
        unconfirmed = {kind: alert for kind, alert in early.items() if kind not in kinds}
        return events + self._withdraw(unconfirmed, row, "is not flagged once complete")

    def _close_set(self) -> dict:
        summary = {"type": "set", **set_summary(self._set_reps)}
        self.sets.append(summary)
        self._set_reps = []
        return summary

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
        self._cursor -= keep_from
        self._floor = max(0, self._floor - keep_from)
        self._rise = self._down = -1
