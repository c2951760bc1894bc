"""Train the rep-vs-not-a-rep model (models/rep_decision.json) on SYNTHETIC gym sessions.

    python tools/train_rep_decision.py [--lifters 48] [--out models/rep_decision.json]

Training tooling, not part of the runtime package (it needs scikit-learn and imports the
simulator). Each simulated lifter (``make_lifter(i, seed=TRAIN_LIFTER_SEED)``) does a mixed
gym session, a singles day, a non-lifting stretch and two clean demo sessions
(:mod:`imu.sim.gym`, :func:`imu.sim.demo_session`), plus three single sets recorded as
people do (:func:`imu.sim.recording.realistic_set`: cut to the set, starting just before
or inside the first rep). Each session draws its recording (:func:`imu.sim.gym.recording_variety`):
25-200 Hz, a part from :data:`imu.sim.sensor.PARTS` with BLE timing, and half of the
sessions are cut to start 10-120 s in (mid-activity, no still stance) and to end
anywhere in their last 2 minutes; every fourth lifter's sessions are analysed without the
gyroscope (accelerometer-only mode), and the other lifters' demo sessions once more
without it. The engine runs on each with a *teacher* as its
decision: every candidate excursion is labelled by the simulator's truth (a rep when its
span overlaps a true rep with IoU >= 0.5), so the context features later candidates see
are those a perfect decision would give, and the features of every early and final call
are collected. A gradient-boosted tree ensemble (scikit-learn
``GradientBoostingClassifier``) is cross-validated grouped by lifter (``GroupKFold``),
then fit on all rows and written as JSON numbers with a manifest (SYNTHETIC, the data,
the features, the cross-validated figures, the versions, this command). The benchmark
(``benchmarks/bench_gym.py``) uses other lifters and seeds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np

from imu.pipeline.rep_decision import (
    EARLY_FEATURES,
    FINAL_FEATURES,
    MODEL_FORMAT,
    TreeEnsemble,
)
from imu.sim.matching import iou

COMMAND = "python tools/train_rep_decision.py"
OUT = Path(__file__).resolve().parents[1] / "models" / "rep_decision.json"
"""The checkout's model file (not an installed copy's: this tool lives in the checkout)."""

TRAIN_LIFTER_SEED = 1000
"""``make_lifter(i, seed=...)`` of the training lifters (the benchmark uses others)."""
REALISTIC_SEED = 200_000
"""Seeds of the training's ``realistic_set`` recordings start here."""


class Teacher:
    """A decision that answers with the truth and keeps every call's features."""

    def __init__(self, truth_spans: list[tuple[float, float]]) -> None:
        self.spans = truth_spans
        self.early_rows: list[dict] = []
        self.final_rows: list[dict] = []

    def label(self, features: dict) -> bool:
        span = (features["_start_s"], features["_end_s"])
        return any(iou(span, s) >= 0.5 for s in self.spans)

    def early(self, features: dict) -> tuple[float, bool]:
        label = self.label(features)
        self.early_rows.append({**features, "_label": label})
        return float(label), label

    def final(self, features: dict) -> tuple[float, bool]:
        label = self.label(features)
        self.final_rows.append({**features, "_label": label})
        return float(label), label


def session_rows(
    script, seed: int, acc_only: bool = False, cut: bool = True
) -> tuple[list[dict], list[dict]]:
    """(early rows, final rows) of one simulated session recorded as
    :func:`imu.sim.gym.recording_variety` draws and run with the :class:`Teacher` (``acc_only``: its
    gyroscope columns emptied, as a Polar H10 records)."""
    from imu.sim import simulate
    from imu.sim.gym import recording_variety
    from imu.sim.recording import cut as cut_result

    rate, sensor, span = recording_variety(seed)
    result = simulate(script, sampling_rate_hz=rate, mounting="random", sensor=sensor, seed=seed)
    if span is not None and cut:
        time_s = result.session.data["time_s"]
        result = cut_result(result, time_s.iloc[0] + span[0], time_s.iloc[-1] - span[1])
    return result_rows(result, acc_only)


def result_rows(result, acc_only: bool) -> tuple[list[dict], list[dict]]:
    """(early rows, final rows) of a simulated recording run with the :class:`Teacher`."""
    from imu.pipeline import analyze_session
    from imu.session import GYR

    if acc_only:
        result.session.data[list(GYR)] = np.nan
    truth = result.truth_reps
    teacher = Teacher(list(zip(truth.start_s, truth.end_s, strict=True)))
    analyze_session(result.session, decision=teacher)
    return teacher.early_rows, teacher.final_rows


