"""The trained rounded-back classifier as the engine sees it: ``classify(record, history)``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from imu.model.compiled import compile_predictor
from imu.model.features import (
    RAW_FEATURES,
    model_rows,
    record_value,
    rep_features,
    row_from_raw,
    set_start,
)

_FEATURE_CACHE_SIZE = 4096
"""Records whose raw features a classifier remembers (a 3-hour session has ~600 reps)."""


@dataclass
class RepClassifier:
    """A calibrated scikit-learn model, its decision threshold and its manifest.

    ``estimator.predict_proba`` takes rows of :func:`imu.model.features.model_row`;
    ``threshold`` is the probability at or above which a rep is flagged. The training
    rows are kept (in the model file too) so that :func:`imu.model.personalize.personalize`
    can refit on them plus a lifter's own reps.
    """

    estimator: object
    threshold: float
    manifest: dict = field(default_factory=dict)
    training_rows: np.ndarray | None = None
    training_labels: np.ndarray | None = None
    training_groups: np.ndarray | None = None
    _raw_cache: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)
    _compiled: tuple = field(default=(None, None), init=False, repr=False)
    _history: list = field(default_factory=list, init=False, repr=False)
    _history_raw: np.ndarray = field(default_factory=lambda: np.empty((64, len(RAW_FEATURES))),
                                     init=False, repr=False)

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
        :mod:`imu.model.compiled` computed without scikit-learn's per-call validation."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if len(rows) == 0:
            return np.empty(0)
        p = self._predictor()(rows)
        return self.estimator.predict_proba(rows)[:, 1] if p is None else p

    def _predictor(self) -> Callable[[np.ndarray], np.ndarray | None]:
        """The compiled predictor of the current ``estimator``, rebuilt when another
        estimator object is assigned (refitting the same object in place is not seen)."""
        estimator, predict = self._compiled
        if estimator is not self.estimator:
            predict = compile_predictor(self.estimator) or (lambda rows: None)
            self._compiled = (self.estimator, predict)
        return predict

    def classify(self, record: dict, history: Sequence[dict]) -> tuple[float, bool]:
        """Engine hook: ``(p_rounded, rounded)`` for one finished rep.

        ``history`` holds the session's earlier rep records, time-ordered; they define the
        lifter's baseline (docs/classifier.md), so call this exactly as training did. The
        result equals ``probability(model_row(record, history))``; the raw features of a
        history that continues the previous call's (the engine's growing list of reps) are
        reused, so a rep costs the same early and late in a session (that state makes
        one classifier object unsafe to share between threads).
        """
        row = row_from_raw(self._raw_features(record), self._earlier_raw(history),
                           set_start(history, record_value(record, "start_s")))
        p = float(self.probability(row)[0])
        return p, p >= self.threshold

    def _earlier_raw(self, history: Sequence[dict]) -> np.ndarray:
        """Raw features of ``history`` as rows, kept from call to call for the common
        prefix (compared by identity) of this history and the previous one."""
        known = self._history
        common = 0
        for old, new in zip(known, history):
            if old is not new:
                break
            common += 1
        del known[common:]
        if len(history) > len(self._history_raw):
            grown = np.empty((2 * len(history), len(RAW_FEATURES)))
            grown[:common] = self._history_raw[:common]
            self._history_raw = grown
        for i in range(common, len(history)):
            self._history_raw[i] = self._raw_features(history[i])
            known.append(history[i])
        return self._history_raw[:len(history)]

    def _raw_features(self, record: dict) -> np.ndarray:
        """:func:`rep_features` of a record, remembered by identity: the engine passes the
        same record objects again as history, so each rep is featurised once."""
        hit = self._raw_cache.get(id(record))
        if hit is not None and hit[0] is record:
            return hit[1]
        raw = rep_features(record)
        self._raw_cache[id(record)] = (record, raw)
        if len(self._raw_cache) > _FEATURE_CACHE_SIZE:
            self._raw_cache.popitem(last=False)
        return raw

    def classify_session(self, records: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and flags for a session's reps in time order (same as calling
        :meth:`classify` rep by rep with the earlier reps as history)."""
        p = self.probability(model_rows(records))
        return p, p >= self.threshold
