"""Batch analysis on several cores gives the same bits as on one (SYNTHETIC session,
generated in memory by imu.sim; `imu simulate` writes the same kind of session to a file).

Long batch chunks run their body angles in parts on pool threads (imu.workers); the
result must not depend on how many threads there are.
"""

from __future__ import annotations

import numpy as np

from imu.pipeline import analyze_samples, fusion
from imu.sim import demo_session, make_lifter, simulate


def test_analysis_with_1_to_4_threads_is_identical(monkeypatch):
    session = simulate(
        demo_session(make_lifter(2), seed=3, n_sets=2), sampling_rate_hz=200, seed=3
    ).session
    samples = session.samples()
    # Two seconds lost mid-session: a restart inside a chunk (a new heading reference
    # from that row on).
    cut = len(samples) // 2
    samples = np.concatenate([samples[:cut], samples[cut + 400 :]])
    assert len(samples) > 8 * fusion.ANGLE_PART_ROWS
    calls = []
    parts = fusion.body_angles_chunk

    def counted(*args):
        calls.append(len(args[0]))
        parts(*args)

    monkeypatch.setattr(fusion, "body_angles_chunk", counted)
    results, n_calls = {}, {}
    for threads in (1, 2, 3, 4):
        monkeypatch.setenv("IMU_THREADS", str(threads))
        calls.clear()
        results[threads] = analyze_samples(samples)
        n_calls[threads] = len(calls)
    assert n_calls[1] < n_calls[2] < n_calls[3] < n_calls[4]  # long chunks were cut
    one = results[1]
    assert one.calibration["ok"] and len(one.reps) >= 6
    assert any(e["type"] == "gap" and e["restarted"] for e in one.events)
    for threads in (2, 3, 4):
        assert results[threads].angles.tobytes() == one.angles.tobytes()
        assert results[threads].events == one.events
