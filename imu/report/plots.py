"""Report figures (matplotlib, no pyplot state) and their SVG / PNG renderings.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies) and every verdict also has its own marker shape and a legend label, so
no plot relies on colour alone.
"""

from __future__ import annotations

import io
import re
from html import escape
from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from imu.report.data import SessionData
from imu.report.summary import flagged_mask, rounded_mask, session_totals
from imu.text import clock

# Okabe & Ito (2008), "Color Universal Design" palette.
BLUE, VERMILLION, PURPLE, ORANGE = "#0072B2", "#D55E00", "#CC79A7", "#E69F00"
SKY, GREEN, GREY = "#56B4E9", "#009E73", "#999999"
SET_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, "#000000")

RC = {
    "svg.fonttype": "none",  # text stays text: smaller, searchable, crisp
    "svg.hashsalt": "imu-report",  # deterministic clip-path ids
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}

TWIST_AXIS_DEG = 45.0
"""Lateral bend / twist axis limit: rep-scale motion stays visible, turns around do not."""

MAX_LABELLED_SETS = 10
"""Beyond this many sets, set labels shrink to numbers and the per-set legend is left out."""

TRACE_BINS = 1000
"""Plotted trace is a min/max envelope over at most this many time bins."""


def envelope(time_s: np.ndarray, values: np.ndarray, n_bins: int = TRACE_BINS):
    """Min/max envelope of a long trace for plotting: ``(time_s, values)`` of <= 2 n_bins points.

    Each time bin contributes its minimum and maximum (in time order), so peaks survive
    the downsampling; bins without finite samples give NaN, which breaks the line at
    data gaps and before calibration. Short traces are returned unchanged.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(time_s) <= 2 * n_bins:
        return time_s, values
    edges = np.linspace(time_s[0], time_s[-1], n_bins + 1)
    index = np.clip(np.searchsorted(edges, time_s, side="right") - 1, 0, n_bins - 1)
    finite = np.isfinite(values)
    low = np.full(n_bins, np.inf)
    high = np.full(n_bins, -np.inf)
    np.minimum.at(low, index[finite], values[finite])
    np.maximum.at(high, index[finite], values[finite])
    empty = ~np.isfinite(low)
    low[empty] = high[empty] = np.nan
    centres = 0.5 * (edges[:-1] + edges[1:])
    width = edges[1] - edges[0]
    out_t = np.column_stack([centres - width / 4, centres + width / 4]).ravel()
    out_y = np.column_stack([low, high]).ravel()
    return out_t, out_y


def twist_within_reps(session: SessionData) -> np.ndarray:
    """Twist (deg) during each rep relative to its value at the rep's start; NaN elsewhere.

    Heading drifts without a magnetometer and walking turns the lifter around, so the
    absolute twist says nothing about bracing; the change within a rep does.
    """
    t = session.angles[:, 0]
    out = np.full(len(t), np.nan)
    for start, end in zip(session.reps["start_s"], session.reps["end_s"]):
        inside = np.flatnonzero((t >= start) & (t <= end) & np.isfinite(session.angles[:, 3]))
        if inside.size:
            unwrapped = np.degrees(np.unwrap(np.radians(session.angles[inside, 3])))
            out[inside] = unwrapped - unwrapped[0]
    return out


class _TimeLocator(matplotlib.ticker.Locator):
    """Ticks at round times from the recording's start (``origin``): 10 s, 30 s, 1 min,
    5 min ... apart, at most about ten of them."""

    STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)

    def __init__(self, origin: float) -> None:
        self.origin = origin

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float):
        span = max(vmax - vmin, 1e-9)
        step = next((s for s in self.STEPS_S if span / s <= 10), self.STEPS_S[-1])
        first = np.ceil((vmin - self.origin) / step) * step
        return np.arange(first, vmax - self.origin + step / 2, step) + self.origin


def trace_figure(session: SessionData) -> Figure:
    """Flexion over the session, reps shaded, flagged reps marked; side bend and twist below."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11, 4.6), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
        t = session.angles[:, 0]
        reps = session.reps
        flagged = flagged_mask(reps)
        rounded = rounded_mask(reps)
        for row, is_flagged in zip(reps.itertuples(), flagged):
            colour = VERMILLION if is_flagged else SKY
            for ax in (top, bottom):
                ax.axvspan(row.start_s, row.end_s, color=colour, alpha=0.22, lw=0)
        for gap in session.gaps:
            for ax in (top, bottom):
                ax.axvspan(gap["start_s"], gap["end_s"], facecolor="none", edgecolor=GREY,
                           hatch="xx", lw=0)  # fmt: skip
        top.plot(*envelope(t, session.angles[:, 1]), color="#222222", lw=0.8, label="flexion")
        many = reps["set"].nunique() > MAX_LABELLED_SETS
        for number, group in reps.groupby("set"):
            top.annotate(
                str(number) if many else f"set {number}",
                (group["start_s"].min(), 1.0),
                xycoords=("data", "axes fraction"),
                va="bottom",
                fontsize=8,
                color="#444444",
                annotation_clip=False,
            )
        if rounded.any():
            top.plot(
                reps["bottom_s"][rounded], reps["peak_flexion_deg"][rounded], "v",
                color=VERMILLION, ms=7, mec="black", mew=0.5, label="rounded (classifier)",
            )  # fmt: skip
        hyper = reps["hyperextended"].to_numpy(dtype=bool)
        if hyper.any():
            top.plot(
                reps["end_s"][hyper], -reps["lockout_extension_deg"][hyper], "s",
                color=PURPLE, ms=6, mec="black", mew=0.5, label="hyperextended at lockout",
            )  # fmt: skip
        top.axhline(0.0, color="#888888", lw=0.6)
        top.set_ylabel("flexion (deg)\n+ forward, - extension")
        handles, _ = top.get_legend_handles_labels()
        handles.append(Patch(color=SKY, alpha=0.4, label="rep"))
        if session.gaps:
            handles.append(Patch(facecolor="none", edgecolor=GREY, hatch="xx", label="data gap"))
        if flagged.any():
            handles.append(Patch(color=VERMILLION, alpha=0.4, label="flagged rep"))
        bottom.plot(*envelope(t, session.angles[:, 2]), color=BLUE, lw=0.7, label="lateral bend")
        twist = twist_within_reps(session)
        bottom.plot(*envelope(t, twist), color=ORANGE, lw=0.7, label="twist within reps")
        bottom.set_ylim(-TWIST_AXIS_DEG, TWIST_AXIS_DEG)
        bottom.set_ylabel(f"angle (deg)\nclipped at \u00b1{TWIST_AXIS_DEG:.0f}")
        origin = float(t[0]) if len(t) else 0.0
        bottom.xaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda x, _: clock(x - origin).removesuffix(".0"))
        )
        bottom.xaxis.set_major_locator(_TimeLocator(origin))
        bottom.set_xlabel("time from the recording's start (m:ss)")
        # One legend above the plots: it never covers a peak or a marker.
        handles += bottom.get_legend_handles_labels()[0]
        fig.legend(handles=handles, loc="outside upper right", fontsize=8, frameon=False,
                   ncols=len(handles))  # fmt: skip
        return fig


