"""What `imu train`, `imu evaluate` and `imu label` share: labelled data, targets,
groups, a progress bar on stderr and the printed summaries."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.model.dataset import LabelledRows, SessionOptions, labelled_rows
from imu.model.labels import SOURCE, SUBJECT
from imu.model.training import Progress

if TYPE_CHECKING:
    from imu.batch.executors import Executor

DEFAULT_POSITIVE = "rounded"


@dataclass
class TrainingData:
    """Model rows with targets (1 = positive label) and group ids."""

    data: LabelledRows
    y: np.ndarray
    groups: np.ndarray
    group_by: str
    positive: str


def targets(labels: pd.DataFrame, positive: str) -> np.ndarray:
    """1 where the label is ``positive``; InputError if no span has that label."""
    names = labels["label"].astype(str)
    if not (names == positive).any():
        found = ", ".join(sorted(names.unique()))
        raise input_error(f"no span is labelled {positive!r} (labels found: {found})",
                          path=str(labels[SOURCE].iloc[0]), column="label",
                          hint="choose the class to flag with --positive LABEL")
    return (names == positive).to_numpy().astype(int)


def group_ids(labels: pd.DataFrame, group_by: str | None) -> tuple[np.ndarray, str]:
    """Group ids for cross-validation: ``subject`` (default when every row has one) or
    ``session``."""
    has_subject = SUBJECT in labels.columns and labels[SUBJECT].fillna("").astype(str).ne("").all()
    if group_by is None:
        group_by = "subject" if has_subject else "session"
    if group_by == "subject":
        if not has_subject:
            raise input_error("--group-by subject needs a non-empty 'subject' column in every row",
                              path=str(labels[SOURCE].iloc[0]), column=SUBJECT,
                              hint="add it, or use --group-by session")
        return labels[SUBJECT].astype(str).to_numpy(), group_by
    return labels["session_path"].astype(str).to_numpy(), group_by


def load_training_data(labels: pd.DataFrame, positive: str, group_by: str | None,
                       progress: Progress | None = None,
                       options: SessionOptions | None = None,
                       executor: Executor | None = None) -> TrainingData:
    """Measure every span of a labels table (:func:`imu.model.labels.read_many`) through
    the pipeline, with the command line's session ``options`` where a row sets none
    (sessions in worker processes with an ``executor``); build y and groups."""
    targets(labels, positive)  # fail before the slow part
    group_ids(labels, group_by)
    data = labelled_rows(labels, options, progress=progress, executor=executor)
    groups, group_by = group_ids(data.labels, group_by)
    return TrainingData(data, targets(data.labels, positive), groups, group_by, positive)


@contextlib.contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Progress]:
    """A rich progress bar on stderr; yields ``advance(what)``. Silent when disabled or
    when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda what: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TextColumn("{task.fields[what]}"),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, what="")

        def advance(what: str) -> None:
            bar.update(task, advance=1, what=str(what)[-40:])

        yield advance


def format_metrics(metrics: dict) -> str:
    """One line of the headline figures."""
    def f(key: str) -> str:
        value = metrics.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (f"balanced accuracy {f('balanced_accuracy')}, sensitivity {f('sensitivity')}, "
            f"specificity {f('specificity')}, accuracy {f('accuracy')}, ROC AUC {f('roc_auc')} "
            f"({metrics.get('n_spans')} spans, {metrics.get('n_positive')} positive)")


def confusion_table(metrics: dict, positive: str) -> str:
    """The 2x2 confusion matrix as aligned text."""
    c = metrics["confusion"]
    width = max(len(positive), 5) + 2
    return "\n".join([
        f"{'':>14}{'flagged':>{width + 4}}{'not flagged':>14}",
        f"{'true ' + positive:>14}{c['tp']:>{width + 4}}{c['fn']:>14}",
        f"{'true other':>14}{c['fp']:>{width + 4}}{c['tn']:>14}",
    ])


def print_warnings(messages: list[str]) -> None:
    for message in messages:
        print(f"warning: {message}", file=sys.stderr)


def rate_warnings(manifest: dict, rates_hz: dict[str, float]) -> list[str]:
    """Notes for sessions sampled outside the rates the model was trained on."""
    trained = manifest.get("sampling_rate_hz") or {}
    low, high = trained.get("min"), trained.get("max")
    if low is None or high is None:
        return []
    return [f"{path}: {rate:g} Hz is outside the model's training rates ({low:g}-{high:g} Hz); "
            "check its flags against video" for path, rate in rates_hz.items()
            if not low <= rate <= high]
