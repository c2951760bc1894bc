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

Without a still period the body axes come from the reps themselves
(imu/pipeline/movement.py); a gyroscope whose axes or unit differ from the
accelerometer's is mapped by imu/pipeline/gyro_mapping.py.

Rotations here are 3x3 arrays ``R_bs`` whose rows are the body axes (x anterior,
y left, z up; docs/coordinates.md) expressed in sensor coordinates, so that
``v_body = R_bs @ v_sensor``. Sums use :func:`math.fsum` so the result does not depend
on how the samples were chunked.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imu.errors import input_error
from imu.pipeline.buffers import GrowingArray
from imu.units import STANDARD_GRAVITY_M_S2

if TYPE_CHECKING:
    from imu.pipeline.movement import MovementSettings
    from imu.pipeline.upright_check import UprightCheckSettings

SCALE_NOTE_FRACTION = 0.05
"""A still period whose acceleration norm is more than this fraction off g is reported
(the calibration event's ``acc_scale_error_pct`` and a note in its message): the
accelerometer's scale looks off. Angles do not depend on it (directions only); what
compares the norm with g (quiet standing, the rep decision's acceleration features) does."""

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
    still_gravity_tolerance_m_s2: float = 2.0
    """Largest difference between the mean acceleration norm and g (m/s^2). Uncalibrated
    parts read g off by their sensitivity error and zero-g offset: an ADXL345's data
    sheet allows 230-282 LSB/g around the 256 a driver assumes (+-10 %, 0.98 m/s^2; one
    reading 10.81 m/s^2 standing lost its still period at 1 m/s^2), plus up to 80 mg
    along the vertical axis (0.78 m/s^2; real-sensors.md): 1.76 m/s^2 together. A still
    window further off than 2 m/s^2 is not a still sensor (the per-axis spreads decide
    stillness); one more than :data:`SCALE_NOTE_FRACTION` off is named in the message."""
    max_gyro_bias_deg_s: float = 10.0
    """A still window whose mean rotation rate about the vertical (its mean acceleration)
    exceeds this is motion, not bias (deg/s): turning on the spot leaves the
    accelerometer steady."""
    max_gyro_bias_tilting_deg_s: float = 40.0
    """The same limit for the mean rate about horizontal axes (deg/s). A real rotation
    about a horizontal axis tilts gravity in the sensor's axes: one of 5 deg/s over
    ``still_s`` moves it by 7 deg, an accelerometer standard deviation of about 0.35
    m/s^2 (``still_acc_std_m_s2``), so a steady accelerometer with a larger mean rate
    about a horizontal axis is the gyroscope's offset, which reaches +-40 deg/s on an
    ITG-3200 (data sheet) and +-20 deg/s on an MPU-6050."""
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
    shallow_bend_drop_m_per_rad: float = 0.3
    """Without a bend deeper than ``bend_deg``, the deepest one is taken as forward when the
    sensor drops at least this much per radian of it (m/rad): a squat drops ~1 (the hips
    go down), a lean back about the sensor's depth behind the hip joint (0.02-0.13 in the
    simulator, which sits it 8-14 cm behind)."""
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
    upright_check: UprightCheckSettings | None = None
    """The re-check of the calibrated upright against walking (imu/pipeline/upright_check.py;
    None = its defaults)."""


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
    acc_norm_m_s2: float = math.nan
    """Norm of the mean acceleration of the window (NaN: not a measured still period)."""


def check_still(acc: np.ndarray, gyr: np.ndarray, settings: CalibrationSettings) -> float | None:
    """Quality (0.5..1) of a candidate still window, or None if it is not still."""
    acc_mean, gyr_mean = _fmean(acc), _fmean(gyr)
    acc_ratio = float(np.max(_fstd(acc, acc_mean))) / settings.still_acc_std_m_s2
    gyr_ratio = float(np.max(_fstd(gyr, gyr_mean))) / settings.still_gyr_std_deg_s
    norm_error = abs(float(np.linalg.norm(acc_mean)) - STANDARD_GRAVITY_M_S2)
    up = acc_mean / max(float(np.linalg.norm(acc_mean)), 1e-12)
    about_vertical = float(gyr_mean @ up)
    about_horizontal = float(np.linalg.norm(gyr_mean - about_vertical * up))
    if (
        acc_ratio > 1.0
        or gyr_ratio > 1.0
        or norm_error > settings.still_gravity_tolerance_m_s2
        or abs(about_vertical) > settings.max_gyro_bias_deg_s
        or about_horizontal > settings.max_gyro_bias_tilting_deg_s
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
        self._past_row = -1  # the first such row (-1: none yet)
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
        # the screen's bound on the mean rate, whatever its direction
        self._max_bias_norm = math.hypot(
            settings.max_gyro_bias_deg_s, settings.max_gyro_bias_tilting_deg_s
        )

    @property
    def rows(self) -> np.ndarray:
        """The accepted rows so far, ``(n, 7)``."""
        return self._rows.array

    @property
    def searched(self) -> np.ndarray:
        """The rows up to the first one after the last time a window may end (that one
        included): what a stream fed one row at a time has seen when the search ends,
        however many rows a chunk brought."""
        rows = self._rows.array
        return rows if self._past_row < 0 else rows[: self._past_row + 1]

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
        if self.past_search:
            self._past_row = stop
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
            & (np.linalg.norm(mean[:, 3:], axis=1) <= 1.1 * self._max_bias_norm)
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
            self.past_search, self._past_row = True, end
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
            or math.hypot(*gyr) > 1.1 * self._max_bias_norm
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
        norm = float(np.linalg.norm(up))
        return StillPeriod(start, end, _fmean(rows[:, 4:7]), up / norm, quality, norm)


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