def sets_figure(session: SessionData) -> Figure:
    """Per-rep peak flexion and ascent duration, one line per set."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11, 3.2), layout="constrained")
        left, right = fig.subplots(1, 2)
        flagged = rounded_mask(session.reps)
        for i, (number, group) in enumerate(session.reps.groupby("set")):
            colour = SET_COLOURS[i % len(SET_COLOURS)]
            mask = flagged[(session.reps["set"] == number).to_numpy()]
            for ax, column in ((left, "peak_flexion_deg"), (right, "ascent_s")):
                ax.plot(
                    group["rep"], group[column], "-o", color=colour, ms=4, label=f"set {number}"
                )
                if mask.any():
                    ax.plot(
                        group["rep"][mask], group[column][mask], "v", color=VERMILLION, ms=8,
                        mec="black", mew=0.5,
                    )  # fmt: skip
        left.set_title("Peak flexion per rep (creeping up = peak flexion rise)", fontsize=9)
        left.set_xlabel("rep in set")
        left.set_ylabel("peak flexion (deg)")
        right.set_title("Ascent duration per rep (rising = slowing ascent)", fontsize=9)
        right.set_xlabel("rep in set")
        right.set_ylabel("ascent (s)")
        for ax in (left, right):
            ax.xaxis.get_major_locator().set_params(integer=True)
        handles, _ = left.get_legend_handles_labels()
        if flagged.any():
            handles.append(
                Line2D([], [], ls="", marker="v", color=VERMILLION, mec="black", label="rounded")
            )
        if session.reps["set"].nunique() <= MAX_LABELLED_SETS:
            left.legend(handles=handles, fontsize=8, framealpha=0.9)
        return fig


def progress_figure(sessions: list[SessionData]) -> Figure:
    """Across sessions: peak flexion of first/last reps in sets, rounded-rep rate, volume."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11, 3.2), layout="constrained")
        depth, rate, volume = fig.subplots(1, 3)
        x = np.arange(len(sessions))
        names = [s.name for s in sessions]
        if len({s.lifter for s in sessions}) > 1:  # several lifters: say whose each one is
            names = [f"{s.name}\n{s.lifter or 'lifter ?'}" for s in sessions]
        firsts, lasts, rates, volumes = [], [], [], []
        totals = [session_totals(s) for s in sessions]
        use_kg = all(np.isfinite(t.volume_kg) for t in totals)
        for session, total in zip(sessions, totals):
            by_set = session.reps.groupby("set")["peak_flexion_deg"]
            firsts.append(by_set.first().mean())
            lasts.append(by_set.last().mean())
            rates.append(100.0 * total.rounded_rate)
            volumes.append(total.volume_kg if use_kg else total.n_reps)
        depth.plot(x, firsts, "-o", color=BLUE, label="first rep of sets")
        depth.plot(x, lasts, "-s", color=VERMILLION, label="last rep of sets")
        depth.set_ylabel("mean peak flexion (deg)")
        depth.set_title("Depth at set position", fontsize=9)
        depth.legend(fontsize=8)
        rate.bar(x, rates, color=VERMILLION, hatch="//", edgecolor="black", lw=0.5)
        if not any(s.model or t.n_classified for s, t in zip(sessions, totals, strict=True)):
            rate.text(0.5, 0.5, "no model used", transform=rate.transAxes, ha="center")
            rate.set_yticks([])
        rate.set_ylabel("reps rounded (%)")
        rate.set_title("Rounded-rep rate", fontsize=9)
        volume.bar(x, volumes, color=BLUE, edgecolor="black", lw=0.5)
        volume.set_ylabel("volume (kg x reps)" if use_kg else "volume (reps)")
        if not use_kg:  # a count: no "17.5 reps" on the axis
            volume.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        volume.set_title("Volume", fontsize=9)
        for ax in (depth, rate, volume):
            ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
            ax.set_xlabel("session")
        return fig


