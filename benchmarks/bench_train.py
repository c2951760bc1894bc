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

    python benchmarks/bench_train.py --spans [--lifters N] [--sets K] [--first-seed S]

measures instead how many labelled spans ``imu train`` uses on recordings cut to the set
(``SPANS_DOC`` below says how).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
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
    parser.add_argument("--spans", action="store_true", help=SPANS_DOC.splitlines()[0])
    parser.add_argument("--lifters", type=int, default=8, help="--spans: lifters (default 8)")
    parser.add_argument("--sets", type=int, default=3, help="--spans: sets per lifter")
    parser.add_argument("--first-seed", type=int, default=5000, help="--spans: held out")
    parser.add_argument("--verbose", action="store_true", help="--spans: print the warnings")
    parser.add_argument("--kind", choices=SPAN_KINDS, help="--spans: only this row")
    options = parser.parse_args()
    if options.spans:
        spans(options)
        return
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


# ---- --spans: how many labelled spans `imu train` uses on recordings cut to the set ----

SPANS_DOC = """\
--spans: labelled spans used by ``imu train`` on realistic recordings (issue 12's goal
"imu train uses >= 95 % of labelled spans"), and grouped-by-subject CV beside clean ones.

N lifters (``imu.sim.make_lifter(i, seed=FIRST_SEED)``; held-out seeds, 5000 on by
default), K SYNTHETIC recordings each, per row (:data:`SPAN_KINDS`):

* clean: the simulator's sessions (standing start, walking, plates, one set);
* cut to the set: ``imu.sim.recording.realistic_set(seed, lifter=...)``, one set per
  file starting 0-1 s before the first rep or mid-rep (no standing start), a data-sheet
  part's noise at 25-200 Hz, BLE time stamps with up to 30 % lost in bursts;
* single bends: the same recordings of one rep each, with a standing start (trials);
* bend trials: ``imu.sim.recording.bend_trial(seed, lifter=...)``, the issue's laboratory
  trials: 12 s, an ADXL345 + ITG-3200 board at 200 Hz (offsets up to +-40 deg/s), a
  standing start, one slow stoop bend or one squat.

Each row's labels file holds the true reps wholly inside each file (``rounded`` or
``good``, subject = lifter). It goes through ``imu.model.workflow.load_training_data``
(what ``imu train``/``imu evaluate`` run) and ``imu.model.training.cross_validate``
(nested CV grouped by subject, as ``imu train``: each lifter scored by a model that
never saw them). Printed: spans used / labelled, why the others were left out, used
spans whose measured peak flexion is off the truth by more than 10 deg (a wrong
calibration), balanced accuracy, sensitivity, specificity and ROC AUC (unseen lifter),
and the default model on the same spans (``imu evaluate``'s figure)."""


def _spans_sets(kind: str, lifters: list, sets: int, first_seed: int, folder: Path) -> Path:
    """Write ``kind`` (:data:`SPAN_KINDS`) recordings of ``lifters`` and their labels file
    (with the true peak flexion of each rep beside its label: the largest of the true
    angles in its span; a squat's ``peak_flexion_deg`` is its depth before a forward
    lean's rise)."""
    import pandas as pd

    from imu.sim import demo_session, simulate, synthetic_lines, write_result
    from imu.sim.recording import bend_trial, realistic_set

    labels = []
    for i, lifter in enumerate(lifters):
        for k in range(sets):
            seed = first_seed + i * sets + k
            name = f"{lifter.name}_set{k + 1}"
            if kind == "cut to the set":
                result, _ = realistic_set(seed, lifter=lifter)
            elif kind == "single bends":
                result, _ = realistic_set(seed, lifter=lifter, start="standing", n_reps=(1, 1))
            elif kind == "bend trials":
                result, _ = bend_trial(seed, lifter=lifter)
            else:
                script = demo_session(lifter, seed, n_sets=1, rest_s=(20.0, 40.0), name=name)
                result = simulate(script, seed=seed, mounting="random")
            paths = write_result(result, folder, name, force=True)
            truth = result.truth_angles
            labels += [{"session": paths[0].name, "start_s": f"{r.start_s:.6f}",
                        "end_s": f"{r.end_s:.6f}", "label": "rounded" if r.rounded else "good",
                        "subject": lifter.name,
                        "true_peak_flexion_deg": truth["flexion_deg"][
                            truth["time_s"].between(r.start_s, r.end_s)].max()}
                       for r in result.truth_reps.itertuples()]
    path = folder / "labels.csv"
    text = pd.DataFrame(labels).to_csv(index=False, lineterminator="\n")
    path.write_text(synthetic_lines(f"python {shlex.join(sys.argv)}") + text)
    return path


