"""A warning when the flexion sign looks inverted: rep-like bends that read backwards.

Reps are found only where flexion rises past ``bottom_deg`` (forward bends). With the
flexion sign inverted (a ``--mounting`` whose x and y point backwards and right, a
calibration from the movement that took the wrong end for forward) every rep of a set
reads as a backward bend: nothing is counted and, until now, nothing said why. This
check counts *backward excursions*: from near upright (flexion above ``-upright_deg``)
to deeper than ``-back_deg`` and back, lasting ``min_s``-``max_s`` like a rep. When
``n_excursions`` of them follow each other (each starting within ``within_s`` of the
last one's end) with no forward bend past ``forward_deg`` among them, one ``warning``
event (``kind: "flexion_sign"``) says so, once per stream.

Why it cannot fire on an ordinary session: a lean back at lockout (11-17 deg in the
simulator; a lockout hyperextension is flagged from 10 deg) follows a forward bend, which
resets the count, and stays short of ``back_deg``; lying down (a bench, the floor) lasts
longer than ``max_s`` and ends the run. What it cannot tell from an inverted sign is a
lifter doing three or more backward bends deeper than 30 deg in a row with no forward bend
(a gymnast's bridge, not a standing back-extension stretch of 10-25 deg), so it warns and
corrects nothing (docs/calibration.md, "Flexion sign check").

Streaming: the rows are classified (forward, near upright, backward) and only the runs of
one class are looked at, so a chunk costs a few array operations and the outcome does not
depend on how the rows were chunked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SignCheckSettings:
    """When backward bends say that the flexion sign is inverted."""

    upright_deg: float = 15.0
    """Near upright: flexion above minus this (deg; the rep segmenter's ``top_deg``)."""
    back_deg: float = 30.0
    """A backward excursion reaches deeper than minus this (deg): beyond any lean back
    at lockout, as deep as the shallowest hinge (RDLs of 30-35 deg)."""
    forward_deg: float = 20.0
    """A forward bend past this (deg; the rep segmenter's ``bottom_deg``) ends the run."""
    min_s: float = 0.8
    """Shortest backward excursion counted (s; a rep's shortest)."""
    max_s: float = 12.0
    """Longest backward excursion counted (s; a rep's longest); a longer one (lying
    down) ends the run."""
    within_s: float = 8.0
    """The next excursion starts within this of the last one's end (s; a set's
    ``quiet_s``), else the run starts again."""
    n_excursions: int = 3
    """Backward excursions in a run that give the warning."""


class SignCheck:
    """Counts backward excursions of the flexion stream (module docstring)."""

    def __init__(self, settings: SignCheckSettings | None = None, mounting: str | None = None) -> None:
        self.settings = settings or SignCheckSettings()
        self.mounting = mounting  # --mounting: the forward axis came from it, not a bend
        self._fired = False
        self._in_back = False  # a backward excursion in progress
        self._start_s = math.nan  # where it left upright
        self._deepest_deg = math.inf
        self._upright_s = math.nan  # the last row near upright
        self._bends: list[tuple[float, float, float]] = []  # (start_s, end_s, deepest_deg)

    def warn_mounting(self, time_s: float, off_deg: float) -> dict:
        """The ``warning`` event of a calibration from the movement whose upright is
        ``off_deg`` from the z axis of ``--mounting`` (:func:`mounting_warning`): the
        stream's one flexion sign warning, so the check says nothing more on it."""
        self._fired = True
        return mounting_warning(time_s, off_deg, str(self.mounting))

    def restart(self) -> None:
        """The orientation started again (a long gap): an excursion in progress is dropped."""
        self._in_back = False
        self._upright_s = math.nan

    def update(self, time_s: np.ndarray, flexion_deg: np.ndarray) -> list[tuple[int, dict]]:
        """Rows (accepted, in order) of one chunk; ``(row in the chunk, warning event)``
        pairs (at most one per stream)."""
        if self._fired or not len(time_s):
            return []
        s = self.settings
        kind = np.where(
            flexion_deg > s.forward_deg, 2, np.where(flexion_deg >= -s.upright_deg, 1, 0)
        )
        kind[~np.isfinite(flexion_deg)] = -1  # ignored
        bounds = np.flatnonzero(np.diff(kind)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(kind)]]) - 1
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            c = int(kind[first])
            if c < 0:
                continue
            deepest = float(np.min(flexion_deg[first : last + 1])) if c == 0 else math.nan
            event = self._on_run(c, float(time_s[first]), float(time_s[last]), deepest)
            if event is not None:
                return [(first, event)]
        return []

    def _on_run(self, kind: int, first_s: float, last_s: float, deepest_deg: float) -> dict | None:
        """Rows of one class (2 forward, 1 near upright, 0 backward) from ``first_s`` to
        ``last_s``; a run may come in pieces (chunks), the outcome is the same."""
        if kind == 2:  # a forward bend: the run of backward ones is over
            self._in_back, self._bends = False, []
        elif kind == 1:
            if self._in_back:
                event = self._end_excursion(first_s)
                if event is not None:
                    self._fired = True
                    return event
            self._upright_s = last_s
        else:
            if not self._in_back:
                self._in_back = True
                self._start_s = self._upright_s
                self._deepest_deg = math.inf
            self._deepest_deg = min(self._deepest_deg, deepest_deg)
        return None

    def _end_excursion(self, end_s: float) -> dict | None:
        s = self.settings
        self._in_back = False
        start_s, deepest = self._start_s, self._deepest_deg
        if not math.isfinite(start_s):  # it did not start near upright
            return None
        duration = end_s - start_s
        if duration > s.max_s:  # lying down, not a rep
            self._bends = []
            return None
        if deepest > -s.back_deg or duration < s.min_s:
            return None
        if self._bends and start_s - self._bends[-1][1] > s.within_s:
            self._bends = []
        self._bends.append((start_s, end_s, deepest))
        if len(self._bends) < s.n_excursions:
            return None
        depth = float(np.median([d for _, _, d in self._bends]))
        n = len(self._bends)
        return {
            "type": "warning",
            "kind": "flexion_sign",
            "time_s": end_s,
            "start_s": self._bends[0][0],
            "n_excursions": n,
            "median_depth_deg": round(depth, 1),
            "message": (
                f"{n} bends in a row read backwards (median {depth:.0f} deg) and none "
                "forwards: the flexion sign looks inverted, so these reps are not counted; "
                + (
                    f"the forward axis came from --mounting {self.mounting}: check it, or "
                    "leave it out to find the axis from the first bend"
                    if self.mounting
                    else "check --mounting, or stand upright and still 2 s at the start"
                )
            ),
        }


def mounting_warning(time_s: float, off_deg: float, mounting: str) -> dict:
    """The ``warning`` event of a calibration from the movement whose upright contradicts
    ``--mounting`` (:attr:`imu.pipeline.movement.MovementResult.mounting_off_deg`): the reps'
    upright is ``off_deg`` from the mounting's z axis, which is nearer their bent end. Then
    the reps read as bends from their bottom (counted at the wrong end), not backwards, so
    :class:`SignCheck` cannot see it; given with the calibration, once."""
    return {
        "type": "warning",
        "kind": "flexion_sign",
        "time_s": time_s,
        "start_s": time_s,
        "n_excursions": None,
        "median_depth_deg": None,
        "mounting_off_deg": off_deg,
        "message": (
            f"the upright the reps give is {off_deg:.0f} deg from the z axis of --mounting "
            f"{mounting}, which is nearer their bent end: the flexion sign looks inverted "
            "(body x and y reversed?) and reps may be counted at the wrong end; check "
            "--mounting"
        ),
    }
