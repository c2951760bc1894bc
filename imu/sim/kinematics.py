"""Rigid-body kinematics of the lumbar/pelvis segment and the skin-mounted sensor.

The segment rotates about the hip joint centre; the hip joint centre moves in the world
(walking, and down/back as the knees bend and the hips hinge). The sensor sits at the
lever arm ``r_body = (-sensor_depth, 0, sensor_height)`` from the hip joint centre (behind
it and above it, body frame) and is attached with rotation ``R_body_sensor``.

- accelerometer (specific force) = R_world_sensor^T (d2p/dt2 + g e_z), so a sensor at rest
  reads +g along world up;
- gyroscope = R_body_sensor^T omega_body, with omega_body from the angle rates of
  ``R = Rz(twist) Rx(lateral) Ry(flexion)``.

Every channel is an analytic function of time (:mod:`imu.sim.motion`); derivatives are
central differences with a 1 ms step at each output instant, so there is no internal grid
to decimate and no aliasing from the numerics (against a 0.25 ms step the signals differ
by < 0.015 m/s^2 and < 0.025 deg/s, below the sensor noise).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from imu.sim.lifters import Lifter
from imu.sim.motion import Motion
from imu.sim.rotations import body_to_world, rotate, world_to_body
from imu.sim.sensor import STANDARD_GRAVITY_M_S2

DERIVATIVE_STEP_S = 1e-3
CHUNK = 1 << 16  # samples evaluated at once


@dataclass
class Kinematics:
    """True signals at times ``time_s`` (n,): body angles (deg), sensor position in the
    world (m), true specific force and angular rate in the sensor frame (m/s^2, deg/s)."""

    time_s: np.ndarray
    angles_deg: np.ndarray  # (n, 3) flexion, lateral_bend, twist
    sensor_position_m: np.ndarray  # (n, 3) world
    acc_m_s2: np.ndarray  # (n, 3) sensor frame
    gyr_deg_s: np.ndarray  # (n, 3) sensor frame


def _pose(channels: dict[str, np.ndarray], lifter: Lifter) -> tuple[np.ndarray, np.ndarray]:
    """Body angles (rad, (n, 3)) and sensor position in the world (m, (n, 3))."""
    angles = np.deg2rad(
        np.column_stack(
            [channels["flexion_deg"], channels["lateral_bend_deg"], channels["twist_deg"]]
        )
    )
    flex, lat, twist = angles.T
    back = channels["hip_back_m"]
    hip = np.column_stack(
        [
            channels["hip_x_m"] - back * np.cos(twist),
            channels["hip_y_m"] - back * np.sin(twist),
            lifter.hip_height_m - channels["hip_drop_m"],
        ]
    )
    lever = np.array([-lifter.sensor_depth_m, 0.0, lifter.sensor_height_m])
    return angles, hip + body_to_world(flex, lat, twist, np.broadcast_to(lever, hip.shape))


def sensor_kinematics(
    motion: Motion, time_s: np.ndarray, lifter: Lifter, body_sensor: np.ndarray
) -> Kinematics:
    """Evaluate the true sensor signals at ``time_s`` (sorted, s) for mounting
    ``body_sensor`` (R_body_sensor, 3x3), in chunks to bound memory."""
    parts = [
        _kinematics(motion, time_s[i : i + CHUNK], lifter, body_sensor)
        for i in range(0, max(len(time_s), 1), CHUNK)
    ]
    return Kinematics(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Kinematics))
    )


def _kinematics(
    motion: Motion, time_s: np.ndarray, lifter: Lifter, body_sensor: np.ndarray
) -> Kinematics:
    h = DERIVATIVE_STEP_S
    angles_m, pos_m = _pose(motion.evaluate(time_s - h), lifter)
    angles, pos = _pose(motion.evaluate(time_s), lifter)
    angles_p, pos_p = _pose(motion.evaluate(time_s + h), lifter)
    acc_world = (pos_p - 2 * pos + pos_m) / h**2
    acc_world[:, 2] += STANDARD_GRAVITY_M_S2
    flex, lat, twist = angles.T
    acc_body = world_to_body(flex, lat, twist, acc_world)

    rates = (angles_p - angles_m) / (2 * h)  # rad/s: flexion, lateral, twist
    zeros = np.zeros_like(flex)
    ez = np.column_stack([zeros, zeros, rates[:, 2]])
    ex = np.column_stack([rates[:, 1], zeros, zeros])
    omega_body = (
        rotate("y", -flex, rotate("x", -lat, ez))
        + rotate("y", -flex, ex)
        + np.column_stack([zeros, rates[:, 0], zeros])
    )
    return Kinematics(
        time_s=time_s,
        angles_deg=np.rad2deg(angles),
        sensor_position_m=pos,
        acc_m_s2=acc_body @ body_sensor,
        gyr_deg_s=np.rad2deg(omega_body) @ body_sensor,
    )
