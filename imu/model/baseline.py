"""The first step of every imu model Pipeline, as a scikit-learn transformer.

It lives apart from :mod:`imu.model.features` so that computing features and evaluating
the default model (:mod:`imu.model.predictor`) never import scikit-learn; the arithmetic is
:func:`imu.model.features.deviation_rows`. Model files written before this module existed
name the class ``imu.model.features.BaselineDeviation``, which still resolves to it.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from imu.model.features import (
    deviation_rows,
    feature_names,
    input_names,
    median_columns,
    split_input,
)


class BaselineDeviation(TransformerMixin, BaseEstimator):
    """Model input rows (:func:`imu.model.features.model_row`) -> ``[raw, raw - baseline,
    raw - set baseline]`` (:func:`imu.model.features.deviation_rows`).

    :meth:`fit` learns ``prior_``: the median raw feature of the training reps not of the
    positive class (all reps if ``y`` is not given). ``prior_weight`` and ``set_weight``
    are the pseudo-rep weights of the prior in the session and set baselines.
    """

    def __init__(self, prior_weight: float = 3.0, set_weight: float = 1.0):
        self.prior_weight = prior_weight
        self.set_weight = set_weight

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> BaselineDeviation:
        raw = split_input(X)[0]
        rows = raw if y is None or np.all(np.asarray(y) == 1) else raw[np.asarray(y) != 1]
        self.prior_ = median_columns(rows)
        self.n_features_in_ = len(input_names())
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return deviation_rows(X, self.prior_, self.prior_weight, self.set_weight)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(feature_names(), dtype=object)
