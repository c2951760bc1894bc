"""Error model of a commodity MEMS IMU and of the host's timestamps.

Default numbers are those of the InvenSense MPU-6050 product specification (rev. 3.4),
a part found in many $10-30 BLE modules (e.g. WitMotion): accelerometer noise density
400 ug/sqrt(Hz), zero-g offset up to +-50 mg (x, y) / +-80 mg (z), gyroscope rate noise
density 0.005 deg/s/sqrt(Hz), zero-rate offset up to +-20 deg/s (untrimmed), sensitivity
tolerance +-3 %, cross-axis sensitivity +-2 %, 16-bit outputs with full-scale ranges up to
+-16 g and +-2000 deg/s. The defaults draw typical rather than worst-case offsets (the
datasheet limits are bounds across parts). Bias drift is a random walk sized so that a
gyro bias wanders ~0.2 deg/s over 10 minutes (temperature drift of consumer MEMS); on top,
the gyro bias settles after power-on by N(0, 0.3 deg/s) with a 4-minute time constant
(self-heating of a few deg C; illustrative, not a datasheet figure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.units import STANDARD_GRAVITY_M_S2


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
    gyr_warmup_deg_s: float = 0.3
    warmup_tau_s: float = 240.0
    timestamp_jitter_s: float = 0.0
    drop_probability: float = 0.0
    drop_burst_max: int = 6
    clock_error_ppm: float = 0.0

    @classmethod
    def ideal(cls) -> SensorModel:
        """A perfect sensor: no noise, bias, scale error, quantisation or range limit."""
        zero = dict.fromkeys(
            (
                "acc_noise_density_ug",
                "gyr_noise_density_deg_s",
                "acc_bias_sigma_m_s2",
                "gyr_bias_sigma_deg_s",
                "acc_bias_walk_m_s2_per_10min",
                "gyr_bias_walk_deg_s_per_10min",
                "scale_error_sigma",
                "cross_axis_sigma",
                "gyr_warmup_deg_s",
            ),
            0.0,
        )
        return cls(**zero, acc_range_g=np.inf, gyr_range_deg_s=np.inf, bits=None)

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
        warming = 1 - np.exp(-np.arange(n)[:, None] / (sampling_rate_hz * self.warmup_tau_s))
        out = []
        for true, noise, bias_sigma, walk, warmup, full_scale in (
            (
                acc_m_s2,
                acc_noise,
                self.acc_bias_sigma_m_s2,
                self.acc_bias_walk_m_s2_per_10min,
                0.0,
                acc_range,
            ),
            (
                gyr_deg_s,
                gyr_noise,
                self.gyr_bias_sigma_deg_s,
                self.gyr_bias_walk_deg_s_per_10min,
                self.gyr_warmup_deg_s,
                self.gyr_range_deg_s,
            ),
        ):
            gain = np.eye(3) + np.diag(rng.normal(0, self.scale_error_sigma, 3))
            off = rng.normal(0, self.cross_axis_sigma, (3, 3))
            gain += off - np.diag(np.diag(off))
            step = walk / np.sqrt(600.0 * sampling_rate_hz)
            bias = rng.normal(0, bias_sigma, 3) + np.cumsum(rng.normal(0, step, (n, 3)), axis=0)
            bias = bias + rng.normal(0, warmup, 3) * warming  # self-heating after power-on
            value = true @ gain.T + bias + rng.normal(0, noise, (n, 3))
            if self.bits is not None and np.isfinite(full_scale):
                lsb = 2 * full_scale / 2**self.bits
                value = np.round(value / lsb) * lsb
            out.append(np.clip(value, -full_scale, full_scale))
        return out[0], out[1]

    def timestamps(
        self, n: int, sampling_rate_hz: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """True sample instants, host timestamps (s, from 0) and the indices kept.

        The sensor's clock runs ``clock_error_ppm`` fast (samples come slightly more often
        than the nominal rate). Host timestamps add Gaussian jitter ``timestamp_jitter_s``
        (clipped to a third of the sample interval so time stays strictly increasing);
        dropped samples come in bursts of 1..``drop_burst_max`` (BLE notifications lost),
        starting with ``drop_probability`` per sample.
        """
        period = 1.0 / (sampling_rate_hz * (1 + self.clock_error_ppm * 1e-6))
        instants = np.arange(n) * period
        host = instants
        if self.timestamp_jitter_s > 0:
            host = instants + np.clip(
                rng.normal(0, self.timestamp_jitter_s, n), -period / 3, period / 3
            )
        keep = np.ones(n, dtype=bool)
        if self.drop_probability > 0:
            starts = np.flatnonzero(rng.random(n) < self.drop_probability)
            for start, length in zip(starts, rng.integers(1, self.drop_burst_max + 1, len(starts))):
                keep[start : start + length] = False
            keep[0] = True
        return instants, host, np.flatnonzero(keep)
