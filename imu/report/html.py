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
from imu.pipeline.calibration import UNCERTAIN_QUALITY
from imu.pipeline.timing import TimingSettings
from imu.report.data import SessionData
from imu.report.insights import Insight, InsightSettings
from imu.report.plots import figure_key
from imu.report.summary import session_totals, set_summary
from imu.text import NO_MODEL, Timeline, clock, lost_reps_text, plural, probability, signed

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
.verdict{font-weight:600;text-align:left;white-space:normal;min-width:9.5em}
.verdict .p{white-space:nowrap}
.verdict.rounded{background:#fbe3d3;color:#8a3300}
.verdict.ok{color:#00507d}
.verdict.none{color:var(--muted);font-weight:400}
.verdict.flag{background:#f6e1ee;color:#7a2e59}
figure{margin:12px 0}
figure svg{width:100%;height:auto}
figcaption,.caption{color:var(--muted);font-size:12px}
footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);margin-top:40px;
padding-top:10px}
@media print{header{background:none;color:#000}header p{color:#333}.scroll{overflow:visible}}
"""


COUNT_LABELS = {
    "n_reps": "reps",
    "n_reps_lost": "+ may be lost in gaps",  # the set line's "5 reps (+ 2 may be lost ...)"
    "n_rounded": "reps rounded",
    "n_hyperextended": "reps hyperextended",
    "verdict": "verdict",
    "restarted": "angles",
    "start_s": "start (m:ss.s)",
    "bottom_s": "bottom (m:ss.s)",
    "end_s": "end (m:ss.s)",
    "liftoff_flexion_deg": "lift-off flexion (deg)",  # the word the CLI and docs use
    "clock": "start (clock, UTC)",
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
        return signed(float(value), f".{digits}f")  # no "-0.0"
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


def _verdict_cell(row: Mapping[str, Any], threshold: float | None = None) -> str:
    """The rep's verdict (docs/vocabulary.md): good, rounded, hyperextended or both, with
    the classifier's probability and its threshold."""
    p = row["p_rounded"]
    text = probability(None if p is None or not np.isfinite(p) else float(p), threshold)
    prob = f' <span class="p">({escape(text)})</span>' if text else ""
    hyper = bool(row["hyperextended"])
    if row["rounded"] is True:
        word = "&#9650; rounded" + (" + hyperextended" if hyper else "")
        return f'<td class="verdict rounded">{word}{prob}</td>'
    if hyper:
        return f'<td class="verdict flag">&#9632; hyperextended{prob}</td>'
    if row["rounded"] is False:
        return f'<td class="verdict ok">&#10003; good{prob}</td>'
    return f'<td class="verdict none">{escape(NO_MODEL)}</td>'


LIFT_TITLES = {
    "deadlift": "Deadlift",
    "rdl": "Romanian deadlift",
    "good_morning": "Good morning",
    "squat": "Squat",
    "stoop": "Stoop lift",
}
"""The page's title word per ``--lift`` preset (a squat report is not a deadlift report;
every one of ``imu.commands.options.LIFT_CHOICES``, tested)."""

TIME_LABELS = {"start_s": "start", "bottom_s": "bottom", "end_s": "end"}
"""Columns shown as time from the recording's start (m:ss.s)."""


def _time_cells(timeline: Timeline, columns: Iterable[str]) -> dict[str, Any]:
    """Cells of ``columns`` as time from the recording's start; ``clock`` as its UTC time."""
    cells: dict[str, Any] = {
        c: (lambda row, c=c: f"<td>{escape(timeline.at(row[c]))}</td>") for c in columns
    }
    cells["clock"] = lambda row: f"<td>{escape(timeline.wall(row['start_s'], utc=True))}</td>"
    return cells


def _with_clock(columns: Iterable[str], timeline: Timeline) -> list[str]:
    """``columns`` with a ``clock`` column after ``start_s`` when the wall clock is known."""
    out = []
    for column in columns:
        out.append(column)
        if column == "start_s" and timeline.has_wall_clock:
            out.append("clock")
    return out


def _with_unit(value: Any, unit: str) -> str:
    """``68.4 deg``; a missing value is the dash alone (``–``, not ``– deg``)."""
    text = fmt(value)
    return text if text == "\N{EN DASH}" else f"{text} {unit}"


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
)


def _session_section(index: int, session: SessionData, svgs: Mapping[str, str]) -> str:
    totals = session_totals(session)
    timeline = session.timeline
    threshold = (session.model or {}).get("threshold")
    share = f" ({100 * totals.n_flagged / totals.n_reps:.0f}%)" if totals.n_reps else ""
    rounded_caption = (  # a model that judged no rep (none found) was still used
        "reps rounded" + (f" (p \u2265 {threshold:.2f})" if threshold is not None else "")
        if session.model or totals.n_classified
        else "reps rounded (no model)"
    )
    cards = [
        _card(clock(session.duration_s), "recording length (m:ss.s)"),
        _card(str(totals.n_sets), "sets"),
        _card(str(totals.n_reps), "reps"),
        _card(f"{totals.n_flagged}{share}", "reps flagged (rounded or hyperextended)"),
        _card(str(totals.n_rounded), rounded_caption),
        _card(str(totals.n_hyperextended),
              f"reps hyperextended at lockout (beyond {session.hyperextension_deg:g} deg)"),
        _card(_with_unit(totals.peak_flexion_max_deg, "deg"), "deepest peak flexion"),
    ]
    if np.isfinite(totals.volume_kg):
        cards.append(_card(f"{totals.volume_kg:.0f} kg", "volume (load x reps)"))
    parts = [
        f'<section class="session" id="session-{index}">',
        f"<h2>Session: {escape(session.name)}</h2>",
    ]
    if session.lifter or session.started_utc is not None:
        said = []
        if session.lifter:
            said.append(f"Lifter {session.lifter}")
        if session.started_utc is not None:
            said.append(f"recorded {session.started_utc.strftime('%Y-%m-%d %H:%M:%S UTC')}")
        parts.append(f'<p class="note">{escape(", ".join(said))}.</p>')
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
        "reps, flagged reps (rounded or hyperextended) in orange; &#9660; marks the peak of a rep "
        "the classifier judged rounded, &#9632; the "
        "lockout of a hyperextended rep. Long traces are drawn as a min/max envelope."
        "</figcaption></figure>"
    )
    parts.append("<h3>Sets</h3>")
    if session.reps.empty:
        parts.append("<p>No reps were detected in this session.</p>")
    else:
        sets = set_summary(session)
        shown = {  # a column of nothing but empty cells or zeros says nothing
            "load_kg": sets["load_kg"].notna().any(),
            "n_reps_lost": (sets["n_reps_lost"] > 0).any(),
        }
        columns = [c for c in sets.columns if shown.get(c, True)]
        times = _time_cells(timeline, ("start_s", "end_s"))
        parts.append(_table(sets, _with_clock(columns, timeline), times))
        parts.append(
            f"<figure>{svgs['sets']}<figcaption>Per rep, one line per set. Peak flexion rise is the "
            "rise of a least-squares line through peak flexion from the first to the last rep; "
            "speed loss is 1 - (first / last fitted ascent duration).</figcaption></figure>"
        )
        parts.append("<h3>Reps</h3>")
        reps = session.reps.assign(verdict=None)
        cells = {
            **_time_cells(timeline, TIME_LABELS),
            "verdict": lambda row: _verdict_cell(row, threshold),
        }
        parts.append(_table(reps, _with_clock(REP_TABLE, timeline), cells))
    parts.append("<h3>How this was measured</h3>")
    parts.append(_plain_list(appendix(session)))
    for warning in session.warnings:
        parts.append(f'<p class="banner">Warning: {escape(warning)}</p>')
    if session.gaps:
        gaps = pd.DataFrame(session.gaps)
        columns = [c for c in ("start_s", "end_s", "duration_s", "restarted") if c in gaps]
        parts.append(f"<p>{plural(len(gaps), 'gap')} in the data (hatched on the trace):</p>")
        cells = {
            **_time_cells(timeline, ("start_s", "end_s")),
            # the log's words (sinks.lines): a short gap is bridged, a long one is not
            "restarted": lambda row: "<td>started again</td>" if row["restarted"]
            else "<td>bridged</td>",
        }
        parts.append(_table(gaps, columns, cells))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _plain_list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def appendix(session: SessionData) -> list[str]:
    """The recording, its calibration and the model in sentences a coach reads (the raw
    numbers are in ``imu analyze --json`` and the model's manifest)."""
    q, cal, timeline = session.quality, session.calibration or {}, session.timeline
    items = []
    n = len(session.angles)
    rate = session.sampling_rate_hz
    recording = (
        f"Recording: {clock(session.duration_s)} long, {n} samples at "
        f"{rate:.0f} Hz" + (f" (received {session.received_rate_hz:.1f} per s)" if n > 1 else "")
    )
    n_gaps = int(q.get("n_gaps") or 0)
    recording += (
        f"; {plural(n_gaps, 'gap')} in the data, {float(q.get('gap_total_s') or 0):.1f} s in all."
        if n_gaps
        else f"; no gap over {TimingSettings().gap_s:g} s in the data."
    )  # (the loading warnings below count every missing sample)
    n_lost = int(q.get("n_reps_lost") or 0)
    if n_lost:  # a rep_lost: said in the live summary and by imu analyze too
        outside = int(q.get("n_reps_lost_outside_sets") or 0)
        recording += f" {lost_reps_text(n_lost, outside)}."
    skipped = int(q.get("n_skipped_duplicate_or_out_of_order") or 0)
    if skipped:
        were = "was" if skipped == 1 else "were"
        recording += f" {plural(skipped, 'duplicate or out-of-order sample')} {were} skipped."
    items.append(recording)
    if session.lift != "deadlift":
        items.append(f"Reps: found with the {session.lift} preset (--lift {session.lift}).")
    if cal:
        if cal.get("ok"):
            quality = float(cal.get("quality") or 0.0)
            word = "good" if quality >= 0.8 else "fair" if quality >= UNCERTAIN_QUALITY else "poor"
            how = str(cal.get("message", "")).removeprefix("calibrated: ")
            how = how.removeprefix("calibrated ")
            at = timeline.at(cal["time_s"]) if cal.get("time_s") is not None else "?"
            method = cal.get("method", "still_period")
            upright = {
                "still_period": f"standing still until {at}; ",
                "movement": f"upright taken at the top of a rep at {at}; ",
            }.get(method, "")
            text = f"Calibration: {word} (quality {quality:.2f} of 1); {upright}{how}."
            if cal.get("mounting"):
                off = cal.get("mounting_misalignment_deg")
                text += (
                    f" The sensor sat as mounting {cal['mounting']} (body forward, left, up as "
                    "sensor axes" + (f"; {off:.0f} deg off square)." if off is not None else ").")
                )
        else:
            text = f"Calibration failed: {str(cal.get('message', '')).removeprefix('calibration failed: ')}."
        missing = [str(x).removesuffix("_deg").replace("_", " ") for x in cal.get("unavailable") or []]
        weaker = [str(x).removesuffix("_deg").replace("_", " ") for x in cal.get("degraded") or []]
        if missing:
            text += f" Not measured without a gyroscope: {', '.join(missing)}."
        if weaker:
            text += f" Less accurate without a gyroscope: {', '.join(weaker)}."
        items.append(text)
    model = session.model
    if not model:
        items.append(
            "No model was used (--no-model): no rep was judged rounded or good "
            "(hyperextension at lockout still was). Leave out --no-model for the model "
            "shipped with imu, or pass --model FILE (a model from imu train)."
        )
        return items
    from pathlib import Path

    name = Path(str(model.get("path") or "")).name or str(model.get("name") or "")
    which = "the model shipped with imu" if name == "default.skops" else f"model {name}"
    threshold = model.get("threshold")
    text = f"Rounded back: judged by {which}"
    if model.get("personalised"):
        text += " (personalised to a lifter)"
    if isinstance(threshold, (int, float)):
        text += f", which calls a rep rounded when its probability p is at least {threshold:.2f}"
    created = str(model.get("created_utc") or "")[:10]
    text += f"; trained {created}." if created else "."
    text += model_scores(model) + training_data(model)
    items.append(text)
    return items


def training_data(model: Mapping[str, Any]) -> str:
    """What the model's manifest says its training data was, in a sentence: SYNTHETIC
    when its training sessions are marked so (``n_synthetic_sessions`` of
    ``n_training_sessions``, :meth:`imu.model.classifier.RepClassifier.describe`),
    nothing when none is; that the model has no manifest, or that its manifest does not
    say (a model trained before manifests recorded it)."""
    if model.get("manifest") is False:
        return (
            " The model carries no manifest: what it was trained on, and how well it did, "
            "is not known."
        )
    n, n_synthetic = model.get("n_training_sessions"), model.get("n_synthetic_sessions")
    if not isinstance(n, int) or not isinstance(n_synthetic, int) or not n:
        return (
            " Its manifest does not say whether its training data was recorded from "
            "lifters or SYNTHETIC."
        )
    if n_synthetic == n:
        return (
            f" The training data was SYNTHETIC (its manifest: all {plural(n, 'training session')}"
            " marked synthetic, simulated lifters): no real recording went into the model, "
            "and real lifters may score lower."
        )
    if n_synthetic:
        return f" {n_synthetic} of its {plural(n, 'training session')} were SYNTHETIC (simulated)."
    return ""


def model_scores(model: Mapping[str, Any]) -> str:
    """What the model's cross-validated figures (its manifest's ``cv``) are, in a sentence:
    ``imu train`` scores its whole training procedure (model choice, calibration,
    threshold) by nested cross-validation grouped by lifter (or session), each outer fold
    training on the other groups and judging its held-out ones; a personalised model, by
    holding out the lifter's own groups in turn."""
    cv = model.get("cv") or {}
    if not cv.get("n_groups"):
        return ""
    unit = {"subject": "lifter", "session": "session"}.get(str(model.get("group_by")), "group")
    figures = (
        f"balanced accuracy {_fraction(cv.get('balanced_accuracy'))}, sensitivity "
        f"{_fraction(cv.get('sensitivity'))} (rounded reps caught), specificity "
        f"{_fraction(cv.get('specificity'))} (good reps passed)"
    )
    reps = f"{cv['n_spans']} labelled reps" if cv.get("n_spans") else "its labelled reps"
    if model.get("personalised"):
        return (
            f" The personalisation was scored by cross-validation on the lifter's own {reps}, "
            f"each of {plural(int(cv['n_groups']), unit)} held out in turn: {figures}."
        )
    folds = f"{cv['n_folds']} folds over " if cv.get("n_folds") else ""
    return (
        f" Its training procedure (model choice, calibration, threshold) was scored by nested "
        f"cross-validation grouped by {unit} ({folds}{plural(int(cv['n_groups']), unit)}, "
        f"{reps}; each fold chose and fitted the model on the other {unit}s only and judged "
        f"its held-out {unit}s): {figures}."
    )


def _fraction(value: Any) -> str:
    return "?" if not isinstance(value, (int, float)) else f"{value:.2f}"


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
    lifts = {s.lift for s in sessions}
    title = (LIFT_TITLES.get(lifts.pop(), "Lift") if len(lifts) == 1 else "Lift") + " report"
    title += f": {len(sessions)} sessions" if len(sessions) > 1 else ""
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
            "Middle: share of reps the classifier judged rounded. Right: volume (kg x reps "
            "when loads were given for every set, else number of reps).</figcaption></figure>"
            "</section>"
        )
    for index, session in enumerate(sessions, start=1):
        own = {kind: svgs.get(figure_key(index, kind), "") for kind in ("trace", "sets")}
        body.append(_session_section(index, session, own))
    body.append(
        "<footer>Angles in degrees relative to the lifter's calibrated upright posture "
        "(flexion positive forward); times from the start of each recording (m:ss.s), with "
        "the clock time (UTC) beside them when the recording says when it started; tempo "
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
