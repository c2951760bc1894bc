"""Is the calibrated upright really upright? A re-check from what follows calibration.

A still period held bent (the set-up hold before a pull from the floor, a floor pause,
a plate held while loading) passes every test of a still period, so a recording that
starts there is calibrated with that posture as upright, and the lifter standing up is
taken as the first forward bend: the flexion sign comes out inverted for the whole
file (standing reads ~+50-90 deg). Calibration from the movement can go wrong in the
same way on a file that starts in the middle of gym activity. So after any calibration
two kinds of evidence of upright are watched:

- walking: nobody walks bent over, and steps show in the acceleration whatever the
  mounting; once ``evidence_s`` of it is in, its posture decides;
- until then, the reps: calibration from the movement (imu/pipeline/movement.py) on the
  last ``bends_s``, once it sees ``reps_tops`` rep tops with quality ``reps_quality`` and
  the segment's clear drop at depth among its sign evidence: the posture the lifter keeps
  coming back to between reps.

Either confirms the calibrated upright (within ``confirm_deg``: the check ends, nothing
changes) or contradicts it by more than ``contradict_deg`` with the old upright reading
bent forward: then the engine uses the evidence's body axes (upright from quiet standing
at that posture, if any) for the rows after that mark. Rows already reported keep their
angles; a ``calibration`` event with ``refined: true`` and ``revised: true`` says so.
docs/calibration.md has the figures.

Contract (the same as :class:`imu.pipeline.movement.Refinement`, so the engine treats
both alike): :attr:`mark` (s; ``inf`` once over), :meth:`append` (accepted rows and
their quaternions, in order), :meth:`at_mark` when the stream passes :attr:`mark`
(only the rows up to the mark are in: the outcome does not depend on chunking).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from imu.pipeline.angles import body_matrix_entries, heading_deg, up_in_sensor
from imu.pipeline.buffers import GrowingArray
from imu.pipeline.calibration import forward_from_bend, mounting_name, rotation_from_axes
from imu.pipeline.movement import (
    UPRIGHT_WORDS,
    MovementSettings,
    Refined,
    calibrate_from_movement,
    quiet_rows,
)
from imu.pipeline.rep_decision import _acc_activity as acc_activity  # (walking's steps)


@dataclass(frozen=True)
class UprightCheckSettings:
    """How the calibrated upright is checked against the walking after it."""

    step_s: float = 1.0
    """The check looks at the rows each time the stream passes a multiple of this (s)."""
    walk_window_s: float = 3.0
    """Walking is judged on windows of this many seconds (s), one per step."""
    step_rms_m_s2: float = 0.6
    """Walking: the acceleration's norm swings at step frequencies (1.2-2.8 Hz) by at
    least this RMS (m/s^2; SYNTHETIC gym walking 0.6-1.4, reps and bends below 0.6) ..."""
    walk_spread_deg: float = 12.0
    """... while the trunk's tilt stays within this of its mean over the window (deg;
    simulated walking sways ~3 deg, a rep or bend moves tens of degrees)."""
    evidence_s: float = 6.0
    """Seconds of walking windows before the posture of walking decides."""
    confirm_deg: float = 20.0
    """Walking within this of the calibrated upright confirms it (deg): the check ends."""
    contradict_deg: float = 35.0
    """Walking further than this from the calibrated upright revises it (deg): reps read
    at least 35 deg (a shallow Romanian deadlift), nobody walks that bent."""
    standing_deg: float = 10.0
    """Quiet rows within this of the walking posture are standing: upright from them."""
    standing_deg_s: float = 10.0
    """Quiet: the trunk turns slower than this (deg/s, bias-corrected) ..."""
    standing_acc_m_s2: float = 0.5
    """... and the acceleration's norm is within this of the part's g at rest (m/s^2;
    :func:`imu.pipeline.movement.quiet_rows`, over the rows looked at)."""
    min_standing_s: float = 1.0
    """At least this many seconds of such standing to take upright from it (s)."""
    bends_s: float = 40.0
    """The forward axis of a revision comes from the bends of the last this many seconds."""
    bend_deg: float = 30.0
    """A row tilted further than this from the new upright is in a bend (deg)."""
    reps_every_s: float = 5.0
    """Until walking decides, the reps of the last ``bends_s`` are looked at this often (s)."""
    reps_tops: int = 5
    """The reps decide once calibration from them (imu/pipeline/movement.py) finds this many
    rep tops ..."""
    reps_quality: float = 0.7
    """... with at least this quality, the segment's drop at depth among the evidence of
    the flexion sign (the physical one; the strapping's axes alone may mislead) and clear
    by itself: at least ``MovementSettings.height_m_per_rad`` (0.12 m/rad, its unit of
    clear evidence). A weak drop beside the axes does not do: on Romanian deadlifts
    (38-50 deg hinges, the sensor barely moves) with a strap tilted ~17 deg, both read
    the other end as upright at a third of a unit each (0.045 m/rad), quality 0.70, and
    revised a right standing start to the bottom of the reps (SYNTHETIC, bench_gym seed
    85 lifter 2: 6 of 167 reps found)."""
    check_s: float = 900.0
    """Without enough walking this long after calibration the check ends (s)."""


class UprightCheck:
    """The re-check from walking and reps (module docstring)."""

    def __init__(
        self,
        settings: UprightCheckSettings,
        gyro_bias_deg_s: np.ndarray,
        first_mark_s: float,
        known_rotation: np.ndarray | None = None,
        movement: MovementSettings | None = None,
    ) -> None:
        self.settings = settings
        self.mark = first_mark_s
        self._until = first_mark_s + settings.check_s
        self._bias = np.asarray(gyro_bias_deg_s, dtype=float)
        self._known_rotation = known_rotation  # --mounting: its axes stay
        self._movement = movement or MovementSettings()
        self._marks = 0
        self._rows: GrowingArray | None = GrowingArray(7)
        self._quats = GrowingArray(4)
        self._walk_up = np.zeros(3)
        self._walk_s = 0.0
        self._quiet: list[tuple[np.ndarray, float]] = []  # per mark: sum of up, seconds

    def append(self, samples: np.ndarray, quats: np.ndarray) -> None:
        """Accepted rows (m, 7) and their quaternions (m, 4), in order."""
        if self._rows is not None:
            self._rows.append(samples)
            self._quats.append(quats)

    def at_mark(
        self, rotation_bs: np.ndarray, heading_ref: float, calibration: dict
    ) -> Refined | None:
        """The stream passed :attr:`mark`: a revised calibration if the walking or the reps
        so far contradict ``rotation_bs`` (the body axes in use); ``heading_ref`` and
        ``calibration`` are the ones in use."""
        s = self.settings
        mark = self.mark
        self.mark = mark + s.step_s if mark + s.step_s <= self._until else math.inf
        self._marks += 1
        self._trim(mark - max(s.bends_s, s.walk_window_s))
        rows, quats = self._rows.array, self._quats.array
        window = np.flatnonzero(rows[:, 0] > mark - s.walk_window_s)
        ups = up_in_sensor(quats[window])
        new = rows[window, 0] > mark - s.step_s
        self._note_quiet(rows[window][new])
        if self._walking(rows[window], ups):
            self._walk_up += ups.mean(axis=0) * s.step_s
            self._walk_s += s.step_s
        found = None  # (body axes the evidence gives, what it is, upright word, quality)
        if self._walk_s >= s.evidence_s:
            found = self._from_walking(rotation_bs, quats)
        elif self._marks % max(1, round(s.reps_every_s / s.step_s)) == 0:
            found = self._from_reps(rows, quats, mark)
        if found is None:
            self._end_if_over()
            return None
        rotation, evidence, upright, words, quality = found
        off_deg = _angle_deg(rotation[2], rotation_bs[2])
        if off_deg <= s.confirm_deg:
            self._end()
            return None
        # the old upright, as the evidence reads it: bent forward (a hold at the bar)
        old_flexion = math.degrees(
            math.atan2(-float(rotation_bs[2] @ rotation[0]), float(rotation_bs[2] @ rotation[2]))
        )
        if off_deg < s.contradict_deg or old_flexion <= 0.0:
            self._end_if_over()
            return None
        self._end()
        last = quats[-1:]
        twist = float(heading_deg(body_matrix_entries(last, rotation_bs))[0]) - heading_ref
        heading = float(heading_deg(body_matrix_entries(last, rotation))[0])
        name, misalignment = mounting_name(rotation)
        event = {
            **calibration,
            "quality": round(float(quality), 3),
            "message": (
                f"calibration revised: the upright it was taken from reads {old_flexion:+.0f} "
                f"deg against {evidence} (held bent, not upright); upright = "
                f"{words}; angles from then on use it, earlier ones "
                "stay as reported (stand upright 2 s at the start, or pass --mounting, to "
                "avoid this)"
            ),
            "mounting": name,
            "mounting_misalignment_deg": round(misalignment, 2),
            "time_s": mark,
            "upright": upright,
            "refined": True,
            "revised": True,
        }
        # twist goes on where it was
        return Refined(event, rotation, heading - twist, None)

    # -- evidence ----------------------------------------------------------------------
    def _walking(self, rows: np.ndarray, ups: np.ndarray) -> bool:
        s = self.settings
        if len(rows) < 3 or rows[-1, 0] - rows[0, 0] < 0.8 * s.walk_window_s:
            return False
        mean = ups.mean(axis=0)
        mean /= np.linalg.norm(mean)
        if float(np.min(ups @ mean)) < math.cos(math.radians(s.walk_spread_deg)):
            return False
        _, step_rms = acc_activity(rows[:, 0], np.linalg.norm(rows[:, 1:4], axis=1))
        return step_rms >= s.step_rms_m_s2

    def _note_quiet(self, rows: np.ndarray) -> None:
        s = self.settings
        if len(rows) < 2:
            return
        speed = np.linalg.norm(rows[:, 4:7] - self._bias, axis=1)
        norm = np.linalg.norm(rows[:, 1:4], axis=1)
        quiet = quiet_rows(norm, speed, s.standing_deg_s, s.standing_acc_m_s2)
        if quiet.sum() >= 2:
            step = float(np.median(np.diff(rows[:, 0])))
            acc = rows[quiet, 1:4] / norm[quiet, None]
            self._quiet.append((acc.sum(axis=0), float(quiet.sum()) * step))

    # -- what the evidence says -----------------------------------------------------------
    def _from_walking(self, rotation_bs: np.ndarray, quats: np.ndarray) -> tuple:
        """Body axes from the walking: upright = quiet standing at the walking posture (at
        least ``min_standing_s``), else the walking; forward = where the up vector goes in
        the bends of the last ``bends_s`` and at the old upright (if held bent, a bend)."""
        s = self.settings
        up = self._walk_up / np.linalg.norm(self._walk_up)
        standing = self._standing_near(up)
        if standing is not None:
            up = standing
        if self._known_rotation is not None:
            forward, consistency = self._known_rotation[0], 1.0
        else:
            ups = up_in_sensor(quats)
            deep = ups[ups @ up < math.cos(math.radians(s.bend_deg))]
            forward, consistency = forward_from_bend(np.vstack([deep, rotation_bs[2]]), up)
        upright, words = (
            ("standing", "standing quietly where the lifter walks")
            if standing is not None
            else ("walking", "the posture the lifter walks in")
        )
        evidence = f"{self._walk_s:g} s of walking"
        rotation = rotation_from_axes(up, forward)
        return rotation, evidence, upright, words, min(1.0, consistency)

    def _from_reps(self, rows: np.ndarray, quats: np.ndarray, mark: float) -> tuple | None:
        """Body axes from the reps of the last ``bends_s`` (calibration from the movement:
        upright = the tops the lifter keeps coming back to, the flexion sign from the
        segment's drop at depth); None unless ``reps_tops`` tops with quality
        ``reps_quality`` and a clear drop among the evidence (or ``--mounting``)."""
        s = self.settings
        recent = rows[:, 0] > mark - s.bends_s
        result = calibrate_from_movement(
            rows[recent], up_in_sensor(quats[recent]), self._bias, self._movement,
            final=False, known_rotation=self._known_rotation,
        )  # fmt: skip
        if (
            isinstance(result, str)
            or result.n_tops < s.reps_tops
            or result.quality < s.reps_quality
            or result.sign_from not in ("height", "height+axes", "mounting")
            or (
                result.sign_from != "mounting"
                and not result.drop_m_per_rad >= self._movement.height_m_per_rad
            )
        ):
            return None
        evidence = f"the tops of {result.n_tops} reps"
        rotation, upright = result.rotation_bs, result.upright
        words = UPRIGHT_WORDS[upright]
        standing = self._standing_near(rotation[2])
        if standing is not None:  # (a lockout may lean back: standing rests are neutral)
            rotation = rotation_from_axes(standing, rotation[0])
            upright, words = "standing", "standing quietly at the tops of the reps"
        return rotation, evidence, upright, words, result.quality

    def _standing_near(self, up: np.ndarray) -> np.ndarray | None:
        """The mean gravity direction of the quiet rows within ``standing_deg`` of ``up``,
        if there are ``min_standing_s`` of them (standing rests); else None."""
        s = self.settings
        near = [
            (total, secs) for total, secs in self._quiet if _angle_deg(total, up) <= s.standing_deg
        ]
        if sum(secs for _, secs in near) < s.min_standing_s:
            return None
        total = np.sum([t for t, _ in near], axis=0)
        return total / np.linalg.norm(total)

    # -- bookkeeping -------------------------------------------------------------------
    def _trim(self, before_s: float) -> None:
        rows = self._rows.array
        drop = int(np.searchsorted(rows[:, 0], before_s, side="right"))
        if drop > len(rows) // 2:  # (amortised: not at every mark)
            self._rows.drop_front(drop)
            self._quats.drop_front(drop)

    def _end_if_over(self) -> None:
        if self.mark == math.inf:
            self._end()

    def _end(self) -> None:
        self.mark = math.inf
        self._rows = self._quats = None
        self._quiet = []


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(a @ b) / (float(np.linalg.norm(a)) * float(np.linalg.norm(b)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


class Revisions:
    """What may change a settled calibration later, as one: the refinement of a
    calibration from the movement (:class:`imu.pipeline.movement.Refinement`) and the
    :class:`UprightCheck`; the engine sees one :attr:`mark` (the earliest of theirs)."""

    def __init__(self, *parts) -> None:
        self._parts = [p for p in parts if p is not None]

    @property
    def mark(self) -> float:
        return min((p.mark for p in self._parts), default=math.inf)

    def append(self, samples: np.ndarray, quats: np.ndarray) -> None:
        for part in self._parts:
            if part.mark < math.inf:
                part.append(samples, quats)

    def at_mark(
        self, rotation_bs: np.ndarray, heading_ref: float, calibration: dict
    ) -> Refined | None:
        """The stream passed :attr:`mark`: each part whose mark it is looks; the last
        change wins (each part sees the one before it)."""
        mark, out = self.mark, None
        for part in self._parts:
            if part.mark <= mark:
                changed = part.at_mark(rotation_bs, heading_ref, calibration)
                if changed is not None:
                    out = changed
                    rotation_bs, heading_ref, calibration = (
                        changed.rotation_bs,
                        changed.heading_ref,
                        changed.event,
                    )
        return out
