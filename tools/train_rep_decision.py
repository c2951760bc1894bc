"""Train the rep-vs-not-a-rep model (models/rep_decision.json) on SYNTHETIC gym sessions.

    python tools/train_rep_decision.py [--lifters 96] [--out models/rep_decision.json]

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
are collected (pass 1). A gradient-boosted tree ensemble (scikit-learn
``GradientBoostingClassifier``) per verdict is cross-validated grouped by lifter
(``GroupKFold``), then fit on all rows.

The look-back verdict (a candidate decided not a rep, taken back when the next one is a
rep: the first reps of a set that looked like bends on their own) learns from the
mistakes of a model on lifters it was not trained on: each lifter's sessions run once
more (pass 2) with the early and final verdicts of a model fitted on the pass-1 rows of
the other folds' lifters (:func:`students`) deciding, and every candidate it turned down
just before a rep (or a true rep) is a look-back row, labelled by the truth. Everything
is written as JSON numbers with a manifest (SYNTHETIC, the data, the features, the
cross-validated figures, the versions, this command). The benchmark
(``benchmarks/bench_gym.py``) uses other lifters and seeds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
from pathlib import Path

import numpy as np

from imu.pipeline.rep_decision import (
    EARLY_FEATURES,
    FINAL_FEATURES,
    LOOK_BACK_FEATURES,
    MODEL_FORMAT,
    TreeEnsemble,
    look_back_features,
)
from imu.sim.matching import iou

COMMAND = "python tools/train_rep_decision.py"
KINDS = ("early", "final")
F1_TIE = 0.001
"""Out-of-fold F1 differences smaller than this do not choose a threshold: on 17,000
candidates the F1 from 0.45 to 0.65 varies by ~0.0002, and a threshold picked from that
noise (0.65) rejected a clear rep at p = 0.51 (tests/test_pipeline_acconly.py)."""
OUT = Path(__file__).resolve().parents[1] / "models" / "rep_decision.json"
"""The checkout's model file (not an installed copy's: this tool lives in the checkout)."""

TRAIN_LIFTER_SEED = 1000
"""``make_lifter(i, seed=...)`` of the training lifters (the benchmark uses others)."""
REALISTIC_SEED = 200_000
"""Seeds of the training's ``realistic_set`` recordings start here."""


class Teacher:
    """A decision that keeps every call's features labelled by the truth, and answers with
    the truth (``student`` None: the context later candidates see is a perfect
    decision's) or with the verdicts of ``student`` (a :class:`DecisionModel`: the
    context is the one the model makes for itself at run time, its own mistakes
    included)."""

    def __init__(self, truth_spans: list[tuple[float, float]], student=None) -> None:
        self.spans = truth_spans
        self.student = student
        self.early_rows: list[dict] = []
        self.final_rows: list[dict] = []

    def label(self, features: dict) -> bool:
        span = (features["_start_s"], features["_end_s"])
        return any(iou(span, s) >= 0.5 for s in self.spans)

    def early(self, features: dict) -> tuple[float, bool]:
        label = self.label(features)
        self.early_rows.append({**features, "_label": label})
        return self.student.early(features) if self.student else (float(label), label)

    def final(self, features: dict) -> tuple[float, bool]:
        label = self.label(features)
        if self.student is None:
            self.final_rows.append({**features, "_label": label})
            return float(label), label
        p, verdict = self.student.final(features)
        self.final_rows.append({**features, "_label": label, "_p": p, "_verdict": verdict})
        return p, verdict


