"""Deadlift sets of a simulated session: the reps, the put-down after a set, the rack.

Functions of a builder ``b`` (:class:`imu.sim.script.Builder`), as :mod:`imu.sim.squat`
for squat sets. How a rep is shaped (details and numbers: docs/simulator.md):

- every rep has a rounding severity s: 0-0.2 in good reps, 0.3-1 in rounded ones;
- descent to the lifter's hinge depth plus s x 8-14 deg, (pause), a further s x 3-6 deg
  creeping into lift-off, then a pull with the trunk angle held early (knees extend
  first) and the fastest extension at (0.6 - 0.3 s) of the ascent ("unrounding" early),
  lockout 0-3 deg of extension; lateral sway and twist grow by (1 + s);
- hyperextended rep: the lockout overshoots to 11-17 deg of extension before settling;
- fatigue: later reps of a set ascend slower and bend deeper (creeping flexion).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imu.sim.activities import ALL_KINDS, DeadliftSet, Stand

if TYPE_CHECKING:
    from imu.sim.script import Builder


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


def deadlift_set(b: Builder, a: DeadliftSet) -> None:
    """Append set ``a`` to builder ``b``: its motion keyframes and its true reps."""
    lifter, rng, kind = b.lifter, b.rng, ALL_KINDS[a.kind]
    b.face_bar()
    b.n_sets += 1
    if a.rack:
        walk_out(b)
    b.set_depth_deg = rng.uniform(*kind.depth_deg) if kind.depth_deg else None
    b.heavy = a.n_reps <= 3
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
            put_down(b, a.kind)  # stand up, re-grip: sets up again
            b.stand(Stand(rng.uniform(0.5, 3.0)))
            on_floor = True
        rep(b, a.kind, i + 1, rounded, hyper, fatigue, on_floor)
        on_floor = False
        if a.cluster_size and (i + 1) % a.cluster_size == 0 and i + 1 < a.n_reps:
            if a.cluster_put_down and kind.from_floor:
                put_down(b, a.kind)
                on_floor = True
            b.stand(Stand(a.cluster_rest_s))  # breathing (the bar held at lockout)
    if kind.from_floor:
        put_down(b, a.kind, a.put_down)
    if a.rack:
        walk_in(b)
    b.stand(Stand(rng.uniform(1.0, 2.5)))


def rep(
    b: Builder, kind_name: str, rep: int, rounded: bool, hyper: bool, fatigue: float, setup: bool
) -> None:
    lifter, rng, kind = b.lifter, b.rng, ALL_KINDS[kind_name]
    if kind.depth_deg is not None and b.set_depth_deg is not None:
        depth = b.set_depth_deg * rng.uniform(0.95, 1.05)
    else:
        depth = lifter.hinge_depth_deg * kind.depth * rng.uniform(0.93, 1.07)
    depth += fatigue * rng.uniform(2, 5)  # creeping flexion late in a set
    descent = lifter.descent_s * kind.descent * rng.uniform(0.9, 1.1) * (1.5 if setup else 1.0)
    pause = rng.uniform(*kind.pause_s) + (rng.uniform(0.8, 1.5) if setup else 0.0)
    ascent = lifter.ascent_s * kind.ascent * rng.uniform(0.9, 1.1) * (1 + 0.6 * fatigue)
    if b.variety:  # reps vary more in tempo; a heavy single, double or triple grinds
        ascent *= b.variety_rng.uniform(0.8, 1.25)
        if b.heavy:
            ascent *= b.variety_rng.uniform(1.1, 1.6)
    drop = lifter.knee_drop_m * kind.drop
    t0, h = b.t, b.heading_deg
    # Rounding is a continuum: good reps carry a little of it (0-0.2), rounded reps a
    # lot (0.3-1); every mechanism below scales with it.
    severity = rng.uniform(0.3, 1.0) if rounded else rng.uniform(0.0, 0.2)
    bottom = depth + severity * rng.uniform(8, 14)
    # descent (lowering or setting up), then settle into the start position
    settle = 1.0 if pause > 0.5 else 0.3
    keys = [(descent, bottom - settle, 0.0), (descent + pause, bottom, 0.0)]
    tb = descent + pause
    a = ascent
    lockout = -rng.uniform(11, 17) if hyper else -rng.uniform(0, 3)
    if b.variety and not hyper:
        lockout = -b.variety_rng.uniform(-0.5, 3.0)
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
    if b.variety and b.variety_rng.random() < 0.4:  # a breath or two at the top
        hold += b.variety_rng.uniform(0.5, 3.0)
    if hyper:
        keys += [(tb + a + 0.3, lockout, 0.0), (tb + a + 0.3 + 0.6, -rng.uniform(0, 3), 0.0)]
        hold = max(hold, 1.0)
    b.hinge(t0, keys)
    b.path(
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
    if b.variety:
        sway *= b.variety_rng.uniform(0.05, 1.0)
    for channel in ("lateral_bend_deg", "twist_deg"):
        b.oscillate(channel, t0, end_s, sway * rng.uniform(0.5, 0.9), rng.uniform(0.5, 1.0))
        b.oscillate(channel, t0, end_s, sway * rng.uniform(0.2, 0.5), rng.uniform(1.2, 2.2))
    # twist shift during the pull: a little in every rep, more when rounded
    shift = rng.choice([-1.0, 1.0]) * (severity * rng.uniform(3, 6) + rng.uniform(0, 1.5))
    b.path("twist_deg", t0, [(tb, h + shift, 0.0), (tb + a, h, 0.0)])
    b.reps.append(
        {
            "set": b.n_sets,
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
    b.t = t0 + tb + a + hold


def put_down(b: Builder, kind_name: str, how: str = "controlled") -> None:
    """Lower the bar to the floor after the last rep, let go and stand up (not a rep);
    ``dropped``: let go of it at about the knees, a short quick bend."""
    lifter, rng = b.lifter, b.rng
    if how == "dropped":
        depth = lifter.hinge_depth_deg * ALL_KINDS[kind_name].depth * rng.uniform(0.35, 0.75)
        b.bend(depth, 0.0, 0.0, lifter.knee_drop_m * rng.uniform(0.2, 0.5),
                  rng.uniform(0.25, 0.6), rng.uniform(0.0, 0.3), rng.uniform(0.5, 1.0),
                  "drop")  # fmt: skip
        return
    depth = lifter.hinge_depth_deg * ALL_KINDS[kind_name].depth * rng.uniform(0.85, 1.0)
    down, up = lifter.descent_s * rng.uniform(0.8, 1.1), lifter.ascent_s * rng.uniform(0.7, 1.0)
    if b.variety:  # standing up without the bar is quicker than pulling it
        up = lifter.ascent_s * b.variety_rng.uniform(0.45, 0.85)
    release = rng.uniform(0.3, 0.8)
    drop = lifter.knee_drop_m * rng.uniform(0.8, 1.0)
    b.bend(depth, 0.0, 0.0, drop, down, release, up, "put_down")


def walk_out(b: Builder) -> None:
    """Unrack (a knee dip) and step back 0.4-0.9 m, then brace."""
    rng = b.rng
    dip(b, rng.uniform(0.04, 0.09), rng.uniform(0.8, 1.3))
    shuffle(b, rng.uniform(0.4, 0.9), backward=True)
    b.stand(Stand(rng.uniform(0.8, 2.5)))


def walk_in(b: Builder) -> None:
    """Step forward to the rack and rack the bar (a knee dip)."""
    rng = b.rng
    shuffle(b, rng.uniform(0.4, 0.9), backward=False)
    dip(b, rng.uniform(0.04, 0.09), rng.uniform(0.8, 1.3))


def shuffle(b: Builder, distance_m: float, backward: bool) -> None:
    """A few short steps (0.35-0.5 m/s) straight forward or backward, heading kept."""
    rng, f = b.rng, b.lifter.cadence_hz
    duration = max(1.0, distance_m / rng.uniform(0.35, 0.5))
    h = np.deg2rad(b.heading_deg)
    d = np.array([np.cos(h), np.sin(h)]) * (-1.0 if backward else 1.0)
    for i, channel in enumerate(("hip_x_m", "hip_y_m")):
        x0 = b.track(channel).last
        b.path(channel, b.t, [(duration, x0 + distance_m * d[i], 0.0)])
    t0, t1 = b.t, b.t + duration
    b.oscillate("hip_drop_m", t0, t1, 0.01, f)
    b.oscillate("lateral_bend_deg", t0, t1, 2.0, f / 2)
    b.oscillate("twist_deg", t0, t1, 2.5, f / 2)
    b.t = t1


def dip(b: Builder, depth_m: float, duration_s: float) -> None:
    """Bend the knees a little and stand up again (unracking or racking a bar)."""
    t0 = b.t
    b.path("hip_drop_m", t0, [(duration_s / 2, depth_m, 0.0), (duration_s, 0.0, 0.0)])
    lean = b.rng.uniform(2.0, 8.0)
    b.hinge(t0, [(duration_s / 2, lean, 0.0), (duration_s, 0.0, 0.0)])
    b.t = t0 + duration_s
