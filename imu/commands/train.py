"""`imu train`: train the rounded-back classifier on labelled spans, with grouped CV.

    imu train LABELS.csv [LABELS2.csv ...] -o MODEL.skops [--positive LABEL]
              [--group-by subject|session] [--json]
    imu train --personalize BASE.skops MY_LABELS.csv -o MINE.skops
    [--mounting M] [--lift L] [--set-rest-s S] ... [--format F] [--acc-unit U] [--gyr-unit U]

Each session is read and measured as it was labelled: with the options in its rows'
session-option columns (``mounting``, ``lift``, ... as ``imu label`` writes them), else
with the input and measurement options given here (docs/classifier.md).
Nested grouped cross-validation (leave-one-group-out up to 10 groups) scores the very
recipe that then trains the saved model (docs/classifier.md).
"""

from __future__ import annotations

import argparse
import json
import shlex

from imu.commands.options import (
    add_executor_arguments,
    add_label_arguments,
    add_measurement_arguments,
)
from imu.importers import add_input_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", nargs="+", metavar="LABELS.csv",
                        help="labels CSV(s): session,start_s,end_s,label[,subject]")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL",
                        help="model file to write (.skops; a MODEL.manifest.json copy goes next to it)")
    parser.add_argument("--positive", default=None, metavar="LABEL",
                        help="label of the class to flag (default 'rounded', or the base model's)")
    parser.add_argument("--group-by", choices=("subject", "session"), default=None,
                        help="cross-validation groups (default: subject when every row has one)")
    parser.add_argument("--target-sensitivity", type=float, default=None, metavar="S",
                        help="minimum sensitivity of the chosen operating point (default 0.90, also "
                        "when personalising; the shipped model was trained with 0.97)")
    parser.add_argument("--personalize", metavar="BASE_MODEL", default=None,
                        help="adapt BASE_MODEL to the lifter of LABELS (their reps weighted up, "
                        "own threshold); 'default' = the shipped model")
    parser.add_argument("--user-weight", type=int, default=None, metavar="N",
                        help="with --personalize: repeat the lifter's reps N times (default: auto)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--force", action="store_true", help="overwrite an existing model file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_arguments(parser, "1, this process")
    add_label_arguments(parser)
    add_input_arguments(parser)
    add_measurement_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from imu.commands.options import check_output
    from imu.errors import InputError
    from imu.model.classifier import RepClassifier
    from imu.model.dataset import options_from_args, session_setup
    from imu.model.files import load_model, manifest_path, save_model
    from imu.model.personalize import (
        MIN_USER_GROUPS,
        personal_cv,
        personalize,
        uses_base_rows,
    )
    from imu.model.training import TARGET_SENSITIVITY, cross_validate, fit_model, n_fits
    from imu.model.workflow import (
        confusion_table,
        format_metrics,
        load_training_data,
        print_warnings,
        progress_bar,
    )

    if args.target_sensitivity is not None and not 0.0 < args.target_sensitivity <= 1.0:
        raise InputError("--target-sensitivity must be in (0, 1]")
    check_output(args.output, "-o", force=args.force, inputs=args.labels)
    check_output(str(manifest_path(args.output)), "-o (its manifest copy)", force=args.force,
                 inputs=args.labels)
    options = options_from_args(args)
    session_setup(options)  # bad option values fail before loading a base model
    output = Path(args.output)
    base = None
    if args.personalize:
        base = load_model(None if args.personalize == "default" else args.personalize)
    training_files: list[dict] = []
    sessions: list[tuple[dict, str]] = []  # each session of training_files, its path

    def hash_files(labels) -> None:  # hashed before the slow part
        training_files.extend(_training_files(labels, options, sessions))

    data = load_training_data(
        args.labels, options, positive=args.positive, negative=args.negative, model=base,
        group_by=args.group_by, allow_outside=args.allow_outside, jobs=args.jobs,
        scheduler=args.scheduler, show_progress=not args.quiet, on_read=hash_files)
    positive = data.positive
    for session, path in sessions:  # what the manifest says the model was trained on
        session["synthetic"] = data.data.synthetic.get(path)
    print_warnings(data.data.warnings)
    X, y, groups = data.data.rows, data.y, data.groups
    lifts = {str((session.get("options") or {}).get("lift") or "deadlift")
             for files in training_files for session in files.get("sessions") or []}
    pooled = base is None or uses_base_rows(base, positive, lifts)
    n_groups = len(np.unique(groups))
    # the standard target also when personalising (imu.model.personalize's docstring)
    target = TARGET_SENSITIVITY if args.target_sensitivity is None else args.target_sensitivity
    if base is None and n_groups < 3:
        raise InputError(_too_few_groups(n_groups, data.group_by, used_sessions(data)))
    if base is None:
        with progress_bar("cross-validating", n_fits(n_groups), not args.quiet) as advance:
            cv = cross_validate(X, y, groups, target_sensitivity=target, progress=advance)
            fit = fit_model(X, y, groups, target_sensitivity=target, progress=advance)
        cv_json = cv.to_json()
        training = {"rows": X, "labels": y, "groups": groups}
        extra = {}
    else:
        with progress_bar("personalising", MIN_USER_GROUPS + 1, not args.quiet) as advance:
            compared = personal_cv(base, X, y, groups, user_weight=args.user_weight,
                                   target_sensitivity=target, progress=advance, pooled=pooled)
            fit, info = personalize(base, X, y, groups, user_weight=args.user_weight,
                                    target_sensitivity=target, progress=advance, pooled=pooled)
        cv_json = {**compared["personalised"], "base_model_on_same_spans": compared["base"]}
        training = {"rows": X, "labels": y, "groups": groups.astype(str)}
        if pooled:
            training = {"rows": np.vstack([base.training_rows, X]),
                        "labels": np.concatenate([base.training_labels, y]),
                        "groups": np.concatenate([base.training_groups.astype(str),
                                                  groups.astype(str)])}
        extra = {"personalised_from": {"model": args.personalize,
                                       "manifest": {k: base.manifest.get(k) for k in
                                                    ("created_utc", "training_files", "cv")},
                                       **info}}
    used = data.data.labels
    negative = used.loc[y == 0, "label"].astype(str)
    rates = [r for r in data.data.sampling_rates_hz.values() if np.isfinite(r)]
    manifest = {
        "created_utc": _now(),
        "command": _command_line(args),
        "positive_label": positive,
        "negative_label": negative.mode().iloc[0] if len(negative) else "other",
        "labels": sorted(used["label"].astype(str).unique()),
        "target_sensitivity": target,
        "operating_point_inner_cv": fit.inner_operating_point,
        "chosen_model": fit.chosen,
        "inner_cv": fit.inner_cv,
        "candidate_roc_auc": fit.candidate_auc,
        "group_by": data.group_by,
        "baseline": {"prior_weight": 3.0, "history": "detected reps of the session that ended "
                     "before the span (docs/classifier.md)"},
        "sampling_rate_hz": {"min": min(rates), "max": max(rates)} if rates else None,
        "training_files": training_files,
        "cv": cv_json,
        **extra,
    }
    model = RepClassifier(fit.estimator, fit.threshold, manifest, training["rows"],
                          training["labels"], training["groups"])
    save_model(model, output, force=args.force)
    if args.json:
        print(json.dumps({"model": str(output), "cv": cv_json, "threshold": fit.threshold,
                          "chosen_model": fit.chosen,
        "inner_cv": fit.inner_cv, "positive_label": positive,
                          "group_by": data.group_by}, default=float))
        return 0
    what = "personalised model" if base else "model"
    print(f"{output}: {what} '{fit.chosen}', flags '{positive}' at p ≥ {fit.threshold:.3f}")
    if not pooled:
        print(f"fitted on your {len(y)} spans alone: the base model's training spans are "
              f"labelled for '{base.positive_label}', not '{positive}', on other lifts")
    print(f"{_how_checked(base is not None, data.group_by, n_groups, len(y))}: "
          f"{format_metrics(cv_json)}")
    if base is not None:
        print(f"base model on the same spans: {format_metrics(cv_json['base_model_on_same_spans'])}")
    print(confusion_table(cv_json, positive))
    return 0


def used_sessions(data) -> int:
    """How many recordings the labelled spans come from."""
    from imu.model.labels import SESSION_PATH

    return int(data.data.labels[SESSION_PATH].nunique())


def _too_few_groups(n_groups: int, group_by: str, n_sessions: int) -> str:
    """Why nested cross-validation cannot run, and the way out that exists for this data."""
    plural = "s" if n_groups != 1 else ""
    text = (
        f"cross-validation by {group_by} needs at least 3 {group_by}s to hold out in turn, "
        f"the labels have {n_groups} {group_by}{plural}; "
    )
    if group_by == "subject" and n_sessions >= 3:
        return text + f"use --group-by session ({n_sessions} sessions), or label more lifters"
    return text + (
        "label more lifters, or personalise the shipped model with --personalize default "
        "(it is checked on blocks of your own reps)"
    )


def _how_checked(personalised: bool, group_by: str, n_groups: int, n_spans: int) -> str:
    """What the cross-validation did, in words (issue 16: not "1 groups" when it used blocks
    of the lifter's own reps; not "each held out in turn" when groups were held out several
    to a fold: imu.model.training.group_splits leaves one out only up to its fold count)."""
    from imu.model.personalize import MIN_USER_GROUPS
    from imu.model.training import OUTER_FOLDS

    folds = MIN_USER_GROUPS if personalised else OUTER_FOLDS
    if not personalised:
        if n_groups > folds:
            return (f"cross-validated by {group_by}: {n_groups} {group_by}s in {folds} folds, "
                    f"each fold held out in turn ({n_spans} spans)")
        return (f"cross-validated by {group_by}: each of {n_groups} {group_by}s held out in "
                f"turn ({n_spans} spans)")
    if n_groups > folds:
        return (f"checked by holding out your {n_groups} {group_by}s in {folds} folds, each "
                f"fold in turn, personalising on the others ({n_spans} spans)")
    if n_groups == folds:
        return (f"checked by holding out each of your {n_groups} {group_by}s in turn, "
                f"personalising on the others ({n_spans} spans)")
    return (
        f"checked on your own reps: {n_spans} spans in {MIN_USER_GROUPS} blocks in time order, "
        f"each held out in turn while personalising on the others (fewer than "
        f"{MIN_USER_GROUPS} {group_by}s to hold out; reps of one session are alike, so "
        "expect less on a new day)"
    )


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this model (as given, relative paths kept)."""
    from imu.model.dataset import options_from_args

    words = ["imu", "train", *args.labels, "-o", args.output]
    given = {name: value for name, value in options_from_args(args).items()
             if value is not None and not (name == "lift" and value == "deadlift")}
    for flag, value in (("--positive", args.positive), ("--negative", args.negative),
                        ("--group-by", args.group_by),
                        ("--personalize", args.personalize), ("--user-weight", args.user_weight),
                        *(("--" + name.replace("_", "-"), value) for name, value in given.items())):
        if value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.target_sensitivity is not None:
        words += ["--target-sensitivity", f"{args.target_sensitivity:g}"]
    if args.allow_outside:
        words += ["--allow-outside"]
    return shlex.join(words)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _training_files(labels, options, paths: list[tuple[dict, str]]) -> list[dict]:
    """Labels files and the sessions they name (as written in the file), with SHA-256 and
    the session options each is measured with; each session's dict and path are added to
    ``paths`` (``synthetic``, whether its metadata marks it SYNTHETIC, is set once it is
    measured)."""
    from imu.model.dataset import session_options
    from imu.model.files import sha256
    from imu.model.labels import SESSION_PATH, SOURCE

    files = []
    for source, rows in labels.groupby(SOURCE, sort=False):
        groups = list(rows.groupby(SESSION_PATH, sort=False))
        sessions = [{"path": spans["session"].iloc[0], "sha256": _sha256_tree(path),
                     "options": session_options(spans, options)} for path, spans in groups]
        paths += [(session, path) for session, (path, _) in zip(sessions, groups, strict=True)]
        files.append({"labels": source, "sha256": sha256(source), "n_spans": len(rows),
                      "sessions": sessions})
    return files


def _sha256_tree(path: str) -> str:
    """:func:`imu.model.files.sha256_tree` (the manifest's session hashes)."""
    from imu.model.files import sha256_tree

    return sha256_tree(path)
