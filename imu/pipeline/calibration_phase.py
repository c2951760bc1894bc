"""The engine's calibration phase: rows are held until the body axes are settled.

Contract: ``CalibrationPhase(settings)``; ``update(samples, timed)`` with each chunk of
input rows (after timing) returns None while calibration is open and, once it is settled,
a :class:`Calibrated` (plain data: the calibration event, every held row with its
orientation, and what the engine needs to go on); ``finish(...)`` settles it at the end
of the stream. After that the phase takes no more rows.

How it is settled (docs/calibration.md):

1. a still period (imu/pipeline/calibration.py :class:`StillSearch`), then the first
   clean forward bend gives the forward axis (or ``--mounting``, or a gyroscope mapped
   by imu/pipeline/gyro_mapping.py, or an assumed axis after ``bend_search_s``);
2. without a still period, from the movement (imu/pipeline/movement.py), tried each
   time the stream passes a multiple of ``MovementSettings.step_s`` (so chunking does not
   change the outcome), and refined later by :class:`imu.pipeline.movement.Refinement`;
3. ``--mounting`` alone, or failure with a message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from imu.pipeline.angles import body_matrix_entries, heading_deg, up_in_sensor
from imu.pipeline.buffers import GrowingArray
from imu.pipeline.calibration import (
    SCALE_NOTE_FRACTION,
    STANDARD_GRAVITY_M_S2,
    CalibrationSettings,
    StillPeriod,
    StillSearch,
    forward_from_bend,
    mounting_name,
    parse_mounting,
    rotation_from_axes,
)
from imu.pipeline.gyro_mapping import describe_gyro_mapping, gyro_axes_mapping
from imu.pipeline.movement import (
    START_TILT_S,
    UPRIGHT_WORDS,
    MovementResult,
    MovementSettings,
    Refinement,
    calibrate_from_movement,
    gyro_bias_from_motion,
    initial_gravity,
)
from imu.pipeline.orientation import (
    GravityTilt,
    GravityTiltSettings,
    Orientation,
    OrientationSettings,
)
from imu.pipeline.timing import TimedRows
from imu.pipeline.upright_check import Revisions, UprightCheck, UprightCheckSettings
from imu.text import plural

GYRO_FUSION = "gyro_fusion"
ACCELEROMETER_ONLY = "accelerometer_only"
ACC_ONLY_UNAVAILABLE = ("twist_deg", "twist_range_deg", "turned_bend_check")
"""Outputs an accelerometer-only session does not have (named in its calibration event)."""
ACC_ONLY_DEGRADED = (
    "flexion_during_fast_motion",
    "lateral_bend_during_fast_motion",
    "set_grouping_by_facing",
    "plate_loading_rejection",
    "rounded_classifier_twist_features",
)
"""Outputs that are less accurate or missing a check in accelerometer-only mode."""


@dataclass(frozen=True)
class CalibrationPhaseSettings:
    """What the calibration phase needs of the engine's settings."""

    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    orientation: OrientationSettings = field(default_factory=OrientationSettings)
    gravity_tilt: GravityTiltSettings = field(default_factory=GravityTiltSettings)
    mode: str = GYRO_FUSION
    """:data:`GYRO_FUSION` or :data:`ACCELEROMETER_ONLY` (decided by the engine)."""
    sampling_rate_hz: float | None = None
    """None = estimated from the rows calibration is taken from."""


@dataclass
class Calibrated:
    """Calibration settled: the event and every held row, ready to be measured.

    ``samples`` (n, 7) are all input rows so far (gyroscope axes mapped if ``gyro_map``),
    ``timed`` their timing annotations; if ``event["ok"]``, ``quats`` (n, 4) their
    orientation, ``rotation_bs`` the body axes in sensor axes, ``heading_ref`` the heading
    (deg) that counts as zero twist, ``orientation`` the stage that goes on from the last
    held row, and ``refinement`` (calibration from the movement) what refines it later.
    """

    event: dict
    samples: np.ndarray
    timed: TimedRows
    sampling_rate_hz: float | None
    quats: np.ndarray | None = None
    rotation_bs: np.ndarray | None = None
    heading_ref: float = 0.0
    orientation: Orientation | GravityTilt | None = None
    gyro_map: np.ndarray | None = None
    movement: MovementResult | None = None
    refinement: Revisions | None = None
    """What may change the calibration later (the engine calls it at its marks)."""


