"""Gym sessions: what a training hour looks like around the reps (SYNTHETIC scripts).

Three kinds of hour, each drawn from a seed (lifter, lifts, order, counts and tempo all
vary by seed; benchmarks keep their own held-out seeds):

- :func:`gym_session` ("mixed"): warm-up, plates loaded at both bar ends between sets,
  pick-ups (chalk, belt, phone, bottle), sets of 1-20 reps of conventional, touch-and-go
  and deficit deadlifts from the floor (set-up at the bar, the bar put down controlled
  or dropped, sometimes resets between reps or rest-pause clusters), Romanian deadlifts
  (shallow ~30-35 deg, usual and deep) and good mornings from a rack with walk-out and
  walk-in, wandering about between sets;
- :func:`singles_session` ("singles"): a heavy day: ramp-up sets of 5-2 reps, then
  singles and doubles from the floor, plates loaded before each;
- :func:`non_lifting_session`: an hour without a single rep: loading and unloading
  bars, pick-ups, stretches, sitting, walking.

:func:`recording_variety` draws how such a session is recorded (rate, sensor part, BLE
timing, a file cut to start mid-activity).
"""

from __future__ import annotations

import numpy as np

from imu.sim.activities import (
    ITEMS,
    DeadliftSet,
    LoadBar,
    PickItem,
    SessionScript,
    SitStand,
    Stand,
    Walk,
    Wander,
)
from imu.sim.lifters import Lifter
from imu.sim.sensor import PARTS, SensorModel, part_model

FLOOR_KINDS = ("conventional", "touch_and_go", "deficit")
RACK_KINDS = ("rdl_shallow", "rdl", "rdl_deep", "good_morning")


def _start(rng: np.random.Generator) -> list:
    """Calibration stance, walk to the bar; or (1 in 4) the sensor strapped on at the bar:
    the calibration stance right before the first set."""
    if rng.random() < 0.25:
        return [Stand(rng.uniform(2.5, 5.0), still=True)]
    return [
        Stand(rng.uniform(2.5, 5.0), still=True),
        Walk(rng.uniform(3, 8), float(rng.choice([-1.0, 1.0])) * rng.uniform(90, 180)),
        Walk(rng.uniform(1.5, 4)),
        Stand(rng.uniform(1.0, 3.0)),
    ]


def _rest(rng: np.random.Generator, rest_s: float) -> list:
    """Between sets: pick-ups, plates, wandering, standing."""
    acts: list = []
    if rng.random() < 0.5:
        acts.append(PickItem(str(rng.choice(ITEMS))))
    if rng.random() < 0.6:
        acts.append(Wander(rest_s * rng.uniform(0.3, 0.8)))
    else:
        acts.append(Stand(rest_s * rng.uniform(0.2, 0.5)))
    if rng.random() < 0.6:
        acts.append(LoadBar(int(rng.integers(1, 3))))
    if rng.random() < 0.5:
        acts.append(PickItem("chalk"))
    if rng.random() < 0.6:  # else straight from the plates or the walk into the set
        acts.append(Stand(rng.uniform(1.0, 8.0)))
    return acts


def _set(rng: np.random.Generator, kind: str, n_reps: int) -> DeadliftSet:
    """One set of ``kind`` with the gym's variety of put-downs, resets and clusters."""
    cluster = None
    if n_reps >= 4 and rng.random() < 0.15:
        cluster = int(rng.integers(1, 4))
    if kind in FLOOR_KINDS:
        return DeadliftSet(
            n_reps,
            kind,
            put_down="dropped" if rng.random() < 0.3 else "controlled",
            reset_chance=float(rng.choice([0.0, 0.0, 0.3, 1.0])),
            cluster_size=cluster,
            cluster_rest_s=rng.uniform(8.0, 25.0),
            cluster_put_down=bool(rng.random() < 0.5),
        )
    return DeadliftSet(n_reps, kind, cluster_size=cluster, cluster_rest_s=rng.uniform(8.0, 25.0),
                       rack=bool(rng.random() < 0.5))  # fmt: skip


def gym_session(
    lifter: Lifter, seed: int = 0, *, minutes: float = 60.0, name: str = "gym"
) -> SessionScript:
    """A mixed gym hour of about ``minutes`` (see the module docstring)."""
    rng = np.random.default_rng([seed, 31])
    acts = _start(rng)
    if len(acts) > 1:  # walked in: a belt and plates first
        acts += [PickItem("belt"), LoadBar(int(rng.integers(1, 3)))]
    elapsed, first = 60.0, True
    while elapsed < minutes * 60.0:
        if not first:
            rest = rng.uniform(40.0, 180.0)
            acts += _rest(rng, rest)
            elapsed += rest + 40.0
        first = False
        kind = str(rng.choice(FLOOR_KINDS + RACK_KINDS))
        n_reps = (
            int(rng.choice([1, 2, 3, 5, 8, 10, 12, 15, 20]))
            if rng.random() < 0.7
            else int(rng.integers(1, 21))
        )
        acts.append(_set(rng, kind, n_reps))
        elapsed += n_reps * 4.0 + 10.0
    acts += [Stand(2.0), LoadBar(int(rng.integers(1, 3))), Walk(rng.uniform(2, 6))]
    return SessionScript(lifter, tuple(acts), 0.0, name, variety=True)


