"""Calibration from the movement itself, for recordings without a still period.

When no still period is found (a file cut to the set, a lifter who never stands still),
the body axes come from the reps: the gyroscope bias and starting tilt are fitted to the
accelerometer over seconds of lifting (:func:`gyro_bias_from_motion`), the flexion axis is
the principal rotation axis, upright is where the lifter dwells at the tops of the reps,
and the flexion sign comes from the segment's drop at depth and the strapping's axes
(:func:`calibrate_from_movement`). docs/calibration.md explains each step and its figures.
The calibration phase (imu/pipeline/calibration_phase.py) decides when to try it; the still-period path in
imu/pipeline/calibration.py stays the preferred one.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from imu.pipeline.angles import body_matrix_entries, heading_deg, up_in_sensor
from imu.pipeline.buffers import GrowingArray
from imu.pipeline.calibration import forward_from_bend, mounting_name, rotation_from_axes
from imu.text import plural
from imu.units import STANDARD_GRAVITY_M_S2

START_TILT_S = 2.0
"""The tilt at the start of a run without a still period is the gravity of its first this
many seconds (:func:`initial_gravity`): the fitted start tilt of each stretch
(:func:`gyro_bias_from_motion`) and the scout orientation of the movement attempts
(imu/pipeline/calibration_phase.py)."""


@dataclass(frozen=True)
class MovementSettings:
    """How calibration is taken from the reps when the recording has no still period."""

    min_rows: int = 10
    """Fewer rows than this cannot be calibrated at all (the message says so)."""
    step_s: float = 0.5
    """Attempts are made when the stream passes each multiple of this after its first row
    (s), on the rows up to that time (so the outcome does not depend on chunking)."""
    window_s: float = 40.0
    """Each attempt looks at most this far back (s)."""
    min_excursions: int = 2
    """Excursions (out to depth and back) needed before the end of the stream; at the end
    one is enough."""
    min_excursion_deg: float = 20.0
    """An excursion moves the trunk at least this far about the flexion axis (deg)."""
    turning_axis_cos: float = math.cos(math.radians(60.0))
    """A principal axis of rotation closer than 60 deg to the vertical (cos of it) is
    mixed with walking or turning round: the flexion axis is then taken from the rotation
    about horizontal axes alone (:func:`calibrate_from_movement`). The demo's walking
    turns about an axis 1-13 deg from the vertical; a set of reps (seed 1010, mid-rep)
    66-90 deg, and no outcome of ``bench_realistic.py --quick`` changed with this rule."""
    moving_deg_s: float = 15.0
    """Samples rotating faster than this define the flexion axis (deg/s)."""
    max_gyro_bias_deg_s: float = 30.0
    """A bias estimate larger than this is not trusted (the fusion then corrects alone)."""
    dwell_deg_s: float = 20.0
    """Near a rep's top, rows bending slower than this are where the lifter dwells (deg/s)."""
    settle_gap_s: float = 0.1
    """Slow rows near a rep's top that follow each other within this (s) are one stretch;
    the last stretch before the next descent is the posture the lifter settled in (a
    lean back at lockout, 11-17 deg in the simulator, slows at its extreme too, then
    comes back)."""
    refine_tops: int = 5
    """Once this many rep tops are seen after calibrating from the movement, it is taken
    again from all of them (the median of more tops), for the rows that follow."""
    max_refine_deg: float = 20.0
    """A refinement that would turn the body axes further than this (deg; e.g. the other
    flexion sign) is not taken."""
    top_agree_deg: float = 5.0
    """Two rep tops this close give the upright posture; if the first two differ more
    (one rep hyperextended, say), a third decides (median). The tops within this of the
    median are averaged."""
    bias_prior_deg_s: float = 5.0
    """Spread of gyroscope biases expected before any data (deg/s; data sheets: a few)."""
    height_m_per_rad: float = 0.12
    """Drop of the sensor per radian of bend that counts as clear evidence of which end
    is bent (m/rad; a deadlift from the floor drops ~0.2-0.4, a hip hinge barely)."""
    lever_m_per_rad: float = 0.1
    """A drop or rise of the sensor at depth smaller than this (m/rad) says nothing about
    which end is bent: the sensor sits on the back, ~8-14 cm behind the hip joint centre,
    so a pure hinge about the hips *raises* it by up to that depth per radian (most at
    the start of the bend), while bent knees lower it. Only the drop beyond this counts
    as ``height`` evidence (a squat drops 0.5-1 m/rad, a deadlift from the floor 0.2-0.4;
    a Romanian deadlift's 0.03-0.15 either way is the lever and the knees)."""
    standing_units_per_s: float = 1.0
    """A window that begins the recording with the lifter quiet at one end of the bends
    for ``standing_s`` or more is evidence that this end is upright, this many units per
    second of it (at most 1; :func:`_standing_score`)."""
    lordosis_deg: float = 10.0
    """Expected tilt of a strapped sensor's axis into the bend at upright (deg)."""
    axes_deg: float = 15.0
    """Difference in fit of the strapping (deg) that counts as clear evidence."""
    standing_s: float = 0.3
    """A recording that begins with the lifter standing quietly this long (s) at the
    upright end of the reps takes upright from there, not from the rep tops (a lockout may
    be hyperextended: the fault the product looks for), unless that stance leans back
    further than the tops by more than ``top_agree_deg`` (a lockout is at least as
    extended as a neutral stance)."""
    standing_deg_s: float = 10.0
    """Standing quietly: the trunk turns slower than this (deg/s, bias-corrected) ..."""
    standing_acc_m_s2: float = 0.5
    """... and the acceleration's norm is within this of the part's g at rest (m/s^2;
    :func:`resting_norm_m_s2`: a part whose scale is 10 % off reads ~1 m/s^2 off 9.81)."""


