"""Compiled orientation kernels (numba): x-io Fusion AHRS with bias tracking, gravity tilt.

**Fusion.** :func:`fusion_chunk` runs the AHRS algorithm of x-io Technologies' Fusion
library without magnetometer, as wrapped by ``imufusion`` 1.3.3 (source read:
github.com/xioTechnologies/Fusion, ``Fusion/FusionAhrs.c`` and ``Fusion/FusionBias.c``,
release 1.3.x; the filter is described in S. Madgwick, *AHRS algorithms and calibration
solutions to facilitate new applications using low-cost MEMS*, PhD thesis, University of
Bristol, 2014). Own implementation of the published algorithm; per sample:

1. *Bias tracker* (``FusionBias``): subtract the offset; a rate above
   ``bias_threshold_deg_s`` on any axis resets a still-timer, otherwise the timer counts up
   to ``bias_period_s`` worth of samples, after which the offset follows the corrected rate
   through a first-order high-pass with a 0.02 Hz corner.
2. *Gyroscope range*: a corrected rate above 98 % of ``gyroscope_range_deg_s`` soft-restarts
   the filter (orientation kept, start-up gain ramp from 10 down to ``gain`` over 3 s, the
   heading held at 0 while it lasts, rejection state cleared).
3. *Inclination feedback*: the cross product of the measured (normalised) acceleration and
   the gravity direction of the current quaternion, both halved; its squared norm above
   ``(sin(acceleration_rejection_deg) / 2)^2`` ignores the accelerometer. A trigger counts
   +1 per ignored and -9 per accepted sample within ``[0, rejection_timeout_s * rate]``;
   when it exceeds its threshold the accelerometer is used regardless (recovery) until the
   trigger falls back to 0.
4. *Integration*: ``q += q * (0.5 omega + gain * feedback) dt``, then normalised.

Like the C library the arithmetic is float32, with the same operations in the same order,
so the quaternions are those of ``imufusion`` on the same inputs (tests/test_fusion.py
compares them; ``benchmarks/bench_fusion.py`` measures speed and agreement).

**Row semantics** (shared by both kernels): a *skipped* row repeats the last output (NaN
before the first one); a *restart* row re-initialises the filter to the accelerometer's tilt
(heading 0) without a start-up ramp, keeping the bias tracker. State lives in a small
float64 array (float32 values are exact in it), so a recording fed in chunks of any size
(one sample each, live) gives the same bits.

**Gravity tilt** (accelerometer-only mode, :class:`imu.pipeline.orientation.GravityTilt`):
a first-order low-pass of the acceleration in float64, see that class.

Compiled on first use and cached on disk (``cache=True``: ``__pycache__`` next to this
file, or numba's user cache directory when that is read-only; ``NUMBA_CACHE_DIR``
overrides both). docs/calibration.md states the cost.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import Iterator

import numpy as np
from numba import njit

from imu.pipeline.angles import DEG_PER_RAD
from imu.units import STANDARD_GRAVITY_M_S2

_F32 = np.float32
_ZERO = _F32(0.0)
_HALF = _F32(0.5)
_ONE = _F32(1.0)
_STARTUP_GAIN = _F32(10.0)
"""Gain at the beginning of a (soft) restart, ramped down to the setting over 3 s."""
_STARTUP_PERIOD_S = _F32(3.0)
_BIAS_CUTOFF_HZ = _F32(0.02)
_HALF_RAD_PER_DEG = _HALF * (_F32(math.pi) / _F32(180.0))
_FLT_MAX = np.finfo(np.float32).max
_RECOVERED = _F32((0.5 * math.sin(math.radians(2.0))) ** 2)
"""Gap recovery ends on a quasi-static row within 2 deg of the accelerometer's tilt."""
_G_M_S2 = STANDARD_GRAVITY_M_S2

# Settings vector (float64, values rounded to float32 where the C library keeps floats).
S_GAIN, S_STARTUP_STEP, S_RANGE, S_REJECTION, S_TIMEOUT = 0, 1, 2, 3, 4
S_BIAS_THRESHOLD, S_BIAS_TIMEOUT, S_BIAS_COEFFICIENT = 5, 6, 7
S_RECOVERY_GAIN, S_QUIET_ACC, S_QUIET_GYR = 8, 9, 10  # after a gap (not in Fusion)
SETTINGS_SIZE = 11

