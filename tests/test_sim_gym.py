"""The simulator's gym activities and sessions (imu/sim/gym.py, script.py; SYNTHETIC).

Motions are compiled with build_motion (no sensor model) and checked against what each
activity promises: the bends that are not reps, their depths, where the lifter walks."""

from __future__ import annotations

import numpy as np
import pytest

from imu.sim import DeadliftSet, SessionScript, Stand, Walk, make_lifter
from imu.sim.activities import LoadBar, PickItem, Wander
from imu.sim.gym import SESSIONS
from imu.sim.script import build_motion


def built(*activities, seed: int = 1, variety: bool = False):
    script = SessionScript(make_lifter(3), (Stand(3.0, still=True), *activities), variety=variety)
    return build_motion(script, np.random.default_rng(seed))


def flexion_at(motion, times) -> np.ndarray:
    return motion.motion.evaluate(np.asarray(times, dtype=float))["flexion_deg"]


def test_plates_are_loaded_at_both_bar_ends_with_walking_between():
    b = built(LoadBar(2))
    loads = [x for x in b.bends if x["kind"] == "load_plate"]
    assert len(loads) == 4 and not b.reps
    channels = b.motion.evaluate(np.array([(x["start_s"] + x["end_s"]) / 2 for x in loads]))
    y = channels["hip_y_m"]  # the bar runs sideways (the lifter faces +x at the start)
    assert np.sign(y[0]) == np.sign(y[1]) == -np.sign(y[2]) == -np.sign(y[3])
    assert np.abs(y).min() > 0.8  # at the sleeves, not at the middle
    end = b.motion.evaluate(np.array([b.duration_s]))
    assert abs(end["hip_y_m"][0]) < 0.05  # back at the middle


@pytest.mark.parametrize("item", ["chalk", "belt", "phone", "bottle"])
def test_pick_ups_are_bends_that_are_not_reps(item):
    b = built(PickItem(item), seed=4)
    assert not b.reps and b.bends
    if item in ("phone", "bottle"):  # picked up and put down again
        assert [x["kind"] for x in b.bends] == [f"pick_{item}", f"put_{item}"]


def test_singles_put_down_controlled_or_dropped_and_resets_are_not_reps():
    b = built(
        DeadliftSet(1, "conventional", put_down="dropped"),
        DeadliftSet(3, "deficit", reset_chance=1.0),
        seed=2,
    )
    assert b.reps[0]["kind"] == "conventional" and len(b.reps) == 4
    kinds = [x["kind"] for x in b.bends]
    assert kinds == ["drop", "put_down", "put_down", "put_down"]  # 2 resets, 1 put-down
    drop, put_down = b.bends[0], b.bends[-1]
    assert drop["peak_flexion_deg"] < put_down["peak_flexion_deg"]
    assert drop["end_s"] - drop["start_s"] < put_down["end_s"] - put_down["start_s"]


def test_shallow_romanian_deadlifts_reach_30_to_36_deg_from_a_rack_with_a_walk_out():
    b = built(DeadliftSet(8, "rdl_shallow", rounded=(False,) * 8, rack=True))
    depths = np.array([r["peak_flexion_deg"] for r in b.reps])
    assert ((depths > 26) & (depths < 40)).all()
    assert not b.bends  # no set-up, no put-down
    first = b.reps[0]["start_s"]
    back = b.motion.evaluate(np.array([3.0, first]))["hip_x_m"]
    assert back[1] < back[0] - 0.3  # stepped back from the rack


def test_a_rack_lift_from_the_floor_is_refused():
    with pytest.raises(ValueError, match="rack"):
        DeadliftSet(3, "conventional", rack=True)


def test_variety_leaves_older_scripts_unchanged_and_makes_bends_sway():
    acts = (Walk(2.0), DeadliftSet(3, "conventional"), Wander(30.0, stretch_chance=1.0))
    plain = SessionScript(make_lifter(1), acts)
    again = build_motion(plain, np.random.default_rng(9))
    first = build_motion(plain, np.random.default_rng(9))
    assert first.reps == again.reps and first.bends == again.bends
    varied = build_motion(
        SessionScript(make_lifter(1), acts, variety=True), np.random.default_rng(9)
    )
    for motion, sways in ((varied, True), (first, False)):
        put_down = motion.bends[0]
        assert put_down["kind"] == "put_down"
        t = np.linspace(put_down["start_s"], put_down["end_s"], 200)
        assert (np.ptp(motion.motion.evaluate(t)["lateral_bend_deg"]) > 0.05) == sways


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_gym_sessions_are_seeded_and_varied(name):
    lifter = make_lifter(0, seed=11)
    a = build_motion(SESSIONS[name](lifter, 5, minutes=12), np.random.default_rng(1))
    b = build_motion(SESSIONS[name](lifter, 5, minutes=12), np.random.default_rng(1))
    c = build_motion(SESSIONS[name](lifter, 6, minutes=12), np.random.default_rng(1))
    assert a.reps == b.reps and a.bends == b.bends
    assert a.bends != c.bends
    assert 9 * 60 < a.duration_s < 20 * 60
    assert (len(a.reps) == 0) == (name == "no_lifts")
    assert {x["kind"] for x in a.bends} & {"load_plate", "pick_chalk", "pick_belt", "stretch"}


def test_recording_variety_is_seeded_and_draws_rates_parts_losses_and_cuts():
    from imu.sim.gym import recording_variety

    draws = [recording_variety(seed) for seed in range(200)]
    assert recording_variety(7) == draws[7]
    assert {rate for rate, _, _ in draws} <= {25.0, 50.0, 52.0, 100.0, 104.0, 200.0}
    lossy = [s.loss_fraction for _, s, _ in draws if s.loss_fraction > 0]
    assert 0.2 < len(lossy) / len(draws) < 0.4 and max(lossy) <= 0.1
    assert all(0.0075 <= s.connection_interval_s <= 0.05 for _, s, _ in draws)
    cuts = [cut for _, _, cut in draws if cut is not None]
    assert 0.4 < len(cuts) / len(draws) < 0.6
    assert all(10 <= start <= 120 and 0 <= end <= 120 for start, end in cuts)
