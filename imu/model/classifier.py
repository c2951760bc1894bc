"""The trained rounded-back classifier as the engine sees it: ``classify(record, history)``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from imu.model.features import model_row, model_rows, rep_features

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
        """Calibrated probability of the positive class for model rows."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if len(rows) == 0:
            return np.empty(0)
        return self.estimator.predict_proba(rows)[:, 1]

    def classify(self, record: dict, history: Sequence[dict]) -> tuple[float, bool]:
        """Engine hook: ``(p_rounded, rounded)`` for one finished rep.

        ``history`` holds the session's earlier rep records, time-ordered; they define the
        lifter's baseline (docs/classifier.md), so call this exactly as training did.
        """
        p = float(self.probability(model_row(record, history, self._raw_features))[0])
        return p, p >= self.threshold

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