# State vector (float64).
Q_W = 0  # quaternion w, x, y, z in slots 0..3 (sensor -> world, NWU)
BIAS_X = 4  # gyroscope offset x, y, z (deg/s) in slots 4..6
BIAS_TIMER, STARTUP, STARTUP_GAIN, TRIGGER, THRESHOLD, STARTED = 7, 8, 9, 10, 11, 12
RECOVERING = 13  # seconds of gap recovery left (0: none; not in Fusion)
STATE_SIZE = 14


def fusion_settings(
    sampling_rate_hz: float,
    gain: float,
    gyroscope_range_deg_s: float,
    acceleration_rejection_deg: float,
    rejection_timeout_s: float,
    bias_threshold_deg_s: float,
    bias_period_s: float,
    recovery_gain: float = 10.0,
    quiet_acc_m_s2: float = 0.5,
    quiet_gyr_deg_s: float = 20.0,
) -> np.ndarray:
    """Derived constants of the AHRS and bias tracker, as the C library computes them, and
    of our gap recovery (:class:`imu.pipeline.orientation.OrientationSettings`).

    0 disables the gyroscope range check and the acceleration rejection, as in Fusion
    (rejection is also off when ``gain`` or ``rejection_timeout_s`` is 0).
    """
    rate = _F32(sampling_rate_hz)
    period = _ONE / rate
    gain32 = _F32(gain)
    settings = np.zeros(SETTINGS_SIZE)
    settings[S_GAIN] = gain32
    settings[S_STARTUP_STEP] = ((_STARTUP_GAIN - gain32) / _STARTUP_PERIOD_S) * period
    in_range = gyroscope_range_deg_s > 0
    settings[S_RANGE] = _F32(0.98) * _F32(gyroscope_range_deg_s) if in_range else np.inf
    half_sin = _HALF * np.sin(_F32(acceleration_rejection_deg) * (_F32(math.pi) / _F32(180.0)))
    rejection_on = acceleration_rejection_deg != 0 and gain != 0 and rejection_timeout_s != 0
    settings[S_REJECTION] = _F32(float(half_sin) * float(half_sin)) if rejection_on else _FLT_MAX
    settings[S_TIMEOUT] = int(rate * _F32(rejection_timeout_s))
    settings[S_BIAS_THRESHOLD] = _F32(bias_threshold_deg_s)
    settings[S_BIAS_TIMEOUT] = int(_F32(bias_period_s) * rate)
    settings[S_BIAS_COEFFICIENT] = _F32(2.0) * _F32(math.pi) * _BIAS_CUTOFF_HZ * period
    settings[S_RECOVERY_GAIN] = _F32(recovery_gain)
    settings[S_QUIET_ACC] = _F32(quiet_acc_m_s2 / _G_M_S2)
    settings[S_QUIET_GYR] = _F32(quiet_gyr_deg_s)
    return settings


def fusion_state(gyro_bias_deg_s: np.ndarray) -> np.ndarray:
    """Initial state: identity quaternion in start-up (as ``FusionAhrsInitialise``), bias given."""
    state = np.zeros(STATE_SIZE)
    state[Q_W] = 1.0
    state[BIAS_X : BIAS_X + 3] = np.asarray(gyro_bias_deg_s, dtype=np.float32)
    state[STARTUP] = 1.0
    state[STARTUP_GAIN] = _STARTUP_GAIN
    return state


@njit(cache=True)
def tilt_quaternion_xyz(ax: float, ay: float, az: float) -> tuple[float, float, float, float]:
    """Quaternion (w, x, y, z; heading 0) turning the measured up direction onto world z.

    Shortest rotation from ``u = a / |a|`` to ``(0, 0, 1)``: axis ``u x z``, angle
    ``acos(u_z)``; ``u`` pointing straight down gives a half turn about x. Any scale.
    """
    norm = math.sqrt(ax * ax + ay * ay + az * az)
    ux, uy, uz = ax / norm, ay / norm, az / norm
    w = 1.0 + uz
    if w < 1e-9:
        return 0.0, 1.0, 0.0, 0.0
    q_norm = math.sqrt(w * w + uy * uy + ux * ux)
    return w / q_norm, uy / q_norm, -ux / q_norm, 0.0


