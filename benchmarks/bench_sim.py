"""Speed and memory of the simulator (synthetic data, imu.sim).

Run: ``python benchmarks/bench_sim.py [--minutes 60] [--rate 200]``. Prints the time to
generate a training session of that length (imu.sim.demo_session, seed 0, rests
60-180 s) at that rate, the time to write it (gzipped), samples per second, and the
peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time

from imu.sim import demo_session, make_lifter, simulate, write_result


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak / 1024 if sys.platform == "darwin" else peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    script = demo_session(make_lifter(0), seed=0, minutes=args.minutes)
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate(script, sampling_rate_hz=args.rate, seed=0)
    simulate_s, simulate_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    simulate_peak_mb = _peak_rss_mb()
    n = len(result.session.data)
    duration_min = (result.session.time_s[-1] - result.session.time_s[0]) / 60
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_result(result, tmp, "bench", compress=True)
        write_s = time.perf_counter() - start
    peak_mb = _peak_rss_mb()
    print(
        f"session: {duration_min:.1f} min at {args.rate:g} Hz, {n} samples, "
        f"{len(result.truth_reps)} reps (synthetic, seed 0)"
    )
    print(
        f"simulate: {simulate_s:.2f} s ({n / simulate_s / 1e3:.0f} k samples/s, "
        f"{simulate_s / duration_min * 60:.2f} s per simulated hour; CPU {simulate_cpu_s:.2f} s)"
    )
    print(f"write (gzip, session + truth + reps): {write_s:.2f} s")
    print(f"peak RSS: {simulate_peak_mb:.0f} MB after simulating, {peak_mb:.0f} MB after writing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
