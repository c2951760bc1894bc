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


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats as None and numpy scalars as Python numbers (for JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