@njit(cache=True)
def _restart_to_tilt(
    state: np.ndarray, settings: np.ndarray, ax: float, ay: float, az: float
) -> None:
    """``restart`` + ``set_quaternion(tilt of a in g)`` + ``skip_startup``; bias tracker kept."""
    w, x, y, z = tilt_quaternion_xyz(ax / _G_M_S2, ay / _G_M_S2, az / _G_M_S2)
    state[Q_W], state[Q_W + 1], state[Q_W + 2], state[Q_W + 3] = _F32(w), _F32(x), _F32(y), _F32(z)
    state[STARTUP] = 0.0
    state[STARTUP_GAIN] = _STARTUP_GAIN
    state[TRIGGER] = 0.0
    state[THRESHOLD] = settings[S_TIMEOUT]


@njit(cache=True)
def _fusion_step(
    state: np.ndarray,
    settings: np.ndarray,
    acc: tuple[float, float, float],
    gyr: tuple[float, float, float],
    dt_s: float,
) -> None:
    """One ordinary row (acc m/s^2, gyr deg/s): bias tracker, then AHRS update (float32)."""
    # -- bias tracker
    bx, by, bz = _F32(state[BIAS_X]), _F32(state[BIAS_X + 1]), _F32(state[BIAS_X + 2])
    gx, gy, gz = _F32(gyr[0]) - bx, _F32(gyr[1]) - by, _F32(gyr[2]) - bz
    still = _F32(settings[S_BIAS_THRESHOLD])
    if abs(gx) > still or abs(gy) > still or abs(gz) > still:
        state[BIAS_TIMER] = 0.0
    elif state[BIAS_TIMER] < settings[S_BIAS_TIMEOUT]:
        state[BIAS_TIMER] += 1.0
    else:
        k = _F32(settings[S_BIAS_COEFFICIENT])
        state[BIAS_X], state[BIAS_X + 1], state[BIAS_X + 2] = bx + gx * k, by + gy * k, bz + gz * k

    # -- gyroscope range: soft restart (orientation kept)
    limit = settings[S_RANGE]
    if abs(gx) > limit or abs(gy) > limit or abs(gz) > limit:
        state[STARTUP] = 1.0
        state[STARTUP_GAIN] = _STARTUP_GAIN
        state[TRIGGER] = 0.0
        state[THRESHOLD] = settings[S_TIMEOUT]

    # -- gain: start-up ramp after a soft restart
    gain = _F32(settings[S_GAIN])
    if state[STARTUP] != 0.0:
        ramped = _F32(state[STARTUP_GAIN]) - _F32(settings[S_STARTUP_STEP])
        state[STARTUP_GAIN] = ramped
        if ramped > gain:
            gain = ramped
        else:
            state[STARTUP] = 0.0

    qw, qx, qy, qz = (
        _F32(state[Q_W]), _F32(state[Q_W + 1]), _F32(state[Q_W + 2]), _F32(state[Q_W + 3])
    )  # fmt: skip
    # Gravity direction in the sensor frame, halved (third row of the rotation matrix).
    hgx = qx * qz - qw * qy
    hgy = qy * qz + qw * qx
    hgz = qw * qw - _HALF + qz * qz

    # -- inclination feedback with acceleration rejection
    fx = fy = fz = _ZERO
    ax, ay, az = _F32(acc[0] / _G_M_S2), _F32(acc[1] / _G_M_S2), _F32(acc[2] / _G_M_S2)
    if ax != _ZERO or ay != _ZERO or az != _ZERO:
        inv_a = inv = _ONE / np.sqrt(ax * ax + ay * ay + az * az)
        ax, ay, az = ax * inv, ay * inv, az * inv
        rx = ay * hgz - az * hgy
        ry = az * hgx - ax * hgz
        rz = ax * hgy - ay * hgx
        apart = not ax * hgx + ay * hgy + az * hgz > _ZERO  # > 90 deg apart: unit length
        if apart and (rx != _ZERO or ry != _ZERO or rz != _ZERO):
            inv = _ONE / np.sqrt(rx * rx + ry * ry + rz * rz)
            rx, ry, rz = rx * inv, ry * inv, rz * inv
        used = state[STARTUP] != 0.0 or rx * rx + ry * ry + rz * rz <= settings[S_REJECTION]
        state[TRIGGER] += -9.0 if used else 1.0
        if state[TRIGGER] > state[THRESHOLD]:
            state[THRESHOLD] = 0.0
            used = True
        else:
            state[THRESHOLD] = settings[S_TIMEOUT]
        state[TRIGGER] = min(max(state[TRIGGER], 0.0), settings[S_TIMEOUT])
        if state[RECOVERING] > 0.0:  # after a gap: orientation uncertain, not accelerating
            used = True
            quiet = _F32(settings[S_QUIET_GYR])
            if (
                abs(_ONE / inv_a - _ONE) < _F32(settings[S_QUIET_ACC])
                and abs(gx) < quiet
                and abs(gy) < quiet
                and abs(gz) < quiet
            ):  # quasi-static: the accelerometer reads gravity, trusted strongly (at most
                # the whole error in one step: gain x dt <= 1, else it overshoots)
                strong = _F32(settings[S_RECOVERY_GAIN])
                if dt_s > 0.0:
                    strong = min(strong, _ONE / _F32(dt_s))
                gain = max(gain, strong)
                if rx * rx + ry * ry + rz * rz < _RECOVERED:
                    state[RECOVERING] = 0.0
            state[RECOVERING] = max(state[RECOVERING] - dt_s, 0.0)
        if used:
            fx, fy, fz = rx, ry, rz

    # -- integrate q' = q * (half rate + gain * half feedback), normalise
    dt = _F32(dt_s)
    vx = (gx * _HALF_RAD_PER_DEG + fx * gain) * dt
    vy = (gy * _HALF_RAD_PER_DEG + fy * gain) * dt
    vz = (gz * _HALF_RAD_PER_DEG + fz * gain) * dt
    nw = qw + (-qx * vx - qy * vy - qz * vz)
    nx = qx + (qw * vx + qy * vz - qz * vy)
    ny = qy + (qw * vy - qx * vz + qz * vx)
    nz = qz + (qw * vz + qx * vy - qy * vx)
    inv = _ONE / np.sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
    nw, nx, ny, nz = nw * inv, nx * inv, ny * inv, nz * inv

    if state[STARTUP] != 0.0:
        # Heading held at 0 during start-up: rotate about world z by minus the yaw.
        half_yaw = _HALF * np.arctan2(nw * nz + nx * ny, _HALF - ny * ny - nz * nz)
        cw, sz = np.cos(half_yaw), -np.sin(half_yaw)
        nw, nx, ny, nz = cw * nw - sz * nz, cw * nx - sz * ny, cw * ny + sz * nx, cw * nz + sz * nw
    state[Q_W], state[Q_W + 1], state[Q_W + 2], state[Q_W + 3] = nw, nx, ny, nz


