"""A standing start on an accelerometer whose scale is off (SYNTHETIC sessions).

Run:  python benchmarks/bench_scale_error.py [--seeds N] [--first-seed S] [--scale 0.10 ...]

Per seed: ``make_lifter(seed)`` stands still 3 s, then does 5 conventional deadlifts,
recorded at 100 Hz by an ADXL345 + ITG-3200 board (``imu.sim.sensor.PARTS``, its drawn
offsets) whose accelerometer reads ``scale`` high or low on every axis
(``SensorModel.acc_scale_error``; the ADXL345 data sheet allows 230-282 LSB/g around
256: +-10 %). Each row is measured with the still period's norm tolerance ``tol``
(``CalibrationSettings.still_gravity_tolerance_m_s2``: 1 m/s^2 before, 2 m/s^2 now):
still periods kept, scale notes given (``acc_scale_error_pct``), flexion RMSE against
the truth (all rows), reps found (the default rep decision, no classifier).

Two more tables test what compares the acceleration's norm with g after calibration
(``--tables``):

* ``cut``: bench_realistic's sets cut 0-1 s before the first rep
  (``realistic_set(seed, start="before_first_rep", part="adxl345_itg3200",
  acc_scale_error=scale)``), calibrated from the movement: flexion sign right, upright
  from quiet standing before the first rep (``upright: "standing"``), flexion RMSE after
  the first lockout, reps matched (IoU >= 0.5) / found / true;
* ``acc_only``: the first table's sessions with the gyroscope columns emptied
  (accelerometer-only mode, imu/pipeline/settle.py's gate on extensions): reps found,
  hyperextended reps flagged that are (flagged / true), flexion RMSE.

Seeds 0-39 were used while developing.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--scale", type=float, nargs="+", default=[0.10, -0.10, 0.0])
    parser.add_argument(
        "--tables", nargs="+", choices=["still", "cut", "acc_only"],
        default=["still", "cut", "acc_only"],
    )  # fmt: skip
    args = parser.parse_args()
    if "still" in args.tables:
        still_table(args)
    if "cut" in args.tables:
        cut_table(args)
    if "acc_only" in args.tables:
        acc_only_table(args)


def sessions_of(scale: float, seeds: range) -> list:
    """The first table's sessions: 3 s standing, 5 conventional deadlifts (SYNTHETIC)."""
    from imu.sim import make_lifter, simulate
    from imu.sim.activities import DeadliftSet, SessionScript, Stand
    from imu.sim.sensor import part_model

    sessions = []
    for seed in seeds:
        script = SessionScript(
            make_lifter(seed), (Stand(3.0, still=True), DeadliftSet(5, "conventional")),
            0.0, f"scale{seed}",
        )  # fmt: skip
        sensor = part_model("adxl345_itg3200", acc_scale_error=scale)
        sessions.append(
            simulate(script, sampling_rate_hz=100.0, mounting="random", sensor=sensor, seed=seed)
        )
    return sessions


def cut_table(args) -> None:
    import numpy as np
    from bench_realistic import score

    from imu.pipeline import analyze_session
    from imu.sim.recording import realistic_set

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(
        f"\nSYNTHETIC, cut 0-1 s before the first rep, seeds {seeds[0]}-{seeds[-1]}; "
        f"regenerate: python {shlex.join(sys.argv)}"
    )
    print(
        "| scale | sign right | upright from standing | flexion RMSE after the first lockout "
        "median / p90 deg | reps matched / found / true |"
    )
    print("|---|---|---|---|---|")
    for scale in args.scale:
        rows = []
        for seed in seeds:
            result, drawn = realistic_set(
                seed, start="before_first_rep", part="adxl345_itg3200", acc_scale_error=scale
            )
            rows.append(score(result, drawn, analyze_session(result.session)))
        right = [r for r in rows if r["calibrated"]]
        rmse = np.array([r["rmse"] for r in right])
        standing = sum(r["upright"] == "standing" for r in rows)
        tp, found, true = (sum(r[k] for r in rows) for k in ("tp", "n_det", "n_true"))
        print(
            f"| {scale:+.0%} | {len(right)}/{len(rows)} | {standing} | "
            f"{np.median(rmse):.2f} / {np.percentile(rmse, 90):.2f} | {tp} / {found} / {true} |",
            flush=True,
        )


def acc_only_table(args) -> None:
    import numpy as np

    from imu.pipeline import analyze_session
    from imu.session import Session

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(
        f"\nSYNTHETIC, accelerometer only (gyroscope columns emptied), seeds "
        f"{seeds[0]}-{seeds[-1]}; regenerate: python {shlex.join(sys.argv)}"
    )
    print("| scale | reps found / true | hyperextended flagged: right / flagged / true "
          "| flexion RMSE median / p90 deg |")  # fmt: skip
    print("|---|---|---|---|")
    for scale in args.scale:
        found = true = right = flagged = hyper = 0
        rmse = []
        for result in sessions_of(scale, seeds):
            data = result.session.data.copy()
            data[["gyr_x", "gyr_y", "gyr_z"]] = np.nan
            session = Session(data=data, metadata=dict(result.session.metadata))
            analysis = analyze_session(session)
            est = analysis.angles[:, 1]
            truth = result.truth_angles["flexion_deg"].to_numpy()
            ok = np.isfinite(est)
            rmse.append(float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2))))
            reps = result.truth_reps
            found, true = found + len(analysis.reps), true + len(reps)
            hyper += int(reps["hyperextended"].sum())
            for rep in analysis.reps:
                if not rep["hyperextended"]:
                    continue
                flagged += 1
                mid = 0.5 * (rep["start_s"] + rep["end_s"])
                inside = reps[(reps["start_s"] <= mid) & (reps["end_s"] >= mid)]
                right += bool(len(inside) and inside["hyperextended"].iloc[0])
        print(
            f"| {scale:+.0%} | {found}/{true} | {right} / {flagged} / {hyper} | "
            f"{np.median(rmse):.2f} / {np.percentile(rmse, 90):.2f} |",
            flush=True,
        )


def still_table(args) -> None:

    import numpy as np

    from imu.pipeline import CalibrationSettings, EngineSettings, analyze_session

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"SYNTHETIC, seeds {seeds[0]}-{seeds[-1]}; regenerate: python {shlex.join(sys.argv)}")
    print(
        "| scale | tol m/s^2 | still period | scale note | flexion RMSE median / p90 / worst deg | reps |"
    )
    print("|---|---|---|---|---|---|")
    for scale in args.scale:
        sessions = sessions_of(scale, seeds)
        for tol in (1.0, 2.0):
            settings = EngineSettings(
                calibration=CalibrationSettings(still_gravity_tolerance_m_s2=tol)
            )
            kept = noted = found = true = 0
            rmse = []
            for result in sessions:
                analysis = analyze_session(result.session, settings)
                cal = analysis.calibration
                kept += cal["method"] == "still_period"
                noted += cal.get("acc_scale_error_pct") is not None
                est = analysis.angles[:, 1]
                truth = result.truth_angles["flexion_deg"].to_numpy()
                ok = np.isfinite(est)
                rmse.append(float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2))))
                found, true = found + len(analysis.reps), true + len(result.truth_reps)
            print(
                f"| {scale:+.0%} | {tol:g} | {kept}/{len(sessions)} | {noted} | "
                f"{np.median(rmse):.2f} / {np.percentile(rmse, 90):.2f} / {np.max(rmse):.2f} | "
                f"{found}/{true} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
