"""Orientation: gyroscope bias tracking and x-io Fusion AHRS, compiled (imu/pipeline/fusion.py).

Fusion is a complementary filter with acceleration rejection: while the measured
acceleration deviates from gravity by more than ``acceleration_rejection_deg`` (the
pull of a lift) the accelerometer is ignored and the gyroscope carries the orientation,
for at most ``rejection_timeout_s``. Gyroscope bias starts from the calibration still
period and is tracked (Fusion's bias tracker) whenever the sensor is still again. The
kernel reproduces ``imufusion`` 1.3.3, the Python package of the C library, in float32;
``benchmarks/bench_fusion.py`` shows why it is our own: ~100x faster over a session.

The output quaternion ``[w, x, y, z]`` rotates sensor coordinates into a world frame
with z up (NWU convention; heading arbitrary, no magnetometer).

Without a gyroscope (Polar H10, accelerometer-only exports) :class:`GravityTilt` gives
the same kind of quaternion from a low-pass-filtered accelerometer (heading always 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.units import STANDARD_GRAVITY_M_S2


@dataclass(frozen=True)
class OrientationSettings:
    """Fusion AHRS and bias-tracker settings (units in the names; 0 disables range/rejection)."""

    gain: float = 0.5
    acceleration_rejection_deg: float = 10.0
    rejection_timeout_s: float = 5.0
    gyroscope_range_deg_s: float = 2000.0
    bias_threshold_deg_s: float = 3.0
    """Rates below this for ``bias_period_s`` count as still for bias tracking."""
    bias_period_s: float = 3.0
    gap_recovery_s: float = 10.0
    """After a gap longer than ``gap_s`` (not in Fusion; docs/calibration.md "Timing"):
    the tilt starts again from the accelerometer with the heading kept (mid-lift the
    trunk's own acceleration tilts that by ~10 deg at most, while the gap's unknown turn
    can be far more), then for at most this long (s), or until a quasi-static row agrees
    with the estimate within 2 deg, the accelerometer is used whatever its rejection
    says, at ``recovery_gain`` on quasi-static rows. 0 = gaps as in Fusion: bridged with
    the next row's rate, or (a restart) started again from the accelerometer's tilt with
    heading 0."""
    gap_s: float = 0.3
    """A step longer than this (s) is a gap for :attr:`gap_recovery_s`; shorter ones are
    bridged by the gyroscope (the bundled training files lose up to 0.28 s at 25 Hz: the
    shipped classifier was trained on those angles): as in Fusion, but a step longer than
    two sampling intervals (a sample or more lost) with the mean of the rates before and
    after it, not the rate after it alone (:meth:`Orientation.update`)."""
    recovery_gain: float = 10.0
    """Fusion's gain on quasi-static rows while recovering (its start-up gain)."""
    quiet_acc_m_s2: float = 0.5
    """Quasi-static: the acceleration's norm within this of g (m/s^2) ..."""
    quiet_gyr_deg_s: float = 20.0
    """... and every bias-corrected gyroscope axis below this (deg/s)."""


def tilt_quaternion(acc: np.ndarray) -> np.ndarray:
    """Quaternion (heading 0) that rotates the measured up direction ``acc`` onto world z."""
    from imu.pipeline.fusion import tilt_quaternion_xyz

    return np.array(tilt_quaternion_xyz(*(float(v) for v in acc)))


def c_ordered(block: np.ndarray) -> np.ndarray:
    """``block`` (n, k) as a C-ordered float64 array, the kernels' layout. Columns of the
    loaded samples are contiguous (column-ordered): they are copied one column at a time,
    ~4x faster than numpy's strided copy of the whole block (same values)."""
    block = np.asarray(block, dtype=np.float64)
    if block.flags.c_contiguous:
        return block
    out = np.empty(block.shape)
    for k in range(block.shape[1]):
        out[:, k] = block[:, k]
    return out


