"""`imu simulate`: write synthetic deadlift (or, with ``--lift squat``, back squat) sessions
with ground truth.

Per session NAME (``L01_s1`` = lifter 1, session 1) the output directory gets
``NAME.csv`` (or ``NAME.csv.gz``), ``NAME.truth.csv`` and ``NAME.reps.csv``
(docs/contracts.md; squats add the ``butt_wink`` and ``forward_lean`` columns), plus
``lifters.csv`` (each virtual lifter's parameters) and, with ``--labels``, a labels file
of the true rep spans for training (squats: ``rounded`` = butt wink, ``forward_lean``,
``good``, and a ``lift`` column ``squat``). Every file is marked SYNTHETIC: the session in
its metadata, the others by their first lines ``# synthetic: true`` and ``# generator:``
with the command that regenerates them (read them with ``imu.sim.read_table``).
"""

from __future__ import annotations

import argparse
import os
import shlex
from pathlib import Path

MOUNTING_HELP = (
    "'random' (default; drawn per session) or body x,y,z as sensor axes as 'imu analyze "
    "--mounting' takes it, e.g. NZPYPX or -z,+y,+x (the older names like xup_zback are "
    "accepted too; docs/simulator.md)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="directory to write into"
    )
    parser.add_argument(
        "--lifters", type=int, default=3, metavar="N", help="virtual lifters (default 3)"
    )
    parser.add_argument(
        "--first-lifter",
        type=int,
        default=1,
        metavar="I",
        help="number of the first lifter (default 1; lifters are L01, L02, ...)",
    )
    parser.add_argument("--sessions-per-lifter", type=int, default=1, metavar="K", help="default 1")
    parser.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[100.0],
        metavar="HZ",
        help="sampling rate 25-400 Hz, or several used in turn (default 100)",
    )
    parser.add_argument("--mounting", default="random", help=MOUNTING_HELP)
    parser.add_argument(
        "--seed", type=int, default=0, help="everything is reproducible from it (default 0)"
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="length of each session: as many sets as fit, then a rest to the end "
        "(default 10; the shortest session is one set, about 1.5 min)",
    )
    length.add_argument(
        "--sets",
        type=int,
        default=None,
        metavar="N",
        help="exactly N sets per session instead (its length follows from the rests)",
    )
    parser.add_argument(
        "--rest",
        type=float,
        nargs=2,
        default=[60.0, 180.0],
        metavar=("MIN_S", "MAX_S"),
        help="rest between sets in s (default 60 180, as in real training)",
    )
    parser.add_argument(
        "--lift",
        choices=("deadlift", "squat"),
        default="deadlift",
        help="deadlift (default: the kinds of --kinds) or squat (back squats, back to back)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=None,
        metavar="P",
        help="--lift squat: share of squats with butt wink, and as many with forward lean "
        "(default 0.2)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=None,
        metavar="KIND",
        help="lift kinds to draw from: conventional touch_and_go rdl good_morning (default all)",
    )
    parser.add_argument(
        "--no-distractors",
        action="store_true",
        help="leave out the movements that are not reps (plates, picking up, sitting)",
    )
    parser.add_argument(
        "--non-rep-sessions",
        type=int,
        default=0,
        metavar="M",
        help="also write M sessions with no reps at all (walking, bending, sitting)",
    )
    parser.add_argument(
        "--ideal", action="store_true", help="perfect sensor: no noise, bias or quantisation"
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="host timestamp jitter (sd, ms)"
    )
    parser.add_argument(
        "--drop",
        type=float,
        default=0.0,
        metavar="P",
        help="probability per sample that a burst of 1-6 samples is lost (e.g. 0.002)",
    )
    parser.add_argument(
        "--clock-ppm",
        type=float,
        default=0.0,
        metavar="PPM",
        help="sensor clock error: the real rate is nominal x (1 + PPM/1e6), e.g. 300",
    )
    parser.add_argument(
        "--gzip", action="store_true", help="write sessions and truth gzipped (NAME.csv.gz)"
    )
    parser.add_argument(
        "--decimals",
        type=int,
        default=4,
        choices=range(2, 7),
        metavar="D",
        help="decimals of acc (m/s^2) and gyr (deg/s) values (default 4)",
    )
    parser.add_argument(
        "--labels",
        metavar="PATH",
        help="also write the true rep spans as a labels CSV (session,start_s,end_s,label,subject)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def _command_line(args: argparse.Namespace) -> str:
    """The `imu simulate` command that regenerates this output (stored in metadata)."""
    words = [
        "imu",
        "simulate",
        "-o",
        args.output,
        "--lifters",
        args.lifters,
        "--first-lifter",
        args.first_lifter,
        "--sessions-per-lifter",
        args.sessions_per_lifter,
        "--rate",
        *args.rate,
        "--mounting",
        args.mounting,
        "--seed",
        args.seed,
        *(["--sets", args.sets] if args.sets is not None else ["--minutes", args.minutes]),
        "--rest",
        *args.rest,
    ]
    if args.lift != "deadlift":
        words += ["--lift", args.lift]
    if args.fault_rate is not None:
        words += ["--fault-rate", args.fault_rate]
    if args.kinds:
        words += ["--kinds", *args.kinds]
    flags = {"--no-distractors": args.no_distractors, "--ideal": args.ideal, "--gzip": args.gzip}
    words += [flag for flag, on in flags.items() if on]
    if args.non_rep_sessions:
        words += ["--non-rep-sessions", args.non_rep_sessions]
    if args.jitter_ms:
        words += ["--jitter-ms", args.jitter_ms]
    if args.drop:
        words += ["--drop", args.drop]
    if args.clock_ppm:
        words += ["--clock-ppm", args.clock_ppm]
    if args.decimals != 4:
        words += ["--decimals", args.decimals]
    if args.labels:
        words += ["--labels", args.labels]
    return shlex.join(f"{w:g}" if isinstance(w, float) else str(w) for w in words)


def _check(args: argparse.Namespace) -> None:
    from imu.errors import input_error
    from imu.sim import KINDS
    from imu.sim.core import resolve_mounting

    if (
        args.lifters < 1
        or args.sessions_per_lifter < 0
        or args.first_lifter < 1
        or args.non_rep_sessions < 0
    ):
        raise input_error("--lifters and --first-lifter must be >= 1, session counts >= 0")
    if args.mounting != "random":
        resolve_mounting(args.mounting, None)  # a one-line error for an unknown one
    if args.sets is not None and not 1 <= args.sets <= 100:
        raise input_error("--sets must be between 1 and 100")
    if args.lift == "squat" and args.kinds:
        raise input_error("--kinds names deadlift kinds; --lift squat makes back squats only")
    if args.fault_rate is not None and (args.lift != "squat" or not 0 <= args.fault_rate <= 0.5):
        raise input_error("--fault-rate goes with --lift squat and must be in [0, 0.5]")
    bad = [k for k in args.kinds or () if k not in KINDS]
    if bad:
        raise input_error(
            f"unknown lift kind{'s' if len(bad) > 1 else ''} {', '.join(bad)}", hint=f"choose from {', '.join(KINDS)}"
        )
    if not 0 < args.minutes <= 600 or not 0 < args.rest[0] <= args.rest[1]:
        raise input_error("--minutes must be in (0, 600] and --rest MIN_S <= MAX_S, both > 0")
    if any(not 25 <= rate <= 400 for rate in args.rate):
        raise input_error("--rate must be between 25 and 400 Hz")
    if not (0 <= args.drop < 0.5 and 0 <= args.jitter_ms < 1e3 and abs(args.clock_ppm) <= 1e4):
        raise input_error(
            "--drop must be in [0, 0.5), --jitter-ms in [0, 1000), |--clock-ppm| <= 10000"
        )
    if args.labels and Path(args.labels).is_dir():
        raise input_error("--labels is a directory", path=args.labels, hint="give a file name")


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import numpy as np
    import pandas as pd

    from imu.errors import input_error
    from imu.fileio import output_errors
    from imu.sim import SensorModel, make_lifter, non_rep_session, simulate, write_result
    from imu.sim.core import result_paths
    from imu.text import clock, plural

    _check(args)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise input_error(
            "-o must be a directory, not a file", path=str(out), hint="give another directory"
        )
    command = _command_line(args)
    sensor = SensorModel.ideal() if args.ideal else SensorModel()
    sensor = dataclasses.replace(
        sensor,
        timestamp_jitter_s=args.jitter_ms / 1000,
        drop_probability=args.drop,
        clock_error_ppm=args.clock_ppm,
    )
    lifters = [
        make_lifter(i, args.seed)
        for i in range(args.first_lifter - 1, args.first_lifter - 1 + args.lifters)
    ]
    jobs = []  # (name, script, session seed)
    for li, lifter in enumerate(lifters):
        for k in range(args.sessions_per_lifter):
            seed = int(
                np.random.SeedSequence([args.seed, li + args.first_lifter, k]).generate_state(1)[0]
            )
            name = f"{lifter.name}_s{k + 1}"
            jobs.append((name, _session(lifter, seed, args, name), seed))
    for m in range(args.non_rep_sessions):
        lifter = lifters[m % len(lifters)]
        seed = int(np.random.SeedSequence([args.seed, 0, m]).generate_state(1)[0])
        name = f"{lifter.name}_nonreps{m + 1}"
        jobs.append((name, non_rep_session(lifter, seed, name=name), seed))

    labels_path = Path(args.labels) if args.labels else None
    if not args.force:  # refuse before writing anything, not half-way through
        targets = [out / "lifters.csv", *([labels_path] if labels_path else [])]
        for name, _, _ in jobs:
            targets += result_paths(out, name, args.gzip)
        existing = [path for path in targets if path.exists()]
        if existing:
            raise input_error("exists already (use --force to overwrite)", path=str(existing[0]))
    with output_errors():  # an unwritable place fails now, not after the first session
        out.mkdir(parents=True, exist_ok=True)
    labels = []
    for j, (name, script, seed) in enumerate(jobs):
        rate = args.rate[j % len(args.rate)]
        result = simulate(
            script,
            sampling_rate_hz=rate,
            mounting=args.mounting,
            sensor=sensor,
            seed=seed,
            generator=command,
        )
        if args.lift == "squat":  # analyze and replay warn when measured as another lift
            result.session.metadata["lift"] = "squat"
        paths = write_result(
            result, out, name, compress=args.gzip, decimals=args.decimals, force=args.force
        )
        reps = result.truth_reps
        data = result.session.data
        span_s = float(data["time_s"].iloc[-1] - data["time_s"].iloc[0]) if len(data) else 0.0
        faults = (
            f"{int(reps.butt_wink.sum())} butt wink, {int(reps.forward_lean.sum())} forward lean"
            if "butt_wink" in reps
            else f"{int(reps.rounded.sum())} rounded, {int(reps.hyperextended.sum())} hyperextended"
        )
        print(
            f"{paths[0]}: {clock(span_s)} (synthetic), {rate:g} Hz, mounting {result.mounting}, "
            f"{plural(len(data), 'sample')}, {plural(len(reps), 'true rep')} ({faults})"
        )
        if labels_path is not None:
            session = os.path.relpath(paths[0], labels_path.parent).replace(os.sep, "/")
            labels += [
                {
                    "session": session,
                    "start_s": r.start_s,
                    "end_s": r.end_s,
                    "label": _label(r),
                    "subject": r.lifter,
                    **({"lift": "squat"} if args.lift == "squat" else {}),
                }
                for r in reps.itertuples()
            ]
    table = pd.DataFrame([dataclasses.asdict(lifter) for lifter in lifters])
    _write_csv(table, out / "lifters.csv", args.force, command)
    if labels_path is not None:
        columns = ["session", "start_s", "end_s", "label", "subject"]
        columns += ["lift"] if args.lift == "squat" else []
        frame = pd.DataFrame(labels, columns=columns)
        _write_csv(frame, labels_path, args.force, command)
        names = {"rounded": "rounded"}
        if args.lift == "squat":  # the truth line says "butt wink": the same reps
            names = {"rounded": "rounded (butt wink)", "forward_lean": "forward_lean"}
        counts = ", ".join(f"{int((frame.label == k).sum())} {v}" for k, v in names.items())
        print(f"{labels_path}: {len(frame)} labelled reps ({counts})")
    if args.lift == "squat":  # the deadlift preset finds few of them (3 of 12 in one set)
        print("squats: measure them with --lift squat (imu analyze, replay, report, label, "
              "batch)")
    return 0


def _squat_fault_rate(args: argparse.Namespace) -> float | None:
    """The squat sets' fault rate (None: deadlift sessions)."""
    if args.lift != "squat":
        return None
    return 0.2 if args.fault_rate is None else args.fault_rate


def _label(rep) -> str:
    """A true rep's label: ``rounded`` (a squat's butt wink too), ``forward_lean``, ``good``."""
    if rep.rounded:
        return "rounded"
    return "forward_lean" if getattr(rep, "forward_lean", False) else "good"


def _session(lifter, seed: int, args: argparse.Namespace, name: str):
    """A training-session script of about ``args.minutes`` for ``lifter``."""
    from imu.sim import KINDS, demo_session

    length = {"minutes": args.minutes} if args.sets is None else {"n_sets": args.sets}
    return demo_session(
        lifter,
        seed,
        **length,
        rest_s=tuple(args.rest),
        kinds=tuple(args.kinds or KINDS),
        non_reps=not args.no_distractors,
        name=name,
        squat_fault_rate=_squat_fault_rate(args),
    )


def _write_csv(frame, path: Path, force: bool, command: str) -> None:
    """Write a plain table (lifters, labels) under the SYNTHETIC marker lines with
    ``command`` (:func:`imu.sim.core.synthetic_lines`), refusing to overwrite unless
    ``force``; complete or absent (:func:`imu.fileio.atomic_output`)."""
    from imu.fileio import atomic_output
    from imu.sim.core import synthetic_lines

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, force=force, newline="") as handle:
        handle.write(synthetic_lines(command))
        frame.to_csv(handle, index=False, float_format="%.6f", lineterminator="\n")
