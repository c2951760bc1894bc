"""Assemble a report: figures, insights, HTML page, PNG files and the per-rep CSV."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd
from matplotlib.figure import Figure

from imu.report.data import REP_COLUMNS, SessionData, chronological, order_note
from imu.report.html import render_html
from imu.report.insights import Insight, InsightSettings, all_insights
from imu.report.plots import (
    figure_key,
    figure_svg,
    progress_figure,
    save_png,
    sets_figure,
    trace_figure,
)


@dataclass
class Report:
    """A built report: the HTML page, its figures by key, the insights shown, and the
    sessions without a start time (their presence keeps the order given)."""

    html: str
    figures: dict[str, Figure]
    insights: list[Insight]
    undated: list[str]

    def write_pngs(self, directory: str | os.PathLike) -> list[Path]:
        """Write every figure as ``DIRECTORY/<key>.png`` (each complete or absent, replacing
        one of the same name: :mod:`imu.fileio`); returns the paths written."""
        from imu.fileio import atomic_output

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for key, fig in self.figures.items():
            path = directory / f"{key}.png"
            with atomic_output(path, force=True, binary=True) as handle:
                save_png(fig, handle)
            paths.append(path)
        return paths


FIGURE_LABELS = {
    "trace": "Trunk flexion, lateral bend and twist over the session, reps shaded",
    "sets": "Peak flexion and ascent duration per rep, one line per set",
    "progress": "Depth, rounded-rep rate and volume per session",
}


def figure_label(key: str) -> str:
    """Accessible name of the figure ``key`` (``s1-trace`` -> the trace description)."""
    return FIGURE_LABELS[key.rsplit("-", 1)[-1]]


def report_figures(sessions: list[SessionData]) -> dict[str, Figure]:
    """The figures of a report, keyed by :func:`imu.report.plots.figure_key`."""
    figures: dict[str, Figure] = {}
    for index, session in enumerate(sessions, start=1):
        figures[figure_key(index, "trace")] = trace_figure(session)
        if not session.reps.empty:
            figures[figure_key(index, "sets")] = sets_figure(session)
    if len(sessions) > 1:
        figures[figure_key(None, "progress")] = progress_figure(sessions)
    return figures


def build_report(
    sessions: list[SessionData],
    settings: InsightSettings | None = None,
    generated_at: dt.datetime | None = None,
) -> Report:
    """Build the report of ``sessions``: oldest first when every one has a start time
    (:func:`imu.report.data.chronological`), else in the order given (the page says which)."""
    if not sessions:
        raise ValueError("a report needs at least one session")
    sessions, undated = chronological(sessions)
    settings = settings or InsightSettings()
    figures = report_figures(sessions)
    svgs = {key: figure_svg(fig, key, figure_label(key)) for key, fig in figures.items()}
    insights = all_insights(sessions, settings)
    page = render_html(sessions, insights, svgs, settings, generated_at, order_note(undated))
    return Report(html=page, figures=figures, insights=insights, undated=undated)


def rep_csv_table(sessions: list[SessionData]) -> pd.DataFrame:
    """Every rep of every session (sessions in :func:`build_report`'s order): ``session``
    then the contract's rep fields, plus ``load_kg``."""
    frames = []
    for session in chronological(sessions)[0]:
        reps = session.reps.loc[:, list(REP_COLUMNS)].copy()
        reps.insert(0, "session", session.name)
        reps["load_kg"] = reps["set"].map(session.loads_kg).astype(float)
        frames.append(reps)
    return pd.concat(frames, ignore_index=True)


def write_rep_csv(sessions: list[SessionData], path: str | os.PathLike | TextIO) -> None:
    """Write :func:`rep_csv_table` as CSV to a path or an open text handle (times s, angles deg, empty cell = not measured)."""
    rep_csv_table(sessions).to_csv(path, index=False, float_format="%.4f", lineterminator="\n")
