"""The streaming engine: timing -> calibration -> orientation -> angles -> reps/sets.

``Engine.update(samples)`` takes any chunk of ``(n, 7)`` samples (one sample, a BLE
notification, a whole file) and returns a :class:`Step` with the angles and events that
became final. Batch analysis feeds a recording through the very same object, so
streamed and batch results are identical (tested with random chunk sizes).

Latency: until calibration is established (still period, then the first forward bend)
rows are buffered; they are released, with their angles, when the forward bend ends,
and the ``calibration`` event comes first. After that, angles are emitted in the same
call. A ``rep`` event comes when the rep is decided (imu/pipeline/rep_decision.py): when
the next excursion rises or ``decide_s`` after its lockout; a ``set`` event when the set
ends (``quiet_s`` without a next rep). Alerts do not wait: an excursion that the early
verdict takes for a rep is judged at its lockout (``provisional: true`` alerts, withdrawn
by ``alert_withdrawn`` if the rep does not confirm them; docs/contracts.md,
docs/calibration.md, reps). After a gap that restarts, an excursion it cut off is
reported as ``rep_lost``.

Mode: the first ``CalibrationSettings.mode_rows`` rows with a finite time and
acceleration decide it once per stream (held until then). If none of them has a
gyroscope value the engine runs accelerometer-only (:data:`ACCELEROMETER_ONLY`:
gravity tilt instead of fusion, twist NaN); otherwise gyroscope fusion, where rows
with a missing gyroscope value are skipped like duplicates (docs/calibration.md).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from imu.pipeline.angles import body_matrix_entries, heading_deg, up_in_sensor
from imu.pipeline.buffers import GrowingArray
from imu.pipeline.calibration import (
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
    MovementResult,
    MovementSettings,
    calibrate_from_movement,
    gyro_bias_from_motion,
)
from imu.pipeline.orientation import (
    GravityTilt,
    GravityTiltSettings,
    Orientation,
    OrientationSettings,
)
from imu.pipeline.rep_settings import RepSettings
from imu.pipeline.reps import RepSegmenter
from imu.pipeline.settle import ExtensionGate, ExtensionGateSettings
from imu.pipeline.timing import TimedRows, Timing, TimingSettings


@dataclass(frozen=True)
class EngineSettings:
    """Settings of every stage; ``sampling_rate_hz`` None = estimated from the still period."""

    timing: TimingSettings = field(default_factory=TimingSettings)
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    orientation: OrientationSettings = field(default_factory=OrientationSettings)
    reps: RepSettings = field(default_factory=RepSettings)
    gravity_tilt: GravityTiltSettings = field(default_factory=GravityTiltSettings)
    """Orientation in accelerometer-only mode."""
    extension_gate: ExtensionGateSettings = field(default_factory=ExtensionGateSettings)
    """Accelerometer-only mode: the rows on which an extension is believed (lockout)."""
    sampling_rate_hz: float | None = None


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


@dataclass
class Step:
    """What one ``update``/``finish`` call made final.

    ``angles``: (m, 4) ``[time_s, flexion_deg, lateral_bend_deg, twist_deg]``, one row
    per input sample released (NaN where calibration failed); ``events``: dicts in
    sample order.
    """

    angles: np.ndarray
    events: list[dict]


def _join(timed: list[TimedRows]) -> TimedRows:
    """Concatenate the annotations of several chunks (gap rows shifted)."""
    gaps, offset = [], 0
    for t in timed:
        gaps += [(row + offset, event) for row, event in t.gaps]
        offset += len(t.dt_s)
    return TimedRows(
        dt_s=np.concatenate([t.dt_s for t in timed]),
        skip=np.concatenate([t.skip for t in timed]),
        restart=np.concatenate([t.restart for t in timed]),
        gaps=gaps,
    )


class Engine:
    """One streaming pipeline for live, replay and batch (see module docstring)."""

    def __init__(
        self, settings: EngineSettings | None = None, classifier=None, decision=None
    ) -> None:
        self.settings = settings or EngineSettings()
        cal = self.settings.calibration
        self.timing = Timing(self.settings.timing)
        self.segmenter = RepSegmenter(self.settings.reps, classifier, decision)
        # accelerometer-only mode: no hyperextension from a push at lockout
        self._gate = ExtensionGate(
            self.settings.reps.hyperextension_deg, self.settings.extension_gate
        )
        self.calibration: dict | None = None
        self.sampling_rate_hz = self.settings.sampling_rate_hz
        self._known_rotation = parse_mounting(cal.mounting) if cal.mounting else None
        self._phase = "still"  # still -> bend -> run, or still -> failed
        self.mode: str | None = None  # GYRO_FUSION or ACCELEROMETER_ONLY once decided
        self._undecided: list[tuple[np.ndarray, bool]] = []  # chunks before the decision
        self._mode_rows = 0  # rows with finite time and acceleration seen undecided
        self._mode_gyro = False  # any of them had a gyroscope value
        self._rows_in = 0
        # Rows held back until calibration (all input rows, in order).
        self._held = GrowingArray(7)
        self._held_timed: list[TimedRows] = []
        self._still_search = StillSearch(cal)  # the accepted rows
        self._accepted_rows = GrowingArray(1)  # their input row numbers
        self._still: StillPeriod | None = None
        self._still_end_row = 0
        self._still_time = 0.0
        self._orientation: Orientation | GravityTilt | None = None
        # Orientation of held rows once the still period is known (phase "bend").
        self._quats = GrowingArray(4)
        self._tilt_cos = GrowingArray(2)  # cos(tilt from the calibrated vertical), time_s
        self._bend_scan = 0
        self._bend_begin = -1
        self._bend_limit = -1
        self._late_scan = 0
        self._twisted_bend: tuple[np.ndarray, float] | None = None
        self._rotation_bs: np.ndarray | None = None
        self._heading_ref = 0.0
        self._movement = cal.movement or MovementSettings()
        self._movement_mark = 0  # last attempt of calibration from the movement (marks)
        self._movement_reason = ""
        self.movement: MovementResult | None = None
        """How calibration from the movement went (None if it was not used)."""
        self._refine_mark = math.inf  # next time to refine it at (inf: not refining)
        self._refine_until = math.inf  # last such time
        # accepted rows since then, and their quats (None once refining is over)
        self._refine_rows: GrowingArray | None = GrowingArray(7)
        self._refine_quats: GrowingArray | None = GrowingArray(4)
        self._gyro_map: np.ndarray | None = None  # gyroscope values -> accelerometer axes
        self._gyro_note = ""

    # -- public API -------------------------------------------------------------------
    def update(self, samples: np.ndarray, gap_before: bool = False) -> Step:
        """Feed a chunk of ``(n, 7)`` samples ``[time_s, acc_xyz m/s^2, gyr_xyz deg/s]``."""
        samples = np.asarray(samples, dtype=np.float64).reshape(-1, 7)
        if self.mode is None:
            self._undecided.append((samples, gap_before))
            finite = np.isfinite(samples)
            present = np.flatnonzero(finite[:, :4].all(axis=1))
            present = present[: self.settings.calibration.mode_rows - self._mode_rows]
            self._mode_rows += len(present)
            self._mode_gyro |= bool(finite[present, 4:].any())
            if self._mode_rows < self.settings.calibration.mode_rows:
                return Step(np.zeros((0, 4)), [])
            return self._decide()
        if self.mode == ACCELEROMETER_ONLY:
            samples = samples.copy()
            samples[:, 4:7] = 0.0  # no gyroscope: zero rates keep the rows (never used)
        elif self._gyro_map is not None:  # its axes differ from the accelerometer's
            samples = samples.copy()
            samples[:, 4:7] = samples[:, 4:7] @ self._gyro_map.T
        return self._update(samples, gap_before)

    def _decide(self) -> Step:
        """Settle the mode and feed the chunks held until then."""
        self.mode = GYRO_FUSION if self._mode_gyro or not self._mode_rows else ACCELEROMETER_ONLY
        chunks, self._undecided = self._undecided, []
        steps = [self.update(chunk, gap) for chunk, gap in chunks]
        return Step(
            np.concatenate([step.angles for step in steps]) if steps else np.zeros((0, 4)),
            [event for step in steps for event in step.events],
        )

    def _update(self, samples: np.ndarray, gap_before: bool) -> Step:
        if self._phase == "run" and self._refine_mark < math.inf:
            over = np.flatnonzero(samples[:, 0] > self._refine_mark)
            if over.size:  # rows up to the mark first, then refine, then the rest
                k = int(over[0])
                before = self._update(samples[:k], gap_before) if k else None
                events = self._refine()
                after = self._update(samples[k:], gap_before and not k)
                steps = [s for s in (before, Step(np.zeros((0, 4)), events), after) if s]
                return Step(
                    np.concatenate([s.angles for s in steps]), [e for s in steps for e in s.events]
                )
        first_row = self._rows_in
        self._rows_in += len(samples)
        timed = self.timing.update(samples, gap_before)
        if self._phase == "run":
            quats = self._orientation.update(
                samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart
            )
            return self._finish_rows(samples, timed, quats, first_row, [])
        if self._phase == "failed":
            return self._release_nan(samples, timed)
        self._held.append(samples)
        self._held_timed.append(timed)
        if self._phase == "still":
            keep = np.flatnonzero(~timed.skip)
            self._still_search.append(samples[keep])
            self._accepted_rows.append((keep + first_row)[:, None].astype(float))
            self._look_for_still(final=False)
        elif self._phase == "bend":
            self._orient_held(samples, timed)
        if self._phase == "bend":
            self._look_for_bend(final=False)
        return self._release()

    def finish(self) -> Step:
        """End of the source: settle calibration, cut a rep waiting for lockout, close the set."""
        held = self._decide() if self.mode is None else Step(np.zeros((0, 4)), [])
        if self._phase == "still":
            self._look_for_still(final=True)
        if self._phase == "bend":
            self._look_for_bend(final=True)
        step = self._release()
        tail = self.segmenter.finish()
        return Step(
            np.concatenate([held.angles, step.angles]),
            held.events + step.events + self._rep_outputs([event for _, event in tail]),
        )

    # -- calibration phases ----------------------------------------------------------
    def _look_for_still(self, final: bool) -> None:
        cal = self.settings.calibration
        rows, still = self._still_search.rows, self._still_search.found
        if still is None and final and not len(rows):
            no_gyro = self.timing.n_without_gyro
            self._fail(
                "every row lacks a gyroscope value although the first rows had one: "
                "export the gyroscope with every sample, or leave the gyr_* columns empty in "
                "every row for accelerometer-only analysis"
                if no_gyro
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
        self._still = still
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = float(1.0 / np.median(np.diff(rows[: still.end + 1, 0])))
        self._still_end_row = int(self._accepted_rows.array[still.end, 0])
        self._still_time = float(rows[still.end, 0])
        initial = still.up_sensor if still.start == 0 else None  # recording starts still
        if self.mode == ACCELEROMETER_ONLY:
            self._orientation = GravityTilt(
                self.settings.gravity_tilt,
                None if initial is None else initial * STANDARD_GRAVITY_M_S2,
            )
        else:
            self._orientation = Orientation(
                self.settings.orientation, self.sampling_rate_hz, still.gyro_bias_deg_s, initial
            )
        self._still_search = self._accepted_rows = None
        self._phase = "bend"
        self._orient_held(self._held.array, _join(self._held_timed))

    def _mounting_alone(self) -> bool:
        """No still period and no reps, but ``--mounting`` given: its axes as they are
        (upright = its z axis, so the strap's tilt on the lower back reads as flexion)."""
        rows = self._still_search.rows
        if self._known_rotation is None or len(rows) < self._movement.min_rows:
            return False
        rotation = self._known_rotation
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = float(1.0 / np.median(np.diff(rows[:, 0])))
        self._still = StillPeriod(0, 0, np.zeros(3), rotation[2], 1.0)
        self._still_end_row = int(self._accepted_rows.array[0, 0])
        self._still_time = float(rows[0, 0])
        self._orientation = Orientation(
            self.settings.orientation, self.sampling_rate_hz, np.zeros(3), None
        )
        self._still_search = self._accepted_rows = None
        self._phase = "bend"
        self._orient_held(self._held.array, _join(self._held_timed))
        self._set_rotation(
            rotation,
            0.5,
            "from --mounting alone (no still period and no reps: upright = its z axis, "
            "the strap's tilt reads as flexion)",
            method="mounting",
        )
        return True

    def _try_movement(self, final: bool, before_s: float = math.inf) -> bool:
        """Calibrate from the reps (no still period): attempted each time the stream passes
        a multiple of ``MovementSettings.step_s`` after its first row (marks before
        ``before_s``, the end of a still period found meanwhile), on the rows up to that
        time (so chunking does not matter), and with ``final`` once more on every row.
        True if calibrated (the phase is then "ready")."""
        mv = self._movement
        rows = self._still_search.rows
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
        if self.mode == ACCELEROMETER_ONLY:
            self._movement_reason = "accelerometer only: needs a still period or --mounting"
            return False
        rate_hz = float(1.0 / np.median(np.diff(window[:, 0])))
        input_rows = self._accepted_rows.array[first:stop, 0].astype(int)
        self._window_first = float(input_rows[0])
        lo, hi = int(input_rows[0]), int(input_rows[-1]) + 1
        held = self._held.array[lo:hi]
        timed = _join(self._held_timed)
        skip = timed.skip[lo:hi].copy()
        restart = timed.restart[lo:hi].copy()
        dt_s = timed.dt_s[lo:hi].copy()
        restart[0], dt_s[0] = True, 0.0

        def attempt(bias: np.ndarray, initial: np.ndarray | None):
            orientation = Orientation(self.settings.orientation, rate_hz, bias, initial)
            quats = orientation.update(held[:, 1:4], held[:, 4:7], dt_s, skip, restart)
            up = up_in_sensor(quats[input_rows - lo])
            return calibrate_from_movement(
                window, up, bias, mv, final=final, known_rotation=self._known_rotation
            )

        # first without a bias (enough reps yet?), then with the fitted bias and start tilt
        result = attempt(np.zeros(3), None)
        if not isinstance(result, str):
            fitted = gyro_bias_from_motion(window, mv)
            bias, initial = fitted if fitted is not None else (np.zeros(3), None)
            result = attempt(bias, initial)
        if isinstance(result, str):
            self._movement_reason = result
            return False
        self.movement = result
        self._calibrate_from(result, bias, initial, rate_hz, int(input_rows[result.top_row]), end_s)
        return True

    def _calibrate_from(
        self,
        result: MovementResult,
        bias: np.ndarray,
        initial: np.ndarray,
        rate_hz: float,
        top_input_row: int,
        end_s: float,
    ) -> None:
        """Settle calibration from the movement: orient every held row and release them."""
        if self.sampling_rate_hz is None:
            self.sampling_rate_hz = rate_hz
        up = result.rotation_bs[2]
        self._still = StillPeriod(result.top_row, result.top_row, bias, up, 1.0)
        self._still_end_row = top_input_row
        self._still_time = float(self._held.array[top_input_row, 0])
        # the held rows from the first: started from the gravity of the attempt's window,
        # valid for the first held row when the window starts there (else the fusion converges)
        first_window_row = self._accepted_rows.array[0, 0]
        self._orientation = Orientation(
            self.settings.orientation,
            self.sampling_rate_hz,
            bias,
            initial if first_window_row == self._window_first else None,
        )
        self._still_search = self._accepted_rows = None
        self._phase = "bend"
        self._orient_held(self._held.array, _join(self._held_timed))
        sign = {"mounting": "--mounting"}.get(result.sign_from, result.sign_from)
        self._set_rotation(
            result.rotation_bs,
            result.quality,
            f"from the movement ({result.n_excursions} bends; upright = the tops of the reps, "
            f"flexion sign from {sign})",
            method="movement",
        )
        # refined at the marks after the one it was taken at (``end_s``), until it is, or
        # for ``window_s``
        self._refine_mark = end_s + self._movement.step_s
        self._refine_until = end_s + self._movement.window_s

    def _refine(self) -> list[dict]:
        """At a mark after calibrating from the movement: once ``refine_tops`` rep tops are
        in, take the calibration again from all rows so far (the rows up to the mark) and
        use it for the rows after the mark; what was reported stays. Returns the refined
        ``calibration`` event, if it changed by more than 0.5 deg."""
        mv = self._movement
        mark = self._refine_mark
        self._refine_mark = mark + mv.step_s if mark + mv.step_s <= self._refine_until else math.inf
        rows = self._refine_rows.array
        stop = int(np.searchsorted(rows[:, 0], mark, side="right"))
        first = int(np.searchsorted(rows[:stop, 0], mark - mv.window_s, side="left"))
        quats = self._refine_quats.array[first:stop]
        result = calibrate_from_movement(
            rows[first:stop], up_in_sensor(quats), self._still.gyro_bias_deg_s, mv,
            final=False, known_rotation=self._known_rotation,
        )  # fmt: skip
        if isinstance(result, str) or result.n_tops < mv.refine_tops:
            if self._refine_mark == math.inf:  # that was the last mark: the rows go
                self._refine_rows = self._refine_quats = None
            return []
        self._refine_mark = math.inf  # once
        self._refine_rows = self._refine_quats = None
        old = self._rotation_bs
        change = (np.trace(result.rotation_bs @ old.T) - 1.0) / 2.0
        change_deg = math.degrees(math.acos(max(-1.0, min(1.0, change))))
        if change_deg <= 0.5 or change_deg > mv.max_refine_deg:
            return []  # (a larger change is not a refinement: the first estimate stays)
        self.movement = result
        last = quats[-1:]
        twist = float(heading_deg(body_matrix_entries(last, old))[0]) - self._heading_ref
        self._rotation_bs = result.rotation_bs
        self._sb = np.ascontiguousarray(result.rotation_bs.T)
        heading = float(heading_deg(body_matrix_entries(last, result.rotation_bs))[0])
        self._heading_ref = heading - twist  # twist goes on where it was
        name, misalignment = mounting_name(result.rotation_bs)
        self.calibration = {
            **self.calibration,
            "quality": result.quality,
            "message": (
                f"calibration refined from the movement ({result.n_tops} rep tops): body axes "
                f"turned by {change_deg:.1f} deg; angles after t={mark:g} s use it, earlier "
                "ones stay as reported"
            ),
            "mounting": name,
            "mounting_misalignment_deg": round(misalignment, 2),
            "time_s": mark,
            "refined": True,
        }
        return [self.calibration]

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
        if self.mode == ACCELEROMETER_ONLY:
            times = self._tilt_cos.array[in_bend, 1]
            return float(np.ptp(times[np.isfinite(times)])) <= cal.max_bend_hold_s
        return self._bend_turn_deg(begin, stop) <= cal.max_bend_turn_deg

    def _bend_turn_deg(self, begin: int, stop: int) -> float:
        """How far (deg) the sensor turned about the vertical during held rows ``begin..stop-1``."""
        samples = self._held.array[begin:stop]
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
        if self._gyro_map is not None or self.mode != GYRO_FUSION:
            return False
        timed = _join(self._held_timed)
        rows = np.flatnonzero(~timed.skip[self._still_end_row + 1 :]) + self._still_end_row + 1
        found = gyro_axes_mapping(self._held.array[rows], self._still.gyro_bias_deg_s)
        if found is None:
            return False
        mapping, unit = found
        self._gyro_map, self._gyro_note = mapping, describe_gyro_mapping(mapping, unit)
        held = self._held.array.copy()
        held[:, 4:7] = held[:, 4:7] @ mapping.T
        self._held = GrowingArray(7)
        self._held.append(held)
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
                if self.mode == ACCELEROMETER_ONLY
                else f"turned more than {cal.max_bend_turn_deg:g} deg"
            )
            how = f"from a bend that {rule} (check the flexion sign)"
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

    def _set_rotation(
        self, rotation_bs: np.ndarray, axis_quality: float, how: str, method: str = "still_period"
    ) -> None:
        from imu.pipeline import fusion

        self._rotation_bs = rotation_bs
        self._sb = np.ascontiguousarray(rotation_bs.T)  # the angle kernels' layout
        self._angle_kernels = fusion
        still_q = self._quats.array[self._still_end_row : self._still_end_row + 1]
        self._heading_ref = float(heading_deg(body_matrix_entries(still_q, rotation_bs))[0])
        name, misalignment = mounting_name(rotation_bs)
        still = self._still
        acc_only = self.mode == ACCELEROMETER_ONLY
        message = (
            f"calibrated: still period, forward axis {how}"
            if method == "still_period"
            else f"calibrated {how}"
        )
        if self._gyro_note:
            message += f"; {self._gyro_note} (it did not turn the way the accelerometer did)"
        if acc_only:
            message += (
                "; accelerometer only (no gyroscope): no twist, flexion and lateral bend "
                "less accurate during fast motion"
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
            if acc_only
            else [round(float(b), 4) for b in still.gyro_bias_deg_s],
            "time_s": self._still_time,
            "sampling_rate_hz": self.sampling_rate_hz,
            **self._mode_fields(),
        }
        self._phase = "ready"

    def _mode_fields(self) -> dict:
        """``mode`` and the features it lacks (``unavailable``) or weakens (``degraded``)."""
        acc_only = self.mode == ACCELEROMETER_ONLY
        return {
            "mode": self.mode,
            "unavailable": list(ACC_ONLY_UNAVAILABLE) if acc_only else [],
            "degraded": list(ACC_ONLY_DEGRADED) if acc_only else [],
        }

    def _fail(self, message: str) -> None:
        self.calibration = {
            "type": "calibration", "ok": False, "method": None, "quality": 0.0, "message": f"calibration failed: {message}",
            "mounting": None, "mounting_misalignment_deg": None, "gyro_bias_deg_s": None, "time_s": None,
            "sampling_rate_hz": self.sampling_rate_hz, **self._mode_fields(),
        }  # fmt: skip
        self._phase = "failed"

    def _release(self) -> Step:
        """Hand out the held rows once calibration is settled (calibration event first)."""
        if self._phase not in ("ready", "failed") or not self._held.n:
            return Step(np.zeros((0, 4)), [])
        samples, timed = self._held.array, _join(self._held_timed)
        self._held, self._held_timed = GrowingArray(7), []  # (views of the old rows live on)
        if self._phase == "failed":
            step = self._release_nan(samples, timed)
            step.events.insert(0, self.calibration)
            return step
        quats = self._quats.array
        self._quats = self._tilt_cos = None
        self._phase = "run"
        if self._refine_mark == math.inf:
            return self._finish_rows(samples, timed, quats, 0, [(-1, self.calibration)])
        # held rows past the marks at which calibration from the movement may be refined:
        # in pieces, refined between them, as if they had come after it (live)
        steps, lo, first_events = [], 0, [(-1, self.calibration)]
        while lo < len(samples):
            over = np.flatnonzero(samples[lo:, 0] > self._refine_mark)
            hi = lo + int(over[0]) if over.size else len(samples)
            if hi > lo:
                piece = TimedRows(
                    timed.dt_s[lo:hi], timed.skip[lo:hi], timed.restart[lo:hi],
                    [(row - lo, gap) for row, gap in timed.gaps if lo <= row < hi],
                )  # fmt: skip
                steps.append(
                    self._finish_rows(samples[lo:hi], piece, quats[lo:hi], lo, first_events)
                )
                first_events = []
            if hi < len(samples):
                steps.append(Step(np.zeros((0, 4)), self._refine()))
            lo = hi
        return Step(np.concatenate([s.angles for s in steps]), [e for s in steps for e in s.events])

    # -- running ---------------------------------------------------------------------
    def _finish_rows(
        self, samples: np.ndarray, timed: TimedRows, quats: np.ndarray, first_row: int, events: list
    ) -> Step:
        n = len(samples)
        heading_ref = np.full(n, self._heading_ref)
        restarts = sorted({row for row, gap in timed.gaps if gap["restarted"]})
        if restarts:
            headings = heading_deg(body_matrix_entries(quats[restarts], self._rotation_bs))
            for row, heading in zip(restarts, headings, strict=True):
                heading_ref[row:] = heading
            self._heading_ref = float(headings[-1])
        out = np.empty((n, 4))  # [time_s, flexion_deg, lateral_bend_deg, twist_deg]
        out[:, 0] = samples[:, 0]
        self._angle_kernels.body_angles_chunk(quats, self._sb, heading_ref, out)
        angles = out[:, 1:]
        acc_only = self.mode == ACCELEROMETER_ONLY
        seen = angles  # what the segmenter sees
        if acc_only:  # a constant heading; extension where settled
            seen = angles.copy()
            seen[:, 0] = self._gate.chunk(out[:, 0], samples[:, 1:4], quats, angles[:, 0])
            seen[:, 2] = 0.0
        events = events + [(first_row + row, event) for row, event in timed.gaps]
        accepted = ~timed.skip & np.isfinite(seen[:, 0])
        if self._refine_mark < math.inf:
            self._refine_rows.append(samples[accepted])
            self._refine_quats.append(quats[accepted])
        bounds = sorted({0, *restarts, n})
        for lo, hi in itertools.pairwise(bounds):
            if lo in restarts:
                self.segmenter.restart()
            keep = np.flatnonzero(accepted[lo:hi]) + lo
            if keep.size:
                rows = slice(lo, hi) if keep.size == hi - lo else keep  # a view when all kept
                events += self.segmenter.update(samples[rows, 0], seen[rows], keep + first_row)
        events.sort(key=lambda pair: pair[0])
        if acc_only:
            angles[:, 2] = np.nan
        return Step(out, self._rep_outputs([event for _, event in events]))

    def _rep_outputs(self, events: list[dict]) -> list[dict]:
        """Accelerometer-only: rep twist ranges are unknown (None), not the 0 the segmenter saw."""
        if self.mode == ACCELEROMETER_ONLY:
            for event in events:
                if event["type"] == "rep":
                    event["twist_range_deg"] = None
        return events

    @staticmethod
    def _release_nan(samples: np.ndarray, timed: TimedRows) -> Step:
        angles = np.full((len(samples), 4), np.nan)
        angles[:, 0] = samples[:, 0]
        return Step(angles, [event for _, event in timed.gaps])
