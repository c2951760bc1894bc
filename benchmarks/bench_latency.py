"""Lockout-to-alert latency of rep verdicts, as a lifter hears them live.

Run:  python benchmarks/bench_latency.py [--lifters N] [--model MODEL]
All sessions are SYNTHETIC, generated in memory by imu.sim (demo sessions, 3 sets, 100 Hz;
the same command regenerates them). The engine is fed one sample at a time with the
default rounded-back classifier; an alert's latency is the time of the sample whose
update emitted it minus the rep's lockout (``end_s``). Printed per alert class:
provisional (at the lockout, for reps after the first of a burst) and confirmed (when
the rep is final: first reps of a burst, or verdicts that only the complete rep gives),
as count, median, p95 and max (s); "rep event" is the latency of the flagged reps'
``rep`` events, i.e. of every alert before provisional alerts existed; plus early alerts that were withdrawn (put-downs,
verdicts changed once the rep was complete). Goal: provisional p95 <= 0.4 s.
"""

from __future__ import annotations

import argparse

import numpy as np

from imu.model import load_model
from imu.pipeline import Engine
from imu.sim import demo_session, make_lifter, simulate


def session_latencies(samples: np.ndarray, classifier) -> tuple[dict[str, list[float]], int, int]:
    """(latencies in s of provisional / confirmed alerts and of their reps' ``rep`` events,
    n early alerts withdrawn, n confirmed alerts of reps after the first of a set, n reps)."""
    engine = Engine(classifier=classifier)
    timed: list[tuple[float, dict]] = []
    for sample in samples:
        timed += [(float(sample[0]), e) for e in engine.update(sample[None, :]).events]
    timed += [(float(samples[-1, 0]), e) for e in engine.finish().events]
    reps = {(e["set"], e["rep"]): e for _, e in timed if e["type"] == "rep"}
    latencies: dict[str, list[float]] = {"provisional": [], "confirmed": [], "rep event": []}
    withdrawn = late = 0
    for time_s, event in timed:
        if event["type"] == "alert_withdrawn":
            withdrawn += 1
        if event["type"] != "alert" or event["kind"] == "flexion_limit":
            continue
        rep = reps.get((event["set"], event["rep"]))
        if rep is None:
            continue  # an early alert later withdrawn
        which = "provisional" if event["provisional"] else "confirmed"
        late += which == "confirmed" and event["rep"] > 1
        latencies[which].append(time_s - rep["end_s"])
        rep_time_s = next(t for t, e in timed if e is rep)
        latencies["rep event"].append(rep_time_s - rep["end_s"])
    return latencies, withdrawn, late, len(reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifters", type=int, default=6)
    parser.add_argument("--model", default=None, help="model file (default: the shipped one)")
    args = parser.parse_args()
    classifier = load_model(args.model)
    pooled: dict[str, list[float]] = {"provisional": [], "confirmed": [], "rep event": []}
    n_withdrawn = n_late = n_reps = 0
    for seed in range(args.lifters):
        script = demo_session(make_lifter(seed), seed=seed, n_sets=3)
        result = simulate(script, sampling_rate_hz=100.0, seed=seed)
        latencies, withdrawn, late, reps = session_latencies(result.session.samples(), classifier)
        for key, values in latencies.items():
            pooled[key] += values
        n_withdrawn += withdrawn
        n_late += late
        n_reps += reps
    print(f"SYNTHETIC: {args.lifters} demo sessions x 3 sets, 100 Hz, {n_reps} reps")
    print(f"{'alerts':<12} {'n':>4} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for key, values in pooled.items():
        if values:
            v = np.asarray(values)
            print(
                f"{key:<12} {len(v):>4} {np.median(v):>9.3f} {np.percentile(v, 95):>7.3f} "
                f"{v.max():>7.3f}"
            )
        else:
            print(f"{key:<12} {0:>4}")
    print(f"early alerts withdrawn: {n_withdrawn}")
    print(f"confirmed (not early) alerts of reps after the first of a set: {n_late}")


if __name__ == "__main__":
    main()
