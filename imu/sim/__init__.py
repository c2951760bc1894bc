"""Biomechanical deadlift simulator with ground truth (synthetic data; docs/simulator.md).

Example::

    from imu.sim import make_lifter, demo_session, simulate
    result = simulate(demo_session(make_lifter(0), seed=1), sampling_rate_hz=100, seed=1)
    result.session, result.truth_angles, result.truth_reps  # Session, DataFrame, DataFrame
"""

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
from imu.sim.core import SimResult, read_table, simulate, synthetic_lines, write_result
from imu.sim.lifters import Lifter, make_lifter
from imu.sim.rotations import MOUNTINGS
from imu.sim.scenarios import demo_session, non_rep_session
from imu.sim.sensor import SensorModel
from imu.sim.squat import SquatSet

__all__ = [
    "KINDS",
    "MOUNTINGS",
    "DeadliftSet",
    "Lifter",
    "LoadPlates",
    "PickUp",
    "Rest",
    "SensorModel",
    "SessionScript",
    "SimResult",
    "SitStand",
    "SquatSet",
    "Stand",
    "Walk",
    "demo_session",
    "make_lifter",
    "non_rep_session",
    "read_table",
    "simulate",
    "synthetic_lines",
    "write_result",
]
