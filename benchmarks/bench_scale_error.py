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
Seeds 0-39 were used while developing.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--scale", type=float, nargs="+", default=[0.10, -0.10, 0.0])
    args = parser.parse_args()

    import numpy as np

    from imu.pipeline import CalibrationSettings, EngineSettings, analyze_session
    from imu.sim import make_lifter, simulate
    from imu.sim.activities import DeadliftSet, SessionScript, Stand
    from imu.sim.sensor import part_model

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"SYNTHETIC, seeds {seeds[0]}-{seeds[-1]}; regenerate: python {shlex.join(sys.argv)}")
    print(
        "| scale | tol m/s^2 | still period | scale note | flexion RMSE median / p90 / worst deg | reps |"
    )
    print("|---|---|---|---|---|---|")
    for scale in args.scale:
        sessions = []
        for seed in seeds:
            script = SessionScript(
                make_lifter(seed), (Stand(3.0, still=True), DeadliftSet(5, "conventional")),
                0.0, f"scale{seed}",
            )  # fmt: skip
            sensor = part_model("adxl345_itg3200", acc_scale_error=scale)
            sessions.append(
                simulate(
                    script, sampling_rate_hz=100.0, mounting="random", sensor=sensor, seed=seed
                )
            )
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
