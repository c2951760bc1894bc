"""Does the gyroscope turn the way the accelerometer says?

Two chips on one board may have different axes, and a file may carry rad/s written as
deg/s. When no clean bend is found, the engine asks :func:`gyro_axes_mapping` for the
signed axis permutation and unit scale under which the gyroscope carries gravity through
the accelerometer's readings, and names it with :func:`describe_gyro_mapping`.
"""

from __future__ import annotations

import math

import numpy as np

from imu.pipeline.movement import moving_average
from imu.units import STANDARD_GRAVITY_M_S2

GYRO_SCALES = {
    1.0: "",
    180.0 / math.pi: " (read as rad/s)",
    math.pi / 180.0: " (read as deg/s x 1/57.3)",
}
"""Unit mix-ups tried: rad/s values labelled deg/s (x 57.3) and the reverse."""


def _signed_permutations() -> list[np.ndarray]:
    out = []
    for order in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        for signs in np.ndindex(2, 2, 2):
            matrix = np.zeros((3, 3))
            for row, (column, sign) in enumerate(zip(order, signs, strict=True)):
                matrix[row, column] = -1.0 if sign else 1.0
            out.append(matrix)
    return out


def gyro_axes_mapping(
    rows: np.ndarray, gyro_bias_deg_s: np.ndarray, window_s: float = 0.2, max_windows: int = 400
) -> tuple[np.ndarray, str] | None:
    """A mapping ``M`` (gyroscope values in the accelerometer's axes = ``M @ gyr``) when the
    gyroscope's axes or unit clearly do not match the accelerometer's, else None.

    Two chips on one board (e.g. an ADXL345 with an ITG-3200) need not share axes, and an
    export may mix rad/s with deg/s. Over short windows the gravity direction measured by
    the accelerometer must turn as the gyroscope says (``dg/dt = -w x g``); each signed
    permutation of the axes (both handednesses) at each unit of :data:`GYRO_SCALES` is
    scored by how far gravity carried by the gyroscope lands from the measured one. A
    mapping other than the identity is returned only if it misses by less than a quarter
    of the identity's error. ``rows`` (n, 7) accepted rows with motion, in time order.
    """
    n = len(rows)
    if n < 20:
        return None
    time_s, acc = rows[:, 0], rows[:, 1:4]
    dt = float(np.median(np.diff(time_s)))
    if not dt > 0:
        return None
    m = max(2, round(window_s / dt))
    smooth = moving_average(acc, max(1, round(0.1 / dt)))
    norm = np.linalg.norm(smooth, axis=1)
    g = smooth / norm[:, None]
    starts = np.arange(0, n - m)
    near = np.abs(norm - STANDARD_GRAVITY_M_S2) < 1.5
    turned = np.degrees(np.arccos(np.clip(np.sum(g[starts] * g[starts + m], axis=1), -1, 1)))
    starts = starts[near[starts] & near[starts + m] & (turned > 3.0)]
    if len(starts) < 10:
        return None
    starts = starts[:: max(1, len(starts) // max_windows)]
    rates = np.radians(rows[:, 4:7] - gyro_bias_deg_s)
    steps = np.diff(time_s, append=time_s[-1])
    start_g, end_g = g[starts], g[starts + m]
    scored: list[tuple[float, np.ndarray, str]] = []
    identity_error = math.inf
    for scale, unit in GYRO_SCALES.items():
        for handed in (1.0, -1.0):
            # rotation of each window in the measured axes (sign -1: the mirrored frame)
            rotation = np.tile(np.eye(3), (len(starts), 1, 1))
            for j in range(m):
                w = handed * scale * rates[starts + j] * steps[starts + j, None]
                angle = np.linalg.norm(w, axis=1)
                axis = w / np.where(angle > 0, angle, 1.0)[:, None]
                skew = np.zeros((len(starts), 3, 3))
                skew[:, 0, 1], skew[:, 0, 2] = -axis[:, 2], axis[:, 1]
                skew[:, 1, 0], skew[:, 1, 2] = axis[:, 2], -axis[:, 0]
                skew[:, 2, 0], skew[:, 2, 1] = -axis[:, 1], axis[:, 0]
                s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
                rotation = rotation @ (np.eye(3) + s * skew + (1 - c) * skew @ skew)
            for matrix in _signed_permutations():
                if np.linalg.det(matrix) * handed < 0:
                    continue
                # gravity in the accelerometer's axes carried through M's rotation
                carried = np.einsum(
                    "ij,njk,lk,nl->ni", matrix, rotation.transpose(0, 2, 1), matrix, start_g
                )
                error = float(np.mean(np.sum((carried - end_g) ** 2, axis=1)))
                if scale == 1.0 and handed == 1.0 and np.array_equal(matrix, np.eye(3)):
                    identity_error = error
                scored.append((error, scale * matrix, unit))
    lowest = min(error for error, _, _ in scored)
    if lowest >= 0.25 * identity_error:
        return None
    # an axis that hardly turned leaves its sign open: among the near-best, the
    # right-handed mapping nearest the identity
    near = [c for c in scored if c[0] <= 1.1 * lowest]
    _, mapping, unit = max(
        near, key=lambda c: (np.linalg.det(c[1]) > 0, np.trace(np.sign(c[1])), -c[0])
    )
    return mapping, unit


def describe_gyro_mapping(matrix: np.ndarray, unit: str) -> str:
    """``gyro x,y,z = +y,-x,+z`` style text of a mapping (rows: new axes from old)."""
    parts = []
    for row in matrix:
        k = int(np.argmax(np.abs(row)))
        parts.append(("+" if row[k] > 0 else "-") + "xyz"[k])
    return "gyroscope x,y,z = " + ",".join(parts) + unit
