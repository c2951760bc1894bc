"""Report package on fabricated analyses whose every number is known by construction."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from imu.errors import InputError
from imu.report import InsightSettings, build_report, from_json, rep_csv_table, write_rep_csv
from imu.report.data import chronological, order_note
from imu.report.html import fmt, label
from imu.report.insights import all_insights, session_insights
from imu.report.loads import read_loads
from imu.report.plots import envelope, progress_figure, sets_figure
from imu.report.summary import fitted_ends, set_summary, speed_loss_pct
from imu.text import clock

RATE_HZ = 50.0
REST_S = 60.0


def make_doc(peaks_by_set, ascents_by_set=None, **per_rep):
    """An ``analysis.to_json()`` dict plus angles for reps with the given peaks (deg).

    Each rep: 1.0 s descent (sine to the peak), ``ascent_s`` back to 0 deg, 0.5 s pause;
    sets are ``REST_S`` apart. ``per_rep[field]`` is a function ``(set, rep) -> value``
    overriding a rep field (e.g. ``hyperextended``).
    """
    ascents_by_set = ascents_by_set or [[1.0] * len(p) for p in peaks_by_set]
    pieces, reps, sets = [np.zeros(int(10 * RATE_HZ))], [], []
    time_s = 10.0
    for s, (peaks, ascents) in enumerate(zip(peaks_by_set, ascents_by_set), start=1):
        set_start = time_s
        for r, (peak, ascent) in enumerate(zip(peaks, ascents), start=1):
            n_down, n_up = int(1.0 * RATE_HZ), round(ascent * RATE_HZ)
            phase_down = np.linspace(0, np.pi / 2, n_down, endpoint=False)
            phase_up = np.linspace(0, np.pi / 2, n_up, endpoint=False)
            pieces += [
                peak * np.sin(phase_down),
                peak * np.cos(phase_up),
                np.zeros(int(0.5 * RATE_HZ)),
            ]
            rep = {
                "set": s, "rep": r, "start_s": time_s, "bottom_s": time_s + 1.0, "end_s": time_s + 1.0 + ascent,
                "peak_flexion_deg": peak, "liftoff_flexion_deg": peak - 2.0, "lockout_extension_deg": 2.0,
                "descent_s": 1.0, "ascent_s": ascent, "peak_flexion_velocity_deg_s": 90.0,
                "peak_extension_velocity_deg_s": -120.0, "lateral_bend_range_deg": 3.0,
                "twist_range_deg": 4.0, "smoothness": 0.9, "hyperextended": False, "rounded": False,
                "p_rounded": 0.1,
            }  # fmt: skip
            for field, value in per_rep.items():
                rep[field] = value(s, r)
            reps.append(rep)
            time_s += 1.0 + ascent + 0.5
        sets.append({"set": s, "n_reps": len(peaks), "start_s": set_start, "end_s": time_s - 0.5})
        pieces.append(np.zeros(int(REST_S * RATE_HZ)))
        time_s += REST_S
    flexion = np.concatenate(pieces)
    t = np.arange(len(flexion)) / RATE_HZ
    angles = np.column_stack([t, flexion, np.sin(t), np.cos(t)])
    doc = {
        "sampling_rate_hz": RATE_HZ,
        "calibration": {"ok": True, "quality": 0.93, "message": "stood still 3.0 s", "time_s": 2.0},
        "quality": {"n_gaps": 1, "gap_total_s": 1.5},
        "reps": reps,
        "sets": sets,
        "model": {"name": "personal-2026-11", "n_reps_trained": 240},
    }
    return doc, angles


def make_session(peaks_by_set, ascents_by_set=None, name="monday", loads=None, **per_rep):
    doc, angles = make_doc(peaks_by_set, ascents_by_set, **per_rep)
    return from_json(doc, angles, name, {"synthetic": "true"}, loads)


def kinds(insights, level=None):
    return [i.kind for i in insights if level is None or i.level == level]


SETTINGS = InsightSettings()
FLAT = [60.0] * 5


# --- summaries -------------------------------------------------------------------


def test_fitted_ends_is_the_least_squares_line():
    assert fitted_ends(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx((1.0, 4.0))
    assert fitted_ends(np.array([0.0, 3.0, 0.0, 3.0])) == pytest.approx((0.6, 2.4))
    assert fitted_ends(np.array([5.0, np.nan, 7.0])) == pytest.approx((5.0, 7.0))
    assert np.isnan(fitted_ends(np.array([5.0, np.nan]))).all()


def test_speed_loss_from_ascent_durations():
    # ascent 1.0 s -> 1.25 s: speed 1/1.25 = 0.8 of the start, 20 % lost
    assert speed_loss_pct(np.array([1.0, 1.125, 1.25])) == pytest.approx(20.0)
    assert speed_loss_pct(np.array([1.0, 1.0])) == pytest.approx(0.0)


def test_set_summary_matches_constructed_reps():
    session = make_session([[50, 52, 54, 56], [60, 60, 60]], [[1.0, 1.1, 1.2, 1.3], [2, 2, 2]])
    sets = set_summary(session)
    assert sets["set"].tolist() == [1, 2]
    assert sets["n_reps"].tolist() == [4, 3]
    assert sets["peak_flexion_rise_deg"].tolist() == pytest.approx([6.0, 0.0])
    assert sets["peak_flexion_mean_deg"].tolist() == pytest.approx([53.0, 60.0])
    assert sets["speed_loss_pct"].iloc[0] == pytest.approx(100 * (1 - 1.0 / 1.3))
    # set 1 reps last 2.0+2.1+2.2+2.3 s of descent+ascent
    assert sets["time_under_tension_s"].iloc[0] == pytest.approx(8.6)
    # rest = REST_S plus the 0.5 s pause after the last rep of set 1
    assert np.isnan(sets["rest_before_s"].iloc[0])
    assert sets["rest_before_s"].iloc[1] == pytest.approx(REST_S + 0.5)


# --- insights: each one shown when the data supports it, and only then -------------


def test_form_drift_reported_with_its_numbers():
    session = make_session([[50, 52, 54, 56, 58], FLAT])
    found = [i for i in session_insights(session, SETTINGS) if i.kind == "form_drift"]
    assert len(found) == 1
    assert found[0].title.startswith("Set 1:")
    assert "+8.0\N{DEGREE SIGN} over 5 reps" in found[0].text
    assert "50.0\N{DEGREE SIGN} on rep 1, 58.0\N{DEGREE SIGN} on the last" in found[0].text


def test_a_trend_in_several_sets_is_said_once_naming_the_sets():
    """'Peak flexion crept up within the set (set 1: ...; set 2: ...)': one set's words
    for several sets. The sentence names the sets, each set's figures follow once."""
    session = make_session([[50, 52, 54, 56, 58], FLAT, [60, 63, 66, 69]],
                           [[1.0, 1.1, 1.2, 1.3, 1.4], [1.0] * 5, [1.0, 1.2, 1.4, 1.6]])
    found = {i.kind: i for i in session_insights(session, SETTINGS)}
    drift, slowing = found["form_drift"], found["slowing"]
    assert drift.title == "Sets 1 and 3: the back bent further rep after rep"
    assert drift.text.count("crept up") == 1 and "within the set" not in drift.text
    assert drift.text.startswith(
        "Peak flexion crept up within sets 1 and 3 (the peak flexion rise, fitted; limit "
        "5.0\N{DEGREE SIGN}): +8.0\N{DEGREE SIGN} over 5 reps in set 1 (50.0\N{DEGREE SIGN} on "
        "rep 1, 58.0\N{DEGREE SIGN} on the last); +9.0\N{DEGREE SIGN} over 4 reps in set 3 "
        "(60.0\N{DEGREE SIGN} on rep 1, 69.0\N{DEGREE SIGN} on the last). ")
    assert slowing.text.startswith(
        "The ascent lost speed within sets 1 and 3 (fitted, limit 20% speed loss): 29% slower "
        "in set 1 (ascent 1.00 s on rep 1 and 1.40 s on rep 5); 37% slower in set 3 (ascent "
        "1.00 s on rep 1 and 1.60 s on rep 4). ")


