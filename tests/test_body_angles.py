"""The compiled body-angle kernels against the formulas of imu/pipeline/angles.py, bit for bit."""

from __future__ import annotations

import math

import numpy as np

from imu.pipeline import fusion
from imu.pipeline.angles import DEG_PER_RAD, body_matrix_entries
from imu.pipeline.calibration import rotation_from_axes


def reference_row(q: np.ndarray, rotation_bs: np.ndarray, heading_ref_deg: float) -> list[float]:
    """The angles of one quaternion by angles.py's matrix entries and Python's math."""
    m = {k: float(v[0]) for k, v in body_matrix_entries(q[None, :], rotation_bs).items()}
    flexion = math.atan2(-m["20"], m["22"]) * DEG_PER_RAD
    lateral = math.atan2(m["21"], math.sqrt(m["20"] ** 2 + m["22"] ** 2)) * DEG_PER_RAD
    heading = math.atan2(-m["01"], m["11"]) * DEG_PER_RAD
    return [flexion, lateral, (heading - heading_ref_deg + 180.0) % 360.0 - 180.0]


def test_whole_and_row_by_row_equal_the_formulas_bit_for_bit():
    rng = np.random.default_rng(3)
    n = 3000
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1)[:, None]
    q[::97] = np.nan  # rows before the first orientation
    q[1::101] = [1.0, 0.0, 0.0, 0.0]  # upright: heading exactly the reference's opposite
    up = rng.normal(size=3)
    rotation_bs = rotation_from_axes(up / np.linalg.norm(up), np.eye(3)[int(np.argmin(abs(up)))])
    sb = np.ascontiguousarray(rotation_bs.T)
    heading_ref = rng.choice([-180.0, -179.9, -90.0, 0.0, 45.0, 179.9, 180.0], n)
    out = np.full((n, 4), -1.0)
    fusion.body_angles_chunk(q, sb, heading_ref, out)
    want = np.array([reference_row(q[i], rotation_bs, heading_ref[i]) for i in range(n)])
    assert out[:, 1:].tobytes() == want.tobytes()
    assert (out[:, 0] == -1.0).all()  # column 0 (time) is the caller's
    ones = np.full((n, 4), -1.0)
    for i in range(n):  # one row per call, as live
        fusion.body_angles_chunk(q[i : i + 1], sb, heading_ref[i : i + 1], ones[i : i + 1])
    assert ones.tobytes() == out.tobytes()
    wrapped = want[np.isfinite(want[:, 2]), 2]
    assert wrapped.min() >= -180.0 and wrapped.max() < 180.0 and len(wrapped) > 0.9 * n

