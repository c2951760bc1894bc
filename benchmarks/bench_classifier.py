"""Rounded-back classifier on simulated lifters never seen in training (SYNTHETIC data).

    python benchmarks/bench_classifier.py [--model MODEL] [--lifters N] [--json OUT.json]

Every session is generated here by ``imu.sim`` (lifters L41 onwards, seed 777; the
default model was trained on L01-L10 of ``datasets/``, seed 2026), written to a temporary
folder with a labels CSV of the true rep spans, and measured through exactly the path of
``imu evaluate`` (importer -> streaming engine -> span records -> model). Cohorts:

* ``unseen``: ``--lifters`` lifters at 25/50/100/200 Hz in turn, random mounting;
* ``irregular``: host timestamps with 8 ms jitter, 0.2 % BLE-like dropped bursts, 300 ppm
  clock error;
* ``no_still``: sessions that start without a standing-still moment (calibration falls
  back, see docs/calibration.md);
* ``personalisation``: lifters with two sessions: the model is personalised on their
  first session's labelled reps (``imu train --personalize``) and both models are scored
  on the second session.

Figures: balanced accuracy, sensitivity, specificity per cohort, per sampling rate and
per mounting; and the value of the baseline (each rep scored with and without the
session's earlier reps as history).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from imu.model import load_model
from imu.model.dataset import labelled_rows
from imu.model.features import RAW_FEATURES
from imu.model.labels import read_labels
from imu.model.personalize import personalize
from imu.model.training import scores
from imu.sim import SensorModel, SessionScript, demo_session, make_lifter, simulate, write_result

SEED = 777
FIRST_LIFTER = 40  # index 40 = L41: outside the L01-L11 of datasets/
RATES_HZ = (25.0, 50.0, 100.0, 200.0)


def make_session(folder: Path, index: int, session: int, rate_hz: float, *,
                 sensor: SensorModel | None = None, still: bool = True) -> dict:
    """Simulate one session of lifter ``index``; return its labels rows and conditions."""
    lifter = make_lifter(index, SEED)
    seed = int(np.random.SeedSequence([SEED, index, session]).generate_state(1)[0])
    script = demo_session(lifter, seed, n_sets=4, rest_s=(15.0, 30.0),
                          name=f"{lifter.name}_s{session}")
    if not still:  # drop the calibration stance: the session starts with walking
        script = SessionScript(script.lifter, script.activities[1:], script.clock_origin_s,
                               script.name)
    result = simulate(script, sampling_rate_hz=rate_hz, mounting="random", sensor=sensor,
                      seed=seed, generator="benchmarks/bench_classifier.py")
    name = f"{script.name}_{int(rate_hz)}hz" + ("" if still else "_nostill")
    path = write_result(result, folder, name, force=True)[0]
    rows = [{"session": path.name, "start_s": r.start_s, "end_s": r.end_s,
             "label": "rounded" if r.rounded else "good", "subject": r.lifter}
            for r in result.truth_reps.itertuples()]
    return {"rows": rows, "rate_hz": rate_hz, "mounting": result.mounting, "name": name}


def measure(folder: Path, sessions: list[dict], tag: str):
    """Labels CSV of the sessions' true reps -> model rows (the `imu evaluate` path)."""
    labels = folder / f"labels_{tag}.csv"
    pd.DataFrame([r for s in sessions for r in s["rows"]]).to_csv(labels, index=False)
    data = labelled_rows(read_labels(labels))
    by_name = {s["name"]: s for s in sessions}
    names = [Path(p).name.split(".")[0] for p in data.labels["session"]]
    conditions = pd.DataFrame({"rate_hz": [by_name[n]["rate_hz"] for n in names],
                               "mounting": [by_name[n]["mounting"] for n in names],
                               "subject": data.labels["subject"].to_numpy()})
    y = (data.labels["label"] == "rounded").to_numpy().astype(int)
    return data, y, conditions


