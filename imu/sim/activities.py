"""What a simulated lifter can do: the lift kinds and the activities of a session script.

A :class:`SessionScript` is a lifter plus a list of these activities (standing, walking,
turning, deadlift and squat sets, rests, movements that are not reps);
:func:`imu.sim.script.build_motion` turns it into motion and true reps.
"""

from __future__ import annotations

from dataclasses import dataclass

from imu.sim.lifters import Lifter
from imu.sim.squat import SquatSet


@dataclass(frozen=True)
class LiftKind:
    """A lift variant: depth as a fraction of the lifter's hinge depth, hip drop as a
    fraction of the lifter's knee drop, tempo factors, pause at the bottom (s, range), and
    whether the bar starts on the floor (then it is put down after the set)."""

    depth: float
    drop: float
    descent: float
    ascent: float
    pause_s: tuple[float, float]
    from_floor: bool
    depth_deg: tuple[float, float] | None = None
    """An absolute depth range (deg) drawn once per set instead of ``depth`` x hinge depth
    (shallow Romanian deadlifts reach ~30-35 deg whoever lifts)."""


KINDS: dict[str, LiftKind] = {
    "conventional": LiftKind(1.0, 1.0, 1.0, 1.0, (0.8, 2.0), True),
    "touch_and_go": LiftKind(0.97, 1.0, 0.85, 1.0, (0.05, 0.2), True),
    "rdl": LiftKind(0.85, 0.25, 1.2, 1.0, (0.1, 0.3), False),
    "good_morning": LiftKind(0.95, 0.15, 1.3, 1.2, (0.15, 0.4), False),
}
"""The lifts of the demo and training sessions (``demo_session`` draws from these)."""

GYM_KINDS: dict[str, LiftKind] = {
    # pulling from a raised deficit (standing on a plate): deeper, longer from the floor
    "deficit": LiftKind(1.1, 1.15, 1.1, 1.15, (0.6, 1.8), True),
    # Romanian deadlifts to ~30-35 deg of segment flexion, and deep ones
    "rdl_shallow": LiftKind(0.0, 0.15, 1.1, 0.9, (0.05, 0.25), False, (29.0, 36.0)),
    "rdl_deep": LiftKind(1.0, 0.3, 1.3, 1.05, (0.1, 0.4), False),
}
"""Further lifts of the gym sessions (:mod:`imu.sim.gym`)."""

ALL_KINDS: dict[str, LiftKind] = {**KINDS, **GYM_KINDS}
"""Every lift kind by name (a :class:`DeadliftSet`'s ``kind``)."""


@dataclass(frozen=True)
class Stand:
    """Stand for ``duration_s``; ``still`` = quiet calibration stance (minimal sway)."""

    duration_s: float
    still: bool = False


@dataclass(frozen=True)
class Walk:
    """Walk ``distance_m`` straight ahead, then turn by ``turn_deg`` (+ = to the left)."""

    distance_m: float
    turn_deg: float = 0.0


