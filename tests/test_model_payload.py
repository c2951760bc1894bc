"""The predictor payload of model files: the default model loads from it without
scikit-learn, skops or scipy and gives the very probabilities of the skops-loaded
estimator; a damaged payload is a clear ModelError; files without one (forests, files
written before the payload) go through skops and imu's allow-list (synthetic data only)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_model_fakes import fake_lifters

from imu.errors import ModelError
from imu.model import load_model
from imu.model.classifier import RepClassifier
from imu.model.features import RAW_FEATURES, model_rows
from imu.model.files import ALLOWED_TYPES, PREDICTOR_MEMBER, library_versions, save_model
from imu.model.predictor import from_payload, numpy_predictor, to_payload
from imu.model.training import fit_model

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sklearn", "skops", "scipy")


def loaded_modules(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; which of :data:`HEAVY` it imported."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def sessions():
    return fake_lifters(4, reps_per_lifter=24, seed=11)


@pytest.fixture(scope="module")
def rows(sessions) -> np.ndarray:
    X = np.vstack([model_rows(reps) for _, reps, _ in sessions])
    X[::7, 5] = np.nan                       # unknown features: the imputer's statistics
    X[::5, len(RAW_FEATURES):] = np.nan      # first reps of a session: the prior
    return X


def train(sessions, candidate: str, tmp_path: Path) -> tuple[RepClassifier, Path]:
    X = np.vstack([model_rows(reps) for _, reps, _ in sessions])
    y = np.concatenate([yy for *_, yy in sessions])
    groups = np.concatenate([[name] * len(reps) for name, reps, _ in sessions])
    fit = fit_model(X, y, groups, only=candidate)
    model = RepClassifier(fit.estimator, fit.threshold, {"chosen_model": fit.chosen}, X, y, groups)
    path = tmp_path / f"{candidate}.skops"
    save_model(model, path)
    return model, path


def test_default_model_classifies_without_scikit_learn_skops_or_scipy():
    found = loaded_modules(
        "import sys; sys.path.insert(0, 'tests')\n"
        "from imu.model import load_model\n"
        "from test_model_fakes import fake_lifters\n"
        "model = load_model()\n"
        "(_, reps, _), = fake_lifters(1, reps_per_lifter=6)\n"
        "flags = [model.classify(r, reps[:i]) for i, r in enumerate(reps)]\n"
        "assert len(flags) == 6 and not model.estimator_loaded\n")
    assert found == dict.fromkeys(HEAVY, False)


@pytest.mark.parametrize("command", ["analyze {path} --json", "replay {path} --fast --no-display"])
def test_analyze_and_replay_with_the_default_model_import_no_scikit_learn_or_skops(command):
    path = ROOT / "datasets" / "demo" / "L11_s1.csv.gz"
    argv = command.format(path=path).split()
    found = loaded_modules("import contextlib, io\nfrom imu.cli import main\n"
                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                           f"    assert main({argv!r}) == 0\n")
    # (scipy may still come in with numba, which imports parts of it when present)
    assert not found["sklearn"] and not found["skops"]


def test_direct_read_equals_the_skops_estimator_to_the_bit(rows):
    fast = load_model()
    assert not fast.estimator_loaded
    p = fast.probability(rows)
    one_by_one = np.concatenate([fast.probability(row[None]) for row in rows])
    assert not fast.estimator_loaded                 # no scikit-learn needed so far
    slow = numpy_predictor(fast.estimator)           # now loaded through skops
    assert fast.estimator_loaded
    np.testing.assert_array_equal(p, slow(rows))
    np.testing.assert_array_equal(one_by_one, np.concatenate([slow(r[None]) for r in rows]))
    np.testing.assert_allclose(p, fast.estimator.predict_proba(rows)[:, 1], rtol=0, atol=1e-15)
    assert 0.05 < p.mean() < 0.95                    # the rows exercise both classes' range


def test_lazy_estimator_and_training_rows_come_from_the_allow_listed_skops_load():
    model = load_model()
    assert not model.estimator_loaded
    rows = model.training_rows                       # personalisation needs these
    assert model.estimator_loaded
    assert rows.shape == (len(model.training_labels), 3 * len(RAW_FEATURES) + 2)
    assert len(model.training_groups) == len(rows)
    steps = [type(step).__module__ for _, step in
             model.estimator.calibrated_classifiers_[0].estimator.steps]
    assert steps[0] == "imu.model.baseline"


def test_the_payload_round_trips_to_the_bit(rows):
    model = load_model()
    text = json.dumps(to_payload(model.predictor, model.threshold))
    predictor, threshold = from_payload(json.loads(text), "m")
    assert threshold == model.threshold
    np.testing.assert_array_equal(predictor(rows), model.probability(rows))
    for member, again in zip(model.predictor.members, predictor.members, strict=True):
        np.testing.assert_array_equal(member.coef, again.coef)
        assert (member.a, member.b) == (again.a, again.b)


def test_a_newly_trained_logistic_model_reads_from_its_payload(sessions, rows, tmp_path):
    import skops.io as sio

    trained, path = train(sessions, "logistic_C1", tmp_path)
    for readable in (path, ROOT / "models" / "default.skops"):
        assert PREDICTOR_MEMBER in zipfile.ZipFile(readable).namelist()
        # the skops pipeline in the same file passes the allow-list too
        assert set(sio.get_untrusted_types(file=readable)) <= ALLOWED_TYPES
    loaded = load_model(path)
    assert not loaded.estimator_loaded and loaded.threshold == trained.threshold
    np.testing.assert_array_equal(loaded.probability(rows), trained.predictor(rows))
    np.testing.assert_array_equal(loaded.training_groups, trained.training_groups)


def test_a_forest_model_has_no_payload_and_goes_through_skops(sessions, rows, tmp_path):
    trained, path = train(sessions, "forest_leaf5", tmp_path)
    assert PREDICTOR_MEMBER not in zipfile.ZipFile(path).namelist()
    loaded = load_model(path)
    assert loaded.estimator_loaded and loaded.predictor is None
    np.testing.assert_array_equal(loaded.probability(rows), trained.probability(rows))


def edited(source: Path, target: Path, schema_edit=None, payload_edit=None) -> Path:
    """A copy of a model file whose schema.json went through ``schema_edit(schema)`` and
    whose predictor payload through ``payload_edit(payload)`` (dropped if that returns
    None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json" and schema_edit is not None:
                schema = json.loads(data)
                schema_edit(schema)
                data = json.dumps(schema).encode()
            if item.filename == PREDICTOR_MEMBER and payload_edit is not None:
                payload = payload_edit(json.loads(data))
                if payload is None:
                    continue
                data = json.dumps(payload).encode()
            dst.writestr(item, data)
    target.write_bytes(out.getvalue())
    return target


def fitted_state(schema: dict, step: int) -> dict:
    """The attribute dict of the fitted pipeline's step ``step`` (0 = BaselineDeviation)."""
    calibrated = schema["content"]["estimator"]["content"]["content"]
    member = calibrated["calibrated_classifiers_"]["content"][0]["content"]["content"]
    steps = member["estimator"]["content"]["content"]["steps"]["content"]
    return steps[step]["content"][1]


def without_payload(payload):
    return None


def test_a_file_without_the_payload_loads_through_skops_with_the_same_verdicts(tmp_path, rows):
    """Files written before the payload (this one naming BaselineDeviation by its former
    module, as the shipped model did) load the whole estimator through skops."""

    def former_module(schema):
        fitted_state(schema, 0)["__module__"] = "imu.model.features"

    path = edited(ROOT / "models" / "default.skops", tmp_path / "m.skops", former_module,
                  without_payload)
    loaded = load_model(path)
    assert loaded.estimator_loaded
    np.testing.assert_array_equal(loaded.probability(rows), load_model().probability(rows))


def test_a_foreign_type_is_refused_by_the_allow_list_not_read(tmp_path, rows):
    def smuggle(schema):
        node = fitted_state(schema, 3)
        node["__module__"], node["__class__"] = "os", "system"

    refused = r"refusing to load types outside imu's allow-list: os\.system"
    path = edited(ROOT / "models" / "default.skops", tmp_path / "evil.skops", smuggle,
                  without_payload)
    with pytest.raises(ModelError, match=refused):
        load_model(path)
    # with the payload, verdicts need no skops load; the estimator is still refused
    path = edited(ROOT / "models" / "default.skops", tmp_path / "evil2.skops", smuggle)
    model = load_model(path)
    np.testing.assert_array_equal(model.probability(rows), load_model().probability(rows))
    with pytest.raises(ModelError, match=refused):
        model.estimator  # noqa: B018


def _damage(kind: str):
    def edit(payload):
        member = payload["members"][0]
        if kind == "version":
            payload["format_version"] = 2
        elif kind == "width":
            member["coef"] = member["coef"][:-1]
        elif kind == "infinite weight":
            member["coef"][3] = float("inf")
        elif kind == "extra key":
            member["steps"][1]["novel"] = 1
        elif kind == "unknown step":
            member["steps"][2]["step"] = "normalise"
        elif kind == "text number":
            member["a"] = "1.5"
        return payload

    return edit


@pytest.mark.parametrize(("kind", "message"), [
    ("version", r"version 2; this imu reads 1"), ("width", r"coef width"),
    ("infinite weight", r"\(coef\)"), ("extra key", r"impute keys"),
    ("unknown step", r"step 'normalise'"), ("text number", r"\(a\)"),
])
def test_a_damaged_payload_is_a_one_line_model_error(tmp_path, kind, message):
    path = edited(ROOT / "models" / "default.skops", tmp_path / "m.skops",
                  payload_edit=_damage(kind))
    with pytest.raises(ModelError, match=f"m.skops: damaged predictor payload .*{message}"):
        load_model(path)


def test_a_payload_that_is_not_json_is_a_model_error(tmp_path):
    path = tmp_path / "m.skops"
    out = io.BytesIO()
    with zipfile.ZipFile(ROOT / "models" / "default.skops") as src, \
            zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, b"{not json" if item.filename == PREDICTOR_MEMBER else data)
    path.write_bytes(out.getvalue())
    with pytest.raises(ModelError, match="imu_predictor.json is damaged"):
        load_model(path)


