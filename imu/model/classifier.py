"""The trained rounded-back classifier as the engine sees it: ``classify(record, history)``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from imu.model.features import (
    RAW_FEATURES,
    model_rows,
    record_value,
    rep_features,
    row_from_raw,
    set_start,
)
from imu.model.predictor import LogisticPredictor, numpy_predictor

_UNKNOWN = object()


def training_sessions(manifest: dict) -> list[dict]:
    """The sessions a model's manifest says it was trained on (``training_files``), with a
    personalised model's base model's (``personalised_from``)."""
    base = (manifest.get("personalised_from") or {}).get("manifest") or {}
    return [session for m in (manifest, base) for files in m.get("training_files") or []
            for session in files.get("sessions") or []]


class RepClassifier:
    """A calibrated scikit-learn model, its decision threshold and its manifest.

    ``estimator.predict_proba`` takes rows of :func:`imu.model.features.model_row`;
    ``threshold`` is the probability at or above which a rep is flagged. The training
    rows are kept (in the model file too) so that :func:`imu.model.personalize.personalize`
    can refit on them plus a lifter's own reps.

    A model file of the default kind loads without scikit-learn (its numbers are stored as
    a payload, :mod:`imu.model.predictor`): the classifier then holds only the numpy
    ``predictor``, which is all that
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
                 predictor: LogisticPredictor | None = None,
                 load_full: Callable[[], dict] | None = None) -> None:
        if estimator is None and (predictor is None or load_full is None):
            raise ValueError("a RepClassifier needs an estimator, or a numpy predictor "
                             "and a way to load the estimator")
        self.threshold = threshold
        self.manifest = {} if manifest is None else manifest
        self._estimator = estimator
        self._training = (training_rows, training_labels, training_groups)
        self._load_full = load_full
        self._predictor = _UNKNOWN if predictor is None else predictor
        self._history: list = []
        self._history_raw = np.empty((64, len(RAW_FEATURES)))

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
        self._predictor = _UNKNOWN

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
        """A short summary for ``imu analyze --json`` (``model``) and reports: ``manifest``
        (false: the model carries none, nothing is known of its training), and the training
        sessions its manifest lists (a personalised model's and its base model's) and how
        many of them are marked SYNTHETIC (None: the manifest does not say)."""
        m = self.manifest
        cv = m.get("cv", {})
        sessions = training_sessions(m)
        marks = [s.get("synthetic") for s in sessions]
        return {
            "manifest": bool(m),
            "n_training_sessions": len(sessions) if m else None,
            "n_synthetic_sessions": (sum(map(bool, marks))
                                     if m and all(isinstance(x, bool) for x in marks) else None),
            "positive_label": self.positive_label,
            "threshold": self.threshold,
            "chosen_model": m.get("chosen_model"),
            "created_utc": m.get("created_utc"),
            "command": m.get("command"),
            "personalised": "personalised_from" in m,
            "group_by": m.get("group_by"),
            "cv": {**{k: cv.get(k) for k in ("balanced_accuracy", "sensitivity", "specificity",
                                             "roc_auc", "n_groups", "n_spans")},
                   "n_folds": len(cv.get("folds") or []) or None},
        }

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class for model rows.

        Equal to ``estimator.predict_proba(rows)[:, 1]``; for the model kinds of
        :mod:`imu.model.predictor` computed without scikit-learn (which is asked only for
        rows the numpy predictor declines, e.g. an infinite value, so that they fail
        exactly as there)."""
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if len(rows) == 0:
            return np.empty(0)
        predict = self.predictor
        p = None if predict is None else predict(rows)
        return self.estimator.predict_proba(rows)[:, 1] if p is None else p

    @property
    def predictor(self) -> LogisticPredictor | None:
        """The numpy predictor of the model (None if it is of another kind), built from
        the estimator when not read from the file; rebuilt when another estimator is
        assigned (refitting the same object in place is not seen)."""
        if self._predictor is _UNKNOWN:
            self._predictor = numpy_predictor(self.estimator)
        return self._predictor

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
        """:func:`imu.model.features.model_row`, with the raw features of ``history`` kept
        from call to call (the engine passes the same record objects again as history, so
        each earlier rep is featurised once, not once per later rep)."""
        earlier = self._earlier_raw(history)
        first_in_set = set_start(history, record_value(record, "start_s"))
        return row_from_raw(rep_features(record), earlier, first_in_set)

    def _earlier_raw(self, history: Sequence[dict]) -> np.ndarray:
        """Raw features of ``history`` as rows, kept from call to call for the common
        prefix (compared by identity) of this history and the held one; a history that
        is a prefix of the held one keeps it whole (the engine's confirmed call after a
        provisional one that saw one rep more)."""
        known = self._history
        common = 0
        for old, new in zip(known, history):
            if old is not new:
                break
            common += 1
        if common < len(history):
            del known[common:]
        if len(history) > len(self._history_raw):
            grown = np.empty((2 * len(history), len(RAW_FEATURES)))
            grown[:common] = self._history_raw[:common]
            self._history_raw = grown
        for i in range(common, len(history)):
            self._history_raw[i] = rep_features(history[i])
            known.append(history[i])
        return self._history_raw[:len(history)]

    def classify_session(self, records: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and flags for a session's reps in time order (same as calling
        :meth:`classify` rep by rep with the earlier reps as history)."""
        p = self.probability(model_rows(records))
        return p, p >= self.threshold
