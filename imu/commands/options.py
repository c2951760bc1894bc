"""Options shared by several commands (light module: heavy imports inside functions)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable


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
    from imu.measure import load_classifier

    if getattr(args, "no_model", False):
        return None, None
    return load_classifier(args.model or "default")


def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    """``--negative`` and ``--allow-outside`` (imu train, imu evaluate)."""
    parser.add_argument("--negative", default=None, metavar="LABEL[,LABEL...]",
                        help="labels of spans that are not flagged (default 'good' and the "
                        "model's own); any other label but --positive is refused")
    parser.add_argument("--allow-outside", action="store_true",
                        help="let a labels file name sessions outside its own folder "
                        "(only for labels files you trust)")


LIFT_CHOICES = ("deadlift", "rdl", "good_morning", "squat", "stoop")
"""Keys of ``imu.pipeline.lifts.LIFTS`` (repeated here so that parsers stay light)."""


def add_measurement_arguments(parser: argparse.ArgumentParser) -> None:
    """The pipeline settings a user may change: the same in analyze, replay, live and report."""
    group = parser.add_argument_group("measurement")
    group.add_argument(
        "--mounting",
        help="known sensor mounting: body x,y,z (forward, left, up) as sensor axes, e.g. PZPYNX "
        "or +z,+y,-x (default: found from standing still, then the first forward bend; "
        "without a standing start, from the reps themselves)",
    )
    group.add_argument(
        "--lift",
        choices=LIFT_CHOICES,
        default="deadlift",
        help="rep detection preset: deadlift (default; conventional and touch-and-go), rdl, "
        "good_morning, squat (back squats), stoop (laboratory trials of single stoop bends: "
        "every bend the rules let through is a rep)",
    )
    group.add_argument(
        "--hyperextension-deg",
        type=float,
        default=None,
        metavar="X",
        help="degrees of lockout extension beyond upright that flag a rep (default 10)",
    )
    group.add_argument(
        "--flexion-limit-deg",
        type=float,
        default=None,
        metavar="X",
        help="early warning mid-rep when flexion passes X deg (default: off)",
    )
    group.add_argument(
        "--set-rest-s",
        type=float,
        default=None,
        metavar="S",
        help="also split a set at any pause longer than S (default: a set ends when the "
        "bar is put down or nothing follows for 8 s; see docs/calibration.md)",
    )
    group.add_argument(
        "--rest-pause-s",
        type=float,
        default=None,
        metavar="S",
        help="rest-pause / cluster sets: a pause of up to S seconds standing still at the "
        "bar, after 2+ reps, keeps the set together (default: off)",
    )


def check_output(
    path: str | None, option: str, *, force: bool = True, inputs: Iterable[str] = ()
) -> None:
    """Refuse, before any slow work, an output that cannot be written or would destroy
    data: a directory, a missing parent directory, one of the ``inputs``, an existing file
    without ``force``. ``None`` (option not given) passes. The rules for links and devices
    are :mod:`imu.fileio`' (a character device or FIFO is written through)."""
    from imu.fileio import check_target

    if path:
        check_target(path, option, force=force, inputs=inputs)


def check_long_enough(session, path: str | None = None) -> None:
    """Refuse a recording too short to analyse: shorter than the still period calibration
    needs at its start (``CalibrationSettings.still_s``), e.g. a file of four samples
    (exit 2 with one line, not a failed calibration and exit 0)."""
    from imu.errors import input_error
    from imu.pipeline import CalibrationSettings
    from imu.text import plural

    needed_s = CalibrationSettings().still_s
    times = session.time_s
    span_s = float(times[-1] - times[0]) if len(times) else 0.0
    if len(times) < 2 or span_s < needed_s:
        raise input_error(
            f"too short to analyse: {plural(len(times), 'sample')} over {span_s:.2f} s",
            path=path or session.source,
            hint=f"a recording needs at least {needed_s:g} s: standing still at the start, "
            "then the lifts",
        )


def engine_settings_from_args(args: argparse.Namespace, sampling_rate_hz: float | None = None):
    """``EngineSettings`` for the options of :func:`add_measurement_arguments`
    (:func:`imu.pipeline.engine_settings`)."""
    from imu.pipeline import engine_settings

    names = ("hyperextension_deg", "flexion_limit_deg", "set_rest_s", "rest_pause_s")
    return engine_settings(
        mounting=args.mounting,
        lift=args.lift,
        sampling_rate_hz=sampling_rate_hz,
        **{name: getattr(args, name, None) for name in names},
    )


def add_executor_arguments(parser: argparse.ArgumentParser, default_jobs: str) -> None:
    """``--jobs N`` or ``--scheduler ADDRESS``: where recordings are measured (batch,
    train, evaluate)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, default=None, metavar="N",
                       help=f"worker processes on this machine (default: {default_jobs})")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="measure on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
                       "(pip install 'imu[dask]'; docs/batch.md)")