@njit(cache=True)
def fusion_chunk(
    state: np.ndarray,
    settings: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_deg_s: np.ndarray,
    dt_s: np.ndarray,
    skip: np.ndarray,
    restart: np.ndarray,
) -> np.ndarray:
    """Quaternions (n, 4) for rows of ``acc_m_s2`` and ``gyr_deg_s``; ``state`` is updated.

    ``dt_s`` is each row's integration step (s); ``skip`` rows repeat the last quaternion,
    ``restart`` rows start again from the accelerometer tilt (see the module docstring).
    """
    n = acc_m_s2.shape[0]
    out = np.empty((n, 4))
    for i in range(n):
        acc = (acc_m_s2[i, 0], acc_m_s2[i, 1], acc_m_s2[i, 2])
        if skip[i]:
            if state[STARTED] == 0.0:
                out[i, :] = np.nan
                continue
        else:
            if restart[i]:
                _restart_to_tilt(state, settings, acc[0], acc[1], acc[2])
            else:
                gyr = (gyr_deg_s[i, 0], gyr_deg_s[i, 1], gyr_deg_s[i, 2])
                _fusion_step(state, settings, acc, gyr, dt_s[i])
            state[STARTED] = 1.0
        out[i, :] = state[Q_W : Q_W + 4]
    return out