def figure_key(session_index: int | None, kind: str) -> str:
    """Name of a figure in a report: ``s1-trace``, ``s2-sets``, ``progress`` (also the PNG name)."""
    return kind if session_index is None else f"s{session_index}-{kind}"


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_PATH_DATA = re.compile(r'\bd="([^"]*)"')
_DECIMAL = re.compile(r"(-?\d+\.\d)\d+")


def _short_path(match: re.Match) -> str:
    """Path coordinates to 0.1 pt (1/720 inch): halves the size of long traces."""
    return f'd="{_DECIMAL.sub(lambda m: m.group(1), match.group(1))}"'


def figure_svg(fig: Figure, prefix: str, label: str) -> str:
    """Render ``fig`` as an inline ``<svg>`` element with every id prefixed by ``prefix``
    and ``label`` as its accessible name.

    Several inline SVGs in one HTML page would otherwise repeat ids (``figure_1``,
    clip paths), which is invalid HTML and makes clip paths point at the wrong figure.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = _METADATA.sub("", text)
    text = _PATH_DATA.sub(_short_path, text)
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


def save_png(fig: Figure, path: Path, dpi: int = 120) -> None:
    """Write ``fig`` as a PNG file (for pasting into other documents)."""
    with matplotlib.rc_context(RC):
        fig.savefig(path, format="png", dpi=dpi)
