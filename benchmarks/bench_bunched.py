"""Files whose rows come in bunches: every row of a BLE notification stamped on arrival.

Run:  python benchmarks/bench_bunched.py [--seeds N] [--first-seed S] [--minutes M]

All recordings are SYNTHETIC: ``imu.sim.demo_session`` (two sets, no distractors)
simulated with regular sampling times (the truth), then given the host stamps of
``imu.sim.recording.arrival_stamps``: notifications of 2 samples at 25 Hz, 3 at 50 Hz,
4 at 100 Hz, latency 5-30 ms, 6 stalls a minute (a notification held 0.2-0.5 s, the ones
due meanwhile 1-3 ms after it), with every row of a notification on one stamp or on
nearly one stamp (each row 0.02-0.2 ms after the one before), and with no losses or 3
runs of 1-5 lost notifications a minute. Each file is written with ``write_session`` and
read back with ``read_session``, then analysed (no classifier) like ``imu analyze``.

Per rate x bunch x stamps x loss: files that load; the time error |loaded time - true
time| after taking off the median (the link's constant latency, which no file shows):
max and p95 over all rows of all files; false gaps per file (an interval longer than 3
sampling intervals where the true interval is shorter than 1.5: a gap where no sample
was lost; of those longer than 0.25 s, what analysis reports as a gap in the data, in
brackets); true gaps shown (intervals over 3 sampling intervals in the truth, found
in the loaded times too); reps found (IoU >= 0.5 against the true reps) and flexion
RMSE against the truth, next to the same analysis of the true times.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import match_reps

CASES = ((25.0, 2), (50.0, 3), (100.0, 4))


def measure(result, loaded, truth_s, keep, rate_hz) -> dict:
    """Time error, false and true gaps of ``loaded`` (a Session) against ``truth_s``."""
    import numpy as np

    t = loaded.time_s
    if len(t) != len(keep):
        raise AssertionError("rows dropped")
    true = truth_s[keep]
    err = t - true
    err = np.abs(err - np.median(err))
    step, true_step = np.diff(t), np.diff(true)
    gap = step > 3 / rate_hz
    false = gap & (true_step < 1.5 / rate_hz)
    lost = true_step > 3 / rate_hz
    return {
        "err": err,
        "false_gaps": int(np.count_nonzero(false)),
        "false_long": int(np.count_nonzero(false & (step > 0.25))),
        "true_gaps": int(np.count_nonzero(lost)),
        "shown": int(np.count_nonzero(lost & gap)),
    }


def flexion_rmse(result, keep, analysis) -> float:
    import numpy as np

    est = analysis.angles[:, 1]
    truth = result.truth_angles["flexion_deg"].to_numpy()[keep]
    ok = np.isfinite(est)
    return float(np.sqrt(np.mean((est[ok] - truth[ok]) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="recordings per case")
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()

    import dataclasses

    import numpy as np

    from imu.errors import InputError
    from imu.pipeline import analyze_session
    from imu.session import read_session, write_session
    from imu.sim import demo_session, make_lifter, simulate
    from imu.sim.recording import arrival_stamps

    print(
        f"SYNTHETIC: imu.sim.demo_session + imu.sim.recording.arrival_stamps, seeds "
        f"{args.first_seed}-{args.first_seed + args.seeds - 1} per case; regenerate: "
        f"python {shlex.join(sys.argv)}"
    )
    print(
        "| rate x samples per notification | stamps | lost | files loaded | time error max / "
        "p95 ms | false gaps per file (> 0.25 s) | true gaps shown | reps found: "
        "loaded / true times / true reps | flexion RMSE deg: loaded / true times |"
    )
    print("|---" * 9 + "|")
    with tempfile.TemporaryDirectory() as folder:
        for rate, per in CASES:
            results = {}
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                script = demo_session(
                    make_lifter(seed),
                    seed=seed,
                    n_sets=2,
                    rest_s=(20.0, 40.0),
                    non_reps=False,
                    clock_origin_s=0.0,
                )
                result = simulate(script, sampling_rate_hz=rate, seed=seed, mounting="random")
                reference = analyze_session(result.session)
                spans = list(zip(result.truth_reps.start_s, result.truth_reps.end_s, strict=True))
                results[seed] = (result, reference, spans)
            for nearly in (False, True):
                for lost_per_min in (0.0, 3.0):
                    errors, false, false_long, n_true, shown, loaded = [], [], [], 0, 0, 0
                    found, found_ref, n_reps, rmse, rmse_ref = 0, 0, 0, [], []
                    for seed, (result, reference, spans) in results.items():
                        truth_s = result.session.time_s
                        rng = np.random.default_rng([seed, per, int(nearly), int(lost_per_min)])
                        stamps, keep = arrival_stamps(
                            truth_s,
                            per,
                            rng,
                            lost_per_min=lost_per_min,
                            row_step_s=1e-4 if nearly else 0.0,
                        )
                        data = result.session.data.iloc[keep].assign(time_s=stamps)
                        session = dataclasses.replace(
                            result.session, data=data.reset_index(drop=True)
                        )
                        path = Path(folder) / f"{seed}.csv"
                        write_session(session, path, force=True)
                        n_reps += len(spans)
                        found_ref += len(match_reps(spans, reference.reps))
                        rmse_ref.append(flexion_rmse(result, np.arange(len(truth_s)), reference))
                        try:
                            back = read_session(path)
                        except InputError:
                            continue
                        loaded += 1
                        m = measure(result, back, truth_s, keep, rate)
                        errors.append(m["err"])
                        false.append(m["false_gaps"])
                        false_long.append(m["false_long"])
                        n_true += m["true_gaps"]
                        shown += m["shown"]
                        analysis = analyze_session(back)
                        found += len(match_reps(spans, analysis.reps))
                        rmse.append(flexion_rmse(result, keep, analysis))
                    err = np.concatenate(errors) * 1e3 if errors else np.array([np.nan])
                    print(
                        f"| {rate:g} Hz x {per} | {'nearly one' if nearly else 'one'} | "
                        f"{lost_per_min:g}/min | {loaded}/{len(results)} | "
                        f"{np.max(err):.0f} / {np.percentile(err, 95):.1f} | "
                        f"{np.mean(false) if false else float('nan'):.1f} "
                        f"({np.mean(false_long) if false_long else float('nan'):.1f}) | "
                        f"{shown}/{n_true} | {found} / {found_ref} / {n_reps} | "
                        f"{np.median(rmse) if rmse else float('nan'):.2f} / "
                        f"{np.median(rmse_ref):.2f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
