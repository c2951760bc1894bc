"""Rest-pause (cluster) sets on the simulator (SYNTHETIC sessions, generated in memory by
imu.sim in this file): a pause standing still with the bar in hand keeps the set; putting
the bar down, walking off or a long pause ends it."""

from __future__ import annotations

import numpy as np
import pytest
from test_pipeline_support import feed

from imu.pipeline import EngineSettings, RepSettings, analyze_session
from imu.sim import DeadliftSet, Rest, SessionScript, Stand, Walk, make_lifter, simulate

RATE_HZ = 50.0


def run(*activities, seed: int = 5, rest_pause_s: float | None = 25.0):
    script = SessionScript(make_lifter(2), (Stand(3.0, still=True), Walk(2.0), *activities))
    result = simulate(script, sampling_rate_hz=RATE_HZ, seed=seed)
    settings = EngineSettings(sampling_rate_hz=RATE_HZ, reps=RepSettings(rest_pause_s=rest_pause_s))
    return result, analyze_session(result.session, settings), settings


def per_set(reps) -> list[int]:
    counts: dict[int, int] = {}
    for rep in reps:
        counts[rep["set"]] = counts.get(rep["set"], 0) + 1
    return list(counts.values())


@pytest.mark.parametrize("kind", ["conventional", "touch_and_go", "rdl"])
def test_a_cluster_set_is_one_set_with_every_rep(kind):
    cluster = DeadliftSet(6, kind, cluster_size=3, cluster_rest_s=15.0)
    result, analysis, _ = run(cluster, Rest(60.0), DeadliftSet(4, kind))
    truth = result.truth_reps
    assert truth.groupby("set").size().tolist() == [6, 4]
    assert per_set(analysis.reps) == [6, 4]
    assert [s["n_reps"] for s in analysis.sets] == [6, 4]
    for rep, (_, true) in zip(analysis.reps, truth.iterrows(), strict=True):
        assert rep["start_s"] == pytest.approx(true.start_s, abs=0.4)
        assert rep["end_s"] == pytest.approx(true.end_s, abs=0.4)


def test_without_the_rule_the_pause_splits_the_set_and_keeps_every_rep():
    cluster = DeadliftSet(6, "conventional", cluster_size=3, cluster_rest_s=15.0)
    _, analysis, _ = run(cluster, Rest(60.0), rest_pause_s=None)
    # Each rep is decided on its own (not by its place in a burst): none is lost.
    assert per_set(analysis.reps) == [3, 3]


def test_bar_put_down_walking_off_or_a_long_pause_end_the_set():
    # Put down after the set, then standing still: the next set starts with a set-up.
    _, analysis, _ = run(DeadliftSet(4), Stand(12.0), DeadliftSet(4))
    assert per_set(analysis.reps) == [4, 4]
    # RDLs (no floor): walking off and back between them ends the set.
    _, analysis, _ = run(
        DeadliftSet(4, "rdl"), Walk(2.0, 180.0), Walk(2.0, 180.0), DeadliftSet(4, "rdl")
    )
    assert per_set(analysis.reps) == [4, 4]
    # A pause standing still longer than rest_pause_s.
    cluster = DeadliftSet(6, "rdl", cluster_size=3, cluster_rest_s=30.0)
    _, analysis, _ = run(cluster)
    assert per_set(analysis.reps) == [3, 3]


@pytest.mark.parametrize("sizes", [(1,), (13, 1, 400)])
def test_cluster_set_streamed_equals_batch(sizes):
    cluster = DeadliftSet(6, "conventional", cluster_size=3, cluster_rest_s=15.0)
    result, analysis, settings = run(cluster, Walk(2.0, 180.0))
    angles, events = feed(result.session.samples(), sizes, settings)
    np.testing.assert_array_equal(angles, analysis.angles)
    assert events == analysis.events
    assert per_set(analysis.reps) == [6]


def test_the_rest_pause_option_of_the_commands(tmp_path, capsys):
    """``imu analyze --rest-pause-s`` reaches the segmenter; out-of-range values are one line."""
    import json

    from imu.cli import main
    from imu.session import write_session

    script = SessionScript(
        make_lifter(2),
        (Stand(3.0, still=True), Walk(2.0), DeadliftSet(6, cluster_size=3, cluster_rest_s=15.0)),
    )
    path = tmp_path / "cluster.csv"
    write_session(simulate(script, sampling_rate_hz=RATE_HZ, seed=5).session, path)
    for extra, expected in (([], [3, 3]), (["--rest-pause-s", "25"], [6])):
        assert main(["analyze", str(path), "--json", "--no-model", *extra]) == 0
        assert per_set(json.loads(capsys.readouterr().out)["reps"]) == expected
    assert main(["analyze", str(path), "--rest-pause-s", "0"]) == 2
    assert "--rest-pause-s must be seconds of pause between 1 and 120" in capsys.readouterr().err
