"""`imu label`: every detected rep as an editable row of a labels CSV.

    imu label SESSION [SESSION ...] -o labels.csv [--model MODEL] [--subject NAME]
              [--mounting M] [--lift L] [--set-rest-s S] ... [--format F] [--acc-unit U] ...

The reps are the ones ``imu analyze`` finds with the same input and measurement options,
and the file records those options in session-option columns (``lift`` always; ``mounting``,
``format``, ``acc_unit``, ``set_rest_s``, ... when given), so ``imu train`` and ``imu
evaluate`` measure the spans the same way without being told again. The
``label`` column starts as the current model's guess (``predicted`` keeps it, with
``p_rounded`` and the pipeline's metrics for orientation). Review the video, fix the
``label`` column, then ``imu train labels.csv -o mine.skops`` (or ``--personalize``):
the edit-and-retrain loop of docs/classifier.md.
"""

from __future__ import annotations

import argparse

from imu.commands.options import add_measurement_arguments
from imu.importers import add_input_arguments

METRIC_COLUMNS = ("peak_flexion_deg", "liftoff_flexion_deg", "lockout_extension_deg",
                  "descent_s", "ascent_s", "lateral_bend_range_deg", "twist_range_deg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sessions", nargs="+", metavar="SESSION", help="recordings (any supported format)")
    parser.add_argument("-o", "--output", required=True, metavar="LABELS.csv", help="labels CSV to write")
    parser.add_argument("--model", default=None, metavar="MODEL",
                        help="model whose guesses pre-fill the label column (default: shipped model)")
    parser.add_argument("--subject", default=None, metavar="NAME",
                        help="subject column value (default: the session's 'subject'/'lifter' "
                        "metadata, else the file name)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing labels file")
    add_input_arguments(parser)
    add_measurement_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    import pandas as pd

    from imu.commands.options import check_output
    from imu.errors import input_error
    from imu.importers import load
    from imu.measure import lift_mismatch
    from imu.model.dataset import options_from_args, session_setup
    from imu.model.files import load_model
    from imu.model.labels import write_labels
    from imu.model.workflow import print_warnings, rate_warnings
    from imu.pipeline import analyze_session
    from imu.text import Timeline, plural

    check_output(args.output, "-o", force=args.force, inputs=args.sessions)
    options = {k: v for k, v in options_from_args(args).items() if v is not None}
    settings, how = session_setup(options)
    resolved = [Path(p).resolve() for p in args.sessions]
    for i, key in enumerate(resolved):  # twice = every span twice: train refuses overlaps
        if key in resolved[:i]:
            first = args.sessions[resolved.index(key)]
            raise input_error(
                f"session given twice (also as {first})",
                path=args.sessions[i],
                hint="give each session once",
            )
    output = Path(args.output)
    model = load_model(args.model)
    positive = model.positive_label
    negative = str(model.manifest.get("negative_label", "good"))
    rows, counts = [], []  # the counts are printed once the file is written
    for path in args.sessions:
        session = load(path, **how)
        result = analyze_session(session, settings, classifier=model)
        notes = rate_warnings(model.manifest, {path: result.sampling_rate_hz})
        if not result.calibration.get("ok", False):
            notes.append(f"{path}: calibration: {result.calibration.get('message')}")
        # what `imu analyze` warns of: a recording naming another lift (a squat labelled
        # with the deadlift preset kept 1 of 16 reps)
        mismatch = lift_mismatch(session.metadata, settings.reps.lift)
        notes += [f"{path}: {mismatch}"] if mismatch else []
        print_warnings(notes)
        relative = os.path.relpath(Path(path).resolve(), output.resolve().parent)
        subject = _subject(args.subject, path, session.metadata)
        timeline = Timeline.for_recording(
            float(session.data["time_s"].iloc[0]) if len(session.data) else None,
            session.metadata,
        )
        for rep in result.reps:
            guess = positive if rep["rounded"] else negative
            rows.append({"session": relative.replace(os.sep, "/"), "start_s": rep["start_s"],
                         "end_s": rep["end_s"], "label": guess, "subject": subject, **options,
                         "set": rep["set"], "rep": rep["rep"],
                         "start_in_recording": timeline.stamp(rep["start_s"]), "predicted": guess,
                         "p_rounded": round(rep["p_rounded"], 3),
                         **{c: round(rep[c], 3) for c in METRIC_COLUMNS}})
        judged = sum(bool(r["rounded"]) for r in result.reps)
        counts.append(f"{path}: {plural(len(result.reps), 'rep')}, {judged} predicted "
                      f"{positive} (p \u2265 {model.threshold:.2f})")
    columns = ["session", "start_s", "end_s", "label", "subject", *options, "set", "rep",
               "start_in_recording", "predicted", "p_rounded", *METRIC_COLUMNS]
    write_labels(pd.DataFrame(rows, columns=columns), output, force=args.force)
    print("\n".join(counts), file=sys.stderr)
    outside = any(row["session"].startswith("../") or os.path.isabs(row["session"]) for row in rows)
    if outside:
        print(f"imu label: note: sessions outside {output.parent or '.'}/ are named by relative "
              "paths; 'imu train' and 'imu evaluate' read them with --allow-outside",
              file=sys.stderr)
    print(f"{output}: {plural(len(rows), 'rep')}; fix the 'label' column after review, then "
          f"'imu train {output} -o MODEL' (or --personalize default)", file=sys.stderr)
    return 0


def _subject(given: str | None, path: str, metadata: dict[str, str]) -> str:
    """``--subject``, else the session's ``subject``/``lifter`` metadata, else the file
    name; refused when it is no label-like name (it lands in a spreadsheet cell)."""
    from pathlib import Path

    from imu.errors import input_error
    from imu.model.labels import label_problem

    key = next((k for k in ("subject", "lifter") if metadata.get(k)), None)
    subject = given or (metadata[key] if key else Path(path).name.split(".")[0])
    problem = label_problem(subject)
    if problem:
        source = "--subject" if given else f"metadata '{key}'" if key else "the file name"
        raise input_error(f"subject from {source}: {problem.replace('label', 'name')}",
                          path=None if given else path, hint="pass --subject NAME")
    return subject