def session_rows(
    script, seed: int, acc_only: bool = False, cut: bool = True, student=None
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
    return result_rows(result, acc_only, student)


def result_rows(result, acc_only: bool, student=None) -> tuple[list[dict], list[dict]]:
    """(early rows, final rows) of a simulated recording run with the :class:`Teacher`
    (answering with ``student``'s verdicts when given)."""
    from imu.pipeline import analyze_session
    from imu.session import GYR

    if acc_only:
        result.session.data[list(GYR)] = np.nan
    truth = result.truth_reps
    teacher = Teacher(list(zip(truth.start_s, truth.end_s, strict=True)), student)
    analyze_session(result.session, decision=teacher)
    return teacher.early_rows, teacher.final_rows


def lifter_rows(
    lifter_index: int, lifter_seed: int, session_seed: int, student=None
) -> tuple[list, list]:
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

    def add(rows: tuple[list[dict], list[dict]]) -> None:
        number = {"_session": len({r["_session"] for r in final})}  # one run of the engine
        early.extend({**r, **number} for r in rows[0])
        final.extend({**r, **number} for r in rows[1])

    for script, seed, cut in sessions:
        add(session_rows(script, seed, acc_only, cut, student))
    if not acc_only:  # every lifter's demo sessions also without the gyroscope
        for script, seed, cut in sessions[3:]:
            add(session_rows(script, seed, True, cut, student))
    for k in range(3):  # seeds far from bench_realistic's (development 0-199, held out 1000+)
        add(result_rows(realistic_set(REALISTIC_SEED + 3 * base + k)[0], acc_only, student))
    return early, final


def collect(
    n_lifters: int, lifter_seed: int, session_seed: int, students: list | None = None
) -> dict[str, list[dict]]:
    """Early and final rows of ``n_lifters`` lifters (``_lifter`` = the group), the
    context made by the truth (``_pass`` 1) or by the verdicts of ``students[i]`` for
    lifter i (``_pass`` 2)."""
    rows: dict[str, list[dict]] = {"early": [], "final": []}
    number = 1 if students is None else 2
    for i in range(n_lifters):
        student = students[i] if students else None
        early, final = lifter_rows(i, lifter_seed, session_seed, student)
        rows["early"] += [{**r, "_lifter": i, "_pass": number} for r in early]
        rows["final"] += [{**r, "_lifter": i, "_pass": number} for r in final]
        print(f"pass {number}, lifter {i + 1}/{n_lifters}: {len(rows['final'])} candidates",
              file=sys.stderr)  # fmt: skip
    return rows


FINAL_SIZE = {"n_estimators": 400, "max_depth": 4}
"""The shipped final verdict's ensemble: twice the trees of the others, one level deeper.
On the development lifters (bench_gym's seeds 77-81, 776 sets of mixed gym hours) its
exact sets went 96.9 -> 98.1 % against 200 trees of depth 3 fitted on the same rows; the
students (pass 2) and the other verdicts keep the smaller size."""


def _estimator(kind: str = ""):
    from sklearn.ensemble import GradientBoostingClassifier

    size = FINAL_SIZE if kind == "final" else {"n_estimators": 200, "max_depth": 3}
    return GradientBoostingClassifier(**size, learning_rate=0.1, subsample=0.8, random_state=0)


def cross_validate(x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str = "") -> dict:
    """Out-of-fold probabilities grouped by lifter; the threshold with the best F1 on them
    (0.30-0.80 in steps of 0.05: the operating point; of those within :data:`F1_TIE` of
    the best, the nearest 0.5), and precision, recall, F1 and
    balanced accuracy at it (an operating point chosen on the same folds: slightly
    optimistic; the held-out benchmark is not)."""
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=min(5, len(set(groups)))).split(x, y, groups):
        p[test] = _estimator(kind).fit(x[train], y[train]).predict_proba(x[test])[:, 1]

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

    grid = [scores(t) for t in np.arange(0.30, 0.801, 0.05)]
    top = max(r["f1"] for r in grid)  # a flat top does not move it off the middle, 0.5
    best = min(
        (r for r in grid if r["f1"] >= top - F1_TIE), key=lambda r: abs(r["threshold"] - 0.5)
    )
    return {
        "folds": "GroupKFold by simulated lifter",
        "n_candidates": len(y),
        "n_reps": int(y.sum()),
        "at_0.5": scores(0.5),
        **best,
    }


