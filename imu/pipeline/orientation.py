"""Orientation: gyroscope bias tracking and imufusion (x-io Fusion) AHRS, per sample.

Fusion is a complementary filter with acceleration rejection: while the measured
acceleration deviates from gravity by more than ``acceleration_rejection_deg`` (the
pull of a lift) the accelerometer is ignored and the gyroscope carries the orientation,
for at most ``rejection_timeout_s``. Gyroscope bias starts from the calibration still
period and is tracked by ``imufusion.Bias`` whenever the sensor is still again.

The output quaternion ``[w, x, y, z]`` rotates sensor coordinates into a world frame
with z up (NWU convention; heading arbitrary, no magnetometer).

Without a gyroscope (Polar H10, accelerometer-only exports) :class:`GravityTilt` gives
the same kind of quaternion from a low-pass-filtered accelerometer (heading always 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu.pipeline.calibration import STANDARD_GRAVITY_M_S2


@dataclass(frozen=True)
class OrientationSettings:
    """imufusion settings (units in the names)."""

    gain: float = 0.5
    acceleration_rejection_deg: float = 10.0
    rejection_timeout_s: float = 5.0
    gyroscope_range_deg_s: float = 2000.0
    bias_threshold_deg_s: float = 3.0
    """Rates below this for ``bias_period_s`` count as still for bias tracking."""
    bias_period_s: float = 3.0


def tilt_quaternion(acc: np.ndarray) -> np.ndarray:
    """Quaternion (heading 0) that rotates the measured up direction ``acc`` onto world z."""
    up = acc / np.linalg.norm(acc)
    # Shortest rotation from up to (0, 0, 1): axis up x z, angle acos(up_z).
    w = 1.0 + up[2]
    if w < 1e-9:
        return np.array([0.0, 1.0, 0.0, 0.0])
    q = np.array([w, up[1], -up[0], 0.0])
    return q / np.linalg.norm(q)


class Orientation:
    """Streaming AHRS: ``update`` takes annotated rows and returns one quaternion per row."""

    def __init__(
        self,
        settings: OrientationSettings,
        sampling_rate_hz: float,
        gyro_bias_deg_s: np.ndarray,
        initial_acc: np.ndarray | None = None,
    ) -> None:
        """``initial_acc``: acceleration (any scale) giving the tilt of the first sample."""
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
        self._period_s = 0.0
        self._last = np.full(4, np.nan)  # rows skipped before the first sample have no angles

    @property
    def gyro_bias_deg_s(self) -> np.ndarray:
        """Current tracked gyroscope bias (deg/s, sensor frame)."""
        return np.asarray(self._bias.get_offset(), dtype=np.float64)

    def update_one(self, acc: list[float], gyr: list[float], dt_s: float) -> np.ndarray:
        """One ordinary row (not skipped, no restart): same arithmetic as :meth:`update`."""
        if dt_s != self._period_s:
            self._ahrs.set_sample_period(dt_s)
            self._period_s = dt_s
        acc_g = (
            acc[0] / STANDARD_GRAVITY_M_S2,
            acc[1] / STANDARD_GRAVITY_M_S2,
            acc[2] / STANDARD_GRAVITY_M_S2,
        )
        self._ahrs.update_no_magnetometer(self._bias.update(gyr), acc_g)
        self._last = self._ahrs.get_quaternion()
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
        acc_rows = list(np.ascontiguousarray(acc / STANDARD_GRAVITY_M_S2))
        gyr_rows = list(np.ascontiguousarray(gyr))
        ahrs, bias = self._ahrs, self._bias
        update, get_q, correct = ahrs.update_no_magnetometer, ahrs.get_quaternion, bias.update
        last = self._last
        period = self._period_s
        out = []
        for acc_g, gyr_i, dt, skipped, restarted in zip(
            acc_rows, gyr_rows, dt_s.tolist(), skip.tolist(), restart.tolist(), strict=True
        ):
            if skipped:
                out.append(last)
                continue
            if restarted:
                # Fusion's own start-up resets the heading when it ends, which flips the
                # heading of mountings with a sensor axis along the vertical; start from
                # the accelerometer's tilt instead and skip it.
                up = acc_g if self._initial_acc is None else self._initial_acc
                self._initial_acc = None
                ahrs.restart()
                ahrs.set_quaternion(tilt_quaternion(up))
                ahrs.skip_startup()
            else:
                if dt != period:
                    ahrs.set_sample_period(dt)
                    period = dt
                update(correct(gyr_i), acc_g)
            last = get_q()
            out.append(last)
        self._last, self._period_s = last, period
        return np.array(out, dtype=np.float64).reshape(-1, 4)


@dataclass(frozen=True)
class GravityTiltSettings:
    """Accelerometer-only tilt: first-order low-pass of the acceleration (gravity estimate).

    Chosen on the simulator (docs/calibration.md, accelerometer-only mode): shorter time
    constants follow the trunk's own acceleration during the pull, longer ones lag behind
    fast flexion.
    """

    time_constant_s: float = 0.1
    """Time constant of the low-pass filter (s); the -3 dB corner is 1 / (2 pi tau)."""
    rejection_m_s2: float = 2.0
    """Samples whose norm differs from g by more than this do not update the estimate."""
    rejection_timeout_s: float = 1.0
    """After this long rejected in a row, samples are used again (a wrong scale, not a pull)."""


class GravityTilt:
    """Accelerometer-only orientation with the interface of :class:`Orientation`.

    The gravity estimate ``g`` (sensor frame, m/s^2) follows each accepted sample by
    ``g += alpha (a - g)``, ``alpha = dt / (tau + dt)`` (exact for any time step, so
    jitter and bridged gaps need no special case). The quaternion is the tilt of ``g``
    with heading 0: twist is not observable. Plain float arithmetic, one sample at a
    time, so chunked and single-sample updates give the same bits.
    """

    def __init__(
        self,
        settings: GravityTiltSettings,
        initial_acc: np.ndarray | None = None,
    ) -> None:
        """``initial_acc``: acceleration (m/s^2) to start from at the first row."""
        self.settings = settings
        self._initial_acc = None if initial_acc is None else [float(v) for v in initial_acc]
        self._gravity = [math.nan] * 3
        self._rejected_s = 0.0
        self._last = np.full(4, np.nan)

    @property
    def gyro_bias_deg_s(self) -> None:
        """No gyroscope, no bias."""
        return None

    def _step(self, acc: list[float], dt_s: float, restart: bool) -> np.ndarray:
        s = self.settings
        g = self._gravity
        if restart:
            start = acc if self._initial_acc is None else self._initial_acc
            self._initial_acc = None
            g[0], g[1], g[2] = start
            self._rejected_s = 0.0
        else:
            norm = math.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
            if abs(norm - STANDARD_GRAVITY_M_S2) > s.rejection_m_s2:
                self._rejected_s += dt_s
            else:
                self._rejected_s = 0.0
            if self._rejected_s == 0.0 or self._rejected_s > s.rejection_timeout_s:
                alpha = dt_s / (s.time_constant_s + dt_s)
                for i in range(3):
                    g[i] += alpha * (acc[i] - g[i])
        self._last = tilt_quaternion(np.array(g))
        return self._last

    def update_one(self, acc: list[float], gyr: list[float], dt_s: float) -> np.ndarray:
        """One ordinary row (``gyr`` ignored): same arithmetic as :meth:`update`."""
        return self._step(acc, dt_s, False)

    def update(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        dt_s: np.ndarray,
        skip: np.ndarray,
        restart: np.ndarray,
    ) -> np.ndarray:
        """Quaternions (n, 4) for rows of acc (m/s^2); ``gyr`` ignored; skipped rows repeat."""
        out = []
        last = self._last
        for acc_i, dt, skipped, restarted in zip(
            acc.tolist(), dt_s.tolist(), skip.tolist(), restart.tolist(), strict=True
        ):
            if not skipped:
                last = self._step(acc_i, dt, restarted)
            out.append(last)
        self._last = last
        return np.array(out, dtype=np.float64).reshape(-1, 4)