def test_form_drift_needs_enough_reps_and_a_real_rise():
    two_reps = make_session([[40, 70]])  # +30 deg, but two reps are no trend
    small = make_session([[60, 61, 62, 63]])  # +3 deg < 5 deg limit
    assert "form_drift" not in kinds(session_insights(two_reps, SETTINGS))
    assert "form_drift" not in kinds(session_insights(small, SETTINGS))
    relaxed = InsightSettings(min_reps_for_trend=2)
    assert "form_drift" in kinds(session_insights(two_reps, relaxed))


def test_slowing_ascents_reported_only_beyond_the_limit():
    slowing = make_session([[60] * 4], [[1.0, 1.1, 1.2, 1.3]])  # 23 % speed loss
    steady = make_session([[60] * 4], [[1.0, 1.05, 1.1, 1.15]])  # 13 %
    short = make_session([[60] * 2], [[1.0, 2.0]])
    found = [i for i in session_insights(slowing, SETTINGS) if i.kind == "slowing"]
    assert len(found) == 1 and "within set 1 (fitted, limit 20% speed loss): 23% slower" in found[0].text
    assert "slowing" not in kinds(session_insights(steady, SETTINGS))
    assert "slowing" not in kinds(session_insights(short, SETTINGS))


def test_hyperextension_needs_a_pattern():
    def hyper_on(*reps):
        return {
            "hyperextended": lambda s, r: r in reps,
            "lockout_extension_deg": lambda s, r: 14.0 if r in reps else 2.0,
        }

    once = make_session([FLAT], **hyper_on(3))
    twice = make_session([FLAT], **hyper_on(2, 4))
    assert "hyperextension" not in kinds(session_insights(once, SETTINGS))
    found = [i for i in session_insights(twice, SETTINGS) if i.kind == "hyperextension"]
    assert len(found) == 1
    assert "2 of 5 reps" in found[0].text and "set 1 rep 2, set 1 rep 4" in found[0].text
    assert "by up to 14.0\N{DEGREE SIGN}" in found[0].text


