"""Labelled spans of recordings without a standing start are all measured (SYNTHETIC
sets cut to the set, `imu.sim.recording.realistic_set`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imu.model.dataset import labelled_rows
from imu.model.labels import read_labels
from imu.sim import write_result
from imu.sim.recording import realistic_set

SEEDS = (9, 16, 20)  # three lifters, sets of 4-10 reps, no loss of samples


@pytest.fixture(scope="module")
def cut_sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut")
    rows, truths = [], []
    for seed in SEEDS:
        result, drawn = realistic_set(seed, start="before_first_rep")
        name = f"set{seed}"
        write_result(result, folder, name)
        step = 1.0 / drawn["sampling_rate_hz"]
        truth = result.truth_reps
        last_s = float(result.session.data["time_s"].iloc[-1])
        for k, rep in truth.iterrows():
            # hand-made windows: from a couple of samples before the rep to a couple past
            # the next one's start, so neighbours share a few samples
            start_s = rep["start_s"] - 2 * step
            end_s = (
                truth["start_s"].iloc[k + 1] + 2 * step if k + 1 < len(truth) else last_s + 2 * step
            )
            rows.append(
                {
                    "session": f"{name}.csv",
                    "start_s": start_s,
                    "end_s": end_s,
                    "label": "rounded" if rep["rounded"] else "good",
                    "subject": rep["lifter"],
                }
            )
        truths.append(truth)
    labels = folder / "labels.csv"
    pd.DataFrame(rows).to_csv(labels, index=False, float_format="%.6f")
    return labels, pd.concat(truths, ignore_index=True)


def test_every_span_of_sets_without_a_standing_start_is_measured(cut_sets):
    labels, truth = cut_sets
    frame = read_labels(labels)
    data = labelled_rows(frame)
    assert len(data.records) == len(frame) == len(truth)  # none left out
    assert sum("overlapped" in w for w in data.warnings) == 1  # one warning per labels file
    assert sum("clipped" in w for w in data.warnings) == 1  # the last spans, past the end
    # the spans as measured: a span clipped to its recording's end keeps the clipped times
    for path, spans in data.labels.groupby("session_path", sort=False):
        last_s = pd.read_csv(path, comment="#")["time_s"].iloc[-1]
        assert spans["end_s"].max() == pytest.approx(last_s, abs=1e-9)
        assert (spans["end_s"] <= last_s).all()
    assert not any("left out" in w or "calibration" in w for w in data.warnings)
    peaks = np.array([r["peak_flexion_deg"] for r in data.records])
    # calibrated from the reps: peaks as in the truth, within the lockout offset and noise
    assert np.median(np.abs(peaks - truth["peak_flexion_deg"].to_numpy())) < 4.0


def test_spans_of_an_uncalibratable_recording_are_left_out_and_counted(cut_sets, tmp_path):
    labels, _ = cut_sets
    flat = tmp_path / "flat.csv"  # 3 s lying bent on a bench: no still upright, no bends
    t = np.arange(0, 3, 0.01)
    acc = np.tile([0.0, 6.9, 6.9], (len(t), 1)) + np.random.default_rng(0).normal(
        0, 0.5, (len(t), 3)
    )
    pd.DataFrame(
        {
            "time_s": t,
            "acc_x": acc[:, 0],
            "acc_y": acc[:, 1],
            "acc_z": acc[:, 2],
            "gyr_x": 5.0,
            "gyr_y": 0.0,
            "gyr_z": 0.0,
        }
    ).to_csv(flat, index=False)
    frame = read_labels(labels)
    extra = pd.DataFrame(
        {
            "session": [str(flat)] * 2,
            "start_s": [0.5, 1.5],
            "end_s": [1.5, 2.5],
            "label": ["good", "rounded"],
            "subject": "X",
        }
    )
    mixed = tmp_path / "mixed.csv"
    pd.concat(
        [
            pd.read_csv(labels).assign(
                session=lambda f: [str(labels.parent / s) for s in f["session"]]
            ),
            extra,
        ]
    ).to_csv(mixed, index=False)
    data = labelled_rows(read_labels(mixed, allow_outside=True))
    assert len(data.records) == len(frame)
    (summary,) = [w for w in data.warnings if w.startswith("left out")]
    assert f"left out 2 of {len(frame) + 2} labelled spans: 2 with no calibrated angles" in summary


def test_a_span_the_recording_stops_inside_is_clipped_and_a_part_of_a_rep_left_out(
    cut_sets, tmp_path
):
    """The recording stops 0.5 s into the last rep's span (the logger stopped, the last
    notifications lost): the span is clipped and measured as if labelled to the last
    sample. A span of which less than 75 % was recorded (a rep before the file began) is
    left out and counted; spans none of which overlap their recording are an error (the
    labels' clock is not the file's)."""
    from imu.errors import InputError

    labels, _ = cut_sets
    frame = pd.read_csv(labels)
    frame["session"] = [str(labels.parent / s) for s in frame["session"]]
    first = frame["session"] == frame["session"].iloc[0]
    last = frame.index[first][-1]
    exact = labelled_rows(read_labels(_write(frame, tmp_path / "exact.csv"), allow_outside=True))
    late = frame.copy()
    late.loc[last, "end_s"] += 0.5
    before = {**frame.loc[0].to_dict(), "start_s": frame.loc[0, "start_s"] - 6.0,
              "end_s": frame.loc[0, "start_s"] - 3.0}  # wholly before the file began
    late = pd.concat([pd.DataFrame([before]), late], ignore_index=True)
    data = labelled_rows(read_labels(_write(late, tmp_path / "late.csv"), allow_outside=True))
    assert len(data.records) == len(frame)
    np.testing.assert_array_equal(data.rows, exact.rows)  # clipped: measured the same
    assert data.labels["end_s"].equals(exact.labels["end_s"])
    assert data.left_out == {"less than 75% of their time inside the recording":
                             [f"{tmp_path / 'late.csv'}:2"]}
    (note,) = [w for w in data.warnings if "more than 0.25 s past" in w]
    assert note.startswith("1 span reaching more than 0.25 s past their recording's first or "
                           "last sample (the recording starts or stops inside it) was clipped "
                           "to it and used, 75% of its time")
    shifted = frame.assign(start_s=frame["start_s"] + 1000.0, end_s=frame["end_s"] + 1000.0)
    with pytest.raises(InputError, match="is outside the session"):
        labelled_rows(read_labels(_write(shifted, tmp_path / "shifted.csv"), allow_outside=True))


def _write(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False, float_format="%.6f")
    return path
