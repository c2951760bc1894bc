"""Virtual lifters: anthropometry, hinge depth, tempo and form tendencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Lifter:
    """One virtual lifter. Lengths in m, angles in deg, durations in s.

    ``hinge_depth_deg`` is the peak flexion of the lumbar/pelvis segment in this lifter's
    good conventional deadlift (relative to standing). The sensor sits on the skin
    ``sensor_depth_m`` behind and ``sensor_height_m`` above the hip joint centre.
    ``rounding_tendency`` is the probability that a fresh rep is rounded (it grows with
    fatigue late in a set); ``hyperextension_tendency`` the probability of leaning back
    more than 10 deg at lockout.
    """

    name: str
    height_m: float
    hip_height_m: float
    sensor_depth_m: float
    sensor_height_m: float
    lordosis_deg: float
    hinge_depth_deg: float
    knee_drop_m: float
    descent_s: float
    ascent_s: float
    lockout_s: float
    walk_speed_m_s: float
    cadence_hz: float
    sway_deg: float
    rounding_tendency: float
    hyperextension_tendency: float
    fatigue: float


def make_lifter(index: int, seed: int = 0) -> Lifter:
    """Draw lifter number ``index`` (named ``L01``, ``L02``, ...) reproducibly from ``seed``.

    Ranges: stature 1.55-1.95 m (hip joint centre at ~0.53 of stature); sensor 8-14 cm
    behind and 6-18 cm above the hip joint centre; lordosis 5-20 deg; hinge depth
    45-80 deg; descent 0.8-1.6 s; ascent 0.9-1.8 s.
    """
    rng = np.random.default_rng([seed, index, 7])
    height = rng.uniform(1.55, 1.95)
    return Lifter(
        name=f"L{index + 1:02d}",
        height_m=round(height, 3),
        hip_height_m=round(0.53 * height, 3),
        sensor_depth_m=round(rng.uniform(0.08, 0.14), 3),
        sensor_height_m=round(rng.uniform(0.06, 0.18), 3),
        lordosis_deg=round(rng.uniform(5.0, 20.0), 1),
        hinge_depth_deg=round(rng.uniform(45.0, 80.0), 1),
        knee_drop_m=round(rng.uniform(0.22, 0.36) * height / 1.75, 3),
        descent_s=round(rng.uniform(0.8, 1.6), 2),
        ascent_s=round(rng.uniform(0.9, 1.8), 2),
        lockout_s=round(rng.uniform(0.5, 1.2), 2),
        walk_speed_m_s=round(rng.uniform(1.0, 1.45), 2),
        cadence_hz=round(rng.uniform(1.65, 2.0), 2),
        sway_deg=round(rng.uniform(0.6, 1.6), 2),
        rounding_tendency=round(rng.uniform(0.12, 0.4), 2),
        hyperextension_tendency=round(rng.uniform(0.0, 0.25), 2),
        fatigue=round(rng.uniform(0.2, 1.0), 2),
    )