def test_library_versions_come_from_package_metadata():
    import scipy
    import sklearn
    import skops

    versions = library_versions()
    assert versions["scikit-learn"] == sklearn.__version__
    assert versions["skops"] == skops.__version__ and versions["scipy"] == scipy.__version__
    assert versions["numpy"] == np.__version__


def _skops_threshold(value: str):
    def edit(schema):
        schema["content"]["threshold"]["content"] = value
    return edit


def _predictor_threshold(value: float):
    def edit(payload):
        payload["threshold"] = value
        return payload
    return edit


def test_a_model_whose_threshold_copies_disagree_is_refused(tmp_path, rows):
    """The manifest's threshold is the one used; the payloads' copies must equal it."""
    default = ROOT / "models" / "default.skops"
    manifest = load_model().manifest
    differs = r"m.skops: the threshold in {} \({}\) differs from the manifest's \({}\)"
    path = edited(default, tmp_path / "m.skops", payload_edit=_predictor_threshold(0.5))
    with pytest.raises(ModelError, match=differs.format(PREDICTOR_MEMBER, 0.5,
                                                        manifest["threshold"])):
        load_model(path)
    path = edited(default, tmp_path / "m.skops", _skops_threshold("0.5"), without_payload)
    with pytest.raises(ModelError, match=differs.format("the skops payload", 0.5,
                                                        manifest["threshold"])):
        load_model(path)
    path = edited(default, tmp_path / "m.skops", _skops_threshold("0.5"))  # read lazily
    model = load_model(path)
    np.testing.assert_array_equal(model.probability(rows), load_model().probability(rows))
    with pytest.raises(ModelError, match="the skops payload"):
        model.estimator  # noqa: B018
