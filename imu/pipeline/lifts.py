"""Lift presets (``--lift``): one entry per lift holding every setting it changes from the
defaults, of the rep segmenter (:class:`RepSettings`) and of the orientation
(:class:`OrientationSettings`); :func:`lift_preset` is the one lookup
(:func:`imu.pipeline.measurement_options.engine_settings` builds an engine's settings
from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imu.pipeline.orientation import OrientationSettings
from imu.pipeline.rep_settings import RepSettings


@dataclass(frozen=True)
class Lift:
    """The settings of one lift (stages not named here keep their defaults)."""

    reps: RepSettings
    orientation: OrientationSettings = field(default_factory=OrientationSettings)


LIFTS: dict[str, Lift] = {
    # Conventional (dead-stop, short floor pause) and touch-and-go deadlifts.
    "deadlift": Lift(RepSettings()),
    # Romanian deadlift: no floor, turn-around above the knee, slower eccentric.
    "rdl": Lift(
        RepSettings(
            lift="rdl",
            max_bottom_hold_s=2.5,
            min_extension_velocity_deg_s=15.0,
        )
    ),
    # Good morning: bar on the back, deep hinge, no floor.
    "good_morning": Lift(
        RepSettings(
            lift="good_morning",
            max_bottom_hold_s=2.5,
            min_extension_velocity_deg_s=15.0,
        )
    ),
    # Back squat: the bar on the back, no floor; the lumbar/pelvis segment flexes only
    # ~20-50 deg (a deadlift's 45-80), and reps follow each other every 2-3 s.
    "squat": Lift(
        RepSettings(
            lift="squat",
            top_deg=8.0,
            bottom_deg=15.0,
            max_start_flexion_deg=8.0,
            max_lockout_flexion_deg=8.0,
            lockout_below_deg=8.0,
            lockout_in_gap_s=0.2,
            max_bottom_hold_s=2.5,
            min_extension_velocity_deg_s=10.0,
            learned_decision=False,  # the rep decision was trained on hinges, not squats
        ),
        # A step over 0.15 s (not 0.3) is a gap the tilt recovers from (docs/calibration.md,
        # timing): between back-to-back squats the lifter stands for 0.05-0.3 s, and
        # 0.15-0.3 s lost in a ~100 deg/s ascent, bridged with the next row's rate, left the
        # trunk too bent to be seen upright (SYNTHETIC, bench_squat's development seeds:
        # exact sets 90 -> 100 % at 10 % loss on a 30 ms link, 67 -> 77 % at 20 % on drawn
        # links; docs/squat.md). Deadlifts keep 0.3 s (the shipped classifier was trained
        # on those angles).
        OrientationSettings(gap_s=0.15),
    ),
    # Stoop lift (laboratory trials of single bends, the ergonomics studies' "stoop" as
    # against "squat" lifting): a hinge with the knees almost straight, often slow. The
    # rep decision, trained on gym sessions where a slow lone forward bend is a stretch,
    # took 18 of 21 simulated trials' stoops for reps (imu.sim.recording.bend_trial, dev
    # seeds 100-139; this preset 21 of 21): every bend the rules let through is a rep.
    # The default's 8 s hold near the bottom, not the RDL's 2.5 s: a slow turn-around
    # stays within hold_band_deg of the peak for seconds (stoops of 4-6 s down and up,
    # SYNTHETIC bend_trial(seed, bend="stoop", bend_s=(4, 6), duration_s=20), seeds
    # 100-111: 0 of 12 found with 2.5 s, 11 with 8 s, the twelfth calibrated without its
    # still period; dev seeds 100-139 unchanged, 21 of 21 stoops, 18 of 19 squats).
    "stoop": Lift(
        RepSettings(
            lift="stoop",
            min_extension_velocity_deg_s=15.0,
            learned_decision=False,
        )
    ),
}


def lift_preset(lift: str) -> Lift:
    """The preset of ``lift`` (a key of :data:`LIFTS`); InputError naming the presets for
    any other."""
    from imu.errors import input_error

    if lift not in LIFTS:
        raise input_error(f"unknown lift {lift!r}", hint=f"choose one of {', '.join(LIFTS)}")
    return LIFTS[lift]