def test_sway_and_twist_from_rep_ranges():
    swaying = make_session([FLAT], lateral_bend_range_deg=lambda s, r: 12.0 + r)
    twisting = make_session([FLAT], twist_range_deg=lambda s, r: 20.0 if r > 3 else 4.0)
    assert kinds(session_insights(swaying, SETTINGS)).count("sway") == 1
    assert "twist" not in kinds(session_insights(swaying, SETTINGS))
    found = [i for i in session_insights(twisting, SETTINGS) if i.kind == "twist"]
    assert len(found) == 1 and "In 2 of 5 reps" in found[0].text
    one_rep_over = make_session([FLAT], twist_range_deg=lambda s, r: 20.0 if r == 1 else 4.0)
    assert "twist" not in kinds(session_insights(one_rep_over, SETTINGS))


def test_warm_up_inferred_from_ascent_speed():
    ramped = make_session([FLAT] * 3, [[0.8] * 5, [1.0] * 5, [1.4] * 5])
    cold = make_session([FLAT] * 3, [[1.4] * 5, [1.35] * 5, [1.3] * 5])
    single = make_session([FLAT], [[1.4] * 5])
    good = [i for i in session_insights(ramped, SETTINGS) if i.kind == "warmup"]
    assert [i.level for i in good] == ["good"] and good[0].set == 3
    assert "set 1 (median ascent 0.80 s), set 2 (median ascent 1.00 s)" in good[0].text
    assert "inference from ascent speed" in good[0].text
    bad = [i for i in session_insights(cold, SETTINGS) if i.kind == "warmup"]
    assert [i.level for i in bad] == ["warning"] and bad[0].set == 1
    assert "The first recorded set (set 1, median ascent 1.40 s)" in bad[0].text
    late = make_session([FLAT] * 3, [[1.2] * 5, [1.3] * 5, [1.35] * 5])  # only 12 % faster
    (found,) = [i for i in session_insights(late, SETTINGS) if i.kind == "warmup"]
    assert found.level == "warning" and found.set == 3
    assert ("None of the 2 sets before the heaviest set (set 3, median ascent 1.35 s) was "
            "clearly lighter (an ascent at least 15% faster; set 1: median ascent 1.20 s, set 2: "
            "median ascent 1.30 s)") in found.text  # each set before it, not only the first
    second = make_session([FLAT] * 3, [[1.3] * 5, [1.4] * 5, [1.0] * 5])
    (found,) = [i for i in session_insights(second, SETTINGS) if i.kind == "warmup"]
    assert found.text.startswith("The set before the heaviest set (set 2, median ascent 1.40 s) "
                                 "was not clearly lighter (an ascent at least 15% faster; set 1: "
                                 "median ascent 1.30 s)")
    assert "warmup" not in kinds(session_insights(single, SETTINGS))


def test_insights_speak_of_any_lift_not_of_deadlift_pulls():
    """The report also serves squats (--lift squat): its advice said "Finishing a deadlift",
    "A deadlift is a symmetric lift", "the pull slowed down", "Heavy pulls ... after
    deadlifts"; the hyperextension check was titled "Leaning back at lockout", not with
    the word the log and the tables use (docs/vocabulary.md)."""
    busy = make_session(
        [FLAT] * 3, [[1.4] * 5, [1.35] * 5, [1.0, 1.1, 1.2, 1.3, 1.4]],
        hyperextended=lambda s, r: r in (2, 4),
        lockout_extension_deg=lambda s, r: 14.0 if r in (2, 4) else 2.0,
        lateral_bend_range_deg=lambda s, r: 12.0 + r,
    )  # fmt: skip
    found = session_insights(busy, SETTINGS)
    assert {"hyperextension", "sway", "slowing", "warmup"} <= set(kinds(found))
    words = " ".join(f"{i.title} {i.text}" for i in found).lower()
    assert "deadlift" not in words and "pull" not in words
    (hyper,) = [i for i in found if i.kind == "hyperextension"]
    assert hyper.title == "Hyperextended at lockout"
    # nor do the figures and tables: "rising = slowing pull", "liftoff flexion" (the CLI
    # and the docs say lift-off)
    titles = [ax.get_title() for ax in sets_figure(busy).axes]
    assert "Ascent duration per rep (rising = slowing ascent)" in titles
    assert label("liftoff_flexion_deg") == "lift-off flexion (deg)"