# -- gravity tilt (accelerometer-only mode) -------------------------------------------------
T_TAU, T_REJECTION, T_TIMEOUT, T_GRAVITY = 0, 1, 2, 3
"""Settings: time constant (s), rejection (m/s^2), rejection timeout (s), g (m/s^2)."""
G_X, G_REJECTED_S, G_STARTED = 0, 3, 4  # gravity estimate (m/s^2, sensor frame) in 0..2
TILT_STATE_SIZE = 5


def tilt_state() -> np.ndarray:
    """Initial gravity-tilt state: no estimate yet (NaN until the first restart row)."""
    state = np.zeros(TILT_STATE_SIZE)
    state[G_X : G_X + 3] = np.nan
    return state


@njit(cache=True)
def _tilt_step(
    state: np.ndarray,
    settings: np.ndarray,
    acc: tuple[float, float, float],
    dt_s: float,
    restart: bool,
) -> None:
    if restart:
        state[G_X], state[G_X + 1], state[G_X + 2] = acc[0], acc[1], acc[2]
        state[G_REJECTED_S] = 0.0
    else:
        norm = math.sqrt(acc[0] * acc[0] + acc[1] * acc[1] + acc[2] * acc[2])
        if abs(norm - settings[T_GRAVITY]) > settings[T_REJECTION]:
            state[G_REJECTED_S] += dt_s
        else:
            state[G_REJECTED_S] = 0.0
        if state[G_REJECTED_S] == 0.0 or state[G_REJECTED_S] > settings[T_TIMEOUT]:
            alpha = dt_s / (settings[T_TAU] + dt_s)
            for k in range(3):
                state[G_X + k] += alpha * (acc[k] - state[G_X + k])
    state[G_STARTED] = 1.0


@njit(cache=True)
def _tilt_out(state: np.ndarray, out: np.ndarray) -> None:
    out[0], out[1], out[2], out[3] = tilt_quaternion_xyz(state[G_X], state[G_X + 1], state[G_X + 2])


@njit(cache=True)
def tilt_chunk(
    state: np.ndarray,
    settings: np.ndarray,
    acc: np.ndarray,
    dt_s: np.ndarray,
    skip: np.ndarray,
    restart: np.ndarray,
) -> np.ndarray:
    """Quaternions (n, 4) of the low-passed acceleration ``acc`` (m/s^2); same row rules."""
    n = acc.shape[0]
    out = np.empty((n, 4))
    for i in range(n):
        if not skip[i]:
            row = (acc[i, 0], acc[i, 1], acc[i, 2])
            _tilt_step(state, settings, row, dt_s[i], restart[i])
        if state[G_STARTED] == 0.0:
            out[i, :] = np.nan
        else:
            _tilt_out(state, out[i])
    return out


# -- body angles (imu/pipeline/angles.py states the formulas) --------------------------------


@njit(cache=True)
def _body_angles_row(
    w: float, x: float, y: float, z: float, sb: np.ndarray, heading_ref_deg: float
) -> tuple[float, float, float]:
    """``(flexion_deg, lateral_bend_deg, twist_deg)`` of one quaternion ``[w, x, y, z]``;
    ``sb`` is ``R_bs^T`` (columns: body axes in sensor coordinates)."""
    r00, r01, r02 = 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)
    r10, r11, r12 = 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)
    r20, r21, r22 = 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)
    m01 = r00 * sb[0, 1] + r01 * sb[1, 1] + r02 * sb[2, 1]
    m11 = r10 * sb[0, 1] + r11 * sb[1, 1] + r12 * sb[2, 1]
    m20 = r20 * sb[0, 0] + r21 * sb[1, 0] + r22 * sb[2, 0]
    m21 = r20 * sb[0, 1] + r21 * sb[1, 1] + r22 * sb[2, 1]
    m22 = r20 * sb[0, 2] + r21 * sb[1, 2] + r22 * sb[2, 2]
    flexion = math.atan2(-m20, m22) * DEG_PER_RAD
    lateral = math.atan2(m21, math.sqrt(m20 * m20 + m22 * m22)) * DEG_PER_RAD
    heading = math.atan2(-m01, m11) * DEG_PER_RAD
    return flexion, lateral, (heading - heading_ref_deg + 180.0) % 360.0 - 180.0


