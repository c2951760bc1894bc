"""What rep segmentation costs, this checkout against an earlier commit, side by side
(SYNTHETIC session).

    python benchmarks/bench_reps.py [--before REF] [--minutes M] [--rounds R]

The session is a SYNTHETIC ``--minutes`` (60) minute session at 200 Hz made by ``imu.sim``
(``demo_session(make_lifter(0), seed=7, minutes=M)``, ``simulate(..., sampling_rate_hz=200,
seed=7)``). The version before is this checkout's ``imu`` copied to a temporary folder
with the segmenter's own files, ``imu/pipeline/reps.py`` and ``metrics.py``, as at
``--before`` (default ``981e1c3``, the last commit with the numpy per-excursion
measures): only the segmenter differs. The engine's calls of the segmenter on that
session (``imu analyze``'s chunks, no classifier) are recorded once with this checkout
and replayed, in fresh processes taking turns ``--rounds`` (3) times, by both versions:

* segmenter: CPU time of the whole replay (best and median of 5 per process), and the
  CPU time spent in numpy's FFT (SPARC's spectrum, the same in both);
* identical: whether both versions' events and rep records are the same bits;
* per sample: the engine fed one sample per update (the live path, provisional alerts
  on) over 20,000 samples after calibration, us/sample CPU (best of the rounds); and the
  segmenter alone fed the recorded rows one per ``update_one`` (the first 240,000: 20
  minutes), us/row CPU (best of the rounds);
* load: the CPU time to load this checkout's compiled rep kernels from numba's cache
  in a new process (``rep_kernels.load`` after the orientation kernels; median of the
  rounds), which a whole ``imu analyze`` process pays once.

CPU times (``time.process_time``) because the machine is shared; compare the two
columns of one run, not figures of different runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RECORD = """
import pickle, sys
from imu.pipeline import analyze_session, reps
from imu.sim import demo_session, make_lifter, simulate

calls = []
for name in ("update", "update_one", "restart", "finish"):
    def recorded(self, *args, _name=name, _method=getattr(reps.RepSegmenter, name)):
        calls.append((_name, pickle.dumps(args)))
        return _method(self, *args)
    setattr(reps.RepSegmenter, name, recorded)
script = demo_session(make_lifter(0), seed=7, minutes=float(sys.argv[2]))
session = simulate(script, sampling_rate_hz=200, seed=7).session
analyze_session(session)
pickle.dump((session.samples(), [(n, pickle.loads(a)) for n, a in calls]), open(sys.argv[1], "wb"))
print(len(calls))
"""

_REPLAY = """
import json, pickle, sys, time
import numpy as np
from imu.pipeline import Engine, fusion, reps

fusion.warm_up()
samples, calls = pickle.load(open(sys.argv[1], "rb"))
spent = [0.0]
rfft = np.fft.rfft
def timed_rfft(*args, **kwargs):
    t0 = time.process_time()
    try:
        return rfft(*args, **kwargs)
    finally:
        spent[0] += time.process_time() - t0
np.fft.rfft = timed_rfft
totals, ffts = [], []
for _ in range(5):
    spent[0] = 0.0
    t0 = time.process_time()
    segmenter = reps.RepSegmenter(reps.RepSettings(early_alerts=False))  # as imu analyze
    events = []
    for name, args in calls:
        events += getattr(segmenter, name)(*args)
    totals.append(time.process_time() - t0)
    ffts.append(spent[0])
np.fft.rfft = rfft
pickle.dump((events, segmenter.records), open(sys.argv[2], "wb"))
rows = [
    (float(t), (float(a[0]), float(a[1]), float(a[2])), int(r))
    for name, args in calls if name == "update" for t, a, r in zip(*args)
][:240000]
live = reps.RepSegmenter(reps.RepSettings())  # provisional alerts on, as in imu live
t0 = time.process_time()
for row in rows:
    live.update_one(*row)
segmenter_row_us = (time.process_time() - t0) / len(rows) * 1e6
engine = Engine()
for row in samples[:20000]:
    engine.update(row[None, :])
t0 = time.process_time()
for row in samples[20000:40000]:
    engine.update(row[None, :])
per_sample_us = (time.process_time() - t0) / 20000 * 1e6
print(json.dumps({"totals": totals, "ffts": ffts, "per_sample_us": per_sample_us,
                  "segmenter_row_us": segmenter_row_us, "reps": len(segmenter.reps)}))
"""

_LOAD = """
import json, time
from imu.pipeline import fusion, rep_kernels
load, rep_kernels.load = rep_kernels.load, lambda: None
fusion.warm_up()
t0 = time.process_time()
load()
print(json.dumps(time.process_time() - t0))
"""


def run(code: str, path: Path, *args: str) -> str:
    """Run ``code`` in a new process with ``path`` first on the import path."""
    env = {"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="981e1c3")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = tmp / "before"
        shutil.copytree(ROOT / "imu", before / "imu", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("reps.py", "metrics.py"):
            path = f"imu/pipeline/{name}"
            source = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{args.before}:{path}"],
                capture_output=True,
                check=True,
            )
            (before / path).write_bytes(source.stdout)
        calls = tmp / "calls.pkl"
        run(_RECORD, ROOT, str(calls), str(args.minutes))
        versions = {f"before ({args.before})": before, "this checkout": ROOT}
        results: dict[str, list[dict]] = {label: [] for label in versions}
        loads = []
        for _ in range(args.rounds):
            for label, path in versions.items():
                out = tmp / f"{path.name}.pkl"
                results[label].append(json.loads(run(_REPLAY, path, str(calls), str(out))))
            loads.append(json.loads(run(_LOAD, ROOT)))
        outputs = [(tmp / f"{path.name}.pkl").read_bytes() for path in versions.values()]
    print(f"Rep segmentation of a SYNTHETIC {args.minutes:g} min 200 Hz session (CPU time)")
    print("| | " + " | ".join(versions) + " |")
    print("|---|" + "---|" * len(versions))

    def row(label: str, cells: list[str]) -> None:
        print(f"| {label} | " + " | ".join(cells) + " |")

    totals = {k: sorted(t for r in v for t in r["totals"]) for k, v in results.items()}
    ffts = {k: sorted(t for r in v for t in r["ffts"]) for k, v in results.items()}
    row("segmenter, best (s)", [f"{t[0]:.3f}" for t in totals.values()])
    row("segmenter, median (s)", [f"{statistics.median(t):.3f}" for t in totals.values()])
    row("of which numpy FFT, median (s)", [f"{statistics.median(t):.3f}" for t in ffts.values()])
    row("reps", [str(v[0]["reps"]) for v in results.values()])
    per_sample = [min(r["per_sample_us"] for r in v) for v in results.values()]
    row("engine, one sample per update (us/sample)", [f"{us:.1f}" for us in per_sample])
    per_row = [min(r["segmenter_row_us"] for r in v) for v in results.values()]
    row("of which segmenter, one row per update_one (us/row)", [f"{us:.1f}" for us in per_row])
    row("rep kernels' load per process (s)", ["-", f"{statistics.median(loads):.3f}"])
    print(f"\nevents and rep records identical to the bit: {outputs[0] == outputs[1]}")


if __name__ == "__main__":
    main()
