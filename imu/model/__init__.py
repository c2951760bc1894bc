"""The rounded-back classifier: labelled spans, features, training, safe model files.

See docs/classifier.md. Public entry points::

    from imu.model import load_model
    model = load_model()            # the shipped default (models/default.skops)
    p_rounded, rounded = model.classify(record, history)
"""

from imu.model.classifier import RepClassifier
from imu.model.files import load_model, save_model

__all__ = ["RepClassifier", "load_model", "save_model"]
