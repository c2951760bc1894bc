"""Analytic motions for pipeline tests (SYNTHETIC data, generated in memory by this file).

``motion(...)`` turns body angle curves (docs/coordinates.md) and a mounting into ideal
sensor samples: gyroscope = exact rotation increment between samples, accelerometer =
gravity (plus optional linear acceleration) in the sensor frame.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial.transform import Rotation

G = 9.80665


def body_rotation(flexion_deg, lateral_deg, twist_deg) -> Rotation:
    """R_world_body = Rz(twist) Rx(lateral) Ry(flexion)."""

    def about(axis, angle_deg):
        return Rotation.from_euler(axis, np.asarray(angle_deg, dtype=float)[:, None], degrees=True)

    return about("z", twist_deg) * about("x", lateral_deg) * about("y", flexion_deg)


def motion(
    time_s: np.ndarray,
    flexion_deg: np.ndarray,
    lateral_deg: np.ndarray | None = None,
    twist_deg: np.ndarray | None = None,
    rotation_bs: np.ndarray | None = None,
    heading_deg: float = 0.0,
    gyro_bias_deg_s=(0.0, 0.0, 0.0),
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """(n, 7) samples of a body moving through the given angles (SYNTHETIC)."""
    n = len(time_s)
    lateral_deg = np.zeros(n) if lateral_deg is None else lateral_deg
    twist_deg = np.zeros(n) if twist_deg is None else twist_deg
    r_wb = body_rotation(flexion_deg, lateral_deg, twist_deg + heading_deg)
    r_bs = Rotation.from_matrix(np.eye(3) if rotation_bs is None else rotation_bs)
    r_ws = r_wb * r_bs  # v_world = R_wb R_bs v_sensor
    acc = r_ws.inv().apply(np.array([0.0, 0.0, G]))
    gyr = np.zeros((n, 3))
    step = (r_ws[:-1].inv() * r_ws[1:]).as_rotvec(degrees=True)
    gyr[1:] = step / np.diff(time_s)[:, None]
    gyr += np.asarray(gyro_bias_deg_s)
    rng = np.random.default_rng(seed)
    if noise:
        acc = acc + rng.normal(0, 0.05 * noise, acc.shape)
        gyr = gyr + rng.normal(0, 0.3 * noise, gyr.shape)
    return np.column_stack([time_s, acc, gyr])


def rep_curve(
    time_s: np.ndarray,
    starts,
    peak_deg=60.0,
    descent_s=1.0,
    hold_s=0.3,
    ascent_s=0.8,
    lockout_deg=0.0,
):
    """Flexion of deadlift-like reps (cosine ramps) starting at ``starts`` (s)."""
    flexion = np.zeros_like(time_s)
    for t0 in starts:
        d = (time_s - t0) / descent_s
        down = (d >= 0) & (d <= 1)
        flexion[down] = peak_deg * (1 - np.cos(np.pi * d[down])) / 2
        t2 = t0 + descent_s + hold_s
        # Pieces are chosen on d and u (not on t1, t3) so that no sample falls between two
        # of them by rounding (that sample would read 0: a one-sample spike to upright).
        flexion[(d > 1) & (time_s <= t2)] = peak_deg
        u = (time_s - t2) / ascent_s
        up = (u > 0) & (u <= 1)
        flexion[up] = lockout_deg + (peak_deg - lockout_deg) * (1 + np.cos(np.pi * u[up])) / 2
        t3 = t2 + ascent_s
        back = (u > 1) & (time_s <= t3 + 0.4)
        flexion[back] = lockout_deg * (1 + np.cos(np.pi * (time_s[back] - t3) / 0.4)) / 2
    return flexion


def feed(samples: np.ndarray, sizes, settings=None) -> tuple[np.ndarray, list[dict]]:
    """Stream samples through one Engine in the given chunk sizes (cycled); the
    concatenated angles and events, ``finish()`` included."""
    from imu.pipeline import Engine

    engine = Engine() if settings is None else Engine(settings)
    angles, events, lo = [], [], 0
    for size in itertools.cycle(sizes):
        if lo >= len(samples):
            break
        step = engine.update(samples[lo : lo + size])
        angles.append(step.angles)
        events += step.events
        lo += size
    step = engine.finish()
    return np.concatenate([*angles, step.angles]), events + step.events


def test_motion_still_reads_gravity_up():
    t = np.arange(0, 1, 0.01)
    s = motion(t, np.zeros_like(t))
    np.testing.assert_allclose(s[:, 1:4], np.tile([0, 0, G], (len(t), 1)), atol=1e-12)
    np.testing.assert_allclose(s[:, 4:7], 0, atol=1e-9)


def test_motion_forward_bend_rotates_about_body_y():
    t = np.arange(0, 1.01, 0.01)
    s = motion(t, 30 * t)  # 30 deg/s forward
    np.testing.assert_allclose(s[1:, 4:7], np.tile([0, 30, 0], (len(t) - 1, 1)), atol=1e-6)
    # bent 30 deg forward: the body sees gravity's reaction partly along -x
    np.testing.assert_allclose(s[-1, 1], -G * np.sin(np.radians(30)), atol=1e-9)


class EveryExcursion:
    """A rep decision that takes every candidate excursion for a rep.

    The analytic curves here are identical cosine excursions without sway or context:
    what the learned rep decision (imu/pipeline/rep_decision.py) makes of such curves is
    no evidence about lifting, so tests of the other stages on them use this decision; the
    decision itself is tested on the simulator (tests/test_rep_decision.py). The rules
    that reject impossible reps (held too long, turned, still bent, ...) still apply."""

    def early(self, features):
        return 1.0, True

    def final(self, features):
        return 1.0, True


def every_excursion_is_a_rep(monkeypatch) -> None:
    """Fixture body: engines made in the test use :class:`EveryExcursion`."""
    from imu.pipeline import reps

    monkeypatch.setattr(reps, "default_model", EveryExcursion)
