"""The trained rounded-back classifier as the engine sees it: ``classify(record, history)``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from imu.model.compiled import CompiledModel, compile_predictor, loaded_kernels
from imu.model.features import (
    RAW_FEATURES,
    baseline_columns,
    model_rows,
    record_value,
    rep_features,
    set_start,
    trace_features,
)

_FEATURE_CACHE_SIZE = 4096
"""Records whose raw features a classifier remembers (a 3-hour session has ~600 reps)."""
_BASELINE_CACHE_SIZE = 4
"""Baseline columns (per history length and set start) a classifier remembers."""
_TRACE_CACHE_SIZE = 8
"""Reps whose trace features a classifier remembers by content."""

_NOT_COMPILED = object()


class RepClassifier:
    """A calibrated scikit-learn model, its decision threshold and its manifest.

    ``estimator.predict_proba`` takes rows of :func:`imu.model.features.model_row`;
    ``threshold`` is the probability at or above which a rep is flagged. The training
    rows are kept (in the model file too) so that :func:`imu.model.personalize.personalize`
    can refit on them plus a lifter's own reps.

    A model file of the default kind loads without scikit-learn (:mod:`imu.model.reader`):
    the classifier then holds only the ``compiled`` predictor, which is all that
    :meth:`classify`, :meth:`probability` and :meth:`describe` need. The first access to
    :attr:`estimator` or to a training array calls ``load_full`` (the complete skops load,
    with imu's allow-list, which imports scikit-learn; it returns a dict of ``estimator``,
    ``training_rows``, ``training_labels`` and ``training_groups``);
    :attr:`estimator_loaded` tells whether that has happened.
    """

    def __init__(self, estimator: object | None, threshold: float, manifest: dict | None = None,
                 training_rows: np.ndarray | None = None,
                 training_labels: np.ndarray | None = None,
                 training_groups: np.ndarray | None = None, *,
                 compiled: CompiledModel | None = None,
                 load_full: Callable[[], dict] | None = None) -> None:
        if estimator is None and (compiled is None or load_full is None):
            raise ValueError("a RepClassifier needs an estimator, or a compiled predictor "
                             "and a way to load the estimator")
        self.threshold = threshold
        self.manifest = {} if manifest is None else manifest
        self._estimator = estimator
        self._training = (training_rows, training_labels, training_groups)
        self._load_full = load_full
        self._compiled = _NOT_COMPILED if compiled is None else compiled
        self._raw_cache: OrderedDict = OrderedDict()
        self._history: list = []
        self._history_raw = np.empty((64, len(RAW_FEATURES)))
        self._history_sorted = None  # kernels.SortedColumns of the held history's raw rows
        self._baselines: OrderedDict = OrderedDict()
        self._trace_cache: OrderedDict = OrderedDict()

    @property
    def estimator_loaded(self) -> bool:
        """Whether the scikit-learn estimator is in memory (False after a fast load until
        :attr:`estimator` or a training array is first used)."""
        return self._estimator is not None

    @property
    def estimator(self) -> object:
        """The fitted scikit-learn estimator; loaded from the model file on first use."""
        if self._estimator is None:
            self._load()
        return self._estimator

    @estimator.setter
    def estimator(self, estimator: object) -> None:
        self._estimator = estimator
        self._compiled = _NOT_COMPILED

    @property
    def training_rows(self) -> np.ndarray | None:
        """Model rows the estimator was trained on (loaded with it on first use)."""
        return self._training_array(0)

    @property
    def training_labels(self) -> np.ndarray | None:
        """Targets of :attr:`training_rows` (1 = the positive class)."""
        return self._training_array(1)

    @property
    def training_groups(self) -> np.ndarray | None:
        """Group ids (subjects or sessions) of :attr:`training_rows`."""
        return self._training_array(2)

    def _training_array(self, index: int) -> np.ndarray | None:
        if self._estimator is None:
            self._load()
        return self._training[index]

    def _load(self) -> None:
        full = self._load_full()
        self._estimator = full["estimator"]
        self._training = (full["training_rows"], full["training_labels"],
                          full["training_groups"])

    @property
    def positive_label(self) -> str:
        """The label name this model flags (e.g. ``rounded``)."""
        return str(self.manifest.get("positive_label", "rounded"))

    def describe(self) -> dict:
        """A short summary for ``imu analyze --json`` (``model``) and reports."""
        m = self.manifest
        cv = m.get("cv", {})
        return {
            "positive_label": self.positive_label,
            "threshold": self.threshold,
            "chosen_model": m.get("chosen_model"),
            "created_utc": m.get("created_utc"),
            "command": m.get("command"),
            "personalised": "personalised_from" in m,
            "cv": {k: cv.get(k) for k in ("balanced_accuracy", "sensitivity", "specificity",
                                          "roc_auc", "n_groups", "n_spans")},
        }

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class for model rows.

        Equal to ``estimator.predict_proba(rows)[:, 1]``; for the model kinds of
        :mod:`imu.model.compiled` computed without scikit-learn (which is asked only for
        rows the compiled predictor declines, e.g. an infinite value, so that they fail
        exactly as there)."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if len(rows) == 0:
            return np.empty(0)
        predict = self.compiled
        p = None if predict is None else predict(rows)
        return self.estimator.predict_proba(rows)[:, 1] if p is None else p

    @property
    def compiled(self) -> CompiledModel | None:
        """The compiled predictor of the model (None if it is of another kind), built from
        the estimator when not read from the file; rebuilt when another estimator is
        assigned (refitting the same object in place is not seen)."""
        if self._compiled is _NOT_COMPILED:
            self._compiled = compile_predictor(self.estimator)
        return self._compiled

    def classify(self, record: dict, history: Sequence[dict]) -> tuple[float, bool]:
        """Engine hook: ``(p_rounded, rounded)`` for one finished rep.

        ``history`` holds the session's earlier rep records, time-ordered; they define the
        lifter's baseline (docs/classifier.md), so call this exactly as training did. The
        result equals ``probability(model_row(record, history))`` (:meth:`model_row`
        keeps state from call to call, which makes one classifier object unsafe to share
        between threads).
        """
        p = float(self.probability(self.model_row(record, history))[0])
        return p, p >= self.threshold

    def model_row(self, record: dict, history: Sequence[dict]) -> np.ndarray:
        """:func:`imu.model.features.model_row`, to the bit. Each record is featurised once
        (the engine passes the same record objects again as history) and the baseline
        columns are kept for the last few histories: the engine asks about a rep twice,
        provisionally at its lockout and once confirmed, with the same earlier reps."""
        earlier = self._earlier_raw(history)
        key = (len(history), set_start(history, record_value(record, "start_s")))
        baseline = self._baselines.get(key)
        if baseline is None:
            baseline = self._baselines[key] = self._baseline_columns(earlier, key[1])
            if len(self._baselines) > _BASELINE_CACHE_SIZE:
                self._baselines.popitem(last=False)
        return np.concatenate([self._raw_features(record), baseline])

    def _baseline_columns(self, earlier: np.ndarray, first_in_set: int) -> np.ndarray:
        """:func:`imu.model.features.baseline_columns`, compiled where possible, with the
        session's sorted columns when they hold exactly ``earlier`` (they may hold a
        longer history)."""
        kernels = loaded_kernels()
        if kernels is None:
            return baseline_columns(earlier, first_in_set)
        held = self._history_sorted
        return kernels.baseline_columns(earlier, first_in_set,
                                        held if held is not None and held.rows == len(earlier)
                                        else None)

    def _earlier_raw(self, history: Sequence[dict]) -> np.ndarray:
        """Raw features of ``history`` as rows, kept from call to call for the common
        prefix (compared by identity) of this history and the held one; a history that
        is a prefix of the held one keeps it whole (the engine's confirmed call after a
        provisional one that saw one rep more). The held rows are also kept sorted by
        column (the session medians of :meth:`model_row`)."""
        kernels = loaded_kernels()
        if self._history_sorted is None and kernels is not None:
            self._history_sorted = kernels.SortedColumns(len(RAW_FEATURES))
            self._history_sorted.reset(self._history_raw[:len(self._history)])
        held = self._history_sorted
        known = self._history
        common = 0
        for old, new in zip(known, history):
            if old is not new:
                break
            common += 1
        if common < len(history) and common < len(known):
            del known[common:]
            if held is not None:
                held.reset(self._history_raw[:common])
            for key in [key for key in self._baselines if key[0] > common]:
                del self._baselines[key]
        if len(history) > len(self._history_raw):
            grown = np.empty((2 * len(history), len(RAW_FEATURES)))
            grown[:len(known)] = self._history_raw[:len(known)]
            self._history_raw = grown
        for i in range(len(known), len(history)):
            self._history_raw[i] = self._raw_features(history[i])
            if held is not None:
                held.append(self._history_raw[i])
            known.append(history[i])
        return self._history_raw[:len(history)]

    def _raw_features(self, record: dict) -> np.ndarray:
        """:func:`rep_features` of a record, remembered by identity: the engine passes the
        same record objects again as history, so each rep is featurised once."""
        hit = self._raw_cache.get(id(record))
        if hit is not None and hit[0] is record:
            return hit[1]
        raw = rep_features(record, self._trace_features)
        self._raw_cache[id(record)] = (record, raw)
        if len(self._raw_cache) > _FEATURE_CACHE_SIZE:
            self._raw_cache.popitem(last=False)
        return raw

    def _trace_features(self, start_s: float, end_s: float, bottom_s: float,
                        flexion: np.ndarray, twist: np.ndarray) -> np.ndarray:
        """:func:`imu.model.features.trace_features`, remembered by the bits of its inputs
        for the last few reps: the engine's provisional and confirmed records of a rep
        are different objects with the same traces (only the lockout extension differs)."""
        key = (np.array([start_s, end_s, bottom_s]).tobytes(), flexion.shape,
               flexion.tobytes(), twist.shape, twist.tobytes())
        features = self._trace_cache.get(key)
        if features is None:
            kernels = loaded_kernels()
            compute = trace_features if kernels is None else kernels.trace_features
            features = self._trace_cache[key] = compute(start_s, end_s, bottom_s, flexion, twist)
            if len(self._trace_cache) > _TRACE_CACHE_SIZE:
                self._trace_cache.popitem(last=False)
        return features

    def classify_session(self, records: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and flags for a session's reps in time order (same as calling
        :meth:`classify` rep by rep with the earlier reps as history)."""
        p = self.probability(model_rows(records))
        return p, p >= self.threshold
