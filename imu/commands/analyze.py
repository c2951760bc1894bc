"""`imu analyze`: measure a session with the streaming engine (batch = same Engine)."""

from __future__ import annotations

import argparse
import json
import sys

from imu.commands.options import (
    add_measurement_arguments,
    add_model_arguments,
    check_output,
    classifier_from_args,
    engine_settings_from_args,
    output_errors,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "session",
        metavar="SESSION",
        nargs="+",
        help="recording (session CSV or another app's export)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print ONE JSON object (calibration, reps, sets) on stdout",
    )
    parser.add_argument(
        "--angles",
        metavar="OUT.csv",
        help="write time_s,flexion_deg,lateral_bend_deg,twist_deg per input sample",
    )
    parser.add_argument("--reps", metavar="OUT.csv", help="write one row per detected rep")
    add_model_arguments(parser)
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    add_measurement_arguments(parser)
    from imu.importers import add_input_arguments

    add_input_arguments(parser)


def _load(args: argparse.Namespace):
    from imu.importers import load_from_args

    return load_from_args(args.session, args)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from imu.measure import json_safe, measure, measurement_settings
    from imu.pipeline import REP_COLUMNS
    from imu.pipeline.fusion import warm_up

    for option, path in (("--angles", args.angles), ("--reps", args.reps)):
        check_output(path, option, force=args.force, inputs=args.session)
    warm_up()  # every compiled kernel (the parser's too) loads here, without SciPy (see there)
    settings = measurement_settings(engine_settings_from_args(args))
    session = _load(args)
    classifier, model_info = classifier_from_args(args)
    analysis, result = measure(session, settings, classifier, model_info)
    with output_errors():
        if args.angles:
            frame = pd.DataFrame(
                analysis.angles, columns=["time_s", "flexion_deg", "lateral_bend_deg", "twist_deg"]
            )
            frame.to_csv(args.angles, index=False, float_format="%.6f", na_rep="")
        if args.reps:
            reps_frame = pd.DataFrame(result["reps"], columns=list(REP_COLUMNS))
            reps_frame.to_csv(args.reps, index=False, float_format="%.6f")
    if args.json:
        # One string, one write: json.dump writes chunk by chunk (twice the time).
        sys.stdout.write(json.dumps(json_safe(result), allow_nan=False) + "\n")
    else:
        _print_summary(result, analysis.calibration)
    return 0


def _print_summary(result: dict, calibration: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    # A pipe or a file gets a table wide enough for every column (rich assumes 80).
    console = Console() if sys.stdout.isatty() else Console(width=140)
    status = "[green]ok[/]" if calibration.get("ok") else "[red]failed[/]"
    console.print(
        f"{result.get('source') or 'session'}: {result['sampling_rate_hz']:.0f} Hz, calibration {status} "
        f"(quality {calibration.get('quality', 0):.2f}, mounting {calibration.get('mounting')}) - {calibration.get('message')}"
    )
    for warning in result.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}")
    quality = result["quality"]
    if quality.get("n_gaps"):
        console.print(
            f"{quality['n_gaps']} gap(s), {quality['gap_total_s']:.1f} s in total, {quality['n_restarts']} restart(s)"
        )
    table = Table(title=f"{len(result['reps'])} reps in {len(result['sets'])} sets")
    columns = {
        "set": ("set", "{}"), "rep": ("rep", "{}"), "start s": ("start_s", "{:.1f}"),
        "dur s": ("duration_s", "{:.2f}"), "peak flex deg": ("peak_flexion_deg", "{:.0f}"),
        "lift-off deg": ("liftoff_flexion_deg", "{:.0f}"),
        "lockout ext deg": ("lockout_extension_deg", "{:.0f}"), "ascent s": ("ascent_s", "{:.2f}"),
        "smooth": ("smoothness", "{:.2f}"), "p rounded": ("p_rounded", "{:.2f}"),
        "flags": ("flags", "{}"),
    }  # fmt: skip
    for title in columns:
        table.add_column(title, justify="right")
    for rep in result["reps"]:
        flags = [
            name
            for name, on in (("hyperext", rep["hyperextended"]), ("rounded", rep["rounded"]))
            if on
        ]
        row = {**rep, "duration_s": rep["end_s"] - rep["start_s"], "flags": " ".join(flags)}
        table.add_row(
            *("-" if row[key] is None else fmt.format(row[key]) for key, fmt in columns.values())
        )
    console.print(table)
    for s in result["sets"]:
        console.print(
            f"set {s['set']}: {s['n_reps']} reps, tempo trend {s['tempo_trend']:+.2f} s/rep, "
            f"flexion drift {s['flexion_drift_deg']:+.1f} deg"
        )
