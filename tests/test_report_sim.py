"""Reports of simulated sessions (imu.sim, synthetic data with known truth) through the
real pipeline, and the `imu report` command end to end."""

from __future__ import annotations

import html
import re
import runpy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import parse, rep_tables

from imu.cli import main
from imu.importers import load
from imu.pipeline import analyze_session
from imu.report import build_report, from_analysis
from imu.report.html import fmt
from imu.report.plots import TRACE_BINS, trace_figure
from imu.report.summary import set_summary
from imu.sim import (
    DeadliftSet,
    Rest,
    SessionScript,
    Stand,
    Walk,
    make_lifter,
    simulate,
    write_result,
)
from imu.text import clock

NO = (False,) * 5
HYPER = (False, True, False, True, False)  # set 2, reps 2 and 4 lean back at lockout


def scripted(seed: int, sets: tuple[DeadliftSet, ...], name: str) -> SessionScript:
    """Calibration stance, a walk to the bar, then ``sets`` with 75 s rests."""
    acts: list = [Stand(4.0, still=True), Walk(3.0), Stand(2.0)]
    for i, deadlift_set in enumerate(sets):
        acts += [Rest(75.0)] if i else []
        acts.append(deadlift_set)
    acts += [Stand(2.0)]
    return SessionScript(make_lifter(seed), tuple(acts), 0.0, name)


@pytest.fixture(scope="module")
def simulated():
    script = scripted(
        1,
        (
            DeadliftSet(5, rounded=NO, hyperextended=NO),
            DeadliftSet(5, rounded=NO, hyperextended=HYPER),
            DeadliftSet(5, rounded=NO, hyperextended=NO),
        ),
        "scripted",
    )
    result = simulate(script, sampling_rate_hz=100, seed=7)
    analysis = analyze_session(result.session)
    session = from_analysis(analysis, "scripted", result.session.metadata)
    return result, analysis, session, build_report([session])


def test_report_numbers_are_the_analysis_numbers(simulated):
    result, analysis, session, report = simulated
    (table,) = rep_tables(parse(report.html))
    reps = pd.DataFrame(analysis.reps)
    assert len(table) == len(reps) > 0
    for column, digits in (
        ("peak_flexion_deg", 1),
        ("lockout_extension_deg", 1),
        ("descent_s", 2),
        ("ascent_s", 2),
        ("twist_range_deg", 1),
    ):
        header = [
            h for h in table.columns if h.startswith(column.rsplit("_", 1)[0].replace("_", " "))
        ]
        assert table[header[0]].tolist() == [fmt(float(v), digits) for v in reps[column]], column
    first = float(result.session.data["time_s"].iloc[0])  # times from the recording's start
    for column in ("start_s", "end_s"):
        header = f"{column.removesuffix('_s')} (m:ss.s)"
        assert table[header].tolist() == [clock(float(v) - first) for v in reps[column]]
    # the report's set table agrees with the analysis' own set events and with the truth
    sets = set_summary(session)
    assert sets["n_reps"].tolist() == [s["n_reps"] for s in analysis.sets]
    # every true rep, and nothing else, is in the report under its own set and rep number
    assert sets["n_reps"].tolist() == result.truth_reps.groupby("set").size().tolist()
    for true in result.truth_reps.itertuples():
        row = reps[(reps["set"] == true.set) & (reps["rep"] == true.rep)]
        assert len(row) == 1 and abs(row["end_s"].iloc[0] - true.end_s) < 0.5
    assert "Synthetic data" in report.html and "imu.sim" in report.html


def test_hyperextension_insight_names_the_truly_hyperextended_reps(simulated):
    result, analysis, _, report = simulated
    flagged = {(r["set"], r["rep"]) for r in analysis.reps if r["hyperextended"]}
    truth = result.truth_reps
    true_hyper = set(
        zip(truth["set"][truth["hyperextended"]], truth["rep"][truth["hyperextended"]])
    )
    assert true_hyper == {(2, 2), (2, 4)}
    (insight,) = [i for i in report.insights if i.kind == "hyperextension"]
    listed = {tuple(map(int, m)) for m in re.findall(r"set (\d+) rep (\d+)", insight.text)}
    assert listed == flagged and true_hyper <= listed
    assert "(flagged beyond 10.0\N{DEGREE SIGN})" in insight.text  # the limit it was judged by


