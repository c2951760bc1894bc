"""Sample times on the host clock for a live BLE stream, and the gaps in it.

BLE notifications reach the host late by a variable amount: a connection interval or
two, more when the radio retries or the host is busy, and then several arrive at once.
Stamping samples with their arrival time would copy that jitter into every angular
velocity and rep duration. A :class:`Timestamper` (one per stream and connection)
instead maps a *source clock* to host time:

- devices with a clock (Polar, Movesense, OpenIMU): the device time of each sample;
- devices without one (WitMotion, Thingy:52): a virtual clock that counts samples at the
  nominal rate, so a notification of k samples is spread back at the sampling interval.

The map is ``host = source + offset(source)`` with ``offset`` a straight line (offset and
drift) fitted to the *lower envelope* of ``arrival - source`` over the last
``window_s``: a delayed notification only raises the envelope's points above the line,
never drags it, so samples keep their regular spacing however bursty the link is (a
robust cousin of a phase-locked loop). The line also absorbs the rate error of the
device's oscillator (typically 20-200 ppm with a clock, up to a few percent for a
sample counter at the nominal rate). Host times therefore include the link's minimum
latency (a constant of one connection interval or so) but not its jitter.

Gaps are reported, never filled:

- device clock: a step between consecutive samples longer than
  ``gap_tolerance_intervals`` nominal intervals, or samples the decoder counted as lost
  from sequence numbers (``Frame.lost_before``); a clock that jumps back, or forward
  past the arrivals (set or reset while streaming or over a reconnection), restarts the
  map;
- no device clock: a notification that arrives later than the latency envelope
  predicts, by more than the link's own jitter (``late_s``, or the 95th percentile of
  the recent lateness if higher), is *held* until the arrivals after it tell a stall
  from a loss. A stall delivers its backlog at once, so the next arrivals catch up with
  the envelope: the held samples are placed as usual, no gap. A loss leaves every later
  arrival late by the lost time, notifications coming at their usual pace: after
  ``decide_s`` of such arrivals (at least ``decide_notifications`` of them) the held
  samples follow a reported gap whose count is the least lateness seen, in samples
  (the pace is judged after the first held arrival, which may be late by jitter alone
  just before a stall).
  Holding costs the lateness of the held notifications only when one is late (the
  engine gets them when the next catches up); losses mid-rep shorter than 0.25 s, which
  the single ``stall_s`` threshold of before could not see, no longer bend the angles
  unflagged once they are longer than the link's jitter: on a link with 10 ms of
  exponential jitter (tests/test_timing.py's ``simulate``, seeds 0-7) every loss of 40 ms
  or more at 25 Hz and of 60 ms (12 samples) or more at 200 Hz is a gap counted within 1
  sample; at 200 Hz, 6 samples lost (30 ms) are seen in 2 of 8 streams, 2 in none (a
  loss within the jitter cannot be told from it). :meth:`Timestamper.flush` settles what
  is held when the link drops or the stream stops.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from imu.ble.profiles.base import Frame


@dataclass(frozen=True)
class TimestamperSettings:
    """Parameters of :class:`Timestamper`.

    ``gap_tolerance_intervals``: with a device clock, a sample step longer than this many
    nominal intervals is a gap. ``stall_s``: a device clock that puts a frame this much
    after its arrival was set forward; without a device clock, a backlog this much
    earlier than the map expects re-anchors it. ``late_s``: without a device clock, the
    least lateness (beyond the envelope) that holds a notification until the next
    arrivals tell a stall from a loss (raised to the 95th percentile of the recent
    lateness on a jittery link); ``decide_s``, ``decide_notifications``: a loss is
    decided once the held notifications span this much arrival time and number, all
    late, arriving at their usual pace; ``max_hold_s``: at most this much source time is
    held. ``bucket_s``: the
    envelope keeps the minimum ``arrival - source`` of each bucket of source time;
    ``window_s``: buckets older than this are forgotten (so drift is tracked);
    ``min_buckets``: buckets needed before a drift (slope) is fitted; before that the
    offset is the minimum seen so far. ``max_slew``: the applied offset changes by at
    most this many seconds per second of source time, so sample intervals on the host
    clock stay within 2 % of the source's while the map settles.
    """

    gap_tolerance_intervals: float = 1.5
    stall_s: float = 0.25
    late_s: float = 0.03
    decide_s: float = 0.1
    decide_notifications: int = 4
    max_hold_s: float = 1.0
    bucket_s: float = 1.0
    window_s: float = 60.0
    min_buckets: int = 3
    max_slew: float = 0.02


@dataclass(frozen=True)
class Gap:
    """Missing data between two samples, host clock (s).

    ``start_s``: time of the last sample before the gap; ``end_s``: first sample after
    it. ``lost_samples``: samples estimated missing (0 if unknown). ``restarted``: the
    device clock jumped back (device reset), so the times before and after are unrelated.
    """

    start_s: float
    end_s: float
    lost_samples: int
    restarted: bool = False

    def to_event(self) -> dict:
        """The ``gap`` event of docs/contracts.md."""
        return {
            "type": "gap",
            "start_s": self.start_s,
            "end_s": self.end_s,
            "duration_s": self.end_s - self.start_s,
            "restarted": self.restarted,
            "lost_samples": self.lost_samples,
        }


@dataclass(frozen=True, eq=False)
class Stamped:
    """A frame on the host clock.

    ``samples``: ``(n, 7)`` with column 0 replaced by host time (s, strictly increasing
    within a stream). ``gap_before``: ``(n,)`` bool, True on the first sample after each
    gap. ``gaps``: the gaps, in order.
    """

    samples: np.ndarray
    gap_before: np.ndarray
    gaps: list[Gap] = field(default_factory=list)

    def chunks(self) -> list[tuple[np.ndarray, bool]]:
        """``(samples, gap_before)`` pieces split at gaps, ready for ``Engine.update``."""
        starts = np.flatnonzero(self.gap_before)
        bounds = [0, *[int(s) for s in starts if s > 0], len(self.samples)]
        return [
            (self.samples[a:b], bool(self.gap_before[a]))
            for a, b in itertools.pairwise(bounds)
            if b > a
        ]


class ClockMap:
    """Lower-envelope line fit of ``delay = arrival - source`` against source time.

    :meth:`add` one ``(source_s, arrival_s)`` pair per notification (the source time of
    its last sample); :meth:`offset` gives the envelope at any source time.
    """

    def __init__(self, settings: TimestamperSettings) -> None:
        self.settings = settings
        self._buckets: dict[int, tuple[float, float]] = {}
        self._line: tuple[float, float, float] | None = None  # (t_ref, intercept, slope)

    @property
    def ready(self) -> bool:
        return self._line is not None

    def reset(self) -> None:
        self._buckets.clear()
        self._line = None

    def add(self, source_s: float, arrival_s: float) -> None:
        delay = arrival_s - source_s
        key = int(np.floor(source_s / self.settings.bucket_s))
        best = self._buckets.get(key)
        if best is not None and delay >= best[1]:
            return  # not a new minimum: the envelope is unchanged
        self._buckets[key] = (source_s, delay)
        oldest = key - int(np.ceil(self.settings.window_s / self.settings.bucket_s))
        for k in [k for k in self._buckets if k < oldest]:
            del self._buckets[k]
        self._fit()

    def _fit(self) -> None:
        points = np.array(sorted(self._buckets.values()))
        t, d = points[:, 0], points[:, 1]
        if len(points) < self.settings.min_buckets:
            self._line = (float(t[-1]), float(d.min()), 0.0)
            return
        t_ref = float(t[-1])
        keep = np.ones(len(t), dtype=bool)
        for _ in range(2):  # refit without buckets whose minimum was itself delayed
            slope, intercept = np.polyfit(t[keep] - t_ref, d[keep], 1)
            residual = d - (intercept + slope * (t - t_ref))
            spread = 1.4826 * np.median(np.abs(residual[keep] - np.median(residual[keep])))
            new_keep = residual <= 3.0 * spread + 1e-3
            if new_keep.sum() < self.settings.min_buckets or (new_keep == keep).all():
                break
            keep = new_keep
        # the slope comes from the fit; the line is then lowered onto the lowest bucket,
        # since no notification arrives faster than the link's minimum latency
        intercept += float(np.min(d - (intercept + slope * (t - t_ref))))
        self._line = (t_ref, float(intercept), float(slope))

    @property
    def slope(self) -> float:
        """d(delay)/d(source) of the fitted envelope (0 before the first fit)."""
        return 0.0 if self._line is None else self._line[2]

    def offset(self, source_s: np.ndarray | float) -> np.ndarray | float:
        """Envelope delay (s) at ``source_s``; requires at least one :meth:`add`."""
        if self._line is None:
            raise RuntimeError("ClockMap.offset before any add()")
        t_ref, intercept, slope = self._line
        return intercept + slope * (np.asarray(source_s) - t_ref)


class Timestamper:
    """Maps decoded frames of one stream to host time and reports gaps.

    ``rate_hz``: nominal sampling rate; ``device_clock``: frames carry device times
    (``Profile.device_clock``). Call :meth:`update` with each frame and the host time
    (s, e.g. ``time.monotonic()``) at which the notification that completed it arrived.
    """

    def __init__(
        self, rate_hz: float, device_clock: bool, settings: TimestamperSettings | None = None
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.device_clock = device_clock
        self.settings = settings or TimestamperSettings()
        self._map = ClockMap(self.settings)
        self._t0: float | None = None  # first source time, subtracted for precision
        self._last_source: float | None = None
        self._last_host: float | None = None
        self._next_index = 0  # virtual clock: index of the next sample
        self._excess: deque[float] = deque(maxlen=200)
        self._applied: tuple[float, float] | None = None  # (source_s, offset_s) last used
        self._held: list[tuple[float, np.ndarray, np.ndarray]] = []  # (arrival, samples, source)
        self.n_held = 0
        """Samples held until the arrivals after them tell a stall from a loss."""

    @property
    def rate_error_ppm(self) -> float:
        """How much faster the source runs than the host clock (ppm), as fitted.

        With a device clock: its crystal's error against the host. Without one: the
        sensor's real sampling rate against the nominal, i.e. the real rate is
        ``rate_hz * (1 + rate_error_ppm * 1e-6)``. 0 until the map has fitted a drift.
        """
        return -self._map.slope / (1.0 + self._map.slope) * 1e6

    def update(self, arrival_s: float, frame: Frame) -> Stamped:
        """Host times for ``frame`` (arrived at ``arrival_s``) and the gaps before it."""
        n = len(frame.samples)
        if n == 0:
            return Stamped(frame.samples.copy(), np.zeros(0, dtype=bool))
        if not self.device_clock:
            return self._virtual(arrival_s, frame.samples)
        source, gap_at, rebase = self._device_source(arrival_s, frame)
        return self._place(arrival_s, frame.samples, source, gap_at, rebase)

    def flush(self) -> Stamped:
        """Place the samples held for a decision (the link dropped, the stream stopped):
        a loss only if more than one notification came, all late, else a stall."""
        if not self._held:
            return Stamped(np.empty((0, 7)), np.zeros(0, dtype=bool))
        return self._settle(loss=len(self._held) > 1 and self._all_late())

    def _place(
        self,
        arrival_s: float,
        samples: np.ndarray,
        source: np.ndarray,
        gap_at: dict[int, tuple[int, bool]],
        rebase: bool,
    ) -> Stamped:
        """Host times for ``samples`` at ``source`` times (the map's), gaps before them."""
        n = len(samples)
        self._map.add(float(source[-1]), arrival_s)
        host = source + self._slewed_offset(source, rebase)
        if self._last_host is not None and host[0] <= self._last_host:
            # after a rebase (or while a burst outruns the nominal rate) never go back:
            # the first new sample comes at least one interval after the last one out
            shift = self._last_host + 1.0 / self.rate_hz - host[0]
            host = host + shift
            last_source, last_offset = self._applied
            self._applied = (last_source, last_offset + shift)
        out = samples.copy()
        out[:, 0] = host
        gap_before = np.zeros(n, dtype=bool)
        gaps = []
        for i, (count, reset) in sorted(gap_at.items()):
            before = host[i - 1] if i > 0 else self._last_host
            if before is None:
                continue
            gap_before[i] = True
            gaps.append(Gap(float(before), float(host[i]), count, reset))
        self._last_host = float(host[-1])
        self._last_source = float(source[-1])
        return Stamped(out, gap_before, gaps)

    def _slewed_offset(self, source: np.ndarray, rebase: bool) -> np.ndarray:
        """The map's offset at ``source``, changing at most ``max_slew`` s per s of source.

        Keeps consecutive host intervals within ``1 +- max_slew`` of the source intervals
        while the map settles (new minima at start-up, drift updates). ``rebase``: a
        reported gap precedes ``source``, so the offset may jump there.
        """
        target = np.asarray(self._map.offset(source), dtype=np.float64)
        if self._applied is None or rebase:
            self._applied = (float(source[0]), float(target[0]))
        last_source, last_offset = self._applied
        slew = self.settings.max_slew
        out = np.empty_like(target)
        for i, (t, goal) in enumerate(zip(source, target)):
            room = slew * max(float(t) - last_source, 0.0)
            last_offset = min(max(float(goal), last_offset - room), last_offset + room)
            last_source = float(t)
            out[i] = last_offset
        self._applied = (last_source, last_offset)
        return out

    def _device_source(
        self, arrival_s: float, frame: Frame
    ) -> tuple[np.ndarray, dict[int, tuple[int, bool]], bool]:
        """Source times from the device clock; gaps from steps and ``lost_before``.

        The device clock went back (a reset), or forward so far that the map puts the
        frame's last sample more than ``stall_s`` after its arrival (the clock was set, or
        reset to a later count: no sample arrives before it is taken): the map restarts on
        this frame and the gap is reported as ``restarted``.
        """
        t = frame.samples[:, 0].astype(np.float64)
        if not np.isfinite(t).all():
            raise ValueError("device-clock frame without device times (use device_clock=False)")
        interval = 1.0 / self.rate_hz
        restarted = False
        gap_at: dict[int, tuple[int, bool]] = {}
        if self._t0 is None:
            self._t0 = float(t[0])
        source = t - self._t0
        jumped = self._last_source is not None and (
            source[0] <= self._last_source - interval
            or source[-1] + float(self._map.offset(source[-1])) > arrival_s + self.settings.stall_s
        )
        if jumped:
            # the device clock was reset or set: start a new map on this frame
            self._t0 = float(t[0])
            source = t - self._t0
            self._map.reset()
            self._last_source = None
            restarted = True
            gap_at[0] = (0, True)
        previous = self._last_source
        steps = np.diff(source, prepend=source[0] if previous is None else previous)
        limit = self.settings.gap_tolerance_intervals * interval
        for i in np.flatnonzero(steps > limit):
            gap_at[int(i)] = (round(steps[i] * self.rate_hz) - 1, False)
        if frame.lost_before > 0 and previous is not None:
            count = max(frame.lost_before, gap_at.get(0, (0, False))[0])
            gap_at[0] = (count, False)
        return source, gap_at, restarted

    def _virtual(self, arrival_s: float, samples: np.ndarray) -> Stamped:
        """No device clock: source times count samples; a late notification is held (see
        the module docstring) until the arrivals after it say stall or loss."""
        n = len(samples)
        source = (self._next_index + np.arange(n)) / self.rate_hz
        self._next_index += n
        if self._held:
            self._held.append((arrival_s, samples, source))
            self.n_held += n
            return self._decide()
        if self._map.ready:
            excess = self._lateness(arrival_s, source)
            if excess > self._late_limit():
                self._held = [(arrival_s, samples, source)]
                self.n_held = n
                return Stamped(np.empty((0, samples.shape[1])), np.zeros(0, dtype=bool))
            if excess < -self.settings.stall_s:
                # a stalled backlog arrived after samples were taken for lost: re-anchor
                self._map.reset()
            else:
                self._excess.append(excess)
        return self._place(arrival_s, samples, source, {}, False)

    def _lateness(self, arrival_s: float, source: np.ndarray) -> float:
        """How much later than the envelope predicts a notification ending at ``source``
        arrived (s)."""
        return arrival_s - float(source[-1]) - float(self._map.offset(source[-1]))

    def _jitter_limit(self) -> float:
        """The 95th percentile of the recent lateness: what the link's jitter alone
        reaches (a notification later than that is held)."""
        if len(self._excess) < 20:
            return self.settings.late_s
        return float(np.quantile(np.fromiter(self._excess, float), 0.95))

    def _late_limit(self) -> float:
        """The lateness beyond which a notification is held, or a held one still late:
        ``late_s``, or the link's jitter (:meth:`_jitter_limit`) if higher."""
        return max(self.settings.late_s, self._jitter_limit())

    def _all_late(self) -> bool:
        """Every held notification after the first is still late (none caught up)."""
        limit = self._late_limit()
        return all(self._lateness(a, src) > limit for a, _, src in self._held[1:])

    def _decide(self) -> Stamped:
        """Stall, loss, or wait for more arrivals (see the module docstring)."""
        s = self.settings
        arrival, _, source = self._held[-1]
        limit = self._late_limit()
        if self._lateness(arrival, source) <= limit:  # caught up: a stall's backlog
            return self._settle(loss=False)
        # judged on the arrivals after the first held (which may be late by jitter alone,
        # just before a stall): at their usual pace, not a backlog draining
        since_arrival, _, since_source = self._held[min(1, len(self._held) - 1)]
        arrival_span = arrival - since_arrival
        paced = arrival_span >= 0.5 * float(source[-1] - since_source[-1])
        enough = arrival_span >= s.decide_s and len(self._held) >= s.decide_notifications
        if (enough and paced) or float(source[-1] - self._held[0][2][-1]) >= s.max_hold_s:
            return self._settle(loss=True)
        return Stamped(np.empty((0, self._held[0][1].shape[1])), np.zeros(0, dtype=bool))

    def _settle(self, loss: bool) -> Stamped:
        """Place the held notifications as they came, or (``loss``) after a gap of the
        samples lost: the least lateness seen, less the link's usual least lateness over
        as many notifications, in whole notifications of the held size (a link loses
        notifications, not samples). The map is kept: its drift and envelope hold on the
        other side of the gap, and arrivals earlier than it expects (a count one
        notification too high) lower it as usual."""
        held, self._held, self.n_held = self._held, [], 0
        lost = 0
        if loss:
            least = min(self._lateness(a, src) for a, _, src in held)
            usual = (
                float(np.quantile(np.fromiter(self._excess, float), 1.0 / (len(held) + 1)))
                if self._excess
                else 0.0
            )
            # notifications are lost whole: a count in notifications of the held size
            sizes = {len(x) for _, x, _ in held}
            unit = sizes.pop() if len(sizes) == 1 else 1
            lost = unit * round((least - usual) * self.rate_hz / unit)
        parts = []
        if lost >= 1:
            self._next_index += lost
            shift = lost / self.rate_hz
            held = [(a, x, src + shift) for a, x, src in held]
            a, x, src = held.pop(0)
            parts.append(self._place(a, x, src, {0: (lost, False)}, True))
        else:
            for a, _, src in held:
                self._excess.append(self._lateness(a, src))
        parts += [self._place(a, x, src, {}, False) for a, x, src in held]
        return Stamped(
            np.concatenate([p.samples for p in parts]),
            np.concatenate([p.gap_before for p in parts]),
            [g for p in parts for g in p.gaps],
        )
