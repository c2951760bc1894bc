"""Synthetic rep records (NOT real data) for the classifier's unit tests.

Each fake lifter has an own typical good rep; a rounded rep has more peak flexion and
flexion at lift-off than the same lifter's good reps, extends faster early in the pull
and sways more. Absolute values overlap between lifters on purpose, so only features
relative to the lifter's baseline separate the classes well, as with one lumbar sensor.
"""

from __future__ import annotations

import numpy as np

from imu.model.features import RAW_FEATURES, TRACE_FLEXION, TRACE_KEY, rep_features


def fake_rep(rng: np.random.Generator, lifter_peak_deg: float, rounded: bool, start_s: float) -> dict:
    extra = rng.uniform(7.0, 13.0) if rounded else 0.0
    peak = lifter_peak_deg + extra + rng.normal(0.0, 2.0)
    descent_s, ascent_s = rng.uniform(1.0, 1.4), rng.uniform(0.9, 1.3)
    n = 51
    t = np.linspace(0.0, 1.0, n)
    bottom = descent_s / (descent_s + ascent_s)
    up = np.clip(t / bottom, 0, 1)
    down = np.clip((t - bottom) / (1 - bottom), 0, 1)
    # rounded reps "unround" early in the pull: the descent part of the curve is sharper
    power = 0.6 if rounded else 1.0
    trace = peak * np.where(t <= bottom, np.sin(up * np.pi / 2), 1 - down**power)
    return {
        "start_s": start_s,
        "bottom_s": start_s + descent_s,
        "end_s": start_s + descent_s + ascent_s,
        "peak_flexion_deg": peak,
        "liftoff_flexion_deg": peak - rng.uniform(1, 3) + (0.5 * extra),
        "lockout_extension_deg": rng.normal(-3.0, 2.0),
        "descent_s": descent_s,
        "ascent_s": ascent_s,
        "peak_flexion_velocity_deg_s": peak / descent_s * 1.5,
        "peak_extension_velocity_deg_s": -peak / ascent_s * (1.9 if rounded else 1.5),
        "lateral_bend_range_deg": rng.uniform(2, 5) + (2.0 if rounded else 0.0),
        "twist_range_deg": rng.uniform(2, 6) + (1.5 if rounded else 0.0),
        "smoothness": rng.uniform(0.7, 0.9),
        TRACE_KEY: {TRACE_FLEXION: trace.tolist(),
                    "twist_deg": (np.sin(np.pi * t) * (4.0 if rounded else 1.0)).tolist()},
    }


def fake_lifters(n_lifters: int, reps_per_lifter: int = 30, p_rounded: float = 0.25,
                 seed: int = 0) -> list[tuple[str, list[dict], np.ndarray]]:
    """``[(lifter, records in time order, y)]``; each lifter's first 3 reps are good."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_lifters):
        peak = rng.uniform(40.0, 75.0)
        y = (rng.random(reps_per_lifter) < p_rounded).astype(int)
        y[:3] = 0
        reps = [fake_rep(rng, peak, bool(r), 10.0 + 5.0 * k) for k, r in enumerate(y)]
        out.append((f"lifter{i}", reps, y))
    return out


def test_fake_reps_fill_every_raw_feature():
    (_, reps, _), = fake_lifters(1, reps_per_lifter=4)
    values = rep_features(reps[0])
    assert values.shape == (len(RAW_FEATURES),)
    assert np.all(np.isfinite(values))
