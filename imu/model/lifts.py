"""What a model knows about the lift being measured: a note when it has never seen it.

The shipped model was trained on (simulated) deadlifts, Romanian deadlifts and good
mornings. On squats (``--lift squat``) it still flags a rep that departs from the lifter's
own earlier reps, but it cannot say how: on simulated squats it flags butt wink and
forward lean alike (docs/squat.md has the figures). A model whose training sessions
include squats (trained or personalised with ``lift`` squat) gets no note.
"""

from __future__ import annotations

SQUAT_NOTE = (
    "--lift squat: this model was trained without squats; its 'rounded' flags a squat that "
    "departs from your good ones, by butt wink or by forward lean alike (docs/squat.md); "
    "to tell butt wink apart, personalise it on your labelled squats "
    "(imu train --personalize default, lift squat)"
)


def trained_lifts(manifest: dict) -> set[str]:
    """The ``lift`` options the model's training sessions were measured with (a personalised
    model's own sessions and its base model's)."""
    from imu.model.classifier import training_sessions

    return {str((session.get("options") or {}).get("lift") or "deadlift")
            for session in training_sessions(manifest)}


def lift_note(lift: str, manifest: dict | None) -> str | None:
    """A one-line note when ``manifest``'s model never saw ``lift`` (squats only), else None."""
    if manifest is None or lift != "squat" or "squat" in trained_lifts(manifest):
        return None
    return SQUAT_NOTE