def test_warm_up_from_loads_overrides_the_inference():
    # ascent speeds say "no ramp-up", the loads say 60 -> 100 kg: loads win
    session = make_session([FLAT] * 2, [[1.4] * 5, [1.3] * 5], loads={1: 60.0, 2: 100.0})
    found = [i for i in session_insights(session, SETTINGS) if i.kind == "warmup"]
    assert [i.level for i in found] == ["good"] and "(set 2, 100 kg): set 1 (60 kg)" in found[
        0
    ].text
    straight = make_session([FLAT] * 2, loads={1: 100.0, 2: 100.0})
    found = [i for i in session_insights(straight, SETTINGS) if i.kind == "warmup"]
    assert [i.level for i in found] == ["warning"]


def test_volume_progression_across_sessions():
    first = make_session([FLAT] * 2, name="week1")  # 10 reps
    gradual = make_session([FLAT, FLAT + [60.0]], name="week2")  # 11 reps: +10 %
    jump = make_session([FLAT] * 3, name="week3")  # 15 reps: +36 %
    assert "volume" not in kinds(all_insights([first], SETTINGS))
    found = [i for i in all_insights([first, gradual, jump], SETTINGS) if i.kind == "volume"]
    assert [(i.session, i.level) for i in found] == [("week2", "good"), ("week3", "warning")]
    assert "11 -> 15 reps, +36% vs week2" in found[1].text


def test_volume_is_compared_only_between_sessions_of_the_same_lifter():
    def of(lifter, name, sets):
        session = make_session([FLAT] * sets, name=name)
        session.metadata["lifter"] = lifter
        return session

    # A: 10 reps, then B (another lifter) 15, then A again 11: A's +10 %, B not compared
    sessions = [of("A", "a1", 2), of("B", "b1", 3), of("A", "a2", 2)]
    sessions[2] = make_session([FLAT, FLAT + [60.0]], name="a2")
    sessions[2].metadata["lifter"] = "A"
    found = [i for i in all_insights(sessions, SETTINGS) if i.kind == "volume"]
    assert [(i.level, i.title) for i in found] == [
        ("note", "2 different lifters"),
        ("good", "Volume within a gradual progression"),
    ]
    assert "a1: A; b1: B; a2: A" in found[0].text
    assert "10 -> 11 reps, +10% vs a1, lifter A's previous session" in found[1].text
    assert "b1" not in found[1].text
    # without lifters in the metadata: compared, and the report says it assumed one lifter
    unknown = [make_session([FLAT] * 2, name="x"), make_session([FLAT] * 3, name="y")]
    (jump,) = [i for i in all_insights(unknown, SETTINGS) if i.kind == "volume"]
    assert "assumed the same lifter" in jump.text and jump.level == "warning"


def test_volume_in_kg_when_every_set_has_a_load():
    a = make_session([FLAT] * 2, name="a", loads={1: 100.0, 2: 100.0})  # 1000 kg
    b = make_session([FLAT] * 2, name="b", loads={1: 100.0, 2: 120.0})  # 1100 kg
    (found,) = [i for i in all_insights([a, b], SETTINGS) if i.kind == "volume"]
    assert "1000 -> 1100 kg lifted" in found.text and found.level == "good"


# --- the HTML page ---------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base"}