@dataclass(frozen=True)
class MovementResult:
    """Calibration from the reps: ``rotation_bs`` (rows = body axes in sensor axes)."""

    rotation_bs: np.ndarray
    top_row: int
    """Row (of the rows given) of the top of a rep whose posture is the upright reference."""
    n_excursions: int
    quality: float
    sign_from: str
    """What fixed the flexion sign: ``"mounting"``, ``"height"`` (the segment is lower at
    depth), ``"axes"`` (a sensor axis is nearer to vertical at the tops), both, or
    ``""``: neither (the two disagree at full strength; the sign is a guess)."""
    n_tops: int = 0
    """Rep tops found (the upright posture is taken from them unless ``upright`` says
    otherwise)."""
    upright: str = "rep_tops"
    """Where upright was taken: ``"rep_tops"`` (where the lifter dwells at the tops of the
    reps: the lockout posture) or ``"standing"`` (standing quietly before the first rep)."""
    drop_m_per_rad: float = math.nan
    """How much lower the sensor is at the bent end, per radian of bend (m/rad; the
    ``height`` evidence; NaN when ``--mounting`` fixed the sign): a squat drops ~0.5-1,
    a deadlift from the floor 0.2-0.4, a lean back about nothing."""
    mounting_off_deg: float = math.nan
    """With ``--mounting``: the angle (deg) between the upright taken and the mounting's
    z axis when that axis is clearly nearer the bent end of the reps (the mounting's x
    and y look reversed: the flexion sign contradicts it); NaN otherwise."""