@njit(cache=True, nogil=True)
def body_angles_chunk(
    q: np.ndarray, sb: np.ndarray, heading_ref_deg: np.ndarray, out: np.ndarray
) -> None:
    """Body angles of quaternions ``q`` (n, 4) into columns 1..3 of ``out`` (n, >= 4):
    flexion, lateral bend, twist (deg, twist wrapped to [-180, 180) about the per-row
    ``heading_ref_deg``). NaN quaternions give NaN angles."""
    for i in range(q.shape[0]):
        out[i, 1], out[i, 2], out[i, 3] = _body_angles_row(
            q[i, 0], q[i, 1], q[i, 2], q[i, 3], sb, heading_ref_deg[i]
        )


_WARM = False
"""Whether this process has loaded the kernels (:func:`warm_up`)."""
COMPILE_NOTICE = (
    "imu: compiling the numeric kernels (once after installing, about 5-10 s; "
    "later runs load them from numba's cache)..."
)


def warm_up(notice_after_s: float | None = 2.0) -> None:
    """Load (or, on the first run after installing, compile) every kernel now; once per process.

    Live use calls this before connecting: otherwise the first call, at the end of
    calibration, would stall the event loop for about a second (cache load) or tens of
    seconds (first compile) while notifications pile up, and arrive as a false gap. The
    orientation stages call it too, so a first compile is never silent:
    :data:`COMPILE_NOTICE` goes to stderr (a terminal or not: a log shows it too) if
    loading takes longer than ``notice_after_s`` (None: never; the caller says it, as
    ``imu batch``'s client does once for all its workers).
    Called before any other compiled code runs (``imu analyze`` does), it also spares the
    process numba's import of SciPy's linear algebra (:func:`_without_blas_probe`).
    """
    global _WARM
    if _WARM:
        return
    # Said on stderr whatever it is (a terminal, a log file): a silent pause looks like a hang.
    notice = {"file": sys.stderr, "flush": True}
    timer = threading.Timer(notice_after_s or 0.0, print, (COMPILE_NOTICE,), notice)
    timer.daemon = True
    if notice_after_s is not None:
        timer.start()
    try:
        with _without_blas_probe():
            _load_kernels()
    finally:
        timer.cancel()
    _WARM = True


@contextlib.contextmanager
def _without_blas_probe() -> Iterator[None]:
    """Let numba's first kernel load in this process skip its probe for SciPy's BLAS.

    The first compile or cache load of a process sets up numba's CPU target, whose
    ``numba.np.arraymath`` checks once that BLAS is available by importing
    ``scipy.linalg.cython_blas``: all of ``scipy.linalg`` with its array-API layer,
    ``numpy.f2py`` and ``numpy.testing``, 0.3-0.4 s of an ``imu analyze`` process that
    uses no SciPy otherwise. While the kernels load, ``scipy.linalg`` (unless already
    imported) is marked missing in ``sys.modules``, so the probe fails at once (numba
    catches the ImportError). What that changes: ``np.correlate``/``np.convolve`` in
    compiled code would take numba's plain loop instead of a BLAS dot product; no kernel
    of this project calls them, nor any other BLAS/LAPACK function (``np.dot``,
    ``np.linalg``), whose first compile inside this block would fail:
    tests/test_fusion.py's fresh-install test compiles every kernel here. Afterwards the
    mark is removed: linear algebra in numba code, and SciPy itself, import as usual
    (tests/test_fusion_blas_probe.py).
    """
    name = "scipy.linalg"
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # "import halted": ImportError
    try:
        yield
    finally:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]


def _load_kernels() -> None:
    """Call every kernel once with the argument types the pipeline uses."""
    settings = fusion_settings(100.0, 0.5, 2000.0, 10.0, 5.0, 3.0, 3.0)
    state = fusion_state(np.zeros(3))
    acc = np.array([[0.0, 0.0, _G_M_S2]])
    dt_s, skip, restart = np.array([0.01]), np.array([False]), np.array([True])
    fusion_chunk(state, settings, acc, np.zeros((1, 3)), dt_s, skip, restart)
    tilt_settings = np.array([0.1, 2.0, 1.0, _G_M_S2])
    tilt = tilt_state()
    quat = tilt_chunk(tilt, tilt_settings, acc, dt_s, skip, restart)
    sb = np.eye(3)
    body_angles_chunk(quat, sb, np.zeros(1), np.empty((1, 4)))
