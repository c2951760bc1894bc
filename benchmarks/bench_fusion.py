"""Why the orientation stage is our own kernel: imufusion's per-sample loop vs the compiled one.

Run:  python benchmarks/bench_fusion.py [--quick]
All sessions are SYNTHETIC, generated in memory by imu.sim (this command regenerates
them). Side by side on the same rows:

- speed of the orientation stage alone, us/sample: the whole session in one call
  (replay) and fed one sample at a time (live: ``update`` with one row; the reference's
  imufusion calls are per-sample either way);
- accuracy of the whole pipeline with each (``imu analyze`` with the engine's
  Orientation swapped): flexion RMSE against the simulator's truth, and the largest
  difference between the two in any body angle and any quaternion;
- numba's cost: compile on a first run (empty cache) and loading the cache on later
  runs, each in a fresh process; peak RSS of a process that ran the stage with each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the reference
from fusion_reference import ImufusionOrientation, quaternion_angle_deg

from imu.pipeline import analyze_session, engine
from imu.pipeline.orientation import Orientation, OrientationSettings
from imu.pipeline.timing import Timing
from imu.sim import demo_session, make_lifter, simulate

COLUMNS = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]


def stage_speed(samples: np.ndarray, make, repeats: int = 3) -> tuple[float, float]:
    """us/sample of ``make()`` over the whole chunk, and fed one row at a time (best of
    ``repeats``: the machine is shared, the minimum is the cost without interference)."""
    timed = Timing().update(samples)
    cols = (samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart)
    make().update(*(c[:100] for c in cols))  # warm up (numba cache load) outside the timing
    n = len(samples)
    batch, one = [], []
    for _ in range(repeats):
        orientation = make()
        t0 = time.perf_counter()
        orientation.update(*cols)
        batch.append((time.perf_counter() - t0) / len(samples) * 1e6)
        orientation = make()
        orientation.update(*(c[:1] for c in cols))
        t0 = time.perf_counter()
        for i in range(1, n):
            orientation.update(*(c[i : i + 1] for c in cols))
        one.append((time.perf_counter() - t0) / (n - 1) * 1e6)
    return min(batch), min(one)


def rmse(analysis, truth) -> float:
    est = analysis.angles[:, 1]
    ok = np.isfinite(est)
    return float(np.sqrt(np.mean((est[ok] - truth["flexion_deg"].to_numpy()[ok]) ** 2)))


def compare(conditions: list[tuple[float, str]], minutes: float) -> None:
    print(f"\n## imufusion 1.3.3 loop vs compiled kernel (SYNTHETIC {minutes:g}-minute sessions)")
    print(
        "| rate Hz | mounting | samples | imufusion us/sample batch / one-by-one "
        "| kernel us/sample batch / one-by-one | batch speed-up "
        "| flexion RMSE imufusion / kernel deg | max body-angle diff deg | max quaternion diff deg |"
    )
    print("|---" * 9 + "|")
    settings = OrientationSettings()
    for k, (rate, mounting) in enumerate(conditions):
        script = demo_session(make_lifter(k), seed=k, minutes=minutes)
        result = simulate(script, sampling_rate_hz=rate, mounting=mounting, seed=k)
        samples = result.session.data[COLUMNS].to_numpy()
        bias = np.array([0.3, -0.2, 0.1])
        ref_speed = stage_speed(samples, lambda: ImufusionOrientation(settings, rate, bias))  # noqa: B023
        ker_speed = stage_speed(samples, lambda: Orientation(settings, rate, bias))  # noqa: B023
        timed = Timing().update(samples)
        cols = (samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart)
        q_ref = ImufusionOrientation(settings, rate, bias).update(*cols)
        q_ker = Orientation(settings, rate, bias).update(*cols)
        ours = analyze_session(result.session)
        engine.Orientation = ImufusionOrientation
        try:
            theirs = analyze_session(result.session)
        finally:
            engine.Orientation = Orientation
        both = np.isfinite(ours.angles[:, 1:3]) & np.isfinite(theirs.angles[:, 1:3])
        body_diff = float(np.abs(ours.angles[:, 1:3] - theirs.angles[:, 1:3])[both].max())
        print(
            f"| {rate:g} | {mounting} | {len(samples)} | {ref_speed[0]:.2f} / {ref_speed[1]:.2f} "
            f"| {ker_speed[0]:.2f} / {ker_speed[1]:.2f} | {ref_speed[0] / ker_speed[0]:.0f}x "
            f"| {rmse(theirs, result.truth_angles):.3f} / {rmse(ours, result.truth_angles):.3f} "
            f"| {body_diff:.2g} | {np.nanmax(quaternion_angle_deg(q_ref, q_ker)):.2g} |"
        )


_CHILD = """
import sys, time
t0 = time.perf_counter()
import numpy as np
t1 = time.perf_counter()
n = 2000
acc = np.tile([0.05, 0.02, 0.99], (n, 1))
gyr = np.tile([5.0, -3.0, 1.0], (n, 1))
if sys.argv[1] == "imufusion":
    import imufusion
    t2 = time.perf_counter()
    ahrs = imufusion.Ahrs()
    for a, g in zip(acc, gyr):
        ahrs.update_no_magnetometer(g, a)
elif sys.argv[1] == "kernel":
    from imu.pipeline import fusion
    t2 = time.perf_counter()
    state = fusion.fusion_state(np.zeros(3))
    settings = fusion.fusion_settings(100.0, 0.5, 2000.0, 10.0, 5.0, 3.0, 3.0)
    dt, flags = np.full(n, 0.01), np.zeros(n, bool)
    fusion.fusion_chunk(state, settings, acc * 9.80665, gyr, dt, flags, flags)
else:
    import imu.pipeline
    t2 = time.perf_counter()
with open("/proc/self/status") as status:  # VmHWM: peak RSS of this program, not the parent
    rss_mb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
print(t2 - t1, time.perf_counter() - t2, rss_mb)
"""


def process_costs() -> None:
    print("\n## Process costs: fresh processes (numpy imported first, not counted)")
    print("| run | import s | first use s | peak RSS MB |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [("import imu.pipeline (the rest of the pipeline)", "pipeline")]
        runs += [("imufusion: import, 2000 samples", "imufusion")]
        runs += [("kernel, empty cache: import numba + compile, 2000 samples", "kernel")]
        runs += [("kernel, cache loaded: import numba + load, 2000 samples", "kernel")] * 2
        for label, kind in runs:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, kind],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                cwd=cache,
            ).stdout.split()
            import_s, use_s, rss = (float(v) for v in out)
            print(f"| {label} | {import_s:.2f} | {use_s:.2f} | {rss:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 sessions of 5 minutes")
    args = parser.parse_args()
    conditions = [(50.0, "xleft_zfwd"), (200.0, "xup_zback")]
    if not args.quick:
        conditions += [(25.0, "xfwd_zright"), (100.0, "xleft_zfwd"), (200.0, "xfwd_zright")]
    compare(conditions, 5.0 if args.quick else 10.0)
    process_costs()
    probe = np.arange(7.0)
    t0 = time.perf_counter()
    for _ in range(20000):
        np.flatnonzero(probe > 3)
    per_call_us = (time.perf_counter() - t0) / 20000 * 1e6
    print(f"machine load probe: one small numpy call = {per_call_us:.2f} us")


if __name__ == "__main__":
    main()
