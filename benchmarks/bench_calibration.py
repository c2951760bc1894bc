"""Per-sample cost of the engine while it calibrates, fed one sample per ``update`` (live use).

Run:  python benchmarks/bench_calibration.py [--minutes 6] [--repeat 5]
Compare with another checkout in the same run:  PYTHONPATH=DIR python benchmarks/bench_calibration.py

The session is SYNTHETIC: ``imu.sim.demo_session(make_lifter(0), seed=7, minutes=M)``
simulated at 200 Hz with seed 7 (this script regenerates it). Two streams of it:
"from the start" (stands still, walks to the bar, first forward bend: the usual case) and
"mid-lift" (the same samples from the middle of the first deep bend on, so the still
search runs until the next still moment). For each phase of the engine (``still``:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import imu
    from imu.sim import demo_session, make_lifter, simulate

    script = demo_session(make_lifter(0), seed=7, minutes=args.minutes)
    result = simulate(script, sampling_rate_hz=200, seed=7)
    samples = result.session.samples()
    mid = int(np.argmax(result.truth_angles["flexion_deg"].to_numpy() > 45.0))  # first deep bend
    print(f"imu from {imu.__file__}; SYNTHETIC demo session, {len(samples)} samples at 200 Hz")
    print(f"| stream | phase | samples | CPU us/sample (best of {args.repeat}) |")
    print("|---|---|---|---|")
    for label, stream in (("from the start", samples), ("mid-lift", samples[mid:])):
        for phase, (n, us) in phase_costs(stream, args.repeat).items():
            print(f"| {label} | {phase} | {n} | {us:.1f} |")


if __name__ == "__main__":
    main()