def test_cli_report_names_the_hyperextension_limit_it_was_given(tmp_path, session_files):
    """The insight said "by default beyond 10°" whatever --hyperextension-deg was."""
    out = tmp_path / "r.html"
    argv = ["report", str(session_files[0]), "--no-model", "-o", str(out)]
    assert main([*argv, "--hyperextension-deg", "1.5"]) == 0  # flags lockouts of 2-3 deg
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert "reps hyperextended at lockout (beyond 1.5 deg)" in page
    assert "by default" not in page
    insight = re.search(r"finished leaning back past upright \([^)]*\), by up to [\d.]+° "
                        r"\(flagged beyond ([\d.]+)°\)", page)
    assert insight is not None and insight[1] == "1.5"


def test_trace_figure_keeps_the_analysis_extremes(simulated):
    _, analysis, session, _ = simulated
    fig = trace_figure(session)
    line = next(ln for ln in fig.axes[0].lines if ln.get_label() == "flexion")
    assert np.nanmax(line.get_ydata()) == pytest.approx(np.nanmax(analysis.angles[:, 1]))
    assert np.nanmin(line.get_ydata()) == pytest.approx(np.nanmin(analysis.angles[:, 1]))
    assert len(line.get_ydata()) <= 2 * TRACE_BINS < len(analysis.angles)


def test_trace_legend_sits_above_the_plots_and_covers_no_marker(simulated):
    """Issue 16: the legend covered the peaks of flagged reps (their markers hidden)."""
    result = simulated[0]
    classified = analyze_session(result.session, classifier=DeepRepClassifier())
    session = from_analysis(classified, "classified", result.session.metadata)
    fig = trace_figure(session)
    fig.canvas.draw()
    top = fig.axes[0]
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    legend = fig.legends[0].get_window_extent()
    assert legend.y0 >= top.get_window_extent().y1 - 1  # wholly above the plotting area
    markers = [ln for ln in top.lines if ln.get_marker() in ("v", "s")]
    assert markers and sum(len(ln.get_xdata()) for ln in markers) > 0
    for ln in markers:
        points = top.transData.transform(np.column_stack([ln.get_xdata(), ln.get_ydata()]))
        assert not any(legend.contains(x, y) for x, y in points)
    assert (
        top.get_xaxis().get_major_formatter()(float(result.session.data["time_s"][0]) + 90, 0)
        == "1:30"
    )


def test_appendix_is_written_for_a_coach(simulated):
    """No raw internals: no empty lists, no JSON, no paths, the threshold beside p."""
    result = simulated[0]
    from imu.model.files import default_model_path, load_model

    model = load_model(default_model_path())
    analysed = analyze_session(result.session, classifier=model)
    analysed.model = {"path": str(default_model_path()), **model.describe()}
    page = build_report([from_analysis(analysed, "s", result.session.metadata)]).html
    appendix = page[page.index("How this was measured") :]
    appendix = appendix[: appendix.index("</ul>")]
    for raw in ("[]", "{", "unavailable", "degraded", str(default_model_path().parent)):
        assert raw not in appendix, raw
    assert "the model shipped with imu" in appendix
    assert f"at least {model.threshold:.2f}" in appendix
    assert re.search(r"sensitivity 0\.\d\d \(rounded reps caught\), specificity 0\.\d\d "
                     r"\(good reps passed\)", appendix)
    assert f"({model.threshold:.2f})" not in page and f"\u2265 {model.threshold:.2f})" in page


# --- `imu report` end to end ---------------------------------------------------------


@pytest.fixture(scope="module")
def session_files(tmp_path_factory):
    """Two short simulated sessions written as canonical CSV (synthetic)."""
    directory = tmp_path_factory.mktemp("sessions")
    paths = []
    for k, (seed, n_sets) in enumerate(((2, 2), (3, 3)), start=1):
        sets = tuple(
            DeadliftSet(4, rounded=(False,) * 4, hyperextended=(False,) * 4) for _ in range(n_sets)
        )
        result = simulate(scripted(seed, sets, f"day{k}"), sampling_rate_hz=50, seed=seed)
        paths.append(write_result(result, directory, f"day{k}")[0])
    return paths


