"""Calibration, angles, reps and the classifier on recordings as people really make them.

Run:  python benchmarks/bench_realistic.py [--quick] [--seeds N] [--first-seed S] [--verbose]

All recordings are SYNTHETIC (``imu.sim.recording.realistic_set(seed)``; this script
regenerates them): one set per file, a part drawn from six data-sheet error models at
25-200 Hz, BLE host time stamps with bursts of loss up to 30 %, the accelerometer on
+-2 g half the time; the file cut to the set (it starts 0-1 s before the first rep or in
the middle of it and ends at the last lockout), or with a standing start of 2-3 s. The
seeds here (from 1000 on) are held out: nothing in the pipeline was tuned on them
(development used seeds 0-199).

Per start (standing / before the first rep / mid-rep / in the set-up hold of a lift from
the floor, bent over the bar: a still period held bent), next to the clean simulator
sessions of ``bench_pipeline.py`` (demo sessions, standing start, MPU-6050 defaults):
calibration success (calibrated with a reported quality, flexion sign right), the
median quality, flexion RMSE after the first lockout in the file (median, p90, worst),
its constant part (median offset: calibration from the movement takes the lifter's
lockout as upright unless the file begins with the lifter standing quietly, the
simulator's truth takes the standing posture) and the rest (RMSE without the offset),
rep precision / recall / F1 (IoU >= 0.5 against the true reps wholly inside the file),
and the default classifier's balanced accuracy for rounded reps on the matched reps,
and how many calibrations the upright check revised (imu/pipeline/upright_check.py).
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import balanced_accuracy, match_reps


def score(result, drawn: dict, analysis) -> dict:
    import numpy as np

    cal = analysis.calibration
    truth = result.truth_angles
    est = analysis.angles[:, 1]
    after = truth["time_s"].to_numpy() > drawn.get("first_lockout_s", -math.inf)
    ok = np.isfinite(est) & after
    err = est[ok] - truth["flexion_deg"].to_numpy()[ok]
    rmse = float(np.sqrt(np.mean(err**2))) if ok.any() else math.nan
    spread = float(np.std(err)) if ok.any() else math.nan  # RMSE without the constant offset
    both = np.isfinite(est)
    sign_ok = (
        bool(cal["ok"])
        and both.sum() > 10
        and (np.corrcoef(est[both], truth["flexion_deg"].to_numpy()[both])[0, 1] > 0.8)
    )
    spans = list(zip(result.truth_reps.start_s, result.truth_reps.end_s, strict=True))
    used = match_reps(spans, analysis.reps)
    rounded = [
        (bool(result.truth_reps.rounded.iloc[k]), bool(r["rounded"]))
        for k, r in used.items()
        if r.get("rounded") is not None
    ]
    return {
        "calibrated": bool(cal["ok"]) and sign_ok,
        "quality": float(cal["quality"]),
        "rmse": rmse,
        "offset": float(np.mean(err)) if ok.any() else math.nan,
        "spread": spread,
        "tp": len(used),
        "n_det": len(analysis.reps),
        "n_true": len(spans),
        "rounded": rounded,
        "method": cal.get("method"),
        "upright": cal.get("upright"),
        "revised": bool(cal.get("revised")),
    }


def row(label: str, rows: list[dict]) -> str:
    import numpy as np

    n = len(rows)
    good = [r for r in rows if r["calibrated"] and math.isfinite(r["rmse"])]
    rmse = np.array([r["rmse"] for r in good])
    offset = np.array([r["offset"] for r in good])
    spread = np.array([r["spread"] for r in good])
    tp = sum(r["tp"] for r in rows)
    precision = tp / max(1, sum(r["n_det"] for r in rows))
    recall = tp / max(1, sum(r["n_true"] for r in rows))
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    rounded = [p for r in rows for p in r["rounded"]]
    calibrated = sum(r["calibrated"] for r in rows)
    standing = sum(r["upright"] == "standing" and not r["revised"] for r in rows)
    revised = sum(r["revised"] for r in rows)
    quality = np.median([r["quality"] for r in rows])
    rmse_text = (
        f"{np.median(rmse):.2f} / {np.percentile(rmse, 90):.2f} / {np.max(rmse):.2f} | "
        f"{np.median(offset):+.2f} | {np.median(spread):.2f}"
        if rmse.size
        else "- | - | -"
    )
    return (
        f"| {label} | {n} | {calibrated}/{n} ({calibrated / max(n, 1):.0%}) | {quality:.2f} | "
        f"{rmse_text} | {precision:.3f} | {recall:.3f} | {f1:.3f} | "
        f"{balanced_accuracy(rounded):.2f} ({len(rounded)}) | {standing} | {revised} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seeds per start, 2 clean")
    parser.add_argument("--seeds", type=int, default=60, help="recordings per start")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--clean", type=int, default=6, help="clean demo sessions")
    parser.add_argument("--verbose", action="store_true", help="one line per recording")
    parser.add_argument(
        "--start", choices=["standing", "before_first_rep", "mid_rep", "setup_hold"]
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.clean = 20, 2

    from imu.model.files import load_model
    from imu.pipeline import analyze_session
    from imu.sim import demo_session, make_lifter, simulate
    from imu.sim.activities import KINDS
    from imu.sim.recording import STARTS, realistic_set

    floor_kinds = tuple(k for k, kind in KINDS.items() if kind.from_floor)

    model = load_model()  # the default classifier

    print(
        f"SYNTHETIC: imu.sim.recording.realistic_set(seed), seeds {args.first_seed}-"
        f"{args.first_seed + args.seeds - 1} per start; regenerate: python {shlex.join(sys.argv)}"
    )
    print(
        "| recordings (SYNTHETIC) | n | calibrated, sign right | median quality "
        "| flexion RMSE after the first lockout: median / p90 / worst deg "
        "| median offset deg | median RMSE without the offset deg | P | R | F1 "
        "| rounded bal. acc. (reps) | upright from standing before the first rep "
        "| calibration revised (upright check) |"
    )
    print("|---" * 13 + "|")
    clean = []
    for k in range(args.clean if not args.start else 0):
        result = simulate(demo_session(make_lifter(k), seed=k, n_sets=2), seed=k, mounting="random")
        clean.append(score(result, {}, analyze_session(result.session, classifier=model)))
    if clean:
        print(row("clean demo sessions (standing start)", clean), flush=True)
    for start in [args.start] if args.start else ("standing", *STARTS[:2], "setup_hold"):
        rows = []
        # a set-up hold needs a lift from the floor
        kinds = floor_kinds if start == "setup_hold" else tuple(KINDS)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            result, drawn = realistic_set(seed, start=start, kinds=kinds)
            scored = score(result, drawn, analyze_session(result.session, classifier=model))
            rows.append(scored)
            if args.verbose:
                print(
                    f"  {seed} {drawn['part']} {drawn['sampling_rate_hz']:g} Hz {drawn['kind']} "
                    f"{drawn['n_reps']} reps loss {drawn['loss_fraction']:.2f}: "
                    f"{scored['method']}{' revised' if scored['revised'] else ''} "
                    f"ok={scored['calibrated']} q={scored['quality']:.2f} "
                    f"rmse={scored['rmse']:.2f} reps {scored['tp']}/{scored['n_det']}/{scored['n_true']}",
                    flush=True,
                )
        print(row(f"one set, {start.replace('_', ' ')}", rows), flush=True)
    print(
        "goals (issue 12): calibrated >= 95 % without a standing start; flexion RMSE <= 2 deg "
        "without, <= 1 deg with a standing start"
    )


if __name__ == "__main__":
    main()