def figures(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    m = scores(y, p, p >= threshold)
    return {k: m[k] for k in ("balanced_accuracy", "sensitivity", "specificity", "roc_auc",
                              "n_spans", "n_positive")}


def line(name: str, m: dict) -> str:
    def f(v):
        return "  n/a" if v is None else f"{v:5.3f}"

    return (f"  {name:<28} bal.acc {f(m['balanced_accuracy'])}  sens {f(m['sensitivity'])}  "
            f"spec {f(m['specificity'])}  AUC {f(m['roc_auc'])}  "
            f"({m['n_spans']} reps, {m['n_positive']} rounded)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file (default: the shipped one)")
    parser.add_argument("--lifters", type=int, default=12, help="unseen lifters (default 12)")
    parser.add_argument("--json", default=None, help="also write the figures as JSON")
    args = parser.parse_args()
    model = load_model(args.model)
    out: dict = {"model": args.model or "default", "threshold": model.threshold}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"model: {args.model or 'default'} (threshold {model.threshold:.3f}); "
              "all data SYNTHETIC (imu.sim, seed 777)")

        # unseen lifters, by rate and mounting
        sessions = [make_session(folder, FIRST_LIFTER + i, 1, RATES_HZ[i % len(RATES_HZ)])
                    for i in range(args.lifters)]
        data, y, cond = measure(folder, sessions, "unseen")
        p = model.probability(data.rows)
        out["unseen"] = figures(y, p, model.threshold)
        print(f"unseen lifters ({args.lifters}):")
        print(line("all", out["unseen"]))
        out["per_rate"] = {}
        for rate in RATES_HZ:
            m = (cond["rate_hz"] == rate).to_numpy()
            out["per_rate"][f"{rate:g}"] = figures(y[m], p[m], model.threshold)
            print(line(f"{rate:g} Hz", out["per_rate"][f"{rate:g}"]))
        out["per_mounting"] = {}
        for mounting in sorted(cond["mounting"].unique()):
            m = (cond["mounting"] == mounting).to_numpy()
            out["per_mounting"][mounting] = figures(y[m], p[m], model.threshold)
            print(line(f"mounting {mounting}", out["per_mounting"][mounting]))
        # the baseline's worth: the same reps without earlier reps as history
        f = len(RAW_FEATURES)
        no_history = data.rows.copy()
        no_history[:, f:] = np.nan
        no_history[:, -1] = 0.0
        out["without_history"] = figures(y, model.probability(no_history), model.threshold)
        print(line("all, no history (prior only)", out["without_history"]))

        # irregular timestamps and no standing still
        jittery = dataclasses.replace(SensorModel(), timestamp_jitter_s=0.008,
                                      drop_probability=0.002, clock_error_ppm=300.0)
        for tag, kwargs in (("irregular", {"sensor": jittery}), ("no_still", {"still": False})):
            cohort = [make_session(folder, FIRST_LIFTER + 100 + i, 1, RATES_HZ[i % 4], **kwargs)
                      for i in range(4)]
            data_c, y_c, _ = measure(folder, cohort, tag)
            out[tag] = figures(y_c, model.probability(data_c.rows), model.threshold)
            out[tag]["warnings"] = data_c.warnings
            print(f"{tag}:")
            print(line("all", out[tag]))
            for warning in data_c.warnings:
                print(f"    note: {warning}")

        # personalisation: first session's labelled reps -> scored on the second session
        base_p, pers_p, pers_flags, ys, weights = [], [], [], [], []
        for i in range(4):
            index = FIRST_LIFTER + 200 + i
            rate = RATES_HZ[i % 4]
            first = make_session(folder, index, 1, rate)
            second = make_session(folder, index, 2, rate)
            d1, y1, _ = measure(folder, [first], f"p{i}a")
            d2, y2, _ = measure(folder, [second], f"p{i}b")
            if len(np.unique(y1)) < 2:
                print(f"  ({first['name']}: no rounded reps in session 1, skipped)")
                continue
            fit, info = personalize(model, d1.rows, y1, np.array([first["name"]] * len(y1)))
            base_p.append(model.probability(d2.rows))
            pers_p.append(fit.probability(d2.rows))
            pers_flags.append(pers_p[-1] >= fit.threshold)
            ys.append(y2)
            weights.append(info["user_weight"])
        if ys:
            y_all = np.concatenate(ys)
            p_base = np.concatenate(base_p)
            personal = scores(y_all, np.concatenate(pers_p), np.concatenate(pers_flags))
            out["personalisation"] = {
                "base": figures(y_all, p_base, model.threshold),
                "personalised": {k: personal[k] for k in out["unseen"]},
                "user_weights": weights,
            }
            print(f"personalisation ({len(ys)} lifters, session 1 -> session 2):")
            print(line("default model", out["personalisation"]["base"]))
            print(line("personalised", out["personalisation"]["personalised"]))
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(f"({out['seconds']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