class StrictHTML(HTMLParser):
    """Fails on unbalanced tags, duplicate ids, scripts and any external resource."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.ids, self.tags, self.doctype = [], [], [], None
        self.tables, self._cell, self._row = [], None, None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th"):
            self._cell = []

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag in ("td", "th"):
            self._row.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def _check(self, tag, attrs):
        self.tags.append(tag)
        assert tag not in ("script", "link", "iframe", "img"), f"<{tag}> in a self-contained page"
        for key, value in attrs:
            if key == "id":
                self.ids.append(value)
            external = (value or "").startswith(("http:", "https:", "//"))
            assert not external or key.startswith("xmlns"), f"external reference {key}={value}"


def parse(page: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed tags {parser.stack}"
    assert parser.doctype == "DOCTYPE html"
    levels = [int(t[1]) for t in parser.tags if re.fullmatch(r"h[1-6]", t)]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    dupes = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not dupes, f"duplicate ids {sorted(dupes)[:5]}"
    return parser


def rep_tables(parser: StrictHTML) -> list[pd.DataFrame]:
    """The per-rep tables of the page, one per session, as text cells."""
    tables = [
        t
        for t in parser.tables
        if t and t[0][:2] == ["set", "rep"] and "verdict" in t[0]
    ]
    return [pd.DataFrame(t[1:], columns=t[0]) for t in tables]


@pytest.fixture(scope="module")
def two_sessions():
    rounded = {
        "rounded": lambda s, r: r == 5 or None if s == 1 else False,
        "p_rounded": lambda s, r: 0.91 if r == 5 and s == 1 else 0.12,
    }
    first = make_session([[50, 52, 54, 56, 58], FLAT], name="monday", **rounded)
    second = make_session([FLAT] * 3, name="<thursday>")
    when = dt.datetime(2026, 11, 25, 21, 0, tzinfo=dt.timezone.utc)
    return [first, second], build_report([first, second], generated_at=when)


def test_page_is_strict_self_contained_html_with_all_sections(two_sessions):
    _sessions, report = two_sessions
    parser = parse(report.html)
    assert parser.tags.count("svg") == 5  # 2 x (trace + sets) + progress
    assert report.html.count('<svg role="img" aria-label="') == 5  # accessible names
    assert {"insights", "progress", "session-1", "session-2"} <= set(parser.ids)
    for heading in ("Sets", "Reps", "How this was measured", "Insights"):
        assert f">{heading}</h" in report.html
    assert "&lt;thursday&gt;" in report.html and "<thursday>" not in report.html
    assert "Synthetic data" in report.html
    assert "personal-2026-11" in report.html  # the model used


def test_rep_table_numbers_match_the_analysis(two_sessions):
    sessions, report = two_sessions
    tables = rep_tables(parse(report.html))
    assert [len(t) for t in tables] == [len(s.reps) for s in sessions]
    table = tables[0]
    assert len(table) == len(sessions[0].reps)
    reps = sessions[0].reps
    assert table["peak flexion (deg)"].tolist() == [fmt(v) for v in reps["peak_flexion_deg"]]
    assert table["ascent (s)"].tolist() == [fmt(v, 2) for v in reps["ascent_s"]]
    # times from the recording's start (its first sample at 0 s here: 10 s is 0:10.0)
    assert table["start (m:ss.s)"].tolist() == [clock(v) for v in reps["start_s"]]
    assert table["start (m:ss.s)"].iloc[0] == "0:10.0"
    assert table["verdict"].iloc[4] == "\N{BLACK UP-POINTING TRIANGLE} rounded (p=0.91)"
    assert table["verdict"].iloc[0] == "no flag (no model)"  # as analyze and the log say
    assert table["verdict"].iloc[5] == "\N{CHECK MARK} good (p=0.12)"  # no threshold known
    header = re.findall(r"<th scope=\"col\">([^<]*)</th>", report.html)
    unitless = {"set", "rep", "reps", "reps rounded", "reps hyperextended", "verdict", "smoothness"}
    assert [h for h in header if "(" not in h and h not in unitless] == []


def test_no_insight_section_claims_without_data():
    quiet = make_session([[60, 60]])  # two reps, one set
    report = build_report([quiet])
    assert report.insights == []
    assert "Nothing to point out" in report.html
    parse(report.html)


def test_session_without_reps_still_reports():
    doc, angles = make_doc([])
    report = build_report([from_json(doc, angles, "empty")])
    parse(report.html)
    assert "No reps were detected" in report.html


def _cards(html: str) -> dict[str, str]:
    pairs = re.findall(r'<div class="value">([^<]*)</div><div class="label">([^<]*)</div>', html)
    return {label: value for value, label in pairs}


def test_cards_of_a_session_without_reps_say_the_model_was_used_and_no_unit_on_a_dash():
    """A session with no reps analysed WITH a model said "reps rounded (no classifier)"
    beside an appendix naming the model, and "– deg" for the deepest peak."""
    doc, angles = make_doc([])
    doc["model"] = {"name": "default", "threshold": 0.16}
    html = build_report([from_json(doc, angles, "walk")]).html
    cards = _cards(html)
    assert cards["reps rounded (p \u2265 0.16)"] == "0"
    assert cards["deepest peak flexion"] == "\N{EN DASH}"
    assert "no classifier" not in html and "no model" not in html
    doc["model"] = None  # --no-model: the card and the appendix say so, in the log's words
    html = build_report([from_json(doc, angles, "walk")]).html
    assert _cards(html)["reps rounded (no model)"] == "0"
    assert "No model was used (--no-model)" in html and "no classifier" not in html


def test_title_names_the_lift_and_the_appendix_its_preset():
    squat = make_session([FLAT])
    squat.lift = "squat"
    page = build_report([squat]).html
    assert "<h1>Squat report</h1>" in page and "Reps: found with the squat preset" in page
    mixed = build_report([squat, make_session([FLAT], name="tuesday")]).html
    assert "<h1>Lift report: 2 sessions</h1>" in mixed
    deadlift = build_report([make_session([FLAT])]).html
    assert "<h1>Deadlift report</h1>" in deadlift and "preset" not in deadlift
    # every --lift a report takes has its own title ('--lift stoop' came as 'Lift report',
    # the title of sessions measured with different presets)
    from imu.commands.options import LIFT_CHOICES
    from imu.report.html import LIFT_TITLES

    assert set(LIFT_TITLES) == set(LIFT_CHOICES)
    stoop = make_session([FLAT])
    stoop.lift = "stoop"
    assert "<h1>Stoop lift report</h1>" in build_report([stoop]).html


def test_appendix_says_which_gaps_it_counts():
    """A recording with 166 short dropouts said "no gaps in the data" above a warning of
    "166 gaps in the timeline": the appendix counts gaps over 0.25 s (the engine's)."""
    doc, angles = make_doc([FLAT])
    doc["quality"] = {"n_gaps": 0, "gap_total_s": 0.0}
    page = build_report([from_json(doc, angles, "lossy", warnings=["166 gaps ..."])]).html
    assert "no gap over 0.25 s in the data" in page and "no gaps in the data" not in page


def test_envelope_keeps_extremes_and_breaks_at_gaps():
    t = np.arange(100_000) / 100.0
    y = np.sin(t)
    y[50_000] = 7.0
    y[20_000:30_000] = np.nan
    et, ey = envelope(t, y, n_bins=500)
    assert len(et) == len(ey) == 1000
    assert np.nanmax(ey) == 7.0 and np.nanmin(ey) == pytest.approx(-1.0, abs=1e-6)
    assert np.isnan(ey[(et > 205) & (et < 295)]).all()
    _short_t, short_y = envelope(t[:50], y[:50], n_bins=500)
    assert np.array_equal(short_y, y[:50])


def test_one_hour_session_report_stays_small():
    # 12 sets x 8 reps over ~1 h at 100 Hz would be 360 000 samples: the figure is bounded
    doc, angles = make_doc([[60.0 + r for r in range(8)]] * 12)
    t = np.arange(0, 3600, 0.01)
    angles = np.column_stack([t, 30 * np.sin(t), np.sin(t), np.cos(t)])
    report = build_report([from_json(doc, angles, "hour")])
    assert len(report.html.encode()) < 300_000


# --- exports ---------------------------------------------------------------------


def test_rep_csv_round_trip(tmp_path, two_sessions):
    sessions, _ = two_sessions
    path = tmp_path / "reps.csv"
    write_rep_csv(sessions, path)
    back = pd.read_csv(path)
    assert len(back) == sum(len(s.reps) for s in sessions)
    assert back["session"].unique().tolist() == ["monday", "<thursday>"]
    expected = rep_csv_table(sessions)
    for column in ("start_s", "peak_flexion_deg", "ascent_s", "p_rounded"):
        np.testing.assert_allclose(back[column], expected[column].astype(float), atol=1e-4)
    assert back["rounded"].iloc[4] == True
    assert back["rounded"].isna().sum() == 4  # unclassified reps stay empty cells


def test_png_files_written(tmp_path, two_sessions):
    _, report = two_sessions
    paths = report.write_pngs(tmp_path / "png")
    assert sorted(p.name for p in paths) == sorted(
        ["s1-trace.png", "s1-sets.png", "s2-trace.png", "s2-sets.png", "progress.png"]
    )
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


# --- loads input -----------------------------------------------------------------


def test_read_loads(tmp_path):
    path = tmp_path / "loads.csv"
    path.write_text("session,set,load_kg\nmonday,1,60\nmonday,2,102.5\n\ntuesday,1,70\n")
    assert read_loads(path) == {"monday": {1: 60.0, 2: 102.5}, "tuesday": {1: 70.0}}


@pytest.mark.parametrize(
    "text, message",
    [
        ("set,load\n1,60\n", "loads.csv:1: not a loads file"),
        ("session,set,load_kg\nmonday,one,60\n", "loads.csv:2: column 'set': 'one' is not a set"),
        ("session,set,load_kg\nmonday,1,heavy\n", "loads.csv:2: column 'load_kg': 'heavy'"),
        ("session,set,load_kg\nmonday,1,-5\n", "column 'load_kg': '-5' is not a load"),
        ("session,set,load_kg\nmonday,1,60\nmonday,1,70\n", "loads.csv:3: set 1 of session"),
        ("session,set,load_kg\nmonday,1\n", "loads.csv:2: expected 3 fields, found 2"),
    ],
)
def test_read_loads_rejects_bad_rows_with_one_line(tmp_path, text, message):
    path = tmp_path / "loads.csv"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        read_loads(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_contract_key_is_an_input_error():
    doc, angles = make_doc([FLAT])
    del doc["reps"]
    with pytest.raises(InputError, match="analysis has no 'reps'"):
        from_json(doc, angles, "broken.json")


def test_rep_table_keeps_none_verdicts_apart_from_false():
    session = make_session([FLAT], rounded=lambda s, r: None if r == 1 else r == 2)
    assert session.reps["rounded"].tolist() == [None, True, False, False, False]


def test_data_quality_section_shows_rate_gaps_warnings_and_failed_calibration():
    doc, angles = make_doc([FLAT])
    doc["gaps"] = [{"start_s": 40.0, "end_s": 41.5, "duration_s": 1.5, "restarted": False}]
    doc["calibration"] = {"ok": False, "quality": 0.2, "message": "no still period found"}
    session = from_json(doc, angles, "gappy", warnings=["12 duplicate timestamps dropped"])
    assert session.received_rate_hz == pytest.approx(RATE_HZ)
    page = build_report([session]).html
    parser = parse(page)
    (gaps,) = [
        t for t in parser.tables if t[0][:3] == ["start (m:ss.s)", "end (m:ss.s)", "duration (s)"]
    ]
    assert gaps[0][3] == "angles"  # not "restarted": the log's words, bridged or not
    assert gaps[1] == ["0:40.0", "0:41.5", "1.50", "bridged"]
    assert "at 50 Hz (received 50.0 per s)" in page
    assert "1 gap in the data, 1.5 s in all" in page
    assert "Calibration failed: no still period found" in page
    assert "Warning: 12 duplicate timestamps dropped" in page
    healthy = build_report([make_session([FLAT])]).html
    assert "<p>1 gap in the data (hatched on the trace):</p>" in page  # not "1 gap(s)"
    assert "Calibration failed" not in healthy and "in the data (hatched" not in healthy
    doc["gaps"][0]["restarted"] = True  # too long to bridge
    long_gap = build_report([from_json(doc, angles, "gappy")]).html
    assert "<td>started again</td>" in long_gap and "<td>bridged</td>" not in long_gap


def test_rounded_reps_insight_says_where_they_were():
    def flags(*where):
        return {"rounded": lambda s, r: (s, r) in where}

    late = make_session([FLAT, FLAT], **flags((1, 5), (2, 4), (2, 5)))
    (found,) = [i for i in session_insights(late, SETTINGS) if i.kind == "rounded"]
    assert "3 of 10 reps rounded (30%: set 1 rep 5, set 2 rep 4, set 2 rep 5)" in found.text
    assert "3 of them came in the last 2 reps" in found.text
    early = make_session([FLAT, FLAT], **flags((1, 1), (2, 2)))
    (found,) = [i for i in session_insights(early, SETTINGS) if i.kind == "rounded"]
    assert "last 2 reps" not in found.text
    once = make_session([FLAT, FLAT], **flags((1, 5)))
    unclassified = make_session([FLAT, FLAT], rounded=lambda s, r: None)
    assert "rounded" not in kinds(session_insights(once, SETTINGS))
    assert "rounded" not in kinds(session_insights(unclassified, SETTINGS))


def _dated(name: str, started: str | None, peaks=None):
    """A session with ``started_utc`` metadata (None: without the key)."""
    session = make_session(peaks or [FLAT], name=name)
    if started is not None:
        session.metadata["started_utc"] = started
    return session


def _section_names(html: str) -> list[str]:
    return re.findall(r"<h2>Session: ([^<]*)</h2>", html)


def test_sessions_are_ordered_by_their_start_time_when_all_have_one(tmp_path):
    given = [
        _dated("thursday", "2026-11-26T18:00:00+00:00"),
        _dated("monday", "2026-11-23T19:30:00+01:00"),  # 18:30 UTC
        _dated("tuesday", "2026-11-24T07:00:00Z"),
        _dated("monday-late", "2026-11-23T18:30:00"),  # no offset: UTC, ties keep given order
    ]
    ordered, undated = chronological(given)
    assert [s.name for s in ordered] == ["monday", "monday-late", "tuesday", "thursday"]
    assert undated == []
    report = build_report(given[:2])  # the page, its figures and the CSV follow that order
    assert _section_names(report.html) == ["monday", "thursday"]
    assert report.undated == []
    assert "Sessions in the order they were recorded (started_utc metadata)." in report.html
    assert "recorded 2026-11-23 18:30:00 UTC" in report.html
    write_rep_csv(given, tmp_path / "reps.csv")
    sessions = pd.read_csv(tmp_path / "reps.csv")["session"].unique().tolist()
    assert sessions == ["monday", "monday-late", "tuesday", "thursday"]


@pytest.mark.parametrize("bad", [None, "", "last tuesday"])
def test_one_session_without_a_start_time_keeps_the_given_order(bad):
    given = [
        _dated("thursday", "2026-11-26T18:00:00+00:00"),
        _dated("sim", bad),
        _dated("monday", "2026-11-23T18:30:00+00:00"),
    ]
    ordered, undated = chronological(given)
    assert [s.name for s in ordered] == ["thursday", "sim", "monday"]
    assert undated == ["sim"]


def test_the_page_says_when_sessions_keep_the_given_order():
    report = build_report([_dated("thursday", "2026-11-26T18:00:00Z"), _dated("sim", None)])
    assert _section_names(report.html) == ["thursday", "sim"]
    assert report.undated == ["sim"]
    assert "Sessions in the order given: sim has no start time (started_utc metadata)." in (
        report.html
    )
    assert order_note(["a", "b", "c", "d", "e"]) == (
        "Sessions in the order given: a, b, c and 2 more have no start time (started_utc metadata)."
    )


@pytest.mark.parametrize(
    ("method", "said"),
    [("still_period", "standing still until 0:02.0"), ("movement", "top of a rep at 0:02.0"),
     ("mounting", "from --mounting alone")],
)  # fmt: skip
def test_appendix_says_how_upright_was_found(method, said):
    from imu.report.html import appendix

    session = make_session([FLAT])
    message = "calibrated from --mounting alone" if method == "mounting" else "calibrated: x"
    session.calibration.update({"ok": True, "method": method, "time_s": 2.0, "message": message})
    text = appendix(session)[1]
    assert said in text
    assert ("standing still" in text) == (method == "still_period")


def test_the_volume_axis_counts_whole_reps():
    """Without loads the volume is a count of reps: its axis read 2.5, 7.5, 17.5 reps."""
    sessions = [make_session([[60.0] * 2], name="monday"),
                make_session([[60.0] * 3], name="friday")]  # 2 and 3 reps: 0.5 steps before
    volume = progress_figure(sessions).axes[2]
    assert volume.get_ylabel() == "volume (reps)"
    low, high = volume.get_ylim()
    ticks = [float(t) for t in volume.get_yticks() if low <= t <= high]
    assert ticks == [0.0, 1.0, 2.0, 3.0]


def test_appendix_says_how_the_shipped_model_was_scored_with_its_figures():
    """The appendix said the model was 'checked on 40 lifters it was not trained on'; what
    imu train did is nested cross-validation of its training procedure grouped by lifter,
    on SYNTHETIC data: the sentence says so, with the manifest's figures."""
    import json
    from pathlib import Path

    from imu.model import load_model
    from imu.report.html import appendix

    manifest = json.loads(
        (Path(__file__).parent.parent / "models" / "default.manifest.json").read_text()
    )
    cv = manifest["cv"]
    session = make_session([FLAT])
    session.model = {"path": "models/default.skops", **load_model().describe()}
    text = " ".join(appendix(session))
    assert "not trained on" not in text
    assert (
        "nested cross-validation grouped by lifter "
        f"({len(cv['folds'])} folds over {cv['n_groups']} lifters, {cv['n_spans']} labelled reps;"
    ) in text
    assert (
        f"balanced accuracy {cv['balanced_accuracy']:.2f}, sensitivity {cv['sensitivity']:.2f} "
        f"(rounded reps caught), specificity {cv['specificity']:.2f} (good reps passed)"
    ) in text
    assert "The training data was SYNTHETIC" in text


def test_the_appendix_says_synthetic_training_data_from_the_models_manifest():
    """The appendix called a model SYNTHETIC by its file name (default.skops): the
    shipped model copied to my.skops was said to be trained on real data, and any model
    named default.skops SYNTHETIC. It reads the manifest: the training sessions it lists
    and whether each was marked synthetic; a model without a manifest says so."""
    import copy
    import json
    from pathlib import Path

    from imu.model import load_model
    from imu.report.html import appendix

    shipped = load_model()
    n = len(json.loads((Path(__file__).parent.parent / "models" / "default.manifest.json")
                       .read_text())["training_files"][0]["sessions"])  # fmt: skip
    session = make_session([FLAT])

    def said(manifest: dict | None, path: str = "my.skops") -> str:
        model = copy.copy(shipped)
        model.manifest = manifest or {}
        session.model = {"path": path, **model.describe()}
        return " ".join(appendix(session))

    assert f"The training data was SYNTHETIC (its manifest: all {n} training sessions" in said(
        shipped.manifest)  # fmt: skip
    real = copy.deepcopy(shipped.manifest)
    for item in real["training_files"]:
        for recording in item["sessions"]:
            recording["synthetic"] = False
    assert "SYNTHETIC" not in said(real, "default.skops")
    real["training_files"][0]["sessions"][0]["synthetic"] = True
    assert f" 1 of its {n} training sessions were SYNTHETIC (simulated)." in said(real)
    del real["training_files"][0]["sessions"][1]["synthetic"]  # written before the marks
    assert ("Its manifest does not say whether its training data was recorded from lifters "
            "or SYNTHETIC.") in said(real)
    assert "The model carries no manifest: what it was trained on" in said(None)
