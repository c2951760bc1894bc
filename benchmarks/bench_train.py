"""What BLAS threads cost ``imu train``: one BLAS thread (imu's default while fitting,
:mod:`imu.model.training`) against as many as the machine has cores (the BLAS library's own
default, what ``imu train`` used before), side by side in one run (SYNTHETIC data).

    python benchmarks/bench_train.py [--rounds N] [--threads T] [--only scratch|personalise]

Both commands run on the bundled SYNTHETIC datasets (``datasets/README.md`` says how they
are regenerated), as whole ``python -m imu train`` processes:

* ``scratch``: ``imu train datasets/labels.csv -o T.skops --target-sensitivity 0.97`` (the
  shipped model's command: 40 lifters, 783 spans, nested cross-validation);
* ``personalise``: ``imu train --personalize default datasets/demo/labels.csv -o M.skops``
  (README's "teach it your reps").

Each round runs the two settings back to back, alternating which goes first; "T threads"
sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` to ``--threads``
(default: the cores this process may use), which imu then leaves alone. Printed: wall and
CPU time per run, the best of each, their ratio, and the model each wrote (threshold and
cross-validated figures, to the last digit: BLAS sums in another order with more threads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
COMMANDS = {
    "scratch": ["datasets/labels.csv", "--target-sensitivity", "0.97"],
    "personalise": ["--personalize", "default", "datasets/demo/labels.csv"],
}


def run(args: list[str], threads: int | None, out: Path) -> tuple[float, float, dict]:
    """Wall s, CPU s (user + system of the child) and the ``--json`` result of one train."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    if threads is not None:
        env.update({name: str(threads) for name in BLAS_ENV})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "imu", "train", *args, "-o", str(out),
                           "--force", "--quiet", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, json.loads(done.stdout)


def model_figures(result: dict) -> tuple:
    cv = result["cv"]
    return (result["threshold"], cv.get("balanced_accuracy"), cv.get("roc_auc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--only", choices=list(COMMANDS), default=None)
    options = parser.parse_args()
    settings = {"1 BLAS thread (imu's default)": None,
                f"{options.threads} BLAS threads (before)": options.threads}
    print(f"imu train, whole processes, {len(os.sched_getaffinity(0))} cores, "
          f"{options.rounds} round(s); SYNTHETIC datasets/")
    with tempfile.TemporaryDirectory() as scratch:
        for name, args in COMMANDS.items():
            if options.only and name != options.only:
                continue
            times: dict[str, list[tuple[float, float]]] = {label: [] for label in settings}
            figures: dict[str, set] = {label: set() for label in settings}
            for round_ in range(options.rounds):
                order = list(settings.items())
                if round_ % 2:
                    order.reverse()
                for label, threads in order:
                    wall, cpu, result = run(args, threads, Path(scratch) / "m.skops")
                    times[label].append((wall, cpu))
                    figures[label].add(model_figures(result))
                    print(f"  {name:<11} {label:<30} wall {wall:6.1f} s  CPU {cpu:6.1f} s",
                          flush=True)
            best = {label: min(t[0] for t in runs) for label, runs in times.items()}
            one, many = best.values()
            print(f"{name}: best wall {one:.1f} s (1 thread) vs {many:.1f} s "
                  f"({options.threads} threads): {many / one:.2f}x")
            for label, seen in figures.items():  # BLAS sums in another order: last bits
                print(f"  {label}: threshold, CV balanced accuracy, ROC AUC = "
                      + "; ".join(", ".join(f"{v:.17g}" for v in f) for f in sorted(seen)))


if __name__ == "__main__":
    main()
