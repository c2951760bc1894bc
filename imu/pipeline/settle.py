"""Accelerometer-only mode: believe an extension only where the gravity estimate has settled.

Without a gyroscope the trunk angle comes from a low-passed acceleration
(:class:`imu.pipeline.orientation.GravityTilt`). A horizontal acceleration (the hips
driving through at the end of a fast pull, the bar's acceleration) passes its norm test
and tilts the estimate: the trunk then seems to lean back past upright right at lockout,
by 15-20 deg for a 4 m/s^2 push over the last 0.35 s of the ascent (simulated), and the
rep would be flagged hyperextended. :class:`ExtensionGate` hands the rep segmenter
(only it: recorded and displayed angles are untouched) a flexion whose extension beyond
``limit_deg`` (the hyperextension threshold) is kept only on *settled* rows: the
measured acceleration has matched the gravity estimate's direction within
``tolerance_m_s2`` (and its norm that of g within ``norm_tolerance_m_s2``) for ``settle_s``. Elsewhere it reads as ``-limit_deg``, which is not
flagged; smaller extensions pass unchanged, so rep detection around lockout is as
before. A hyperextension held still after lockout is still seen; one seen only during
the pull is not.

The gate keeps the time of the last unsettled row across chunks, so live (small chunks)
and batch (large ones) gate the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu.pipeline.angles import _third_row
from imu.units import STANDARD_GRAVITY_M_S2 as G


@dataclass(frozen=True)
class ExtensionGateSettings:
    """When an extension (negative flexion) is believed in accelerometer-only mode."""

    settle_s: float = 0.3
    """Time the acceleration must have matched the gravity estimate (3 time constants of
    the default low-pass: its error has fallen to 5 % of what the push caused)."""
    tolerance_m_s2: float = 1.0
    """Largest part of the measured acceleration across the estimated up direction on a
    settled row (m/s^2; ~6 deg of direction; noise of cheap parts is ~0.05 m/s^2 RMS).
    Only the direction tilts the estimate: the part along it is tested apart, with
    ``norm_tolerance_m_s2``."""
    norm_tolerance_m_s2: float = 2.0
    """Largest difference between the acceleration along the estimated up direction and
    g on a settled row (m/s^2). Not 1: an uncalibrated part reads g up to 10 % high or
    low plus its zero-g offset (1.76 m/s^2 together, as the still period's
    ``CalibrationSettings.still_gravity_tolerance_m_s2``); with |a - g u| <= 1 a part
    reading 10 % high never settled standing still, and no lockout extension was seen."""


class ExtensionGate:
    """Gates the flexion fed to the rep segmenter (see the module docstring)."""

    def __init__(self, limit_deg: float, settings: ExtensionGateSettings | None = None) -> None:
        self.limit_deg = float(limit_deg)
        self.settings = settings or ExtensionGateSettings()
        self._tolerance2 = self.settings.tolerance_m_s2**2
        self._last_unsettled_s = -math.inf

    def chunk(
        self, t: np.ndarray, acc: np.ndarray, quats: np.ndarray, flexion_deg: np.ndarray
    ) -> np.ndarray:
        """The gated flexion of rows ``t`` (s), ``acc`` (n, 3), ``quats`` (n, 4)."""
        if len(t) == 0:
            return flexion_deg.copy()
        w, x, y, z = quats[:, 0], quats[:, 1], quats[:, 2], quats[:, 3]
        ux, uy, uz = _third_row(w, x, y, z)
        along = acc[:, 0] * ux + acc[:, 1] * uy + acc[:, 2] * uz
        dx, dy, dz = acc[:, 0] - along * ux, acc[:, 1] - along * uy, acc[:, 2] - along * uz
        unsettled = ~(
            (dx * dx + dy * dy + dz * dz <= self._tolerance2)
            & (np.abs(along - G) <= self.settings.norm_tolerance_m_s2)
        )
        marks = np.where(unsettled, t, -np.inf)
        marks[0] = max(marks[0], self._last_unsettled_s)
        last = np.maximum.accumulate(marks)
        self._last_unsettled_s = float(last[-1])
        settled = ~unsettled & (t - last >= self.settings.settle_s)
        floor = -self.limit_deg
        return np.where(~settled & (flexion_deg < floor), floor, flexion_deg)
