"""The streaming engine: timing -> calibration -> orientation -> angles -> reps/sets.

``Engine.update(samples)`` takes any chunk of ``(n, 7)`` samples (one sample, a BLE
notification, a whole file) and returns a :class:`Step` with the angles and events that
became final. Batch analysis feeds a recording through the very same object, so
streamed and batch results are identical (tested with random chunk sizes).

Latency: until calibration is established (still period, then the first forward bend)
rows are buffered; they are released, with their angles, when the forward bend ends,
and the ``calibration`` event comes first: its angles start at the stream's first row.
(A failed one comes after the events of the rows it releases, in recording-time order.)
After that, angles are emitted in the same call. A calibration refined from the movement
applies from its ``time_s``; its event comes once every rep and alert stamped before
that time is out (:meth:`Engine._in_order`), so events read in recording-time order. A ``rep`` event comes when the rep is decided (imu/pipeline/rep_decision.py): when
the next excursion rises or ``decide_s`` after its lockout; a ``set`` event when the set
ends (``quiet_s`` without a next rep). Alerts do not wait: an excursion that the early
verdict takes for a rep is judged at its lockout (``provisional: true`` alerts, withdrawn
by ``alert_withdrawn`` if the rep does not confirm them, said again by
``alert_renumbered`` if it gets another number, a rep before it counted on looking back
since; docs/contracts.md,
docs/calibration.md, reps). After a gap that restarts, an excursion it cut off is
reported as ``rep_lost``; so is an excursion across a bridged gap that the rep decision
does not take for a rep (without the rows lost it cannot be told from a non-rep).

Mode: the first ``CalibrationSettings.mode_rows`` rows with a finite time and
acceleration decide it once per stream (held until then). If none of them has a
gyroscope value the engine runs accelerometer-only (:data:`ACCELEROMETER_ONLY`:
gravity tilt instead of fusion, twist NaN); otherwise gyroscope fusion, where rows
with a missing gyroscope value are skipped like duplicates (docs/calibration.md).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from imu.pipeline.angles import body_matrix_entries, heading_deg
from imu.pipeline.calibration import CalibrationSettings
from imu.pipeline.calibration_phase import (
    ACC_ONLY_DEGRADED,
    ACC_ONLY_UNAVAILABLE,
    ACCELEROMETER_ONLY,
    GYRO_FUSION,
    CalibrationPhase,
    CalibrationPhaseSettings,
)
from imu.pipeline.movement import MovementResult
from imu.pipeline.orientation import (
    GravityTilt,
    GravityTiltSettings,
    Orientation,
    OrientationSettings,
)
from imu.pipeline.rep_settings import RepSettings
from imu.pipeline.reps import RepSegmenter
from imu.pipeline.settle import ExtensionGate, ExtensionGateSettings
from imu.pipeline.sign_check import SignCheck, SignCheckSettings
from imu.pipeline.timing import TimedRows, Timing, TimingSettings
from imu.pipeline.upright_check import Revisions

__all__ = [
    "ACCELEROMETER_ONLY",
    "ACC_ONLY_DEGRADED",
    "ACC_ONLY_UNAVAILABLE",
    "GYRO_FUSION",
    "Engine",
    "EngineSettings",
    "Step",
]


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
    sign_check: SignCheckSettings = field(default_factory=SignCheckSettings)
    """The warning when bends read backwards (imu/pipeline/sign_check.py)."""
    sampling_rate_hz: float | None = None


@dataclass
class Step:
    """What one ``update``/``finish`` call made final.

    ``angles``: (m, 4) ``[time_s, flexion_deg, lateral_bend_deg, twist_deg]``, one row
    per input sample released (NaN where calibration failed); ``events``: dicts in
    sample order.
    """

    angles: np.ndarray
    events: list[dict]


def _stamp_s(event: dict) -> float:
    """The sample time an event is about: a rep, set or gap at its end, others at
    ``time_s`` (-inf without one)."""
    time_s = event.get("end_s" if event["type"] in ("rep", "set", "gap") else "time_s")
    return -math.inf if time_s is None else time_s


def _steps(steps: list[Step]) -> Step:
    """Several steps as one."""
    if len(steps) <= 1:  # (most calls: one piece, no copy)
        return steps[0] if steps else Step(np.zeros((0, 4)), [])
    return Step(np.concatenate([s.angles for s in steps]), [e for s in steps for e in s.events])


class Engine:
    """One streaming pipeline for live, replay and batch (see module docstring)."""

    def __init__(
        self, settings: EngineSettings | None = None, classifier=None, decision=None
    ) -> None:
        self.settings = settings or EngineSettings()
        self.timing = Timing(self.settings.timing)
        self.segmenter = RepSegmenter(self.settings.reps, classifier, decision)
        # accelerometer-only mode: no hyperextension from a push at lockout
        self._gate = ExtensionGate(
            self.settings.reps.hyperextension_deg, self.settings.extension_gate
        )
        self.sign_check = SignCheck(self.settings.sign_check, self.settings.calibration.mounting)
        self.calibration: dict | None = None
        self.sampling_rate_hz = self.settings.sampling_rate_hz
        self.mode: str | None = None  # GYRO_FUSION or ACCELEROMETER_ONLY once decided
        self._undecided: list[tuple[np.ndarray, bool]] = []  # chunks before the decision
        self._mode_rows = 0  # rows with finite time and acceleration seen undecided
        self._mode_gyro = False  # any of them had a gyroscope value
        self._rows_in = 0
        self._calibrating: CalibrationPhase | None = None  # until calibration is settled
        self._failed = False
        self._orientation: Orientation | GravityTilt | None = None
        self._rotation_bs: np.ndarray | None = None
        self._heading_ref = 0.0
        self._refinement: Revisions | None = None
        self._gyro_map: np.ndarray | None = None  # gyroscope values -> accelerometer axes
        self.movement: MovementResult | None = None
        """How calibration from the movement went (None if it was not used)."""
        self._held: list[dict] = []  # refined calibrations waiting for the reps before them

    @property
    def phase(self) -> str:
        """``mode`` (deciding the mode), the calibration phase's (``still``, ``bend``),
        ``failed`` or ``run``."""
        if self.mode is None:
            return "mode"
        if self._calibrating is not None:
            return self._calibrating.phase
        return "failed" if self._failed else "run"

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
        gyro_map = self._calibrating.gyro_map if self._calibrating else self._gyro_map
        if self.mode == ACCELEROMETER_ONLY:
            samples = samples.copy()
            samples[:, 4:7] = 0.0  # no gyroscope: zero rates keep the rows (never used)
        elif gyro_map is not None:  # its axes differ from the accelerometer's
            samples = samples.copy()
            samples[:, 4:7] = samples[:, 4:7] @ gyro_map.T
        return self._update(samples, gap_before)

    def _decide(self) -> Step:
        """Settle the mode and feed the chunks held until then."""
        self.mode = GYRO_FUSION if self._mode_gyro or not self._mode_rows else ACCELEROMETER_ONLY
        s = self.settings
        self._calibrating = CalibrationPhase(
            CalibrationPhaseSettings(
                s.calibration, s.orientation, s.gravity_tilt, self.mode, s.sampling_rate_hz
            )
        )
        chunks, self._undecided = self._undecided, []
        return _steps([self.update(chunk, gap) for chunk, gap in chunks])

    def _update(self, samples: np.ndarray, gap_before: bool) -> Step:
        if self._calibrating is None:
            if self._failed:
                self._rows_in += len(samples)
                return self._release_nan(samples, self.timing.update(samples, gap_before))

            def measure(lo: int, hi: int) -> Step:
                first_row = self._rows_in
                self._rows_in += hi - lo
                timed = self.timing.update(samples[lo:hi], gap_before and not lo)
                quats = self._orientation.update(
                    samples[lo:hi, 1:4], samples[lo:hi, 4:7], timed.dt_s, timed.skip,
                    timed.restart,
                )  # fmt: skip
                return self._finish_rows(samples[lo:hi], timed, quats, first_row, [])

            return self._refined_between(samples[:, 0], measure)
        self._rows_in += len(samples)
        timed = self.timing.update(samples, gap_before)
        settled = self._calibrating.update(samples, timed)
        return self._release(settled) if settled else Step(np.zeros((0, 4)), [])

    def finish(self) -> Step:
        """End of the source: settle calibration, cut a rep waiting for lockout, close the set."""
        held = self._decide() if self.mode is None else Step(np.zeros((0, 4)), [])
        step = Step(np.zeros((0, 4)), [])
        if self._calibrating is not None:
            step = self._release(self._calibrating.finish(self.timing.n_without_gyro))
        tail = self._rep_outputs([event for _, event in self.segmenter.finish()])
        return Step(
            np.concatenate([held.angles, step.angles]),
            self._in_order(held.events + step.events + tail, final=True),
        )

    # -- calibration settled -----------------------------------------------------------
    def _release(self, settled) -> Step:
        """Calibration is settled: hand out the held rows (calibration event first) and
        go on measuring."""
        self._calibrating = None
        self.calibration = settled.event
        self.sampling_rate_hz = settled.sampling_rate_hz
        samples, timed = settled.samples, settled.timed
        if not len(samples):  # (nothing held: the event is the engine's calibration alone)
            self._failed = not settled.event["ok"]
            return Step(np.zeros((0, 4)), [])
        if not settled.event["ok"]:  # after the events of the rows it held (gaps)
            self._failed = True
            step = self._release_nan(samples, timed)
            step.events.append(self.calibration)
            return step
        self._orientation = settled.orientation
        self._set_rotation(settled.rotation_bs)
        self._heading_ref = settled.heading_ref
        self._gyro_map = settled.gyro_map
        self.movement = settled.movement
        self._refinement = settled.refinement
        first_events = [(-1, self.calibration)]  # with the first rows measured
        if self.movement is not None and math.isfinite(self.movement.mounting_off_deg):
            warning = self.sign_check.warn_mounting(
                float(self.calibration["time_s"]), self.movement.mounting_off_deg
            )
            first_events.append((-1, warning))

        def measure(lo: int, hi: int) -> Step:
            piece = TimedRows(
                timed.dt_s[lo:hi], timed.skip[lo:hi], timed.restart[lo:hi],
                [(row - lo, gap) for row, gap in timed.gaps if lo <= row < hi],
            )  # fmt: skip
            events = first_events.copy()
            first_events.clear()
            return self._finish_rows(samples[lo:hi], piece, settled.quats[lo:hi], lo, events)

        return self._refined_between(samples[:, 0], measure)

    def _refined_between(self, times: np.ndarray, measure) -> Step:
        """Rows ``times`` measured by ``measure(lo, hi)`` in pieces split where the stream
        passes the marks at which calibration may be refined (from the movement) or revised
        (the upright check), refined between them (so held rows are measured as if they had
        come after it, live)."""
        steps, lo = [], 0
        while lo < len(times):
            hi = len(times)
            if self._refinement is not None and self._refinement.mark < math.inf:
                over = np.flatnonzero(times[lo:] > self._refinement.mark)
                hi = lo + int(over[0]) if over.size else hi
            if hi > lo:
                steps.append(measure(lo, hi))
            if hi < len(times):
                self._held += self._refine()
                steps.append(Step(np.zeros((0, 4)), self._in_order([])))
            lo = hi
        return _steps(steps)

    def _refine(self) -> list[dict]:
        """At a mark: calibration refined or revised for the rows after it."""
        refined = self._refinement.at_mark(self._rotation_bs, self._heading_ref, self.calibration)
        if self._refinement.mark == math.inf:
            self._refinement = None
        if refined is None:
            return []
        if refined.movement is not None:
            self.movement = refined.movement
        self._set_rotation(refined.rotation_bs)
        self._heading_ref = refined.heading_ref
        self.calibration = refined.event
        return [self.calibration]

    def _set_rotation(self, rotation_bs: np.ndarray) -> None:
        from imu.pipeline import fusion

        self._rotation_bs = rotation_bs
        self._sb = np.ascontiguousarray(rotation_bs.T)  # the angle kernels' layout
        self._angle_kernels = fusion

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
        if self._refinement is not None:
            self._refinement.append(samples[accepted], quats[accepted])
        for _, gap in timed.gaps:
            if not gap["restarted"]:
                self.segmenter.note_gap(gap["start_s"], gap["end_s"])
        bounds = sorted({0, *restarts, n})
        for lo, hi in itertools.pairwise(bounds):
            if lo in restarts:
                self.segmenter.restart()
                self.sign_check.restart()
            keep = np.flatnonzero(accepted[lo:hi]) + lo
            if keep.size:
                rows = slice(lo, hi) if keep.size == hi - lo else keep  # a view when all kept
                acc_norm = np.linalg.norm(samples[rows, 1:4], axis=1)
                events += self.segmenter.update(
                    samples[rows, 0], seen[rows], keep + first_row, acc_norm
                )
                # the flexion a person sees (not the segmenter's gated extension)
                events += [
                    (int(keep[row]) + first_row, warning)
                    for row, warning in self.sign_check.update(samples[rows, 0], angles[rows, 0])
                ]
        events.sort(key=lambda pair: pair[0])
        if acc_only:
            angles[:, 2] = np.nan
        return Step(out, self._in_order(self._rep_outputs([event for _, event in events])))

    def _in_order(self, events: list[dict], final: bool = False) -> list[dict]:
        """``events`` with the held refined calibrations in recording-time order: each
        before the first event stamped after its ``time_s`` (where its angles start), else
        at the end once no rep or alert stamped before that can come any more (``final``:
        the stream ended). A rep that locked out before the mark is decided after it."""
        while self._held:
            from_s = self._held[0]["time_s"]
            at = next((i for i, e in enumerate(events) if _stamp_s(e) > from_s), None)
            if at is None:
                if not final and self.segmenter.undecided_from_s < from_s:
                    break
                at = len(events)
            events = [*events[:at], self._held.pop(0), *events[at:]]
        return events

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
