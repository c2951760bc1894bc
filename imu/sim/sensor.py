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

:data:`PARTS` holds error models of other common parts (:func:`part_model`), with
their data sheets named; :meth:`SensorModel.ble_timestamps` models a BLE link's host
time stamps (samples in notifications, latency jitter, packets lost in bursts).
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
    acc_scale_error: float = 0.0
    """Sensitivity error common to the accelerometer's axes (0.10: every axis reads 10 %
    high), on top of the per-axis ``scale_error_sigma``. An ADXL345's data sheet allows
    230-282 LSB/g at full resolution around the 256 LSB/g (3.9 mg/LSB) a driver assumes:
    up to +-10 %, a board reading 10.8 m/s^2 standing. Draws nothing (the same random
    draws with any value)."""
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
    acc_lsb_g: float | None = None
    """Accelerometer step (g) where it is not ``2 x range / 2**bits`` (e.g. ADXL345)."""
    gyr_lsb_deg_s: float | None = None
    """Gyroscope step (deg/s) where it is not ``2 x range / 2**bits`` (e.g. ITG-3200)."""
    gyr_tco_deg_s_per_k: float = 0.0
    """Gyroscope offset temperature coefficient (deg/s per K, a random sign per axis)."""
    temperature_rise_k: float = 0.0
    """Self-heating after power-on (K, reached with ``warmup_tau_s``)."""
    powered_s: float = 0.0
    """How long the part had been on when the first sample was taken (s)."""
    connection_interval_s: float = 0.0
    """BLE host time stamps (:meth:`ble_timestamps`) when > 0; else :meth:`timestamps`'s."""
    latency_jitter_s: float = 0.0
    loss_fraction: float = 0.0
    """Share of BLE notifications lost (in bursts of ``mean_burst_packets`` on average)."""
    mean_burst_packets: float = 3.0

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
        warming = 1 - np.exp(
            -(np.arange(n)[:, None] + self.powered_s * sampling_rate_hz)
            / (sampling_rate_hz * self.warmup_tau_s)
        )
        out = []
        for true, noise, bias_sigma, walk, warmup, full_scale, lsb, common in (
            (
                acc_m_s2,
                acc_noise,
                self.acc_bias_sigma_m_s2,
                self.acc_bias_walk_m_s2_per_10min,
                0.0,
                acc_range,
                None if self.acc_lsb_g is None else self.acc_lsb_g * STANDARD_GRAVITY_M_S2,
                1.0 + self.acc_scale_error,
            ),
            (
                gyr_deg_s,
                gyr_noise,
                self.gyr_bias_sigma_deg_s,
                self.gyr_bias_walk_deg_s_per_10min,
                self.gyr_warmup_deg_s,
                self.gyr_range_deg_s,
                self.gyr_lsb_deg_s,
                1.0,
            ),
        ):
            gain = np.eye(3) + np.diag(rng.normal(0, self.scale_error_sigma, 3))
            off = rng.normal(0, self.cross_axis_sigma, (3, 3))
            gain += off - np.diag(np.diag(off))
            gain *= common
            step = walk / np.sqrt(600.0 * sampling_rate_hz)
            bias = rng.normal(0, bias_sigma, 3) + np.cumsum(rng.normal(0, step, (n, 3)), axis=0)
            bias = bias + rng.normal(0, warmup, 3) * warming  # self-heating after power-on
            if warmup and self.gyr_tco_deg_s_per_k:  # the gyroscope's temperature coefficient
                signs = rng.choice([-1.0, 1.0], 3) * rng.uniform(0.3, 1.0, 3)
                bias = bias + signs * self.gyr_tco_deg_s_per_k * self.temperature_rise_k * warming
            value = true @ gain.T + bias + rng.normal(0, noise, (n, 3))
            if lsb is None and self.bits is not None and np.isfinite(full_scale):
                lsb = 2 * full_scale / 2**self.bits
            if lsb is not None:
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
        starting with ``drop_probability`` per sample. With ``connection_interval_s`` > 0
        the samples come over BLE instead (:meth:`ble_timestamps`).
        """
        if self.connection_interval_s > 0:
            return self.ble_timestamps(n, sampling_rate_hz, rng)
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

    def ble_timestamps(
        self,
        n: int,
        sampling_rate_hz: float,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`timestamps`, for samples sent over BLE and stamped by the host.

        The device packs the samples of one ``connection_interval_s`` into a notification;
        the host stamps each sample back from the notification's arrival at the nominal
        period (what logging apps do), and arrivals are late by 0..``latency_jitter_s``
        (uniform), so steps are irregular at packet boundaries and can even go back in
        time (the pipeline skips such rows). Whole notifications are lost in bursts
        (two-state Markov chain: ``loss_fraction`` of the packets on average, bursts of
        ``mean_burst_packets`` on average). The device clock runs ``clock_error_ppm``
        fast. Returns true instants, host times (s from 0) and the indices kept.
        """
        period = 1.0 / (sampling_rate_hz * (1 + self.clock_error_ppm * 1e-6))
        nominal = 1.0 / sampling_rate_hz
        instants = np.arange(n) * period
        loss_fraction, mean_burst_packets = self.loss_fraction, self.mean_burst_packets
        per_packet = max(1, round(self.connection_interval_s * sampling_rate_hz))
        packet = np.arange(n) // per_packet
        n_packets = int(packet[-1]) + 1 if n else 0
        last_in_packet = np.minimum((np.arange(n_packets) + 1) * per_packet, n) - 1
        arrival = instants[last_in_packet] + rng.uniform(0, self.latency_jitter_s, n_packets)
        position = np.arange(n) - packet * per_packet
        count = np.minimum(per_packet, n - packet * per_packet)
        host = arrival[packet] - (count - 1 - position) * nominal
        lost = np.zeros(n_packets, dtype=bool)
        if loss_fraction > 0 and n_packets:
            leave = 1.0 / max(mean_burst_packets, 1.0)
            enter = loss_fraction * leave / max(1.0 - loss_fraction, 1e-9)
            draws = rng.random(n_packets)
            bad = False
            for k in range(n_packets):
                bad = draws[k] < (1.0 - leave if bad else enter)
                lost[k] = bad
            lost[0] = False
        keep = np.flatnonzero(~lost[packet])
        return instants, host - host[0] if n else host, keep


