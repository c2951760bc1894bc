"""The report as one self-contained HTML5 page: inline CSS, inline SVG figures, no scripts.

Everything user-controlled (session names, metadata, messages) goes through
:func:`html.escape`. The page opens offline and prints cleanly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from imu import __version__
from imu.report.data import SessionData
from imu.report.insights import Insight, InsightSettings
from imu.report.plots import figure_key
from imu.report.summary import session_totals, set_summary

UNIT_SUFFIXES = (
    ("_deg_s", "deg/s"),
    ("_deg", "deg"),
    ("_hz", "Hz"),
    ("_pct", "%"),
    ("_kg", "kg"),
    ("_s", "s"),
)

CSS = """
:root{--ink:#1b1f23;--muted:#5b636b;--line:#d8dde2;--bg:#f6f8fa;--blue:#0072B2;
--verm:#D55E00;--purple:#CC79A7;--green:#009E73}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:var(--ink);background:#fff}
header{background:#0b3954;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#d7e3ea}
main{max-width:1180px;margin:0 auto;padding:8px 32px 40px}
h2{font-size:19px;border-bottom:2px solid var(--line);padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin:22px 0 8px}
.banner{background:#fff4d6;border:1px solid #e6c35c;color:#5a4500;padding:8px 12px;
border-radius:6px;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px 14px;
min-width:130px}
.card .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.card .label{color:var(--muted);font-size:12px}
.insight{border:1px solid var(--line);border-left-width:6px;border-radius:6px;padding:8px 12px;
margin:8px 0;background:#fff}
.insight .title{margin:0 0 4px;font-weight:700}
.insight p{margin:0}
.insight .tag{font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;
margin-right:6px}
.insight.warning{border-left-color:var(--verm)}
.insight.warning .tag{color:#9c3d00}
.insight.good{border-left-color:var(--green)}
.insight.good .tag{color:#00684c}
.insight.note{border-left-color:var(--blue)}
.insight.note .tag{color:var(--blue)}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px;margin:4px 0}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th{background:var(--bg);font-weight:600;vertical-align:bottom;white-space:normal;min-width:3.5em}
td.text,th.text{text-align:left;white-space:normal}
tbody tr:nth-child(even){background:#fbfcfd}
.scroll{overflow-x:auto}
.verdict{font-weight:600;text-align:left}
.verdict.rounded{background:#fbe3d3;color:#8a3300}
.verdict.ok{color:#00507d}
.verdict.none{color:var(--muted);font-weight:400}
.flag{background:#f6e1ee;color:#7a2e59;font-weight:600;text-align:left}
figure{margin:12px 0}
figure svg{width:100%;height:auto}
figcaption,.caption{color:var(--muted);font-size:12px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:4px 0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;font-variant-numeric:tabular-nums}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);margin-top:40px;
padding-top:10px}
@media print{header{background:none;color:#000}header p{color:#333}.scroll{overflow:visible}}
"""


COUNT_LABELS = {
    "n_reps": "reps",
    "n_rounded": "reps rounded",
    "n_hyperextended": "reps hyperextended",
    "verdict": "verdict (classifier)",
    "lockout": "lockout",
}


def label(name: str) -> str:
    """``peak_flexion_deg`` -> ``peak flexion (deg)``: a column name with its unit."""
    if name in COUNT_LABELS:
        return COUNT_LABELS[name]
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return f"{name[: -len(suffix)].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def fmt(value: Any, digits: int = 1) -> str:
    """Format one cell: numbers with ``digits`` decimals, missing as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\N{EN DASH}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.0"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _digits(column: str) -> int:
    return 2 if column.endswith("_s") and not column.endswith("_deg_s") else 1


def _table(
    frame: pd.DataFrame, columns: Iterable[str], cells: Mapping[str, Any] | None = None
) -> str:
    """HTML table of ``frame[columns]``; ``cells[column](row)`` may return a ready ``<td>``."""
    columns, cells = list(columns), cells or {}
    head = "".join(f'<th scope="col">{escape(label(c))}</th>' for c in columns)
    body = []
    for row in frame.astype(object).to_dict("records"):  # keeps ints as ints
        tds = []
        for column in columns:
            if column in cells:
                tds.append(cells[column](row))
            else:
                tds.append(f"<td>{escape(fmt(row[column], _digits(column)))}</td>")
        body.append(f"<tr>{''.join(tds)}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _verdict_cell(row: Mapping[str, Any]) -> str:
    p = row["p_rounded"]
    prob = "" if p is None or not np.isfinite(p) else f" (p = {p:.2f})"
    if row["rounded"] is True:
        return f'<td class="verdict rounded">&#9650; rounded{prob}</td>'
    if row["rounded"] is False:
        return f'<td class="verdict ok">&#10003; neutral{prob}</td>'
    return '<td class="verdict none">not classified</td>'


def _lockout_cell(row: Mapping[str, Any]) -> str:
    if row["hyperextended"]:
        return '<td class="flag">&#9632; hyperextended</td>'
    return "<td></td>"


def _kv(items: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<dt>{escape(label(str(k)))}</dt><dd>{escape(fmt(v, 3))}</dd>" for k, v in items.items()
    )
    return f'<dl class="kv">{rows}</dl>'


def _card(value: str, caption: str) -> str:
    return (
        f'<div class="card"><div class="value">{escape(value)}</div>'
        f'<div class="label">{escape(caption)}</div></div>'
    )


def _insight_html(insight: Insight) -> str:
    tag = {"warning": "Check", "good": "Good", "note": "Note"}[insight.level]
    return (
        f'<div class="insight {insight.level}"><p class="title"><span class="tag">{tag}</span>'
        f"{escape(insight.title)}</p><p>{escape(insight.text)}</p></div>"
    )


REP_TABLE = (
    "set",
    "rep",
    "start_s",
    "bottom_s",
    "end_s",
    "peak_flexion_deg",
    "liftoff_flexion_deg",
    "lockout_extension_deg",
    "descent_s",
    "ascent_s",
    "lateral_bend_range_deg",
    "twist_range_deg",
    "verdict",
    "lockout",
)


def _session_section(index: int, session: SessionData, svgs: Mapping[str, str]) -> str:
    totals = session_totals(session)
    rate = totals.rounded_rate
    cards = [
        _card(f"{session.duration_s / 60:.1f} min", "recording length"),
        _card(str(totals.n_sets), "sets"),
        _card(str(totals.n_reps), "reps"),
        _card(
            f"{totals.n_rounded}" + ("" if math.isnan(rate) else f" ({100 * rate:.0f}%)"),
            "reps flagged rounded" if totals.n_classified else "reps flagged (no classifier)",
        ),
        _card(str(totals.n_hyperextended), "reps hyperextended at lockout"),
        _card(fmt(totals.peak_flexion_max_deg) + " deg", "deepest peak flexion"),
    ]
    if np.isfinite(totals.volume_kg):
        cards.append(_card(f"{totals.volume_kg:.0f} kg", "volume (load x reps)"))
    parts = [
        f'<section class="session" id="session-{index}">',
        f"<h2>Session: {escape(session.name)}</h2>",
    ]
    if session.started_utc is not None:
        started = session.started_utc.strftime("%Y-%m-%d %H:%M UTC")
        parts.append(f'<p class="note">Recorded {escape(started)}</p>')
    if session.synthetic:
        command = session.metadata.get("generator") or session.metadata.get("command", "")
        parts.append(
            '<p class="banner">Synthetic data: this session was generated by the simulator'
            + (f" (<code>{escape(command)}</code>)" if command else "")
            + ", not recorded from a lifter.</p>"
        )
    if session.calibration and not session.calibration.get("ok", True):
        message = str(session.calibration.get("message", ""))
        parts.append(
            f'<p class="banner">Calibration failed: {escape(message)}. Angles, reps and '
            "insights of this session are missing or unreliable; record a few seconds of "
            "standing still, then a forward bend, at the start.</p>"
        )
    parts.append(f'<div class="cards">{"".join(cards)}</div>')
    parts.append(
        f"<figure>{svgs['trace']}<figcaption>Trunk flexion (top; positive = bending forward, "
        "negative = leaning back) and lateral bend relative to the calibrated upright posture, "
        "with the twist during each rep relative to its start (bottom). Shaded spans are "
        "reps; &#9660; marks the peak of a rep the classifier flagged as rounded, &#9632; the "
        "lockout of a hyperextended rep. Long traces are drawn as a min/max envelope."
        "</figcaption></figure>"
    )
    parts.append("<h3>Sets</h3>")
    if session.reps.empty:
        parts.append("<p>No reps were detected in this session.</p>")
    else:
        sets = set_summary(session)
        columns = [c for c in sets.columns if c != "load_kg" or sets["load_kg"].notna().any()]
        parts.append(_table(sets, columns))
        parts.append(
            f"<figure>{svgs['sets']}<figcaption>Per rep, one line per set. Peak flexion rise is the "
            "rise of a least-squares line through peak flexion from the first to the last rep; "
            "speed loss is 1 - (first / last fitted ascent duration).</figcaption></figure>"
        )
        parts.append("<h3>Reps</h3>")
        reps = session.reps.assign(verdict=None, lockout=None)
        parts.append(_table(reps, REP_TABLE, {"verdict": _verdict_cell, "lockout": _lockout_cell}))
    parts.append("<h3>Calibration and data quality</h3>")
    received = {
        "samples_received": len(session.angles),
        "samples_with_angles": int(np.isfinite(session.angles[:, 1]).sum()),
        "nominal_sampling_rate_hz": session.sampling_rate_hz,
        "received_rate_hz": session.received_rate_hz,
        "duration_s": session.duration_s,
    }
    parts.append(_kv({**received, **session.quality}))
    for warning in session.warnings:
        parts.append(f'<p class="banner">Loading: {escape(warning)}</p>')
    if session.gaps:
        gaps = pd.DataFrame(session.gaps)
        columns = [c for c in ("start_s", "end_s", "duration_s", "restarted") if c in gaps]
        parts.append(f"<p>{len(gaps)} gap(s) in the data (hatched on the trace):</p>")
        parts.append(_table(gaps, columns))
    parts.append("<h3>Calibration</h3>" if session.calibration else "")
    parts.append(_kv(session.calibration) if session.calibration else "")
    parts.append("<h3>Model</h3>")
    if session.model:
        parts.append(_kv(session.model))
    else:
        parts.append(
            "<p>No classifier was used: reps were measured but not classified as rounded or "
            "neutral. Pass <code>--model FILE</code> (a model trained with "
            "<code>imu train</code>) to get verdicts.</p>"
        )
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def render_html(
    sessions: list[SessionData],
    insights: list[Insight],
    svgs: Mapping[str, str],
    settings: InsightSettings,
    generated_at: dt.datetime | None = None,
    order: str = "Sessions in the order given.",
) -> str:
    """The whole page. ``svgs`` maps figure keys (:func:`imu.report.plots.figure_key`) to SVG;
    ``order`` is the sentence saying how ``sessions`` are ordered (shown with several)."""
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    names = ", ".join(s.name for s in sessions)
    title = (
        "Deadlift report" if len(sessions) == 1 else f"Deadlift report: {len(sessions)} sessions"
    )
    body = [
        (
            f"<header><h1>{escape(title)}</h1><p>{escape(names)} &middot; generated "
            f"{escape(generated_at.strftime('%Y-%m-%d %H:%M UTC'))} by imu {escape(__version__)}"
            "</p></header>"
        ),
        "<main>",
        '<section id="insights"><h2>Insights</h2>',
    ]
    if insights and len(sessions) == 1:
        body += [_insight_html(i) for i in insights]
    elif insights:
        for session in sessions:
            own = [i for i in insights if i.session == session.name and i.kind != "volume"]
            if own:
                body.append(f"<h3>{escape(session.name)}</h3>")
                body += [_insight_html(i) for i in own]
        across = [i for i in insights if i.kind == "volume"]
        if across:
            body.append("<h3>Across sessions</h3>")
            body += [_insight_html(i) for i in across]
    else:
        body.append(
            "<p>Nothing to point out: no check found a pattern, or there was not enough data "
            f"for one (trends need at least {settings.min_reps_for_trend} reps in a set).</p>"
        )
    body.append(
        '<p class="note">Checks and thresholds are explained in the project\'s '
        "docs/report.md. One sensor on the lower back measures the tilt of the pelvis / "
        "lumbar segment, not the curvature of the spine: compare reps with each other, "
        "not with an absolute ideal.</p></section>"
    )
    if len(sessions) > 1:
        body.append(
            f'<section id="progress"><h2>Progress over sessions</h2>'
            f"<figure>{svgs[figure_key(None, 'progress')]}<figcaption>{escape(order)} "
            "Left: mean peak flexion of the first and of the last rep of each set. "
            "Middle: share of reps the classifier flagged as rounded. Right: volume (kg x reps "
            "when loads were given for every set, else number of reps).</figcaption></figure>"
            "</section>"
        )
    for index, session in enumerate(sessions, start=1):
        own = {kind: svgs.get(figure_key(index, kind), "") for kind in ("trace", "sets")}
        body.append(_session_section(index, session, own))
    body.append(
        "<footer>Angles in degrees relative to the lifter's calibrated upright posture "
        "(flexion positive forward); times in seconds of the session's own clock; tempo "
        "columns are the descent (start to bottom) and ascent (bottom to lockout) durations. "
        "This report is a training aid, not a medical device.</footer></main>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
