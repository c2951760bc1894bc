"""The flexion sign check (imu/pipeline/sign_check.py): false and true warnings (SYNTHETIC).

Run:  python benchmarks/bench_sign_check.py [--seeds N] [--first-seed S] [--gym-seed G]
                                            [--lifters L]

Counts ``warning`` events (kind ``flexion_sign``) per recording:

* bench_realistic.py's sets (``realistic_set(seed)``; seeds from 1000 held out, 0-199
  for development), each start: as recorded (every warning on a file whose sign is right
  is false; files whose flexion came out inverted, correlation with the truth < 0.8, are
  counted apart), analysed with ``--mounting`` the true mounting (none should warn),
  and with the true mounting's body x and y reversed (a flipped mounting: every one
  should warn);
* bench_gym.py's sessions, ``--quick`` lengths (mixed 20 min, singles 15, clean 5 sets,
  no lifts 20, mixed recorded and cut), ``make_lifter(i, seed=G)`` (2026 held out; 77
  for development): as recorded, and the mixed, singles and clean ones with a flipped
  mounting.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def flipped(code: str) -> str:
    """A mounting's code with body x and y reversed (z kept): the flexion sign inverted."""
    import numpy as np

    from imu.pipeline import parse_mounting
    from imu.sim.rotations import mounting_code

    rotation = parse_mounting(code)
    return mounting_code(np.array([-rotation[0], -rotation[1], rotation[2]]))


def warned(analysis) -> int:
    return sum(e["type"] == "warning" and e["kind"] == "flexion_sign" for e in analysis.events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60, help="recordings per start")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--gym-seed", type=int, default=2026)
    parser.add_argument("--lifters", type=int, default=8)
    args = parser.parse_args()

    import numpy as np
    from bench_gym import gym_result, session_makers  # the same sessions as bench_gym's

    from imu.pipeline import CalibrationSettings, EngineSettings, analyze_session
    from imu.sim.activities import KINDS
    from imu.sim.recording import realistic_set
    from imu.sim.rotations import MOUNTINGS, mounting_code

    def with_mounting(code: str) -> EngineSettings:
        return EngineSettings(calibration=CalibrationSettings(mounting=code))

    print(f"SYNTHETIC; regenerate: python {shlex.join(sys.argv)}")
    print(
        "| recordings | n | warned, sign right (false) | sign inverted: warned "
        "| true --mounting: warned (false) | flipped --mounting: warned |"
    )
    print("|---|---|---|---|---|---|")
    floor = tuple(k for k, kind in KINDS.items() if kind.from_floor)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for start in ("standing", "before_first_rep", "mid_rep", "setup_hold"):
        false = inverted = inverted_warned = flip_warned = true_warned = 0
        for seed in seeds:
            kinds = floor if start == "setup_hold" else tuple(KINDS)
            result, drawn = realistic_set(seed, start=start, kinds=kinds)
            analysis = analyze_session(result.session)
            est = analysis.angles[:, 1]
            truth = result.truth_angles["flexion_deg"].to_numpy()
            ok = np.isfinite(est)
            right = ok.sum() > 10 and np.corrcoef(est[ok], truth[ok])[0, 1] > 0.8
            inverted += not right
            inverted_warned += (not right) and warned(analysis) > 0
            false += right and warned(analysis) > 0
            code = mounting_code(MOUNTINGS[drawn["mounting"]])
            true_warned += warned(analyze_session(result.session, with_mounting(code))) > 0
            flip_warned += warned(analyze_session(result.session, with_mounting(flipped(code)))) > 0
        n = len(seeds)
        print(
            f"| realistic sets, {start.replace('_', ' ')} (seeds {seeds[0]}-{seeds[-1]}) | {n} | "
            f"{false}/{n - inverted} | {inverted_warned}/{inverted} | {true_warned}/{n} | "
            f"{flip_warned}/{n} |",
            flush=True,
        )
    for name, make in session_makers(quick=True).items():
        false = flip_warned = 0
        for i in range(args.lifters):
            _, result = gym_result(name, make, i, args.gym_seed)
            false += warned(analyze_session(result.session)) > 0
            if name in ("mixed", "singles", "clean"):
                settings = with_mounting(flipped(result.mounting))
                flip_warned += warned(analyze_session(result.session, settings)) > 0
        n = args.lifters
        flip_text = f"{flip_warned}/{n}" if name in ("mixed", "singles", "clean") else "-"
        print(
            f"| gym, {name} (make_lifter(i, seed={args.gym_seed})) | {n} | {false}/{n} | - | - | "
            f"{flip_text} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
