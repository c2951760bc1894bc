"""Read the model files ``imu train`` writes with its logistic default straight from the
archive: no scikit-learn, no skops, no code from the file.

A skops file is a zip of ``schema.json`` (a tree of nodes, each naming its loader, module
and class) and ``.npy`` arrays. :func:`read_compiled` walks that tree and accepts exactly
one shape, the one :func:`imu.model.files.save_model` writes for a
``CalibratedClassifierCV(method="sigmoid")`` of ``Pipeline[BaselineDeviation,
SimpleImputer, StandardScaler, LogisticRegression]``:

* every node is a dict, list or tuple node, a JSON value (parsed with :func:`json.loads`:
  numbers, strings, booleans, null), a numpy array stored as ``.npy`` (read with
  ``numpy.load(..., allow_pickle=False)``), a dtype or a ``str`` key type, or an object
  of one of :data:`OBJECT_TYPES` (a name compared as text, never imported);
* dict keys are strings; a node whose value is read has an id no other node has (skops
  resolves a repeated id to the first node seen, so a value read here is the value skops
  would build);
* the fitted steps carry exactly the attributes of :data:`STATE_KEYS` and the values the
  compiled predictor supports (:mod:`imu.model.compiled`).

It returns the compiled predictor and the threshold, or ``None`` for anything else (a
forest, isotonic calibration, another attribute, another skops protocol, ...): the caller
then loads the file with skops and imu's allow-list, as before. So this reader never
accepts what the skops path would refuse, and builds nothing but arrays and numbers.
"""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np

from imu.model.compiled import (
    BASELINE_TYPES,
    CALIBRATED_TYPE,
    IMPUTER_TYPE,
    LOGISTIC_TYPE,
    SCALER_TYPE,
    Baseline,
    CompiledModel,
    Impute,
    Member,
    Standardise,
)
from imu.model.features import RAW_FEATURES

#: The skops schema protocol this reader knows (skops 0.10-0.16 write 2).
PROTOCOL = 2
PIPELINE_TYPE = "sklearn.pipeline.Pipeline"
MEMBER_TYPE = "sklearn.calibration._CalibratedClassifier"
SIGMOID_TYPE = "sklearn.calibration._SigmoidCalibration"
#: The only classes of object the file may hold.
OBJECT_TYPES = frozenset({CALIBRATED_TYPE, MEMBER_TYPE, SIGMOID_TYPE, PIPELINE_TYPE,
                          *BASELINE_TYPES, IMPUTER_TYPE, SCALER_TYPE, LOGISTIC_TYPE})
#: The attributes of each fitted object the predictor is read from, exactly (another
#: scikit-learn version may add one whose meaning this reader cannot know).
STATE_KEYS: dict[str, frozenset[str]] = {
    CALIBRATED_TYPE: frozenset({"estimator", "method", "cv", "n_jobs", "ensemble",
                                "calibrated_classifiers_", "classes_", "n_features_in_",
                                "_sklearn_version"}),
    MEMBER_TYPE: frozenset({"estimator", "calibrators", "classes", "method"}),
    SIGMOID_TYPE: frozenset({"a_", "b_", "_sklearn_version"}),
    PIPELINE_TYPE: frozenset({"steps", "transform_input", "memory", "verbose",
                              "_sklearn_version"}),
    **dict.fromkeys(BASELINE_TYPES, frozenset({"prior_weight", "set_weight", "prior_",
                                               "n_features_in_"})),
    IMPUTER_TYPE: frozenset({"missing_values", "add_indicator", "keep_empty_features",
                             "strategy", "fill_value", "copy", "n_features_in_", "_fit_dtype",
                             "_fill_dtype", "indicator_", "statistics_", "_sklearn_version"}),
    SCALER_TYPE: frozenset({"with_mean", "with_std", "copy", "n_features_in_",
                            "n_samples_seen_", "mean_", "var_", "scale_", "_sklearn_version"}),
    LOGISTIC_TYPE: frozenset({"penalty", "C", "l1_ratio", "dual", "tol", "fit_intercept",
                              "intercept_scaling", "class_weight", "random_state", "solver",
                              "max_iter", "verbose", "warm_start", "n_jobs", "n_features_in_",
                              "classes_", "n_iter_", "coef_", "intercept_", "_sklearn_version"}),
}
PAYLOAD_KEYS = frozenset({"estimator", "threshold", "training_rows", "training_labels",
                          "training_groups"})
