"""Peak memory of ``imu replay --fast`` on a recording with a clock jump, against the same
recording without it (issue 17: memory must follow the samples, not the time span).

    python benchmarks/bench_hostile.py [--minutes 10] [--repeat 2]

Each variant runs as its own ``imu replay --fast --no-display --no-model`` process; its
peak resident memory is the kernel's ``ru_maxrss`` of that child (``os.wait4``). The
variants take turns, ``--repeat`` rounds, and each keeps its smallest peak. Variants: the
recording as simulated, then with 1e6 s and 1e8 s added to the second half's times (a
sensor clock that jumped), then with the last time at 1e300 s. Goal: every ratio to the
plain recording <= 1.2 (before the fix, 1e6 s took 3.8x, 1e8 s was killed out of
memory). Each child runs under a 4 GB address-space limit, so a regression fails here
instead of taking the machine down.

The data is SYNTHETIC: ``imu.sim`` lifter 0, seed 1717 (a held-out seed), 100 Hz,
regenerated in a temporary folder on every run (deleted after).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

LIMIT_BYTES = 4 << 30
GOAL_RATIO = 1.2


def _write_variants(folder: Path, minutes: float) -> dict[str, Path]:
    from imu.session import Session, write_session
    from imu.sim import demo_session, make_lifter, simulate

    recording = simulate(demo_session(make_lifter(0), seed=1717, minutes=minutes),
                         sampling_rate_hz=100, seed=1717).session
    paths = {}
    for name, shift in (("plain", 0.0), ("jump 1e6 s", 1e6), ("jump 1e8 s", 1e8),
                        ("last time 1e300 s", None)):
        data = recording.data.copy()
        times = data["time_s"].to_numpy(copy=True)
        if shift is None:
            times[-1] = 1e300
        else:
            times[len(times) // 2:] += shift
        data["time_s"] = times
        path = folder / f"{len(paths)}.csv"
        write_session(Session(data=data, metadata=dict(recording.metadata)), path)
        paths[name] = path
    return paths


def _peak_mb(path: Path) -> tuple[float, int]:
    """Peak RSS (MB) and exit status of one replay process."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))

    process = subprocess.Popen(
        [sys.executable, "-m", "imu", "replay", str(path), "--fast", "--no-display",
         "--no-model"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=limit)  # noqa: PLW1509 - this script starts no threads
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_variants(Path(tmp), args.minutes)
        peaks: dict[str, float] = {}
        statuses: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, path in paths.items():
                peak, statuses[name] = _peak_mb(path)
                peaks[name] = min(peaks.get(name, peak), peak)
    print(f"imu replay --fast, {args.minutes:g} min SYNTHETIC session at 100 Hz "
          f"(seed 1717), smallest peak RSS of {args.repeat} run(s)")
    ok = True
    for name, peak in peaks.items():
        ratio = peak / peaks["plain"]
        good = statuses[name] == 0 and ratio <= GOAL_RATIO
        ok &= good
        print(f"  {name:<18} {peak:8.1f} MB  x{ratio:.2f}  exit {statuses[name]}  "
              f"{'ok' if good else 'FAILS the goal'}")
    print(f"goal: every variant exits 0 within {GOAL_RATIO}x the plain recording's peak: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