def _xy(table: list[dict], names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(features in ``names`` order, labels) of collected rows."""
    x = np.array([[r[name] for name in names] for r in table], dtype=np.float64)
    return x, np.array([r["_label"] for r in table], dtype=bool)


def students(rows: dict[str, list[dict]], n_lifters: int) -> list:
    """Per lifter, a model fitted on the pass-1 rows of the lifters outside its fold
    (``GroupKFold``, 5 folds; deciding at p >= 0.5): the verdicts a shipped model gives a
    lifter it was not trained on, mistakes included, are the context pass 2 collects."""
    from sklearn.model_selection import GroupKFold

    from imu.pipeline.rep_decision import DecisionModel

    lifters = np.arange(n_lifters)
    out: list = [None] * n_lifters
    folds = GroupKFold(n_splits=min(5, n_lifters)).split(lifters, groups=lifters)
    for train, test in folds:
        inside = set(lifters[train].tolist())
        spec: dict = {"format": MODEL_FORMAT}
        for kind, names in (("early", EARLY_FEATURES), ("final", FINAL_FEATURES)):
            table = [r for r in rows[kind] if r["_lifter"] in inside]
            x, y = _xy(table, names)
            spec[kind] = export(_estimator().fit(x, y), names, x)
        for i in test:
            out[int(i)] = DecisionModel(spec)
    return out


def fit_table(table: list[dict], names: tuple[str, ...], kind: str):
    """(ensemble of ``table``'s rows as JSON numbers, its cross-validated figures); the
    threshold is the figures' operating point."""
    x, y = _xy(table, names)
    groups = np.array([r["_lifter"] for r in table])
    figures = cross_validate(x, y, groups, kind)
    print(kind, figures, file=sys.stderr)
    fitted = _estimator(kind).fit(x, y)
    spec = {**export(fitted, names, x), "threshold": figures["threshold"]}
    trees = TreeEnsemble(spec, names)
    mine = np.array([trees.p_rep(dict(zip(names, row, strict=True))) for row in x])
    worst = float(np.max(np.abs(mine - fitted.predict_proba(x)[:, 1])))
    if worst > 1e-9:
        raise SystemExit(f"exported {kind} model differs from scikit-learn by {worst}")
    return spec, figures


def look_back_rows(final_rows: list[dict]) -> list[dict]:
    """The look-back's rows from the pass-2 final rows: each candidate the student decided
    not a rep, followed (in the same run of the engine) by one it decided a rep or that
    is a rep (the look-back goes on to earlier ones while it takes them), labelled by the
    truth of the first."""
    out = []
    for c, n in itertools.pairwise(final_rows):
        same_run = (c["_lifter"], c["_session"]) == (n["_lifter"], n["_session"])
        if same_run and not c["_verdict"] and (n["_verdict"] or n["_label"]):
            features = look_back_features(c, c["_p"], n, n["_p"])
            out.append({**features, "_label": c["_label"], "_lifter": c["_lifter"]})
    return out


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
    parser.add_argument("--lifters", type=int, default=96, help="simulated lifters (default 96)")
    parser.add_argument(
        "--lifter-seed",
        type=int,
        default=TRAIN_LIFTER_SEED,
        help=f"make_lifter(i, seed=...) of the lifters (default {TRAIN_LIFTER_SEED}; "
        "benchmarks/bench_gym.py holds out 2026)",
    )
    parser.add_argument(
        "--session-seed",
        type=int,
        default=3000,
        help="seed of lifter i's sessions: this + 10 i (default 3000)",
    )
    parser.add_argument("--out", default=str(OUT), help=f"model file (default {OUT})")
    parser.add_argument(
        "--rows",
        help="a JSON file of collected rows (both passes): read if it exists (collected with"
        " the same --lifters and seeds), else written",
    )
    args = parser.parse_args(argv)
    if args.lifters < 2:
        parser.error("--lifters: at least 2 (the cross-validation is grouped by lifter)")
    collected_with = {"lifters": args.lifters, "lifter_seed": args.lifter_seed,
                      "session_seed": args.session_seed, "passes": 2}  # fmt: skip
    if args.rows and Path(args.rows).exists():
        rows = json.loads(Path(args.rows).read_text(encoding="utf-8"))
        if rows.get("collected_with") != collected_with:  # the manifest says
            raise SystemExit(f"{args.rows} was collected with {rows.get('collected_with')}")
    else:
        rows = collect(args.lifters, args.lifter_seed, args.session_seed)
        second = collect(args.lifters, args.lifter_seed, args.session_seed,
                         students(rows, args.lifters))  # fmt: skip
        rows = {k: rows[k] + second[k] for k in KINDS}
        if args.rows:
            rows_file = {**rows, "collected_with": collected_with}
            Path(args.rows).write_text(json.dumps(rows_file), encoding="utf-8")
    spec: dict = {"format": MODEL_FORMAT}
    figures: dict = {}
    for kind, names in (("early", EARLY_FEATURES), ("final", FINAL_FEATURES)):
        table = [r for r in rows[kind] if r["_pass"] == 1]
        spec[kind], figures[kind] = fit_table(table, names, kind)
    table = look_back_rows([r for r in rows["final"] if r["_pass"] == 2])
    spec["look_back"], figures["look_back"] = fit_table(table, LOOK_BACK_FEATURES, "look_back")
    spec["manifest"] = {
        "synthetic": True,
        "trained_on": "SYNTHETIC data only (imu.sim, no real recording): "
        f"{args.lifters} simulated lifters (make_lifter(i, seed={args.lifter_seed})), each a"
        " mixed gym session (30 min), a singles day (20 min), a non-lifting stretch (12 min),"
        " a 3-set and a 4-set demo session and three single sets cut to the set"
        " (realistic_set); 25-200 Hz, sensor parts of imu.sim.sensor.PARTS with BLE timing,"
        " random mounting, half of the gym sessions cut to start 10-120 s in; every fourth"
        " lifter's sessions analysed without the gyroscope, the others' demo sessions"
        " with and without it. Early and final verdicts: pass 1, the truth deciding (the"
        " context of a perfect decision). Look-back: pass 2, the same sessions decided by"
        " models fitted on the pass-1 rows of the other folds' lifters (their mistakes on"
        " lifters they were not trained on)",
        "labels": "candidate excursions overlapping a true rep with IoU >= 0.5",
        "regenerate": f"{COMMAND} --lifters {args.lifters} --lifter-seed {args.lifter_seed}"
        f" --session-seed {args.session_seed}",
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__},
        "estimator": "GradientBoostingClassifier(n_estimators=200, max_depth=3, "
        "learning_rate=0.1, subsample=0.8, random_state=0); the final verdict's "
        "n_estimators=400, max_depth=4",
        **{f"cv_{kind}": figures[kind] for kind in (*KINDS, "look_back")},
    }  # fmt: skip
    Path(args.out).write_text(json.dumps(spec, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
