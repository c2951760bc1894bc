"""`imu report`: analyse sessions and write a self-contained HTML report (docs/report.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imu.commands.options import (
    add_measurement_arguments,
    add_model_arguments,
    check_long_enough,
    check_output,
    classifier_from_args,
    engine_settings_from_args,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sessions",
        nargs="+",
        metavar="SESSION",
        help="recorded session file(s); several give a progress view over days, ordered by "
        "their start time (started_utc: live recordings, imports with a clock) when all have "
        "one, else in the order given",
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="HTML", help="report file to write"
    )
    add_model_arguments(parser)
    parser.add_argument("--png", metavar="DIR", help="also write every plot as DIR/<name>.png")
    parser.add_argument("--csv", metavar="FILE", help="also write every rep as a CSV row")
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing report or CSV (-o, --csv)"
    )
    add_measurement_arguments(parser)
    parser.add_argument(
        "--loads",
        metavar="FILE",
        help="optional CSV 'session,set,load_kg' with the bar load of each set (session = file "
        "name without extension); enables load-based warm-up and kg volume",
    )
    from imu.importers import add_input_arguments

    add_input_arguments(parser)


def _names(paths: list[str]) -> list[str]:
    """Session names from file names; repeated names get ' (2)', ' (3)'..."""
    names: list[str] = []
    for path in paths:
        file_name = Path(path).name.removesuffix(".gz")
        stem = Path(file_name).stem or file_name
        name, k = stem, 2
        while name in names:
            name, k = f"{stem} ({k})", k + 1
        names.append(name)
    return names


def run(args: argparse.Namespace) -> int:
    from imu.errors import input_error
    from imu.importers import load_from_args
    from imu.measure import measure
    from imu.report import build_report, from_analysis
    from imu.report.loads import read_loads

    _check_outputs(args)
    names = _names(args.sessions)
    loads = read_loads(args.loads) if args.loads else {}
    unknown = sorted(set(loads) - set(names))
    if unknown:
        raise input_error(
            f"{'session' if len(unknown) == 1 else 'sessions'} {', '.join(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not among the report's sessions",
            path=args.loads,
            column="session",
            hint=f"use the names {', '.join(names)}",
        )
    classifier, model_info = classifier_from_args(args)  # the same model summary as `imu analyze`
    settings = engine_settings_from_args(args)
    sessions = []
    for path, name in zip(args.sessions, names):
        session = load_from_args([path], args)
        check_long_enough(session, path)
        # the warnings of `imu analyze` too (a squat judged by a deadlift model, a lift
        # measured with another preset, an uncertain calibration), not only the loader's
        analysis, result = measure(session, settings, classifier, model_info)
        data = from_analysis(analysis, name, session.metadata, loads.get(name),
                             result["warnings"], settings.reps.lift,
                             settings.reps.hyperextension_deg)  # fmt: skip
        missing = sorted(set(data.loads_kg) - set(data.reps["set"]))
        if missing:
            print(
                f"imu report: warning: {args.loads}: session '{name}' has no set "
                f"{', '.join(map(str, missing))}; those loads are ignored",
                file=sys.stderr,
            )
        sessions.append(data)
    report = build_report(sessions)
    if len(sessions) > 1 and report.undated:
        print(
            f"imu report: note: sessions kept in the order given; without a start time "
            f"(started_utc metadata): {', '.join(report.undated)}",
            file=sys.stderr,
        )
    _write(args, report, sessions)
    return 0


def _write(args: argparse.Namespace, report, sessions: list) -> None:
    """The report and ``--csv``: both complete or both absent (imu.fileio); the PNGs each."""
    from imu.fileio import atomic_outputs
    from imu.report import write_rep_csv
    from imu.text import plural

    paths = [args.output, *([args.csv] if args.csv else [])]
    with atomic_outputs(paths, force=args.force, newline="") as handles:
        handles[0].write(report.html)
        if args.csv:
            write_rep_csv(sessions, handles[1])
    print(f"wrote {args.output} ({len(report.html.encode()) / 1024:.0f} kB)")
    if args.csv:
        print(f"wrote {args.csv} ({sum(len(s.reps) for s in sessions)} reps)")
    if args.png:
        paths = report.write_pngs(args.png)
        print(f"wrote {plural(len(paths), 'PNG file')} to {args.png}")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before the analysis, outputs that would overwrite an input or cannot be made."""
    from imu.errors import input_error

    for option, value in (("-o", args.output), ("--csv", args.csv)):
        check_output(value, option, force=args.force, inputs=args.sessions)
    if args.png and Path(args.png).exists() and not Path(args.png).is_dir():
        raise input_error("--png must be a directory", path=args.png)
