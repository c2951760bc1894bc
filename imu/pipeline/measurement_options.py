"""The measurement options a user may change, checked, as :class:`EngineSettings`.

The same options in ``imu analyze``/``replay``/``live``/``report`` (``--mounting``,
``--lift``, ``--hyperextension-deg``...), in the session-option columns of a labels file
and in ``imu batch``. Out-of-range values are :class:`imu.errors.InputError` naming the
option as it is written on the command line (a labels file's column has the same name
with underscores).
"""

from __future__ import annotations

import math
from dataclasses import replace

from imu.errors import input_error
from imu.pipeline.calibration import CalibrationSettings
from imu.pipeline.engine import EngineSettings
from imu.pipeline.lifts import lift_preset

LIMITS = {  # option -> (lowest, highest, what the number means); both ends allowed
    "hyperextension_deg": (0.0, 90.0, "degrees of extension beyond upright"),
    "flexion_limit_deg": (1.0, 180.0, "degrees of flexion"),
    "set_rest_s": (0.1, 3600.0, "seconds of rest"),
    "rest_pause_s": (1.0, 120.0, "seconds of pause"),
}


def engine_settings(
    *,
    mounting: str | None = None,
    lift: str = "deadlift",
    hyperextension_deg: float | None = None,
    flexion_limit_deg: float | None = None,
    set_rest_s: float | None = None,
    rest_pause_s: float | None = None,
    sampling_rate_hz: float | None = None,
) -> EngineSettings:
    """Engine settings for the measurement options; None = the lift preset's value
    (:data:`imu.pipeline.lifts.LIFTS`: all the settings a lift changes)."""
    given = {
        "hyperextension_deg": hyperextension_deg,
        "flexion_limit_deg": flexion_limit_deg,
        "set_rest_s": set_rest_s,
        "rest_pause_s": rest_pause_s,
    }
    overrides = {name: value for name, value in given.items() if value is not None}
    for name, value in overrides.items():
        low, high, meaning = LIMITS[name]
        if not (math.isfinite(value) and low <= value <= high):
            option = "--" + name.replace("_", "-")
            raise input_error(
                f"{option} must be {meaning} between {low:g} and {high:g}, got {value}"
            )
    preset = lift_preset(lift)
    return EngineSettings(
        calibration=CalibrationSettings(mounting=mounting),
        orientation=preset.orientation,
        reps=replace(preset.reps, **overrides),
        sampling_rate_hz=sampling_rate_hz,
    )
