"""`imu analyze`: measure a session with the streaming engine (batch = same Engine)."""

from __future__ import annotations

import argparse
import json
import sys

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
    from imu.errors import input_error
    from imu.fileio import same_path
    from imu.measure import json_safe, measure, measurement_settings
    from imu.pipeline.fusion import warm_up

    for option, path in (("--angles", args.angles), ("--reps", args.reps)):
        check_output(path, option, force=args.force, inputs=args.session)
    if args.angles and args.reps and same_path(args.angles, args.reps):
        raise input_error("--angles and --reps name the same file", path=args.reps)
    warm_up()  # every compiled kernel (the parser's too) loads here, without SciPy (see there)
    settings = measurement_settings(engine_settings_from_args(args))
    session = _load(args)
    check_long_enough(session)
    classifier, model_info = classifier_from_args(args)
    analysis, result = measure(session, settings, classifier, model_info)
    _write_tables(args, analysis, result)
    if args.json:
        # One string, one write: json.dump writes chunk by chunk (twice the time).
        sys.stdout.write(json.dumps(json_safe(result), allow_nan=False) + "\n")
    else:
        from imu.text import Timeline

        first = float(session.data["time_s"].iloc[0]) if len(session.data) else None
        _print_summary(result, analysis.calibration, Timeline.for_recording(first, session.metadata))
    return 0


def _write_tables(args: argparse.Namespace, analysis, result: dict) -> None:
    """``--angles`` and ``--reps``: both complete or both absent (imu.fileio)."""
    import pandas as pd

    from imu.fileio import atomic_outputs
    from imu.pipeline import REP_COLUMNS

    tables = {}
    if args.angles:
        columns = ["time_s", "flexion_deg", "lateral_bend_deg", "twist_deg"]
        tables[args.angles] = (pd.DataFrame(analysis.angles, columns=columns), {"na_rep": ""})
    if args.reps:
        tables[args.reps] = (pd.DataFrame(result["reps"], columns=list(REP_COLUMNS)), {})
    if not tables:
        return
    with atomic_outputs(list(tables), force=args.force, newline="") as handles:
        for handle, (frame, options) in zip(handles, tables.values()):
            frame.to_csv(handle, index=False, float_format="%.6f", lineterminator="\n", **options)


def _beside(value: float | None, limit: float | None) -> str:
    """A lockout extension in whole degrees, with the decimals that tell it from its limit
    when whole degrees would not (``10.2`` hyperextended beyond ``10 deg``, ``9.8`` not:
    both were ``10``; docs/vocabulary.md)."""
    import math

    from imu.text import apart, signed

    if limit is None or value is None or not math.isfinite(value):
        return signed(value, ".0f")
    shown, _ = apart(value, limit)
    return signed(value, f".{len(shown.partition('.')[2])}f")


