"""Rotations used by the simulator: vectorised elementary rotations and sensor mountings.

Conventions follow docs/coordinates.md: body frame x forward, y left, z up; the body
orientation relative to the calibration posture is ``R = Rz(twist) · Rx(lateral_bend) ·
Ry(flexion)``. A mounting ``R_body_sensor`` has the sensor axes as its columns, expressed
in body axes, so ``v_body = R_body_sensor @ v_sensor``.
"""

from __future__ import annotations

import itertools

import numpy as np

_DIRECTIONS = {
    "fwd": (1, 0, 0),
    "back": (-1, 0, 0),
    "left": (0, 1, 0),
    "right": (0, -1, 0),
    "up": (0, 0, 1),
    "down": (0, 0, -1),
}


def rotate(axis: str, angle_rad: np.ndarray | float, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (n, 3) about body ``axis`` ('x', 'y' or 'z') by ``angle_rad``.

    Right-handed, active rotation (the matrix ``R_axis(angle) @ v``); ``angle_rad`` is a
    scalar or an (n,) array.
    """
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    if axis == "x":
        out = (x, c * y - s * z, s * y + c * z)
    elif axis == "y":
        out = (c * x + s * z, y, -s * x + c * z)
    elif axis == "z":
        out = (c * x - s * y, s * x + c * y, z)
    else:
        raise ValueError(f"axis must be 'x', 'y' or 'z', not {axis!r}")
    return np.stack(np.broadcast_arrays(*out), axis=-1)


def matrix(axis: str, angle_deg: float) -> np.ndarray:
    """The 3x3 matrix of an elementary rotation by ``angle_deg`` about ``axis``."""
    return rotate(axis, np.deg2rad(angle_deg), np.eye(3).T).T


def body_to_world(flexion_rad, lateral_rad, twist_rad, v: np.ndarray) -> np.ndarray:
    """``Rz(twist) · Rx(lateral) · Ry(flexion) @ v``: body-frame vectors to world frame."""
    return rotate("z", twist_rad, rotate("x", lateral_rad, rotate("y", flexion_rad, v)))


def world_to_body(flexion_rad, lateral_rad, twist_rad, v: np.ndarray) -> np.ndarray:
    """Inverse of :func:`body_to_world`: world-frame vectors to the body frame."""
    return rotate("y", -flexion_rad, rotate("x", -lateral_rad, rotate("z", -twist_rad, v)))


def _mounting_table() -> dict[str, np.ndarray]:
    table: dict[str, np.ndarray] = {}
    for (x_name, x_dir), (z_name, z_dir) in itertools.product(_DIRECTIONS.items(), repeat=2):
        x_axis, z_axis = np.array(x_dir, float), np.array(z_dir, float)
        if abs(x_axis @ z_axis) > 0.5:
            continue
        y_axis = np.cross(z_axis, x_axis)
        table[f"x{x_name}_z{z_name}"] = np.column_stack([x_axis, y_axis, z_axis])
    return table


#: The 24 axis-aligned mountings ``R_body_sensor``, keyed by where the sensor's x and z
#: axes point on the body, e.g. ``xup_zback``: sensor x toward the head, sensor z out of
#: the lifter's back (a device strapped flat on the lower back, face out, "up" arrow up).
#: Users see and give each by its :func:`mounting_code` (``NZPYPX`` for ``xup_zback``),
#: the name ``imu analyze --mounting`` and calibration use; these keys stay accepted.
MOUNTINGS: dict[str, np.ndarray] = _mounting_table()


def mounting_code(body_sensor: np.ndarray) -> str:
    """The mounting's name as calibration reports it (imufusion style): for body x, y, z
    in turn, ``P``/``N`` and the sensor axis along it (``xup_zback`` -> ``NZPYPX``)."""
    code = ""
    for row in np.asarray(body_sensor):
        axis = int(np.argmax(np.abs(row)))
        code += ("P" if row[axis] > 0 else "N") + "XYZ"[axis]
    return code


def small_rotation(rng: np.random.Generator, sigma_deg: float, max_deg: float) -> np.ndarray:
    """A random rotation matrix about a uniformly random axis by ``|N(0, sigma)| <= max``."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = np.deg2rad(min(abs(rng.normal(0.0, sigma_deg)), max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)