@dataclass(frozen=True)
class DeadliftSet:
    """One set. ``rounded`` / ``hyperextended``: one flag per rep, or None to draw them
    from the lifter's tendencies (rounding grows with fatigue late in the set).
    ``cluster_size``: a rest-pause (cluster) set: after every ``cluster_size`` reps the
    lifter stands ``cluster_rest_s`` holding the bar at lockout, then goes on (one set)."""

    n_reps: int
    kind: str = "conventional"
    rounded: tuple[bool, ...] | None = None
    hyperextended: tuple[bool, ...] | None = None
    cluster_size: int | None = None
    cluster_rest_s: float = 15.0
    put_down: str = "controlled"
    """How a set from the floor ends: ``controlled`` (lowered to the floor, let go, stand
    up) or ``dropped`` (released from about the knees: a short quick bend)."""
    reset_chance: float = 0.0
    """Chance that the lifter puts the bar down, stands up and sets up again before a rep
    (from the floor: stand, re-grip). The put-down and stand-up are not a rep."""
    cluster_put_down: bool = False
    """Clusters of a set from the floor rest with the bar on the floor (put down, stand
    ``cluster_rest_s``, set up again) instead of holding it."""
    rack: bool = False
    """Lifted from a rack (Romanian deadlifts, good mornings): unrack, walk out 2-3 steps
    backward, the reps, walk in, rack. No set-up, no put-down."""

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise ValueError(f"unknown lift kind {self.kind!r}; choose from {', '.join(ALL_KINDS)}")
        if self.put_down not in ("controlled", "dropped"):
            raise ValueError("put_down must be 'controlled' or 'dropped'")
        if self.rack and ALL_KINDS[self.kind].from_floor:
            raise ValueError("a lift from the floor is not taken from a rack")
        for flags in (self.rounded, self.hyperextended):
            if flags is not None and len(flags) != self.n_reps:
                raise ValueError("one rounded/hyperextended flag per rep is needed")
        if self.cluster_size is not None and (self.cluster_size < 1 or self.cluster_rest_s <= 0):
            raise ValueError("cluster_size must be >= 1 and cluster_rest_s > 0")


@dataclass(frozen=True)
class Rest:
    """Rest between sets: stand, shift weight, wander a few metres and back.
    ``until_s``: rest on until this time of the session (from its start), if later."""

    duration_s: float
    until_s: float | None = None


@dataclass(frozen=True)
class LoadPlates:
    """Bend to load a plate: twisted, held at the bottom for 3-8 s. Not a rep."""


@dataclass(frozen=True)
class PickUp:
    """Bend quickly to pick something off the floor. Not a rep."""


@dataclass(frozen=True)
class SitStand:
    """Sit down on a bench, stay seated ``seated_s``, stand up. Not a rep."""

    seated_s: float = 10.0


@dataclass(frozen=True)
class LoadBar:
    """Load (or unload) ``plates_per_side`` plates at both bar ends: walk to one end, turn
    partly toward the sleeve, bend to slide each plate on (held 0.5-4 s; a plate may first
    be fetched from a tree a few steps away, another bend), walk round to the other end,
    the same, walk back to the middle. Not reps."""

    plates_per_side: int = 1


ITEMS = ("chalk", "belt", "phone", "bottle")


@dataclass(frozen=True)
class PickItem:
    """Pick ``item`` (one of :data:`ITEMS`) off the floor and use it: chalk up, put the
    belt on, look at the phone, drink. Not a rep."""

    item: str = "chalk"

    def __post_init__(self) -> None:
        if self.item not in ITEMS:
            raise ValueError(f"unknown item {self.item!r}; choose from {', '.join(ITEMS)}")


@dataclass(frozen=True)
class Wander:
    """Walk around the gym for about ``duration_s``: several walks and turns, standing
    about, now and then a stretch (a slow held forward bend) or a seat. Not reps."""

    duration_s: float
    stretch_chance: float = 0.3


Activity = (
    Stand
    | Walk
    | DeadliftSet
    | SquatSet
    | Rest
    | LoadPlates
    | PickUp
    | SitStand
    | LoadBar
    | PickItem
    | Wander
)


@dataclass(frozen=True)
class SessionScript:
    """A lifter and what they do. Times of the output start at ``clock_origin_s``."""

    lifter: Lifter
    activities: tuple[Activity, ...]
    clock_origin_s: float = 0.0
    name: str = "session"
    variety: bool = False
    """More variety in how movements look (the gym sessions, :mod:`imu.sim.gym`): bends
    that are not reps sway like reps and rise with any speed profile (a fastest
    extension anywhere from 30 % to 70 % of the way up), and each rep's sway under load
    ranges from barely any to the lifter's full amount. Off, the older scripts draw the
    same numbers as before (the bundled datasets regenerate byte for byte)."""
