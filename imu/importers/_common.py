"""Helpers every importer shares: reading one stream, merging streams, finishing."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from imu.errors import input_error
from imu.importers._sources import SourceFile
from imu.session import (
    ACC,
    GAP_COLUMN,
    GYR,
    REQUIRED,
    TIME,
    Session,
    Table,
    check_time,
    finish_session,
    read_table,
)
from imu.text import plural

SEPARATORS = (",", ";", "\t")


def split_header(line: str, sep: str) -> list[str]:
    return [field.strip() for field in next(csv.reader([line], delimiter=sep))]


def sniff_separator(line: str) -> str:
    """The separator among ``, ; tab`` that splits a header line into the most fields."""
    return max(SEPARATORS, key=lambda sep: len(split_header(line, sep)))


def first_line(file: SourceFile) -> str:
    lines = file.head().splitlines()
    return lines[0] if lines else ""


def read_stream(
    table: Table,
    columns: Mapping[str, str],
    *,
    decimal: str = ".",
    time_scale: float = 1.0,
    time_fix: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Numeric, time-checked frame of one file (source column -> canonical name).

    ``time_scale`` converts the source's time unit to seconds; ``time_fix`` then maps the
    times (s) before they are checked (e.g. undoing a counter's wrap). Duplicate rows and
    a cut-off last line become warnings in ``table.warnings``.
    """
    time_source = next(source for source, target in columns.items() if target == TIME)
    targets = set(columns.values())
    for prefix in {target.split("_")[0] for target in targets if target != TIME}:
        missing = [f"{prefix}_{a}" for a in "xyz" if f"{prefix}_{a}" not in targets]
        if missing:
            raise input_error(
                f"no {' / '.join(m[-1] for m in missing)} axis column; found "
                f"{', '.join(repr(c) for c in table.columns)}",
                path=table.name,
                line=table.header_line,
                hint="check the export (x, y and z are all needed)",
            )
    frame = table.floats(columns, decimal=decimal, scale={TIME: time_scale})
    if time_fix is not None:
        frame[TIME] = time_fix(frame[TIME].to_numpy())
    frame = check_time(frame, table.name, time_source, table.warnings)
    if len(frame) < 2:
        raise input_error(
            f"only {plural(len(frame), 'complete sample')}; a recording needs at least 2",
            path=table.name,
            hint="the file is cut short; export the recording again",
        )
    return frame


def merge_streams(
    acc: pd.DataFrame, gyr: pd.DataFrame, acc_name: str, gyr_name: str
) -> tuple[pd.DataFrame, str | None]:
    """Put accelerometer and gyroscope streams on one timeline.

    Identical timestamps are joined as they are. Otherwise the faster stream's timeline
    is kept over the time both cover, and the other stream is linearly interpolated onto
    it; samples whose interpolation would bridge a gap (an interval over 3 median
    intervals) of the other stream are left out. Returns the frame and a note for the
    ``merged_by_interpolation`` metadata key (``None`` when nothing was interpolated).
    """
    t_acc, t_gyr = acc[TIME].to_numpy(), gyr[TIME].to_numpy()
    if len(t_acc) == len(t_gyr) and np.array_equal(t_acc, t_gyr):
        merged = pd.DataFrame({c: acc[c].to_numpy() for c in (TIME, *ACC)})
        for column in GYR:
            merged[column] = gyr[column].to_numpy()
        return _with_gap_marks(merged, acc, gyr), None
    start, end = max(t_acc[0], t_gyr[0]), min(t_acc[-1], t_gyr[-1])
    if start >= end:
        raise input_error(
            f"the accelerometer ({acc_name}: {t_acc[0]:.6g}-{t_acc[-1]:.6g} s) and the "
            f"gyroscope ({gyr_name}: {t_gyr[0]:.6g}-{t_gyr[-1]:.6g} s) do not overlap in time",
            hint="give files of the same recording",
        )
    acc_interval, gyr_interval = np.median(np.diff(t_acc)), np.median(np.diff(t_gyr))
    if acc_interval <= gyr_interval:
        base, other, base_cols, other_cols, other_interval = acc, gyr, ACC, GYR, gyr_interval
    else:
        base, other, base_cols, other_cols, other_interval = gyr, acc, GYR, ACC, acc_interval
    t_base = base[TIME].to_numpy()
    t_other = other[TIME].to_numpy()
    inside = (t_base >= start) & (t_base <= end)
    right = np.clip(np.searchsorted(t_other, t_base, side="left"), 1, len(t_other) - 1)
    bridging = (t_other[right] - t_other[right - 1]) > 3.0 * other_interval
    exact = t_other[right] == t_base
    keep = inside & (~bridging | exact)
    t = t_base[keep]
    merged = pd.DataFrame({TIME: t})
    for column in base_cols:
        merged[column] = base[column].to_numpy()[keep]
    for column in other_cols:
        merged[column] = np.interp(t, t_other, other[column].to_numpy())
    note = (
        f"{'gyr' if other_cols is GYR else 'acc'}_* linearly interpolated from "
        f"{1 / other_interval:.4g} Hz onto the {1 / np.median(np.diff(t_base)):.4g} Hz "
        f"{'accelerometer' if base_cols is ACC else 'gyroscope'} timeline"
    )
    return _with_gap_marks(merged, acc, gyr), note


