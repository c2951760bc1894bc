"""Alerts: when to warn the lifter (:class:`AlertPolicy`) and how (:class:`AlertSound`).

The policy turns the engine's output into ``alert`` events (docs/contracts.md):

- ``rounded`` / ``hyperextension``: once per flagged rep, right after its ``rep`` event;
- ``flexion_limit``: an early warning *during* a rep, the moment flexion passes the
  lifter's limit. Hysteresis and a cooldown keep it from nagging: after firing it
  re-arms only once flexion has come back below ``limit - rearm_margin_deg`` and
  ``cooldown_s`` has passed (industrial back wearables alert at 60 deg and re-arm below
  50 deg; see /work/shared/notes/domain.md).

Visible cues are the display's and the line output's job (they see the same events);
:class:`AlertSound` makes the audible one.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from imu.errors import ImuError
from imu.sinks.base import Sink


@dataclass(frozen=True)
class AlertSettings:
    """``flexion_limit_deg`` None disables the early warning."""

    flexion_limit_deg: float | None = None
    rearm_margin_deg: float = 10.0
    cooldown_s: float = 5.0


class AlertPolicy:
    """Stateful: feed it each step's angles and events, in order; it returns alert events."""

    def __init__(self, settings: AlertSettings = AlertSettings()) -> None:
        self.settings = settings
        self._armed = True
        self._last_fired_s = -np.inf

    def on_angles(self, angles: np.ndarray) -> list[dict[str, Any]]:
        """Early warnings for ``(n, 4)`` angles ``[time_s, flexion_deg, ...]``."""
        limit = self.settings.flexion_limit_deg
        if limit is None or len(angles) == 0:
            return []
        alerts = []
        rearm_below = limit - self.settings.rearm_margin_deg
        for time_s, flexion_deg in angles[:, :2]:
            if not np.isfinite(flexion_deg):
                continue
            if not self._armed:
                if (
                    flexion_deg < rearm_below
                    and time_s - self._last_fired_s >= self.settings.cooldown_s
                ):
                    self._armed = True
                continue
            if flexion_deg > limit:
                self._armed = False
                self._last_fired_s = float(time_s)
                alerts.append(
                    {
                        "type": "alert",
                        "kind": "flexion_limit",
                        "time_s": float(time_s),
                        "set": None,
                        "rep": None,
                        "flexion_deg": round(float(flexion_deg), 1),
                        "message": f"flexion {flexion_deg:.0f} deg passed your limit of {limit:g} deg",
                    }
                )
        return alerts

    def on_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Alerts caused by one engine event (a flagged rep)."""
        if event.get("type") != "rep":
            return []
        where = f"rep {event.get('set')}.{event.get('rep')}"
        alerts = []
        if event.get("rounded"):
            p = event.get("p_rounded")
            detail = f" (p={p:.2f})" if isinstance(p, float) else ""
            alerts.append(("rounded", f"{where}: rounded back{detail}"))
        if event.get("hyperextended"):
            lockout = event.get("lockout_extension_deg")
            detail = f" ({lockout:.0f} deg at lockout)" if isinstance(lockout, float) else ""
            alerts.append(("hyperextension", f"{where}: hyperextended at lockout{detail}"))
        return [
            {
                "type": "alert",
                "kind": kind,
                "time_s": event.get("end_s"),
                "set": event.get("set"),
                "rep": event.get("rep"),
                "message": message,
            }
            for kind, message in alerts
        ]


class AlertSound(Sink):
    """The audible cue: the terminal bell, or ``command`` run without waiting for it.

    ``command`` (``--alert-command``) is split like a shell command line but not run
    through a shell; ``{kind}`` in it is replaced by the alert kind. Children are reaped
    as they finish; a command that fails to start is reported once, then skipped.
    """

    def __init__(self, command: str | None = None, terminal: TextIO | None = None) -> None:
        self.command = shlex.split(command) if command else None
        if self.command is not None and shutil.which(self.command[0]) is None:
            raise ImuError(f"--alert-command: '{self.command[0]}' not found (give a full path?)")
        self._terminal = terminal
        self._children: list[subprocess.Popen] = []
        self._failed = False
        self.n_cues = 0

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") != "alert":
            return
        self.n_cues += 1
        self._children = [c for c in self._children if c.poll() is None]
        if self.command is None:
            terminal = self._terminal if self._terminal is not None else sys.stderr
            terminal.write("\a")
            terminal.flush()
            return
        if self._failed:
            return
        argv = [part.replace("{kind}", str(event.get("kind"))) for part in self.command]
        try:
            self._children.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        except OSError as exc:
            print(f"imu: alert command failed ({exc}); alerts stay silent", file=sys.stderr)
            self._failed = True

    def close(self, summary: dict[str, Any]) -> None:
        for child in self._children:
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                child.kill()