PARTS: dict[str, dict] = {
    # InvenSense MPU-6050 product specification rev. 3.4: 400 ug/sqrt(Hz), 0.005
    # deg/s/sqrt(Hz), zero-rate offset +-20 deg/s untrimmed, zero-g +-50 mg (x, y).
    "mpu6050": {
        "acc_noise_density_ug": 400.0,
        "gyr_noise_density_deg_s": 0.005,
        "acc_bias_sigma_m_s2": 0.25,
        "gyr_bias_sigma_deg_s": 2.0,
        "gyr_tco_deg_s_per_k": 0.05,
    },
    # InvenSense MPU-9250 product specification rev. 1.1: 300 ug/sqrt(Hz), 0.01 deg/s/sqrt(Hz).
    "mpu9250": {
        "acc_noise_density_ug": 300.0,
        "gyr_noise_density_deg_s": 0.01,
        "acc_bias_sigma_m_s2": 0.25,
        "gyr_bias_sigma_deg_s": 2.0,
        "gyr_tco_deg_s_per_k": 0.05,
    },
    # Bosch BMI160 data sheet: 180 ug/sqrt(Hz), 0.007 deg/s/sqrt(Hz), offset +-3 deg/s
    # typical, TCO 0.08 deg/s/K, zero-g +-40 mg.
    "bmi160": {
        "acc_noise_density_ug": 180.0,
        "gyr_noise_density_deg_s": 0.007,
        "acc_bias_sigma_m_s2": 0.2,
        "gyr_bias_sigma_deg_s": 1.5,
        "gyr_tco_deg_s_per_k": 0.08,
    },
    # Bosch BMI270 data sheet: 160 ug/sqrt(Hz), 0.007 deg/s/sqrt(Hz), small offsets.
    "bmi270": {
        "acc_noise_density_ug": 160.0,
        "gyr_noise_density_deg_s": 0.007,
        "acc_bias_sigma_m_s2": 0.15,
        "gyr_bias_sigma_deg_s": 0.5,
        "gyr_tco_deg_s_per_k": 0.02,
    },
    # ST LSM6DS3 data sheet: 90 ug/sqrt(Hz), 0.007 deg/s/sqrt(Hz), offset +-10 deg/s,
    # zero-g +-40 mg.
    "lsm6ds3": {
        "acc_noise_density_ug": 90.0,
        "gyr_noise_density_deg_s": 0.007,
        "acc_bias_sigma_m_s2": 0.15,
        "gyr_bias_sigma_deg_s": 2.0,
        "gyr_tco_deg_s_per_k": 0.03,
    },
    # Analog Devices ADXL345 data sheet (13 bit at +-16 g, 3.9 mg/LSB) with the InvenSense
    # ITG-3200 product specification (14.375 LSB per deg/s, 0.38 deg/s RMS total noise
    # over its ~42 Hz bandwidth, offset +-40 deg/s).
    "adxl345_itg3200": {
        "acc_noise_density_ug": 400.0,
        "gyr_noise_density_deg_s": 0.06,
        "acc_bias_sigma_m_s2": 0.3,
        "gyr_bias_sigma_deg_s": 4.0,
        "gyr_tco_deg_s_per_k": 0.05,
        "acc_lsb_g": 0.0039,
        "gyr_lsb_deg_s": 1 / 14.375,
        "acc_range_g": 16.0,
        "gyr_range_deg_s": 2000.0,
    },
}
"""Per-part noise densities, step sizes and offset spreads (sigma about a third to a
fifth of the data sheet's bound: the bound covers every part, a board shows one)."""


def part_model(
    part: str, *, acc_range_g: float = 2.0, gyr_range_deg_s: float = 500.0, **changes
) -> SensorModel:
    """The :class:`SensorModel` of a part in :data:`PARTS` at the given ranges (16-bit
    outputs unless the part has its own steps); ``changes`` override any field."""
    fields = {"acc_range_g": acc_range_g, "gyr_range_deg_s": gyr_range_deg_s, **PARTS[part]}
    return SensorModel(**{**fields, **changes})
