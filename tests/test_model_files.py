"""Model files: skops round trip with manifest, and refusal of anything that could run code."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from test_model_fakes import fake_lifters

from imu.cli import main
from imu.errors import ModelError
from imu.model.classifier import RepClassifier
from imu.model.features import feature_names, model_rows
from imu.model.files import (
    ALLOWED_TYPES,
    MANIFEST_MEMBER,
    ModelVersionWarning,
    load_model,
    manifest_path,
    save_model,
)
from imu.model.training import fit_model


@pytest.fixture(scope="module")
def trained():
    data = fake_lifters(4, 16, seed=2)
    X = np.vstack([model_rows(r) for _, r, _ in data])
    y = np.concatenate([yy for *_, yy in data])
    groups = np.concatenate([[n] * len(r) for n, r, _ in data])
    fit = fit_model(X, y, groups, only="forest_leaf5")   # the candidate with the most types
    manifest = {"positive_label": "rounded", "chosen_model": fit.chosen, "cv": {"x": 1}}
    return RepClassifier(fit.estimator, fit.threshold, manifest, X, y, groups), data


def test_round_trip_keeps_predictions_manifest_and_training_rows(trained, tmp_path):
    model, data = trained
    path = tmp_path / "m.skops"
    save_model(model, path)
    loaded = load_model(path)
    X = model.training_rows
    np.testing.assert_allclose(loaded.probability(X), model.probability(X))
    assert loaded.threshold == model.threshold
    np.testing.assert_array_equal(loaded.training_groups, model.training_groups)
    embedded = loaded.manifest
    assert embedded["positive_label"] == "rounded" and embedded["threshold"] == model.threshold
    assert set(embedded["versions"]) >= {"scikit-learn", "skops", "numpy", "imu"}
    assert json.loads(manifest_path(path).read_text()) == embedded
    # the engine hook: rep by rep with the earlier reps as history
    _, reps, _ = data[0]
    p_all, flags = loaded.classify_session(reps)
    for i in (0, 5, len(reps) - 1):
        p, flag = loaded.classify(reps[i], reps[:i])
        assert p == pytest.approx(p_all[i]) and flag == flags[i]


def write_with_manifest(path, payload_bytes: bytes, manifest: dict) -> None:
    buffer = io.BytesIO(payload_bytes)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(MANIFEST_MEMBER, json.dumps(manifest))
    path.write_bytes(buffer.getvalue())


GOOD_MANIFEST = {"format": "imu-rounded-back-classifier", "format_version": 1,
                 "positive_label": "rounded", "threshold": 0.5,
                 "feature_names": feature_names()}  # passes check_manifest


def test_crafted_file_with_a_disallowed_type_is_refused_before_loading(tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "evil.skops"
    payload = {"estimator": FunctionTransformer(os.system), "threshold": 0.5}
    write_with_manifest(path, sio.dumps(payload), GOOD_MANIFEST)
    with pytest.raises(ModelError, match=r"refusing to load types outside imu's allow-list: .*system"):
        load_model(path)
    assert not (set(sio.get_untrusted_types(file=path)) <= ALLOWED_TYPES)


def test_pickle_is_refused(tmp_path, trained):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"threshold": 0.5}))
    with pytest.raises(ModelError, match="looks like a pickle file; imu never loads pickles"):
        load_model(path)


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01garbage bytes" * 10, "not an imu model file"),
    (b"", "not an imu model file"),
])
def test_garbage_is_one_line_model_error(tmp_path, content, message):
    path = tmp_path / "m.skops"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message) as caught:
        load_model(path)
    assert "\n" not in str(caught.value)
    if message == "not an imu model file":  # what to do about it, in the same line
        assert str(caught.value).endswith("; use a model file written by 'imu train' (or the "
                                          "shipped models/default.skops)")


def test_zip_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "m.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert str(caught.value) == (f"{path}: a zip archive but not a skops model file; use a "
                                 "model file written by 'imu train' (or the shipped "
                                 "models/default.skops)")
    import skops.io as sio

    path.write_bytes(sio.dumps({"threshold": 0.5}))
    with pytest.raises(ModelError, match="without an imu manifest"):
        load_model(path)


def test_library_version_mismatch_warns(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "m.skops"
    save_model(model, path)
    original = path.read_bytes()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == MANIFEST_MEMBER:
                manifest = json.loads(data)
                manifest["versions"]["scikit-learn"] = "0.0.1"
                data = json.dumps(manifest).encode()
            dst.writestr(item, data)
    path.write_bytes(rewritten.getvalue())
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 0.0.1 \(now "):
        load_model(path)


def test_cli_bad_model_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "m.skops"
    path.write_bytes(b"junk")
    labels = tmp_path / "labels.csv"
    labels.write_text("session,start_s,end_s,label\n")
    assert main(["evaluate", "--model", str(path), str(labels)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imu evaluate: error: ") and "not an imu model file" in err
    assert "\n" not in err
