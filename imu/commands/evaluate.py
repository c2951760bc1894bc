"""`imu evaluate`: score a trained model on labelled spans it has not seen.

    imu evaluate [--model MODEL] LABELS.csv [...] [--json] [--plot roc.png]
                 [--mounting M] [--lift L] ... [--format F] [--acc-unit U] [--gyr-unit U]

Each session is read and measured as it was labelled, as in ``imu train``: its rows'
session-option columns, else the input and measurement options given here.

Prints the headline figures at the model's own threshold, the confusion matrix and the
figures per group (subject or session); ``--plot`` writes the ROC curve with the
operating point marked.
"""

from __future__ import annotations

import argparse
import json

from imu.commands.options import (
    add_executor_arguments,
    add_label_arguments,
    add_measurement_arguments,
)
from imu.importers import add_input_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", nargs="+", metavar="LABELS.csv",
                        help="labels CSV(s): session,start_s,end_s,label[,subject]")
    parser.add_argument("--model", default=None, metavar="MODEL",
                        help="model file (default: the shipped default model)")
    parser.add_argument("--positive", default=None, metavar="LABEL",
                        help="label of the flagged class in these files (default: the model's)")
    parser.add_argument("--group-by", choices=("subject", "session"), default=None,
                        help="per-group figures by subject or session (default: subject if present)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", metavar="PNG", default=None, help="write the ROC curve to PNG")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_arguments(parser, "1, this process")
    add_label_arguments(parser)
    add_input_arguments(parser)
    add_measurement_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from imu.commands.options import check_output
    from imu.model.dataset import options_from_args
    from imu.model.files import load_model
    from imu.model.labels import SESSION_PATH
    from imu.model.training import per_group_metrics, scores
    from imu.model.workflow import (
        confusion_table,
        format_metrics,
        load_training_data,
        print_warnings,
        rate_warnings,
        seen_warnings,
    )

    check_output(args.plot, "--plot", inputs=args.labels)
    model = load_model(args.model)
    data = load_training_data(
        args.labels, options_from_args(args), positive=args.positive, negative=args.negative,
        model=model, group_by=args.group_by, allow_outside=args.allow_outside, jobs=args.jobs,
        scheduler=args.scheduler, show_progress=not args.quiet)
    positive = data.positive
    print_warnings(data.data.warnings + rate_warnings(model.manifest, data.data.sampling_rates_hz)
                   + seen_warnings(model.manifest, list(data.data.labels[SESSION_PATH])))
    p = model.probability(data.data.rows)
    predicted = p >= model.threshold
    metrics = {**scores(data.y, p, predicted), "threshold": model.threshold,
               "n_groups": len(np.unique(data.groups))}
    per_group = per_group_metrics(data.y, p, predicted, data.groups)
    if args.plot:
        _plot_roc(data.y, p, model.threshold, args.plot)
    if args.json:
        print(json.dumps({"model": args.model or "default", "positive_label": positive,
                          "group_by": data.group_by, "metrics": metrics, "per_group": per_group,
                          "cv_of_model": model.manifest.get("cv", {}).get("balanced_accuracy")},
                         default=float))
        return 0
    print(f"{args.model or 'default model'} on {len(data.y)} spans, threshold "
          f"{model.threshold:.3f}: {format_metrics(metrics)}")
    print(confusion_table(metrics, positive))
    print(f"per {data.group_by}:")
    for group, m in per_group.items():
        print(f"  {group}: {format_metrics(m)}")
    return 0


def _plot_roc(y, p, threshold: float, path: str) -> None:
    """ROC curve with the model's operating point marked."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import roc_curve

    from imu.errors import InputError
    from imu.fileio import atomic_output

    if len(np.unique(y)) < 2:
        raise InputError(f"{path}: a ROC curve needs spans of both classes")
    fpr, tpr, _ = roc_curve(y, p)
    at = p >= threshold
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, label="ROC")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1)
    ax.plot(np.mean(at[y == 0]), np.mean(at[y == 1]), "o", color="C3",
            label=f"operating point (p ≥ {threshold:.2f})")
    ax.set_xlabel("1 - specificity (false alert rate)")
    ax.set_ylabel("sensitivity")
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_output(path, force=True, binary=True) as handle:
        fig.savefig(handle, dpi=120, format=Path(path).suffix.lstrip(".").lower() or "png")
    plt.close(fig)
