"""The labelled-spans CSV: ``session,start_s,end_s,label`` (+ optional ``subject``, extras).

``session`` is the path of a recording relative to the labels file (any input format
``imu.importers.load`` reads: a file, a zip or the folder of a multi-file export). ``start_s``/``end_s`` are times in that session's own
``time_s`` clock; a span is usually one rep as detected by the pipeline (``imu label``
writes those), but any span works (labels from video review or another tool). Label
names are free text; which one is flagged is chosen at training time (``--positive``).
Lines starting with ``#`` are comments. Extra columns are kept.

Optional columns say how a row's session is read and measured, with the names and values
of the ``imu analyze`` options (:data:`SESSION_OPTIONS`: ``format``, ``acc_unit``,
``gyr_unit``, ``mounting``, ``lift``, ``hyperextension_deg``, ``set_rest_s``,
``rest_pause_s``). ``imu label`` writes the ones it was given; ``imu train`` and ``imu
evaluate`` measure each session with them, a blank cell or a missing column taking the
command line's value. A session is analysed once, so its rows must agree.

Files from strangers: a labels file is shared between lifters and coaches, so ``session``
paths must stay inside the labels file's folder (links followed) unless the reader passes
``allow_outside`` (``--allow-outside``), and must name a regular file or an export's
folder (never a device). Label names are short printable words (:func:`label_problem`:
no spreadsheet formula).

Every problem is an :class:`imu.errors.InputError` naming file, line and column.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.text import plural

REQUIRED_COLUMNS = ("session", "start_s", "end_s", "label")
SUBJECT = "subject"
#: Bookkeeping columns added by :func:`read_labels` (not written back).
LINE = "line"
SOURCE = "labels_file"
SESSION_PATH = "session_path"
#: Optional per-row columns: the ``imu analyze`` input and measurement options (dest names)
#: under which the row's session is read and measured; blank = the command line's value.
SESSION_OPTIONS = ("format", "acc_unit", "gyr_unit", "mounting", "lift",
                   "hyperextension_deg", "set_rest_s", "rest_pause_s")
_NUMERIC_OPTIONS = ("hyperextension_deg", "set_rest_s", "rest_pause_s")
MAX_LABEL_CHARS = 40
_FORMULA_STARTS = ("=", "+", "-", "@")


def label_problem(name: str) -> str | None:
    """What is wrong with a label name, or ``None``: 1-40 printable characters, no
    surrounding spaces, not starting with ``= + - @`` (a spreadsheet would run it as a
    formula when the labels CSV is opened for review)."""
    if not name:
        return "empty label"
    if len(name) > MAX_LABEL_CHARS:
        return f"label of {len(name)} characters (at most {MAX_LABEL_CHARS})"
    if not name.isprintable() or name != name.strip():
        return f"label {name!r} has control characters or surrounding spaces"
    if name.startswith(_FORMULA_STARTS):
        return f"label {name!r} starts with {name[0]!r} (a spreadsheet formula)"
    return None


def read_labels(path: str | os.PathLike, *, allow_outside: bool = False) -> pd.DataFrame:
    """Read and validate one labels CSV.

    Returns a DataFrame with the file's columns (``start_s``/``end_s`` as float) plus
    ``session_path`` (resolved path of the recording), ``line`` (1-based line number in
    the file) and ``labels_file``. Checks: required columns, numeric finite times,
    non-empty spans (``end_s > start_s``), label names (:func:`label_problem`), existing
    session files or folders inside the labels file's folder (anywhere with
    ``allow_outside``) and no overlapping spans within a session, except neighbours sharing
    a few samples, which are trimmed (:data:`TRIM_OVERLAP_S`; one warning in
    ``attrs["warnings"]``). Spans outside a session's time range are checked when the
    session is loaded
    (:func:`check_span_in_session`).
    """
    from imu.fileio import read_input

    path = Path(path)
    if not path.exists():
        raise input_error("no such labels file", path=str(path))
    try:
        text = read_input(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise input_error("not a text CSV file (cannot decode as UTF-8)", path=str(path)) from None
    numbered = [(i + 1, line) for i, line in enumerate(text.splitlines())]
    numbered = [(n, line) for n, line in numbered if line.strip() and not line.startswith("#")]
    if not numbered:
        raise input_error("empty labels file: no header line", path=str(path),
                          hint=f"the header is {','.join(REQUIRED_COLUMNS)}[,subject]")
    header_line, header_text = numbered[0]
    header = [c.strip() for c in next(csv.reader([header_text]))]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        columns = f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        raise input_error(f"missing {columns}",
                          path=str(path),
                          line=header_line,
                          hint=f"the header is {','.join(REQUIRED_COLUMNS)}[,subject]")
    rows = []
    for line_no, fields in zip((n for n, _ in numbered[1:]),
                               csv.reader(line for _, line in numbered[1:])):
        if len(fields) != len(header):
            raise input_error(f"{len(fields)} fields, the header has {len(header)}",
                              path=str(path), line=line_no)
        row = dict(zip(header, (f.strip() for f in fields)))
        row[LINE] = line_no
        rows.append(row)
    if not rows:
        raise input_error("no labelled spans (only a header)", path=str(path))
    frame = pd.DataFrame(rows, columns=[*header, LINE])
    for row in rows:
        _check_row(row, path, allow_outside)
        _check_options(row, path)
    frame["start_s"] = frame["start_s"].astype(np.float64)
    frame["end_s"] = frame["end_s"].astype(np.float64)
    frame[SESSION_PATH] = [str((path.parent / s).resolve()) for s in frame["session"]]
    frame[SOURCE] = str(path)
    _check_overlaps(frame, path)
    _check_session_agreement(frame, path)
    return frame


def row_options(row: dict | pd.Series) -> dict[str, str | float]:
    """The session options a labels row sets (:data:`SESSION_OPTIONS` with a non-blank
    cell; numbers as float). Values are checked by :func:`read_labels`."""
    options: dict[str, str | float] = {}
    for name in SESSION_OPTIONS:
        value = row.get(name)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        text = str(value).strip()
        if text:
            options[name] = float(text) if name in _NUMERIC_OPTIONS else text
    return options


def _check_options(row: dict, path: Path) -> None:
    """One-line error naming file, line and column for a bad session-option cell."""
    from imu.errors import InputError
    from imu.importers import ACC_UNIT_CHOICES, FORMATS, GYR_UNIT_CHOICES
    from imu.pipeline import LIFTS, engine_settings
    from imu.pipeline.calibration import parse_mounting

    choices = {"format": tuple(FORMATS), "acc_unit": ACC_UNIT_CHOICES,
               "gyr_unit": GYR_UNIT_CHOICES, "lift": tuple(LIFTS)}
    for name in SESSION_OPTIONS:
        text = str(row.get(name) or "").strip()
        if not text:
            continue
        where = {"path": str(path), "line": row[LINE], "column": name}
        if name in choices and text not in choices[name]:
            raise input_error(f"unknown {name} {text!r}", **where,
                              hint=f"choose one of {', '.join(choices[name])}, or leave it blank")
        try:
            if name == "mounting":
                parse_mounting(text)
            elif name in _NUMERIC_OPTIONS:
                engine_settings(**{name: float(text)})
        except ValueError:
            raise input_error(f"not a number: {text!r}", **where,
                              hint="seconds or degrees as in the imu analyze option") from None
        except InputError as exc:
            raise input_error(str(exc), **where) from None


def _check_session_agreement(frame: pd.DataFrame, path: Path) -> None:
    """A session is measured once: its rows must carry the same session options (compared
    as :func:`row_options` reads them)."""
    present = [c for c in SESSION_OPTIONS if c in frame.columns]
    if not present:
        return
    for _, spans in frame.groupby(SESSION_PATH, sort=False):
        first = spans.iloc[0]
        expected = row_options(first)
        for _, row in spans.iloc[1:].iterrows():
            given = row_options(row)  # values as measured: "2.5" and "2.50" agree
            for name in present:
                if given.get(name) != expected.get(name):
                    raise input_error(
                        f"{name} {row[name]!r} differs from {first[name]!r} on line "
                        f"{first[LINE]} of the same session",
                        path=str(path), line=int(row[LINE]), column=name,
                        hint="a session is measured once: give all its rows the same value",
                    )


def _check_row(row: dict, path: Path, allow_outside: bool) -> None:
    line = row[LINE]
    times = {}
    for column in ("start_s", "end_s"):
        try:
            times[column] = float(row[column])
        except ValueError:
            times[column] = float("nan")
        if not np.isfinite(times[column]):
            raise input_error(f"not a finite number: {row[column]!r}", path=str(path),
                              line=line, column=column, hint="times are seconds in the session's clock")
    if times["end_s"] <= times["start_s"]:
        raise input_error(f"empty span: end_s {times['end_s']:g} <= start_s {times['start_s']:g}",
                          path=str(path), line=line, column="end_s")
    problem = label_problem(row["label"])
    if problem:
        raise input_error(problem, path=str(path), line=line, column="label",
                          hint="write the class of the span, e.g. rounded or good")
    if not row["session"]:
        raise input_error("empty session", path=str(path), line=line, column="session")
    _check_session_path(row["session"], path, line, allow_outside)


def _check_session_path(session: str, path: Path, line: int, allow_outside: bool) -> None:
    """The session of a row: a file or an export's folder, inside the labels file's folder
    (links followed) unless ``allow_outside``. A device is refused before anything reads it."""
    from imu.errors import InputError
    from imu.fileio import input_kind

    where = {"path": str(path), "line": line, "column": "session"}
    target = path.parent / session
    if not target.exists():  # a file, or the folder of a multi-file export
        raise input_error(f"unknown session: no file {str(target)!r}", **where,
                          hint="session paths are relative to the labels file")
    home = os.path.realpath(path.parent)
    if not allow_outside and os.path.commonpath([home, os.path.realpath(target)]) != home:
        raise input_error(f"session {session!r} is outside the labels file's folder {home}",
                          **where, hint="pass --allow-outside if you trust this labels file")
    try:
        input_kind(target, pipe=False)
    except InputError as exc:
        raise input_error(str(exc), **where) from None


TRIM_OVERLAP_S = 0.25
"""Adjacent spans of a session overlapping by at most this long (s) and by at most
:data:`TRIM_OVERLAP_SHARE` of the shorter one (hand-made rep windows that share a few
samples) are trimmed to meet halfway, with one warning; longer overlaps are refused."""
TRIM_OVERLAP_SHARE = 0.2


def _check_overlaps(frame: pd.DataFrame, path: Path) -> None:
    """Refuse overlapping spans of a session, except a few samples shared by neighbours:
    those are trimmed to meet halfway and counted in ``frame.attrs["warnings"]``."""
    trimmed, largest = 0, 0.0
    for _, spans in frame.groupby(SESSION_PATH, sort=False):
        spans = spans.sort_values("start_s")
        index = spans.index.to_numpy()
        ends = spans["end_s"].to_numpy()
        starts = spans["start_s"].to_numpy()
        lines = spans[LINE].to_numpy()
        for i in np.flatnonzero(starts[1:] < ends[:-1]):
            overlap = ends[i] - starts[i + 1]
            shorter = min(ends[i] - starts[i], ends[i + 1] - starts[i + 1])
            nested = ends[i + 1] <= ends[i] or (i + 2 < len(starts) and starts[i + 2] < ends[i])
            if overlap <= min(TRIM_OVERLAP_S, TRIM_OVERLAP_SHARE * shorter) and not nested:
                middle = (ends[i] + starts[i + 1]) / 2
                frame.loc[index[i], "end_s"] = middle
                frame.loc[index[i + 1], "start_s"] = middle
                trimmed += 1
                largest = max(largest, overlap)
                continue
            raise input_error(
                f"span {starts[i + 1]:g}-{ends[i + 1]:g} s overlaps line {lines[i]} "
                f"({starts[i]:g}-{ends[i]:g} s) of the same session",
                path=str(path), line=int(lines[i + 1]), column="start_s",
                hint="each instant of a session belongs to at most one labelled span",
            )
    if trimmed:
        frame.attrs.setdefault("warnings", []).append(
            f"{path}: {plural(trimmed, 'pair')} of adjacent spans overlapped by up to "
            f"{largest:.3g} s; trimmed to meet halfway"
        )


def check_span_in_session(row: pd.Series, first_s: float, last_s: float) -> None:
    """Raise an InputError if the labelled span is not inside ``[first_s, last_s]``."""
    if row["start_s"] < first_s or row["end_s"] > last_s:
        raise input_error(
            f"span {row['start_s']:g}-{row['end_s']:g} s is outside the session "
            f"({first_s:g}-{last_s:g} s)",
            path=row[SOURCE], line=int(row[LINE]),
            column="start_s" if row["start_s"] < first_s else "end_s",
            hint="times are in the session file's own time_s clock",
        )


def read_many(paths: list[str | os.PathLike], *, allow_outside: bool = False) -> pd.DataFrame:
    """Read several labels files into one frame (same checks as :func:`read_labels`)."""
    frames = [read_labels(p, allow_outside=allow_outside) for p in paths]
    joined = pd.concat(frames, ignore_index=True)
    joined.attrs = {"warnings": [w for f in frames for w in f.attrs.get("warnings", [])]}
    return joined


def write_labels(frame: pd.DataFrame, path: str | os.PathLike, *, force: bool = True) -> None:
    """Write a labels CSV (bookkeeping columns dropped; times at full precision, so a span
    selects exactly the same samples when read back).

    Complete or absent (:func:`imu.fileio.atomic_output`): a crash, a full disk or an
    interrupt during the write leaves an existing labels file (a user's reviewed labels)
    as it was. A failed write is an InputError naming ``path``.
    """
    from imu.fileio import atomic_output

    columns = [c for c in frame.columns if c not in (LINE, SOURCE, SESSION_PATH)]
    with atomic_output(path, force=force, newline="") as handle:
        frame.to_csv(handle, columns=columns, index=False, lineterminator="\n")
