"""The pipeline against the biomechanical simulator's ground truth (SYNTHETIC sessions,
generated in memory by imu.sim; `imu simulate` writes the same sessions to files)."""

from __future__ import annotations

import numpy as np
import pytest
import test_pipeline_support as support

from imu.pipeline import Engine, analyze_samples, analyze_session
from imu.sim import (
    MOUNTINGS,
    DeadliftSet,
    SensorModel,
    SessionScript,
    Stand,
    demo_session,
    make_lifter,
    non_rep_session,
    simulate,
)
from imu.sim.matching import iou


def matched(reps: list[dict], truth) -> int:
    """Detected reps overlapping a distinct true rep with IoU >= 0.5."""
    used = set()
    for rep in reps:
        for k, (s, e) in enumerate(zip(truth.start_s, truth.end_s, strict=True)):
            if k not in used and iou((rep["start_s"], rep["end_s"]), (s, e)) >= 0.5:
                used.add(k)
                break
    return len(used)


def flexion_rmse(result, analysis) -> float:
    error = analysis.angles[:, 1] - result.truth_angles["flexion_deg"].to_numpy()
    return float(np.sqrt(np.nanmean(error**2)))


@pytest.mark.parametrize(
    ("lifter", "rate_hz", "mounting"), [(0, 50.0, "xup_zback"), (1, 100.0, "xleft_zfwd")]
)
def test_demo_session_angles_and_reps(lifter, rate_hz, mounting):
    script = demo_session(make_lifter(lifter), seed=lifter, n_sets=3)
    result = simulate(script, sampling_rate_hz=rate_hz, mounting=mounting, seed=lifter)
    analysis = analyze_session(result.session)
    assert analysis.calibration["ok"] and analysis.calibration["quality"] > 0.8
    assert flexion_rmse(result, analysis) < 1.5
    truth = result.truth_reps
    assert matched(analysis.reps, truth) == len(truth) == len(analysis.reps)
    assert [s["n_reps"] for s in analysis.sets] == truth.groupby("set").size().tolist()
    hyper = [r["hyperextended"] for r in analysis.reps]
    assert hyper == truth.hyperextended.tolist()


def test_non_rep_session_has_no_reps():
    for seed in range(2):
        result = simulate(
            non_rep_session(make_lifter(seed), seed=seed), sampling_rate_hz=50, seed=seed
        )
        analysis = analyze_session(result.session)
        assert analysis.calibration["ok"]
        assert analysis.reps == []


def short_script(lifter: int) -> SessionScript:
    return SessionScript(
        make_lifter(lifter), (Stand(3.0, still=True), DeadliftSet(3, "rdl"), Stand(2.0))
    )


def test_every_simulator_mounting_calibrates_with_forward_flexion_positive(monkeypatch):
    """Calibration and the flexion sign (every excursion taken for a rep: what the learned
    decision makes of a set begun the moment calibration ends is not this test's concern,
    test_pipeline_support.EveryExcursion)."""
    support.every_excursion_is_a_rep(monkeypatch)
    assert len(MOUNTINGS) == 24
    for k, mounting in enumerate(MOUNTINGS):
        result = simulate(short_script(k % 3), sampling_rate_hz=50, mounting=mounting, seed=k)
        analysis = analyze_session(result.session)
        assert analysis.calibration["ok"], mounting
        assert flexion_rmse(result, analysis) < 2.0, mounting
        assert len(analysis.reps) == 3, mounting
        assert all(r["peak_flexion_deg"] > 40 for r in analysis.reps), mounting


def test_streamed_equals_batch_on_a_bad_bluetooth_link():
    sensor = SensorModel(timestamp_jitter_s=0.004, drop_probability=0.01, drop_burst_max=20)
    result = simulate(short_script(2), sampling_rate_hz=100, sensor=sensor, seed=5)
    samples = result.session.samples()
    batch = analyze_samples(samples)
    assert len(batch.reps) == 3 and flexion_rmse(result, batch) < 2.0
    engine = Engine()
    rng = np.random.default_rng(0)
    angles, events, lo = [], [], 0
    while lo < len(samples):
        size = int(rng.integers(1, 60))
        step = engine.update(samples[lo : lo + size])
        angles.append(step.angles)
        events += step.events
        lo += size
    step = engine.finish()
    np.testing.assert_array_equal(np.concatenate([*angles, step.angles]), batch.angles)
    assert events + step.events == batch.events
