"""Vectorised pipeline helpers against their plain per-sample definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.pipeline.excursions import lockout_seen
from imu.pipeline.metrics import sparc, unwrap_deg, velocity

ONSET_DEG_S = 2.0


def lockout_seen_by_definition(time_s: np.ndarray, flexion: np.ndarray, k: int) -> bool:
    """The lockout rule computed on the prefix ``0..k`` alone."""
    if k < 2:
        return False
    velocity_deg_s = velocity(flexion[: k + 1], time_s[: k + 1])
    fastest = int(np.argmin(velocity_deg_s))
    return bool(np.any(velocity_deg_s[fastest:-1] >= -ONSET_DEG_S))


@st.composite
def extensions(draw):
    """An extension from a peak: flexion falling with pauses and wobbles; uniform or
    jittered steps."""
    n = draw(st.integers(1, 60))
    uniform = draw(st.booleans())
    # Binary fractions give exactly equal steps; 0.005 and 0.01 differ in the last bits.
    step_s = draw(st.sampled_from([1 / 128, 1 / 64, 0.005, 0.01]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    steps = np.full(n, step_s) if uniform else step_s * rng.uniform(0.5, 1.5, n)
    # A uniform run that breaks part-way (the rule changes formula at the break).
    if uniform and n > 3 and draw(st.booleans()):
        steps[draw(st.integers(1, n - 1)) :] *= 1.25
    time_s = 100.0 + np.cumsum(steps)
    speed = rng.choice([0.0, 0.5, 1.9, 2.0, 2.1, 30.0, 80.0], n) * rng.choice([1, -0.2], n)
    flexion = 60.0 - np.cumsum(speed * steps)
    return time_s, flexion


@settings(max_examples=300, deadline=None)
@given(extensions())
def test_lockout_seen_matches_the_rule_on_each_prefix(extension):
    time_s, flexion = extension
    seen = lockout_seen(time_s, flexion, ONSET_DEG_S)
    expected = [lockout_seen_by_definition(time_s, flexion, k) for k in range(len(flexion))]
    assert seen.tolist() == expected


def test_lockout_seen_on_a_hand_made_extension():
    # 100 Hz: extending at 50 then 100 deg/s, then stopped (0 deg/s) from sample 5.
    time_s = np.arange(9) * 0.01
    flexion = np.array([60.0, 59.5, 59.0, 58.0, 57.0, 56.0, 56.0, 56.0, 56.0])
    seen = lockout_seen(time_s, flexion, ONSET_DEG_S)
    # Prefix 0..6: velocities ..., -50 at 5 (central), 0 at 6 (last, not counted): not yet.
    # Prefix 0..7: velocity at 6 is 0 (central difference of 56, 56): extension stopped.
    assert seen.tolist() == [False] * 7 + [True, True]


@settings(max_examples=200, deadline=None)
@given(extensions())
def test_velocity_is_numpys_gradient(extension):
    time_s, flexion = extension
    got = velocity(flexion, time_s)
    if len(flexion) < 2:
        assert got.tolist() == [0.0] * len(flexion)
        return
    expected = np.gradient(flexion, time_s)
    steps = np.diff(time_s)
    if (steps == steps[0]).all():  # numpy's equal-step formula: same value, other rounding
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
    else:
        assert got.tolist() == expected.tolist()


def sparc_full_spectrum(speed: np.ndarray, rate_hz: float) -> float:
    """SPARC as published (Balasubramanian et al. 2015): the whole zero-padded spectrum."""
    n_fft = int(2 ** (np.ceil(np.log2(len(speed))) + 4))
    freq = np.arange(n_fft) * rate_hz / n_fft
    magnitude = np.abs(np.fft.fft(speed, n_fft))
    magnitude = magnitude / magnitude.max()
    freq, magnitude = freq[freq <= 10.0], magnitude[freq <= 10.0]
    above = np.flatnonzero(magnitude >= 0.05)
    freq, magnitude = freq[above[0] : above[-1] + 1], magnitude[above[0] : above[-1] + 1]
    d_freq = np.diff(freq) / (freq[-1] - freq[0])
    return float(-np.sum(np.sqrt(d_freq**2 + np.diff(magnitude) ** 2)))


@pytest.mark.parametrize("rate_hz", [25.0, 100.0, 200.0])
def test_sparc_of_the_low_band_equals_the_full_spectrum(rate_hz):
    rng = np.random.default_rng(int(rate_hz))
    t = np.arange(0, 2.5, 1 / rate_hz)
    smooth = np.sin(np.pi * t / t[-1]) ** 2  # one bell-shaped movement
    jerky = smooth * (1 + 0.3 * np.sin(2 * np.pi * 6 * t)) + rng.uniform(0, 0.05, len(t))
    for speed in (smooth, jerky):
        assert sparc(speed, rate_hz) == pytest.approx(sparc_full_spectrum(speed, rate_hz), abs=1e-9)
    # A single smooth bell is smoother (closer to 0) than the same movement with tremor.
    assert sparc_full_spectrum(jerky, rate_hz) < sparc_full_spectrum(smooth, rate_hz) < -1.0


def test_unwrap_deg_removes_wraps():
    # Turning steadily through +-180 deg: the wrapped readings become one ramp.
    turned_deg = np.arange(150.0, 260.0, 10.0)
    wrapped = (turned_deg + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(unwrap_deg(wrapped), turned_deg)
