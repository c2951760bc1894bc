"""The warning when the flexion sign looks inverted (imu/pipeline/sign_check.py): bends that
read backwards, three in a row with none forwards (SYNTHETIC motions from
test_pipeline_support and hand-made flexion curves)."""

from __future__ import annotations

import numpy as np
import pytest
from test_pipeline_support import feed, motion, rep_curve

from imu.pipeline import CalibrationSettings, EngineSettings, analyze_samples, parse_mounting
from imu.pipeline.sign_check import SignCheck
from imu.sinks.lines import describe
from imu.text import Timeline

RATE_HZ = 100.0
STARTS_S = [4.0, 8.0, 12.0, 16.0, 20.0]


def five_reps(lockout_deg: float = 0.0) -> np.ndarray:
    """Standing still 4 s, five 60 deg reps, standing; the sensor strapped ``NZPXNY``."""
    t = np.arange(0, 30, 1 / RATE_HZ)
    flexion = rep_curve(t, STARTS_S, lockout_deg=lockout_deg)
    return motion(t, flexion, rotation_bs=parse_mounting("NZPXNY"), noise=1.0, seed=3)


def flipped(mounting: str) -> str:
    """The same mounting with body x and y reversed (z kept): the flexion sign inverted."""
    rotation = parse_mounting(mounting)
    rows = [-rotation[0], -rotation[1], rotation[2]]
    return ",".join(
        ("+" if row[int(np.argmax(np.abs(row)))] > 0 else "-") + "xyz"[int(np.argmax(np.abs(row)))]
        for row in rows
    )


def warnings_of(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "warning"]


@pytest.mark.parametrize("sizes", [(1,), (7, 1, 300, 33), (10**6,)])
def test_a_flipped_mounting_warns_once_after_the_third_backward_rep(sizes):
    """--mounting with body x and y reversed: every rep reads -60 deg, none is counted; the
    warning comes when the third comes back near upright (above -15 deg: 12 s + 1 s
    descent + 0.3 s hold + 2/3 of the 0.8 s cosine ascent = 13.83 s), the same for any
    chunking (live == batch); the run started where the first left upright (4 s + 1/3 of
    its 1 s cosine descent)."""
    settings = EngineSettings(calibration=CalibrationSettings(mounting=flipped("NZPXNY")))
    angles, events = feed(five_reps(), sizes, settings)
    assert np.nanmin(angles[:, 1]) < -55  # the reps read backwards
    assert not [e for e in events if e["type"] == "rep"]
    (warning,) = warnings_of(events)
    assert warning["kind"] == "flexion_sign"
    assert warning["n_excursions"] == 3
    assert warning["median_depth_deg"] == pytest.approx(-60, abs=3)
    assert warning["time_s"] == pytest.approx(13.83, abs=0.03)
    assert warning["start_s"] == pytest.approx(STARTS_S[0] + 1 / 3, abs=0.03)
    line = describe(warning, Timeline(0.0))
    assert line.startswith(f"{Timeline(0.0).at(warning['time_s'])}  warning: 3 bends in a row")
    assert "the flexion sign looks inverted" in line and "--mounting" in line
    # the forward axis came from --mounting (standing still at the start was done): the
    # advice is about the option, not the still period
    assert line.endswith(
        f"so these reps are not counted; the forward axis came from --mounting "
        f"{flipped('NZPXNY')}: check it, or leave it out to find the axis from the first bend"
    ), line


def test_analyze_lists_the_warning_with_its_time_from_the_start():
    from imu.measure import event_warnings

    settings = EngineSettings(calibration=CalibrationSettings(mounting=flipped("NZPXNY")))
    (said,) = event_warnings(analyze_samples(five_reps(), settings))
    assert said.startswith("3 bends in a row read backwards (median -60 deg)")
    assert said.endswith("(at 0:13.8)")


@pytest.mark.parametrize("lockout_deg", [0.0, -20.0])
def test_the_right_mounting_gives_no_warning_even_leaning_back_at_lockout(lockout_deg):
    """Found mounting, and reps that lean back 20 deg at each lockout: no warning."""
    result = analyze_samples(five_reps(lockout_deg))
    assert result.calibration["method"] == "still_period"
    assert len(result.reps) == 5
    assert not warnings_of(result.events)


def backward(depths_deg, gaps_s=2.0, bend_s=2.4, forward_between_deg=None, rate_hz=50.0):
    """Hand-made flexion: upright, then backward bends of the given depths (cosine, each
    ``bend_s`` long) ``gaps_s`` apart; optionally a 40 deg forward bend between them."""
    t = np.arange(0, 5 + len(depths_deg) * (bend_s + gaps_s) * 2, 1 / rate_hz)
    flexion = np.zeros_like(t)
    at = 3.0
    for depth in depths_deg:
        inside = (t >= at) & (t <= at + bend_s)
        flexion[inside] = depth * (1 - np.cos(2 * np.pi * (t[inside] - at) / bend_s)) / 2
        at += bend_s + gaps_s
        if forward_between_deg:
            inside = (t >= at) & (t <= at + 2.0)
            flexion[inside] = forward_between_deg * (1 - np.cos(np.pi * (t[inside] - at))) / 2
            at += 2.0 + gaps_s
    return t, flexion