SPAN_KINDS = ("clean", "cut to the set", "single bends", "bend trials")
"""clean: a standing start, walking, plates, one set (``demo_session``); cut to the set:
``realistic_set`` (0-1 s before the first rep or mid-rep); single bends: one rep per
recording, ``realistic_set`` with a standing start (trials of one bend); bend trials:
``bend_trial`` (12 s laboratory trials of one slow stoop or one squat at 200 Hz)."""
PEAK_TOLERANCE_DEG = 10.0


def spans(options: argparse.Namespace) -> None:
    import numpy as np

    from imu.model.files import load_model
    from imu.model.training import cross_validate, operating_point
    from imu.model.workflow import load_training_data
    from imu.sim import make_lifter

    lifters = [make_lifter(i, seed=options.first_seed) for i in range(options.lifters)]
    model = load_model()
    print(f"SYNTHETIC: {options.lifters} lifters x {options.sets} recordings per row, seeds "
          f"from {options.first_seed}; regenerate: python {shlex.join(sys.argv)}")
    print("| recordings (SYNTHETIC) | spans used / labelled | left out: why | used spans with "
          f"peak flexion off by > {PEAK_TOLERANCE_DEG:g} deg | CV by subject: bal. acc. | sens. "
          "| spec. | ROC AUC | default model: bal. acc. | seconds |")
    print("|---" * 10 + "|")
    with tempfile.TemporaryDirectory() as scratch:
        for number, kind in enumerate(SPAN_KINDS):
            if options.kind and kind != options.kind:
                continue
            folder = Path(scratch) / str(number)
            start = time.perf_counter()
            labels = _spans_sets(kind, lifters, options.sets, options.first_seed, folder)
            data = load_training_data([str(labels)], {}, show_progress=False)
            n_labelled = len(data.data.labels) + sum(map(len, data.data.left_out.values()))
            why = "; ".join(f"{len(v)} {reason}" for reason, v in data.data.left_out.items())
            measured = np.array([r["peak_flexion_deg"] for r in data.data.records])
            truth = data.data.labels["true_peak_flexion_deg"].astype(float).to_numpy()
            off = int(np.sum(~(np.abs(measured - truth) <= PEAK_TOLERANCE_DEG)))
            cv = cross_validate(data.data.rows, data.y, data.groups).metrics
            default = operating_point(data.y, model.probability(data.data.rows),
                                      model.threshold)
            seconds = time.perf_counter() - start
            used = len(data.y)
            print(f"| {kind} ({len(np.unique(data.groups))} lifters, "
                  f"{int(data.y.sum())} rounded) | {used}/{n_labelled} "
                  f"({used / n_labelled:.1%}) | {why or '-'} | {off} | "
                  f"{cv['balanced_accuracy']:.3f} | {cv['sensitivity']:.3f} | "
                  f"{cv['specificity']:.3f} | {cv['roc_auc']:.3f} | "
                  f"{default['balanced_accuracy']:.3f} | {seconds:.0f} |", flush=True)
            if options.verbose:
                for message in data.data.warnings:
                    print(f"  warning: {message}")
                paths = data.data.labels["session_path"].to_numpy()
                for path in dict.fromkeys(paths[~(np.abs(measured - truth) <= PEAK_TOLERANCE_DEG)]):
                    mine = paths == path
                    print(f"  peak flexion off: {Path(path).name}: measured - true "
                          f"{np.round(measured[mine] - truth[mine], 1).tolist()} deg")
    print("goal (issue 12): imu train uses >= 95 % of labelled spans of recordings without "
          "a standing start")


if __name__ == "__main__":
    main()