def movement_how(result: MovementResult) -> str:
    """How a calibration from the movement was taken, for its message."""
    sign = (
        f"flexion sign from {result.sign_from.replace('mounting', '--mounting')}"
        if result.sign_from
        else "flexion sign a guess: height and axes disagree"
    )
    return (
        f"from the movement ({plural(result.n_excursions, 'bend')}; upright = "
        f"{UPRIGHT_WORDS[result.upright]}, {sign})"
    )


@dataclass
class _Scout:
    """The bias-free orientation of held rows that the movement attempts look with."""

    first_row: int
    """Held row it starts at."""
    rate_hz: float
    orientation: Orientation
    quats: GrowingArray
    """Quaternions of the held rows from ``first_row`` on, fused so far."""
    full_start: bool
    """Its start tilt had ``START_TILT_S`` of rows (else it starts again next time)."""


class _HeldRows:
    """Input rows held back until calibration, with their timing annotations."""

    def __init__(self) -> None:
        self.samples = GrowingArray(7)
        self._annotations = GrowingArray(3)  # dt_s, skip, restart
        self._gaps: list[tuple[int, dict]] = []

    def append(self, samples: np.ndarray, timed: TimedRows) -> None:
        self._gaps += [(row + self.samples.n, event) for row, event in timed.gaps]
        self.samples.append(samples)
        self._annotations.append(timed.dt_s, timed.skip, timed.restart)

    @property
    def timed(self) -> TimedRows:
        return self.timed_rows(0, self.samples.n)

    def timed_rows(self, lo: int, hi: int) -> TimedRows:
        """The annotations of rows ``lo..hi-1`` (copies; gap rows from ``lo``)."""
        a = self._annotations.array[lo:hi]
        gaps = [(row - lo, event) for row, event in self._gaps if lo <= row < hi]
        return TimedRows(a[:, 0].copy(), a[:, 1] != 0, a[:, 2] != 0, gaps)


