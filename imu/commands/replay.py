"""`imu replay`: play a recorded session through the live engine, display and alerts."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from imu.commands.live import add_session_arguments

    parser.add_argument("session", metavar="SESSION", help="recording (session CSV or an export)")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="playback speed: 1 = real time (default), 4 = four times as fast",
    )
    pace.add_argument(
        "--fast",
        action="store_true",
        help="as fast as possible (gives exactly the reps and flags of 'imu analyze'); "
        "silent: no bell, no --alert-command",
    )
    add_session_arguments(parser)
    from imu.importers import add_input_arguments

    add_input_arguments(parser)


def _load(args: argparse.Namespace):
    from imu.importers import load_from_args

    return load_from_args([args.session], args)


def run(args: argparse.Namespace) -> int:
    import math
    import sys

    from imu.ble.source import FileSource
    from imu.commands.live import (
        build_engine,
        build_sinks,
        check_outputs,
        model_threshold,
        run_session,
    )
    from imu.commands.options import check_long_enough
    from imu.errors import input_error
    from imu.measure import lift_mismatch
    from imu.text import Timeline

    if not args.fast and not (math.isfinite(args.speed) and args.speed > 0):
        raise input_error(f"--speed must be a positive number, got {args.speed:g}")
    check_outputs(args, (args.session,), events=args.events)
    session = _load(args)
    check_long_enough(session)
    mismatch = lift_mismatch(session.metadata, args.lift)
    for warning in [*session.warnings, *([mismatch] if mismatch else [])]:
        print(f"imu replay: warning: {warning}", file=sys.stderr)
    rate = session.sampling_rate_hz
    engine = build_engine(args, rate if math.isfinite(rate) and rate > 0 else None)
    source = FileSource(session, speed=None if args.fast else args.speed)
    first = float(session.data["time_s"].iloc[0]) if len(session.data) else None
    sinks = build_sinks(
        args,
        f"imu replay - {args.session}",
        timeline=Timeline.for_recording(first, session.metadata),
        threshold=model_threshold(engine),
        sound=not args.fast,
    )
    summary = run_session(source, engine, sinks)
    return 130 if summary["ended_by"] == "interrupted" else 0  # Ctrl-C: as the shell's 128+2