def lifter_rows(lifter_index: int, lifter_seed: int, session_seed: int) -> tuple[list, list]:
    """Early and final rows of every session of one simulated lifter; every fourth
    lifter's sessions are analysed without their gyroscope (no twist), the other lifters'
    demo sessions both with and without it."""
    from imu.sim import demo_session, make_lifter
    from imu.sim.gym import gym_session, non_lifting_session, singles_session
    from imu.sim.recording import realistic_set

    lifter = make_lifter(lifter_index, seed=lifter_seed)
    base = session_seed + 10 * lifter_index
    acc_only = lifter_index % 4 == 3
    sessions = [
        (gym_session(lifter, base, minutes=30), base, True),
        (singles_session(lifter, base + 1, minutes=20), base + 1, True),
        (non_lifting_session(lifter, base + 2, minutes=12), base + 2, True),
        (demo_session(lifter, base + 3, n_sets=3), base + 3, False),
        (demo_session(lifter, base + 4, n_sets=4), base + 4, False),
    ]
    early: list[dict] = []
    final: list[dict] = []
    for script, seed, cut in sessions:
        e, f = session_rows(script, seed, acc_only, cut)
        early, final = early + e, final + f
    if not acc_only:  # every lifter's demo sessions also without the gyroscope
        for script, seed, cut in sessions[3:]:
            e, f = session_rows(script, seed, True, cut)
            early, final = early + e, final + f
    for k in range(3):  # seeds far from bench_realistic's (development 0-199, held out 1000+)
        e, f = result_rows(realistic_set(REALISTIC_SEED + 3 * base + k)[0], acc_only)
        early, final = early + e, final + f
    return early, final


def collect(n_lifters: int, lifter_seed: int, session_seed: int) -> dict[str, list[dict]]:
    """Early and final rows of ``n_lifters`` lifters (``_lifter`` = the group)."""
    rows: dict[str, list[dict]] = {"early": [], "final": []}
    for i in range(n_lifters):
        early, final = lifter_rows(i, lifter_seed, session_seed)
        rows["early"] += [{**r, "_lifter": i} for r in early]
        rows["final"] += [{**r, "_lifter": i} for r in final]
        print(f"lifter {i + 1}/{n_lifters}: {len(rows['final'])} candidates", file=sys.stderr)
    return rows


def _estimator():
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(
        n_estimators=200, max_depth=3, learning_rate=0.1, subsample=0.8, random_state=0
    )


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict:
    """Out-of-fold probabilities grouped by lifter; the threshold with the best F1 on them
    (0.30-0.80 in steps of 0.05: the operating point), and precision, recall, F1 and
    balanced accuracy at it (an operating point chosen on the same folds: slightly
    optimistic; the held-out benchmark is not)."""
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(5, len(set(groups)))).split(x, y, groups):
        p[test] = _estimator().fit(x[train], y[train]).predict_proba(x[test])[:, 1]

    def scores(threshold: float) -> dict:
        predicted = p >= threshold
        tp = int((predicted & y).sum())
        precision = tp / max(int(predicted.sum()), 1)
        recall = tp / max(int(y.sum()), 1)
        specificity = float((~predicted & ~y).sum() / max(int((~y).sum()), 1))
        return {
            "threshold": round(threshold, 2),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
            "balanced_accuracy": round((recall + specificity) / 2, 4),
            "non_reps_taken_for_reps": int((predicted & ~y).sum()),
        }

    best = max((scores(t) for t in np.arange(0.30, 0.801, 0.05)), key=lambda r: r["f1"])
    return {
        "folds": "GroupKFold by simulated lifter",
        "n_candidates": len(y),
        "n_reps": int(y.sum()),
        "at_0.5": scores(0.5),
        **best,
    }


def export(model, names: tuple[str, ...], x: np.ndarray) -> dict:
    """The fitted ensemble as numbers (checked against ``predict_proba`` on ``x``)."""
    trees = []
    for estimator in model.estimators_[:, 0]:
        tree = estimator.tree_
        trees.append(
            {
                "feature": [int(f) if left >= 0 else -1 for f, left in
                            zip(tree.feature, tree.children_left, strict=True)],
                "threshold": [float(v) for v in tree.threshold],
                "left": [int(v) for v in tree.children_left],
                "right": [int(v) for v in tree.children_right],
                "value": [float(v) for v in tree.value[:, 0, 0]],
            }
        )  # fmt: skip
    raw = model.decision_function(x[:1])[0]
    steps = sum(model.learning_rate * e.predict(x[:1])[0] for e in model.estimators_[:, 0])
    return {
        "features": list(names),
        "init": float(raw - steps),
        "learning_rate": float(model.learning_rate),
        "threshold": 0.5,
        "trees": trees,
    }