def _print_summary(result: dict, calibration: dict, timeline) -> None:
    """The table a person reads (docs/vocabulary.md): times from the recording's start
    (``m:ss.s``) and, when the recording says when it started, the clock time beside."""
    from rich.console import Console
    from rich.table import Table

    from imu.sinks.lines import calibration_detail, flagged_text, fold, set_text
    from imu.text import (
        duration,
        is_flagged,
        lost_reps_text,
        plural,
        probability,
        signed,
        verdict,
        zone_name,
    )

    # A pipe or a file gets a table wide enough for every column (rich assumes 80).
    console = (
        Console(highlight=False) if sys.stdout.isatty() else Console(width=140, highlight=False)
    )
    status = "[green]ok[/]" if calibration.get("ok") else "[red]failed[/]"
    message = calibration_detail(calibration.get("message"))
    if calibration.get("refined") and calibration.get("time_s") is not None:
        when = "revised" if calibration.get("revised") else "refined"
        message += f" ({when} at {timeline.at(calibration['time_s'])})"  # when "then" was
    mounting = f", mounting {calibration['mounting']}" if calibration.get("mounting") else ""
    whole = not sys.stdout.isatty()  # a pipe or a file: whole lines, for grep (as the log)
    console.print(
        f"{result.get('source') or 'session'}: {result['sampling_rate_hz']:.0f} Hz, calibration {status} "
        f"(quality {calibration.get('quality', 0):.2f}{mounting}): {message}",
        markup=True, soft_wrap=whole,
    )
    for warning in result.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=whole)
    quality = result["quality"]
    if quality.get("n_gaps"):
        restarts = int(quality.get("n_restarts") or 0)  # none: not "0 too long to bridge"
        console.print(
            f"{plural(quality['n_gaps'], 'gap')} in the data, "
            f"{duration(quality['gap_total_s'])} in total"
            + (f", {restarts} too long to bridge (angles started again)" if restarts else ""),
            soft_wrap=whole,
        )
    if quality.get("n_reps_lost"):  # as the live and replay summary says it
        outside = int(quality.get("n_reps_lost_outside_sets") or 0)
        console.print(lost_reps_text(int(quality["n_reps_lost"]), outside), soft_wrap=whole)
    reps, sets = result["reps"], result["sets"]
    threshold = (result.get("model") or {}).get("threshold")
    n_rounded = sum(bool(r["rounded"]) for r in reps)
    n_hyper = sum(bool(r["hyperextended"]) for r in reps)
    flagged = flagged_text(sum(is_flagged(r) for r in reps), n_rounded, n_hyper)
    if not reps:  # no empty table, no notes on its columns
        console.print("0 reps found")
        return
    table = Table(title=f"{plural(len(reps), 'rep')} in {plural(len(sets), 'set')}, {flagged}")
    wall = timeline.has_wall_clock
    columns = {
        "set": [str(r["set"]) for r in reps],
        "rep": [str(r["rep"]) for r in reps],
        "start": [timeline.at(r["start_s"]) for r in reps],
        **({f"clock ({zone_name()})": [timeline.wall(r["start_s"]) for r in reps]} if wall else {}),
        "dur s": [signed(r["end_s"] - r["start_s"], ".2f") for r in reps],
        "peak flex deg": [signed(r["peak_flexion_deg"], ".0f") for r in reps],
        "lift-off deg": [signed(r["liftoff_flexion_deg"], ".0f") for r in reps],
        "lockout ext deg": [
            _beside(r["lockout_extension_deg"], result["settings"]["hyperextension_deg"])
            for r in reps
        ],
        "ascent s": [signed(r["ascent_s"], ".2f") for r in reps],
        "p rounded": [
            probability(r["p_rounded"], threshold).removeprefix("p=") or "-" for r in reps
        ],
        "verdict": [verdict(r) for r in reps],
    }
    if console.width < 120:  # a terminal: whole cells (at 80 columns "0:48…", "roun…")
        from rich import box

        table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
        table.collapse_padding = True
        if console.width < 90:
            for title in ("lift-off deg", "dur s"):  # in --json and --reps
                del columns[title]
        columns = {title.replace(" ", "\n"): cells for title, cells in columns.items()}
    for title, cells in columns.items():
        # the cells whole; a long title folds; a verdict too long for the terminal folds
        # at its spaces ("rounded +" over "hyperextended"), never cut ("hyperextende")
        words = title == "verdict" and console.width < 120
        table.add_column(
            title,
            justify="left" if title == "verdict" else "right",
            min_width=max(
                (len(w) for c in cells for w in (c.split() if words else [c])), default=0
            ),
        )
    for cells in zip(*columns.values(), strict=True):
        table.add_row(*cells)
    console.print(table)
    notes = [
        "start: time from the recording's start (m:ss.s)"
        + (f"; clock: time of day ({zone_name()})" if wall else ""),
        (
            "lockout ext: extension beyond upright at lockout (hyperextended beyond "
            f"{result['settings']['hyperextension_deg']:g} deg)"
        ),
    ]
    if threshold is not None:
        notes.append(
            f"p rounded: the model's probability of a rounded back; rounded at p ≥ {threshold:.2f}"
        )
    for note in notes:
        console.print(note, style="dim")
    for s in sets:
        n_flagged = sum(is_flagged(r) for r in reps if r["set"] == s["set"])
        width = console.width if sys.stdout.isatty() else None  # folded as in the log
        for line in fold(set_text({**s, "n_flagged": n_flagged}), width):
            console.print(line, soft_wrap=whole)
