"""`imu batch`: measure many recordings into tidy tables (docs/batch.md).

    imu batch INPUT... [--from-list FILE] -o OUTDIR [--jobs N | --scheduler ADDRESS]
              [--force] [--parquet]
              [--quiet] [--model M | --no-model] [--lift L] [--mounting M] ...

Exit status 0 when every recording was measured, 1 when some failed (listed in
OUTDIR/errors.csv), 2 when the command itself could not run.
"""

from __future__ import annotations

import argparse

from imu.commands.options import (
    add_executor_arguments,
    add_measurement_arguments,
    add_model_arguments,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="*", metavar="INPUT",
        help="recordings, folders (searched recursively for anything imu reads), glob patterns "
        "or URLs (s3://, https://, ...: fsspec)",
    )
    parser.add_argument("--from-list", metavar="FILE", action="append", default=[],
                        help="more INPUTs, one per line, from FILE ('-': standard input); "
                        "for more files than a command line holds")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                        help="folder for reps.csv, sessions.csv, errors.csv (created if needed)")
    add_executor_arguments(parser, "the number of cores")
    parser.add_argument("--force", action="store_true",
                        help="measure every recording again (default: only new or changed ones "
                        "and those that failed)")
    parser.add_argument("--parquet", action="store_true",
                        help="also write the tables as Parquet (pip install 'imu[parquet]')")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    add_model_arguments(parser)
    add_measurement_arguments(parser)
    from imu.importers import add_input_arguments

    add_input_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from imu.batch import Options, discover, run_batch
    from imu.batch.discover import read_list
    from imu.model.workflow import progress_bar
    from imu.text import plural

    found = discover([*args.inputs, *(i for f in args.from_list for i in read_list(f))])
    with progress_bar("measuring", len(found.recordings), not args.quiet) as advance:
        summary = run_batch(found, args.output, Options.from_args(args), jobs=args.jobs,
                            scheduler=args.scheduler, force=args.force, parquet=args.parquet,
                            progress=advance)
    if not args.quiet:
        print(
            f"{summary.outdir}: {summary.n_recordings} recordings ({summary.n_measured} measured, "
            f"{summary.n_unchanged} unchanged), {summary.n_reps} reps, "
            f"{summary.n_failed} failed" + (" (errors.csv)" if summary.n_failed else ""),
            file=sys.stderr,
        )
        if summary.left_out:
            n = len(summary.left_out)
            print(f"{plural(n, 'file')} in the searched folders matched no recording format "
                  f"and {'was' if n == 1 else 'were'} left out, e.g. {summary.left_out[0]}",
                  file=sys.stderr)  # fmt: skip
    return 1 if summary.n_failed else 0