_ARRAY_CLASSES = frozenset({"numpy.ndarray", "numpy.float64"})
_SCALAR_JSON = (bool, int, float, str, type(None))


class Unsupported(Exception):
    """The archive is not of the one shape this reader accepts (the caller falls back)."""


def read_compiled(archive: zipfile.ZipFile) -> tuple[CompiledModel, float] | None:
    """The compiled predictor and the threshold of an imu model archive of the supported
    shape (module docstring), else None. Damaged content is also None: the skops path
    then reports it."""
    try:
        schema = json.loads(archive.read("schema.json"))
        return _Reader(archive).payload(schema)
    except (Unsupported, KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile,
            EOFError, RecursionError):
        return None


def _require(condition: bool, what: str = "") -> None:
    if not condition:
        raise Unsupported(what)


class _Reader:
    """One walk over a schema; keeps the archive for the arrays the nodes name."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.seen: dict[int, dict] = {}
        self.conflicted: set[int] = set()

    def payload(self, schema: dict) -> tuple[CompiledModel, float]:
        _require(isinstance(schema, dict) and schema.get("protocol") == PROTOCOL, "protocol")
        self.check(schema)
        content = self.dict_node(schema)
        _require(set(content) == PAYLOAD_KEYS, "payload keys")
        threshold = self.json(content["threshold"])
        _require(type(threshold) is float and math.isfinite(threshold), "threshold")
        for key in ("training_rows", "training_labels", "training_groups"):
            self.node(content[key], "NdArrayNode")
        return self.calibrated(content["estimator"]), threshold

    # -- the whole tree: only known node kinds, names and ids --------------------------

    def check(self, node: object) -> None:
        """Every node of the tree is of a kind this reader accepts (module docstring)."""
        _require(isinstance(node, dict), "node")
        node_id = node.get("__id__")
        if node_id is not None:
            earlier = self.seen.setdefault(node_id, node)
            if earlier is not node and earlier != node:
                self.conflicted.add(node_id)
        loader = node.get("__loader__")
        kind = f"{node.get('__module__')}.{node.get('__class__')}"
        if loader == "DictNode":
            _require(kind == "builtins.dict" and isinstance(node.get("content"), dict), kind)
            keys = node.get("key_types", {})
            _require(keys.get("__loader__") == "ListNode"
                     and len(keys.get("content", ())) == len(node["content"]), "key types")
            for key_type in keys["content"]:
                _require({k: v for k, v in key_type.items() if k != "__id__"}
                         == {"__class__": "str", "__module__": "builtins",
                             "__loader__": "TypeNode"}, "key type")
            for child in node["content"].values():
                self.check(child)
        elif loader in ("ListNode", "TupleNode"):
            _require(kind == f"builtins.{'list' if loader == 'ListNode' else 'tuple'}"
                     and isinstance(node.get("content"), list), kind)
            for child in node["content"]:
                self.check(child)
        elif loader == "JsonNode":
            _require(kind == "builtins.str" and isinstance(node.get("content"), str), kind)
            _require(isinstance(json.loads(node["content"]), _SCALAR_JSON), "json value")
        elif loader == "NdArrayNode":
            _require(kind in _ARRAY_CLASSES and node.get("type") == "numpy"
                     and isinstance(node.get("file"), str), kind)
        elif loader == "DTypeNode":
            _require(kind == "numpy.dtype", kind)
            self.check(node.get("content"))
            _require(node["content"].get("__loader__") == "NdArrayNode", "dtype")
        elif loader == "ObjectNode":
            _require(kind in OBJECT_TYPES, kind)
            self.check(node.get("content"))
            _require(node["content"].get("__loader__") == "DictNode", "object state")
        else:
            raise Unsupported(f"loader {loader!r}")

    # -- values -------------------------------------------------------------------------

    def node(self, node: dict, *loaders: str) -> dict:
        """``node``, if it is of one of the ``loaders`` and its id names no other node."""
        _require(node.get("__loader__") in loaders, "node kind")
        _require(node.get("__id__") not in self.conflicted, "one id, two nodes")
        return node

    def dict_node(self, node: dict) -> dict:
        return self.node(node, "DictNode")["content"]

    def list_node(self, node: dict) -> list:
        return self.node(node, "ListNode", "TupleNode")["content"]

    def json(self, node: dict):
        return json.loads(self.node(node, "JsonNode")["content"])

    def number(self, node: dict) -> float:
        value = self.json(node)
        _require(type(value) in (int, float), "number")
        return float(value)

    def array(self, node: dict, shape: tuple[int, ...] | None = None) -> np.ndarray:
        """A float64 or integer array (``shape`` checked when given); numpy scalars as 0-d."""
        self.node(node, "NdArrayNode")
        array = np.load(io.BytesIO(self.archive.read(node["file"])), allow_pickle=False)
        _require(array.dtype == np.float64 or array.dtype.kind in "iu", "dtype")
        _require(shape is None or array.shape == shape, "shape")
        _require(node["__class__"] == "ndarray" or array.shape == (), "scalar")
        return array

    def state(self, node: dict, names: tuple[str, ...] | str) -> dict:
        """The attribute dict of an object node of one of the type ``names``."""
        names = (names,) if isinstance(names, str) else names
        kind = f"{node.get('__module__')}.{node.get('__class__')}"
        _require(kind in names, kind)
        state = self.dict_node(self.node(node, "ObjectNode")["content"])
        _require(set(state) == STATE_KEYS[kind], f"{kind} attributes")
        return state

    # -- the estimator ------------------------------------------------------------------

    def calibrated(self, node: dict) -> CompiledModel:
        state = self.state(node, CALIBRATED_TYPE)
        _require(self.json(state["method"]) == "sigmoid", "method")
        members = tuple(self.member(m) for m in self.list_node(state["calibrated_classifiers_"]))
        _require(len(members) > 0, "no members")
        return CompiledModel(members)

    def member(self, node: dict) -> Member:
        state = self.state(node, MEMBER_TYPE)
        _require(self.json(state["method"]) == "sigmoid", "method")
        classes = self.array(state["classes"])
        _require(classes.shape == (2,), "binary")
        calibrators = self.list_node(state["calibrators"])
        _require(len(calibrators) == 1, "one calibrator")
        sigmoid = self.state(calibrators[0], SIGMOID_TYPE)
        a, b = (float(self.array(sigmoid[k], ())) for k in ("a_", "b_"))
        return self.pipeline(state["estimator"], classes, a, b)

    def pipeline(self, node: dict, classes: np.ndarray, a: float, b: float) -> Member:
        state = self.state(node, PIPELINE_TYPE)
        _require(self.json(state["transform_input"]) is None, "transform_input")
        steps = [self.list_node(step) for step in self.list_node(state["steps"])]
        _require([len(step) for step in steps] == [2, 2, 2, 2], "four steps")
        baseline, impute, scale, final = (step[1] for step in steps)
        f = len(RAW_FEATURES)
        compiled = (self.baseline(baseline, f), self.imputer(impute, 3 * f),
                    self.scaler(scale, 3 * f))
        logistic = self.state(final, LOGISTIC_TYPE)
        _require(np.array_equal(self.array(logistic["classes_"], (2,)), classes), "classes")
        coef = self.array(logistic["coef_"], (1, 3 * f))
        intercept = self.array(logistic["intercept_"], (1,))
        _require(coef.dtype == np.float64 and intercept.dtype == np.float64, "coefficients")
        return Member(compiled, coef, intercept, a, b)

    def baseline(self, node: dict, f: int) -> Baseline:
        state = self.state(node, BASELINE_TYPES)
        prior = self.array(state["prior_"], (f,))
        _require(prior.dtype == np.float64, "prior")
        return Baseline(prior, self.number(state["prior_weight"]),
                        self.number(state["set_weight"]))

    def imputer(self, node: dict, width: int) -> Impute:
        state = self.state(node, IMPUTER_TYPE)
        missing = self.json(state["missing_values"])
        _require(type(missing) is float and math.isnan(missing), "missing values")
        _require(self.json(state["add_indicator"]) is False, "indicator")
        statistics = self.array(state["statistics_"], (width,))
        _require(statistics.dtype == np.float64, "statistics")
        _require(self.json(state["keep_empty_features"]) is True
                 or not np.isnan(statistics).any(), "empty features")
        return Impute(statistics)

    def scaler(self, node: dict, width: int) -> Standardise:
        state = self.state(node, SCALER_TYPE)
        with_mean, with_std = self.json(state["with_mean"]), self.json(state["with_std"])
        _require(type(with_mean) is bool and type(with_std) is bool, "scaler options")
        mean = self.array(state["mean_"], (width,)) if with_mean else None
        scale = self.array(state["scale_"], (width,)) if with_std else None
        _require(all(v is None or v.dtype == np.float64 for v in (mean, scale)), "scaler")
        return Standardise(mean, scale)
