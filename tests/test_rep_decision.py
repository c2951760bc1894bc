"""The rep-vs-not-a-rep stage (imu/pipeline/rep_decision.py) on SYNTHETIC gym activity.

Sessions come from imu.sim (short scripts below; seeds are not the training seeds of the
shipped model, which are make_lifter(i, seed=1000) with session seeds 3000+).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imu.errors import ImuError
from imu.pipeline import Engine, EngineSettings, analyze_samples, analyze_session
from imu.pipeline.rep_decision import (
    DEFAULT_MODEL_PATH,
    FINAL_FEATURES,
    MODEL_FORMAT,
    DecisionModel,
    TreeEnsemble,
)
from imu.sim import DeadliftSet, PickUp, SessionScript, Stand, Walk, make_lifter, simulate
from imu.sim.activities import LoadBar, PickItem, Wander
from imu.sim.matching import iou

RATE_HZ = 100.0


def run(*activities, lifter: int = 4, seed: int = 71):
    start = (Stand(3.0, still=True), Walk(3.0, 180.0), Walk(2.0), Stand(2.0))
    script = SessionScript(make_lifter(lifter, seed=555), start + activities + (Stand(3.0),))
    result = simulate(script, sampling_rate_hz=RATE_HZ, seed=seed)
    return result, analyze_session(result.session)


def matched(truth, reps) -> int:
    """How many true reps a detected rep overlaps by IoU >= 0.5."""
    n = 0
    for s, e in zip(truth.start_s, truth.end_s, strict=True):
        for rep in reps:
            if iou((s, e), (rep["start_s"], rep["end_s"])) >= 0.5:
                n += 1
                break
    return n


def test_the_shipped_model_loads_as_numbers_without_scikit_learn():
    code = (
        "import sys; from imu.pipeline import rep_decision as d; m = d.default_model(); "
        "assert 'sklearn' not in sys.modules and 'skops' not in sys.modules; "
        "print(len(m.final_trees.trees))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 10
    manifest = DecisionModel.load().manifest
    assert manifest["synthetic"] is True and manifest["trained_on"].startswith("SYNTHETIC")
    assert manifest["regenerate"].startswith("python tools/train_rep_decision.py")
    assert manifest["cv_final"]["folds"].startswith("GroupKFold")
    assert manifest["cv_look_back"]["folds"].startswith("GroupKFold")
    assert DecisionModel.load().look_back_trees is not None


def test_look_back_rows_pair_each_turned_down_candidate_with_the_next_in_its_run():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from train_rep_decision import look_back_rows

    def row(session, verdict, label, p, since):
        values = dict.fromkeys(FINAL_FEATURES, 1.0) | {"since_candidate_s": since}
        return values | {"_lifter": 3, "_session": session, "_verdict": verdict,
                         "_label": label, "_p": p}  # fmt: skip

    rows = [
        row(0, False, True, 0.2, 60.0),  # turned down, a rep: next decided a rep -> row
        row(0, True, True, 0.9, 1.5),
        row(0, False, False, 0.1, 2.0),  # turned down, not a rep: next is a true rep -> row
        row(0, False, True, 0.3, 1.2),  # turned down, a rep: next neither -> none
        row(0, False, False, 0.1, 9.0),
        row(1, True, True, 0.8, 60.0),  # another run: the last of run 0 gets no row
    ]
    out = look_back_rows(rows)
    assert [(r["_label"], r["p_rep"], r["next_p_rep"], r["next_since_candidate_s"]) for r in out] == [
        (True, 0.2, 0.9, 1.5), (False, 0.1, 0.3, 1.2)
    ]  # fmt: skip
    assert all(r["_lifter"] == 3 for r in out)


def test_exported_trees_give_scikit_learns_probabilities():
    from sklearn.ensemble import GradientBoostingClassifier

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from train_rep_decision import export  # the training tooling (not the runtime package)

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, len(FINAL_FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 3] * x[:, 5] + rng.normal(0, 0.3, 300)) > 0
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(x, y)
    trees = TreeEnsemble(export(model, FINAL_FEATURES, x), FINAL_FEATURES)
    mine = [trees.p_rep(dict(zip(FINAL_FEATURES, row, strict=True))) for row in x]
    np.testing.assert_allclose(mine, model.predict_proba(x)[:, 1], rtol=0, atol=1e-12)


def test_a_model_file_that_is_not_plain_trees_is_refused(tmp_path):
    spec = json.loads(DEFAULT_MODEL_PATH.read_text())
    looped = json.loads(json.dumps(spec))
    looped["final"]["trees"][0]["left"][0] = 0  # a node that is its own child
    renamed = json.loads(json.dumps(spec))
    renamed["early"]["features"][0] = "something_else"
    for bad in (looped, renamed, {"format": "pickle"}):
        path = tmp_path / "model.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(ImuError):
            DecisionModel.load(path)
    assert spec["format"] == MODEL_FORMAT


def test_shallow_romanian_deadlifts_count_and_sways_and_chalk_do_not():
    result, analysis = run(
        PickItem("chalk"), Stand(20.0),
        DeadliftSet(6, "rdl_shallow", rounded=(False,) * 6, hyperextended=(False,) * 6, rack=True),
        Stand(5.0),
    )  # fmt: skip
    truth = result.truth_reps
    assert (truth.peak_flexion_deg < 40).all()
    assert len(analysis.reps) == 6 and matched(truth, analysis.reps) == 6
    assert [s["n_reps"] for s in analysis.sets] == [6]


def test_singles_with_plates_pick_ups_and_put_downs_count_one_rep_each():
    result, analysis = run(
        LoadBar(1), PickUp(), Stand(4.0), DeadliftSet(1, "conventional"), Wander(40.0),
        LoadBar(1), PickItem("belt"), DeadliftSet(1, "conventional", put_down="dropped"),
        Stand(20.0), DeadliftSet(2, "deficit", reset_chance=1.0),
    )  # fmt: skip
    truth = result.truth_reps
    assert len(truth) == 4
    assert matched(truth, analysis.reps) == 4 and len(analysis.reps) == 4
    assert [s["n_reps"] for s in analysis.sets] == [1, 1, 2]


def test_a_set_from_the_floor_ends_with_the_bar_put_down_which_is_not_a_rep():
    result, analysis = run(
        DeadliftSet(5, "conventional"), Stand(30.0), DeadliftSet(5, "rdl"), Stand(6.0), seed=74
    )
    truth = result.truth_reps
    assert len(result.truth_bends) == 1  # the put-down after the conventional set
    put_down = result.truth_bends.iloc[0]
    assert matched(truth, analysis.reps) == len(analysis.reps) == 10
    assert not any(put_down.start_s <= r["end_s"] and r["start_s"] <= put_down.end_s
                   for r in analysis.reps)  # fmt: skip
    assert [s["n_reps"] for s in analysis.sets] == [5, 5]


def test_gym_activity_without_lifting_counts_nothing():
    _, analysis = run(
        LoadBar(2), PickItem("phone"), PickItem("bottle"), Wander(60.0, stretch_chance=1.0),
        LoadBar(1), lifter=7, seed=72,
    )  # fmt: skip
    assert analysis.reps == []


@pytest.mark.parametrize("sizes", [(1, 7, 64), (333,)])
def test_a_gym_session_streamed_equals_batch(sizes):
    result, batch = run(LoadBar(1), PickItem("chalk"), DeadliftSet(4, "touch_and_go"), Stand(4.0))
    samples = result.session.samples()
    engine = Engine(EngineSettings(sampling_rate_hz=RATE_HZ))
    events, i, k = [], 0, 0
    while i < len(samples):
        step = sizes[k % len(sizes)]
        events += engine.update(samples[i : i + step]).events
        i, k = i + step, k + 1
    events += engine.finish().events
    assert [e for e in events if e["type"] == "rep"] == batch.reps
    assert [e for e in events if e["type"] == "set"] == batch.sets


def test_a_lost_second_loses_only_the_rep_it_overlaps_and_reports_it():
    result, clean = run(DeadliftSet(6, "rdl"), Stand(4.0), seed=73)
    truth = result.truth_reps
    assert matched(truth, clean.reps) == 6
    samples = result.session.samples()
    lost = float(truth.start_s.iloc[2] + 0.5 * (truth.end_s.iloc[2] - truth.start_s.iloc[2]))
    keep = ~((samples[:, 0] >= lost) & (samples[:, 0] < lost + 1.0))
    kept = samples[keep]
    flags = np.zeros(len(kept), dtype=bool)
    flags[int(np.searchsorted(kept[:, 0], lost + 1.0))] = True
    analysis = analyze_samples(kept, EngineSettings(sampling_rate_hz=RATE_HZ), gap_before=flags)
    others = truth.drop(index=2)
    assert matched(others, analysis.reps) == 5
    assert analysis.quality["n_reps_lost"] == 1
    lost_events = [e for e in analysis.events if e["type"] == "rep_lost"]
    assert len(lost_events) == 1
    assert truth.start_s.iloc[2] - 0.5 <= lost_events[0]["time_s"] <= lost
    assert [s["n_reps"] for s in analysis.sets] == [5]  # the gap does not split the set


def test_context_before_a_candidate_is_the_same_in_any_chunking():
    """The segmenter forgets old rows on long sessions (more than 4096 in its history);
    the rows a later candidate's "before" features see (``context_s`` before its start)
    are kept, so live (small chunks) and batch decide on the same features. A rep rising
    just after such a trim, with sway in the seconds before it (analytic angles)."""
    from imu.pipeline.rep_settings import RepSettings
    from imu.pipeline.reps import RepSegmenter

    class Recorder:
        def __init__(self) -> None:
            self.seen: list[dict] = []

        def early(self, features):
            return 1.0, True

        def final(self, features):
            self.seen.append(features)
            return 1.0, True

    t = np.arange(0.0, 100.0, 1.0 / RATE_HZ)
    start_s = 78.0  # the rise (20 deg) follows the second trim (at ~78.4 s)
    bent = (t >= start_s) & (t < start_s + 3)
    flexion = np.where(bent, 60 * np.sin(np.pi * (t - start_s) / 3) ** 2, 0.0)
    sway = (t > start_s - 6) & (t < start_s - 2.5)
    lateral = np.where(sway, 5 * np.sin(2 * np.pi * t), 0.0)
    twist = np.where(sway, 3 * np.sin(np.pi * t), 0.0)
    angles = np.column_stack([flexion, lateral, twist])
    rows = np.arange(len(t), dtype=float)
    acc_norm = 9.81 + np.where(sway, 2.0 * np.sin(2 * np.pi * 1.8 * t), 0.0)  # steps

    def features(size: int) -> list[dict]:
        recorder = Recorder()
        segmenter = RepSegmenter(RepSettings(), None, recorder)
        for lo in range(0, len(t), size):
            segmenter.update(
                t[lo : lo + size], angles[lo : lo + size], rows[lo : lo + size],
                acc_norm[lo : lo + size],
            )  # fmt: skip
        segmenter.finish()
        return recorder.seen

    batch = features(len(t))
    assert len(batch) == 1 and batch[0]["before_turn_deg"] > 5.0
    assert batch[0]["before_step_mps2"] > 0.5  # 3.5 s of the 4 s were steps
    assert features(5) == batch


@pytest.mark.parametrize("rate_hz", [25.0, 52.0, 200.0])
def test_steps_are_seen_in_the_acceleration_at_any_rate(rate_hz):
    """Walking bounces the pelvis once a step: |acc| at 1.8 Hz (amplitude 2 m/s^2, RMS
    1.41) is measured as such at any rate and through jittered time stamps, and a slow
    0.3 Hz sway of the same size is not a step."""
    from imu.pipeline.rep_decision import _acc_activity

    rng = np.random.default_rng(5)
    n = int(4.0 * rate_hz)
    t = np.arange(n) / rate_hz + rng.uniform(0.0, 0.3 / rate_hz, n)
    sd, steps = _acc_activity(t, 9.81 + 2.0 * np.sin(2 * np.pi * 1.8 * t))
    assert sd == pytest.approx(2.0 / np.sqrt(2), rel=0.05)
    assert steps == pytest.approx(2.0 / np.sqrt(2), rel=0.1)
    _, sway = _acc_activity(t, 9.81 + 2.0 * np.sin(2 * np.pi * 0.3 * t))
    assert sway < 0.15 * steps  # what leaks from it into the band (4 s, no taper)
    nan = np.full(len(t), np.nan)
    assert _acc_activity(t, nan) == (0.0, 0.0)  # no acceleration given: nothing seen


class _RejectFirstTwo:
    """A decision that turns down the first two candidates and takes every later one;
    its look-back takes back what it turned down when ``take_back`` (records its calls)."""

    def __init__(self, take_back: bool) -> None:
        self.take_back = take_back
        self.seen: list[float] = []
        self.looked_at: list[dict] = []

    def early(self, features):
        return 0.5, True

    def final(self, features):
        self.seen.append(features["_start_s"])
        is_rep = len(self.seen) > 2
        return (0.9 if is_rep else 0.1), is_rep

    def look_back(self, features):
        self.looked_at.append(features)
        return (0.8 if self.take_back else 0.2), self.take_back


@pytest.mark.parametrize("take_back", [True, False])
def test_look_back_takes_back_the_first_reps_of_a_set_in_order(take_back):
    # One set of 6 (SYNTHETIC): the first two candidates turned down, the third taken.
    # With a look-back that takes them, the set counts 6 reps numbered 1-6 in time
    # order, the first two marked look_back and given when the third is decided; without,
    # 4 reps. The look-back sees each turned-down candidate with the one after it.
    script = SessionScript(
        make_lifter(2, seed=555),
        (Stand(3.0, still=True), DeadliftSet(6, "rdl"), Stand(6.0)),
    )
    result = simulate(script, sampling_rate_hz=RATE_HZ, seed=5)
    decision = _RejectFirstTwo(take_back)
    analysis = analyze_session(result.session, decision=decision)
    reps = analysis.reps
    assert len(decision.seen) == 6
    if not take_back:
        assert [r["rep"] for r in reps] == [1, 2, 3, 4]
        assert len(decision.looked_at) == 1  # the last turned down, then it stops
        assert not any(r["look_back"] for r in reps)
        return
    assert [(r["set"], r["rep"]) for r in reps] == [(1, k) for k in range(1, 7)]
    assert [r["look_back"] for r in reps] == [True, True, False, False, False, False]
    starts = [r["start_s"] for r in reps]
    assert starts == sorted(starts) and starts[:3] == decision.seen[:3]
    assert matched(result.truth_reps, reps) == 6
    assert [s["n_reps"] for s in analysis.sets] == [6]
    first, second = decision.looked_at  # the 2nd (next: the 3rd), then the 1st (next: 2nd)
    assert first["p_rep"] == second["next_p_rep"] == 0.1 and first["next_p_rep"] == 0.9
    assert 0 < first["next_since_candidate_s"] < 3
    events = analysis.events
    order = [e["start_s"] for e in events if e["type"] == "rep"]
    assert order == sorted(order)  # given in time order, before the rep that showed them


def test_look_back_reaches_across_a_gap_that_lost_the_rep_after_the_turned_down_ones():
    # One set of 6 RDLs (SYNTHETIC) with 1 s lost in the middle of rep 3: reps 1 and 2
    # turned down, rep 3 cut off by the gap (reported lost), rep 4 taken. The look-back
    # asks about rep 2, then rep 1, when rep 4 is decided, relating rep 4 to rep 2 (not
    # to the excursion the gap cut off), and takes them: 5 reps in one set and 1 lost.
    # Before, a gap emptied the look-back's list: 3 reps (bench_gym's link-loss row
    # lost 3 RDLs that the lossless run counted on looking back from the rep in the gap).
    script = SessionScript(
        make_lifter(2, seed=555),
        (Stand(3.0, still=True), DeadliftSet(6, "rdl"), Stand(6.0)),
    )
    result = simulate(script, sampling_rate_hz=RATE_HZ, seed=5)
    truth = result.truth_reps
    samples = result.session.samples()
    lost = float(truth.start_s.iloc[2] + 0.5 * (truth.end_s.iloc[2] - truth.start_s.iloc[2]))
    kept = samples[~((samples[:, 0] >= lost) & (samples[:, 0] < lost + 1.0))]
    flags = np.zeros(len(kept), dtype=bool)
    flags[int(np.searchsorted(kept[:, 0], lost + 1.0))] = True
    decision = _RejectFirstTwo(take_back=True)
    analysis = analyze_samples(
        kept, EngineSettings(sampling_rate_hz=RATE_HZ), gap_before=flags, decision=decision
    )
    reps = analysis.reps
    assert matched(truth.drop(index=2), reps) == 5
    assert [r["look_back"] for r in reps] == [True, True, False, False, False]
    assert [(r["set"], r["rep"]) for r in reps] == [(1, k) for k in range(1, 6)]
    assert analysis.quality["n_reps_lost"] == 1
    first = decision.looked_at[0]  # rep 2, with rep 4 after it
    rep2_end = reps[1]["end_s"]
    assert first["next_since_candidate_s"] == pytest.approx(reps[2]["start_s"] - rep2_end)
    assert first["next_since_candidate_s"] > truth.end_s.iloc[2] - truth.start_s.iloc[2]