def check(t, flexion, chunk=None) -> list[dict]:
    sign = SignCheck()
    chunk = chunk or len(t)
    out = []
    for lo in range(0, len(t), chunk):
        out += [event for _, event in sign.update(t[lo : lo + chunk], flexion[lo : lo + chunk])]
    return out


def test_three_backward_bends_of_40_deg_warn_and_two_do_not():
    t, flexion = backward([-40, -40, -40, -40])
    events = check(t, flexion)
    assert len(events) == 1  # once
    # the third bend: starts at 3 + 2 x 4.4 = 11.8 s, back above -15 deg at 14.0 s
    assert events[0]["time_s"] == pytest.approx(11.8 + 2.4 * 0.5 + 2.4 * 0.30, abs=0.1)
    assert events == check(t, flexion, chunk=1) == check(t, flexion, chunk=37)
    assert events[0]["message"].endswith(  # no --mounting: the forward axis from a bend
        "check --mounting, or stand upright and still 2 s at the start"
    )
    t, flexion = backward([-40, -40])
    assert check(t, flexion) == []


@pytest.mark.parametrize(
    "case",
    ["forward bend between", "shallow lean back", "lying down", "too far apart", "too quick"],
)
def test_what_an_ordinary_session_does_gives_no_warning(case):
    if case == "forward bend between":  # reps leaning back 40 deg at each lockout
        t, flexion = backward([-40] * 5, forward_between_deg=40)
    elif case == "shallow lean back":  # a standing back-extension stretch, 25 deg
        t, flexion = backward([-25] * 6)
    elif case == "lying down":  # on a bench or the floor, 15 s each below -15 deg
        t, flexion = backward([-90] * 4, bend_s=20.0)
    elif case == "too far apart":  # single backward bends 10 s apart
        t, flexion = backward([-40] * 4, gaps_s=10.0)
    else:  # jolts, not bends
        t, flexion = backward([-40] * 4, bend_s=0.5)
    assert check(t, flexion) == []


def test_a_restart_drops_the_bend_in_progress():
    t, flexion = backward([-40] * 3)
    sign = SignCheck()
    cut_at = int(np.searchsorted(t, 12.6))  # inside the third bend
    assert sign.update(t[:cut_at], flexion[:cut_at]) == []
    sign.restart()
    assert sign.update(t[cut_at:], flexion[cut_at:]) == []


def test_the_mounting_warning_is_the_streams_one_flexion_sign_warning():
    """A calibration from the movement that contradicts --mounting gives its warning by
    the sign check (the engine no longer sets the check's state): three backward bends
    after it give no second warning; without it they give one."""
    t, flexion = backward([-40] * 4)
    sign = SignCheck(mounting="+x,+y,+z")
    warning = sign.warn_mounting(2.5, 140.0)
    assert warning["kind"] == "flexion_sign" and warning["mounting_off_deg"] == 140.0
    assert warning["time_s"] == 2.5
    assert "z axis of --mounting +x,+y,+z" in warning["message"]
    assert sign.update(t, flexion) == []
    assert len(SignCheck(mounting="+x,+y,+z").update(t, flexion)) == 1


def test_a_set_cut_to_the_reps_with_a_flipped_mounting_warns_with_the_calibration():
    """SYNTHETIC ``realistic_set(0, start="before_first_rep")`` (dev seed; 9 touch-and-go
    reps, no still period): with --mounting body x and y reversed, calibration from the
    movement took the bottoms of the reps for upright (they read as bends from there, not
    backwards); its upright is far from the mounting's z axis, which is nearer the bent
    end: one warning with the calibration, the same for one row at a time. With the true
    mounting: none."""
    from imu.sim.recording import realistic_set
    from imu.sim.rotations import MOUNTINGS, mounting_code

    result, drawn = realistic_set(0, start="before_first_rep")
    true_mounting = mounting_code(MOUNTINGS[drawn["mounting"]])
    samples = result.session.samples()
    settings = EngineSettings(calibration=CalibrationSettings(mounting=flipped(true_mounting)))
    per_row = feed(samples, (1,), settings)[1]
    whole = feed(samples, (10**6,), settings)[1]
    (warning,) = warnings_of(whole)
    assert warnings_of(per_row) == [warning]
    (calibration, *_) = [e for e in whole if e["type"] == "calibration"]
    assert calibration["method"] == "movement"
    assert whole.index(warning) == whole.index(calibration) + 1
    assert warning["mounting_off_deg"] > 30
    assert warning["message"].startswith(
        f"the upright the reps give is {warning['mounting_off_deg']:.0f} deg from the z axis "
        f"of --mounting {flipped(true_mounting)}, which is nearer their bent end"
    )
    settings = EngineSettings(calibration=CalibrationSettings(mounting=true_mounting))
    assert not warnings_of(analyze_samples(samples, settings).events)
