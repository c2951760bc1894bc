"""Squats (`--lift squat`) against the simulator's truth (SYNTHETIC sessions, generated in
memory by imu.sim.squat; benchmarks/bench_squat.py has the figures on many lifters)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imu.pipeline import analyze_session, engine_settings
from imu.sim import SessionScript, SquatSet, Stand, make_lifter, read_table, simulate
from imu.sim.core import REP_COLUMNS
from imu.sim.matching import iou

WINK = (False, False, True, False, False, False, False, True, False, False)
LEAN = (False, False, False, False, True, False, False, False, False, True)


def squat_session(seed: int, pause_s=(0.05, 0.3), rate_hz: float = 50.0, mounting="random"):
    lifter = make_lifter(seed, seed=4242)
    script = SessionScript(
        lifter, (Stand(3.0, still=True), SquatSet(10, WINK, LEAN, pause_s=pause_s), Stand(2.0))
    )
    return simulate(script, sampling_rate_hz=rate_hz, mounting=mounting, seed=seed)


@pytest.fixture(scope="module")
def back_to_back():
    return squat_session(3)


def test_simulated_squats_carry_their_faults(back_to_back):
    truth, angles = back_to_back.truth_reps, back_to_back.truth_angles
    assert list(truth.columns) == [*REP_COLUMNS, "butt_wink", "forward_lean"]
    assert truth.butt_wink.tolist() == list(WINK) and truth.forward_lean.tolist() == list(LEAN)
    assert truth.rounded.tolist() == list(WINK) and set(truth.kind) == {"squat"}
    durations = truth.end_s - truth.start_s
    assert durations.between(1.8, 3.1).all()  # 2-3 s per rep
    assert (truth.start_s.iloc[1:].to_numpy() - truth.end_s.iloc[:-1].to_numpy() < 0.35).all()
    t, flexion = angles.time_s.to_numpy(), angles.flexion_deg.to_numpy()
    peaks, at_bottom = [], []
    for rep in truth.itertuples():
        inside = (t >= rep.start_s) & (t <= rep.end_s)
        peaks.append(flexion[inside].max())
        at_bottom.append(np.interp(rep.bottom_s, t, flexion))
    peaks, at_bottom = np.array(peaks), np.array(at_bottom)
    good = ~np.array(WINK) & ~np.array(LEAN)
    assert (peaks[good] > 18).all() and (peaks[good] < 50).all()
    # butt wink: the segment tilts back (posteriorly) by 5+ deg at the bottom; good reps don't
    assert (peaks - at_bottom)[np.array(WINK)].min() > 5
    assert (peaks - at_bottom)[good].max() < 1
    # forward lean: deeper than every one of the lifter's good reps by 5+ deg
    assert peaks[np.array(LEAN)].min() > peaks[good].max() + 5


def test_deadlift_truth_has_no_squat_columns():
    from imu.sim import DeadliftSet

    script = SessionScript(make_lifter(0), (Stand(3.0, still=True), DeadliftSet(2, "rdl")))
    assert list(simulate(script, sampling_rate_hz=25.0).truth_reps.columns) == list(REP_COLUMNS)


@pytest.mark.parametrize("pause_s", [(0.05, 0.3), (1.5, 4.0)])
def test_squat_preset_counts_every_rep(pause_s, back_to_back):
    result = back_to_back if pause_s[0] < 1 else squat_session(5, pause_s, rate_hz=100.0)
    analysis = analyze_session(result.session, engine_settings(lift="squat"))
    truth = result.truth_reps
    assert len(analysis.reps) == len(truth) == 10
    for rep, true in zip(analysis.reps, truth.itertuples(), strict=True):
        assert iou((rep["start_s"], rep["end_s"]), (true.start_s, true.end_s)) > 0.6
    assert [s["n_reps"] for s in analysis.sets] == [10]


def test_deadlift_preset_misses_shallow_squats(back_to_back):
    """Why the preset exists: a deadlift's thresholds (deeper than 35 deg) miss squats."""
    analysis = analyze_session(back_to_back.session, engine_settings(lift="deadlift"))
    assert len(analysis.reps) < 8