def _with_gap_marks(merged: pd.DataFrame, *streams: pd.DataFrame) -> pd.DataFrame:
    """``merged``'s canonical columns, and a ``gap`` column when a stream marks gaps (a
    clock set back, :func:`imu.session.check_time`): each mark on the merged row nearest
    its time (the two streams' marks of one reset fall on one row)."""
    merged = merged.loc[:, list(REQUIRED)]
    marked = [
        stream[TIME].to_numpy()[stream[GAP_COLUMN].fillna(0).to_numpy() > 0]
        for stream in streams
        if GAP_COLUMN in stream
    ]
    if not marked:
        return merged
    t = merged[TIME].to_numpy()
    times = np.concatenate(marked)
    after = np.clip(np.searchsorted(t, times), 1, len(t) - 1)
    nearer_before = times - t[after - 1] < t[after] - times
    gap = np.zeros(len(t))
    gap[np.where(nearer_before, after - 1, after)] = 1.0
    return merged.assign(**{GAP_COLUMN: gap})


def no_gyro(acc: pd.DataFrame) -> pd.DataFrame:
    """An accelerometer-only stream with NaN ``gyr_*`` columns (and its ``gap`` marks)."""
    frame = acc.reset_index(drop=True).copy()
    for column in GYR:
        frame[column] = np.nan
    return _with_gap_marks(frame, frame)


def one_file(files: Sequence[SourceFile], what: str, fmt: str) -> SourceFile:
    """The single file of a kind, or an error naming the ambiguity."""
    if len(files) > 1:
        raise input_error(
            f"{len(files)} {what} files: {', '.join(f.name for f in files)}",
            hint=f"give the {fmt} files of one recording only",
        )
    return files[0]


def finish_import(
    frame: pd.DataFrame,
    *,
    fmt: str,
    files: Sequence[SourceFile],
    name: str,
    acc_unit: str | None,
    gyr_unit: str | None,
    warnings: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    merge_note: str | None = None,
    labels: Mapping[str, str] | None = None,
    gyro_name: str | None = None,
    unix_time: bool = False,
) -> Session:
    """Common metadata (``source_format``, ``source_files``, ``merged_by_interpolation``)
    and the whole-recording checks of :func:`imu.session.finish_session`. ``unix_time``:
    ``time_s`` is seconds since 1970-01-01 UTC, so the first sample's time is the
    recording's ``started_utc`` (ISO 8601, as ``imu live --record`` writes it)."""
    names = dict.fromkeys(f.name for f in files)  # a file holding both sensors once
    meta = {"source_format": fmt, "source_files": ", ".join(names)}
    meta.update(metadata or {})
    if unix_time and len(frame):
        with contextlib.suppress(OverflowError, OSError, ValueError):  # not a date: none
            started = dt.datetime.fromtimestamp(float(frame[TIME].iloc[0]), dt.timezone.utc)
            meta["started_utc"] = started.isoformat(timespec="seconds")
    if merge_note:
        meta["merged_by_interpolation"] = merge_note
    return finish_session(
        frame,
        name=name,
        metadata=meta,
        warnings=warnings,
        acc_unit=acc_unit,
        gyr_unit=gyr_unit,
        labels=labels,
        gyro_name=gyro_name,
        record_rate=True,
    )


