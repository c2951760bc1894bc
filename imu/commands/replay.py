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
        help="as fast as possible (gives exactly the reps and flags of 'imu analyze')",
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
    from imu.commands.live import build_engine, build_sinks, check_outputs, run_session
    from imu.errors import input_error

    if not args.fast and not (math.isfinite(args.speed) and args.speed > 0):
        raise input_error(f"--speed must be a positive number, got {args.speed:g}")
    check_outputs(args, (args.session,), events=args.events)
    session = _load(args)
    for warning in session.warnings:
        print(f"imu replay: warning: {warning}", file=sys.stderr)
    rate = session.sampling_rate_hz
    engine = build_engine(args, rate if math.isfinite(rate) and rate > 0 else None)
    source = FileSource(session, speed=None if args.fast else args.speed)
    sinks = build_sinks(args, f"imu replay - {args.session}")
    run_session(source, engine, sinks)
    return 0
