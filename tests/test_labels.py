"""Labels CSV: parsing, extra columns, and one-line errors naming file, line and column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imu.cli import main
from imu.errors import InputError
from imu.model.labels import check_span_in_session, read_labels, write_labels
from imu.model.workflow import group_ids, targets


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "a.csv").write_text("time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n")
    (tmp_path / "b.csv").write_text("time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n")
    return tmp_path


def write(folder, text: str):
    path = folder / "labels.csv"
    path.write_text(text)
    return path


def test_reads_spans_keeps_extra_columns_and_resolves_sessions(folder):
    path = write(folder, "# reviewed from video\nsession,start_s,end_s,label,coach_note\n"
                 "rec/a.csv,1.5,3.0,rounded,late\nrec/a.csv,3.0,4.25,good,\nb.csv,0,1,meh,x\n")
    frame = read_labels(path)
    assert list(frame["label"]) == ["rounded", "good", "meh"]
    assert frame["start_s"].tolist() == [1.5, 3.0, 0.0]
    assert frame["coach_note"].tolist() == ["late", "", "x"]
    assert frame["line"].tolist() == [3, 4, 5]
    assert frame["session_path"][0] == str((folder / "rec" / "a.csv").resolve())


def test_write_then_read_round_trip_drops_bookkeeping(folder):
    path = write(folder, "session,start_s,end_s,label,subject\nrec/a.csv,1.5,3,good,S1\n")
    frame = read_labels(path)
    out = folder / "copy.csv"
    write_labels(frame, out)
    assert out.read_text().splitlines() == ["session,start_s,end_s,label,subject",
                                           "rec/a.csv,1.5,3.0,good,S1"]
    assert read_labels(out)[["start_s", "end_s"]].to_numpy().tolist() == [[1.5, 3.0]]


@pytest.mark.parametrize("text, where, what", [
    ("session,start_s,label\nrec/a.csv,1,good\n", "labels.csv:1: ", "missing column end_s"),
    ("session,start_s,end_s,label\nrec/a.csv,one,3,good\n", "labels.csv:2: column 'start_s'", "not a finite number"),
    ("session,start_s,end_s,label\nrec/a.csv,1,nan,good\n", "labels.csv:2: column 'end_s'", "not a finite number"),
    ("session,start_s,end_s,label\nrec/a.csv,3,3,good\n", "labels.csv:2: column 'end_s'", "empty span"),
    ("session,start_s,end_s,label\nrec/a.csv,1,2,\n", "labels.csv:2: column 'label'", "empty label"),
    ("session,start_s,end_s,label\nnope.csv,1,2,good\n", "labels.csv:2: column 'session'", "unknown session"),
    ("session,start_s,end_s,label\nrec/a.csv,1,2,good,extra\n", "labels.csv:2: ", "5 fields"),
    ("session,start_s,end_s,label\nrec/a.csv,1,3,good\nb.csv,2,3,good\nrec/a.csv,2.5,4,bad\n",
     "labels.csv:4: column 'start_s'", "overlaps line 2"),
    ("session,start_s,end_s,label\n", "labels.csv: ", "no labelled spans"),
    ("", "labels.csv: ", "empty labels file"),
])
def test_bad_rows_give_one_line_errors(folder, text, where, what):
    with pytest.raises(InputError) as caught:
        read_labels(write(folder, text))
    message = str(caught.value)
    assert where in message and what in message
    assert "\n" not in message


def test_span_outside_the_session_names_line_and_column(folder):
    frame = read_labels(write(folder, "session,start_s,end_s,label\nrec/a.csv,9,12,good\n"))
    check_span_in_session(frame.iloc[0], 0.0, 12.0)
    with pytest.raises(InputError, match=r"labels.csv:2: column 'end_s': span 9-12 s is outside"):
        check_span_in_session(frame.iloc[0], 0.0, 11.0)
    with pytest.raises(InputError, match=r"column 'start_s'"):
        check_span_in_session(frame.iloc[0], 9.5, 20.0)


def test_positive_class_and_groups(folder):
    frame = read_labels(write(folder, "session,start_s,end_s,label,subject\n"
                              "rec/a.csv,1,2,Rounded,S1\nrec/a.csv,2,3,ok,S1\nb.csv,1,2,ok,S2\n"))
    assert targets(frame, "Rounded", ["ok"]).tolist() == [1, 0, 0]
    with pytest.raises(InputError, match=r"no span is labelled 'rounded' \(labels found: Rounded, ok\)"):
        targets(frame, "rounded", ["ok", "Rounded"])
    assert group_ids(frame, None)[1] == "subject"
    assert group_ids(frame, None)[0].tolist() == ["S1", "S1", "S2"]
    groups, how = group_ids(frame, "session")
    assert how == "session" and len(np.unique(groups)) == 2
    no_subject = frame.drop(columns=["subject"])
    assert group_ids(no_subject, None)[1] == "session"
    with pytest.raises(InputError, match="needs a non-empty 'subject' column"):
        group_ids(no_subject, "subject")


def test_cli_reports_bad_labels_as_one_line_exit_2(folder, capsys):
    path = write(folder, "session,start_s,end_s,label\nrec/a.csv,5,4,good\n")
    assert main(["train", str(path), "-o", str(folder / "m.skops"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imu train: error: ") and "empty span" in err and "\n" not in err


def test_single_class_is_refused(folder):
    from imu.model.training import check_classes

    frame = pd.DataFrame({"label": ["good", "good"], "labels_file": ["x.csv"] * 2})
    with pytest.raises(InputError, match="no span is labelled 'rounded'"):
        targets(frame, "rounded")
    with pytest.raises(InputError, match="every span is of the negative class"):
        check_classes(np.array([0, 0, 0]), "training data")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="session,start_s,end_label\n0123456789.-#\"abc/ ", max_size=200))
def test_any_text_is_read_or_refused_with_one_line(folder, text):
    path = write(folder, text)
    try:
        frame = read_labels(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
    else:
        assert (frame["end_s"] > frame["start_s"]).all() and frame["label"].ne("").all()


def test_a_write_that_fails_midway_keeps_the_existing_labels_file(folder, monkeypatch):
    """`imu label --force` over a reviewed file: a crash while writing must not lose it."""
    path = write(folder, "session,start_s,end_s,label\nrec/a.csv,1.5,3,rounded\n")
    reviewed = path.read_bytes()
    frame = read_labels(path)

    def crash(self, handle, **options):
        handle.write("session,start_s,end_s,la")  # half a header reached the file
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", crash)
    with pytest.raises(KeyboardInterrupt):
        write_labels(frame, path)
    assert path.read_bytes() == reviewed
    assert sorted(p.name for p in folder.iterdir()) == ["b.csv", "labels.csv", "rec"]


def test_a_write_replaces_the_file_whole_and_names_it_when_refused(folder, monkeypatch):
    path = write(folder, "session,start_s,end_s,label\nrec/a.csv,1.5,3,rounded\n")
    frame = read_labels(path)
    frame["label"] = ["good"]
    write_labels(frame, path)
    assert path.read_text() == "session,start_s,end_s,label\nrec/a.csv,1.5,3.0,good\n"
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    with pytest.raises(InputError, match="no such directory") as refused:
        write_labels(frame, folder / "missing" / "labels.csv")
    assert str(folder / "missing") in str(refused.value)


@pytest.fixture(scope="module")
def two_minutes(tmp_path_factory):
    """A 2-minute synthetic session: imu simulate -o DIR --lifters 1 --minutes 2."""
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "-o", str(out), "--lifters", "1", "--minutes", "2"]) == 0
    return out / "L01_s1.csv"


def test_label_and_analyze_find_the_same_reps_with_the_same_options(two_minutes, capsys):
    import json

    def analyzed(*options: str) -> list[tuple]:
        capsys.readouterr()
        assert main(["analyze", str(two_minutes), "--json", "--no-model", *options]) == 0
        reps = json.loads(capsys.readouterr().out)["reps"]
        return [(r["set"], r["rep"], r["start_s"], r["end_s"]) for r in reps]

    def labelled(*options: str) -> list[tuple]:
        out = two_minutes.parent / "labels.csv"
        assert main(["label", str(two_minutes), "-o", str(out), "--force", *options]) == 0
        rows = pd.read_csv(out)
        return list(rows[["set", "rep", "start_s", "end_s"]].itertuples(index=False, name=None))

    split = labelled("--set-rest-s", "1")
    assert split == analyzed("--set-rest-s", "1")
    default = labelled()
    assert default == analyzed()
    assert [r[2:] for r in split] == [r[2:] for r in default]  # the same reps ...
    assert len(default) >= 5 and {r[0] for r in default} == {1}  # ... one set by default,
    assert [r[:2] for r in split] == [(i, 1) for i in range(1, len(split) + 1)]  # one each
    # a wrong known mounting: calibration fails in both, no reps
    assert labelled("--mounting", "PZPYNX") == analyzed("--mounting", "PZPYNX") == []


def test_label_warns_as_analyze_does_of_a_recording_naming_another_lift(two_minutes, capsys):
    """A recording that says '# lift: squat' labelled with the deadlift preset (squats
    measured as deadlifts lose most of their reps) was labelled without a word; `imu
    analyze` warns. The closing line counts in number ('1 rep', not '1 reps')."""
    named = two_minutes.parent / "named.csv"
    named.write_text("# lift: squat\n" + two_minutes.read_text())
    out = two_minutes.parent / "named_labels.csv"
    capsys.readouterr()
    assert main(["label", str(named), "-o", str(out), "--force"]) == 0
    err = capsys.readouterr().err
    assert (f"warning: {named}: the recording says lift squat, measured as deadlift: "
            "pass --lift squat") in err
    n = len(pd.read_csv(out))
    assert f"{out}: {n} rep{'' if n == 1 else 's'}; fix the 'label' column" in err
    assert main(["label", str(named), "-o", str(out), "--force", "--lift", "squat"]) == 0
    assert "the recording says" not in capsys.readouterr().err


def test_session_option_columns_are_read_per_row(folder):
    from imu.model.labels import row_options

    path = write(folder, "session,start_s,end_s,label,mounting,lift,set_rest_s,acc_unit\n"
                 "rec/a.csv,1,2,good,PZPYNX,rdl,2.5,g\nrec/a.csv,3,4,good,PZPYNX,rdl,2.5,g\n"
                 "b.csv,0,1,good,,,,\n")
    frame = read_labels(path)
    assert row_options(frame.iloc[0]) == {"mounting": "PZPYNX", "lift": "rdl",
                                          "set_rest_s": 2.5, "acc_unit": "g"}
    assert row_options(frame.iloc[2]) == {}  # blank: the command line's value


@pytest.mark.parametrize("column, value, what", [
    ("mounting", "sideways", "--mounting 'sideways': not a mounting"),
    ("mounting", "PXPXPZ", "repeated or left-handed"),
    ("lift", "squats", "unknown lift 'squats' (choose one of deadlift, rdl, good_morning, squat"),
    ("format", "xlsx", "unknown format 'xlsx'"),
    ("acc_unit", "kg", "unknown acc_unit 'kg'"),
    ("gyr_unit", "rpm", "unknown gyr_unit 'rpm'"),
    ("set_rest_s", "soon", "not a number: 'soon'"),
    ("set_rest_s", "0", "--set-rest-s must be seconds of rest between 0.1 and 3600"),
    ("hyperextension_deg", "inf", "--hyperextension-deg must be"),
])
def test_bad_session_option_cells_are_one_line_errors(folder, column, value, what):
    path = write(folder, f"session,start_s,end_s,label,{column}\nrec/a.csv,1,2,good,\n"
                 f"b.csv,1,2,good,{value}\n")
    with pytest.raises(InputError) as error:
        read_labels(path)
    message = str(error.value)
    assert message.startswith(f"{path}:3: column '{column}': ") and what in message
    assert "\n" not in message


def test_rows_of_one_session_must_agree_on_its_options(folder):
    path = write(folder, "session,start_s,end_s,label,mounting\nrec/a.csv,1,2,good,PZPYNX\n"
                 "b.csv,1,2,good,\nrec/a.csv,3,4,good,\n")
    with pytest.raises(InputError, match=r"labels.csv:4: column 'mounting': .*differs from "
                       r"'PZPYNX' on line 2 of the same session"):
        read_labels(path)


def test_rows_of_one_session_agree_on_equal_option_values(folder):
    from imu.model.labels import row_options

    path = write(folder, "session,start_s,end_s,label,set_rest_s\n"
                 "rec/a.csv,1,2,good,2.5\nrec/a.csv,3,4,good,2.50\n")
    frame = read_labels(path)  # the same seconds: not a disagreement
    assert row_options(frame.iloc[0]) == row_options(frame.iloc[1]) == {"set_rest_s": 2.5}


def test_neighbours_sharing_a_few_samples_are_trimmed_with_one_warning(folder):
    path = write(folder, "session,start_s,end_s,label\nrec/a.csv,1,3.02,good\n"
                 "rec/a.csv,2.98,5.01,rounded\nrec/a.csv,4.99,7,good\nb.csv,0,1,good\n")
    frame = read_labels(path)
    assert frame["start_s"].tolist() == pytest.approx([1, 3.0, 5.0, 0])
    assert frame["end_s"].tolist() == pytest.approx([3.0, 5.0, 7, 1])
    (warning,) = frame.attrs["warnings"]
    assert "2 pairs of adjacent spans overlapped by up to 0.04 s" in warning
    # a nested span or a long overlap is not "a few samples": refused as before
    for rows in ("rec/a.csv,1,5,good\nrec/a.csv,2,3,good\n",
                 "rec/a.csv,1,3,good\nrec/a.csv,2.7,5,good\n"):
        with pytest.raises(InputError, match="overlaps line 2"):
            read_labels(write(folder, "session,start_s,end_s,label\n" + rows))