def test_analyze_lift_squat_on_the_command_line(back_to_back, tmp_path, capsys):
    from imu.cli import main
    from imu.sim import write_result

    path, _, _ = write_result(back_to_back, tmp_path, "squats")
    assert main(["analyze", str(path), "--lift", "squat", "--no-model", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["reps"]) == 10
    with pytest.raises(SystemExit) as exit_status:
        main(["analyze", str(path), "--lift", "squats"])
    assert exit_status.value.code == 2


def test_default_model_on_squats_flags_faults_and_says_what_it_cannot_tell(
    back_to_back, tmp_path, capsys
):
    """The shipped (deadlift-trained) model on squats: good reps stay unflagged, butt-wink
    reps are flagged, and analyze/replay say that it cannot tell butt wink from forward lean."""
    from imu.cli import main
    from imu.model.lifts import SQUAT_NOTE
    from imu.sim import write_result

    path, _, _ = write_result(back_to_back, tmp_path, "squats")
    assert main(["analyze", str(path), "--lift", "squat", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert SQUAT_NOTE in result["warnings"]
    flagged = [rep["rounded"] for rep in result["reps"]]
    good = [not (w or f) for w, f in zip(WINK, LEAN, strict=True)]
    assert not any(f for f, g in zip(flagged, good, strict=True) if g)
    assert all(f for f, w in zip(flagged, WINK, strict=True) if w)
    assert main(["replay", str(path), "--lift", "squat", "--fast", "--no-display"]) == 0
    assert SQUAT_NOTE in capsys.readouterr().err
    assert main(["analyze", str(path), "--json"]) == 0  # deadlift: no note
    assert SQUAT_NOTE not in json.loads(capsys.readouterr().out)["warnings"]


def test_a_model_trained_on_squats_gets_no_note():
    from imu.model.lifts import lift_note

    def manifest(lift):
        return {"training_files": [{"sessions": [{"path": "a.csv", "options": {"lift": lift}}]}]}

    assert lift_note("squat", manifest("deadlift")) is not None
    assert lift_note("squat", manifest("squat")) is None
    personalised = {**manifest("deadlift"),
                    "personalised_from": {"manifest": manifest("deadlift")}}
    assert lift_note("squat", personalised) is not None
    assert lift_note("squat", {**manifest("squat"), "personalised_from": personalised}) is None
    assert lift_note("deadlift", manifest("deadlift")) is None and lift_note("squat", None) is None


def test_a_labels_file_lift_squat_measures_each_span_with_the_squat_preset(back_to_back, tmp_path):
    """The labels file's `lift` column: the spans' baseline (earlier reps of the session)
    comes from the squat preset's reps, not the deadlift's, which finds hardly any."""
    import pandas as pd

    from imu.model.dataset import labelled_rows
    from imu.model.features import input_names
    from imu.model.labels import read_labels
    from imu.sim import write_result

    write_result(back_to_back, tmp_path, "squats")
    truth = back_to_back.truth_reps
    n_session = input_names().index("n_session")
    earlier = {}
    for lift in ("squat", "deadlift"):
        labels = tmp_path / f"labels_{lift}.csv"
        pd.DataFrame({"session": "squats.csv", "start_s": truth.start_s, "end_s": truth.end_s,
                      "label": np.where(truth.butt_wink, "rounded", "good"), "lift": lift}
                     ).to_csv(labels, index=False)
        data = labelled_rows(read_labels(labels))
        assert len(data.rows) == 10
        earlier[lift] = data.rows[:, n_session]
    assert earlier["squat"].tolist() == list(range(10))  # each span sees every earlier rep
    assert earlier["deadlift"].max() < 8


def test_simulate_lift_squat_writes_squats_their_faults_and_squat_labels(tmp_path, capsys):
    """`imu simulate --lift squat`: SYNTHETIC squat sessions whose truth carries the faults,
    and a labels file (rounded = butt wink, forward_lean, good; lift squat) that `imu
    train --personalize default --positive forward_lean` fits on the lifter's squats alone."""
    import pandas as pd

    from imu.cli import main
    from imu.session import read_session

    out, labels = tmp_path / "sim", tmp_path / "sim" / "labels.csv"
    argv = ["simulate", "-o", str(out), "--lift", "squat", "--fault-rate", "0.3", "--lifters",
            "1", "--sessions-per-lifter", "3", "--sets", "1", "--rate", "25",
            "--no-distractors", "--labels", str(labels)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "butt wink" in printed and "forward lean" in printed and "(synthetic)" in printed
    assert "labelled reps (" in printed and "rounded (butt wink), " in printed
    assert "squats: measure them with --lift squat (imu analyze, replay, report, label, batch)" in printed
    table = read_table(labels)
    truths = pd.concat([read_table(out / f"L01_s{k}.reps.csv") for k in (1, 2, 3)])
    assert set(truths.kind) == {"squat"} and not (truths.butt_wink & truths.forward_lean).any()
    expected = np.where(truths.butt_wink, "rounded", np.where(truths.forward_lean,
                                                              "forward_lean", "good"))
    assert table.label.tolist() == expected.tolist() and set(table.lift) == {"squat"}
    assert {"rounded", "forward_lean"} <= set(table.label)
    metadata = read_session(out / "L01_s1.csv").metadata
    assert metadata["synthetic"] == "true" and "--lift squat" in metadata["generator"]
    assert metadata["lift"] == "squat"  # measured as a deadlift, it says so (it lost reps)
    for lift, warned in (("deadlift", True), ("squat", False)):
        assert main(["analyze", "--json", "--lift", lift, str(out / "L01_s1.csv")]) == 0
        warnings = json.loads(capsys.readouterr().out)["warnings"]
        said = "the recording says lift squat, measured as deadlift: pass --lift squat"
        assert (said in warnings) is warned
    assert main(["simulate", "-o", str(tmp_path / "x"), "--kinds", "rdl", "--lift", "squat"]) == 2
    assert "--kinds" in capsys.readouterr().err

    model = tmp_path / "lean.skops"
    argv = ["train", str(labels), "--personalize", "default", "--positive", "forward_lean",
            "--negative", "good,rounded", "-o", str(model), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"fitted on your {len(table)} spans alone" in printed
    assert "labelled for 'rounded', not 'forward_lean', on other lifts" in printed


def test_squats_recover_from_shorter_gaps_than_deadlifts():
    """`--lift squat` takes a step over 0.15 s as a gap the tilt recovers from (between
    back-to-back squats the lifter is upright for 0.05-0.3 s); other lifts keep 0.3 s, the
    angles the shipped classifier was trained on (docs/squat.md, bench_squat.py)."""
    from imu.pipeline import Engine

    squat, deadlift = engine_settings(lift="squat"), engine_settings(lift="deadlift")
    assert squat.orientation.gap_s == 0.15 and deadlift.orientation.gap_s == 0.3
    assert squat.orientation.gap_recovery_s == deadlift.orientation.gap_recovery_s > 0
    assert Engine(squat).settings.orientation.gap_s == 0.15


def test_a_squat_whose_lockout_fell_in_a_short_gap_is_counted(back_to_back):
    """Gaps under 1 s are bridged (docs/squat.md): a rep whose whole ascent was lost (the
    bottom, then upright), a rep whose lockout was lost with the start of the next descent
    (upright but still extending, then bent again), and a rep followed by a gap that hides
    the next descent (the row after it is the next rep's bottom) are reps, and nothing is
    lost. Times from the truth of ``back_to_back`` (50 Hz): rep 5 bottoms out at 15.78 s
    and locks out at 16.42 s; rep 2 is below 5 deg at 7.92 s, rep 3 past 9 deg at 8.82 s;
    rep 4 locks out at 13.86 s, rep 5 (forward lean) is past rep 4's peak at 14.82 s."""
    from imu.session import Session

    data = back_to_back.session.data
    t = data.time_s
    lost = ((t > 15.79) & (t < 16.46)) | ((t > 7.93) & (t < 8.81)) | ((t > 14.0) & (t < 14.9))
    session = Session(data=data.loc[~lost].reset_index(drop=True), metadata={})
    analysis = analyze_session(session, engine_settings(lift="squat"))
    truth = back_to_back.truth_reps
    assert len(analysis.reps) == len(truth) == 10
    for rep, true in zip(analysis.reps, truth.itertuples(), strict=True):
        assert iou((rep["start_s"], rep["end_s"]), (true.start_s, true.end_s)) > 0.6
    assert not [e for e in analysis.events if e["type"] == "rep_lost"]



def test_a_gap_under_1_s_that_hides_a_lockout_and_the_next_start_splits_the_squats(
    back_to_back,
):
    """A 0.84 s gap from rep 5's ascent (still 11 deg, extending) to rep 6's descent (11
    deg again, flexing): the rows never show the lifter upright, but they were (the
    truth, and straight lines from either side reach upright within the gap). Two reps,
    the first ending at its last row before the gap, the second starting at the first row
    after it; not one rep of 4.9 s (``lockout_in_gap_s``). Nothing is lost: every bottom
    was seen. Times from the truth of ``back_to_back`` (50 Hz): rep 5 locks out at
    16.42 s, rep 6 starts at 16.51 s."""
    from imu.session import Session

    data = back_to_back.session.data
    t = data.time_s
    session = Session(data=data.loc[(t <= 16.2) | (t >= 17.04)].reset_index(drop=True),
                      metadata={})  # fmt: skip
    analysis = analyze_session(session, engine_settings(lift="squat"))
    truth = back_to_back.truth_reps
    assert len(analysis.reps) == len(truth) == 10
    for rep, true in zip(analysis.reps, truth.itertuples(), strict=True):
        assert iou((rep["start_s"], rep["end_s"]), (true.start_s, true.end_s)) > 0.6
    assert analysis.reps[4]["end_s"] == pytest.approx(16.2, abs=0.03)
    assert analysis.reps[5]["start_s"] == pytest.approx(17.04, abs=0.03)
    assert not [e for e in analysis.events if e["type"] == "rep_lost"]
    # the deadlift preset (off) keeps the rule: a rep ends upright
    assert engine_settings(lift="deadlift").reps.lockout_in_gap_s is None


def test_a_gap_between_a_shallow_butt_wink_and_the_rise_is_no_lockout(back_to_back):
    """A shallow squat (peak 15.5 deg) whose butt wink extends the segment to 10 deg
    before it flexes again as the lifter rises, with a 0.38 s gap from the wink (12 deg,
    extending) to the rise (12 deg, flexing): the trunk was never upright in the gap
    (straight lines from either side need about 1 s to reach upright, 0 deg, and come
    back; to ``top_deg`` they would need only 0.3 s, and the rep was cut at the gap). One
    rep, not a rep ending at the gap. The segmenter is fed the true angles of
    ``back_to_back`` with its eighth rep (a butt wink, 21.49-23.87 s) scaled by 0.6."""
    from imu.pipeline.lifts import lift_preset
    from imu.pipeline.reps import RepSegmenter

    angles, truth = back_to_back.truth_angles, back_to_back.truth_reps
    columns = ["flexion_deg", "lateral_bend_deg", "twist_deg"]
    t, values = angles.time_s.to_numpy(), angles[columns].to_numpy(copy=True)
    rep = truth.iloc[7]
    assert rep.butt_wink
    inside = (t >= rep.start_s) & (t <= rep.end_s)
    values[inside, 0] *= 0.6
    assert 15 < values[inside, 0].max() < 16
    kept = (t <= 22.70) | (t >= 23.08)
    segmenter = RepSegmenter(lift_preset("squat").reps)
    events = segmenter.update(t[kept], values[kept], np.arange(kept.sum())) + segmenter.finish()
    reps = [event for _, event in events if event["type"] == "rep"]
    assert len(reps) == 10
    assert iou((reps[7]["start_s"], reps[7]["end_s"]), (rep.start_s, rep.end_s)) > 0.8


def test_a_file_cut_mid_squat_with_a_short_gap_in_that_squat_loses_nothing(back_to_back):
    """A file that starts in the middle of a squat (bent, 1 s before its bottom) and
    loses 0.5 s of its ascent: the part rep is refused for its unseen start, not for the
    gap, so it is not a rep, and not a rep lost to a gap either (a cut file holds the
    reps that are wholly in it). Times from the truth of ``back_to_back`` (50 Hz): rep 1
    bottoms out at 4.60 s and locks out at 5.86 s."""
    from imu.session import Session

    data = back_to_back.session.data
    t = data.time_s
    kept = (t >= 3.6) & ((t <= 4.8) | (t >= 5.3))
    session = Session(data=data.loc[kept].reset_index(drop=True), metadata={})
    analysis = analyze_session(session, engine_settings(lift="squat"))
    truth = back_to_back.truth_reps.iloc[1:]
    assert len(analysis.reps) == len(truth) == 9
    assert [e["type"] for e in analysis.events].count("gap") == 1
    assert not [e for e in analysis.events if e["type"] == "rep_lost"]


def test_every_squat_hidden_in_a_long_gap_is_reported_lost(back_to_back):
    """Reps measured + reps reported lost = the set's reps, when gaps over 1 s hide parts
    of two reps (bent on both sides of the gap: one excursion cut before it, another after)
    or a whole rep (upright on both sides: no trace in the rows). The set's own cadence
    (lockout to lockout, 2.4-2.9 s here) counts the reps between the measured ones on
    either side of each gap; each hidden rep is one ``rep_lost`` event, counted in the
    summary and the set, never a measured rep. Times from the truth of ``back_to_back``
    (50 Hz): rep 4 bottoms out at 12.67 s, rep 5 is going down at 14.6 s; rep 7 runs from
    21.26 (rep 6's lockout) to 23.87 s."""
    from imu.session import Session

    data = back_to_back.session.data
    t = data.time_s
    gaps = ((12.7, 14.6), (21.35, 23.95))
    hidden = np.zeros(len(t), dtype=bool)
    for lo, hi in gaps:
        hidden |= (t > lo) & (t < hi)
    session = Session(data=data.loc[~hidden].reset_index(drop=True), metadata={})
    analysis = analyze_session(session, engine_settings(lift="squat"))
    truth = back_to_back.truth_reps
    measured = [3, 4, 7]  # (0-based) the reps the gaps hide
    kept = truth.drop(index=measured)
    assert len(analysis.reps) == len(kept) == 7
    for rep, true in zip(analysis.reps, kept.itertuples(), strict=True):
        assert iou((rep["start_s"], rep["end_s"]), (true.start_s, true.end_s)) > 0.6
    lost = [e for e in analysis.events if e["type"] == "rep_lost"]
    assert len(lost) == 3 == analysis.quality["n_reps_lost"]
    assert len(analysis.reps) + len(lost) == len(truth)
    for event in lost:  # each in (or at the edge of) a gap
        assert any(lo - 0.1 <= event["time_s"] <= hi + 0.1 for lo, hi in gaps)
    assert sum(lo - 0.1 <= e["time_s"] <= hi + 0.1 for e in lost for lo, hi in gaps[1:]) == 1
    (summary,) = analysis.sets
    assert summary["n_reps"] == 7 and summary["n_reps_lost"] == 3
    # how each was found (rep_lost basis): rep 4 cut at the first gap, bent before it;
    # rep 5, resumed in its descent, and rep 7, hidden whole, put there by the cadence
    assert [e["basis"] for e in sorted(lost, key=lambda e: e["time_s"])] == [
        "cut", "cadence", "cadence"]  # fmt: skip


def test_a_pause_on_the_way_down_is_not_the_start_of_the_squat(back_to_back):
    """A squat that stops for 0.6 s half-way down (13 deg, still bent) starts where the
    lifter left upright, not at the pause (its descent and duration are the whole rep's).
    The segmenter is fed the true angles with the pause added to the fourth rep."""
    from imu.pipeline.lifts import lift_preset
    from imu.pipeline.reps import RepSegmenter

    angles, truth = back_to_back.truth_angles, back_to_back.truth_reps
    columns = ["flexion_deg", "lateral_bend_deg", "twist_deg"]
    t, values = angles.time_s.to_numpy(), angles[columns].to_numpy()
    rep = truth.iloc[3]
    at = np.flatnonzero((t > rep.start_s) & (values[:, 0] > 13.0))[0]
    hold = np.arange(1, 31) * 0.02  # 0.6 s at 50 Hz
    t = np.concatenate((t[:at], t[at] + hold - 0.02, t[at:] + 0.6))
    values = np.concatenate((values[:at], np.repeat(values[at : at + 1], len(hold), 0), values[at:]))
    segmenter = RepSegmenter(lift_preset("squat").reps)
    events = segmenter.update(t, values, np.arange(len(t))) + segmenter.finish()
    reps = [event for _, event in events if event["type"] == "rep"]
    assert len(reps) == 10
    assert abs(reps[3]["start_s"] - rep.start_s) < 0.2
    assert reps[3]["end_s"] == pytest.approx(rep.end_s + 0.6, abs=0.2)
