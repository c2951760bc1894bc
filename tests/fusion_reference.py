"""Reference orientation through ``imufusion`` (tests and benchmarks only; not shipped).

:class:`ImufusionOrientation` is the per-sample loop the pipeline used before the
compiled kernel (imu/pipeline/fusion.py): ``imufusion.Bias`` + ``imufusion.Ahrs`` (x-io
Fusion) called row by row, with the interface and row semantics of
:class:`imu.pipeline.orientation.Orientation` (skip repeats, restart = accelerometer tilt
with start-up skipped). It needs the ``imufusion`` package (``pip install imu[test]``),
which the pipeline itself does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.pipeline.fusion import tilt_quaternion_xyz
from imu.pipeline.orientation import OrientationSettings
from imu.units import STANDARD_GRAVITY_M_S2


@dataclass
class Flags:
    """imufusion's own flags after each updated row (False on skipped and restart rows)."""

    accelerometer_ignored: np.ndarray
    acceleration_recovery: np.ndarray
    startup: np.ndarray


class ImufusionOrientation:
    """Drop-in for :class:`~imu.pipeline.orientation.Orientation` running ``imufusion``.

    ``record_flags``: keep imufusion's flags per row in :attr:`flags` (costs time).
    """

    def __init__(
        self,
        settings: OrientationSettings,
        sampling_rate_hz: float,
        gyro_bias_deg_s: np.ndarray,
        initial_acc: np.ndarray | None = None,
        record_flags: bool = False,
    ) -> None:
        import imufusion

        self.settings = settings
        self._ahrs = imufusion.Ahrs()
        self._ahrs.set_settings(
            imufusion.AhrsSettings(
                sample_rate=sampling_rate_hz,
                convention=imufusion.CONVENTION_NWU,
                gain=settings.gain,
                gyroscope_range=settings.gyroscope_range_deg_s,
                acceleration_rejection=settings.acceleration_rejection_deg,
                magnetic_rejection=0.0,
                rejection_timeout=settings.rejection_timeout_s,
            )
        )
        self._bias = imufusion.Bias()
        self._bias.set_settings(
            imufusion.BiasSettings(
                sample_rate=sampling_rate_hz,
                stationary_threshold=settings.bias_threshold_deg_s,
                stationary_period=settings.bias_period_s,
            )
        )
        self._bias.set_offset(np.asarray(gyro_bias_deg_s, dtype=np.float64))
        self._initial_acc = initial_acc
        self._last = np.full(4, np.nan)
        self.flags: list[tuple[bool, bool, bool]] | None = [] if record_flags else None

    @property
    def gyro_bias_deg_s(self) -> np.ndarray:
        """Current tracked gyroscope bias (deg/s, sensor frame)."""
        return np.asarray(self._bias.get_offset(), dtype=np.float64)

    def update_one(self, acc: list[float], gyr: list[float], dt_s: float) -> np.ndarray:
        """One ordinary row (not skipped, no restart)."""
        acc_g = [value / STANDARD_GRAVITY_M_S2 for value in acc]
        self._ahrs.set_sample_period(dt_s)
        self._ahrs.update_no_magnetometer(self._bias.update(gyr), acc_g)
        if self.flags is not None:
            flags = self._ahrs.get_flags()
            ignored = self._ahrs.get_internal_states().accelerometer_ignored
            self.flags.append((ignored, flags.acceleration_recovery, flags.startup))
        self._last = self._ahrs.get_quaternion().astype(np.float64)
        return self._last

    def update(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        dt_s: np.ndarray,
        skip: np.ndarray,
        restart: np.ndarray,
    ) -> np.ndarray:
        """Quaternions (n, 4) for rows of acc (m/s^2) and gyr (deg/s); skipped rows repeat."""
        out = np.empty((len(acc), 4))
        for i, (acc_i, gyr_i, dt, skipped, restarted) in enumerate(
            zip(acc.tolist(), gyr.tolist(), dt_s.tolist(), skip.tolist(), restart.tolist())
        ):
            if skipped:
                self._record_no_update()
            elif restarted:
                up = acc_i if self._initial_acc is None else self._initial_acc
                self._initial_acc = None
                acc_g = [value / STANDARD_GRAVITY_M_S2 for value in up]
                self._ahrs.restart()
                self._ahrs.set_quaternion(np.array(tilt_quaternion_xyz(*acc_g)))
                self._ahrs.skip_startup()
                self._last = self._ahrs.get_quaternion().astype(np.float64)
                self._record_no_update()
            else:
                self.update_one(acc_i, gyr_i, dt)
            out[i] = self._last
        return out

    def _record_no_update(self) -> None:
        if self.flags is not None:
            self.flags.append((False, False, False))


@dataclass
class ReferenceRun:
    """Quaternions (n, 4), imufusion's flags per row and the final tracked bias."""

    quaternions: np.ndarray
    flags: Flags
    gyro_bias_deg_s: np.ndarray


def imufusion_run(
    settings: OrientationSettings,
    sampling_rate_hz: float,
    gyro_bias_deg_s: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_deg_s: np.ndarray,
    dt_s: np.ndarray,
    skip: np.ndarray,
    restart: np.ndarray,
) -> ReferenceRun:
    """Run imufusion over annotated rows, recording its flags."""
    orientation = ImufusionOrientation(
        settings, sampling_rate_hz, gyro_bias_deg_s, record_flags=True
    )
    quaternions = orientation.update(acc_m_s2, gyr_deg_s, dt_s, skip, restart)
    flags = np.array(orientation.flags, dtype=bool).reshape(-1, 3)
    return ReferenceRun(
        quaternions, Flags(flags[:, 0], flags[:, 1], flags[:, 2]), orientation.gyro_bias_deg_s
    )


def quaternion_angle_deg(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Rotation angle (deg) between unit quaternions, row by row (NaN rows give NaN).

    From the chord ``|q1 - s q2| = 2 sin(angle / 4)`` (``s`` the sign of their dot product,
    q and -q being the same rotation): exact near 0, where ``acos`` of the dot product
    loses everything to rounding (float32 quaternions give ~0.05 deg for identical ones).
    """
    sign = np.where(np.sum(q1 * q2, axis=1) < 0, -1.0, 1.0)[:, None]
    chord = np.linalg.norm(q1 - sign * q2, axis=1)
    return np.degrees(4 * np.arcsin(np.clip(chord / 2, 0.0, 1.0)))
