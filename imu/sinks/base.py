"""The sink interface: what the live/replay runner hands to display, alerts and files.

A sink receives, in stream order, the raw samples of each batch, the angles the engine
computed for them and the events (``calibration``, ``rep``, ``set``, ``alert``, ``gap``,
``connected``, ``disconnected``; docs/contracts.md), then :meth:`Sink.close` once with
the session summary. Sinks never reach into the engine or the source; every method has
a no-op default so a sink overrides only what it uses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class Sink:
    """Base class of every consumer of a running session."""

    def on_samples(self, samples: np.ndarray, gap_before: bool) -> None:
        """Raw ``(n, 7)`` samples as received (canonical units, session clock)."""

    def on_angles(self, angles: np.ndarray) -> None:
        """``(n, 4)`` ``[time_s, flexion_deg, lateral_bend_deg, twist_deg]`` (NaN before calibration)."""

    def on_event(self, event: dict[str, Any]) -> None:
        """One event dict with a ``type`` (docs/contracts.md)."""

    def on_status(self, status: dict[str, Any]) -> None:
        """Source status (link state, rate received, losses), at most a few times a second."""

    def outputs(self) -> dict[str, str]:
        """Files this sink writes, for the session summary (e.g. ``{"recording": path}``)."""
        return {}

    def close(self, summary: dict[str, Any]) -> None:
        """The session ended (normally, by Ctrl-C or by an error); ``summary`` describes it."""


DECIMALS_BY_SUFFIX = (("_deg_s", 3), ("_deg", 3), ("_s", 6))
"""Decimals a float keeps in JSON, by the end of its key: times and durations to 1 us (the
session format's time resolution), angles and angular speeds to 0.001 deg (far below any
IMU's accuracy); other floats (probabilities, qualities, trends) to :data:`DECIMALS`.
Only digits below the resolution go (``1.8500000000058208`` -> ``1.85``)."""
DECIMALS = 6


def decimals_for(key: str) -> int:
    """Decimals kept in JSON for a float under ``key`` (:data:`DECIMALS_BY_SUFFIX`)."""
    for suffix, digits in DECIMALS_BY_SUFFIX:
        if key.endswith(suffix):
            return digits
    return DECIMALS


def json_safe(value: Any, key: str = "") -> Any:
    """``value`` for JSON: NaN/inf floats as None, numpy scalars as Python numbers, floats
    rounded to the resolution of what they measure (:func:`decimals_for` of their key;
    a list's items take the list's key)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, key) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist(), key)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return round(value, decimals_for(key)) if math.isfinite(value) else None
    return value