def main(argv: list[str] | None = None) -> None:
    import sklearn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifters", type=int, default=48, help="simulated lifters (default 48)")
    parser.add_argument(
        "--lifter-seed", type=int, default=TRAIN_LIFTER_SEED,
        help=f"make_lifter(i, seed=...) of the lifters (default {TRAIN_LIFTER_SEED}; "
        "benchmarks/bench_gym.py holds out 2026)",
    )
    parser.add_argument(
        "--session-seed", type=int, default=3000,
        help="seed of lifter i's sessions: this + 10 i (default 3000)",
    )
    parser.add_argument("--out", default=str(OUT), help=f"model file (default {OUT})")
    parser.add_argument(
        "--rows",
        help="a JSON file of collected rows: read if it exists (collected with the same"
        " --lifters and seeds), else written",
    )
    args = parser.parse_args(argv)
    if args.lifters < 2:
        parser.error("--lifters: at least 2 (the cross-validation is grouped by lifter)")
    collected_with = {"lifters": args.lifters, "lifter_seed": args.lifter_seed,
                      "session_seed": args.session_seed}  # fmt: skip
    if args.rows and Path(args.rows).exists():
        rows = json.loads(Path(args.rows).read_text(encoding="utf-8"))
        if rows.get("collected_with", collected_with) != collected_with:  # the manifest says
            raise SystemExit(f"{args.rows} was collected with {rows['collected_with']}")
    else:
        rows = collect(args.lifters, args.lifter_seed, args.session_seed)
        if args.rows:
            rows_file = {**rows, "collected_with": collected_with}
            Path(args.rows).write_text(json.dumps(rows_file), encoding="utf-8")
    spec: dict = {"format": MODEL_FORMAT}
    manifest: dict = {
        "synthetic": True,
        "trained_on": "SYNTHETIC data only (imu.sim, no real recording): "
        f"{args.lifters} simulated lifters (make_lifter(i, seed={args.lifter_seed})), each a"
        " mixed gym session (30 min), a singles day (20 min), a non-lifting stretch (12 min),"
        " a 3-set and a 4-set demo session and three single sets cut to the set"
        " (realistic_set); 25-200 Hz, sensor parts of imu.sim.sensor.PARTS with BLE timing,"
        " random mounting, half of the gym sessions cut to start 10-120 s in; every fourth"
        " lifter's sessions analysed without the gyroscope, the others' demo sessions"
        " with and without it",
        "labels": "candidate excursions overlapping a true rep with IoU >= 0.5",
        "regenerate": f"{COMMAND} --lifters {args.lifters} --lifter-seed {args.lifter_seed}"
        f" --session-seed {args.session_seed}",
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
        "estimator": "GradientBoostingClassifier(n_estimators=200, max_depth=3, "
        "learning_rate=0.1, subsample=0.8, random_state=0)",
    }  # fmt: skip
    for kind, names in (("early", EARLY_FEATURES), ("final", FINAL_FEATURES)):
        table = rows[kind]
        x = np.array([[r[name] for name in names] for r in table], dtype=np.float64)
        y = np.array([r["_label"] for r in table], dtype=bool)
        groups = np.array([r["_lifter"] for r in table])
        manifest[f"cv_{kind}"] = cross_validate(x, y, groups)
        print(kind, manifest[f"cv_{kind}"], file=sys.stderr)
        fitted = _estimator().fit(x, y)
        spec[kind] = export(fitted, names, x)
        spec[kind]["threshold"] = manifest[f"cv_{kind}"]["threshold"]
        trees = TreeEnsemble(spec[kind], names)
        mine = np.array([trees.p_rep(dict(zip(names, row, strict=True))) for row in x])
        worst = float(np.max(np.abs(mine - fitted.predict_proba(x)[:, 1])))
        if worst > 1e-9:
            raise SystemExit(f"exported {kind} model differs from scikit-learn by {worst}")
    spec["manifest"] = manifest
    Path(args.out).write_text(json.dumps(spec, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