class _FirstTilt:
    """Chunk preparation shared by both stages: the first restart row may start from an
    acceleration given up front (``initial_acc``, e.g. the calibration still period)."""

    _initial_acc: np.ndarray | None

    def _chunk(
        self, acc: np.ndarray, skip: np.ndarray, restart: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``acc`` (float64, contiguous; the first restart row replaced by ``initial_acc``,
        which is then used up), ``skip`` and ``restart`` as bool arrays, for a kernel."""
        skip, restart = np.asarray(skip, bool), np.asarray(restart, bool)
        acc = c_ordered(acc)
        if self._initial_acc is not None:
            rows = np.flatnonzero(restart & ~skip)
            if rows.size:
                acc = acc.copy()
                acc[rows[0]] = self._initial_acc
                self._initial_acc = None
        return acc, skip, restart


class Orientation(_FirstTilt):
    """Streaming AHRS: ``update`` takes annotated rows and returns one quaternion per row.

    The compiled kernel :func:`imu.pipeline.fusion.fusion_chunk` (Fusion's algorithm in
    float32, the quaternions of ``imufusion`` 1.3.3) runs every row, in chunks of any size
    (one sample each, live): live and replay give the same bits.
    """

    def __init__(
        self,
        settings: OrientationSettings,
        sampling_rate_hz: float,
        gyro_bias_deg_s: np.ndarray,
        initial_acc: np.ndarray | None = None,
    ) -> None:
        """``initial_acc``: acceleration (any scale) giving the tilt of the first sample."""
        from imu.pipeline import fusion

        fusion.warm_up()  # once per process: never a silent first compile
        self.settings = settings
        self._fusion = fusion
        self._settings = fusion.fusion_settings(
            sampling_rate_hz,
            gain=settings.gain,
            gyroscope_range_deg_s=settings.gyroscope_range_deg_s,
            acceleration_rejection_deg=settings.acceleration_rejection_deg,
            rejection_timeout_s=settings.rejection_timeout_s,
            bias_threshold_deg_s=settings.bias_threshold_deg_s,
            bias_period_s=settings.bias_period_s,
            recovery_gain=settings.recovery_gain,
            quiet_acc_m_s2=settings.quiet_acc_m_s2,
            quiet_gyr_deg_s=settings.quiet_gyr_deg_s,
        )
        self._state = fusion.fusion_state(gyro_bias_deg_s)
        self._initial_acc = None if initial_acc is None else np.asarray(initial_acc, float)
        self._bridge_s = 2.0 / sampling_rate_hz
        self._last_gyr: np.ndarray | None = None  # of the last accepted row (any chunk)

    @property
    def gyro_bias_deg_s(self) -> np.ndarray:
        """Current tracked gyroscope bias (deg/s, sensor frame)."""
        start = self._fusion.BIAS_X
        return self._state[start : start + 3].copy()

    def update(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        dt_s: np.ndarray,
        skip: np.ndarray,
        restart: np.ndarray,
    ) -> np.ndarray:
        """Quaternions (n, 4) for rows of acc (m/s^2) and gyr (deg/s); skipped rows repeat.

        A restart row starts from the accelerometer's tilt (the first one from
        ``initial_acc`` if given) with Fusion's start-up skipped: its end-of-start-up
        heading reset would flip the heading of mountings with a sensor axis vertical.
        """
        acc, skip, restart = self._chunk(acc, skip, restart)
        gyr = c_ordered(gyr)
        dt_s = np.ascontiguousarray(dt_s, dtype=np.float64)
        settings = self.settings
        if settings.gap_recovery_s > 0:
            gyr = self._bridged(gyr, dt_s, skip, restart)
        gaps = np.flatnonzero((restart | (dt_s > settings.gap_s)) & ~skip)  # accepted rows
        if settings.gap_recovery_s <= 0 or not gaps.size:
            return self._fusion.fusion_chunk(
                self._state, self._settings, acc, gyr, dt_s, skip, restart
            )
        restart, dt_s = np.zeros_like(restart), dt_s.copy()
        dt_s[gaps] = 0.0  # not bridged
        out, lo = np.empty((len(acc), 4)), 0
        for row in (*gaps.tolist(), len(acc)):
            out[lo:row] = self._fusion.fusion_chunk(
                self._state, self._settings, acc[lo:row], gyr[lo:row], dt_s[lo:row],
                skip[lo:row], restart[lo:row],
            )  # fmt: skip
            if row < len(acc):
                if not self._state[self._fusion.STARTED]:
                    restart[row] = True  # the first row: nothing from before
                else:
                    self._retilt(acc[row])
                    self._state[self._fusion.RECOVERING] = settings.gap_recovery_s
            lo = row
        return out

    def _bridged(
        self, gyr: np.ndarray, dt_s: np.ndarray, skip: np.ndarray, restart: np.ndarray
    ) -> np.ndarray:
        """``gyr`` with each row after a short gap (a step longer than two sampling
        intervals, up to ``gap_s``) set to the mean of its rate and the last accepted
        row's (trapezoid rule). Fusion turns the whole step at the rate after it: across a
        0.24 s loss mid-descent (-23 -> -131 deg/s) that overturned by 13 deg, and the
        acceleration rejection kept the error for 5 s (SYNTHETIC, bench_realistic
        development seed 106). The last accepted row's rate is carried between calls, so
        the outcome does not depend on chunking."""
        before = self._last_gyr
        if len(skip) and not skip[-1] and not (dt_s > self._bridge_s).any():
            self._last_gyr = gyr[-1].copy()  # (most chunks: only the last rate to keep)
            return gyr
        accepted = np.flatnonzero(~skip)
        if not accepted.size:
            return gyr
        self._last_gyr = gyr[accepted[-1]].copy()
        bridged = accepted[
            (dt_s[accepted] > self._bridge_s)
            & (dt_s[accepted] <= self.settings.gap_s)
            & ~restart[accepted]
        ]
        if not bridged.size:
            return gyr
        previous = np.empty((len(accepted), 3))
        previous[1:] = gyr[accepted[:-1]]
        previous[0] = gyr[accepted[0]] if before is None else before
        index = np.searchsorted(accepted, bridged)
        gyr = gyr.copy()
        gyr[bridged] = 0.5 * (gyr[bridged] + previous[index])
        return gyr

    def _retilt(self, acc: np.ndarray) -> None:
        """Turn the estimate by the least rotation that makes its up the direction of
        ``acc`` (the heading stays where it was, whatever the mounting)."""
        state, q_w = self._state, self._fusion.Q_W
        w, x, y, z = (float(v) for v in state[q_w : q_w + 4])
        old_up = np.array([2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z])
        new_up = np.asarray(acc, float) / float(np.linalg.norm(acc))
        # r turns new_up onto old_up (sensor axes); q' = q * r
        rw, (rx, ry, rz) = 1.0 + float(new_up @ old_up), np.cross(new_up, old_up)
        if rw < 1e-9:  # opposite: half a turn about any axis across them
            rx, ry, rz = np.cross(
                new_up, [1.0, 0.0, 0.0] if abs(new_up[0]) < 0.9 else [0.0, 1.0, 0.0]
            )
        q = np.array([
            w * rw - x * rx - y * ry - z * rz,
            w * rx + x * rw + y * rz - z * ry,
            w * ry - x * rz + y * rw + z * rx,
            w * rz + x * ry - y * rx + z * rw,
        ])  # fmt: skip
        state[q_w : q_w + 4] = (q / np.linalg.norm(q)).astype(np.float32)


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


class GravityTilt(_FirstTilt):
    """Accelerometer-only orientation with the interface of :class:`Orientation`.

    The gravity estimate ``g`` (sensor frame, m/s^2) follows each accepted sample by
    ``g += alpha (a - g)``, ``alpha = dt / (tau + dt)`` (exact for any time step, so
    jitter and bridged gaps need no special case). The quaternion is the tilt of ``g``
    with heading 0: twist is not observable. Compiled float64 kernel
    (:func:`imu.pipeline.fusion.tilt_chunk`); chunked and single-sample updates run the
    same step, so they give the same bits.
    """

    def __init__(
        self,
        settings: GravityTiltSettings,
        initial_acc: np.ndarray | None = None,
    ) -> None:
        """``initial_acc``: acceleration (m/s^2) to start from at the first row."""
        from imu.pipeline import fusion

        fusion.warm_up()  # once per process: never a silent first compile
        self.settings = settings
        self._fusion = fusion
        self._settings = np.array(
            [
                settings.time_constant_s,
                settings.rejection_m_s2,
                settings.rejection_timeout_s,
                STANDARD_GRAVITY_M_S2,
            ]
        )
        self._state = fusion.tilt_state()
        self._initial_acc = None if initial_acc is None else np.asarray(initial_acc, float)

    @property
    def gyro_bias_deg_s(self) -> None:
        """No gyroscope, no bias."""
        return None

    def update(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        dt_s: np.ndarray,
        skip: np.ndarray,
        restart: np.ndarray,
    ) -> np.ndarray:
        """Quaternions (n, 4) for rows of acc (m/s^2); ``gyr`` ignored; skipped rows repeat."""
        acc, skip, restart = self._chunk(acc, skip, restart)
        return self._fusion.tilt_chunk(
            self._state,
            self._settings,
            acc,
            np.ascontiguousarray(dt_s, dtype=np.float64),
            skip,
            restart,
        )
