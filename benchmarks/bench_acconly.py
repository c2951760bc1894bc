"""Accelerometer-only mode against simulator truth (SYNTHETIC sessions from imu.sim).

Each simulated session is analysed twice: as recorded (gyroscope fusion) and with the
gyroscope columns set to NaN (Polar H10-like, accelerometer-only mode), and again
accelerometer-only with a forward push of 4 m/s^2 over the last 0.35 s before each true
lockout (imu.sim.disturb.push_at_lockouts: the hips driving through), with and without
the extension gate (imu.pipeline.settle). Prints flexion and lateral-bend RMSE (deg),
rep detection F1 (IoU >= 0.5), reps per set correct, and hyperextension flags (true
positives / detected / true) per rate and mounting.

    python benchmarks/bench_acconly.py            # the table in docs/calibration.md
    python benchmarks/bench_acconly.py --sweep    # low-pass time constant / rejection
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from imu.pipeline import EngineSettings, analyze_session
from imu.pipeline.orientation import GravityTiltSettings
from imu.pipeline.settle import ExtensionGateSettings
from imu.sim import demo_session, make_lifter, simulate
from imu.sim.disturb import push_at_lockouts
from imu.sim.matching import iou

NO_GATE = replace(EngineSettings(), extension_gate=ExtensionGateSettings(tolerance_m_s2=1e9))
"""Every row counts as settled: the accelerometer-only mode before the gate."""
MODES = ("gyro", "acc", "acc push", "acc push, no gate")

RATES_HZ = (50.0, 100.0, 200.0)
MOUNTINGS = ("xup_zback", "xleft_zfwd", "xfwd_zright")
N_SESSIONS = 2


def score(result, analysis) -> dict:
    """Figures of one analysis against the session's truth."""
    truth = result.truth_reps
    used: dict[int, dict] = {}
    for rep in analysis.reps:
        for k, (s, e) in enumerate(zip(truth.start_s, truth.end_s, strict=True)):
            if k not in used and iou((rep["start_s"], rep["end_s"]), (s, e)) >= 0.5:
                used[k] = rep
                break
    flexion = analysis.angles[:, 1] - result.truth_angles["flexion_deg"].to_numpy()
    lateral = analysis.angles[:, 2] - result.truth_angles["lateral_bend_deg"].to_numpy()
    per_set = [s["n_reps"] for s in analysis.sets] == truth.groupby("set").size().tolist()
    return {
        "flexion_rmse_deg": float(np.sqrt(np.nanmean(flexion**2))),
        "lateral_rmse_deg": float(np.sqrt(np.nanmean(lateral**2))),
        "tp": len(used),
        "n_detected": len(analysis.reps),
        "n_true": len(truth),
        "sets_ok": int(per_set),
        "hyper_tp": sum(
            bool(rep["hyperextended"]) and bool(truth.hyperextended.iloc[k])
            for k, rep in used.items()
        ),
        "hyper_detected": sum(bool(rep["hyperextended"]) for rep in analysis.reps),
        "hyper_true": int(truth.hyperextended.sum()),
    }


def run(rate_hz: float, mounting: str, settings: EngineSettings | None, seeds) -> dict:
    """Summed figures (gyro fusion, accelerometer-only) over ``seeds``."""
    totals: dict[str, dict] = {}
    for seed in seeds:
        script = demo_session(make_lifter(seed), seed=seed, n_sets=3)
        result = simulate(script, sampling_rate_hz=rate_hz, mounting=mounting, seed=seed)
        runs = {"gyro": result.session.data.copy()}
        acc_only = result.session.data.copy()
        acc_only[["gyr_x", "gyr_y", "gyr_z"]] = np.nan
        runs["acc"] = acc_only
        pushed = acc_only.copy()
        pushed[["time_s", "acc_x", "acc_y", "acc_z"]] = push_at_lockouts(result)[:, :4]
        runs["acc push"] = runs["acc push, no gate"] = pushed
        for mode, data in runs.items():
            result.session.data = data
            if mode != "acc" and settings is not None:
                continue
            engine = NO_GATE if mode.endswith("no gate") else settings
            figures = score(result, analyze_session(result.session, engine))
            total = totals.setdefault(mode, {"n": 0})
            total["n"] += 1
            for key, value in figures.items():
                total[key] = total.get(key, 0.0) + value
    return totals


def line(label: str, t: dict) -> str:
    f1 = 2 * t["tp"] / (t["n_detected"] + t["n_true"]) if t["n_detected"] + t["n_true"] else 1.0
    return (
        f"{label:34s} {t['flexion_rmse_deg'] / t['n']:6.2f} {t['lateral_rmse_deg'] / t['n']:6.2f} "
        f"{f1:6.3f} {int(t['tp'])}/{int(t['n_detected'])}/{int(t['n_true'])} "
        f"{int(t['sets_ok'])}/{t['n']}  "
        f"{int(t['hyper_tp'])}/{int(t['hyper_detected'])}/{int(t['hyper_true'])}"
    )


HEADER = (
    f"{'rate mounting mode':34s} flexRMSE latRMSE   F1  reps tp/det/true  sets  hyper tp/det/true"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="sweep the low-pass settings")
    args = parser.parse_args()
    seeds = range(N_SESSIONS)
    print("SYNTHETIC sessions (imu.sim demo_session, 3 sets each)")
    print(HEADER)
    if args.sweep:
        for tau in (0.03, 0.06, 0.1, 0.2, 0.4):
            for rejection in (1.0, 2.0, 100.0):
                tilt = GravityTiltSettings(time_constant_s=tau, rejection_m_s2=rejection)
                settings = replace(EngineSettings(), gravity_tilt=tilt)
                t = run(100.0, "xup_zback", settings, seeds)["acc"]
                print(line(f"tau {tau:g} s, rejection {rejection:g} m/s^2", t))
        return
    for rate in RATES_HZ:
        for mounting in MOUNTINGS:
            totals = run(rate, mounting, None, seeds)
            for mode in MODES:
                print(line(f"{rate:g} Hz {mounting} {mode}", totals[mode]))


if __name__ == "__main__":
    main()
