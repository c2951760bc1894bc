"""Error model of a commodity MEMS IMU and of the host's timestamps.

Default numbers are those of the InvenSense MPU-6050 product specification (rev. 3.4),
a part found in many $10-30 BLE modules (e.g. WitMotion): accelerometer noise density
400 ug/sqrt(Hz), zero-g offset up to +-50 mg (x, y) / +-80 mg (z), gyroscope rate noise
density 0.005 deg/s/sqrt(Hz), zero-rate offset up to +-20 deg/s (untrimmed), sensitivity
tolerance +-3 %, cross-axis sensitivity +-2 %, 16-bit outputs with full-scale ranges up to
+-16 g and +-2000 deg/s. The defaults draw typical rather than worst-case offsets (the
datasheet limits are bounds across parts). Bias drift is a random walk sized so that a
gyro bias wanders ~0.2 deg/s over 10 minutes (temperature drift of consumer MEMS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STANDARD_GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True)
class SensorModel:
    """Errors of one IMU. Units: m/s^2, deg/s, s; ``*_density`` per sqrt(Hz)."""

    acc_noise_density_ug: float = 400.0
    gyr_noise_density_deg_s: float = 0.005
    acc_bias_sigma_m_s2: float = 0.15
    gyr_bias_sigma_deg_s: float = 1.0
    acc_bias_walk_m_s2_per_10min: float = 0.02
    gyr_bias_walk_deg_s_per_10min: float = 0.2
    scale_error_sigma: float = 0.01
    cross_axis_sigma: float = 0.005
    acc_range_g: float = 16.0
    gyr_range_deg_s: float = 2000.0
    bits: int | None = 16
    timestamp_jitter_s: float = 0.0
    drop_probability: float = 0.0
    drop_burst_max: int = 6

    @classmethod
    def ideal(cls) -> SensorModel:
        """A perfect sensor: no noise, bias, scale error, quantisation or range limit."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.inf, np.inf, None)

    def measure(
        self,
        acc_m_s2: np.ndarray,
        gyr_deg_s: np.ndarray,
        sampling_rate_hz: float,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Apply the error model to true sensor-frame signals (n, 3) sampled uniformly."""
        n = len(acc_m_s2)
        bandwidth_hz = sampling_rate_hz / 2
        acc_noise = self.acc_noise_density_ug * 1e-6 * STANDARD_GRAVITY_M_S2 * np.sqrt(bandwidth_hz)
        gyr_noise = self.gyr_noise_density_deg_s * np.sqrt(bandwidth_hz)
        acc_range = self.acc_range_g * STANDARD_GRAVITY_M_S2
        out = []
        for true, noise, bias_sigma, walk, full_scale in (
            (
                acc_m_s2,
                acc_noise,
                self.acc_bias_sigma_m_s2,
                self.acc_bias_walk_m_s2_per_10min,
                acc_range,
            ),
            (
                gyr_deg_s,
                gyr_noise,
                self.gyr_bias_sigma_deg_s,
                self.gyr_bias_walk_deg_s_per_10min,
                self.gyr_range_deg_s,
            ),
        ):
            gain = np.eye(3) + np.diag(rng.normal(0, self.scale_error_sigma, 3))
            off = rng.normal(0, self.cross_axis_sigma, (3, 3))
            gain += off - np.diag(np.diag(off))
            step = walk / np.sqrt(600.0 * sampling_rate_hz)
            bias = rng.normal(0, bias_sigma, 3) + np.cumsum(rng.normal(0, step, (n, 3)), axis=0)
            value = true @ gain.T + bias + rng.normal(0, noise, (n, 3))
            if self.bits is not None and np.isfinite(full_scale):
                lsb = 2 * full_scale / 2**self.bits
                value = np.round(value / lsb) * lsb
            out.append(np.clip(value, -full_scale, full_scale))
        return out[0], out[1]

    def timestamps(
        self, n: int, sampling_rate_hz: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Host timestamps (s, from 0) of n samples and the indices of those kept.

        Jitter is Gaussian with ``timestamp_jitter_s`` (clipped to a third of the sample
        interval so time stays strictly increasing); dropped samples come in bursts of
        1..``drop_burst_max`` (BLE notifications lost), starting with
        ``drop_probability`` per sample.
        """
        period = 1.0 / sampling_rate_hz
        t = np.arange(n) * period
        if self.timestamp_jitter_s > 0:
            t = t + np.clip(rng.normal(0, self.timestamp_jitter_s, n), -period / 3, period / 3)
        keep = np.ones(n, dtype=bool)
        if self.drop_probability > 0:
            starts = np.flatnonzero(rng.random(n) < self.drop_probability)
            for start, length in zip(starts, rng.integers(1, self.drop_burst_max + 1, len(starts))):
                keep[start : start + length] = False
            keep[0] = True
        return t, np.flatnonzero(keep)
