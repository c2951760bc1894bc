"""The streaming engine against analytic motions (SYNTHETIC, see test_pipeline_support)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import test_pipeline_support as support
from test_pipeline_support import feed, motion, rep_curve

from imu.errors import InputError
from imu.pipeline import (
    CalibrationSettings,
    EngineSettings,
    RepSettings,
    analyze_samples,
    parse_mounting,
)
from imu.pipeline.calibration import mounting_name


@pytest.fixture(autouse=True)
def analytic_excursions_are_reps(monkeypatch):
    """See test_pipeline_support.EveryExcursion: the rep decision is tested elsewhere."""
    support.every_excursion_is_a_rep(monkeypatch)


RATE_HZ = 100.0
REP_STARTS = (5.0, 9.0, 13.0, 17.0)


def proper_mountings() -> list[np.ndarray]:
    """The 24 axis-aligned sensor mountings (rows: body axes in sensor coordinates)."""
    out = []
    for axes in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            rows = np.array([s * np.eye(3)[a] for a, s in zip(axes, signs, strict=True)])
            if np.linalg.det(rows) > 0:
                out.append(rows)
    return out


def session(rotation_bs=None, noise=1.0, duration_s=24.0, seed=0, **rep_kw):
    t = np.arange(0, duration_s, 1 / RATE_HZ)
    flexion = rep_curve(t, REP_STARTS, **rep_kw)
    return (
        t,
        flexion,
        motion(
            t,
            flexion,
            rotation_bs=rotation_bs,
            gyro_bias_deg_s=(0.4, -0.6, 0.3),
            noise=noise,
            seed=seed,
        ),
    )


def test_24_mountings_calibrate_with_forward_flexion_positive():
    assert len(proper_mountings()) == 24
    for k, rotation in enumerate(proper_mountings()):
        _, flexion, samples = session(rotation, seed=k)
        result = analyze_samples(samples)
        assert result.calibration["ok"], result.calibration
        assert result.calibration["mounting"] == mounting_name(rotation)[0]
        error = result.angles[:, 1] - flexion
        assert np.sqrt(np.mean(error**2)) < 1.0
        assert len(result.reps) == len(REP_STARTS)


def test_in_between_mounting_and_explicit_mounting():
    tilt = np.radians(17.0)
    rotation = parse_mounting("PZPXPY") @ np.array(
        [[np.cos(tilt), 0, np.sin(tilt)], [0, 1, 0], [-np.sin(tilt), 0, np.cos(tilt)]]
    )
    _, flexion, samples = session(rotation)
    auto = analyze_samples(samples)
    assert np.sqrt(np.mean((auto.angles[:, 1] - flexion) ** 2)) < 1.0
    assert auto.calibration["mounting_misalignment_deg"] == pytest.approx(17.0, abs=0.5)
    given = analyze_samples(
        samples, EngineSettings(calibration=CalibrationSettings(mounting="+z,+x,+y"))
    )
    assert given.calibration["message"].endswith("from --mounting")
    assert np.sqrt(np.mean((given.angles[:, 1] - flexion) ** 2)) < 1.0


def test_lateral_bend_and_twist_signs():
    t = np.arange(0, 12, 0.01)
    ramp = np.clip((t - 6) * 20, 0, 20)
    flexion = rep_curve(t, [3.0])  # a first forward bend establishes the forward axis
    samples = motion(
        t, flexion, lateral_deg=ramp, twist_deg=-ramp, rotation_bs=parse_mounting("NYNZPX")
    )
    result = analyze_samples(samples)
    np.testing.assert_allclose(result.angles[-1, 2], 20.0, atol=0.5)  # bend to the right: +
    np.testing.assert_allclose(result.angles[-1, 3], -20.0, atol=0.5)  # twist to the right: -


@pytest.mark.parametrize("sizes", [(1,), (7, 1, 300, 33), (5000,)])
def test_streamed_equals_batch(sizes):
    _, _, samples = session(parse_mounting("PYNZNX"))
    batch = analyze_samples(samples)
    angles, events = feed(samples, sizes)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events
    assert sum(e["type"] == "rep" for e in events) == len(REP_STARTS)


def test_streamed_equals_batch_with_random_chunks_gaps_and_duplicates():
    _, _, samples = session(parse_mounting("NXNYPZ"), duration_s=30)
    rng = np.random.default_rng(3)
    samples = np.delete(samples, np.s_[1150:1160], axis=0)  # 0.1 s gap
    samples = np.delete(samples, np.s_[2600:2900], axis=0)  # 3 s gap: restart
    samples = np.insert(samples, [400, 401, 1700], samples[[400, 401, 1700]], axis=0)  # duplicates
    batch = analyze_samples(samples, chunk=len(samples))
    sizes = tuple(int(s) for s in rng.integers(1, 200, 50))
    angles, events = feed(samples, sizes)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events


def test_gaps_duplicates_and_restart_are_reported():
    t, flexion, samples = session(parse_mounting("PXPYPZ"), duration_s=30)
    keep = np.ones(len(t), bool)
    keep[1000:1010] = False  # 0.1 s within a rep (bridged, no event)
    keep[1600:1640] = False  # 0.4 s between reps: a gap event, bridged
    keep[1800:2100] = False  # 3 s within the rep starting at 17 s: restart
    dup = np.insert(samples[keep], 100, samples[keep][100], axis=0)
    result = analyze_samples(dup)
    gaps = [e for e in result.events if e["type"] == "gap"]
    assert [g["restarted"] for g in gaps] == [False, True]
    assert gaps[1]["duration_s"] == pytest.approx(3.01, abs=0.01)
    assert result.quality["n_skipped_duplicate_or_out_of_order"] == 1
    assert len(result.angles) == len(dup)  # one row per input sample
    np.testing.assert_array_equal(result.angles[101, 1:], result.angles[100, 1:])
    reference = flexion[keep]
    error = np.delete(result.angles[:, 1], 100) - reference
    assert np.sqrt(np.mean(error**2)) < 1.5
    # The rep cut by the 3 s gap (17.0 s start; gap 18-21 s) is dropped, the others count.
    assert [round(r["start_s"]) for r in result.reps] == [5, 9, 13]


def test_jittered_bursty_timestamps():
    t, flexion, samples = session(parse_mounting("PZNYPX"))
    rng = np.random.default_rng(1)
    stamped = samples.copy()
    # BLE-like: arrival times in bursts of 4 plus jitter, still increasing
    stamped[:, 0] = np.maximum.accumulate(
        t + np.repeat(rng.uniform(0, 0.03, len(t) // 4 + 1), 4)[: len(t)]
    )
    stamped[:, 0] += np.arange(len(t)) * 1e-6
    result = analyze_samples(stamped)
    assert np.sqrt(np.mean((result.angles[:, 1] - flexion) ** 2)) < 1.5
    assert len(result.reps) == len(REP_STARTS)


@pytest.mark.parametrize("mounting", [None, "NZPXNY", "PYPZPX"])
def test_no_still_period_calibrates_from_the_movement(mounting):
    """Always moving, starting mid-lift: upright = the tops of the reps (5 deg here)."""
    t = np.arange(0, 30, 0.01)
    flexion = 30 - 25 * np.cos(2 * np.pi * (t + 0.7) / 3)
    rotation = None if mounting is None else parse_mounting(mounting)
    bias = (0.4, -0.6, 0.3)
    samples = motion(t, flexion, rotation_bs=rotation, gyro_bias_deg_s=bias, noise=1.0)
    result = analyze_samples(samples)
    cal = result.calibration
    assert cal["ok"] and cal["method"] == "movement" and cal["quality"] >= 0.5
    assert "from the movement" in cal["message"]
    # along the flexion axis (body y) the bias is well determined; across it, less so
    error = np.array(cal["gyro_bias_deg_s"]) - bias
    body_y = (np.eye(3) if rotation is None else rotation)[1]
    assert abs(error @ body_y) < 0.05 and np.linalg.norm(error) < 0.35
    assert cal["time_s"] < 6.0  # the upright reference is the top of the first or second rep
    after = t > 6.0
    error = result.angles[after, 1] - (flexion[after] - 5.0)
    assert np.sqrt(np.mean(error**2)) < 1.0
    assert result.events[0]["type"] == "calibration"


def test_too_few_samples_to_calibrate_gives_clear_failure():
    t = np.arange(0, 0.04, 0.01)
    result = analyze_samples(motion(t, 30 + 10 * t))
    assert not result.calibration["ok"]
    assert "no still period" in result.calibration["message"]
    assert "only 4 samples" in result.calibration["message"]
    assert np.isnan(result.angles[:, 1:]).all() and result.reps == []


def test_no_forward_bend_falls_back_with_low_quality():
    t = np.arange(0, 20, 0.01)
    result = analyze_samples(motion(t, np.zeros_like(t), rotation_bs=parse_mounting("PYPZPX")))
    assert result.calibration["ok"] and result.calibration["quality"] <= 0.3
    assert "flexion sign may be wrong" in result.calibration["message"]
    assert result.reps == []


def test_gyro_bias_is_estimated():
    _, _, samples = session(noise=0.0)
    result = analyze_samples(samples)
    np.testing.assert_allclose(result.calibration["gyro_bias_deg_s"], [0.4, -0.6, 0.3], atol=1e-3)


def test_hyperextension_flag_and_flexion_limit_alert():
    _, _, samples = session(lockout_deg=-15.0)
    settings = EngineSettings(reps=RepSettings(flexion_limit_deg=50.0))
    result = analyze_samples(samples, settings)
    assert all(r["hyperextended"] for r in result.reps)
    assert all(r["lockout_extension_deg"] == pytest.approx(15.0, abs=1.0) for r in result.reps)
    alerts = [e for e in result.events if e["type"] == "alert"]
    limit = [a for a in alerts if a["kind"] == "flexion_limit"]
    assert [(a["set"], a["rep"]) for a in limit] == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert sum(a["kind"] == "hyperextension" for a in alerts) == 4
    # the first sample beyond the limit: decimals enough to show that it is beyond
    # (was "flexion 50 deg is beyond your limit of 50 deg")
    for alert in limit:
        shown = re.fullmatch(r"flexion (\S+) deg is beyond your limit of (\S+) deg", alert["message"])
        assert shown and float(shown[1]) > float(shown[2]), alert["message"]
    normal = analyze_samples(session()[2])
    assert not any(r["hyperextended"] for r in normal.reps)


def test_sets_are_split_by_rest():
    t = np.arange(0, 80, 0.01)
    flexion = rep_curve(t, [5, 9, 13, 55, 59])
    result = analyze_samples(motion(t, flexion, noise=1.0))
    assert [(r["set"], r["rep"]) for r in result.reps] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]
    assert [s["n_reps"] for s in result.sets] == [3, 2]


def test_rep_boundaries_and_metrics_match_the_curve():
    _, _, samples = session(noise=0.5)
    rep = analyze_samples(samples).reps[1]  # starts 9.0, bottom 10.3 (lift-off), lockout 11.1
    assert rep["start_s"] == pytest.approx(9.0, abs=0.15)
    assert rep["bottom_s"] == pytest.approx(10.3, abs=0.1)
    assert rep["end_s"] == pytest.approx(11.1, abs=0.15)
    assert rep["peak_flexion_deg"] == pytest.approx(60.0, abs=1.0)
    # cosine ascent of 60 deg in 0.8 s: peak speed 60 * pi / 2 / 0.8 = 117.8 deg/s
    assert rep["peak_extension_velocity_deg_s"] == pytest.approx(117.8, rel=0.05)
    assert rep["peak_flexion_velocity_deg_s"] == pytest.approx(60 * np.pi / 2, rel=0.05)


def test_non_rep_motions_are_rejected_by_rule():
    t = np.arange(0, 70, 0.01)
    flexion = rep_curve(t, [3.0, 7.0])  # a set of two real reps
    # plate loading: slow bend held 6 s at the bottom, turned 25 deg
    flexion += rep_curve(t, [14.0], peak_deg=55, descent_s=1.5, hold_s=6.0, ascent_s=1.5)
    twist = np.where((t > 14) & (t < 24), 25 * np.sin(np.pi * (t - 14) / 10), 0.0)
    # a twisted reach
    twist += np.where((t > 30) & (t < 34), 40 * np.sin(np.pi * (t - 30) / 4), 0.0)
    flexion += rep_curve(t, [30.0], peak_deg=45, descent_s=1.5, hold_s=0.5, ascent_s=1.5)
    # (a quick bend on its own, picking something up, is the rep decision's to reject, by
    # its context: tests/test_rep_decision.py on simulated pick-ups)
    # walking sway: small oscillation
    flexion += np.where(t > 55, 5 * np.sin(2 * np.pi * 1.8 * t), 0.0)
    result = analyze_samples(motion(t, flexion, twist_deg=twist, noise=1.0))
    assert [round(r["start_s"]) for r in result.reps] == [3, 7]


@pytest.mark.parametrize("spec", ["PXPYPZ", "alignment_nzpypx", "+x,-z,+y", "x -z y"])
def test_parse_mounting_forms(spec):
    rotation = parse_mounting(spec)
    assert np.allclose(rotation @ rotation.T, np.eye(3)) and np.isclose(np.linalg.det(rotation), 1)


@pytest.mark.parametrize("spec", ["PXPXPZ", "+x,+y,-z", "sideways", "+w,+y,+z"])
def test_parse_mounting_rejects_bad_specs(spec):
    with pytest.raises(InputError, match="--mounting"):
        parse_mounting(spec)


def test_mounting_name_matches_imufusion_remap():
    import imufusion

    vector = np.array([1.0, 2.0, 3.0])
    for rotation in proper_mountings():
        name, angle = mounting_name(rotation)
        assert angle < 1e-6
        np.testing.assert_allclose(
            imufusion.remap(vector, getattr(imufusion, f"ALIGNMENT_{name}")), rotation @ vector
        )


def test_span_record_matches_the_engine_and_rejects_empty_spans():
    import pandas as pd

    from imu.pipeline import span_record

    _, _, samples = session(parse_mounting("PXNZPY"))
    samples = np.insert(samples, 900, samples[900], axis=0)  # a duplicate inside a rep
    result = analyze_samples(samples)
    angles = pd.DataFrame(
        result.angles, columns=["time_s", "flexion_deg", "lateral_bend_deg", "twist_deg"]
    )
    for rep in result.reps:
        record = span_record(angles, rep["start_s"], rep["end_s"])
        assert {k: record[k] for k in rep if k in record} == {k: rep[k] for k in record if k in rep}
        assert len(record["trace"]["flexion_deg"]) == 51
        assert abs(record["trace"]["flexion_deg"][0]) < 2.0  # a rep starts upright
    with pytest.raises(ValueError, match="fewer than 3"):
        span_record(angles, 1000.0, 1001.0)


def test_timing_skips_out_of_order_and_non_finite_rows_and_marks_restarts():
    from imu.pipeline.timing import Timing

    timing = Timing()
    rows = np.zeros((6, 7))
    rows[:, 0] = [0.0, 0.01, 0.005, 0.02, 0.03, 0.04]  # third row out of order
    rows[4, 5] = np.nan  # a row without a gyroscope value
    first = timing.update(rows)
    assert first.skip.tolist() == [False, False, True, False, True, False]
    assert first.restart.tolist() == [True, False, False, False, False, False]
    np.testing.assert_allclose(first.dt_s, [0, 0.01, 0, 0.01, 0, 0.02])
    later = np.zeros((2, 7))
    later[:, 0] = [0.05, 2.0]  # 1.95 s gap: restart
    second = timing.update(later, gap_before=True)  # the source says a gap precedes
    assert second.restart.tolist() == [True, True]
    assert [g["restarted"] for _, g in second.gaps] == [True, True]
    assert timing.summary()["n_restarts"] == 2 and timing.n_without_gyro == 1


def test_accelerometer_only_recording_runs_in_accelerometer_only_mode():
    # Details and accuracy: tests/test_pipeline_acconly.py.
    _, _, samples = session(duration_s=10)
    samples[:, 4:7] = np.nan
    result = analyze_samples(samples)
    assert result.calibration["ok"] and result.calibration["mode"] == "accelerometer_only"
    assert len(result.angles) == len(samples) and np.isnan(result.angles[:, 3]).all()


def test_set_summary_tempo_trend_and_flexion_drift():
    t = np.arange(0, 40, 0.01)
    flexion = np.zeros_like(t)
    for k, start in enumerate([5.0, 10.0, 15.0, 20.0]):  # each rep 0.2 s slower and 2 deg deeper
        flexion += rep_curve(t, [start], peak_deg=56 + 2 * k, ascent_s=0.8 + 0.2 * k)
    (summary,) = analyze_samples(motion(t, flexion, noise=0.5)).sets
    assert summary["n_reps"] == 4
    assert summary["tempo_trend"] == pytest.approx(0.2, abs=0.05)
    assert summary["ascent_trend_s_per_rep"] == pytest.approx(0.2, abs=0.05)
    assert summary["flexion_drift_deg"] == pytest.approx(6.0, abs=1.0)


@pytest.mark.parametrize("sizes", [(1,), (13, 250, 2)])
def test_calibration_time_limits_do_not_depend_on_chunking(sizes):
    t = np.arange(0, 30, 0.02)
    # still at the start, a first bend only at 12 s: past a 5 s bend search -> assumed axis
    late_bend = motion(t, rep_curve(t, [12.0, 16.0]) + 8 * np.sin(t) * (t > 3), noise=1.0)
    settings = EngineSettings(calibration=CalibrationSettings(bend_search_s=5.0))
    angles, events = feed(late_bend, sizes, settings)
    batch = analyze_samples(late_bend, settings, chunk=len(late_bend))
    assert "assumed" in batch.calibration["message"]
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events
    # moving for 8 s, then still: past a 5 s still search. Swings of 30 deg calibrate from
    # the movement; swings of 10 deg, then still bent at 20 deg, cannot (failed); the same
    # in every chunking
    settings = EngineSettings(calibration=CalibrationSettings(still_search_s=5.0))
    for amplitude, calibrated in ((15.0, True), (5.0, False)):
        rest = 0.0 if calibrated else 20.0
        late_still = motion(t, np.where(t < 8, 20 + amplitude * np.sin(3 * t), rest), noise=1.0)
        angles, events = feed(late_still, sizes, settings)
        batch = analyze_samples(late_still, settings, chunk=len(late_still))
        assert batch.calibration["ok"] == calibrated
        assert batch.calibration["method"] == ("movement" if calibrated else None)
        np.testing.assert_array_equal(angles, batch.angles)
        assert events == batch.events


def test_forward_axis_skips_a_twisted_first_bend():
    t = np.arange(0, 40, 0.01)
    loading = rep_curve(t, [4.0], peak_deg=60, descent_s=1.2, hold_s=3.0, ascent_s=1.2)
    side = np.clip(loading / 60, 0, 1)
    flexion = loading + rep_curve(t, [16.0, 20.0, 24.0])
    lateral, twist = 6.0 * side, 25.0 * side  # loading a plate: bent and turned to the side
    samples = motion(t, flexion, lateral, twist, rotation_bs=parse_mounting("NZPXNY"), noise=1.0)
    result = analyze_samples(samples)
    assert result.calibration["message"].endswith("from the first forward bend")
    assert result.calibration["time_s"] < 4.0  # the still period at the start
    assert np.sqrt(np.mean((result.angles[:, 2] - lateral) ** 2)) < 0.5
    assert [round(r["start_s"]) for r in result.reps] == [16, 20, 24]
    only_twisted = analyze_samples(samples[t < 12])
    assert "turned more than" in only_twisted.calibration["message"]
    assert only_twisted.calibration["quality"] <= 0.5


@pytest.mark.parametrize("sizes", [(1,), (13, 250, 2), (10**6,)])
def test_calibration_from_the_movement_is_refined_without_rewriting_the_past(sizes):
    """No still period; the lifter leans back 12 deg between the first reps, then stands
    upright: the first estimate takes the lean as upright, the refinement (five tops) the
    upright stance, for the rows after it only; the same in every chunking."""
    t = np.arange(0, 24, 0.01)
    starts = [0.8 + 3.0 * k for k in range(7)]
    level = -12.0 * np.clip((starts[1] + 0.6 - t) / 0.5, 0.0, 1.0)  # back to 0 in rep 2
    flexion = rep_curve(t, starts) + level
    samples = motion(t, flexion, rotation_bs=parse_mounting("NZPXNY"), noise=1.0)
    angles, events = feed(samples, sizes)
    calibrations = [e for e in events if e["type"] == "calibration"]
    assert len(calibrations) == 2 and calibrations[1]["refined"]
    first, refined = calibrations[0]["time_s"], calibrations[1]["time_s"]
    assert first < starts[1] < starts[3] < refined < t[-1] - 6.0
    assert "earlier ones stay as reported" in calibrations[1]["message"]
    error = angles[:, 1] - flexion
    before = (t > first) & (t < refined) & (flexion > 5)
    after = t > refined + 0.1
    assert np.median(error[before]) == pytest.approx(12.0, abs=1.5)  # as first reported
    assert np.sqrt(np.mean(error[after] ** 2)) < 1.0
    batch = analyze_samples(samples)
    np.testing.assert_array_equal(angles, batch.angles)
    assert events == batch.events


@pytest.mark.parametrize("seed", [0, 18])
def test_a_refined_calibration_comes_after_the_reps_that_locked_out_before_it(seed):
    """SYNTHETIC sets cut mid-rep (imu.sim.recording.realistic_set, development seeds):
    calibration from the movement is refined at a mark shortly after a lockout, before
    that rep is decided. Its event came first, and the log went back in time (0:16.5
    refined, then a rep at 0:16.0) unless a sink held the line; it now comes once the
    reps before its time_s are out, in every chunking, the reps and angles as before."""
    from imu.sim.recording import realistic_set

    result, _ = realistic_set(seed, start="mid_rep")
    samples = result.session.samples()
    runs = [feed(samples, sizes) for sizes in [(6,), (1, 37, 5), (10**6,)]]
    angles, events = runs[0]
    for other_angles, other_events in runs[1:]:
        np.testing.assert_array_equal(other_angles, angles)
        assert other_events == events
    refined = [i for i, e in enumerate(events) if e.get("refined")]
    stamps = [e.get("end_s", e.get("time_s")) for e in events if e["type"] in ("rep", "alert")]
    assert refined and stamps == sorted(stamps)
    for at in refined:
        from_s = events[at]["time_s"]
        assert all(e["end_s"] >= from_s for e in events[at:] if e["type"] == "rep")
    reps_before = [e["end_s"] for e in events[: refined[0]] if e["type"] == "rep"]
    assert events[refined[0]]["time_s"] - 1.0 < reps_before[-1]  # the one it waited for


def test_a_failed_calibration_comes_after_the_gaps_of_the_rows_it_held():
    """Never still, never bending, with a 1 s gap at 5 s: calibration fails at the end;
    its event (stamped when it settled) came before the gap of 5 s it released, and the
    log went back in time; now the events read in recording-time order."""
    t = np.arange(0, 20, 0.01)
    t = t[(t < 5.0) | (t >= 6.0)]
    flexion = 5.0 + 2.0 * np.sin(3.0 * t)
    twist = 25.0 * np.sin(2.0 * t)
    samples = motion(t, flexion, twist_deg=twist, rotation_bs=parse_mounting("NZPXNY"), noise=1.0)
    for sizes in [(7,), (10**6,)]:
        angles, events = feed(samples, sizes)
        assert [e["type"] for e in events] == ["gap", "calibration"], events
        assert not events[1]["ok"] and events[0]["end_s"] == pytest.approx(6.0)
        assert np.isnan(angles[:, 1]).all() and len(angles) == len(t)


def test_a_known_mounting_needs_no_standing_start_even_without_reps():
    """Turning and swaying, never still, never bending: without --mounting calibration
    fails (it says why); with it, its axes are used as they are."""
    t = np.arange(0, 20, 0.01)
    flexion = 5.0 + 2.0 * np.sin(3.0 * t)
    twist = 25.0 * np.sin(2.0 * t)
    samples = motion(t, flexion, twist_deg=twist, rotation_bs=parse_mounting("NZPXNY"), noise=1.0)
    unknown = analyze_samples(samples)
    assert not unknown.calibration["ok"] and "no bend deep enough" in unknown.calibration["message"]
    settings = EngineSettings(calibration=CalibrationSettings(mounting="NZPXNY"))
    known = analyze_samples(samples, settings)
    assert known.calibration["ok"] and known.calibration["method"] == "mounting"
    assert "from --mounting alone" in known.calibration["message"]
    settled = t > 2.0  # the fusion started from the first sample's tilt
    assert np.sqrt(np.mean((known.angles[settled, 1] - flexion[settled]) ** 2)) < 1.0
    for sizes in [(1,), (13, 250, 2)]:
        angles, events = feed(samples, sizes, settings)
        np.testing.assert_array_equal(angles, known.angles)
        assert events == known.events