def test_cli_writes_report_pngs_and_rep_csv(tmp_path, session_files, capsys):
    loads = tmp_path / "loads.csv"
    loads.write_text("session,set,load_kg\nday2,1,60\nday2,2,100\nday2,3,100\n")
    out, png, csv = tmp_path / "r.html", tmp_path / "png", tmp_path / "reps.csv"
    argv = ["report", *map(str, session_files), "-o", str(out), "--png", str(png)]
    assert main([*argv, "--csv", str(csv), "--loads", str(loads)]) == 0
    page = out.read_text(encoding="utf-8")
    parse(page)
    assert "Progress over sessions" in page and "60 kg" in page
    assert sorted(p.name for p in png.iterdir()) == [
        "progress.png", "s1-sets.png", "s1-trace.png", "s2-sets.png", "s2-trace.png"
    ]  # fmt: skip
    exported = pd.read_csv(csv)
    for name, path in zip(("day1", "day2"), session_files):
        expected = pd.DataFrame(analyze_session(load([path])).reps)
        got = exported[exported["session"] == name]
        np.testing.assert_allclose(got["peak_flexion_deg"], expected["peak_flexion_deg"], atol=1e-4)
        np.testing.assert_allclose(got["end_s"], expected["end_s"], atol=1e-4)
    assert exported.loc[exported["session"] == "day2", "load_kg"].tolist()[:4] == [60.0] * 4
    assert f"wrote 5 PNG files to {png}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--loads", "{tmp}/nope.csv"], "nope.csv: no such file"),
        (["--loads", "{tmp}/bad.csv"], "session dayX is not among the report's sessions"),
        (["-o", "{input}"], "-o would overwrite an input"),
        (["-o", "{tmp}/no/r.html"], "no: -o: no such directory"),
        (["-o", "{tmp}"], "-o is a directory"),
        (["--png", "{tmp}/bad.csv"], "bad.csv: --png must be a directory"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, session_files, capsys, extra, message):
    (tmp_path / "bad.csv").write_text("session,set,load_kg\ndayX,1,60\n")
    extra = [e.format(tmp=tmp_path, input=session_files[0]) for e in extra]
    argv = ["report", str(session_files[0]), "-o", str(tmp_path / "r.html"), *extra]
    if extra[0] == "-o":
        argv = [*argv[:2], *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert session_files[0].read_text().startswith("# synthetic: true")  # input untouched


def test_cli_missing_session_file(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "r.html")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_docs_library_example_runs(tmp_path, session_files, monkeypatch):
    text = (Path(__file__).parents[1] / "docs" / "report.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    shutil.copy(session_files[0], tmp_path / "day1.csv")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    runpy.run_path(str(tmp_path / "example.py"))
    parse((tmp_path / "day1.html").read_text(encoding="utf-8"))
    assert (tmp_path / "figures" / "s1-trace.png").exists()


class DeepRepClassifier:
    """Test classifier for the engine hook: p grows with peak flexion; flags p >= 0.5."""

    def classify(self, record: dict, history: list[dict]) -> tuple[float, bool]:
        p = float(np.clip((record["peak_flexion_deg"] - 50.0) / 40.0, 0.0, 1.0))
        return p, p >= 0.5


def test_verdicts_and_probabilities_are_the_engines(simulated):
    result = simulated[0]
    analysis = analyze_session(result.session, classifier=DeepRepClassifier())
    analysis.model = {"path": "deep-rep-test-classifier"}
    session = from_analysis(analysis, "classified", result.session.metadata)
    report = build_report([session])
    (table,) = rep_tables(parse(report.html))
    words = {True: "\N{BLACK UP-POINTING TRIANGLE} rounded", False: "\N{CHECK MARK} good"}
    expected = [
        (words[r["rounded"]] + (" + hyperextended" if r["rounded"] else "")
         if r["hyperextended"] and r["rounded"] else
         "\N{BLACK SQUARE} hyperextended" if r["hyperextended"] else words[r["rounded"]])
        + f" (p={r['p_rounded']:.2f})"
        for r in analysis.reps
    ]  # fmt: skip
    assert table["verdict"].tolist() == expected
    n_flagged = sum(bool(r["rounded"] or r["hyperextended"]) for r in analysis.reps)
    assert 0 < n_flagged < len(analysis.reps)
    assert f"{n_flagged} ({100 * n_flagged / len(analysis.reps):.0f}%)" in report.html
    assert "deep-rep-test-classifier" in report.html


def test_session_names_from_file_names():
    from imu.commands.report import _names

    paths = ["a/day1.csv", "b/day1.csv", "2026.11.25.csv.gz", "x/day1.csv"]
    assert _names(paths) == ["day1", "day1 (2)", "2026.11.25", "day1 (3)"]


def test_cli_orders_sessions_by_start_time_and_says_when_it_cannot(tmp_path, session_files, capsys):
    """day2 recorded before day1 (started_utc lines added to the synthetic files)."""
    dated = []
    for path, started in zip(session_files, ("2026-11-24T18:00:00+00:00", "2026-11-20T18:00:00Z")):
        copy = tmp_path / Path(path).name
        copy.write_text(f"# started_utc: {started}\n" + Path(path).read_text())
        dated.append(str(copy))
    out = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["report", *dated, "--no-model", "-o", str(out)]) == 0
    assert re.findall(r"<h2>Session: ([^<]*)</h2>", out.read_text()) == ["day2", "day1"]
    assert "order given" not in capsys.readouterr().err
    undated = [dated[0], str(session_files[1])]  # the original day2 has no start time
    assert main(["report", *undated, "--no-model", "-o", str(out), "--force"]) == 0
    assert re.findall(r"<h2>Session: ([^<]*)</h2>", out.read_text()) == ["day1", "day2"]
    assert "sessions kept in the order given; without a start time (started_utc metadata): " in (
        capsys.readouterr().err
    )


def test_cli_report_of_a_squat_says_squat_and_carries_the_warnings_of_analyze(
    tmp_path, session_files, capsys
):
    """`imu report --lift squat` was titled "Deadlift report" and left out what `imu
    analyze` warns of (the shipped model's 'rounded' on squats is butt wink or forward
    lean alike; a recording that names its lift measured with another preset); only the
    loader's notes reached the page. (The synthetic files are deadlifts: the preset and
    the warnings are what is checked, not the reps.)"""
    out = tmp_path / "r.html"
    assert main(["report", str(session_files[0]), "--lift", "squat", "-o", str(out)]) == 0
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert "<h1>Squat report</h1>" in page and "Deadlift" not in page
    assert "Reps: found with the squat preset (--lift squat)." in page
    (note,) = re.findall(r'<p class="banner">Warning: (--lift squat: [^<]*)</p>', page)
    assert "trained without squats" in note and "butt wink" in note
    named = tmp_path / "named.csv"  # a recording that says it is a squat, measured as one
    named.write_text("# lift: squat\n" + Path(session_files[0]).read_text())
    assert main(["report", str(named), "-o", str(out), "--force"]) == 0
    page = html.unescape(out.read_text(encoding="utf-8"))
    assert "<h1>Deadlift report</h1>" in page
    assert "Warning: the recording says lift squat, measured as deadlift: pass --lift squat" in page
    capsys.readouterr()


def test_the_log_and_the_report_give_one_peak_flexion_rise(simulated):
    """One word and one number for how far peak flexion rose over a set: the log's set
    line said 'flexion drift' (last minus first rep) where the report said 'peak flexion
    rise' (a fitted line) for the same sets."""
    from imu.sinks.lines import set_text

    _, analysis, session, report = simulated
    rises = set_summary(session)["peak_flexion_rise_deg"].tolist()
    assert [s["peak_flexion_rise_deg"] for s in analysis.sets] == pytest.approx(rises, abs=1e-9)
    for summary, rise in zip(analysis.sets, rises, strict=True):
        assert f"peak flexion rise {rise:+.1f} deg" in set_text(summary)
        assert "drift" not in set_text(summary)
    assert "peak flexion rise" in html.unescape(report.html).lower()
    assert "drift" not in re.sub(r"<[^>]*>", " ", report.html).lower()


def set_tables(page: str) -> list[pd.DataFrame]:
    """The set tables of a page, one per session, as text cells."""
    tables = [t for t in parse(page).tables if t and t[0][:2] == ["set", "reps"]]
    return [pd.DataFrame(t[1:], columns=t[0]) for t in tables]


def test_the_set_table_says_the_reps_that_may_be_lost_in_gaps(tmp_path, session_files, capsys):
    """The set line said '4 reps (+ 2 may be lost in gaps in the data)' where the report's
    set table said 4 reps and nothing of the 2: a column says them, only when a set lost
    some. SYNTHETIC: 2 s outages in reps 1 and 2 of tests/test_pipeline_gap_reps.py's set."""
    from test_pipeline_gap_reps import _cut_out, gapped_set

    from imu.session import SessionWriter

    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    kept, flags = _cut_out(
        samples, [(truth.start_s[k] + 1.0, truth.start_s[k] + 3.0) for k in (0, 1)]
    )
    path = tmp_path / "cut.csv"
    writer = SessionWriter(path, result.session.metadata)
    for rows in np.split(np.arange(len(kept)), np.flatnonzero(flags)):
        writer.append(kept[rows], gap_before=bool(flags[rows[0]]))
    writer.close()
    assert main(["analyze", str(path), "--no-model"]) == 0
    assert "4 reps (+ 2 may be lost in gaps in the data)" in capsys.readouterr().out
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out), "--no-model"]) == 0
    (table,) = set_tables(out.read_text(encoding="utf-8"))
    assert table[["reps", "+ may be lost in gaps"]].values.tolist() == [["4", "2"]]
    assert main(["report", str(session_files[0]), "-o", str(out), "--force", "--no-model"]) == 0
    (table,) = set_tables(out.read_text(encoding="utf-8"))
    assert "+ may be lost in gaps" not in table.columns and len(table) == 2
