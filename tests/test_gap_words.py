"""What a person reads about samples lost: one count of *gaps in the data* (over 0.25 s:
the engine's), the same in the loading warning and in `imu analyze`, and the *short
dropouts* (bridged) by that name (docs/vocabulary.md).

SYNTHETIC: the set of tests/test_pipeline_gap_reps.py (imu.sim, lifter 4, seed 31), with
rows cut out of it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from imu.cli import main
from imu.session import Session, write_session
from tests.test_pipeline_gap_reps import RATE_HZ, gapped_set


def test_analyze_counts_one_kind_of_gap_and_names_the_short_dropouts(tmp_path, capsys):
    """`imu analyze` printed '38 gaps in the timeline' (every loss over 3 sample intervals)
    beside '2 gaps in the data' (the engine's, over 0.25 s). A person now reads one count
    of gaps in the data, the same in the warning and the analysis, and the short dropouts
    (bridged) by that name."""
    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    keep = np.ones(len(samples), dtype=bool)
    for start in range(400, len(samples) - 10, 250):  # 3-5 samples: 0.04-0.06 s
        keep[start : start + 3 + start % 3] = False
    short_only = samples[keep]
    for lo, hi in [(truth.end_s[1] + 0.1, truth.end_s[1] + 0.9),
                   (truth.start_s[3] + 1.0, truth.start_s[3] + 3.0)]:  # fmt: skip
        keep &= (samples[:, 0] < lo) | (samples[:, 0] >= hi)
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    said = {}
    for name, rows in (("short", short_only), ("both", samples[keep])):
        path = tmp_path / f"{name}.csv"
        write_session(Session(pd.DataFrame(rows, columns=columns), metadata), path)
        assert main(["analyze", "--no-model", str(path)]) == 0
        said[name] = capsys.readouterr().out
    steps = np.diff(short_only[:, 0])
    n_short = int(np.sum(steps > 3 / RATE_HZ))
    assert n_short > 10
    assert (
        f"{n_short} short dropouts of at most 0.06 s (bridged; no gap over 0.25 s" in said["short"]
    )
    assert "gap" not in said["short"].replace("no gap over 0.25 s in the data", "")
    both = said["both"]
    assert "timeline" not in both
    assert re.search(
        r"warning: .*: 2 gaps in the data, longest 2\.0\d s, the first ended at 0:1\d\.", both
    )
    steps = np.diff(samples[keep][:, 0])
    n_short = int(np.sum((steps > 3 / RATE_HZ) & (steps <= 0.25)))
    assert f" from the start; {n_short} short dropouts of at most 0.06 s (bridged); " in both
    assert "\n2 gaps in the data, 2.82 s in total, 1 too long to bridge" in both, both


def test_analyze_keeps_a_long_set_line_whole_in_a_pipe(tmp_path, capsys):
    """A pipe or a file gets whole lines (for grep, as the log): a set line longer than
    rich's 140 columns was cut before its last word ('peak flexion rise' / '+1.4 deg')."""
    from imu.commands.analyze import _print_summary
    from imu.text import Timeline

    result = {
        "source": "s.csv", "sampling_rate_hz": 100.0, "warnings": [], "model": None,
        "quality": {"n_gaps": 0}, "settings": {"hyperextension_deg": 10.0},
        "reps": [{"set": 1, "rep": 1, "start_s": 1.0, "end_s": 4.0, "peak_flexion_deg": 80.0,
                  "liftoff_flexion_deg": 80.0, "lockout_extension_deg": 1.0, "ascent_s": 1.0,
                  "p_rounded": None, "rounded": True, "hyperextended": True}],
        "sets": [{"set": 1, "n_reps": 9, "n_reps_lost": 3, "n_rounded": 4,
                  "n_hyperextended": 2, "tempo_trend": -0.25, "peak_flexion_rise_deg": 1.4}],
    }  # fmt: skip
    _print_summary(result, {"ok": True, "quality": 0.9}, Timeline(0.0))
    out = capsys.readouterr().out.splitlines()
    (line,) = [x for x in out if x.startswith("set 1 done")]
    assert len(line) > 140 and line.endswith("peak flexion rise +1.4 deg"), out


def _analyze_marked(tmp_path, capsys, cut_s: float = 0.0) -> str:
    """``imu analyze``'s output (whitespace folded) for the set above with one sample lost
    and marked in the ``gap`` column at a quarter and at half of it (a step of 2
    intervals each), and ``cut_s`` of rows cut unmarked at three quarters."""
    samples = gapped_set().session.samples()
    n = len(samples)
    keep = np.ones(n, dtype=bool)
    keep[[n // 4, n // 2]] = False
    mark = np.zeros(n)
    mark[[n // 4 + 1, n // 2 + 1]] = 1
    t = samples[:, 0]
    keep &= (t < t[3 * n // 4]) | (t >= t[3 * n // 4] + cut_s)
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    frame = pd.DataFrame(samples, columns=columns).assign(gap=mark.astype(int))[keep]
    path = tmp_path / "marked.csv"
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    write_session(Session(frame.reset_index(drop=True), metadata), path)
    assert main(["analyze", str(path), "--no-model"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_a_short_loss_marked_in_the_gap_column_is_counted_as_the_engine_counts_it(tmp_path, capsys):
    """A live recording marks a lost sample in its ``gap`` column; the engine reports it
    however short ('gap of 0.02 s in the data'), and analyze counts it, but the loading
    warning counted only marks over 3 sample intervals: '1 gap in the data' beside analyze's
    '3 gaps in the data'. SYNTHETIC: the set above, one sample lost (marked) twice and an
    unmarked 1 s cut."""
    out = _analyze_marked(tmp_path, capsys, cut_s=1.0)
    warned = re.search(r"(\d+) gaps? in the data, longest", out)
    counted = re.search(r"(\d+) gaps? in the data, [\d.]+ s in total", out)
    assert counted and counted[1] == "3", out
    assert warned and warned[1] == "3", out


def test_a_few_samples_missing_are_not_said_to_be_0_percent(tmp_path, capsys):
    """Two lost samples (marked) in a few thousand: the warning said 'about 0.0 % of
    samples missing' beside '2 gaps in the data'. SYNTHETIC: the set above."""
    samples = gapped_set().session.samples()
    n = len(samples)
    keep = np.ones(n, dtype=bool)
    keep[[n // 4, n // 2]] = False
    mark = np.zeros(n, dtype=int)
    mark[[n // 4 + 1, n // 2 + 1]] = 1
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    frame = pd.DataFrame(samples, columns=columns).assign(gap=mark)[keep]
    path = tmp_path / "two.csv"
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    write_session(Session(frame.reset_index(drop=True), metadata), path)
    assert main(["analyze", str(path), "--no-model"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2 gaps in the data, longest" in out, out
    assert "; under 0.1 % of samples missing" in out and "0.0 %" not in out, out


def test_gaps_totalling_under_a_tenth_of_a_second_say_their_length(tmp_path, capsys):
    """Two lost samples marked in the ``gap`` column (a live link's loss), 0.02 s each at
    104 Hz: the log says 'gap of 0.02 s in the data' for each, but analyze's total read
    '0.0 s in total' (one decimal, not the length rule of docs/vocabulary.md: 1.04 s).
    SYNTHETIC: the set above."""
    out = _analyze_marked(tmp_path, capsys)
    total_s = 2 * 2 / RATE_HZ  # each gap: the step over the lost sample, 2 intervals
    assert f"2 gaps in the data, {total_s:.2f} s in total" in out, out


def test_the_loading_warning_and_the_log_stamp_a_gap_alike(tmp_path, capsys):
    """The loading warning named the first gap by where it began ('the first at 0:13.5'),
    the log by where the rows resume ('0:14.3  gap of 0.81 s in the data'): one gap, two
    times. Both now stamp it where the rows resume (docs/vocabulary.md). SYNTHETIC: the
    set above, 0.8 s cut after rep 2's lockout."""
    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    lo = truth.end_s[1] + 0.1
    kept = samples[(samples[:, 0] < lo) | (samples[:, 0] >= lo + 0.8)]
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    path = tmp_path / "cut.csv"
    write_session(Session(pd.DataFrame(kept, columns=columns), metadata), path)
    resumed = kept[np.searchsorted(kept[:, 0], lo), 0] - kept[0, 0]
    stamp = f"{int(resumed // 60)}:{resumed % 60:04.1f}"
    assert main(["replay", "--fast", "--no-display", "--no-model", str(path)]) == 0
    out = capsys.readouterr()
    (logged,) = [line for line in out.out.splitlines() if " gap of " in line]
    assert logged.startswith(f"{stamp}  gap of 0.8"), logged
    assert "1 gap in the data, longest 0.8" in out.err
    assert f"the first ended at {stamp} from the start" in out.err, out.err
