"""Reference run of the orientation stage through ``imufusion`` (tests and benchmarks only).

The per-sample loop :class:`imu.pipeline.orientation.Orientation` used before the compiled
kernel: ``imufusion.Bias`` + ``imufusion.Ahrs`` (x-io Fusion) called row by row, same row
semantics (skip repeats, restart = accelerometer tilt with start-up skipped). It needs
the ``imufusion`` package (``pip install imu[test]``), which the pipeline does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.pipeline.fusion import tilt_quaternion_xyz
from imu.pipeline.orientation import OrientationSettings
from imu.units import STANDARD_GRAVITY_M_S2


@dataclass
class ReferenceRun:
    """Quaternions (n, 4) per row and imufusion's own flags after each updated row."""

    quaternions: np.ndarray
    accelerometer_ignored: np.ndarray
    acceleration_recovery: np.ndarray
    startup: np.ndarray
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
    """Run imufusion over annotated rows (as ``Orientation.update`` does, without initial_acc)."""
    import imufusion

    ahrs = imufusion.Ahrs()
    ahrs.set_settings(
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
    bias = imufusion.Bias()
    bias.set_settings(
        imufusion.BiasSettings(
            sample_rate=sampling_rate_hz,
            stationary_threshold=settings.bias_threshold_deg_s,
            stationary_period=settings.bias_period_s,
        )
    )
    bias.set_offset(np.asarray(gyro_bias_deg_s, dtype=np.float64))
    n = len(acc_m_s2)
    out = np.full((n, 4), np.nan)
    ignored, recovery, startup = (np.zeros(n, dtype=bool) for _ in range(3))
    acc_g = np.asarray(acc_m_s2, dtype=np.float64) / STANDARD_GRAVITY_M_S2
    last = np.full(4, np.nan)
    for i in range(n):
        if not skip[i]:
            if restart[i]:
                ahrs.restart()
                ahrs.set_quaternion(np.array(tilt_quaternion_xyz(*acc_g[i].tolist())))
                ahrs.skip_startup()
            else:
                ahrs.set_sample_period(float(dt_s[i]))
                ahrs.update_no_magnetometer(bias.update(gyr_deg_s[i]), acc_g[i])
                flags = ahrs.get_flags()
                ignored[i] = ahrs.get_internal_states().accelerometer_ignored
                recovery[i] = flags.acceleration_recovery
                startup[i] = flags.startup
            last = ahrs.get_quaternion()
        out[i] = last
    return ReferenceRun(
        out, ignored, recovery, startup, np.asarray(bias.get_offset(), dtype=np.float64)
    )
