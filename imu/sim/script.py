"""Session scripts: what the lifter does, turned into continuous motion and true reps.

A :class:`SessionScript` is a lifter plus a list of activities (standing, walking,
turning, deadlift sets, rests, movements that are not reps). :func:`build_motion`
compiles it into a :class:`~imu.sim.motion.Motion` (every body channel as a function of
time) and the table of true reps. Durations and depths vary from rep to rep by a seeded
random generator, so a script plus a seed gives one reproducible session.

How a rep is shaped (details and numbers: docs/simulator.md):

- every rep has a rounding severity s: 0-0.3 in good reps, 0.25-1 in rounded ones;
- descent to the lifter's hinge depth plus s x 8-14 deg, (pause), a further s x 3-6 deg
  creeping into lift-off, then a pull with the trunk angle held early (knees extend
  first) and the fastest extension at (0.6 - 0.3 s) of the ascent ("unrounding" early),
  lockout 0-3 deg of extension; lateral sway and twist grow by (1 + s);
- hyperextended rep: the lockout overshoots to 11-17 deg of extension before settling;
- fatigue: later reps of a set ascend slower and bend deeper (creeping flexion).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imu.sim.lifters import Lifter
from imu.sim.motion import Motion, Oscillation
from imu.sim.squat import SquatSet, squat_set


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

HIP_BACK_M_PER_DEG = 0.15 / 60.0  # hip shift backward per degree of hinge


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


@dataclass
class BuiltMotion:
    """A compiled script: the motion, its duration (s), the true reps (list of dicts,
    times relative to the motion's own zero) and the bends that are not reps (``kind``,
    ``start_s``, ``end_s``, ``peak_flexion_deg``: put-downs, plates, pick-ups, ...)."""

    motion: Motion
    duration_s: float
    reps: list[dict] = field(default_factory=list)
    bends: list[dict] = field(default_factory=list)


def pull_keys(
    t0: float, ascent_s: float, start: float, end: float, knots: list[tuple[float, float]]
) -> list[tuple[float, float, float]]:
    """Keyframes ``(t, value, velocity)`` of a pull from ``start`` to ``end`` (deg) shaped
    by its speed: ``knots`` are ``(share of the ascent, relative speed)``, the first at
    the pull's start. Between knots the speed changes monotonically (a quintic segment
    whose value change is the trapezoid of its end speeds), and the speeds are scaled so
    that the pull ends exactly at ``end``; the fastest knot is the fastest moment."""
    share = np.array([k[0] for k in knots])
    speed = np.array([k[1] for k in knots])
    steps = (speed[1:] + speed[:-1]) / 2 * np.diff(share)
    rate = (start - end) / (steps.sum() * ascent_s)  # deg/s per unit of relative speed
    values = start - rate * ascent_s * np.cumsum(steps)
    return [
        (t0 + f * ascent_s, float(v), float(-rate * r))
        for f, v, r in zip(share[1:], values, speed[1:])
    ]


class _Builder:
    """Appends keyframes for one activity after another, tracking the current time."""

    def __init__(self, lifter: Lifter, rng: np.random.Generator) -> None:
        self.lifter = lifter
        self.rng = rng
        self.motion = Motion()
        self.t = 0.0
        self.heading_deg = 0.0
        self.bar_heading_deg = 0.0  # the bar is straight ahead of the calibration posture
        self.n_sets = 0
        self.reps: list[dict] = []
        self.bends: list[dict] = []
        self._set_depth_deg: float | None = None  # an absolute depth drawn for the set
        self.variety = False  # SessionScript.variety
        self._heavy = False  # the set in progress has 1-3 reps (a heavy load)
        self.variety_rng = np.random.default_rng(0)  # its own draws (the others unchanged)

    # -- primitives -------------------------------------------------------------------
    def _track(self, channel: str):
        return self.motion.tracks[channel]

    def _hold_from(self, channel: str, t0: float) -> None:
        track = self._track(channel)
        if track.times[-1] < t0:
            track.key(t0, track.last, 0.0)

    def path(self, channel: str, t0: float, keys: list[tuple[float, float, float]]) -> None:
        """Move ``channel`` from its current value through ``(dt, value, velocity)`` keys
        (``dt`` relative to ``t0``); the channel is held until ``t0``."""
        self._hold_from(channel, t0)
        for dt, value, velocity in keys:
            self._track(channel).key(t0 + dt, value, velocity)

    def hinge(
        self, t0: float, keys: list[tuple[float, float, float]], scale_back: float = 1.0
    ) -> None:
        """Flexion keys, with the hip shifting backward in proportion (a hip hinge)."""
        self.path("flexion_deg", t0, keys)
        k = HIP_BACK_M_PER_DEG * scale_back
        self.path(
            "hip_back_m",
            t0,
            [(dt, k * max(v, 0.0), k * vel if v > 0 else 0.0) for dt, v, vel in keys],
        )

    def oscillate(
        self, channel: str, t0: float, t1: float, amplitude: float, frequency_hz: float
    ) -> None:
        phase = self.rng.uniform(0, 2 * np.pi)
        self.motion.oscillations.append(
            Oscillation(channel, t0, t1, amplitude, frequency_hz, phase)
        )

    def sway(self, t0: float, t1: float, scale_deg: float) -> None:
        """Low-frequency postural sway of the trunk and hip while standing."""
        if t1 - t0 < 3.0:
            return
        for channel, share in (("flexion_deg", 1.0), ("lateral_bend_deg", 0.6), ("twist_deg", 0.8)):
            self.oscillate(channel, t0, t1, share * scale_deg, self.rng.uniform(0.1, 0.4))
        self.oscillate("hip_x_m", t0, t1, 0.004 * scale_deg, self.rng.uniform(0.1, 0.3))

    # -- activities -------------------------------------------------------------------
    def stand(self, a: Stand) -> None:
        self.sway(self.t, self.t + a.duration_s, 0.15 if a.still else 0.6)
        self.t += a.duration_s

    def turn(self, angle_deg: float) -> None:
        if abs(angle_deg) < 1e-6:
            return
        duration = 0.7 + abs(angle_deg) / 180.0 * 1.3
        self.heading_deg += angle_deg
        self.path("twist_deg", self.t, [(duration, self.heading_deg, 0.0)])
        self.oscillate("hip_drop_m", self.t, self.t + duration, 0.008, self.lifter.cadence_hz)
        self.t += duration

    def walk(self, a: Walk) -> None:
        lifter = self.lifter
        speed, accel_s = lifter.walk_speed_m_s, 0.8
        if a.distance_m < speed * accel_s:
            speed = a.distance_m / accel_s
        cruise_s = (a.distance_m - speed * accel_s) / speed
        h = np.deg2rad(self.heading_deg)
        d = np.array([np.cos(h), np.sin(h)])
        x0 = np.array([self._track("hip_x_m").last, self._track("hip_y_m").last])
        ramp = speed * accel_s / 2
        stops = [
            (accel_s, ramp, speed),
            (accel_s + cruise_s, ramp + speed * cruise_s, speed),
            (2 * accel_s + cruise_s, a.distance_m, 0.0),
        ]
        for i, channel in enumerate(("hip_x_m", "hip_y_m")):
            self.path(channel, self.t, [(dt, x0[i] + s * d[i], v * d[i]) for dt, s, v in stops])
        t0, t1 = self.t, self.t + stops[-1][0]
        f = lifter.cadence_hz
        # Gait of the pelvis: vertical bob at step frequency, lateral sway, rotation and
        # obliquity at stride frequency (half the step frequency).
        self.oscillate("hip_drop_m", t0, t1, 0.018, f)
        self.oscillate("flexion_deg", t0, t1, 1.5, f)
        self.oscillate("lateral_bend_deg", t0, t1, 3.0, f / 2)
        self.oscillate("twist_deg", t0, t1, 4.0, f / 2)
        phase = self.rng.uniform(0, 2 * np.pi)
        for channel, component in (("hip_x_m", -d[1]), ("hip_y_m", d[0])):
            self.motion.oscillations.append(
                Oscillation(channel, t0, t1, 0.02 * component, f / 2, phase)
            )
        self.t = t1
        self.turn(a.turn_deg)

    def turn_to(self, heading_deg: float) -> None:
        """Turn the short way round to face ``heading_deg``."""
        self.turn((heading_deg - self.heading_deg + 180.0) % 360.0 - 180.0)

    def face_bar(self) -> None:
        self.turn_to(self.bar_heading_deg)

    def rest(self, a: Rest) -> None:
        end = max(self.t + a.duration_s, a.until_s if a.until_s is not None else -np.inf)
        rng = self.rng
        while end - self.t > 15.0:
            if rng.random() < 0.35:
                distance, side = rng.uniform(1.5, 4.0), rng.choice([-1.0, 1.0])
                self.walk(Walk(distance, side * 180.0))
                self.walk(Walk(distance, -side * 180.0))
            else:
                self.stand(Stand(min(rng.uniform(5.0, 20.0), end - self.t - 4.0)))
                self.path(
                    "twist_deg",
                    self.t,
                    [
                        (0.8, self.heading_deg + rng.uniform(-8, 8), 0.0),
                        (1.6, self.heading_deg, 0.0),
                    ],
                )
                self.t += 1.6
        self.face_bar()
        self.stand(Stand(max(end - self.t, 1.0)))

    def bend(
        self,
        depth_deg: float,
        twist_deg: float,
        lateral_deg: float,
        drop_m: float,
        down_s: float,
        hold_s: float,
        up_s: float,
        label: str = "bend",
    ) -> None:
        """A bend that is not a rep: down, hold (with fidgeting), back up (recorded in
        ``bends`` as ``label``)."""
        t0, h = self.t, self.heading_deg
        self.bends.append(
            {"kind": label, "start_s": t0, "end_s": t0 + down_s + hold_s + up_s,
             "peak_flexion_deg": depth_deg}
        )  # fmt: skip
        hold_end, end = down_s + hold_s, down_s + hold_s + up_s
        keys = [(down_s, depth_deg, 0.0), (hold_end, depth_deg, 0.0)]
        if self.variety:  # any speed profile up, sway like a lift
            rng = self.variety_rng
            fast = rng.uniform(0.3, 0.7)
            knots = [(0.0, 0.0), (fast, 1.0), (fast + 0.5 * (1 - fast), rng.uniform(0.2, 0.5)),
                     (1.0, 0.0)]  # fmt: skip
            # standing up ends anywhere from a little extended to a little bent, as a
            # lockout does (held until the next movement)
            keys += pull_keys(hold_end, up_s, depth_deg, rng.uniform(-3.0, 0.5), knots)
            sway = self.lifter.sway_deg * rng.uniform(0.1, 1.3)
            for channel in ("lateral_bend_deg", "twist_deg"):
                self.oscillate(channel, t0, t0 + end, sway * rng.uniform(0.4, 0.9),
                               rng.uniform(0.5, 1.0))  # fmt: skip
                self.oscillate(channel, t0, t0 + end, sway * rng.uniform(0.1, 0.5),
                               rng.uniform(1.2, 2.2))  # fmt: skip
        else:
            keys.append((end, 0.0, 0.0))
        self.hinge(t0, keys)
        for channel, value, back_to, reach_s in (
            ("twist_deg", h + twist_deg, h, down_s),
            ("lateral_bend_deg", lateral_deg, 0.0, down_s),
            ("hip_drop_m", drop_m, 0.0, 0.9 * down_s),
        ):
            self.path(
                channel, t0, [(reach_s, value, 0.0), (hold_end, value, 0.0), (end, back_to, 0.0)]
            )
        if hold_s > 1.0:
            self.oscillate(
                "flexion_deg", t0 + down_s, t0 + down_s + hold_s, 3.0, self.rng.uniform(0.3, 0.8)
            )
            self.oscillate(
                "hip_back_m", t0 + down_s, t0 + down_s + hold_s, 0.03, self.rng.uniform(0.5, 1.0)
            )
        self.t = t0 + end

    def load_plates(self, _: LoadPlates) -> None:
        rng = self.rng
        side = rng.choice([-1.0, 1.0])
        self.walk(Walk(rng.uniform(0.8, 1.5), side * rng.uniform(60, 100)))
        self.bend(
            rng.uniform(55, 80),
            side * rng.uniform(15, 35),
            side * rng.uniform(2, 8),
            rng.uniform(0.12, 0.25),
            rng.uniform(1.0, 1.6),
            rng.uniform(3.0, 8.0),
            rng.uniform(1.1, 1.7),
            "load_plate",
        )
        self.turn(-side * 180.0)
        self.walk(Walk(rng.uniform(0.8, 1.5)))
        self.face_bar()

    def pick_up(self, _: PickUp) -> None:
        rng = self.rng
        self.bend(
            rng.uniform(60, 85),
            rng.uniform(-12, 12),
            rng.uniform(-4, 4),
            rng.uniform(0.15, 0.3),
            rng.uniform(0.6, 1.0),
            rng.uniform(0.2, 0.8),
            rng.uniform(0.7, 1.1),
            "pick_up",
        )

    def sit_stand(self, a: SitStand) -> None:
        rng = self.rng
        self.walk(Walk(rng.uniform(1.5, 3.0), rng.choice([-1.0, 1.0]) * 180.0))
        seat_drop = self.lifter.hip_height_m - rng.uniform(0.5, 0.6)  # hip on a 40-50 cm bench
        t0 = self.t
        lean, slump = rng.uniform(30, 42), rng.uniform(8, 18)
        self.hinge(t0, [(0.8, lean, 0.0), (1.6, slump, 0.0)], scale_back=0.5)
        self.bends.append(
            {"kind": "sit", "start_s": t0, "end_s": t0 + 1.6, "peak_flexion_deg": lean}
        )
        self.path("hip_drop_m", t0, [(1.4, seat_drop, 0.0)])
        self.sway(t0 + 1.6, t0 + 1.6 + a.seated_s, 0.8)
        t1 = t0 + 1.6 + a.seated_s
        self.hinge(t1, [(0.7, lean + 5, 0.0), (1.6, 0.0, 0.0)], scale_back=0.5)
        self.bends.append(
            {"kind": "stand_up", "start_s": t1, "end_s": t1 + 1.6, "peak_flexion_deg": lean + 5}
        )
        self.path("hip_drop_m", t1, [(0.5, seat_drop, 0.0), (1.5, 0.0, 0.0)])
        self.t = t1 + 1.6
        self.walk(Walk(rng.uniform(1.5, 3.0)))
        self.face_bar()

    def deadlift_set(self, a: DeadliftSet) -> None:
        lifter, rng, kind = self.lifter, self.rng, ALL_KINDS[a.kind]
        self.face_bar()
        self.n_sets += 1
        if a.rack:
            self.walk_out()
        self._set_depth_deg = rng.uniform(*kind.depth_deg) if kind.depth_deg else None
        self._heavy = a.n_reps <= 3
        on_floor = kind.from_floor  # the bar lies on the floor: the next rep sets up
        for i in range(a.n_reps):
            progress = i / max(a.n_reps - 1, 1)
            fatigue = lifter.fatigue * progress
            if a.rounded is not None:
                rounded = a.rounded[i]
            else:
                rounded = bool(rng.random() < lifter.rounding_tendency * (1 + 0.6 * fatigue))
            if a.hyperextended is not None:
                hyper = a.hyperextended[i]
            else:
                hyper = bool(rng.random() < lifter.hyperextension_tendency)
            if i > 0 and kind.from_floor and a.reset_chance and rng.random() < a.reset_chance:
                self.put_down(a.kind)  # stand up, re-grip: sets up again
                self.stand(Stand(rng.uniform(0.5, 3.0)))
                on_floor = True
            self.rep(a.kind, i + 1, rounded, hyper, fatigue, on_floor)
            on_floor = False
            if a.cluster_size and (i + 1) % a.cluster_size == 0 and i + 1 < a.n_reps:
                if a.cluster_put_down and kind.from_floor:
                    self.put_down(a.kind)
                    on_floor = True
                self.stand(Stand(a.cluster_rest_s))  # breathing (the bar held at lockout)
        if kind.from_floor:
            self.put_down(a.kind, a.put_down)
        if a.rack:
            self.walk_in()
        self.stand(Stand(rng.uniform(1.0, 2.5)))

    def shuffle(self, distance_m: float, backward: bool) -> None:
        """A few short steps (0.35-0.5 m/s) straight forward or backward, heading kept."""
        rng, f = self.rng, self.lifter.cadence_hz
        duration = max(1.0, distance_m / rng.uniform(0.35, 0.5))
        h = np.deg2rad(self.heading_deg)
        d = np.array([np.cos(h), np.sin(h)]) * (-1.0 if backward else 1.0)
        for i, channel in enumerate(("hip_x_m", "hip_y_m")):
            x0 = self._track(channel).last
            self.path(channel, self.t, [(duration, x0 + distance_m * d[i], 0.0)])
        t0, t1 = self.t, self.t + duration
        self.oscillate("hip_drop_m", t0, t1, 0.01, f)
        self.oscillate("lateral_bend_deg", t0, t1, 2.0, f / 2)
        self.oscillate("twist_deg", t0, t1, 2.5, f / 2)
        self.t = t1

    def dip(self, depth_m: float, duration_s: float) -> None:
        """Bend the knees a little and stand up again (unracking or racking a bar)."""
        t0 = self.t
        self.path("hip_drop_m", t0, [(duration_s / 2, depth_m, 0.0), (duration_s, 0.0, 0.0)])
        lean = self.rng.uniform(2.0, 8.0)
        self.hinge(t0, [(duration_s / 2, lean, 0.0), (duration_s, 0.0, 0.0)])
        self.t = t0 + duration_s

    def walk_out(self) -> None:
        """Unrack (a knee dip) and step back 0.4-0.9 m, then brace."""
        rng = self.rng
        self.dip(rng.uniform(0.04, 0.09), rng.uniform(0.8, 1.3))
        self.shuffle(rng.uniform(0.4, 0.9), backward=True)
        self.stand(Stand(rng.uniform(0.8, 2.5)))

    def walk_in(self) -> None:
        """Step forward to the rack and rack the bar (a knee dip)."""
        rng = self.rng
        self.shuffle(rng.uniform(0.4, 0.9), backward=False)
        self.dip(rng.uniform(0.04, 0.09), rng.uniform(0.8, 1.3))

    def load_bar(self, a: LoadBar) -> None:
        """Plates at both bar ends (see :class:`LoadBar`)."""
        rng = self.rng
        half = rng.uniform(1.0, 1.35)  # middle of the bar to a sleeve
        side = float(rng.choice([-1.0, 1.0]))
        for end in (0, 1):
            self.face_bar()
            self.turn(side * 90.0 if end == 0 else -side * 90.0)
            self.walk(Walk(half if end == 0 else 2 * half))
            # at the sleeve: partly turned toward it (often hardly)
            facing = self.bar_heading_deg + (side if end == 0 else -side) * rng.uniform(0, 80)
            self.turn_to(facing)
            for plate in range(a.plates_per_side):
                if rng.random() < 0.4:  # fetch the plate from a tree a few steps away
                    away = float(rng.choice([-1.0, 1.0])) * rng.uniform(90, 180)
                    distance = rng.uniform(1.0, 3.0)
                    self.turn(away)
                    self.walk(Walk(distance))
                    self.bend(*self._plate_bend(hold=(0.3, 1.5)), "fetch_plate")
                    self.turn(180.0)
                    self.walk(Walk(distance))
                    self.turn_to(facing)
                self.bend(*self._plate_bend(hold=(0.5, 4.0)), "load_plate")
                self.stand(Stand(rng.uniform(0.5, 2.0)))
        self.face_bar()
        self.turn(side * 90.0)
        self.walk(Walk(half))
        self.face_bar()
        if rng.random() < 0.7:
            self.stand(Stand(rng.uniform(1.0, 3.0)))

    def _plate_bend(self, hold: tuple[float, float]) -> tuple[float, ...]:
        """Arguments of :meth:`bend` for handling a plate: stooped or squatting."""
        rng = self.rng
        squat = rng.random() < 0.35
        depth = rng.uniform(30, 55) if squat else rng.uniform(45, 85)
        drop = rng.uniform(0.3, 0.45) if squat else rng.uniform(0.1, 0.25)
        return (
            depth,
            rng.uniform(-20, 20),
            rng.uniform(-8, 8),
            drop,
            rng.uniform(0.6, 1.6),
            rng.uniform(*hold),
            rng.uniform(0.6, 1.6),
        )

    def pick_item(self, a: PickItem) -> None:
        """Pick ``a.item`` up and use it (see :class:`PickItem`)."""
        rng = self.rng
        if a.item == "chalk" and rng.random() < 0.5:  # a bowl at waist height
            self.bend(rng.uniform(8, 25), rng.uniform(-15, 15), rng.uniform(-4, 4), 0.02,
                      rng.uniform(0.4, 0.9), rng.uniform(2.0, 6.0), rng.uniform(0.4, 0.9),
                      "chalk")  # fmt: skip
            return
        self.bend(*self._plate_bend(hold=(0.1, 1.0)), f"pick_{a.item}")
        t0 = self.t
        if a.item == "belt":  # buckling the belt: fidgeting, a little bent
            use = rng.uniform(6.0, 15.0)
            self.oscillate("flexion_deg", t0, t0 + use, rng.uniform(2, 5), rng.uniform(0.4, 1.0))
            self.oscillate(
                "lateral_bend_deg", t0, t0 + use, rng.uniform(1, 3), rng.uniform(0.3, 0.8)
            )
            lean = rng.uniform(5, 18)
            self.hinge(t0, [(1.0, lean, 0.0), (use - 1.0, lean, 0.0), (use, 0.0, 0.0)])
            self.t = t0 + use
        elif a.item == "phone":  # looking at the phone, then putting it down
            use = rng.uniform(5.0, 25.0)
            lean = rng.uniform(3, 12)
            self.hinge(t0, [(1.0, lean, 0.0), (use - 1.0, lean, 0.0), (use, 0.0, 0.0)])
            self.sway(t0, t0 + use, 0.5)
            self.t = t0 + use
            self.bend(*self._plate_bend(hold=(0.1, 0.8)), "put_phone")
        elif a.item == "bottle":  # drinking: leaning back, then putting it down
            use = rng.uniform(2.0, 6.0)
            back = -rng.uniform(5, 15)
            self.hinge(t0, [(0.8, back, 0.0), (use - 0.8, back, 0.0), (use, 0.0, 0.0)])
            self.t = t0 + use
            self.bend(*self._plate_bend(hold=(0.1, 0.8)), "put_bottle")
        else:  # chalk from a bucket on the floor: rub hands standing
            self.stand(Stand(rng.uniform(3.0, 8.0)))

    def wander(self, a: Wander) -> None:
        """Walk about (see :class:`Wander`)."""
        rng = self.rng
        end = self.t + a.duration_s
        while end - self.t > 5.0:
            u = rng.random()
            if u < 0.45:
                self.walk(Walk(rng.uniform(2.0, 10.0), rng.uniform(-180, 180)))
            elif u < 0.45 + 0.25 * a.stretch_chance:
                down = rng.uniform(1.5, 3.0)
                self.bend(rng.uniform(55, 95), rng.uniform(-10, 10), rng.uniform(-10, 10),
                          rng.uniform(0.0, 0.1), down, rng.uniform(4.0, 20.0),
                          rng.uniform(1.5, 3.0), "stretch")  # fmt: skip
            elif u < 0.55 + 0.25 * a.stretch_chance:
                self.sit_stand(SitStand(rng.uniform(5.0, 30.0)))
            else:
                self.stand(Stand(min(rng.uniform(3.0, 20.0), max(end - self.t - 2.0, 1.0))))
        self.face_bar()
        self.stand(Stand(max(end - self.t, 1.0)))

    def rep(
        self, kind_name: str, rep: int, rounded: bool, hyper: bool, fatigue: float, setup: bool
    ) -> None:
        lifter, rng, kind = self.lifter, self.rng, ALL_KINDS[kind_name]
        if kind.depth_deg is not None and self._set_depth_deg is not None:
            depth = self._set_depth_deg * rng.uniform(0.95, 1.05)
        else:
            depth = lifter.hinge_depth_deg * kind.depth * rng.uniform(0.93, 1.07)
        depth += fatigue * rng.uniform(2, 5)  # creeping flexion late in a set
        descent = lifter.descent_s * kind.descent * rng.uniform(0.9, 1.1) * (1.5 if setup else 1.0)
        pause = rng.uniform(*kind.pause_s) + (rng.uniform(0.8, 1.5) if setup else 0.0)
        ascent = lifter.ascent_s * kind.ascent * rng.uniform(0.9, 1.1) * (1 + 0.6 * fatigue)
        if self.variety:  # reps vary more in tempo; a heavy single, double or triple grinds
            ascent *= self.variety_rng.uniform(0.8, 1.25)
            if self._heavy:
                ascent *= self.variety_rng.uniform(1.1, 1.6)
        drop = lifter.knee_drop_m * kind.drop
        t0, h = self.t, self.heading_deg
        # Rounding is a continuum: good reps carry a little of it (0-0.3), rounded reps a
        # lot (0.25-1); every mechanism below scales with it.
        severity = rng.uniform(0.3, 1.0) if rounded else rng.uniform(0.0, 0.2)
        bottom = depth + severity * rng.uniform(8, 14)
        # descent (lowering or setting up), then settle into the start position
        settle = 1.0 if pause > 0.5 else 0.3
        keys = [(descent, bottom - settle, 0.0), (descent + pause, bottom, 0.0)]
        tb = descent + pause
        a = ascent
        lockout = -rng.uniform(11, 17) if hyper else -rng.uniform(0, 3)
        if self.variety and not hyper:
            lockout = -self.variety_rng.uniform(-0.5, 3.0)
        # flexion keeps growing into lift-off (15 % of the ascent), then the pull: the trunk
        # angle held early (knees extend first), fastest extension at ~60 % of the ascent
        # in a clean rep, earlier (unrounding) the more rounded
        peak_flexion = bottom + severity * rng.uniform(3, 6)
        bottom_s = t0 + tb + 0.15 * a
        keys.append((tb + 0.15 * a, peak_flexion, 0.0))
        fast = float(np.clip(0.6 - 0.3 * severity + rng.normal(0, 0.06), 0.25, 0.72))
        knots = [(0.15, 0.0), (fast, 1.0), (fast + 0.5 * (1 - fast), 0.3), (1.0, 0.0)]
        keys += pull_keys(tb, a, peak_flexion, lockout, knots)
        end_s = t0 + tb + a
        hold = lifter.lockout_s * rng.uniform(0.9, 1.1)
        if self.variety and self.variety_rng.random() < 0.4:  # a breath or two at the top
            hold += self.variety_rng.uniform(0.5, 3.0)
        if hyper:
            keys += [(tb + a + 0.3, lockout, 0.0), (tb + a + 0.3 + 0.6, -rng.uniform(0, 3), 0.0)]
            hold = max(hold, 1.0)
        self.hinge(t0, keys)
        self.path(
            "hip_drop_m",
            t0,
            [
                (0.9 * descent, drop * 0.97, 0.0),
                (tb, drop, 0.0),
                (tb + 0.45 * a, 0.35 * drop, -1.5 * drop / a),
                (tb + a, 0.0, 0.0),
            ],
        )
        # trunk sway under load: two incommensurate components per axis, not one pure tone
        sway = lifter.sway_deg * (1 + severity)
        if self.variety:
            sway *= self.variety_rng.uniform(0.05, 1.0)
        for channel in ("lateral_bend_deg", "twist_deg"):
            self.oscillate(channel, t0, end_s, sway * rng.uniform(0.5, 0.9), rng.uniform(0.5, 1.0))
            self.oscillate(channel, t0, end_s, sway * rng.uniform(0.2, 0.5), rng.uniform(1.2, 2.2))
        # twist shift during the pull: a little in every rep, more when rounded
        shift = rng.choice([-1.0, 1.0]) * (severity * rng.uniform(3, 6) + rng.uniform(0, 1.5))
        self.path("twist_deg", t0, [(tb, h + shift, 0.0), (tb + a, h, 0.0)])
        self.reps.append(
            {
                "set": self.n_sets,
                "rep": rep,
                "start_s": t0,
                "bottom_s": bottom_s,
                "end_s": end_s,
                "kind": kind_name,
                "rounded": rounded,
                "hyperextended": hyper,
                "lifter": lifter.name,
                "peak_flexion_deg": peak_flexion,
            }
        )
        self.t = t0 + tb + a + hold

    def put_down(self, kind_name: str, how: str = "controlled") -> None:
        """Lower the bar to the floor after the last rep, let go and stand up (not a rep);
        ``dropped``: let go of it at about the knees, a short quick bend."""
        lifter, rng = self.lifter, self.rng
        if how == "dropped":
            depth = lifter.hinge_depth_deg * ALL_KINDS[kind_name].depth * rng.uniform(0.35, 0.75)
            self.bend(depth, 0.0, 0.0, lifter.knee_drop_m * rng.uniform(0.2, 0.5),
                      rng.uniform(0.25, 0.6), rng.uniform(0.0, 0.3), rng.uniform(0.5, 1.0),
                      "drop")  # fmt: skip
            return
        depth = lifter.hinge_depth_deg * ALL_KINDS[kind_name].depth * rng.uniform(0.85, 1.0)
        down, up = lifter.descent_s * rng.uniform(0.8, 1.1), lifter.ascent_s * rng.uniform(0.7, 1.0)
        if self.variety:  # standing up without the bar is quicker than pulling it
            up = lifter.ascent_s * self.variety_rng.uniform(0.45, 0.85)
        release = rng.uniform(0.3, 0.8)
        drop = lifter.knee_drop_m * rng.uniform(0.8, 1.0)
        self.bend(depth, 0.0, 0.0, drop, down, release, up, "put_down")


def build_motion(script: SessionScript, rng: np.random.Generator) -> BuiltMotion:
    """Compile ``script`` into continuous motion and the list of true reps."""
    b = _Builder(script.lifter, rng)
    if script.variety:
        b.variety, b.variety_rng = True, np.random.default_rng(rng.integers(2**63))
    handlers = {
        Stand: b.stand,
        Walk: b.walk,
        DeadliftSet: b.deadlift_set,
        Rest: b.rest,
        LoadPlates: b.load_plates,
        PickUp: b.pick_up,
        SitStand: b.sit_stand,
        SquatSet: lambda a: squat_set(b, a),
        LoadBar: b.load_bar,
        PickItem: b.pick_item,
        Wander: b.wander,
    }
    for activity in script.activities:
        handler = handlers.get(type(activity))
        if handler is None:
            raise TypeError(f"unknown activity {activity!r}")
        handler(activity)
    b.stand(Stand(1.0, still=True))
    return BuiltMotion(b.motion, b.t, b.reps, b.bends)