def read_axes(
    file: SourceFile,
    kind: str,
    axis_re: re.Pattern,
    *,
    time_column: str | None = None,
    time_scale: float = 1.0,
    time_offset_s: float = 0.0,
    sep: str = ",",
    decimal: str = ".",
) -> tuple[pd.DataFrame, list[str]]:
    """One sensor file whose axis columns match ``axis_re`` (group 1 = x/y/z) as
    ``time_s, {kind}_x..z``; time from ``time_column`` (default: the first column) times
    ``time_scale`` plus ``time_offset_s``. Returns the frame and the file's warnings."""
    table = read_table(file.text(), file.name, sep=sep)
    columns = {time_column or table.columns[0]: TIME}
    for column in table.columns:
        if match := axis_re.match(column):
            columns[column] = f"{kind}_{match.group(1).lower()}"
    if len(columns) == 1:
        raise input_error(
            f"no {kind} axis columns; found {', '.join(repr(c) for c in table.columns)}",
            path=file.name,
            line=table.header_line,
        )
    frame = read_stream(table, columns, decimal=decimal, time_scale=time_scale)
    frame[TIME] += time_offset_s
    return frame, table.warnings


def load_per_sensor_files(
    files: Sequence[SourceFile],
    *,
    fmt: str,
    kinds_of: Callable[[SourceFile], tuple[str, ...]],
    read: Callable[[SourceFile, str], tuple[pd.DataFrame, list[str]]],
    units: tuple[str, str],
    acc_unit: str | None,
    gyr_unit: str | None,
    labels: Mapping[str, str],
    no_acc: tuple[str, str],
    metadata_of: Callable[[SourceFile, str], dict[str, str]] | None = None,
    unix_time: bool = False,
) -> Session:
    """Formats with one file per sensor (``kinds_of`` -> what a file holds: ``("acc",)``,
    ``("gyr",)``, both, or ``()``): read the accelerometer and, when present, the
    gyroscope, merge them onto one timeline, finish.

    ``units`` are the declared (acc, gyr) units, replaced by ``acc_unit``/``gyr_unit``
    when given; ``no_acc`` is the (message, hint) when there is no accelerometer file;
    ``unix_time`` as in :func:`finish_import`.
    """
    kinds: dict[str, list[SourceFile]] = {}
    for file in files:
        for kind in kinds_of(file):
            kinds.setdefault(kind, []).append(file)
    if "acc" not in kinds:
        raise input_error(no_acc[0], path=", ".join(f.name for f in files), hint=no_acc[1])
    used = [one_file(kinds["acc"], f"{fmt} accelerometer", fmt)]
    if "gyr" in kinds:
        used.append(one_file(kinds["gyr"], f"{fmt} gyroscope", fmt))
    metadata: dict[str, str] = {}
    streams, warnings = [], []
    for file, kind in zip(used, ("acc", "gyr")):
        frame, more = read(file, kind)
        streams.append(frame)
        warnings += more
        metadata.update(metadata_of(file, kind) if metadata_of else {})
    if len(streams) == 2:
        frame, note = merge_streams(streams[0], streams[1], used[0].name, used[1].name)
    else:
        frame, note = no_gyro(streams[0]), None
    return finish_import(
        frame,
        fmt=fmt,
        files=used,
        name=used[0].name,
        acc_unit=acc_unit or units[0],
        gyr_unit=gyr_unit or units[1],
        warnings=warnings,
        metadata=metadata,
        merge_note=note,
        labels=labels,
        gyro_name=used[1].name if len(used) > 1 else None,
        unix_time=unix_time,
    )
