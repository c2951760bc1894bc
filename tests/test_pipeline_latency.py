"""Live alert latency: rep verdicts within 0.4 s of lockout, streamed == batch kept
(SYNTHETIC sessions generated in memory by imu.sim; `imu simulate` writes the same kind)."""

from __future__ import annotations

import numpy as np
import pytest
from test_pipeline_support import rep_curve

from imu.pipeline import Engine, EngineSettings, RepSettings, analyze_samples
from imu.pipeline.reps import RepSegmenter
from imu.sim import DeadliftSet, Rest, SessionScript, Stand, Walk, make_lifter, simulate

LATENCY_S = 0.4
FLAGGED_HISTORY = {1, 3, 5, 8}
"""The test classifier flags an excursion as rounded when this many reps came before it."""


class Every:
    """A rep decision that takes every candidate for a rep (tests of the alert mechanics
    on analytic curves, apart from what the shipped model makes of them)."""

    def early(self, features):
        return 1.0, True

    def final(self, features):
        return 1.0, True


class HistoryClassifier:
    """Classifier hook whose verdict depends only on the history it is given (and logs
    each call), so a wrong history shows as a wrong verdict."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, tuple[float, ...]]] = []

    def classify(self, record: dict, history: list[dict]) -> tuple[float, bool]:
        self.calls.append((record["start_s"], tuple(r["end_s"] for r in history)))
        flagged = len(history) in FLAGGED_HISTORY
        return (0.9 if flagged else 0.1) + 1e-3 * len(history), flagged


def session(seed: int = 3, rate_hz: float = 100.0) -> np.ndarray:
    """Two sets (from-the-floor conventional: ends with a put-down; touch-and-go) with
    hyperextended reps, 100 Hz, SYNTHETIC."""
    script = SessionScript(
        make_lifter(seed % 3),
        (
            Stand(3.0, still=True),
            DeadliftSet(5, "conventional", hyperextended=(False, True, False, True, True)),
            Rest(40.0),
            DeadliftSet(4, "touch_and_go", hyperextended=(True, False, False, True)),
            Stand(2.0),
            Walk(3.0),
        ),
    )
    return simulate(script, sampling_rate_hz=rate_hz, seed=seed).session.samples()


def stream(samples: np.ndarray, classifier=None) -> list[tuple[float, dict]]:
    """Feed one sample at a time: each event with the time of the last sample fed when it
    appeared (end of input for events of ``finish``)."""
    engine = Engine(classifier=classifier)
    out = []
    for sample in samples:
        out += [(float(sample[0]), event) for event in engine.update(sample[None, :]).events]
    out += [(float(samples[-1, 0]), event) for event in engine.finish().events]
    return out


@pytest.fixture(scope="module")
def run():
    samples = session()
    batch = analyze_samples(samples, classifier=HistoryClassifier())
    classifier = HistoryClassifier()
    return samples, batch, stream(samples, classifier), classifier


def test_streamed_equals_batch_with_early_alerts(run):
    samples, batch, streamed, _ = run
    assert [event for _, event in streamed] == batch.events
    engine, events, lo = Engine(classifier=HistoryClassifier()), [], 0
    for size in np.random.default_rng(1).integers(1, 300, len(samples)):
        events += engine.update(samples[lo : lo + size]).events
        lo += size
        if lo >= len(samples):
            break
    assert events + engine.finish().events == batch.events
    assert any(e.get("provisional") for e in batch.events)  # the new events are in both


def test_reps_and_p_rounded_are_the_confirmed_verdicts(run):
    _, batch, _, _ = run
    assert [(r["set"], r["rep"]) for r in batch.reps] == [(1, k) for k in range(1, 6)] + [
        (2, k) for k in range(1, 5)
    ]
    assert [r["hyperextended"] for r in batch.reps] == [False, True, False, True, True] + [
        True, False, False, True
    ]  # fmt: skip
    for k, rep in enumerate(batch.reps):  # history = every earlier rep, as without early alerts
        assert rep["p_rounded"] == pytest.approx((0.9 if k in FLAGGED_HISTORY else 0.1) + 1e-3 * k)
        assert rep["rounded"] == (k in FLAGGED_HISTORY)


def test_provisional_verdict_sees_the_history_of_the_confirmed_one(run):
    _, batch, _, classifier = run
    by_start: dict[float, set] = {}
    for start_s, history in classifier.calls:
        by_start.setdefault(start_s, set()).add(history)
    for rep in batch.reps:
        assert len(by_start[rep["start_s"]]) == 1  # early and confirmed calls: same history


def test_flagged_reps_alert_within_0_4_s_of_lockout(run):
    _, batch, streamed, _ = run
    n_early = 0
    for rep in batch.reps:
        kinds = {"rounded"} if rep["rounded"] else set()
        kinds |= {"hyperextension"} if rep["hyperextended"] else set()
        for kind in kinds:
            alerts = [
                (t, e)
                for t, e in streamed
                if e["type"] == "alert"
                and (e["kind"], e["set"], e["rep"]) == (kind, rep["set"], rep["rep"])
            ]
            assert len(alerts) == 1, (rep["set"], rep["rep"], kind)  # never twice
            time_s, alert = alerts[0]
            assert alert["time_s"] == rep["end_s"]
            rep_time_s = next(t for t, e in streamed if e is rep or e == rep)
            # the first rep of a set too: the early verdict does not need a second one
            assert alert["provisional"], (rep["set"], rep["rep"], kind)
            assert time_s <= rep["end_s"] + LATENCY_S
            assert time_s < rep_time_s
            n_early += 1
    assert n_early >= 8


def test_put_down_gets_no_alert_that_stands(run):
    _, batch, _, _ = run
    alerts = [e for e in batch.events if e["type"] == "alert"]
    withdrawn = [e for e in batch.events if e["type"] == "alert_withdrawn"]
    confirmed = {(r["set"], r["rep"]) for r in batch.reps}
    # The put-down after set 1 (5 reps before it, so flagged by the classifier if judged)
    # is no rep: either the early verdict already says so (no alert) or its alert is
    # withdrawn after the alert.
    unconfirmed = [e for e in alerts if (e["set"], e["rep"]) not in confirmed]
    for alert in unconfirmed:
        match = [w for w in withdrawn if (w["kind"], w["set"], w["rep"]) ==
                 (alert["kind"], alert["set"], alert["rep"])]  # fmt: skip
        assert len(match) == 1 and "not a rep" in match[0]["message"]
        assert batch.events.index(match[0]) > batch.events.index(alert)
    assert len(withdrawn) == len(unconfirmed)


def test_early_alert_not_confirmed_is_withdrawn_and_unflagged_one_alerts_late():
    """Segmenter level: the confirmed verdict differs from the early one (a classifier
    that changes its mind on the second call): withdrawal; no early flag: confirmed alert."""

    class FlipFlop:
        def __init__(self) -> None:
            self.seen: dict[float, int] = {}

        def classify(self, record, history):
            n = self.seen[record["start_s"]] = self.seen.get(record["start_s"], 0) + 1
            flagged = (n == 1) == (len(history) == 1)  # rep 2: early only; rep 3: confirmed only
            return float(flagged), flagged

    t = np.arange(0.0, 20.0, 0.01)
    flexion = rep_curve(t, [1.0, 4.0, 7.0])
    segmenter = RepSegmenter(classifier=FlipFlop(), decision=Every())
    angles = np.column_stack([flexion, np.zeros_like(t), np.zeros_like(t)])
    events = []
    for k in range(len(t)):
        events += segmenter.update(t[k : k + 1], angles[k : k + 1], np.array([k]))
    events += segmenter.finish()
    kinds = [
        (e["type"], e.get("rep"), e.get("provisional")) for _, e in events if e["type"] != "rep"
    ]
    # rep 2 (history 1) early, withdrawn; reps 1 and 3 (history 0, 2) early no, confirmed
    # yes: their early calls see the same history, so FlipFlop flags them on the 2nd call.
    assert ("alert", 2, True) in kinds and ("alert_withdrawn", 2, None) in kinds
    assert ("alert", 1, False) in kinds and ("alert", 3, False) in kinds
    assert [e["rounded"] for _, e in events if e["type"] == "rep"] == [True, False, True]


def test_a_gap_after_the_lockout_keeps_the_rep_and_its_early_alert():
    class Always:
        def classify(self, record, history):
            return 1.0, True

    t = np.arange(0.0, 12.0, 0.01)
    angles = np.column_stack([rep_curve(t, [1.0, 4.0]), np.zeros((len(t), 2))])
    segmenter = RepSegmenter(classifier=Always(), decision=Every())
    events, restarted = [], False
    for k in range(len(t)):
        events += segmenter.update(t[k : k + 1], angles[k : k + 1], np.array([k]))
        if not restarted and sum(bool(e.get("provisional")) for _, e in events) == 2:
            segmenter.restart()  # a long gap after rep 2's lockout, before it is cut
            restarted = True
    events += segmenter.finish()
    assert restarted and not [e for _, e in events if e["type"] == "alert_withdrawn"]
    assert [e["rep"] for _, e in events if e["type"] == "rep"] == [1, 2]
    assert [(e["rep"], e["provisional"]) for _, e in events if e["type"] == "alert"] == [
        (1, True), (2, True)
    ]  # fmt: skip
    assert segmenter.lost == []


def test_a_gap_mid_descent_reports_the_excursion_lost_and_counting_resumes():
    t = np.arange(0.0, 16.0, 0.01)
    angles = np.column_stack([rep_curve(t, [1.0, 4.0, 7.0, 10.0]), np.zeros((len(t), 2))])
    gap = (t > 4.5) & (t < 5.5)  # rep 2 is 30 deg down at 4.5 s, rising from 60 at 5.5 s
    segmenter = RepSegmenter(decision=Every())
    events, restarted = [], False
    for k in np.flatnonzero(~gap):
        if t[k] >= 5.5 and not restarted:
            segmenter.restart()
            restarted = True
        events += segmenter.update(t[k : k + 1], angles[k : k + 1], np.array([k]))
    events += segmenter.finish()
    lost = [e for _, e in events if e["type"] == "rep_lost"]
    assert len(lost) == 1 and lost[0]["time_s"] == pytest.approx(4.5, abs=0.02)
    reps = [e for _, e in events if e["type"] == "rep"]
    assert [round(r["start_s"]) for r in reps] == [1, 7, 10]
    assert [(r["set"], r["rep"]) for r in reps] == [(1, 1), (1, 2), (1, 3)]  # one set


def test_rep_still_extending_when_cut_is_judged_at_the_cut():
    """The last 12 deg of each ascent take 1.5 s (8 deg/s): extension has not stopped when
    the excursion is cut 1 s after passing 15 deg; the early verdict is made at the cut."""

    class Always:
        def classify(self, record, history):
            return 1.0, True

    t = np.arange(0.0, 20.0, 0.01)
    knots = [(0.0, 0.0), (1.0, 60.0), (1.3, 60.0), (2.0, 15.0), (3.5, 3.0), (4.0, 0.0)]
    flexion = np.zeros_like(t)
    for t0 in (1.0, 6.0, 11.0):
        flexion += np.interp(t, [t0 + k for k, _ in knots], [v for _, v in knots])
    angles = np.column_stack([flexion, np.zeros((len(t), 2))])
    segmenter = RepSegmenter(classifier=Always(), decision=Every())
    events = []
    for k in range(len(t)):
        events += segmenter.update(t[k : k + 1], angles[k : k + 1], np.array([k]))
    events += segmenter.finish()
    reps = [e for _, e in events if e["type"] == "rep"]
    assert len(reps) == 3
    early = [(row, e) for row, e in events if e.get("provisional")]
    assert [e["rep"] for _, e in early] == [1, 2, 3]
    for row, alert in early:
        rep = reps[alert["rep"] - 1]
        assert alert["time_s"] == rep["end_s"] and t[row] <= rep["end_s"] + LATENCY_S


def test_without_early_alerts_the_same_reps_and_sets_with_one_verdict_each(run):
    samples, batch, _, early = run
    classifier = HistoryClassifier()
    settings = EngineSettings(reps=RepSettings(early_alerts=False))
    late = analyze_samples(samples, settings, classifier=classifier)
    assert late.reps == batch.reps and late.sets == batch.sets
    assert len(classifier.calls) == len(late.reps) < len(early.calls)
    alerts = [e for e in late.events if e["type"] == "alert"]
    assert not any(e["provisional"] for e in alerts)
    flags = sum(bool(r["rounded"]) + r["hyperextended"] for r in late.reps)
    assert len(alerts) == flags and not any(e["type"] == "alert_withdrawn" for e in late.events)
