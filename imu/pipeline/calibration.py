"""Sensor-to-body calibration: gyroscope bias, vertical and forward axes.

The lifter stands still ~2 s at the start. During that still period:

- the mean gyroscope reading is the gyroscope bias (deg/s),
- the mean accelerometer direction is the body's up axis ``z_b`` in sensor coordinates.

The forward axis comes from the first forward bend: while the trunk flexes forward by
``theta`` about body +y, the world's up direction seen from the body moves towards
body -x (``u_b = (-sin theta, 0, cos theta)``). So the horizontal part (perpendicular
to ``z_b``) of the fused up direction during the first bend deeper than ``bend_deg``
points along -x_b. This fixes both the medio-lateral axis and the sign of flexion
without any action from the user. With an explicit mounting (``--mounting``) no bend is
needed: its x axis, made perpendicular to the measured vertical, is used.

Rotations here are 3x3 arrays ``R_bs`` whose rows are the body axes (x anterior,
y left, z up; docs/coordinates.md) expressed in sensor coordinates, so that
``v_body = R_bs @ v_sensor``. Sums use :func:`math.fsum` so the result does not depend
on how the samples were chunked.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np

from imu.errors import input_error
from imu.pipeline.buffers import GrowingArray
from imu.units import STANDARD_GRAVITY_M_S2

UNCERTAIN_QUALITY = 0.5
"""Below this calibration quality the forward axis was assumed (0.3 x the still period's
quality) or came from a twisted bend (0.5 x its consistency): reps may be missed and
flexion may be inverted, so the commands that measure a session warn and point to
``--mounting``."""

_AXES = {
    "X": np.array([1.0, 0.0, 0.0]),
    "Y": np.array([0.0, 1.0, 0.0]),
    "Z": np.array([0.0, 0.0, 1.0]),
}


@dataclass(frozen=True)
class CalibrationSettings:
    """How calibration looks for the still period and the first forward bend."""

    still_s: float = 1.5
    """Length of the still window (s)."""
    still_gyr_std_deg_s: float = 2.0
    """Largest per-axis gyroscope standard deviation in a still window (deg/s)."""
    still_acc_std_m_s2: float = 0.35
    """Largest per-axis accelerometer standard deviation in a still window (m/s^2)."""
    still_gravity_tolerance_m_s2: float = 1.0
    """Largest difference between the mean acceleration norm and g (m/s^2)."""
    max_gyro_bias_deg_s: float = 10.0
    """A still window whose mean rotation rate exceeds this is motion, not bias (deg/s)."""
    still_search_s: float = 60.0
    """Give up (calibration failed) if no still window starts within this time (s)."""
    bend_deg: float = 30.0
    """The first tilt away from the calibrated vertical deeper than this is a forward bend."""
    max_bend_turn_deg: float = 10.0
    """The forward axis comes from the first bend that turns less than this about the
    vertical (a clean hinge, not loading a plate at the side)."""
    max_bend_hold_s: float = 4.0
    """Accelerometer-only replacement of the turn check (no gyroscope): the forward axis
    comes from the first bend that stays deeper than ``bend_deg`` at most this long (s)."""
    bend_search_s: float = 180.0
    """Without a forward bend this long after the still period, assume a forward axis."""
    mode_rows: int = 10
    """The first this many rows with a finite time and acceleration decide the mode: none
    with a gyroscope value = accelerometer-only (docs/calibration.md)."""
    mounting: str | None = None
    """Known mounting (e.g. ``PZPYNX`` or ``+z,+y,-x``): body x, y, z as sensor axes."""
    movement: MovementSettings | None = None
    """Calibration from the reps when there is no still period (None = the defaults of
    :class:`MovementSettings`)."""


def parse_mounting(spec: str) -> np.ndarray:
    """Parse a mounting name into ``R_bs`` (rows = body x, y, z in sensor axes).

    Accepted forms: imufusion alignment names (``PXPYPZ``, ``ALIGNMENT_NZPYPX``: P/N for
    +/-, then the sensor axis giving body x, y, z in turn) and axis lists
    (``+x,-z,+y`` or ``x -z y``). Raises :class:`imu.errors.InputError` for anything
    else, including left-handed combinations.
    """
    text = spec.strip().upper().removeprefix("ALIGNMENT_")
    match = re.fullmatch(r"([PN])([XYZ])([PN])([XYZ])([PN])([XYZ])", text)
    if match:
        parts = [("+" if match[i] == "P" else "-") + match[i + 1] for i in (1, 3, 5)]
    else:
        parts = [p for p in re.split(r"[,\s]+", text) if p]
        if len(parts) != 3 or not all(re.fullmatch(r"[+-]?[XYZ]", p) for p in parts):
            parts = []
    hint = "give body x,y,z as sensor axes, e.g. --mounting PZPYNX or --mounting +z,+y,-x"
    if not parts:
        raise input_error(f"--mounting {spec!r}: not a mounting", hint=hint)
    rows = [(-1.0 if p.startswith("-") else 1.0) * _AXES[p[-1]] for p in parts]
    rotation = np.array(rows)
    if not np.isclose(np.linalg.det(rotation), 1.0):
        raise input_error(f"--mounting {spec!r}: axes are repeated or left-handed", hint=hint)
    return rotation


def mounting_name(rotation_bs: np.ndarray) -> tuple[str, float]:
    """Nearest axis-aligned mounting name (imufusion style) and the angle to it (deg)."""
    best = ("", 180.0)
    for index in np.ndindex(3, 3, 3):
        if len(set(index)) != 3:
            continue
        for signs in np.ndindex(2, 2, 2):
            rows = np.array([(1 - 2 * s) * np.eye(3)[a] for a, s in zip(index, signs, strict=True)])
            if np.linalg.det(rows) < 0:
                continue
            cos = (np.trace(rows.T @ rotation_bs) - 1.0) / 2.0
            angle = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
            if angle < best[1]:
                name = "".join(
                    ("P" if s == 0 else "N") + "XYZ"[a] for a, s in zip(index, signs, strict=True)
                )
                best = (name, angle)
    return best


def _fmean(values: np.ndarray) -> np.ndarray:
    """Exactly rounded column means (independent of chunking and memory layout)."""
    return np.array([math.fsum(column) / len(column) for column in values.T])


def _fstd(values: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.array(
        [
            math.sqrt(math.fsum((column - m) ** 2) / len(column))
            for column, m in zip(values.T, mean, strict=True)
        ]
    )


@dataclass(frozen=True)
class StillPeriod:
    """A still window: rows ``[start, end]`` (inclusive) of the accepted samples."""

    start: int
    end: int
    gyro_bias_deg_s: np.ndarray
    up_sensor: np.ndarray
    quality: float


def check_still(acc: np.ndarray, gyr: np.ndarray, settings: CalibrationSettings) -> float | None:
    """Quality (0.5..1) of a candidate still window, or None if it is not still."""
    acc_mean, gyr_mean = _fmean(acc), _fmean(gyr)
    acc_ratio = float(np.max(_fstd(acc, acc_mean))) / settings.still_acc_std_m_s2
    gyr_ratio = float(np.max(_fstd(gyr, gyr_mean))) / settings.still_gyr_std_deg_s
    norm_error = abs(float(np.linalg.norm(acc_mean)) - STANDARD_GRAVITY_M_S2)
    if (
        acc_ratio > 1.0
        or gyr_ratio > 1.0
        or norm_error > settings.still_gravity_tolerance_m_s2
        or float(np.linalg.norm(gyr_mean)) > settings.max_gyro_bias_deg_s
    ):
        return None
    return 1.0 - 0.5 * max(acc_ratio, gyr_ratio)


class StillSearch:
    """The first still window in a stream of accepted rows, however the rows arrive.

    A window ends at each row whose time is at most ``still_search_s + still_s`` after the
    first row's; it reaches back to the last row at least ``still_s`` earlier and holds at
    least 5 rows. Windows are taken in order of their last row; the first one that
    :func:`check_still` accepts on its exact rows is the still period (:attr:`found`).

    Most windows are screened out by running sums: per row, the sums of the offsets from
    the first row and of their squares, accumulated one row after the other (so the same
    numbers for any chunking). The screen passes every window within 1.1 x each limit of
    :func:`check_still`, far more than the rounding of the sums, so it never rejects a
    window the exact check would accept; it only spares that check on windows that
    cannot pass. A chunk costs a few array operations; a single row after the first (live
    use) is screened in plain floats (:meth:`_append_one`, the same sums bit for bit).
    """

    def __init__(self, settings: CalibrationSettings) -> None:
        self.settings = settings
        self.found: StillPeriod | None = None
        self.past_search = False
        """A row arrived after the last time a window may end."""
        self._rows = GrowingArray(7)
        self._sums = GrowingArray(12)  # before row k: sums of offsets (6), of squares (6)
        self._sums.append(np.zeros((1, 12)))
        self._last_sums = [0.0] * 12
        self._times: list[float] = []  # of the rows (a plain list: bisected per row)
        self._reference: list[float] = []  # the first row's acc and gyr, offsets' origin
        self._last_end_s = math.inf  # the last time a window may end
        std_limits = [settings.still_acc_std_m_s2] * 3 + [settings.still_gyr_std_deg_s] * 3
        self._variance_limits = (1.1 * np.array(std_limits)) ** 2
        self._variance_list = self._variance_limits.tolist()

    @property
    def rows(self) -> np.ndarray:
        """The accepted rows so far, ``(n, 7)``."""
        return self._rows.array

    def append(self, samples: np.ndarray) -> StillPeriod | None:
        """Add accepted rows ``(m, 7)``; returns :attr:`found` (None while there is none)."""
        if self.found is not None or self.past_search or not len(samples):
            return self.found
        if len(samples) == 1 and self._rows.n:
            self.found = self._append_one(samples[0].tolist())
            return self.found
        first = self._rows.n
        self._rows.append(samples)
        self._times += samples[:, 0].tolist()
        rows = self._rows.array
        if not first:
            self._reference = rows[0, 1:7].tolist()
            cal = self.settings
            self._last_end_s = float(rows[0, 0]) + cal.still_search_s + cal.still_s
        offsets = samples[:, 1:7] - rows[0, 1:7]
        block = np.empty((len(samples) + 1, 12))
        block[0] = self._sums.array[-1]
        block[1:, :6] = offsets
        block[1:, 6:] = offsets * offsets
        self._sums.append(np.cumsum(block, axis=0)[1:])
        self._last_sums = self._sums.array[-1].tolist()
        stop = first + int(np.searchsorted(rows[first:, 0], self._last_end_s, side="right"))
        self.past_search = stop < len(rows)
        self.found = self._scan(rows, first, stop)
        return self.found

    def _scan(self, rows: np.ndarray, first: int, stop: int) -> StillPeriod | None:
        """The first still window ending at rows ``first..stop-1``."""
        cal = self.settings
        time_s = rows[:, 0]
        ends = np.arange(first, stop)
        starts = np.searchsorted(time_s, time_s[ends] - cal.still_s, side="right") - 1
        counts = (ends - starts + 1).astype(float)[:, None]
        sums = self._sums.array
        total = (sums[ends + 1] - sums[np.maximum(starts, 0)]) / counts
        mean = total[:, :6]
        variance = total[:, 6:] - mean**2
        mean = mean + rows[0, 1:7]
        screen = (
            (starts >= 0)
            & (counts[:, 0] >= 5)
            & (variance <= self._variance_limits).all(axis=1)
            & (
                np.abs(np.linalg.norm(mean[:, :3], axis=1) - STANDARD_GRAVITY_M_S2)
                <= 1.1 * cal.still_gravity_tolerance_m_s2
            )
            & (np.linalg.norm(mean[:, 3:], axis=1) <= 1.1 * cal.max_gyro_bias_deg_s)
        )
        for k in np.flatnonzero(screen):
            still = self._confirm(int(starts[k]), int(ends[k]))
            if still is not None:
                return still
        return None

    def _append_one(self, values: list[float]) -> StillPeriod | None:
        """One row after the first (live use): the sums and the screen of :meth:`_scan`
        in plain floats (the same sequential sums, bit for bit)."""
        cal = self.settings
        end = self._rows.n
        self._rows.append_row(values)
        self._times.append(values[0])
        reference = self._reference
        offsets = [v - r for v, r in zip(values[1:], reference, strict=True)]
        last = self._last_sums
        sums = [s + d for s, d in zip(last[:6], offsets, strict=True)]
        sums += [s + d * d for s, d in zip(last[6:], offsets, strict=True)]
        self._sums.append_row(sums)
        self._last_sums = sums
        if values[0] > self._last_end_s:
            self.past_search = True
            return None
        start = bisect.bisect_right(self._times, values[0] - cal.still_s) - 1
        count = end - start + 1
        if start < 0 or count < 5:
            return None
        before = self._sums.array[start].tolist()
        mean = [(s - b) / count for s, b in zip(sums, before, strict=True)]
        limits = self._variance_list
        if any(mean[k + 6] - mean[k] ** 2 > limits[k] for k in range(6)):
            return None
        acc = [m + r for m, r in zip(mean[:3], reference[:3], strict=True)]
        gyr = [m + r for m, r in zip(mean[3:6], reference[3:], strict=True)]
        if (
            abs(math.hypot(*acc) - STANDARD_GRAVITY_M_S2) > 1.1 * cal.still_gravity_tolerance_m_s2
            or math.hypot(*gyr) > 1.1 * cal.max_gyro_bias_deg_s
        ):
            return None
        return self._confirm(start, end)

    def _confirm(self, start: int, end: int) -> StillPeriod | None:
        """The still period of rows ``start..end`` if :func:`check_still` accepts them."""
        rows = self._rows.array[start : end + 1]
        quality = check_still(rows[:, 1:4], rows[:, 4:7], self.settings)
        if quality is None:
            return None
        up = _fmean(rows[:, 1:4])
        return StillPeriod(start, end, _fmean(rows[:, 4:7]), up / np.linalg.norm(up), quality)


def rotation_from_axes(up_sensor: np.ndarray, forward_hint: np.ndarray) -> np.ndarray:
    """``R_bs`` with z = ``up_sensor`` and x = the part of ``forward_hint`` perpendicular to it."""
    z = up_sensor / np.linalg.norm(up_sensor)
    x = forward_hint - np.dot(forward_hint, z) * z
    x = x / np.linalg.norm(x)
    return np.array([x, np.cross(z, x), z])


def forward_from_bend(
    up_during_bend: np.ndarray, up_sensor: np.ndarray
) -> tuple[np.ndarray, float]:
    """Forward axis (sensor coords) and its consistency (0..1) from fused up vectors in a bend.

    ``up_during_bend`` is (m, 3): the world's up direction in sensor coordinates while
    the tilt exceeded the bend threshold. Consistency is |sum of horizontal parts| /
    sum of their lengths: 1 for a bend in one plane, lower for a sweeping or twisting bend.
    """
    horizontal = up_during_bend - np.outer(up_during_bend @ up_sensor, up_sensor)
    total = np.array([math.fsum(column) for column in horizontal.T])
    length = math.fsum(np.linalg.norm(horizontal, axis=1))
    norm = float(np.linalg.norm(total))
    return -total / norm, (norm / length if length > 0 else 0.0)


# -- calibration from the movement itself (no still period) -------------------------------
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
    moving_deg_s: float = 15.0
    """Samples rotating faster than this define the flexion axis (deg/s)."""
    bias_window_s: float = 0.25
    """Length of the gyroscope-vs-gravity comparisons that estimate the gyroscope bias (s)."""
    max_gyro_bias_deg_s: float = 30.0
    """A bias estimate larger than this is not trusted (the fusion then corrects alone)."""
    dwell_deg_s: float = 20.0
    """Near a rep's top, rows bending slower than this are where the lifter dwells (deg/s)."""
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
    lordosis_deg: float = 10.0
    """Expected tilt of a strapped sensor's axis into the bend at upright (deg)."""
    axes_deg: float = 15.0
    """Difference in fit of the strapping (deg) that counts as clear evidence."""


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
    depth), ``"axes"`` (a sensor axis is nearer to vertical at the tops) or both."""
    evidence: tuple[float, float] = (0.0, 0.0)
    """The scores of the height and the axes evidence (> 0: for the sign taken)."""
    n_tops: int = 0
    """Rep tops the upright posture was taken from."""


def _smooth(values: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` rows (edges use the rows there are)."""
    if n <= 1:
        return values
    kernel = np.ones(n)
    counts = np.convolve(np.ones(len(values)), kernel, mode="same")
    if values.ndim == 1:
        return np.convolve(values, kernel, mode="same") / counts
    return np.column_stack(
        [np.convolve(values[:, k], kernel, mode="same") / counts for k in range(values.shape[1])]
    )


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
    from imu.pipeline.angles import up_in_sensor
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
    gravity = np.array([initial_gravity(rows[k:], bias, 2.0) for k in starts])
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
) -> MovementResult | str:
    """Body axes from repeated bends, without a still period; a reason (str) if not yet.

    ``rows`` (n, 7) are accepted samples ``[time_s, acc, gyr]``, ``up_sensor`` (n, 3) the
    fused world up direction in sensor axes at each of them (an AHRS run with
    ``gyro_bias_deg_s``).

    1. Flexion axis: the principal axis of the bias-corrected rotation while the sensor
       turns faster than ``moving_deg_s`` (reps turn about one axis). Its share of the
       rotation (largest eigenvalue / sum) is the axis quality.
    2. Position on the arc: the angle of ``up_sensor`` about that axis. Excursions are
       moves of at least ``min_excursion_deg`` away from one end and back.
    3. Which end is upright (the sign of flexion): the trunk is bent at depth, and there
       the lumbar segment is lower (the hips go down and back): the vertical acceleration
       of the sensor goes against the second derivative of the bend
       (``height``). Independently, a sensor strapped to a belt has an axis near the
       vertical when the lifter stands, not at depth (``axes``). Both are scored; where
       they disagree the larger wins; the quality follows the summed evidence (full from
       one clear unit of it, e.g. 0.12 m/rad of drop or 15 deg of fit). ``known_rotation``
       (``--mounting``) settles it.
    4. Upright: the median of the tops of the excursions (the least-flexed posture the
       lifter keeps coming back to); forward: the direction the up vector moves at depth
       (:func:`forward_from_bend`).
    """
    finite = np.isfinite(up_sensor).all(axis=1) & np.isfinite(rows).all(axis=1)
    if not finite.all():  # (rows before the orientation's first start)
        keep = np.flatnonzero(finite)
        result = calibrate_from_movement(
            rows[keep], up_sensor[keep], gyro_bias_deg_s, settings,
            final=final, known_rotation=known_rotation,
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
    # which end is upright
    if known_rotation is not None:
        # bending moves up towards -x (body): phi grows into the bend if e2 . (-x) > 0
        bend_sign = 1.0 if float(np.dot(e2, -known_rotation[0])) > 0 else -1.0
        sign_from, sign_quality = "mounting", 1.0
    else:
        dt = float(np.median(np.diff(time_s)))
        k = max(1, round(0.15 / dt))
        # up turns by -w about the axis as the sensor turns by w: d(phi)/dt = -w . axis
        phi_rate = _smooth(-np.degrees(rate @ axis), k)
        phi_acc = np.gradient(phi_rate, time_s)
        vertical = _smooth(np.sum(rows[:, 1:4] * up_sensor, axis=1) - STANDARD_GRAVITY_M_S2, k)
        # height: vertical acceleration = -k x d2(phi)/dt2, k (m/rad) > 0 if the segment is
        # lower where phi is larger
        rad_acc = np.radians(phi_acc)
        slope_m_rad = -float(np.sum(vertical * rad_acc)) / (float(np.sum(rad_acc**2)) + 1e-12)
        height_score = slope_m_rad / cal.height_m_per_rad
        axes_score = _axes_score(phi, up_sensor, e1, e2, cal) / cal.axes_deg
        votes = [s for s in (height_score, axes_score) if abs(s) > 0.05]
        if not votes:
            return "cannot tell upright from bent yet"
        total = float(np.clip(height_score, -2, 2) + np.clip(axes_score, -2, 2))
        bend_sign = 1.0 if total > 0 else -1.0
        sign_from = "+".join(
            name
            for name, s in (("height", height_score), ("axes", axes_score))
            if abs(s) > 0.05 and np.sign(s) == np.sign(total)
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
        return f"{n_exc} bend(s) of {cal.min_excursion_deg:g} deg so far"
    # each top's posture: where the lifter dwells near the top (slow rows in the lowest
    # quarter of the span), not the extreme of a brief lean back at lockout
    flex_rate = np.abs(np.gradient(flex, time_s))
    dwell_rows = []
    for best, lo_row, hi_row in tops:
        rows_in = np.arange(lo_row, hi_row)
        slow = rows_in[(flex[rows_in] < back) & (flex_rate[rows_in] < cal.dwell_deg_s)]
        dwell_rows.append(slow if slow.size else np.array([best]))
    top_values = np.array([float(np.median(flex[r])) for r in dwell_rows])
    if not final and (
        len(tops) < 2 or (len(tops) == 2 and abs(top_values[1] - top_values[0]) > cal.top_agree_deg)
    ):
        return f"{len(tops)} rep top(s) so far"
    median = float(np.median(top_values))
    chosen = [k for k, v in enumerate(top_values) if abs(v - median) <= cal.top_agree_deg]
    chosen = chosen or list(range(len(tops)))
    rows_up = np.concatenate([dwell_rows[k] for k in chosen])
    up = np.sum(up_sensor[rows_up], axis=0)
    up /= np.linalg.norm(up)
    top_row = int(rows_up[np.argmin(np.abs(flex[rows_up] - median))])
    in_bend = flex > deep
    forward, consistency = forward_from_bend(up_sensor[in_bend], up)
    if known_rotation is not None:
        forward = known_rotation[0]
    rotation = rotation_from_axes(up, forward)
    quality = axis_share * sign_quality * min(1.0, consistency) * min(1.0, 0.5 + 0.25 * n_exc)
    evidence = (
        (0.0, 0.0)
        if known_rotation is not None
        else (float(bend_sign * height_score), float(bend_sign * axes_score))
    )
    return MovementResult(
        rotation, int(top_row), n_exc, round(quality, 3), sign_from, evidence, len(tops)
    )


# -- does the gyroscope turn the way the accelerometer says? --------------------------------
GYRO_SCALES = {
    1.0: "",
    180.0 / math.pi: " (read as rad/s)",
    math.pi / 180.0: " (read as deg/s x 1/57.3)",
}
"""Unit mix-ups tried: rad/s values labelled deg/s (x 57.3) and the reverse."""


def _signed_permutations() -> list[np.ndarray]:
    out = []
    for order in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        for signs in np.ndindex(2, 2, 2):
            matrix = np.zeros((3, 3))
            for row, (column, sign) in enumerate(zip(order, signs, strict=True)):
                matrix[row, column] = -1.0 if sign else 1.0
            out.append(matrix)
    return out


def gyro_axes_mapping(
    rows: np.ndarray, gyro_bias_deg_s: np.ndarray, window_s: float = 0.2, max_windows: int = 400
) -> tuple[np.ndarray, str] | None:
    """A mapping ``M`` (gyroscope values in the accelerometer's axes = ``M @ gyr``) when the
    gyroscope's axes or unit clearly do not match the accelerometer's, else None.

    Two chips on one board (e.g. an ADXL345 with an ITG-3200) need not share axes, and an
    export may mix rad/s with deg/s. Over short windows the gravity direction measured by
    the accelerometer must turn as the gyroscope says (``dg/dt = -w x g``); each signed
    permutation of the axes (both handednesses) at each unit of :data:`GYRO_SCALES` is
    scored by how far gravity carried by the gyroscope lands from the measured one. A
    mapping other than the identity is returned only if it misses by less than a quarter
    of the identity's error. ``rows`` (n, 7) accepted rows with motion, in time order.
    """
    n = len(rows)
    if n < 20:
        return None
    time_s, acc = rows[:, 0], rows[:, 1:4]
    dt = float(np.median(np.diff(time_s)))
    if not dt > 0:
        return None
    m = max(2, round(window_s / dt))
    smooth = _smooth(acc, max(1, round(0.1 / dt)))
    norm = np.linalg.norm(smooth, axis=1)
    g = smooth / norm[:, None]
    starts = np.arange(0, n - m)
    near = np.abs(norm - STANDARD_GRAVITY_M_S2) < 1.5
    turned = np.degrees(np.arccos(np.clip(np.sum(g[starts] * g[starts + m], axis=1), -1, 1)))
    starts = starts[near[starts] & near[starts + m] & (turned > 3.0)]
    if len(starts) < 10:
        return None
    starts = starts[:: max(1, len(starts) // max_windows)]
    rates = np.radians(rows[:, 4:7] - gyro_bias_deg_s)
    steps = np.diff(time_s, append=time_s[-1])
    start_g, end_g = g[starts], g[starts + m]
    scored: list[tuple[float, np.ndarray, str]] = []
    identity_error = math.inf
    for scale, unit in GYRO_SCALES.items():
        for handed in (1.0, -1.0):
            # rotation of each window in the measured axes (sign -1: the mirrored frame)
            rotation = np.tile(np.eye(3), (len(starts), 1, 1))
            for j in range(m):
                w = handed * scale * rates[starts + j] * steps[starts + j, None]
                angle = np.linalg.norm(w, axis=1)
                axis = w / np.where(angle > 0, angle, 1.0)[:, None]
                skew = np.zeros((len(starts), 3, 3))
                skew[:, 0, 1], skew[:, 0, 2] = -axis[:, 2], axis[:, 1]
                skew[:, 1, 0], skew[:, 1, 2] = axis[:, 2], -axis[:, 0]
                skew[:, 2, 0], skew[:, 2, 1] = -axis[:, 1], axis[:, 0]
                s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
                rotation = rotation @ (np.eye(3) + s * skew + (1 - c) * skew @ skew)
            for matrix in _signed_permutations():
                if np.linalg.det(matrix) * handed < 0:
                    continue
                # gravity in the accelerometer's axes carried through M's rotation
                carried = np.einsum(
                    "ij,njk,lk,nl->ni", matrix, rotation.transpose(0, 2, 1), matrix, start_g
                )
                error = float(np.mean(np.sum((carried - end_g) ** 2, axis=1)))
                if scale == 1.0 and handed == 1.0 and np.array_equal(matrix, np.eye(3)):
                    identity_error = error
                scored.append((error, scale * matrix, unit))
    lowest = min(error for error, _, _ in scored)
    if lowest >= 0.25 * identity_error:
        return None
    # an axis that hardly turned leaves its sign open: among the near-best, the
    # right-handed mapping nearest the identity
    near = [c for c in scored if c[0] <= 1.1 * lowest]
    _, mapping, unit = max(
        near, key=lambda c: (np.linalg.det(c[1]) > 0, np.trace(np.sign(c[1])), -c[0])
    )
    return mapping, unit


def describe_gyro_mapping(matrix: np.ndarray, unit: str) -> str:
    """``gyro x,y,z = +y,-x,+z`` style text of a mapping (rows: new axes from old)."""
    parts = []
    for row in matrix:
        k = int(np.argmax(np.abs(row)))
        parts.append(("+" if row[k] > 0 else "-") + "xyz"[k])
    return "gyroscope x,y,z = " + ",".join(parts) + unit
