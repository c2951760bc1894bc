"""Movements of a simulated session that are not reps: loading plates and the bar, picking
things up, sitting down, wandering about (``imu simulate --no-distractors`` leaves them
out). Functions of a builder ``b`` (:class:`imu.sim.script.Builder`); each bend is
recorded in ``b.bends``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imu.sim.activities import LoadBar, LoadPlates, PickItem, PickUp, SitStand, Stand, Walk, Wander

if TYPE_CHECKING:
    from imu.sim.script import Builder


def load_plates(b: Builder, _: LoadPlates) -> None:
    rng = b.rng
    side = rng.choice([-1.0, 1.0])
    b.walk(Walk(rng.uniform(0.8, 1.5), side * rng.uniform(60, 100)))
    b.bend(
        rng.uniform(55, 80),
        side * rng.uniform(15, 35),
        side * rng.uniform(2, 8),
        rng.uniform(0.12, 0.25),
        rng.uniform(1.0, 1.6),
        rng.uniform(3.0, 8.0),
        rng.uniform(1.1, 1.7),
        "load_plate",
    )
    b.turn(-side * 180.0)
    b.walk(Walk(rng.uniform(0.8, 1.5)))
    b.face_bar()


def pick_up(b: Builder, _: PickUp) -> None:
    rng = b.rng
    b.bend(
        rng.uniform(60, 85),
        rng.uniform(-12, 12),
        rng.uniform(-4, 4),
        rng.uniform(0.15, 0.3),
        rng.uniform(0.6, 1.0),
        rng.uniform(0.2, 0.8),
        rng.uniform(0.7, 1.1),
        "pick_up",
    )


def sit_stand(b: Builder, a: SitStand) -> None:
    rng = b.rng
    b.walk(Walk(rng.uniform(1.5, 3.0), rng.choice([-1.0, 1.0]) * 180.0))
    seat_drop = b.lifter.hip_height_m - rng.uniform(0.5, 0.6)  # hip on a 40-50 cm bench
    t0 = b.t
    lean, slump = rng.uniform(30, 42), rng.uniform(8, 18)
    b.hinge(t0, [(0.8, lean, 0.0), (1.6, slump, 0.0)], scale_back=0.5)
    b.bends.append(
        {"kind": "sit", "start_s": t0, "end_s": t0 + 1.6, "peak_flexion_deg": lean}
    )
    b.path("hip_drop_m", t0, [(1.4, seat_drop, 0.0)])
    b.sway(t0 + 1.6, t0 + 1.6 + a.seated_s, 0.8)
    t1 = t0 + 1.6 + a.seated_s
    b.hinge(t1, [(0.7, lean + 5, 0.0), (1.6, 0.0, 0.0)], scale_back=0.5)
    b.bends.append(
        {"kind": "stand_up", "start_s": t1, "end_s": t1 + 1.6, "peak_flexion_deg": lean + 5}
    )
    b.path("hip_drop_m", t1, [(0.5, seat_drop, 0.0), (1.5, 0.0, 0.0)])
    b.t = t1 + 1.6
    b.walk(Walk(rng.uniform(1.5, 3.0)))
    b.face_bar()


def load_bar(b: Builder, a: LoadBar) -> None:
    """Plates at both bar ends (see :class:`LoadBar`)."""
    rng = b.rng
    half = rng.uniform(1.0, 1.35)  # middle of the bar to a sleeve
    side = float(rng.choice([-1.0, 1.0]))
    for end in (0, 1):
        b.face_bar()
        b.turn(side * 90.0 if end == 0 else -side * 90.0)
        b.walk(Walk(half if end == 0 else 2 * half))
        # at the sleeve: partly turned toward it (often hardly)
        facing = b.bar_heading_deg + (side if end == 0 else -side) * rng.uniform(0, 80)
        b.turn_to(facing)
        for plate in range(a.plates_per_side):
            if rng.random() < 0.4:  # fetch the plate from a tree a few steps away
                away = float(rng.choice([-1.0, 1.0])) * rng.uniform(90, 180)
                distance = rng.uniform(1.0, 3.0)
                b.turn(away)
                b.walk(Walk(distance))
                b.bend(*plate_bend(b, hold=(0.3, 1.5)), "fetch_plate")
                b.turn(180.0)
                b.walk(Walk(distance))
                b.turn_to(facing)
            b.bend(*plate_bend(b, hold=(0.5, 4.0)), "load_plate")
            b.stand(Stand(rng.uniform(0.5, 2.0)))
    b.face_bar()
    b.turn(side * 90.0)
    b.walk(Walk(half))
    b.face_bar()
    if rng.random() < 0.7:
        b.stand(Stand(rng.uniform(1.0, 3.0)))


def plate_bend(b: Builder, hold: tuple[float, float]) -> tuple[float, ...]:
    """Arguments of :meth:`bend` for handling a plate: stooped or squatting."""
    rng = b.rng
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


def pick_item(b: Builder, a: PickItem) -> None:
    """Pick ``a.item`` up and use it (see :class:`PickItem`)."""
    rng = b.rng
    if a.item == "chalk" and rng.random() < 0.5:  # a bowl at waist height
        b.bend(rng.uniform(8, 25), rng.uniform(-15, 15), rng.uniform(-4, 4), 0.02,
                  rng.uniform(0.4, 0.9), rng.uniform(2.0, 6.0), rng.uniform(0.4, 0.9),
                  "chalk")  # fmt: skip
        return
    b.bend(*plate_bend(b, hold=(0.1, 1.0)), f"pick_{a.item}")
    t0 = b.t
    if a.item == "belt":  # buckling the belt: fidgeting, a little bent
        use = rng.uniform(6.0, 15.0)
        b.oscillate("flexion_deg", t0, t0 + use, rng.uniform(2, 5), rng.uniform(0.4, 1.0))
        b.oscillate(
            "lateral_bend_deg", t0, t0 + use, rng.uniform(1, 3), rng.uniform(0.3, 0.8)
        )
        lean = rng.uniform(5, 18)
        b.hinge(t0, [(1.0, lean, 0.0), (use - 1.0, lean, 0.0), (use, 0.0, 0.0)])
        b.t = t0 + use
    elif a.item == "phone":  # looking at the phone, then putting it down
        use = rng.uniform(5.0, 25.0)
        lean = rng.uniform(3, 12)
        b.hinge(t0, [(1.0, lean, 0.0), (use - 1.0, lean, 0.0), (use, 0.0, 0.0)])
        b.sway(t0, t0 + use, 0.5)
        b.t = t0 + use
        b.bend(*plate_bend(b, hold=(0.1, 0.8)), "put_phone")
    elif a.item == "bottle":  # drinking: leaning back, then putting it down
        use = rng.uniform(2.0, 6.0)
        back = -rng.uniform(5, 15)
        b.hinge(t0, [(0.8, back, 0.0), (use - 0.8, back, 0.0), (use, 0.0, 0.0)])
        b.t = t0 + use
        b.bend(*plate_bend(b, hold=(0.1, 0.8)), "put_bottle")
    else:  # chalk from a bucket on the floor: rub hands standing
        b.stand(Stand(rng.uniform(3.0, 8.0)))


def wander(b: Builder, a: Wander) -> None:
    """Walk about (see :class:`Wander`)."""
    rng = b.rng
    end = b.t + a.duration_s
    while end - b.t > 5.0:
        u = rng.random()
        if u < 0.45:
            b.walk(Walk(rng.uniform(2.0, 10.0), rng.uniform(-180, 180)))
        elif u < 0.45 + 0.25 * a.stretch_chance:
            down = rng.uniform(1.5, 3.0)
            b.bend(rng.uniform(55, 95), rng.uniform(-10, 10), rng.uniform(-10, 10),
                      rng.uniform(0.0, 0.1), down, rng.uniform(4.0, 20.0),
                      rng.uniform(1.5, 3.0), "stretch")  # fmt: skip
        elif u < 0.55 + 0.25 * a.stretch_chance:
            sit_stand(b, SitStand(rng.uniform(5.0, 30.0)))
        else:
            b.stand(Stand(min(rng.uniform(3.0, 20.0), max(end - b.t - 2.0, 1.0))))
    b.face_bar()
    b.stand(Stand(max(end - b.t, 1.0)))