class CalibrationPhase:
    """Holds rows until calibration is settled (module docstring)."""

    def __init__(self, settings: CalibrationPhaseSettings) -> None:
        self.settings = settings
        cal = settings.calibration
        self.phase = "still"  # still -> bend -> ready, or still -> failed
        self.sampling_rate_hz = settings.sampling_rate_hz
        self.gyro_map: np.ndarray | None = None
        """Gyroscope values -> accelerometer axes, once found (the engine maps later rows)."""
        self._acc_only = settings.mode == ACCELEROMETER_ONLY
        self._known_rotation = parse_mounting(cal.mounting) if cal.mounting else None
        self._held = _HeldRows()
        self._still_search: StillSearch | None = StillSearch(cal)  # the accepted rows
        self._accepted_rows: GrowingArray | None = GrowingArray(1)  # their input row numbers
        self._still: StillPeriod | None = None
        self._still_end_row = 0
        self._still_time = 0.0
        self._orientation: Orientation | GravityTilt | None = None
        # orientation of the held rows once the still period is known (phase "bend")
        self._quats = GrowingArray(4)
        self._tilt_cos = GrowingArray(2)  # cos(tilt from the calibrated vertical), time_s
        self._bend_scan = 0
        self._bend_begin = -1
        self._bend_limit = -1
        self._late_scan = 0
        self._twisted_bend: tuple[np.ndarray, float] | None = None
        self._movement = cal.movement or MovementSettings()
        self._movement_mark = 0  # last attempt of calibration from the movement (marks)
        self._movement_reason = ""
        self._movement_result: MovementResult | None = None
        self._scout: _Scout | None = None
        self._refinement: Refinement | None = None
        self._gyro_note = ""
        self._rotation_bs: np.ndarray | None = None
        self._heading_ref = 0.0
        self.calibration: dict | None = None

    # -- contract ---------------------------------------------------------------------
    def update(self, samples: np.ndarray, timed: TimedRows) -> Calibrated | None:
        """Hold a chunk of input rows (gyroscope already mapped by :attr:`gyro_map`);
        :class:`Calibrated` once calibration is settled (then the phase is over)."""
        first_row = self._held.samples.n
        self._held.append(samples, timed)
        if self.phase == "still":
            keep = np.flatnonzero(~timed.skip)
            self._still_search.append(samples[keep])
            self._accepted_rows.append((keep + first_row)[:, None].astype(float))
            self._look_for_still(final=False)
        elif self.phase == "bend":
            self._orient_held(samples, timed)
        if self.phase == "bend":
            self._look_for_bend(final=False)
        return self._settled()

    def finish(self, rows_without_gyro: int = 0) -> Calibrated:
        """End of the stream: settle calibration (``rows_without_gyro``: rows the timing
        stage dropped for a missing gyroscope value, named if nothing else is left)."""
        if self.phase == "still":
            self._look_for_still(final=True, rows_without_gyro=rows_without_gyro)
        if self.phase == "bend":
            self._look_for_bend(final=True)
        return self._settled()

    def _settled(self) -> Calibrated | None:
        if self.phase not in ("ready", "failed"):
            return None
        samples, timed = self._held.samples.array, self._held.timed
        self._held = None
        if self.phase == "failed":
            return Calibrated(self.calibration, samples, timed, self.sampling_rate_hz)
        # the upright check looks from the first held row on (walking before it counts)
        check_settings = self.settings.calibration.upright_check or UprightCheckSettings()
        check = UprightCheck(
            check_settings,
            self._still.gyro_bias_deg_s,
            float(samples[np.isfinite(samples[:, 0]), 0][0]) + check_settings.step_s,
            self._known_rotation,
            self._movement,
        )
        return Calibrated(
            self.calibration, samples, timed, self.sampling_rate_hz,
            quats=self._quats.array, rotation_bs=self._rotation_bs,
            heading_ref=self._heading_ref, orientation=self._orientation,
            gyro_map=self.gyro_map, movement=self._movement_result,
            refinement=Revisions(self._refinement, check),
        )  # fmt: skip

    # -- still period ------------------------------------------------------------------
    def _look_for_still(self, final: bool, rows_without_gyro: int = 0) -> None:
        cal = self.settings.calibration
        rows, still = self._still_search.rows, self._still_search.found
        if still is None and final and not len(rows):
            self._fail(
                "every row lacks a gyroscope value although the first rows had one: "
                "export the gyroscope with every sample, or leave the gyr_* columns empty in "
                "every row for accelerometer-only analysis"
                if rows_without_gyro
                else "no usable samples (every row has an empty or non-numeric value)"
            )
            return
        # calibration from the movement at each mark before the still period ends (the
        # stream's order: the same outcome whether the rows came one by one or at once)
        before_s = float(rows[still.end, 0]) if still is not None else math.inf
        if self._try_movement(final=False, before_s=before_s):
            return
        if still is None:
            if (
                (final or self._still_search.past_search)
                and not self._try_movement(final=True)
                and not self._mounting_alone()
            ):
                self._fail(
                    f"no still period of {cal.still_s:g} s in the first {cal.still_search_s:g} s "
                    f"and no calibration from the movement ({self._movement_reason}): stand "
                    "upright and still for 2 s at the start, or record at least two full reps"
                )
            return
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = float(1.0 / np.median(np.diff(rows[: still.end + 1, 0])))
        initial = still.up_sensor if still.start == 0 else None  # recording starts still
        if self._acc_only:
            orientation = GravityTilt(
                self.settings.gravity_tilt,
                None if initial is None else initial * STANDARD_GRAVITY_M_S2,
            )
        else:
            orientation = Orientation(
                self.settings.orientation, self.sampling_rate_hz, still.gyro_bias_deg_s, initial
            )
        end_row = int(self._accepted_rows.array[still.end, 0])
        self._start_bend(still, end_row, float(rows[still.end, 0]), orientation)

    def _start_bend(
        self,
        still: StillPeriod,
        end_row: int,
        time_s: float,
        orientation: Orientation | GravityTilt,
    ) -> None:
        """The vertical is known (``still``, ending at held row ``end_row``, time ``time_s``):
        orient every held row with ``orientation``; the forward axis comes next."""
        self._still, self._still_end_row, self._still_time = still, end_row, time_s
        self._orientation = orientation
        self._still_search = self._accepted_rows = None
        self.phase = "bend"
        self._orient_held(self._held.samples.array, self._held.timed)

    def _mounting_alone(self) -> bool:
        """No still period and no reps, but ``--mounting`` given: its axes as they are
        (upright = its z axis, so the strap's tilt on the lower back reads as flexion)."""
        rows = self._still_search.searched
        if self._known_rotation is None or len(rows) < self._movement.min_rows:
            return False
        rotation = self._known_rotation
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = float(1.0 / np.median(np.diff(rows[:, 0])))
        self._start_bend(
            StillPeriod(0, 0, np.zeros(3), rotation[2], 1.0),
            int(self._accepted_rows.array[0, 0]),
            float(rows[0, 0]),
            Orientation(self.settings.orientation, self.sampling_rate_hz, np.zeros(3), None),
        )
        self._set_rotation(
            rotation,
            0.5,
            "from --mounting alone (no still period and no reps: upright = its z axis, "
            "the strap's tilt reads as flexion)",
            method="mounting",
            upright="mounting",
        )
        return True

    # -- from the movement -------------------------------------------------------------
    def _try_movement(self, final: bool, before_s: float = math.inf) -> bool:
        """Calibrate from the reps (no still period): attempted each time the stream passes
        a multiple of ``MovementSettings.step_s`` after its first row (marks before
        ``before_s``, the end of a still period found meanwhile), on the rows up to that
        time (so chunking does not matter), and with ``final`` once more on every row.
        True if calibrated (the phase is then "ready")."""
        mv = self._movement
        rows = self._still_search.searched
        if len(rows) < 2:
            self._movement_reason = f"only {len(rows)} samples"
            return False
        times = rows[:, 0]
        t0 = float(times[0])
        marks = int((float(times[-1]) - t0) // mv.step_s)
        ends = []
        for k in range(self._movement_mark + 1, marks + 1):
            if t0 + k * mv.step_s >= before_s:
                break
            ends.append(t0 + k * mv.step_s)
            self._movement_mark = k
        if final:
            ends.append(float(times[-1]))
        for k, end_s in enumerate(ends):
            stop = int(np.searchsorted(times, end_s, side="right"))
            last = final and k == len(ends) - 1
            if self._movement_attempt(rows, stop, last, end_s):
                return True
        return False

    def _movement_attempt(self, rows: np.ndarray, stop: int, final: bool, end_s: float) -> bool:
        mv = self._movement
        times = rows[:stop, 0]
        first = int(np.searchsorted(times, float(times[-1]) - mv.window_s, side="left"))
        window = rows[first:stop]
        acc = window[:, 1:4]
        unit = acc / np.linalg.norm(acc, axis=1)[:, None]
        spread = np.degrees(np.arccos(np.clip(unit @ unit[0], -1.0, 1.0)))
        if len(window) < mv.min_rows or float(np.ptp(spread)) < 0.5 * mv.min_excursion_deg:
            self._movement_reason = (
                f"only {len(window)} samples"
                if len(window) < mv.min_rows
                else "no bend deep enough"
            )
            return False
        if self._acc_only:
            self._movement_reason = "accelerometer only: needs a still period or --mounting"
            return False
        rate_hz = float(1.0 / np.median(np.diff(window[:, 0])))
        input_rows = self._accepted_rows.array[first:stop, 0].astype(int)
        lo, hi = int(input_rows[0]), int(input_rows[-1]) + 1

        def attempt(bias: np.ndarray, quats: np.ndarray):
            up = up_in_sensor(quats[input_rows - lo])
            return calibrate_from_movement(
                window, up, bias, mv, final=final, known_rotation=self._known_rotation,
                begins_recording=first == 0,
            )  # fmt: skip

        # first without a bias (enough reps yet?), then with the fitted bias and start tilt;
        # the last attempt fits the bias whatever the scout said: a gyroscope bias of a few
        # deg/s (an ITG-3200's offset spread is +-40) tilts the scout's bias-free
        # orientation by 10-15 deg from rep to rep, so its rep tops never came back past a
        # quarter of the arc and shallow squats counted "0 bend(s) of 20 deg"
        bias = np.zeros(3)
        result = attempt(bias, self._scout_quats(lo, hi, rate_hz, window))
        if not isinstance(result, str) or final:
            fitted = gyro_bias_from_motion(window, mv)
            bias, initial = fitted if fitted is not None else (np.zeros(3), None)
            orientation = Orientation(self.settings.orientation, rate_hz, bias, initial)
            result = attempt(bias, self._fuse(orientation, lo, lo, hi))
        if isinstance(result, str):
            self._movement_reason = result
            return False
        self._calibrate_from(result, bias, initial, rate_hz, input_rows, end_s)
        return True

    def _scout_quats(self, lo: int, hi: int, rate_hz: float, window: np.ndarray) -> np.ndarray:
        """Orientation without a gyroscope bias of held rows ``lo..hi-1`` (``window``: their
        accepted rows) for a movement attempt, fused once per row: one run goes on from
        attempt to attempt (each row fused once, not at every mark). It starts from the
        gravity of its first ``START_TILT_S`` (:func:`initial_gravity`: every acceleration
        carried back to the first row by the gyroscope and averaged), not from the first
        row's acceleration: a recording that starts mid-walk has that off by ~25 deg, and
        the fusion's slow convergence from there looked like a bend (the reps were then
        read with the wrong sign or axis). It starts again when a window starts at its
        first row with another rate estimate, or while that start had less than
        ``START_TILT_S`` of rows (the numbers of a fresh run from that row with the rows
        up to this mark); once the window has slid past its first row (``window_s``), the
        run goes on from the earlier rows (converged, instead of starting again)."""
        scout = self._scout
        if (
            scout is None
            or scout.first_row > lo
            or (scout.first_row == lo and (scout.rate_hz != rate_hz or not scout.full_start))
        ):
            full_start = float(window[-1, 0]) >= float(window[0, 0]) + START_TILT_S
            gravity = initial_gravity(window, np.zeros(3), START_TILT_S)
            orientation = Orientation(self.settings.orientation, rate_hz, np.zeros(3), gravity)
            scout = self._scout = _Scout(lo, rate_hz, orientation, GrowingArray(4), full_start)
        first, quats = scout.first_row, scout.quats
        done = first + quats.n
        if hi > done:
            quats.append(self._fuse(scout.orientation, first, done, hi))
        return quats.array[lo - first : hi - first]

    def _fuse(self, orientation: Orientation, first: int, lo: int, hi: int) -> np.ndarray:
        """Quaternions of held rows ``lo..hi-1`` by ``orientation``, which starts at held
        row ``first`` (a restart there, from its accelerometer or ``initial_acc``)."""
        held = self._held.samples.array[lo:hi]
        timed = self._held.timed_rows(lo, hi)
        if lo == first:
            timed.restart[0], timed.dt_s[0] = True, 0.0
        return orientation.update(held[:, 1:4], held[:, 4:7], timed.dt_s, timed.skip, timed.restart)

    def _calibrate_from(
        self,
        result: MovementResult,
        bias: np.ndarray,
        initial: np.ndarray,
        rate_hz: float,
        input_rows: np.ndarray,
        end_s: float,
    ) -> None:
        """Settle calibration from the movement (the attempt's window: held rows
        ``input_rows``): orient every held row and take the body axes."""
        self._movement_result = result
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = rate_hz
        top_input_row = int(input_rows[result.top_row])
        # the held rows from the first: started from the gravity of the attempt's window,
        # valid for the first held row when the window starts there (else the fusion converges)
        first_window_row = self._accepted_rows.array[0, 0]
        orientation = Orientation(
            self.settings.orientation,
            self.sampling_rate_hz,
            bias,
            initial if first_window_row == float(input_rows[0]) else None,
        )
        self._start_bend(
            StillPeriod(result.top_row, result.top_row, bias, result.rotation_bs[2], 1.0),
            top_input_row,
            float(self._held.samples.array[top_input_row, 0]),
            orientation,
        )
        self._set_rotation(
            result.rotation_bs,
            result.quality,
            movement_how(result),
            method="movement",
            upright=result.upright,
        )
        # refined at the marks after the one it was taken at (``end_s``), until it is, or
        # for ``window_s``
        mv = self._movement
        self._refinement = Refinement(
            mv, bias, self._known_rotation, end_s + mv.step_s, end_s + mv.window_s
        )

    # -- the forward bend after a still period -----------------------------------------
    def _orient_held(self, samples: np.ndarray, timed: TimedRows) -> None:
        quats = self._orientation.update(
            samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart
        )
        self._quats.append(quats)
        tilt_cos = up_in_sensor(quats) @ self._still.up_sensor
        tilt_cos = np.where(timed.skip | ~np.isfinite(tilt_cos), 1.0, tilt_cos)
        self._tilt_cos.append(
            np.column_stack([tilt_cos, np.where(timed.skip, -np.inf, samples[:, 0])])
        )

    def _look_for_bend(self, final: bool) -> None:
        cal = self.settings.calibration
        up_vertical = self._still.up_sensor
        if self._known_rotation is not None:
            self._set_rotation(
                rotation_from_axes(up_vertical, self._known_rotation[0]), 1.0, "from --mounting"
            )
            return
        tilt_cos, times = self._tilt_cos.array[:, 0], self._tilt_cos.array[:, 1]
        if self._bend_limit < 0:  # first row past the search time, once it has arrived
            scanned, self._late_scan = self._late_scan, len(times)
            late = np.flatnonzero(times[scanned:] > self._still_time + cal.bend_search_s)
            if late.size:
                self._bend_limit = scanned + int(late[0])
        limit = self._bend_limit if self._bend_limit >= 0 else len(tilt_cos)
        cos_bend = math.cos(math.radians(cal.bend_deg))
        cos_back = math.cos(math.radians(cal.bend_deg / 2))
        while True:
            if self._bend_begin < 0:
                start = max(self._bend_scan, self._still_end_row + 1)
                deep = np.flatnonzero(tilt_cos[start:limit] < cos_bend)
                if not deep.size:
                    self._bend_scan = max(start, len(tilt_cos))
                    break
                self._bend_begin = self._bend_scan = start + int(deep[0])
            back = np.flatnonzero(tilt_cos[self._bend_scan :] > cos_back)
            if not back.size and not final:
                self._bend_scan = len(tilt_cos)
                return  # the bend goes on
            stop = self._bend_scan + int(back[0]) if back.size else len(tilt_cos)
            begin, self._bend_begin, self._bend_scan = self._bend_begin, -1, stop
            in_bend = np.flatnonzero(tilt_cos[begin:stop] < cos_bend) + begin
            forward, consistency = forward_from_bend(
                up_in_sensor(self._quats.array[in_bend]), up_vertical
            )
            if self._clean_bend(begin, stop, in_bend):
                rotation = rotation_from_axes(up_vertical, forward)
                self._set_rotation(rotation, consistency, "from the first forward bend")
                return
            if self._twisted_bend is None:
                self._twisted_bend = (forward, consistency)
        if final or self._bend_limit >= 0:
            if self._remap_gyro(final):
                return
            self._assume_forward(tilt_cos[:limit], up_vertical, ended=self._bend_limit < 0)

    def _clean_bend(self, begin: int, stop: int, in_bend: np.ndarray) -> bool:
        """A hinge, not loading a plate: turned little (gyroscope) or, without one, brief."""
        cal = self.settings.calibration
        if self._acc_only:
            times = self._tilt_cos.array[in_bend, 1]
            return float(np.ptp(times[np.isfinite(times)])) <= cal.max_bend_hold_s
        return self._bend_turn_deg(begin, stop) <= cal.max_bend_turn_deg

    def _bend_turn_deg(self, begin: int, stop: int) -> float:
        """How far (deg) the sensor turned about the vertical during held rows ``begin..stop-1``."""
        samples = self._held.samples.array[begin:stop]
        times = self._tilt_cos.array[begin:stop, 1]
        valid = np.isfinite(times)
        up = up_in_sensor(self._quats.array[begin:stop][valid])
        rate = np.sum((samples[valid, 4:7] - self._still.gyro_bias_deg_s) * up, axis=1)
        turned = np.concatenate(([0.0], np.cumsum(rate[1:] * np.diff(times[valid]))))
        return float(np.ptp(turned))

    def _remap_gyro(self, final: bool) -> bool:
        """No clean bend found: if the gyroscope's axes or unit do not match the accelerometer's
        (:func:`gyro_axes_mapping`; the fused tilt then lags the real one, so no bend looks
        deep), map it, orient the held rows again and look for the bend again. Once."""
        if self.gyro_map is not None or self._acc_only:
            return False
        timed = self._held.timed
        rows = np.flatnonzero(~timed.skip[self._still_end_row + 1 :]) + self._still_end_row + 1
        found = gyro_axes_mapping(self._held.samples.array[rows], self._still.gyro_bias_deg_s)
        if found is None:
            return False
        mapping, unit = found
        self.gyro_map, self._gyro_note = mapping, describe_gyro_mapping(mapping, unit)
        held = self._held.samples.array.copy()
        held[:, 4:7] = held[:, 4:7] @ mapping.T
        self._held = _HeldRows()
        self._held.append(held, timed)
        still = self._still = dataclasses.replace(
            self._still, gyro_bias_deg_s=mapping @ self._still.gyro_bias_deg_s
        )
        initial = still.up_sensor if still.start == 0 else None
        self._orientation = Orientation(
            self.settings.orientation, self.sampling_rate_hz, still.gyro_bias_deg_s, initial
        )
        self._quats, self._tilt_cos = GrowingArray(4), GrowingArray(2)
        self._bend_scan, self._bend_begin, self._bend_limit, self._late_scan = 0, -1, -1, 0
        self._twisted_bend = None
        self._orient_held(held, timed)
        self._look_for_bend(final)
        return True

    def _assume_forward(
        self, tilt_cos: np.ndarray, up_vertical: np.ndarray, ended: bool = False
    ) -> None:
        """No clean forward bend in time (``ended``: the stream ended before the search
        time was up): a twisted bend, else the deepest tilt, else any axis."""
        cal = self.settings.calibration
        if self._twisted_bend is not None:
            forward, consistency = self._twisted_bend
            quality = 0.5 * consistency
            rule = (
                f"was held longer than {cal.max_bend_hold_s:g} s"
                if self._acc_only
                else f"turned more than {cal.max_bend_turn_deg:g} deg"
            )
            how = f"from a bend that {rule} (check the flexion sign)"
        elif (confirmed := self._confirmed_shallow_bend(tilt_cos, up_vertical)) is not None:
            forward, quality, how = confirmed
        else:
            after = tilt_cos[self._still_end_row + 1 :]
            deepest = int(np.argmin(after)) + self._still_end_row + 1 if after.size else -1
            if deepest >= 0 and tilt_cos[deepest] < math.cos(math.radians(10.0)):
                up = up_in_sensor(self._quats.array[deepest : deepest + 1])
                forward, _ = forward_from_bend(up, up_vertical)
            else:
                forward = np.eye(3)[int(np.argmin(np.abs(up_vertical)))]
            quality = 0.3
            within = "before the end" if ended else f"within {cal.bend_search_s:g} s"
            how = (
                f"assumed (no forward bend deeper than {cal.bend_deg:g} deg {within}; "
                "flexion sign may be wrong: pass --mounting)"
            )
        self._set_rotation(rotation_from_axes(up_vertical, forward), quality, how)

    def _confirmed_shallow_bend(
        self, tilt_cos: np.ndarray, up_vertical: np.ndarray
    ) -> tuple[np.ndarray, float, str] | None:
        """No bend deeper than ``bend_deg`` (a trial of one shallow squat, say): the
        deepest tilt is a forward bend if the segment drops there (the hips go down and
        back; a lean back drops it by little more than its depth behind the hip): the
        ``height`` evidence of calibration from the movement (:func:`calibrate_from_movement`
        on the rows after the still period) shows a drop of at least
        ``shallow_bend_drop_m_per_rad`` at the same side. Then the flexion sign is not a
        guess. ``(forward, axis quality, how)``, else None."""
        if self._acc_only:
            return None
        start = self._still_end_row + 1
        rows = np.flatnonzero(~self._held.timed.skip[start : len(tilt_cos)]) + start
        if rows.size < self._movement.min_rows:
            return None
        up = up_in_sensor(self._quats.array[rows])
        result = calibrate_from_movement(
            self._held.samples.array[rows], up, self._still.gyro_bias_deg_s, self._movement,
            final=True,
        )  # fmt: skip
        if isinstance(result, str):
            return None
        deepest = float(np.min(tilt_cos[rows]))
        in_bend = rows[tilt_cos[rows] < math.cos(0.6 * math.acos(deepest))]
        forward, consistency = forward_from_bend(
            up_in_sensor(self._quats.array[in_bend]), up_vertical
        )
        if (
            float(forward @ result.rotation_bs[0]) < math.cos(math.radians(30.0))
            or not result.drop_m_per_rad >= self.settings.calibration.shallow_bend_drop_m_per_rad
        ):
            return None  # no drop there: the sign stays a guess
        depth_deg = math.degrees(math.acos(deepest))
        how = (
            f"from the deepest bend ({depth_deg:.0f} deg, none deeper than "
            f"{self.settings.calibration.bend_deg:g}), forward: the sensor drops "
            f"{result.drop_m_per_rad:.2f} m/rad there"
        )
        return forward, min(consistency, result.quality), how

    # -- the outcome -------------------------------------------------------------------
    def _set_rotation(
        self,
        rotation_bs: np.ndarray,
        axis_quality: float,
        how: str,
        method: str = "still_period",
        upright: str = "still_period",
    ) -> None:
        self._rotation_bs = rotation_bs
        still_q = self._quats.array[self._still_end_row : self._still_end_row + 1]
        self._heading_ref = float(heading_deg(body_matrix_entries(still_q, rotation_bs))[0])
        name, misalignment = mounting_name(rotation_bs)
        still = self._still
        message = (
            f"calibrated: still period, forward axis {how}"
            if method == "still_period"
            else f"calibrated {how}"
        )
        if self._gyro_note:
            message += f"; {self._gyro_note} (it did not turn the way the accelerometer did)"
        if self._acc_only:
            message += (
                "; accelerometer only (no gyroscope): no twist, flexion and lateral bend "
                "less accurate during fast motion"
            )
        scale_pct = acc_scale_error_pct(still.acc_norm_m_s2)
        if scale_pct is not None:
            message += (
                f"; the accelerometer's scale looks off by {scale_pct:+.0f} % (|acc| "
                f"{still.acc_norm_m_s2:.2f} m/s^2 standing still, not "
                f"{STANDARD_GRAVITY_M_S2:.2f}: its scale or zero offset; angles are unaffected)"
            )
        self.calibration = {
            "type": "calibration",
            "ok": True,
            "method": method,
            "quality": round(still.quality * axis_quality, 3),
            "message": message,
            "mounting": name,
            "mounting_misalignment_deg": round(misalignment, 2),
            "gyro_bias_deg_s": None
            if self._acc_only
            else [round(float(b), 4) for b in still.gyro_bias_deg_s],
            "time_s": self._still_time,
            "upright": upright,
            "sampling_rate_hz": self.sampling_rate_hz,
            "acc_scale_error_pct": scale_pct,
            **mode_fields(self.settings.mode),
        }
        self.phase = "ready"

    def _fail(self, message: str) -> None:
        self.calibration = {
            "type": "calibration", "ok": False, "method": None, "quality": 0.0, "message": f"calibration failed: {message}",
            "mounting": None, "mounting_misalignment_deg": None, "gyro_bias_deg_s": None, "time_s": None, "upright": None,
            "sampling_rate_hz": self.sampling_rate_hz, "acc_scale_error_pct": None, **mode_fields(self.settings.mode),
        }  # fmt: skip
        self.phase = "failed"


def acc_scale_error_pct(acc_norm_m_s2: float) -> float | None:
    """How far (%) a still period's acceleration norm is off g, when it is more than
    :data:`SCALE_NOTE_FRACTION` off (else None; None without a measured still period)."""
    if not math.isfinite(acc_norm_m_s2):
        return None
    error = acc_norm_m_s2 / STANDARD_GRAVITY_M_S2 - 1.0
    return round(100.0 * error, 1) if abs(error) > SCALE_NOTE_FRACTION else None


def mode_fields(mode: str) -> dict:
    """``mode`` and the features it lacks (``unavailable``) or weakens (``degraded``)."""
    acc_only = mode == ACCELEROMETER_ONLY
    return {
        "mode": mode,
        "unavailable": list(ACC_ONLY_UNAVAILABLE) if acc_only else [],
        "degraded": list(ACC_ONLY_DEGRADED) if acc_only else [],
    }
