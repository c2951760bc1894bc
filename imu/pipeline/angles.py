"""Body angles from the fused orientation (docs/coordinates.md).

``R = Rz(twist) . Rx(lateral_bend) . Ry(flexion)`` is the body orientation relative to
the calibrated upright posture. With ``M = R_ws . R_sb`` (body to world),
``flexion = atan2(-M[2,0], M[2,2])``, ``lateral_bend = asin(M[2,1])`` (both need only
the world's up direction seen from the body, so heading drift does not touch them) and
``twist = atan2(-M[0,1], M[1,1]) - heading_ref`` (heading of the body's y axis). The
lateral bend is computed as ``atan2(M[2,1], hypot(M[2,0], M[2,2]))``, the same angle
(row 2 of ``M`` is a unit vector) without clipping.

The per-row angles of the engine are computed by a compiled kernel
(:func:`imu.pipeline.fusion.body_angles_chunk`, row by row, so streamed == batch bit for
bit). The numpy functions here
serve the few rows that need the up direction or the heading alone (calibration, restarts);
everything is element-wise, so a chunk gives the same numbers as the whole.
"""

from __future__ import annotations

import math

import numpy as np

DEG_PER_RAD = 180.0 / math.pi


def _third_row(w, x, y, z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``r20, r21, r22`` of the rotation matrix of quaternion components ``w, x, y, z``."""
    return 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)


def quaternion_rows(q: np.ndarray) -> tuple[np.ndarray, ...]:
    """The nine entries ``r00..r22`` of the rotation matrices of quaternions ``[w,x,y,z]`` (n, 4)."""
    w, x, y, z = np.ascontiguousarray(q.T)  # contiguous components: faster element-wise
    return (
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        *_third_row(w, x, y, z),
    )  # fmt: skip


def up_in_sensor(q: np.ndarray) -> np.ndarray:
    """World up direction in sensor coordinates (n, 3): the third row of ``R_ws``."""
    return np.column_stack(_third_row(*np.ascontiguousarray(q.T)))


def body_matrix_entries(q: np.ndarray, rotation_bs: np.ndarray) -> dict[str, np.ndarray]:
    """Entries of ``M = R_ws . R_bs^T`` needed for the angles, keyed ``"ij"``."""
    r = quaternion_rows(q)
    sb = rotation_bs.T  # columns of R_sb are the body axes in sensor coordinates
    needed = ("01", "11", "20", "21", "22")
    out = {}
    for key in needed:
        i, j = int(key[0]), int(key[1])
        out[key] = r[3 * i] * sb[0, j] + r[3 * i + 1] * sb[1, j] + r[3 * i + 2] * sb[2, j]
    return out


def heading_deg(entries: dict[str, np.ndarray]) -> np.ndarray:
    """Heading of the body's y axis about world z (deg), before referencing."""
    return np.arctan2(-entries["01"], entries["11"]) * DEG_PER_RAD
