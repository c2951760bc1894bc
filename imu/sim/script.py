"""Session scripts turned into continuous motion and true reps.

A :class:`~imu.sim.activities.SessionScript` is a lifter plus a list of activities
(:mod:`imu.sim.activities`). :func:`build_motion` compiles it into a
:class:`~imu.sim.motion.Motion` (every body channel as a function of time) and the table of
true reps, with a :class:`Builder` that appends keyframes for one activity after another:
its own moves (standing, turning, walking, resting, bending), deadlift sets
(:mod:`imu.sim.deadlift`), squat sets (:mod:`imu.sim.squat`) and the movements that are not
reps (:mod:`imu.sim.distractors`). Durations and depths vary from rep to rep by a seeded
random generator, so a script plus a seed gives one reproducible session.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imu.sim import deadlift, distractors
from imu.sim.activities import (
    DeadliftSet,
    LoadBar,
    LoadPlates,
    PickItem,
    PickUp,
    Rest,
    SessionScript,
    SitStand,
    Stand,
    Walk,
    Wander,
)
from imu.sim.deadlift import pull_keys
from imu.sim.lifters import Lifter
from imu.sim.motion import Motion, Oscillation
from imu.sim.squat import SquatSet, squat_set

HIP_BACK_M_PER_DEG = 0.15 / 60.0  # hip shift backward per degree of hinge


@dataclass
class BuiltMotion:
    """A compiled script: the motion, its duration (s), the true reps (list of dicts,
    times relative to the motion's own zero) and the bends that are not reps (``kind``,
    ``start_s``, ``end_s``, ``peak_flexion_deg``: put-downs, plates, pick-ups, ...)."""

    motion: Motion
    duration_s: float
    reps: list[dict] = field(default_factory=list)
    bends: list[dict] = field(default_factory=list)


class Builder:
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
        self.set_depth_deg: float | None = None  # an absolute depth drawn for the set
        self.variety = False  # SessionScript.variety
        self.heavy = False  # the set in progress has 1-3 reps (a heavy load)
        self.variety_rng = np.random.default_rng(0)  # its own draws (the others unchanged)

    # -- primitives -------------------------------------------------------------------
    def track(self, channel: str):
        return self.motion.tracks[channel]

    def _hold_from(self, channel: str, t0: float) -> None:
        track = self.track(channel)
        if track.times[-1] < t0:
            track.key(t0, track.last, 0.0)

    def path(self, channel: str, t0: float, keys: list[tuple[float, float, float]]) -> None:
        """Move ``channel`` from its current value through ``(dt, value, velocity)`` keys
        (``dt`` relative to ``t0``); the channel is held until ``t0``."""
        self._hold_from(channel, t0)
        for dt, value, velocity in keys:
            self.track(channel).key(t0 + dt, value, velocity)

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
        x0 = np.array([self.track("hip_x_m").last, self.track("hip_y_m").last])
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


def build_motion(script: SessionScript, rng: np.random.Generator) -> BuiltMotion:
    """Compile ``script`` into continuous motion and the list of true reps."""
    b = Builder(script.lifter, rng)
    if script.variety:
        b.variety, b.variety_rng = True, np.random.default_rng(rng.integers(2**63))
    handlers = {
        Stand: b.stand,
        Walk: b.walk,
        DeadliftSet: lambda a: deadlift.deadlift_set(b, a),
        Rest: b.rest,
        LoadPlates: lambda a: distractors.load_plates(b, a),
        PickUp: lambda a: distractors.pick_up(b, a),
        SitStand: lambda a: distractors.sit_stand(b, a),
        SquatSet: lambda a: squat_set(b, a),
        LoadBar: lambda a: distractors.load_bar(b, a),
        PickItem: lambda a: distractors.pick_item(b, a),
        Wander: lambda a: distractors.wander(b, a),
    }
    for activity in script.activities:
        handler = handlers.get(type(activity))
        if handler is None:
            raise TypeError(f"unknown activity {activity!r}")
        handler(activity)
    b.stand(Stand(1.0, still=True))
    return BuiltMotion(b.motion, b.t, b.reps, b.bends)
