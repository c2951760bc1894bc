"""Options shared by several commands (light module: heavy imports inside functions)."""

from __future__ import annotations

import argparse


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model PATH`` (default: the shipped model) and ``--no-model``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--model",
        metavar="PATH",
        default=None,
        help="rounded-back classifier: a skops file from 'imu train' "
        "(default: the shipped model in models/, or $IMU_MODEL)",
    )
    group.add_argument(
        "--no-model",
        action="store_true",
        help="no classifier: 'rounded' and 'p_rounded' are null (faster start)",
    )


def classifier_from_args(args: argparse.Namespace):
    """``(classifier, summary)`` for ``--model``/``--no-model``; ``(None, None)`` without a model."""
    if getattr(args, "no_model", False):
        return None, None
    from imu.model.files import default_model_path, load_model

    path = default_model_path() if args.model in (None, "default") else args.model
    model = load_model(path)
    return model, {"path": str(path), **model.describe()}
