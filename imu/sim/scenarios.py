"""Ready-made session scripts for tests, benchmarks, the demo dataset and `imu simulate`."""

from __future__ import annotations

import numpy as np

from imu.sim.activities import (
    KINDS,
    DeadliftSet,
    LoadPlates,
    PickUp,
    Rest,
    SessionScript,
    SitStand,
    Stand,
    Walk,
)
from imu.sim.lifters import Lifter
from imu.sim.squat import SquatSet

SET_SETUP_S = 6.0
"""Estimated seconds of a set besides its reps (facing the bar, put-down, standing)."""
REP_S = 4.5
"""Estimated seconds per rep (the simulated lifters' tempo)."""
SQUAT_REP_S = 2.7
"""Estimated seconds per squat (2-3 s, back to back: imu/sim/squat.py)."""
INTRO_S = 40.0
"""Estimated seconds before the first set (stance, walks, loading plates)."""
OUTRO_S = 8.0
"""Estimated seconds after the last activity (standing, a short walk, the final stance)."""


def demo_session(
    lifter: Lifter,
    seed: int = 0,
    *,
    n_sets: int = 5,
    reps_per_set: tuple[int, int] = (5, 8),
    rest_s: tuple[float, float] = (60.0, 180.0),
    kinds: tuple[str, ...] = tuple(KINDS),
    non_reps: bool = True,
    clock_origin_s: float | None = None,
    minutes: float | None = None,
    name: str = "session",
    squat_fault_rate: float | None = None,
) -> SessionScript:
    """A training session: calibration stance, walk to the bar, load plates, then
    ``n_sets`` sets (lift kind drawn from ``kinds``) separated by rests of ``rest_s``
    (s, uniform), with non-rep movements (picking things up, sitting down and standing
    up) mixed into the rests when ``non_reps``. ``clock_origin_s`` None draws either 0 or
    a host-clock-like origin. ``minutes`` (if given) replaces ``n_sets``: as many sets
    (at least one) as fit in that time, then a rest until the session is that long (to
    a few seconds; one set longer than ``minutes`` makes a longer session).
    ``squat_fault_rate`` (0-0.5) makes every set back squats instead (:class:`SquatSet`,
    ``kinds`` unused): that share of the reps with butt wink, and as many with forward lean."""
    rng = np.random.default_rng([seed, 11])
    acts: list = [
        Stand(rng.uniform(2.5, 5.0), still=True),
        Walk(rng.uniform(3, 6), 180.0),
        Walk(rng.uniform(1.5, 3)),
        Stand(2.0),
    ]
    if non_reps:
        acts += [LoadPlates(), LoadPlates()]
    target_s = None if minutes is None else minutes * 60.0
    elapsed_s = INTRO_S
    i = 0
    while target_s is not None or i < n_sets:
        drawn: list = []
        if i > 0:
            rest = rng.uniform(*rest_s)
            if non_reps and rng.random() < 0.5:
                other = rng.choice([PickUp(), SitStand(rng.uniform(5, 20))])
                drawn += [Rest(rest / 2), other, Rest(rest / 2)]
                rest += 6.0 + getattr(other, "seated_s", 0.0)
            else:
                drawn.append(Rest(rest))
            elapsed_s += rest
        kind = str(kinds[rng.integers(len(kinds))])
        reps = int(rng.integers(reps_per_set[0], reps_per_set[1] + 1))
        if squat_fault_rate is None:
            drawn.append(DeadliftSet(reps, kind))
        else:
            drawn.append(SquatSet(reps, fault_rate=squat_fault_rate))
        elapsed_s += SET_SETUP_S + (REP_S if squat_fault_rate is None else SQUAT_REP_S) * reps
        if target_s is not None and i > 0 and elapsed_s + OUTRO_S > target_s:
            break  # this set does not fit: rest instead (below)
        acts += drawn
        i += 1
    if target_s is not None:
        acts.append(Rest(2.0, until_s=target_s - OUTRO_S))
    acts += [Stand(2.0), Walk(rng.uniform(2, 5))]
    if clock_origin_s is None:
        clock_origin_s = float(rng.choice([0.0, round(rng.uniform(1e3, 9e4), 3)]))
    return SessionScript(lifter, tuple(acts), clock_origin_s, name)


def non_rep_session(lifter: Lifter, seed: int = 0, *, name: str = "non_reps") -> SessionScript:
    """A session with no reps at all: calibration, walking and turning, loading plates,
    picking things up, sitting down and standing up. Every bend here must not count."""
    rng = np.random.default_rng([seed, 13])
    acts = [
        Stand(rng.uniform(2.5, 5.0), still=True),
        Walk(rng.uniform(4, 8), 90.0),
        Walk(rng.uniform(2, 4), -180.0),
        LoadPlates(),
        Stand(3.0),
        PickUp(),
        Walk(3.0, 180.0),
        SitStand(rng.uniform(8, 20)),
        LoadPlates(),
        PickUp(),
        Rest(30.0),
        Walk(5.0, 180.0),
        Stand(3.0),
    ]
    return SessionScript(lifter, tuple(acts), 0.0, name)
