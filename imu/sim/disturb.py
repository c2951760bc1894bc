"""Disturbances added to a simulated recording (SYNTHETIC data) to probe the pipeline.

:func:`push_at_lockouts` adds the horizontal acceleration of a hip drive at the end of
each pull: the specific force an accelerometer on the lower back feels when the pelvis
is pushed forward (or braked) just before lockout. Without a gyroscope that acceleration
tilts the gravity estimate (imu.pipeline.settle).
"""

from __future__ import annotations

import numpy as np

from imu.sim.core import SimResult


def push_at_lockouts(
    result: SimResult, peak_m_s2: float = 4.0, duration_s: float = 0.35, direction: float = 1.0
) -> np.ndarray:
    """The result's samples (n, 7) with a half-sine acceleration of ``peak_m_s2`` along
    the lifter's forward axis (``direction`` -1: backward) over the ``duration_s`` before
    each true lockout (``truth_reps.end_s``)."""
    samples = result.session.samples().copy()
    t = samples[:, 0]
    forward = result.body_sensor[0]  # body x (anterior) in sensor coordinates
    for end in result.truth_reps.end_s:
        inside = (t > end - duration_s) & (t <= end)
        shape = np.sin(np.pi * (t[inside] - (end - duration_s)) / duration_s)
        samples[inside, 1:4] += direction * peak_m_s2 * shape[:, None] * forward
    return samples
