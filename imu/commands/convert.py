"""`imu convert`: other apps' exports -> the canonical session CSV."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from imu.importers import add_input_arguments

    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="exported file(s), their folder or the exported zip (one recording)",
    )
    parser.add_argument("-o", "--output", required=True, help="session CSV to write")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from imu.commands.options import check_output
    from imu.importers import load_from_args
    from imu.session import write_session

    check_output(args.output, "-o", force=args.force, inputs=args.inputs)
    session = load_from_args(args.inputs, args)
    for warning in session.warnings:
        print(f"imu convert: warning: {warning}", file=sys.stderr)
    write_session(session, args.output, force=args.force)
    quality = session.quality()
    print(
        f"wrote {args.output}: {len(session.data)} samples, {quality['duration_s']:.4g} s at "
        f"{session.sampling_rate_hz:.4g} Hz from "
        f"{session.metadata.get('source_format', 'a session CSV')}"
        + ("" if session.has_gyro else " (no gyroscope)")
    )
    return 0
