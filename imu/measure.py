"""One recording measured the way ``imu analyze --json`` reports it.

``imu analyze`` (one recording per process) and ``imu batch`` (many, in worker processes
or on a Dask cluster) both call :func:`measure`, so a rep row of a batch table is the rep
object of ``imu analyze --json`` for the same file and options.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imu.pipeline import Analysis, EngineSettings
    from imu.session import Session


def measurement_settings(settings: EngineSettings) -> EngineSettings:
    """``settings`` for measuring a whole recording: no early (provisional) verdicts, which
    would only cost time since nobody is alerted."""
    return replace(settings, reps=replace(settings.reps, early_alerts=False))


def load_classifier(model: str | os.PathLike | None):
    """``(classifier, summary)`` for a model file (``"default"``: the shipped model, or
    ``$IMU_MODEL``); ``(None, None)`` for ``model=None`` (no classifier)."""
    if model is None:
        return None, None
    from imu.model.files import default_model_path, load_model

    path = default_model_path() if str(model) == "default" else model
    classifier = load_model(path)
    return classifier, {"path": str(path), **classifier.describe()}


def measure(
    session: Session, settings: EngineSettings, classifier=None, model_info: dict | None = None
) -> tuple[Analysis, dict]:
    """Analyse ``session`` with the streaming engine; ``(analysis, result)`` where
    ``result`` is the object ``imu analyze --json`` prints before :func:`json_safe`
    (``source`` and ``warnings`` included: also :func:`imu.model.lifts.lift_note`)."""
    from imu.pipeline import analyze_session

    analysis = analyze_session(session, settings, classifier)
    analysis.model = model_info
    result = analysis.to_json()
    result["source"] = session.source
    result["settings"] = measured_with(settings)
    result["warnings"] = list(session.warnings) + calibration_warnings(analysis.calibration)
    result["warnings"] += event_warnings(analysis)
    mismatch = lift_mismatch(session.metadata, settings.reps.lift)
    result["warnings"] += [mismatch] if mismatch else []
    if classifier is not None:
        from imu.model.lifts import lift_note

        note = lift_note(settings.reps.lift, classifier.manifest)
        result["warnings"] += [note] if note else []
    return analysis, result


def measured_with(settings: EngineSettings) -> dict:
    """The measurement options a result was measured with (``settings`` in ``imu analyze
    --json``), so a verdict can be read beside its limit: ``hyperextended`` is a lockout
    extension beyond ``hyperextension_deg``; ``mounting`` None = found from the data;
    None elsewhere = off."""
    reps = settings.reps
    return {
        "lift": reps.lift,
        "mounting": settings.calibration.mounting,
        "hyperextension_deg": reps.hyperextension_deg,
        "flexion_limit_deg": reps.flexion_limit_deg,
        "set_rest_s": reps.set_rest_s,
        "rest_pause_s": reps.rest_pause_s,
    }


def lift_mismatch(metadata: dict, lift: str) -> str | None:
    """A warning when the recording names its lift (a ``# lift:`` metadata line, e.g.
    ``imu simulate --lift squat``) and it is measured with another ``--lift`` preset: a
    squat measured as a deadlift loses most of its reps. The name is matched without
    case (``# lift: Squat``); a lift with no preset is named without a ``--lift`` to pass,
    since no such option exists."""
    from imu.pipeline import LIFTS

    named = str(metadata.get("lift") or "").strip()
    preset = named.casefold()
    if not named or preset == lift:
        return None
    if preset not in LIFTS:
        return (f"the recording says lift {named}, which has no preset, measured as {lift} "
                f"(presets: {', '.join(LIFTS)})")
    return f"the recording says lift {named}, measured as {lift}: pass --lift {preset}"


def calibration_warnings(calibration: dict | None) -> list[str]:
    """A warning when calibration succeeded only with an assumed or doubtful forward axis."""
    from imu.pipeline import UNCERTAIN_QUALITY

    if not calibration or not calibration.get("ok"):
        return []
    quality = float(calibration.get("quality") or 0.0)
    if quality >= UNCERTAIN_QUALITY:
        return []
    warning = (
        f"calibration is uncertain (quality {quality:.2f} < {UNCERTAIN_QUALITY:g}): "
        "the sensor's forward axis was guessed, so reps may be missed or flexion inverted; "
        "if the recording has no standing start, pass --mounting (docs/calibration.md)"
    )
    return [warning]


def event_warnings(analysis: Analysis) -> list[str]:
    """The pipeline's ``warning`` events (e.g. the flexion sign looks inverted) as the
    log says them, with the time from the recording's start."""
    from imu.text import Timeline

    times = analysis.angles[:, 0]
    timeline = Timeline(float(times[0]) if len(times) else 0.0)
    return [
        f"{e['message']} (at {timeline.at(e.get('time_s'))})"
        for e in analysis.events
        if e.get("type") == "warning"
    ]


def json_safe(value):
    """``value`` for JSON: non-finite floats as None, floats rounded to what they resolve
    (:func:`imu.sinks.base.json_safe`: the same numbers in ``--json``, ``--events`` and
    the batch tables)."""
    from imu.sinks.base import json_safe as rounded

    return rounded(value)
