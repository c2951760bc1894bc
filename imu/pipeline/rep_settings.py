"""Settings of the rep segmenter: the thresholds of :mod:`imu.pipeline.excursions`,
:mod:`imu.pipeline.reps` and :mod:`imu.pipeline.sets` (deg, s, deg/s). Defaults are
documented in docs/calibration.md; each lift's preset is in :mod:`imu.pipeline.lifts`.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    max_bottom_hold_s: float = 8.0
    """A longer hold near the bottom is not a rep. A set-up (grip and brace) before a pull
    from the floor or a deficit can hold 4-5 s; a shorter hold (a plate slid on, too) is
    left to the rep decision, which sees the hold and what surrounds it (was 4.5 s, which
    missed such set-ups; SYNTHETIC bench_gym, development seeds)."""
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
    bottom) can extend the segment faster than the ascent does, then stop at the bottom.
    Likewise the start is the last still row less bent than this (a pause on the way down
    is not the start)."""
    lockout_in_gap_s: float | None = None
    """A gap in the rows longer than this (s) inside an excursion, the trunk extending
    before it and flexing after it fast enough to have been upright in it (straight lines
    from the rows on either side reach upright, 0 deg, within the gap), hides a lockout: the
    rep before it ends at its last row, the next starts at the first row after it. For
    squats, whose reps follow each other with 0.05-0.3 s upright; None: off."""
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
    "hyperextended", "rounded", "p_rounded", "look_back",
)  # fmt: skip
"""The fields of a rep object, in the order of ``imu analyze --reps`` columns."""
