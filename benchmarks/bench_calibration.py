"""Per-sample cost of the engine while it calibrates, fed one sample per ``update`` (live use).

Run:  python benchmarks/bench_calibration.py [--minutes 6] [--repeat 5] [--against DIR]
``--against DIR``: also the CPU of a batch analysis (``Engine`` fed in 16384-row chunks, as
``imu analyze``) of each stream by this checkout and by the checkout in DIR, alternating
in child processes of this run (best of ``--repeat``), with their ratio.

The session is SYNTHETIC: ``imu.sim.demo_session(make_lifter(0), seed=7, minutes=M)``
simulated at 200 Hz with seed 7 (this script regenerates it). Two streams of it:
"from the start" (stands still, walks to the bar, first forward bend: the usual case) and
"mid-lift" (the same samples from the middle of the first deep bend on, so the still
search runs until the next still moment). For ``--against`` also "walk, then a set": 70 s
of walking, then 5 deadlifts (``make_lifter(2)``, seed 5, 200 Hz), which has no still
period: calibration from the movement is attempted every 0.5 s over a sliding 40 s window. For each phase of the engine (``still``:
searching for the still period, ``bend``: waiting for the first forward bend, ``run``:
calibrated), the CPU time per sample (``time.process_time``, best of ``--repeat`` fresh
engines; the clock is read only when the phase changes, so no per-call timer cost).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def phase_costs(samples: np.ndarray, repeat: int) -> dict[str, tuple[int, float]]:
    """``{phase: (samples, best CPU us/sample)}`` of an engine fed one sample per update."""
    from imu.pipeline import Engine

    best: dict[str, tuple[int, float]] = {}
    for _ in range(repeat):
        engine = Engine()
        spent: dict[str, list[float]] = {}
        phase, count, clock = "mode", 0, time.process_time()
        for row in samples:
            engine.update(row[None, :])
            count += 1
            now_phase = engine.phase
            if now_phase != phase:  # the row that ended a phase is counted in it
                now = time.process_time()
                spent.setdefault(phase, [0, 0.0])
                spent[phase][0] += count
                spent[phase][1] += now - clock
                phase, count, clock = now_phase, 0, now
        spent.setdefault(phase, [0, 0.0])
        spent[phase][0] += count
        spent[phase][1] += time.process_time() - clock
        for name, (n, seconds) in spent.items():
            if n and (name not in best or seconds / n * 1e6 < best[name][1]):
                best[name] = (n, seconds / n * 1e6)
    return best


def streams(minutes: float) -> dict[str, np.ndarray]:
    """The SYNTHETIC streams of the module docstring by name."""
    from imu.sim import demo_session, make_lifter, simulate
    from imu.sim.script import DeadliftSet, SessionScript, Walk

    script = demo_session(make_lifter(0), seed=7, minutes=minutes)
    result = simulate(script, sampling_rate_hz=200, seed=7)
    samples = result.session.samples()
    mid = int(np.argmax(result.truth_angles["flexion_deg"].to_numpy() > 45.0))  # first deep bend
    walk = SessionScript(make_lifter(2), (Walk(70.0), DeadliftSet(5, "conventional")), 0.0, "w")
    walked = simulate(walk, sampling_rate_hz=200, seed=5).session.samples()
    return {"from the start": samples, "mid-lift": samples[mid:], "walk, then a set": walked}


def batch_cpu(minutes: float, repeat: int) -> dict[str, float]:
    """Best CPU seconds of a batch analysis of each stream (this process's ``imu``)."""
    from imu.pipeline import Engine, fusion

    fusion.warm_up()
    best = {}
    for name, samples in streams(minutes).items():
        for _ in range(repeat):
            clock = time.process_time()
            engine = Engine()
            for k in range(0, len(samples), 16384):
                engine.update(samples[k : k + 16384])
            engine.finish()
            spent = time.process_time() - clock
            best[name] = min(best.get(name, spent), spent)
    return best


def compare(against: str, minutes: float, repeat: int) -> None:
    """Batch CPU by this checkout and by ``against``, alternating child processes."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = str(Path(__file__).resolve().parents[1])
    best: dict[str, dict[str, float]] = {here: {}, against: {}}
    for _ in range(repeat):
        for root in (against, here):
            env = {**os.environ, "PYTHONPATH": root}
            child = [sys.executable, __file__, "--child", "--minutes", str(minutes)]
            out = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            for name, spent in json.loads(out.stdout.splitlines()[-1]).items():
                best[root][name] = min(best[root].get(name, spent), spent)
    print(f"\nbatch analysis CPU s, best of {repeat} (alternating child processes)")
    print(f"| stream | {against} | this checkout | ratio |")
    print("|---|---|---|---|")
    for name, spent in best[here].items():
        old = best[against][name]
        print(f"| {name} | {old:.3f} | {spent:.3f} | {spent / old:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", metavar="DIR", help="another checkout to compare with")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import json

        print(json.dumps(batch_cpu(args.minutes, 1)))
        return

    import imu

    print(f"imu from {imu.__file__}; SYNTHETIC streams at 200 Hz (module docstring)")
    print(f"| stream | phase | samples | CPU us/sample (best of {args.repeat}) |")
    print("|---|---|---|---|")
    for label, stream in streams(args.minutes).items():
        for phase, (n, us) in phase_costs(stream, args.repeat).items():
            print(f"| {label} | {phase} | {n} | {us:.1f} |")
    if args.against:
        compare(args.against, args.minutes, args.repeat)


if __name__ == "__main__":
    main()
