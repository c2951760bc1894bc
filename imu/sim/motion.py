"""Continuous-time motion channels: keyframed C2 tracks plus windowed oscillations.

Every channel of the body model (segment angles, hip position) is a function of time
that can be evaluated at any instant, vectorised. Keyframes carry a value and a velocity;
between keyframes a quintic Hermite polynomial with zero acceleration at both ends joins
them, so each channel is continuous up to its second derivative (no impulses in the
simulated accelerometer). Oscillations (gait, postural sway, trunk sway under load) are
sinusoids under a smooth on/off envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Channel names and units: segment angles (deg) and the hip joint centre (m, world).
CHANNELS = (
    "flexion_deg",
    "lateral_bend_deg",
    "twist_deg",
    "hip_x_m",  # world, horizontal
    "hip_y_m",  # world, horizontal
    "hip_drop_m",  # how far the hip joint centre is below its standing height
    "hip_back_m",  # hip shift backward along the current heading (hip hinge)
)


def _hermite(s: np.ndarray, h: np.ndarray, p0, v0, p1, v1) -> np.ndarray:
    """Quintic Hermite on s in [0, 1] with zero end accelerations; h = interval length."""
    s2 = s * s
    s3 = s2 * s
    s4 = s3 * s
    s5 = s4 * s
    h0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
    h1 = s - 6 * s3 + 8 * s4 - 3 * s5
    h4 = -4 * s3 + 7 * s4 - 3 * s5
    return p0 * h0 + v0 * h * h1 + p1 * (1 - h0) + v1 * h * h4


def smoothstep(s: np.ndarray) -> np.ndarray:
    """0 -> 1 quintic ramp on [0, 1] (clipped outside), C2 at both ends."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10 - 15 * s + 6 * s * s)


@dataclass
class Track:
    """One keyframed channel. Keys must be added in increasing time; the value is held
    before the first and after the last key."""

    times: list[float] = field(default_factory=lambda: [0.0])
    values: list[float] = field(default_factory=lambda: [0.0])
    velocities: list[float] = field(default_factory=lambda: [0.0])

    @property
    def last(self) -> float:
        return self.values[-1]

    def key(self, time_s: float, value: float, velocity: float = 0.0) -> None:
        """Add a keyframe; a key at the same time as the last one replaces it."""
        if time_s < self.times[-1] - 1e-12:
            raise ValueError(f"keyframe at {time_s} s is before the last one ({self.times[-1]} s)")
        if time_s <= self.times[-1] + 1e-9:
            self.values[-1], self.velocities[-1] = value, velocity
            return
        self.times.append(time_s)
        self.values.append(value)
        self.velocities.append(velocity)

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        times = np.asarray(self.times)
        values = np.asarray(self.values)
        vels = np.asarray(self.velocities)
        if len(times) == 1:
            return np.full_like(t, values[0], dtype=float)
        i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
        h = times[i + 1] - times[i]
        s = np.clip((t - times[i]) / h, 0.0, 1.0)
        return _hermite(s, h, values[i], vels[i], values[i + 1], vels[i + 1])


@dataclass(frozen=True)
class Oscillation:
    """``amplitude * sin(2 pi f (t - start) + phase)`` on one channel between ``start_s``
    and ``end_s``, faded in and out over ``taper_s``."""

    channel: str
    start_s: float
    end_s: float
    amplitude: float
    frequency_hz: float
    phase_rad: float = 0.0
    taper_s: float = 0.4


@dataclass
class Motion:
    """All channels of one session's movement, evaluable at any times."""

    tracks: dict[str, Track] = field(default_factory=lambda: {c: Track() for c in CHANNELS})
    oscillations: list[Oscillation] = field(default_factory=list)

    def evaluate(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Each channel at times ``t`` (sorted ascending, s)."""
        out = {name: track.evaluate(t) for name, track in self.tracks.items()}
        for osc in self.oscillations:
            lo, hi = np.searchsorted(t, [osc.start_s, osc.end_s])
            if hi <= lo:
                continue
            tt = t[lo:hi]
            taper = min(osc.taper_s, (osc.end_s - osc.start_s) / 2)
            envelope = smoothstep((tt - osc.start_s) / taper) * smoothstep((osc.end_s - tt) / taper)
            phase = 2 * np.pi * osc.frequency_hz * (tt - osc.start_s) + osc.phase_rad
            out[osc.channel][lo:hi] += osc.amplitude * envelope * np.sin(phase)
        return out
