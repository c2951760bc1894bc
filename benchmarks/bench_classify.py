"""What the rounded-back classifier costs ``imu analyze``, this checkout against an earlier
commit, side by side (SYNTHETIC session).

    python benchmarks/bench_classify.py [--before REF] [--minutes M] [--session CSV]

The session is a SYNTHETIC ``--minutes`` (60) minute session at 200 Hz made by ``imu.sim``
(``demo_session(make_lifter(0), seed=7, minutes=M)``, ``simulate(..., sampling_rate_hz=200,
seed=7)``), unless ``--session`` names a CSV. ``--before`` (default ``HEAD~1``) is
extracted with ``git archive`` to a temporary folder; both versions load the same model
file (``models/default.skops`` of this checkout, via ``IMU_MODEL``), each in fresh Python
processes:

* imports: ``from imu.model import load_model`` in a new process, then ``load_model()``:
  median of 3 processes (wall and CPU time); whether that imported scikit-learn, skops,
  scipy or pytest (the default model needs none of them since it carries a predictor payload);
* ``analyze_session`` of the session without and with the model (after a warm-up run
  that loads the compiled orientation kernels): best of 2; and ``python -m imu analyze
  SESSION --json`` as a whole new process (imports, model, reading, analysis): best of 2;
* per call: every ``classify(record, history)`` call of that analysis replayed in order
  on a freshly loaded model (so each rep's features are computed once, as in the
  engine): median, 90th percentile and mean wall time per call, and the median CPU time
  (steadier than wall time on a shared machine); and the CPU time of all calls in order
  (best of 5 replays);
* the largest difference between the two versions' probabilities (must be float noise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


HEAVY_MODULES = ("sklearn", "skops", "scipy", "pytest")


def child_imports() -> dict:
    started, started_cpu = time.perf_counter(), time.process_time()
    from imu.model import load_model
    imported, imported_cpu = time.perf_counter(), time.process_time()
    load_model()
    loaded, loaded_cpu = time.perf_counter(), time.process_time()
    return {"import_s": imported - started, "load_s": loaded - imported,
            "import_cpu_s": imported_cpu - started_cpu, "load_cpu_s": loaded_cpu - imported_cpu,
            "imported": [name for name in HEAVY_MODULES if name in sys.modules]}


def child_run(session_path: str) -> dict:
    import numpy as np

    from imu.importers import load
    from imu.model import load_model
    from imu.pipeline import analyze_session

    session = load([session_path])
    model = load_model()
    calls = []

    class Recorder:
        def classify(self, record, history):
            calls.append((record, list(history)))
            return model.classify(record, history)

    analyze_session(session)                                   # warm-up
    bare = min(_timed(analyze_session, session) for _ in range(2))
    with_model = min(_timed(analyze_session, session, classifier=load_model())
                     for _ in range(2))
    analyze_session(session, classifier=Recorder())
    fresh = load_model()
    per_call, per_call_cpu, p = [], [], []
    for record, history in calls:
        t0, c0 = time.perf_counter(), time.process_time()
        p.append(fresh.classify(record, history)[0])
        per_call_cpu.append(time.process_time() - c0)
        per_call.append(time.perf_counter() - t0)
    per_call_us = np.array(per_call) * 1e6
    totals = []
    for _ in range(5):
        replayed = load_model()
        c0 = time.process_time()
        for record, history in calls:
            replayed.classify(record, history)
        totals.append(time.process_time() - c0)
    return {"calls_cpu_total_ms": min(totals) * 1e3, "analyze_no_model_s": bare, "analyze_model_s": with_model, "n_calls": len(calls),
            "call_median_us": float(np.median(per_call_us)),
            "call_p90_us": float(np.percentile(per_call_us, 90)),
            "call_mean_us": float(per_call_us.mean()),
            "call_cpu_median_us": float(np.median(per_call_cpu) * 1e6), "p": p}


def _timed(function, *args, **kwargs) -> float:
    t0 = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - t0


def run_child(code_root: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_root),
           "IMU_MODEL": str(ROOT / "models" / "default.skops")}
    done = subprocess.run([sys.executable, __file__, "--child", *args], env=env,
                          capture_output=True, text=True, check=False, cwd=code_root)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed under {code_root}:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def imu_analyze_s(code_root: Path, session: Path) -> float:
    """Wall time of ``python -m imu analyze SESSION --json`` (default model) in a new process."""
    env = {**os.environ, "PYTHONPATH": str(code_root),
           "IMU_MODEL": str(ROOT / "models" / "default.skops")}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "imu", "analyze", str(session), "--json"],
                          env=env, capture_output=True, text=True, check=False, cwd=code_root)
    if done.returncode != 0:
        raise SystemExit(f"imu analyze failed under {code_root}:\n{done.stderr}")
    return time.perf_counter() - t0


def measure(code_root: Path, session: Path) -> dict:
    imports = [run_child(code_root, "imports") for _ in range(3)]
    result = run_child(code_root, "run", str(session))
    result["imu_analyze_s"] = min(imu_analyze_s(code_root, session) for _ in range(2))
    for key in ("import_s", "load_s", "import_cpu_s", "load_cpu_s"):
        result[key] = statistics.median(i[key] for i in imports)
    result["imported"] = ", ".join(sorted({m for i in imports for m in i["imported"]})) or "none"
    return result


def make_session(folder: Path, minutes: float) -> Path:
    from imu.session import write_session
    from imu.sim import demo_session, make_lifter, simulate

    script = demo_session(make_lifter(0), seed=7, minutes=minutes)
    path = folder / f"synthetic_{minutes:g}min_200hz.csv"
    write_session(simulate(script, sampling_rate_hz=200, seed=7).session, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD~1", help="git commit to compare with")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--session", type=Path, help="a session CSV instead of simulating")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        out = child_imports() if args.child[0] == "imports" else child_run(args.child[1])
        print(json.dumps(out))
        return
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before_root = tmp / "before"
        before_root.mkdir()
        archive = subprocess.run(["git", "archive", args.before, "imu"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before_root)], input=archive, check=True)
        session = args.session or make_session(tmp, args.minutes)
        before = measure(before_root, session)
        after = measure(ROOT, session)
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    print(f"## Classifier cost in imu analyze ({session.name}; SYNTHETIC unless --session)")
    print(f"before = {args.before}, after = working tree at {revision}; "
          f"{after['n_calls']} classify() calls\n")
    print("| measure | before | after |")
    print("|---|---|---|")
    rows = [("classify() per call, median (us)", "call_median_us", "{:.0f}"),
            ("classify() per call, 90th percentile (us)", "call_p90_us", "{:.0f}"),
            ("classify() per call, mean (us)", "call_mean_us", "{:.0f}"),
            ("classify() per call, CPU time median (us)", "call_cpu_median_us", "{:.0f}"),
            ("classify() all calls in order, CPU time (ms, best of 5)", "calls_cpu_total_ms",
             "{:.1f}"),
            ("analyze_session without model (s, best of 2)", "analyze_no_model_s", "{:.2f}"),
            ("analyze_session with default model (s, best of 2)", "analyze_model_s", "{:.2f}"),
            ("python -m imu analyze --json, whole process (s, best of 2)", "imu_analyze_s",
             "{:.2f}"),
            ("fresh process: from imu.model import load_model (s)", "import_s", "{:.2f}"),
            ("... its CPU time (s)", "import_cpu_s", "{:.2f}"),
            ("fresh process: load_model() (s)", "load_s", "{:.3f}"),
            ("... its CPU time (s)", "load_cpu_s", "{:.3f}"),
            ("of sklearn, skops, scipy, pytest: imported by these", "imported", "{}")]
    for label, key, fmt in rows:
        print(f"| {label} | {fmt.format(before[key])} | {fmt.format(after[key])} |")
    diff = np.max(np.abs(np.array(before["p"]) - np.array(after["p"])))
    same = before["p"] == after["p"]
    print(f"\nlargest |p_rounded before - after| over the {after['n_calls']} calls: {diff:.2e} "
          f"({'bit-identical' if same else 'NOT bit-identical'})")


if __name__ == "__main__":
    main()
