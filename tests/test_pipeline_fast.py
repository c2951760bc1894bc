"""Vectorised pipeline helpers against their plain per-sample definitions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.pipeline.reps import lockout_seen

ONSET_DEG_S = 2.0


def lockout_seen_by_definition(time_s: np.ndarray, flexion: np.ndarray, k: int) -> bool:
    """The lockout rule on the prefix ``0..k``, with numpy's own gradient."""
    if k < 2:
        return False
    velocity = np.gradient(flexion[: k + 1], time_s[: k + 1])
    fastest = int(np.argmin(velocity))
    return bool(np.any(velocity[fastest:-1] >= -ONSET_DEG_S))


@st.composite
def extensions(draw):
    """An extension from a peak: flexion falling with pauses and wobbles; uniform or
    jittered steps (numpy switches formula for uniform spacing)."""
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
def test_lockout_seen_matches_the_per_prefix_gradient(extension):
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
