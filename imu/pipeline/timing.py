"""Input timing: duplicates, out-of-order samples, gaps and restarts.

Real sources deliver samples with jitter, in bursts, sometimes twice, and with gaps
from a few samples to many seconds. This stage annotates every input row once, so the
later stages never look at raw timestamps again:

- ``dt_s``: the integration step for the row (``t_i - t_(i-1)`` of the last accepted
  row). Jitter and bursts are *bridged* by integrating over the actual time step: the
  timestamps are the only clock we have and errors do not accumulate. A gap up to
  ``restart_after_s`` is bridged the same way (the gyroscope is held over the gap and
  the accelerometer corrects the orientation afterwards).
- ``skip``: the row repeats or precedes the last accepted time (duplicate or
  out-of-order) or holds a non-finite value (e.g. no gyroscope); it gets the previous
  row's angles.
- ``restart``: first accepted row after a gap longer than ``restart_after_s``:
  orientation re-converges from the accelerometer and a rep in progress is dropped.

Gaps longer than ``gap_s`` produce a ``gap`` event dict (emitted by the engine in
sample order); ``clock_reset`` is true on a flagged gap with no room (below).

Flagged gaps (``gap_before=True``: a live source saw samples lost or the link drop, and
``imu live --record`` wrote ``gap`` = 1 on that row, docs/session-format.md) are always
``gap`` events, however short: the loss is known, not guessed from the clock. Their step
is trusted like any other (the recorder's times come from the device clock or the
arrival times, so a loss of k samples shows as a step of about k + 1 intervals, and a
reconnection as its real duration) with one exception that restarts: a flagged step no
longer than ``flagged_min_steps`` times the previous regular step has no room for the
samples the source says it lost, so the source re-anchored its time base (device reset,
a new clock map after the link came back: :class:`imu.ble.timing.Timestamper` then
places the first new sample one interval after the last old one) and the step is not
the time that passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.quality import DATA_GAP_S


@dataclass(frozen=True)
class TimingSettings:
    """Thresholds of the timing stage (seconds)."""

    gap_s: float = DATA_GAP_S
    """An interval longer than this is reported as a ``gap`` event."""
    restart_after_s: float = 1.0
    """An interval longer than this restarts orientation and drops a rep in progress."""
    flagged_min_steps: float = 1.5
    """A flagged gap whose step is at most this many times the previous regular step
    restarts (the source's time base was re-anchored; see the module docstring)."""


@dataclass
class TimedRows:
    """Per-row annotations of one chunk (all arrays of length n)."""

    dt_s: np.ndarray
    skip: np.ndarray
    restart: np.ndarray
    gaps: list[tuple[int, dict]]
    """(row index in chunk, gap event) for each gap that ends at that row."""


class Timing:
    """Streaming timing annotator; keeps the last accepted time between chunks."""

    def __init__(self, settings: TimingSettings = TimingSettings()) -> None:
        self.settings = settings
        self.last_time_s: float | None = None
        self.n_duplicates = 0
        self.n_gaps = 0
        self.gap_total_s = 0.0
        self.n_restarts = 0
        self.n_without_gyro = 0
        self.regular_step_s: float | None = None  # last step that was not a gap

    def update(self, samples: np.ndarray, gap_before: bool = False) -> TimedRows:
        """Annotate a chunk of ``(n, 7)`` samples (see module docstring)."""
        n = len(samples)
        time_s = samples[:, 0]
        # (np.count_nonzero and .nonzero()[0] below: np.sum and np.flatnonzero cost ~1 us
        # more per call in Python wrappers, most of a one-sample live update's cost)
        finite_values = np.isfinite(samples)
        present = finite_values[:, :4].all(axis=1)  # time and acceleration
        finite = present & finite_values[:, 4:].all(axis=1)
        self.n_without_gyro += int(np.count_nonzero(present & ~finite))
        # Accepted rows must be finite and strictly later than every earlier accepted row.
        prev = -np.inf if self.last_time_s is None else self.last_time_s
        masked = np.where(finite, time_s, -np.inf)
        running_max = np.maximum.accumulate(np.concatenate(([prev], masked)))
        skip = ~finite | (time_s <= running_max[:-1])
        dt_s = np.zeros(n)
        restart = np.zeros(n, dtype=bool)
        gaps: list[tuple[int, dict]] = []
        accepted = (~skip).nonzero()[0]
        if accepted.size:
            rows = slice(None) if accepted.size == n else accepted  # no copies when all accepted
            t_acc = time_s[rows]
            previous = np.concatenate(
                ([np.nan if self.last_time_s is None else self.last_time_s], t_acc[:-1])
            )
            step = t_acc - previous
            first_ever = self.last_time_s is None
            long_gap = step > self.settings.restart_after_s
            is_gap = step > self.settings.gap_s
            no_room = False
            if gap_before and not first_ever:
                is_gap[0] = True
                regular = self.regular_step_s
                no_room = (
                    regular is not None and step[0] <= self.settings.flagged_min_steps * regular
                )
                long_gap[0] |= no_room
            measured = np.isfinite(step)  # not the very first row's
            steady = (~is_gap & measured).nonzero()[0]
            if steady.size:
                self.regular_step_s = float(step[steady[-1]])
            dt_s[rows] = np.where(measured & ~long_gap, step, 0.0)
            restart[rows] = long_gap
            restart[accepted[0]] |= first_ever
            for k in is_gap.nonzero()[0]:
                event = {
                    "type": "gap",
                    "start_s": float(previous[k]),
                    "end_s": float(t_acc[k]),
                    "duration_s": float(step[k]),
                    "restarted": bool(long_gap[k]),
                    "clock_reset": bool(k == 0 and no_room),
                }
                gaps.append((int(accepted[k]), event))
                self.gap_total_s += float(step[k])
            self.n_gaps += len(gaps)
            self.n_restarts += int(np.count_nonzero(restart)) - int(first_ever)
            self.last_time_s = float(t_acc[-1])
        self.n_duplicates += int(np.count_nonzero(skip & finite))
        return TimedRows(dt_s=dt_s, skip=skip, restart=restart, gaps=gaps)

    def summary(self) -> dict:
        """Data-quality figures for the analysis output."""
        return {
            "n_skipped_duplicate_or_out_of_order": self.n_duplicates,
            "n_gaps": self.n_gaps,
            "gap_total_s": round(self.gap_total_s, 3),
            "n_restarts": self.n_restarts,
        }
