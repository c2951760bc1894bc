"""Back squats for the simulator (synthetic data; docs/simulator.md, "Squats").

A :class:`SquatSet` is one activity of a :class:`~imu.sim.activities.SessionScript`: ``n_reps``
back squats with the bar on the back (never from the floor), back to back or with a pause
standing between reps. What one lumbar/pelvis sensor sees of a squat:

- the segment flexes far less than in a deadlift: the lifter's good squat reaches
  20 + (hinge_depth_deg - 45) x 25/35 deg (20-45 deg over the simulated lifters'
  45-80 deg hinge depth), +-7 % per rep, while the hip joint centre drops 40-48 % of the
  hip height (to depth);
- tempo 2-3 s per rep: descent 1.0-1.5 s, 0-0.3 s at the bottom, ascent 0.8-1.3 s, a
  lockout between -3 and 5 deg (not always standing fully tall);
  ``pause_s`` standing at lockout between reps (0.05-0.3 s back to back);
- **butt wink**: late in the descent the pelvis tucks under, a posterior tilt of the
  segment of 6-12 deg (flexion drops) at the bottom, and tilts forward again early in the
  ascent;
- **forward lean**: 9-16 deg more flexion than the lifter's good reps at the bottom,
  growing a further 2-5 deg early in the ascent (the hips rise first).

The true rep carries ``kind = "squat"``, ``rounded`` = butt wink (the squat's rounded
back: the lumbar spine flexes as the pelvis tucks under), and the ``butt_wink`` and
``forward_lean`` flags.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Extra truth columns of a squat rep (after :data:`imu.sim.core.REP_COLUMNS`).
SQUAT_FAULTS = ("butt_wink", "forward_lean")


@dataclass(frozen=True)
class SquatSet:
    """One set of back squats. ``butt_wink`` / ``forward_lean``: one flag per rep, or None
    to draw them (probability ``fault_rate`` each, never both in one rep). ``pause_s``:
    seconds standing at lockout between reps, as a (low, high) range (back to back: the
    default)."""

    n_reps: int
    butt_wink: tuple[bool, ...] | None = None
    forward_lean: tuple[bool, ...] | None = None
    pause_s: tuple[float, float] = (0.05, 0.3)
    fault_rate: float = 0.2

    def __post_init__(self) -> None:
        if self.n_reps < 1:
            raise ValueError("a squat set needs at least one rep")
        for flags in (self.butt_wink, self.forward_lean):
            if flags is not None and len(flags) != self.n_reps:
                raise ValueError("one butt_wink/forward_lean flag per rep is needed")
        if not 0 <= self.pause_s[0] <= self.pause_s[1]:
            raise ValueError("pause_s must be a range (low, high) of seconds >= 0")


def squat_depth_deg(hinge_depth_deg: float) -> float:
    """The peak segment flexion of a lifter's good squat from their deadlift hinge depth."""
    return 20.0 + (hinge_depth_deg - 45.0) * 25.0 / 35.0


def squat_set(b, a: SquatSet) -> None:
    """Append set ``a`` to builder ``b`` (:class:`imu.sim.script.Builder`): its motion
    keyframes and its true reps."""
    from imu.sim.activities import Stand  # activities imports this module

    rng = b.rng
    b.face_bar()
    b.n_sets += 1
    for i in range(a.n_reps):
        wink = a.butt_wink[i] if a.butt_wink is not None else None
        lean = a.forward_lean[i] if a.forward_lean is not None else None
        if wink is None and lean is None:
            draw = rng.random()
            wink, lean = draw < a.fault_rate, a.fault_rate <= draw < 2 * a.fault_rate
        _squat_rep(b, i + 1, bool(wink), bool(lean))
        if i + 1 < a.n_reps:
            b.stand(Stand(float(rng.uniform(*a.pause_s))))  # bar on the back
    b.stand(Stand(float(rng.uniform(1.0, 2.5))))


def _squat_rep(b, rep: int, wink: bool, lean: bool) -> None:
    lifter, rng = b.lifter, b.rng
    t0 = b.t
    descent = rng.uniform(1.0, 1.5)
    pause = rng.uniform(0.0, 0.3)
    ascent = rng.uniform(0.8, 1.3)
    good = squat_depth_deg(lifter.hinge_depth_deg) * rng.uniform(0.93, 1.07)
    peak = good + (rng.uniform(9, 16) if lean else 0.0)
    lockout = rng.uniform(-3, 5)  # back to back, not always standing fully tall
    tb = descent + pause  # the bottom: the ascent starts
    if wink:
        tuck = rng.uniform(6, 12)
        tuck_at = rng.uniform(0.7, 0.8) * descent
        keys = [
            (tuck_at, peak, 0.0),
            (descent, peak - tuck, 0.0),
            (tb, peak - tuck, 0.0),
            (tb + 0.25 * ascent, peak - 0.3 * tuck, 12.0),
        ]
        rest_from, rest_value = tb + 0.25 * ascent, peak - 0.3 * tuck
    elif lean:
        rise = rng.uniform(2, 5)
        keys = [(descent, peak, 0.0), (tb, peak, 0.0), (tb + 0.3 * ascent, peak + rise, 0.0)]
        rest_from, rest_value = tb + 0.3 * ascent, peak + rise
    else:
        keys = [(descent, peak, 0.0), (tb, peak, 0.0)]
        rest_from, rest_value = tb, peak
    # the rest of the ascent: fastest extension in its middle, settling at lockout
    rest_s = tb + ascent - rest_from
    mid = (rest_value + lockout) / 2
    keys += [
        (rest_from + 0.5 * rest_s, mid, -1.6 * (rest_value - lockout) / rest_s),
        (tb + ascent, lockout, 0.0),
    ]
    b.hinge(t0, keys, scale_back=0.6)
    drop = lifter.hip_height_m * rng.uniform(0.40, 0.48)
    b.path(
        "hip_drop_m",
        t0,
        [
            (descent, drop, 0.0),
            (tb, drop, 0.0),
            (tb + 0.5 * ascent, 0.5 * drop, -1.5 * drop / ascent),
            (tb + ascent, 0.0, 0.0),
        ],
    )
    sway = lifter.sway_deg
    for channel in ("lateral_bend_deg", "twist_deg"):
        b.oscillate(
            channel, t0, t0 + tb + ascent, sway * rng.uniform(0.4, 0.8), rng.uniform(0.5, 1.2)
        )
    b.reps.append(
        {
            "set": b.n_sets,
            "rep": rep,
            "start_s": t0,
            "bottom_s": t0 + tb,
            "end_s": t0 + tb + ascent,
            "kind": "squat",
            "rounded": wink,
            "hyperextended": False,
            "lifter": lifter.name,
            "peak_flexion_deg": float(peak),
            "butt_wink": wink,
            "forward_lean": lean,
        }
    )
    b.t = t0 + tb + ascent
