"""What `imu train`, `imu evaluate` and `imu label` share: labelled data, targets,
groups, a progress bar on stderr and the printed summaries."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.model.dataset import LabelledRows, SessionOptions, labelled_rows
from imu.model.labels import LINE, SOURCE, SUBJECT, label_problem
from imu.model.training import Progress

DEFAULT_POSITIVE = "rounded"
DEFAULT_NEGATIVE = "good"


@dataclass
class TrainingData:
    """Model rows with targets (1 = positive label) and group ids."""

    data: LabelledRows
    y: np.ndarray
    groups: np.ndarray
    group_by: str
    positive: str


def targets(labels: pd.DataFrame, positive: str,
            negatives: Collection[str] = (DEFAULT_NEGATIVE,)) -> np.ndarray:
    """1 where the label is ``positive``, 0 where it is one of ``negatives``; InputError
    (naming the first row) for any other label, and if no span has the positive one."""
    names = labels["label"].astype(str)
    known = names.eq(positive) | names.isin(list(negatives))
    if not known.all():
        row = labels[~known.to_numpy()].iloc[0]
        name = str(row["label"])
        near = [k for k in (positive, *negatives) if k.lower() == name.lower()]
        raise input_error(
            f"unknown label {name!r}: not {positive!r} (flagged) nor "
            f"{', '.join(map(repr, negatives)) or 'a negative label'} (not flagged)"
            + (f"; labels are case-sensitive, did you mean {near[0]!r}?" if near else ""),
            path=str(row[SOURCE]), line=int(row[LINE]), column="label",
            hint="fix the row, or count it as not flagged with --negative "
            + ",".join([*negatives, name]))
    if not names.eq(positive).any():
        found = ", ".join(sorted(names.unique()))
        raise input_error(f"no span is labelled {positive!r} (labels found: {found})",
                          path=str(labels[SOURCE].iloc[0]), column="label",
                          hint="choose the class to flag with --positive LABEL")
    return names.eq(positive).to_numpy().astype(int)


def _check_label(option: str, name: str) -> str:
    """``name`` when it is a valid label name (:func:`imu.model.labels.label_problem`);
    else an InputError naming ``option``."""
    problem = label_problem(name)
    if problem:
        raise input_error(f"{option}: {problem}")
    return name


def check_positive(name: str) -> str:
    """``--positive`` (or a model's positive label) when it is a valid label name."""
    return _check_label("--positive", name)


def negative_labels(option: str | None, positive: str, model=None) -> list[str]:
    """The labels counted as not flagged: ``--negative A,B`` (checked with
    :func:`imu.model.labels.label_problem`), else ``good`` plus the negative labels of
    ``model`` (its manifest's ``labels`` other than its positive one)."""
    if option is not None:
        names = [_check_label("--negative", n.strip()) for n in option.split(",")]
        if positive in names:
            raise input_error(f"--negative: {positive!r} is the flagged class (--positive)")
        return names
    names = [DEFAULT_NEGATIVE]
    if model is not None:
        names += [str(n) for n in model.manifest.get("labels", [])
                  if n != model.positive_label and n not in names]
    return [n for n in names if n != positive]


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


def load_training_data(
    label_files: Sequence[str],
    options: SessionOptions,
    *,
    positive: str | None = None,
    negative: str | None = None,
    model=None,
    group_by: str | None = None,
    allow_outside: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    show_progress: bool = True,
    on_read: Callable[[pd.DataFrame], None] | None = None,
) -> TrainingData:
    """Read labels files (:func:`imu.model.labels.read_many`) and measure every span
    through the pipeline: what ``imu train`` and ``imu evaluate`` do before fitting or
    scoring.

    Each session is measured with its rows' session options, else ``options`` (the
    command line's; checked first, :func:`imu.model.dataset.session_setup`). ``positive``
    (``--positive``; default ``model``'s positive label, else ``rounded``) is 1 in y,
    ``negative`` (``--negative A,B``; default :func:`negative_labels`) 0, other labels
    are refused; groups by ``group_by``. Sessions run in this process, or in ``jobs``
    worker processes or on a Dask ``scheduler`` (:mod:`imu.batch.executors`), with a
    progress bar on stderr when ``show_progress``. ``on_read(labels)`` is called with
    the labels table before the slow part (``imu train`` hashes the files then).
    """
    from imu.batch.executors import make_executor
    from imu.model.dataset import session_setup
    from imu.model.labels import SESSION_PATH, read_many

    session_setup(options)  # bad option values fail before the slow part
    default = model.positive_label if model is not None else DEFAULT_POSITIVE
    positive = check_positive(positive or default)
    negatives = negative_labels(negative, positive, model)
    labels = read_many(label_files, allow_outside=allow_outside)
    targets(labels, positive, negatives)
    group_ids(labels, group_by)
    if on_read is not None:
        on_read(labels)
    executor = make_executor(1 if jobs is None and scheduler is None else jobs, scheduler)
    try:
        with progress_bar("measuring spans", labels[SESSION_PATH].nunique(),
                          show_progress) as advance:
            data = labelled_rows(labels, options, progress=advance, executor=executor)
    finally:
        executor.close()
    groups, group_by = group_ids(data.labels, group_by)
    return TrainingData(data, targets(data.labels, positive, negatives), groups, group_by,
                        positive)


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


def seen_warnings(manifest: dict, session_paths: Sequence[str]) -> list[str]:
    """A warning when sessions being evaluated were in the model's training data (the same
    content, by the SHA-256 its manifest keeps): their figures are not of unseen data."""
    from imu.model.files import sha256_tree

    trained = {session.get("sha256") for files in manifest.get("training_files") or []
               for session in files.get("sessions") or []} - {None}
    if not trained:
        return []
    paths = sorted(set(session_paths))
    seen = [path for path in paths if sha256_tree(path) in trained]
    if not seen:
        return []
    from imu.text import plural

    were = "was" if len(seen) == 1 else "were"
    return [(f"{len(seen)} of {plural(len(paths), 'session')} {were} in this model's training "
             f"data (e.g. {seen[0]}): the figures are not those of unseen data; evaluate on "
             "sessions the model never saw")]


def rate_warnings(manifest: dict, rates_hz: dict[str, float]) -> list[str]:
    """Notes for sessions sampled outside the rates the model was trained on."""
    trained = manifest.get("sampling_rate_hz") or {}
    low, high = trained.get("min"), trained.get("max")
    if low is None or high is None:
        return []
    return [f"{path}: {rate:g} Hz is outside the model's training rates ({low:g}-{high:g} Hz); "
            "check its flags against video" for path, rate in rates_hz.items()
            if not low <= rate <= high]