MOUNTING_UP_DEG = 30.0
"""With ``--mounting``, an upright this far (deg) from the mounting's z axis, while the
bent end of the reps is at least :data:`MOUNTING_CLEARER_DEG` nearer to it, contradicts
the mounting: a strap tilts the sensor 5-20 deg from its named axes (plus the lordosis
``lordosis_deg``), a hinge bends 30 deg and more."""
MOUNTING_CLEARER_DEG = 15.0


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def moving_average(values: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` rows (edges use the rows there are; at most all)."""
    n = min(n, len(values))
    if n <= 1:
        return values
    kernel = np.ones(n)
    counts = np.convolve(np.ones(len(values)), kernel, mode="same")
    if values.ndim == 1:
        return np.convolve(values, kernel, mode="same") / counts
    return np.column_stack(
        [np.convolve(values[:, k], kernel, mode="same") / counts for k in range(values.shape[1])]
    )


def _derivative(values: np.ndarray, time_s: np.ndarray, k: int) -> np.ndarray:
    """d(values)/dt over +-``k`` rows (at the ends, the rows there are), not between
    neighbours: BLE host time stamps jitter by up to a connection interval, so two
    neighbours' stamps can be ~0 apart and their difference quotient is noise (it hid the
    segment's drop: 0.004 m/rad on a 200 Hz gym file, 0.13 with even time steps)."""
    rows = np.arange(len(values))
    lo, hi = np.maximum(rows - k, 0), np.minimum(rows + k, len(values) - 1)
    span = time_s[hi] - time_s[lo]
    return (values[hi] - values[lo]) / np.where(span > 0, span, np.inf)


def gyro_bias_from_motion(
    rows: np.ndarray, settings: MovementSettings = MovementSettings(), iterations: int = 3
) -> tuple[np.ndarray, np.ndarray] | None:
    """Gyroscope bias (deg/s) and the gravity direction at the first row (sensor axes),
    from moving data: the bias and starting tilt with which the gyroscope alone best
    carries gravity through the accelerometer's readings.

    Over seconds of lifting, the trunk's own acceleration averages out (its velocity
    comes back to zero), while a bias turns the integrated orientation further and
    further: a weighted least-squares fit (Gauss-Newton, derivatives by finite
    differences of the same integration) of the bias and the first row's tilt to the
    measured acceleration directions, weighted down where the acceleration norm is far
    from g. The integration is the orientation kernel with gain 0 (gyroscope only).
    Returns None if fewer than 20 rows or the bias exceeds ``max_gyro_bias_deg_s``.
    ``rows``: (n, 7) ``[time_s, acc m/s^2, gyr deg/s]``, accepted rows in time order.
    """
    from imu.pipeline.orientation import Orientation, OrientationSettings

    n = len(rows)
    if n < 20:
        return None
    acc, gyr = rows[:, 1:4], rows[:, 4:7]
    dt = np.diff(rows[:, 0], prepend=rows[0, 0])
    rate_hz = float(1.0 / np.median(dt[1:]))
    if not math.isfinite(rate_hz) or rate_hz <= 0:
        return None
    norm = np.linalg.norm(acc, axis=1)
    measured = acc / norm[:, None]
    weight = 1.0 / (1.0 + ((norm - STANDARD_GRAVITY_M_S2) / 0.5) ** 2)
    skip = np.zeros(n, dtype=bool)
    # each stretch between gaps (longer than 3 steps) starts again with its own tilt
    restart = dt > 3.0 * float(np.median(dt[1:]))
    restart[0] = True
    starts = np.flatnonzero(restart)
    segment = np.cumsum(restart) - 1
    gyro_only = OrientationSettings(
        gain=0.0, acceleration_rejection_deg=0.0, rejection_timeout_s=0.0,
        gyroscope_range_deg_s=0.0, bias_threshold_deg_s=0.0, bias_period_s=0.0,
    )  # fmt: skip

    def carried(bias: np.ndarray, gravity: np.ndarray) -> np.ndarray:
        """Gravity carried by the gyroscope from each stretch's first row (tilt ``gravity``)."""
        start_acc = acc.copy()
        start_acc[starts] = gravity
        orientation = Orientation(gyro_only, rate_hz, np.zeros(3), None)
        quats = orientation.update(start_acc, gyr - bias, dt, skip, restart)
        return up_in_sensor(quats)

    bias = np.zeros(3)
    gravity = np.array([initial_gravity(rows[k:], bias, START_TILT_S) for k in starts])
    gravity /= np.linalg.norm(gravity, axis=1)[:, None]
    n_seg = len(starts)
    sqrt_w = np.sqrt(weight)
    for _ in range(iterations):
        base = carried(bias, gravity)
        residual = (measured - base) * sqrt_w[:, None]
        columns = []
        for k in range(3):
            step = np.zeros(3)
            step[k] = 0.1
            columns.append((carried(bias + step, gravity) - base) / 0.1)
        # two directions across each stretch's gravity, all stretches perturbed at once
        helper = np.where(np.abs(gravity[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        first = np.cross(gravity, helper)
        first /= np.linalg.norm(first, axis=1)[:, None]
        second = np.cross(gravity, first)
        tilt_columns = []
        for direction in (first, second):
            tilted = gravity + 0.01 * direction
            tilted /= np.linalg.norm(tilted, axis=1)[:, None]
            tilt_columns.append((carried(bias, tilted) - base) / 0.01)
        # normal equations: the bias columns touch every row, each stretch's two tilt
        # columns only its own rows (block structure, summed per stretch)
        jb = np.stack(columns, axis=2) * sqrt_w[:, None, None]  # (n, 3, 3)
        jt = np.stack(tilt_columns, axis=2) * sqrt_w[:, None, None]  # (n, 3, 2)
        size = 3 + 2 * n_seg
        normal = np.zeros((size, size))
        rhs = np.zeros(size)
        normal[:3, :3] = np.einsum("nij,nik->jk", jb, jb)
        rhs[:3] = np.einsum("nij,ni->j", jb, residual)
        cross_bt = np.zeros((n_seg, 3, 2))
        np.add.at(cross_bt, segment, np.einsum("nij,nik->njk", jb, jt))
        tilt_tt = np.zeros((n_seg, 2, 2))
        np.add.at(tilt_tt, segment, np.einsum("nij,nik->njk", jt, jt))
        tilt_r = np.zeros((n_seg, 2))
        np.add.at(tilt_r, segment, np.einsum("nij,ni->nj", jt, residual))
        for k in range(n_seg):
            cols = slice(3 + 2 * k, 5 + 2 * k)
            normal[:3, cols] = cross_bt[k]
            normal[cols, :3] = cross_bt[k].T
            normal[cols, cols] = tilt_tt[k] + 1e-9 * np.eye(2)
            rhs[cols] = tilt_r[k]
        # a weak prior pulls the bias towards 0 (sigma ``bias_prior_deg_s``): short or
        # one-plane movement leaves some of its components badly determined
        noise = float(np.sum(residual**2)) / max(1.0, float(np.sum(weight)))
        prior = noise / settings.bias_prior_deg_s**2
        normal[:3, :3] += prior * np.eye(3)
        rhs[:3] -= prior * bias
        solution = np.linalg.solve(normal + 1e-9 * np.eye(size), rhs)
        if not np.all(np.isfinite(solution)):
            return None
        bias = bias + solution[:3]
        tilt = solution[3:].reshape(n_seg, 2)
        gravity = gravity + tilt[:, :1] * first + tilt[:, 1:] * second
        gravity /= np.linalg.norm(gravity, axis=1)[:, None]
    gravity = gravity[0]
    if float(np.linalg.norm(bias)) > settings.max_gyro_bias_deg_s:
        return None
    return bias, gravity


def initial_gravity(
    rows: np.ndarray, gyro_bias_deg_s: np.ndarray, span_s: float = 4.0
) -> np.ndarray:
    """Gravity direction (specific force, sensor axes) at the first of ``rows``: every
    acceleration of the first ``span_s`` carried back to the first sample's axes with the
    bias-corrected gyroscope, then averaged (the trunk's own acceleration averages out
    over a rep; the first sample alone may be mid-pull). ``rows`` (n, 7) as above."""
    stop = int(np.searchsorted(rows[:, 0], rows[0, 0] + span_s, side="right"))
    rows = rows[: max(stop, 1)]
    rates = np.radians(rows[:-1, 4:7] - gyro_bias_deg_s) * np.diff(rows[:, 0])[:, None]
    rotation = np.eye(3)
    total = rows[0, 1:4].copy()
    for k, step in enumerate(rates):
        angle = float(np.linalg.norm(step))
        if angle > 1e-12:
            x, y, z = step / angle
            skew = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
            rotation = rotation @ (
                np.eye(3) + math.sin(angle) * skew + (1 - math.cos(angle)) * skew @ skew
            )
        total += rotation @ rows[k + 1, 1:4]
    return total / len(rows)


def _axes_score(
    phi: np.ndarray, up: np.ndarray, e1: np.ndarray, e2: np.ndarray, settings: MovementSettings
) -> float:
    """How much better (deg) "upright at the low end of ``phi``" fits a sensor strapped
    with its axes along the belt than "upright at the high end" (> 0: the low end).

    Strapped flat on the lower back, one sensor axis lies (nearly) in the plane of the
    bend and points along the trunk, tilted into the bend by the lordosis of the lower
    back (``lordosis_deg``, a few to 20 deg): it is vertical at a slight flexion, not
    at depth. For each reading, the in-plane sensor axis nearest that expectation."""
    lo, hi = float(np.min(phi)), float(np.max(phi))
    low_end = np.mean(up[phi < lo + 0.1 * (hi - lo)], axis=0)
    high_end = np.mean(up[phi > hi - 0.1 * (hi - lo)], axis=0)
    ends = [math.degrees(math.atan2(v @ e2, v @ e1)) for v in (low_end, high_end)]
    positions = []
    for axis in np.eye(3):
        inplane = math.hypot(axis @ e1, axis @ e2)
        if inplane > 0.8:  # within ~35 deg of the plane of the bend
            angle = math.degrees(math.atan2(axis @ e2, axis @ e1))
            positions += [angle, angle + 180.0]
    if not positions:
        return 0.0

    def misfit(start: float, direction: float) -> float:
        offsets = [((direction * (p - start) + 180.0) % 360.0) - 180.0 for p in positions]
        return min(abs(o - settings.lordosis_deg) for o in offsets)

    return misfit(ends[1], -1.0) - misfit(ends[0], 1.0)


def calibrate_from_movement(
    rows: np.ndarray,
    up_sensor: np.ndarray,
    gyro_bias_deg_s: np.ndarray,
    settings: MovementSettings,
    *,
    final: bool,
    known_rotation: np.ndarray | None = None,
    begins_recording: bool = False,
) -> MovementResult | str:
    """Body axes from repeated bends, without a still period; a reason (str) if not yet.

    ``rows`` (n, 7) are accepted samples ``[time_s, acc, gyr]``, ``up_sensor`` (n, 3) the
    fused world up direction in sensor axes at each of them (an AHRS run with
    ``gyro_bias_deg_s``).

    1. Flexion axis: the principal axis of the bias-corrected rotation while the sensor
       turns faster than ``moving_deg_s`` (reps turn about one axis); if it lies near the
       vertical (``turning_axis_cos``: walking, turning round), that of the rotation about
       horizontal axes alone. Its share of the
       rotation (largest eigenvalue / sum) is the axis quality.
    2. Position on the arc: the angle of ``up_sensor`` about that axis. Excursions are
       moves of at least ``min_excursion_deg`` away from one end and back.
    3. Which end is upright (the sign of flexion): the trunk is bent at depth, and there
       the lumbar segment is lower (the hips go down and back): the vertical acceleration
       of the sensor goes against the second derivative of the bend (``height``; only
       the drop beyond ``lever_m_per_rad``: a hinge about the hips raises a sensor
       strapped behind them). Independently, a sensor strapped to a belt has an axis near
       the vertical when the lifter stands, not at depth (``axes``); and with
       ``begins_recording`` (the rows are the recording's first), a quiet start at one
       end is the lifter standing there (``standing``). They are scored and summed; the
       quality follows the sum (full from one clear unit of it, e.g. 0.12 m/rad of drop
       beyond the lever or 15 deg of fit). ``known_rotation`` (``--mounting``) settles it.
    4. Upright: the median of the tops of the excursions (the least-flexed posture the
       lifter keeps coming back to); forward: the direction the up vector moves at depth
       (:func:`forward_from_bend`).
    """
    finite = np.isfinite(up_sensor).all(axis=1) & np.isfinite(rows).all(axis=1)
    if not finite.all():  # (rows before the orientation's first start)
        keep = np.flatnonzero(finite)
        result = calibrate_from_movement(
            rows[keep], up_sensor[keep], gyro_bias_deg_s, settings,
            final=final, known_rotation=known_rotation, begins_recording=begins_recording,
        )  # fmt: skip
        if isinstance(result, str):
            return result
        return dataclasses.replace(result, top_row=int(keep[result.top_row]))
    cal = settings
    n = len(rows)
    if n < cal.min_rows:
        return f"only {n} samples"
    time_s = rows[:, 0]
    rate = np.radians(rows[:, 4:7] - gyro_bias_deg_s)
    speed = np.degrees(np.linalg.norm(rate, axis=1))
    moving = speed > cal.moving_deg_s
    if moving.sum() < 5:
        return "the trunk hardly moves"
    scatter = rate[moving].T @ rate[moving]
    values, vectors = np.linalg.eigh(scatter)
    axis = vectors[:, 2]
    mean_up = np.sum(up_sensor, axis=0)
    if abs(float(axis @ mean_up)) > cal.turning_axis_cos * float(np.linalg.norm(mean_up)):
        # a bend turns the trunk about a horizontal axis: an axis this near the vertical is
        # the lifter walking or turning round (the up vector's small wobble about it looked
        # like bends of 20 deg and more); the axis of the rotation about horizontal axes
        # (each row's turning about its fused up left out) is the flexion axis
        rate = rate - np.sum(rate * up_sensor, axis=1)[:, None] * up_sensor
        moving = np.degrees(np.linalg.norm(rate, axis=1)) > cal.moving_deg_s
        if moving.sum() < 5:
            return "the trunk turns about the vertical only (walking, turning round)"
        values, vectors = np.linalg.eigh(rate[moving].T @ rate[moving])
        axis = vectors[:, 2]
    axis_share = float(values[2] / max(values.sum(), 1e-12))
    if known_rotation is not None:
        axis = known_rotation[1]  # the body y axis of the mounting
    # arc coordinate: angle of up about the axis, from the mean direction
    planar = up_sensor - np.outer(up_sensor @ axis, axis)
    centre = np.sum(planar, axis=0)
    if np.linalg.norm(centre) < 1e-9:
        return "no consistent bend"
    e1 = centre / np.linalg.norm(centre)
    e2 = np.cross(axis, e1)
    phi = np.degrees(np.arctan2(planar @ e2, planar @ e1))
    lo, hi = float(np.min(phi)), float(np.max(phi))
    if hi - lo < cal.min_excursion_deg:
        return f"no bend of {cal.min_excursion_deg:g} deg"
    # derivatives over +-0.15 s of rows (:func:`_derivative`: BLE stamps jitter)
    k = max(1, round(0.15 / float(np.median(np.diff(time_s)))))
    quiet_end = _quiet_start(rows, speed, cal)  # the first rows quiet (standing?)
    # which end is upright
    if known_rotation is not None:
        # bending moves up towards -x (body): phi grows into the bend if e2 . (-x) > 0
        bend_sign = 1.0 if float(np.dot(e2, -known_rotation[0])) > 0 else -1.0
        sign_from, sign_quality, drop_m_per_rad = "mounting", 1.0, math.nan
    else:
        # up turns by -w about the axis as the sensor turns by w: d(phi)/dt = -w . axis
        phi_rate = moving_average(-np.degrees(rate @ axis), k)
        phi_acc = _derivative(phi_rate, time_s, k)
        vertical = moving_average(
            np.sum(rows[:, 1:4] * up_sensor, axis=1) - STANDARD_GRAVITY_M_S2, k
        )
        # height: vertical acceleration = -k x d2(phi)/dt2, k (m/rad) > 0 if the segment is
        # lower where phi is larger
        rad_acc = np.radians(phi_acc)
        slope_m_rad = -float(np.sum(vertical * rad_acc)) / (float(np.sum(rad_acc**2)) + 1e-12)
        height_score = (
            math.copysign(max(0.0, abs(slope_m_rad) - cal.lever_m_per_rad), slope_m_rad)
            / cal.height_m_per_rad
        )
        axes_score = _axes_score(phi, up_sensor, e1, e2, cal) / cal.axes_deg
        standing_score = _standing_score(rows, quiet_end, phi, cal) if begins_recording else 0.0
        scores = (("height", height_score), ("axes", axes_score), ("standing", standing_score))
        votes = [s for _, s in scores if abs(s) > 0.05]
        if not votes:
            return "cannot tell upright from bent yet"
        total = float(np.clip(height_score, -2, 2) + np.clip(axes_score, -2, 2) + standing_score)
        bend_sign = 1.0 if total > 0 else -1.0
        drop_m_per_rad = bend_sign * slope_m_rad
        sign_from = "+".join(
            name for name, s in scores if abs(s) > 0.05 and np.sign(s) == np.sign(total)
        )
        # weak or conflicting evidence (|total| < 1) lowers the quality in proportion: on
        # the simulator every wrong sign had |total| < 0.5 (1 in 10 right ones too)
        sign_quality = min(1.0, max(0.05, abs(total)))
    flex = bend_sign * phi  # grows into the bend
    flex = flex - float(np.min(flex))
    span = float(np.max(flex))
    deep, back = 0.6 * span, 0.25 * span
    # excursions: hysteresis between back and deep; a top is the least flexed row
    # between two deep phases (or before the first / after the last one) that is a
    # turning point, not the first or last row (a recording may start or stop mid-pull)
    tops: list[tuple[int, int, int]] = []  # (least flexed row, segment start, end)
    n_exc, deep_now, best, seg_start = 0, bool(flex[0] > back), 0, 0
    for i, value in enumerate(flex):
        if deep_now:
            if value < back:
                n_exc += 1
                deep_now, best, seg_start = False, i, i
        else:
            if value < flex[best]:
                best = i
            if value > deep:
                if 0 < best and flex[best] < back:
                    tops.append((best, seg_start, i))
                deep_now = True
    if not deep_now and 0 < best < n - 1 and flex[best] < back:
        tops.append((best, seg_start, n))
    if not tops and not deep_now and flex[best] < back:
        tops.append((best, seg_start, n))
    need = 1 if final else cal.min_excursions
    if n_exc < need or span < cal.min_excursion_deg or not tops:
        return f"{plural(n_exc, 'bend')} of {cal.min_excursion_deg:g} deg so far"
    # each top's posture: where the lifter settles near the top (the last stretch of slow
    # rows in the lowest quarter of the span before the next descent), not the extreme
    # of a lean back at lockout nor the way back from it
    flex_rate = np.abs(_derivative(flex, time_s, k))
    dwell_rows = []
    for best, lo_row, hi_row in tops:
        rows_in = np.arange(lo_row, hi_row)
        slow = rows_in[(flex[rows_in] < back) & (flex_rate[rows_in] < cal.dwell_deg_s)]
        settled = _last_stretch(slow, time_s, cal.settle_gap_s)
        dwell_rows.append(settled if slow.size else np.array([best]))
    top_values = np.array([float(np.median(flex[r])) for r in dwell_rows])
    if not final and (
        len(tops) < 2 or (len(tops) == 2 and abs(top_values[1] - top_values[0]) > cal.top_agree_deg)
    ):
        return f"{plural(len(tops), 'rep top')} so far"
    median = float(np.median(top_values))
    chosen = [k for k, v in enumerate(top_values) if abs(v - median) <= cal.top_agree_deg]
    chosen = chosen or list(range(len(tops)))
    rows_up = np.concatenate([dwell_rows[k] for k in chosen])
    top_row = int(rows_up[np.argmin(np.abs(flex[rows_up] - median))])
    standing = _standing_start(rows, quiet_end, flex, back, cal)
    if standing is not None and np.median(flex[standing]) < median - cal.top_agree_deg:
        standing = None  # leaning back further than the lockouts: not a neutral stance
    if standing is not None:
        rows_up, top_row = standing, int(standing[-1])
    up = np.sum(up_sensor[rows_up], axis=0)
    up /= np.linalg.norm(up)
    in_bend = flex > deep
    forward, consistency = forward_from_bend(up_sensor[in_bend], up)
    mounting_off_deg = math.nan
    if known_rotation is not None:
        forward = known_rotation[0]
        off_deg = _angle_deg(up, known_rotation[2])
        bent_deg = _angle_deg(np.sum(up_sensor[in_bend], axis=0), known_rotation[2])
        if off_deg > MOUNTING_UP_DEG and bent_deg + MOUNTING_CLEARER_DEG < off_deg:
            mounting_off_deg = round(off_deg, 1)
    rotation = rotation_from_axes(up, forward)
    quality = axis_share * sign_quality * min(1.0, consistency) * min(1.0, 0.5 + 0.25 * n_exc)
    return MovementResult(
        rotation, int(top_row), n_exc, round(quality, 3), sign_from, len(tops),
        "rep_tops" if standing is None else "standing", drop_m_per_rad, mounting_off_deg,
    )  # fmt: skip


RESTING_NORM_TOLERANCE_M_S2 = 2.0
"""The part's own g (:func:`resting_norm_m_s2`) is believed this far (m/s^2) from the
standard g: a data sheet's sensitivity error and zero-g offset, 1.76 m/s^2 at most
together (``CalibrationSettings.still_gravity_tolerance_m_s2``, the same reasoning)."""


def resting_norm_m_s2(norm: np.ndarray, slow: np.ndarray) -> float:
    """The acceleration norm (m/s^2) this part reads at rest: the median over the rows
    where the trunk turns slowly (``slow``: lockouts, pauses, standing), if within
    :data:`RESTING_NORM_TOLERANCE_M_S2` of g; else (or without slow rows) g.

    Tests of "the acceleration is near g" (quiet standing) compare the norm with this,
    not with 9.81: an uncalibrated accelerometer reads g up to 10 % high or low (an
    ADXL345: 230-282 LSB/g around 256), so a lifter standing still read 10.8 m/s^2 and
    failed a 0.5 m/s^2 test of quiet standing; the trunk's own accelerations stay as
    visible against the part's g as against the true one."""
    if not np.any(slow):
        return STANDARD_GRAVITY_M_S2
    median = float(np.median(norm[slow]))
    if abs(median - STANDARD_GRAVITY_M_S2) > RESTING_NORM_TOLERANCE_M_S2:
        return STANDARD_GRAVITY_M_S2
    return median


def _last_stretch(rows: np.ndarray, time_s: np.ndarray, gap_s: float) -> np.ndarray:
    """The last run of ``rows`` (increasing row numbers) in which no two neighbours are
    more than ``gap_s`` apart in time."""
    split = np.flatnonzero(np.diff(time_s[rows]) > gap_s)
    return rows[split[-1] + 1 :] if split.size else rows


def quiet_rows(
    norm: np.ndarray, speed: np.ndarray, standing_deg_s: float, standing_acc_m_s2: float
) -> np.ndarray:
    """Which rows are quiet standing: the trunk turns slower than ``standing_deg_s``
    (``speed``, deg/s) and the acceleration's ``norm`` is within ``standing_acc_m_s2`` of
    the part's g at rest (:func:`resting_norm_m_s2`)."""
    slow = speed < standing_deg_s
    return slow & (np.abs(norm - resting_norm_m_s2(norm, slow)) < standing_acc_m_s2)


def _quiet_start(rows: np.ndarray, speed: np.ndarray, cal: MovementSettings) -> int:
    """How many first rows are quiet (:func:`quiet_rows`)."""
    norm = np.linalg.norm(rows[:, 1:4], axis=1)
    quiet = quiet_rows(norm, speed, cal.standing_deg_s, cal.standing_acc_m_s2)
    moving = np.flatnonzero(~quiet)
    return int(moving[0]) if moving.size else len(rows)


def _standing_start(
    rows: np.ndarray, end: int, flex: np.ndarray, back: float, cal: MovementSettings
) -> np.ndarray | None:
    """The first rows, if the recording begins with the lifter standing quietly (the
    first ``end`` rows, :func:`_quiet_start`) for ``standing_s`` at the upright end of the
    bends (below ``back``)."""
    if end < 2 or rows[end - 1, 0] - rows[0, 0] < cal.standing_s or np.max(flex[:end]) >= back:
        return None
    return np.arange(end)


def _standing_score(rows: np.ndarray, end: int, phi: np.ndarray, cal: MovementSettings) -> float:
    """Evidence (units, > 0: the low end of ``phi`` is upright) from a quiet start (the
    first ``end`` rows, :func:`_quiet_start`): a
    recording that begins with the sensor quiet for at least ``standing_s`` at one end of
    the bends began with the lifter standing there, ``standing_units_per_s`` units per
    second of it (at most 1). Nobody holds a hinge still before a set; the one bent hold
    that starts recordings, the set-up at a bar on the floor, comes with a clear drop of
    the segment (``height``, up to 2 units)."""
    if cal.standing_units_per_s <= 0:
        return 0.0
    duration = float(rows[end - 1, 0] - rows[0, 0]) if end >= 2 else 0.0
    if duration < cal.standing_s:
        return 0.0
    lo, hi = float(np.min(phi)), float(np.max(phi))
    where = float(np.median(phi[:end]))
    units = min(1.0, cal.standing_units_per_s * duration)
    if where < lo + 0.25 * (hi - lo):
        return units
    if where > hi - 0.25 * (hi - lo):
        return -units
    return 0.0


UPRIGHT_WORDS = {
    "standing": "standing quietly before the first rep",
    "rep_tops": "the tops of the reps",
}
"""How a calibration from the movement names where upright was taken."""


@dataclass
class Refined:
    """A refined calibration from the movement (see :meth:`Refinement.at_mark`)."""

    event: dict
    rotation_bs: np.ndarray
    heading_ref: float
    movement: MovementResult | None
    """None: revised from walking (imu/pipeline/upright_check.py), not from the reps."""


class Refinement:
    """After calibrating from the movement: at each later mark (``mark``, s) until it is
    taken or ``window_s`` has passed, once ``refine_tops`` rep tops are in, calibration is
    taken again from all rows so far, for the rows after the mark; what was reported stays.

    The engine feeds the accepted, measured rows (:meth:`append`) and calls
    :meth:`at_mark` when the stream passes :attr:`mark`; the engine's rows after it use
    the result. ``mark`` is ``inf`` once it is over.
    """

    def __init__(
        self,
        settings: MovementSettings,
        gyro_bias_deg_s: np.ndarray,
        known_rotation: np.ndarray | None,
        first_mark_s: float,
        until_s: float,
    ) -> None:
        self.settings = settings
        self.mark = first_mark_s
        self._until = until_s
        self._bias = gyro_bias_deg_s
        self._known_rotation = known_rotation
        self._rows: GrowingArray | None = GrowingArray(7)
        self._quats: GrowingArray | None = GrowingArray(4)

    def append(self, samples: np.ndarray, quats: np.ndarray) -> None:
        """Accepted rows (m, 7) and their quaternions (m, 4), in order."""
        if self._rows is not None:
            self._rows.append(samples)
            self._quats.append(quats)

    def at_mark(
        self, rotation_bs: np.ndarray, heading_ref: float, calibration: dict
    ) -> Refined | None:
        """The stream passed :attr:`mark`: the refined calibration, if it changed by more
        than 0.5 deg (and by at most ``max_refine_deg``); ``rotation_bs``, ``heading_ref``
        and ``calibration`` are the ones in use."""
        mv = self.settings
        mark = self.mark
        self.mark = mark + mv.step_s if mark + mv.step_s <= self._until else math.inf
        rows = self._rows.array
        stop = int(np.searchsorted(rows[:, 0], mark, side="right"))
        first = int(np.searchsorted(rows[:stop, 0], mark - mv.window_s, side="left"))
        quats = self._quats.array[first:stop]
        result = calibrate_from_movement(
            rows[first:stop], up_in_sensor(quats), self._bias, mv,
            final=False, known_rotation=self._known_rotation, begins_recording=first == 0,
        )  # fmt: skip
        if isinstance(result, str) or result.n_tops < mv.refine_tops:
            if self.mark == math.inf:  # that was the last mark: the rows go
                self._rows = self._quats = None
            return None
        self.mark = math.inf  # once
        self._rows = self._quats = None
        change = (np.trace(result.rotation_bs @ rotation_bs.T) - 1.0) / 2.0
        change_deg = math.degrees(math.acos(max(-1.0, min(1.0, change))))
        if change_deg <= 0.5 or change_deg > mv.max_refine_deg:
            return None  # (a larger change is not a refinement: the first estimate stays)
        last = quats[-1:]
        twist = float(heading_deg(body_matrix_entries(last, rotation_bs))[0]) - heading_ref
        heading = float(heading_deg(body_matrix_entries(last, result.rotation_bs))[0])
        name, misalignment = mounting_name(result.rotation_bs)
        event = {
            **calibration,
            "quality": result.quality,
            "message": (
                f"calibration refined from the movement ({result.n_tops} rep tops; upright = "
                f"{UPRIGHT_WORDS[result.upright]}): body axes "
                f"turned by {change_deg:.1f} deg; angles from then on use it, earlier "
                "ones stay as reported"
            ),
            "mounting": name,
            "mounting_misalignment_deg": round(misalignment, 2),
            "time_s": mark,
            "upright": result.upright,
            "refined": True,
        }
        # twist goes on where it was
        return Refined(event, result.rotation_bs, heading - twist, result)