def singles_session(
    lifter: Lifter, seed: int = 0, *, minutes: float = 40.0, name: str = "singles"
) -> SessionScript:
    """A heavy day of about ``minutes``: ramp-up sets, then singles and doubles from the
    floor, plates loaded before each."""
    rng = np.random.default_rng([seed, 37])
    kind = str(rng.choice(["conventional", "conventional", "deficit", "touch_and_go"]))
    acts = _start(rng)
    if len(acts) > 1:
        acts.append(LoadBar(1))
    for n_reps in (5, 3, 2):
        acts += [_set(rng, kind, n_reps), Stand(rng.uniform(5, 20)), LoadBar(1)]
    elapsed = 200.0
    while elapsed < minutes * 60.0:
        rest = rng.uniform(60.0, 240.0)
        if rng.random() < 0.5:
            acts.append(PickItem(str(rng.choice(ITEMS))))
        acts += [Wander(rest * 0.6) if rng.random() < 0.5 else Stand(rest * 0.4), LoadBar(1)]
        if rng.random() < 0.7:
            acts.append(PickItem("chalk"))
        if rng.random() < 0.7:
            acts.append(Stand(rng.uniform(1.0, 6.0)))
        acts.append(
            DeadliftSet(
                int(rng.choice([1, 1, 1, 2])),
                kind,
                put_down="dropped" if rng.random() < 0.35 else "controlled",
                reset_chance=float(rng.choice([0.0, 1.0])),
            )
        )
        elapsed += rest + 30.0
    acts += [Stand(2.0), LoadBar(2), Walk(rng.uniform(2, 6))]
    return SessionScript(lifter, tuple(acts), 0.0, name, variety=True)


def non_lifting_session(
    lifter: Lifter, seed: int = 0, *, minutes: float = 60.0, name: str = "no_lifts"
) -> SessionScript:
    """About ``minutes`` of gym activity without a single rep."""
    rng = np.random.default_rng([seed, 41])
    acts = _start(rng)
    elapsed = 20.0
    while elapsed < minutes * 60.0:
        u = rng.random()
        if u < 0.3:
            acts.append(LoadBar(int(rng.integers(1, 4))))
            elapsed += 60.0
        elif u < 0.6:
            acts.append(PickItem(str(rng.choice(ITEMS))))
            elapsed += 15.0
        elif u < 0.7:
            acts.append(SitStand(rng.uniform(10, 60)))
            elapsed += 40.0
        else:
            duration = rng.uniform(30.0, 120.0)
            acts.append(Wander(duration, stretch_chance=0.5))
            elapsed += duration
    acts.append(Walk(rng.uniform(2, 6)))
    return SessionScript(lifter, tuple(acts), 0.0, name, variety=True)


def recording_variety(seed: int) -> tuple[float, SensorModel, tuple[float, float] | None]:
    """How a gym session is recorded, drawn from ``seed``: (rate Hz, sensor model, cut).

    The rate is 25-200 Hz, the part one of :data:`imu.sim.sensor.PARTS` with BLE timing
    (notifications of one connection interval, jitter, a clock off by up to 50 ppm, on 3 in
    10 sessions up to 10 % of the notifications lost); ``cut`` is None (the whole session)
    or (s from the start, s before the end) to cut away with :func:`imu.sim.recording.cut`
    (half of them: the file starts 10-120 s in, mid-activity without a still stance, and
    ends anywhere in the last 2 minutes)."""
    rng = np.random.default_rng([seed, 97])
    rate = float(rng.choice([25.0, 50.0, 52.0, 100.0, 104.0, 200.0]))
    interval = float(rng.uniform(0.0075, 0.05))
    fields = {
        "connection_interval_s": interval,
        "latency_jitter_s": float(rng.uniform(0.2, 1.0)) * interval,
        "loss_fraction": float(rng.uniform(0.0, 0.1)) if rng.random() < 0.3 else 0.0,
        "clock_error_ppm": float(rng.uniform(-50, 50)),
    }
    sensor = part_model(str(rng.choice(sorted(PARTS))), **fields)
    cut = (float(rng.uniform(10.0, 120.0)), float(rng.uniform(0.0, 120.0)))
    return rate, sensor, cut if rng.random() < 0.5 else None


SESSIONS = {"mixed": gym_session, "singles": singles_session, "no_lifts": non_lifting_session}
"""The gym session makers by name."""
