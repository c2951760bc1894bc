"""Body angles from the fused orientation (docs/coordinates.md).

``R = Rz(twist) . Rx(lateral_bend) . Ry(flexion)`` is the body orientation relative to
the calibrated upright posture. With ``M = R_ws . R_sb`` (body to world),
``flexion = atan2(-M[2,0], M[2,2])``, ``lateral_bend = asin(M[2,1])`` (both need only
the world's up direction seen from the body, so heading drift does not touch them) and
``twist = atan2(-M[0,1], M[1,1]) - heading_ref`` (heading of the body's y axis). The
lateral bend is computed as ``atan2(M[2,1], hypot(M[2,0], M[2,2]))``, the same angle
(row 2 of ``M`` is a unit vector) without clipping, so one ``arctan2`` call gives all three
angles of a single sample.

Everything is element-wise arithmetic so a chunk gives the same numbers as the whole.
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


def body_angles(q: np.ndarray, rotation_bs: np.ndarray, heading_ref_deg: np.ndarray) -> np.ndarray:
    """(n, 3) ``[flexion_deg, lateral_bend_deg, twist_deg]`` for quaternions ``q`` (n, 4).

    ``heading_ref_deg`` (scalar or per row) is the heading that counts as zero twist;
    twist is wrapped to [-180, 180).
    """
    m = body_matrix_entries(q, rotation_bs)
    flexion = np.arctan2(-m["20"], m["22"]) * DEG_PER_RAD
    lateral = np.arctan2(m["21"], np.sqrt(m["20"] * m["20"] + m["22"] * m["22"])) * DEG_PER_RAD
    twist = (heading_deg(m) - heading_ref_deg + 180.0) % 360.0 - 180.0
    return np.column_stack([flexion, lateral, twist])


def body_angles_one(
    q: np.ndarray, sb: list[list[float]], heading_ref_deg: float
) -> tuple[float, float, float]:
    """:func:`body_angles` of one quaternion, in the same order of operations (same bits).

    ``sb`` is ``rotation_bs.T.tolist()``. Plain float arithmetic (and ``math.sqrt``) is
    IEEE-identical to numpy's element-wise loops; arctan2 goes through numpy so it matches
    the vector path exactly.
    """
    w, x, y, z = q.tolist()
    r00, r01, r02 = 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)
    r10, r11, r12 = 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)
    r20, r21, r22 = 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)
    (b00, b01, b02), (b10, b11, b12), (b20, b21, b22) = sb
    m01 = r00 * b01 + r01 * b11 + r02 * b21
    m11 = r10 * b01 + r11 * b11 + r12 * b21
    m20 = r20 * b00 + r21 * b10 + r22 * b20
    m21 = r20 * b01 + r21 * b11 + r22 * b21
    m22 = r20 * b02 + r21 * b12 + r22 * b22
    flexion, lateral, heading = np.arctan2(
        (-m20, m21, -m01), (m22, math.sqrt(m20 * m20 + m22 * m22), m11)
    ).tolist()
    twist = (heading * DEG_PER_RAD - heading_ref_deg + 180.0) % 360.0 - 180.0
    return flexion * DEG_PER_RAD, lateral * DEG_PER_RAD, twist
