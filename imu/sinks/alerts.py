"""The audible cue for ``alert`` events.

The engine decides *when* to alert (docs/contracts.md): ``rounded`` / ``hyperextension``
once per flagged rep, right after its ``rep`` event, and ``flexion_limit`` the moment
flexion passes the lifter's limit mid-rep, re-armed only once flexion is back
``flexion_limit_rearm_deg`` below it (hysteresis; industrial back wearables alert at
60 deg and re-arm below 50 deg, /work/shared/notes/domain.md). Visible cues are the
display's and the line output's job (they see the same events). :class:`AlertSound`
adds a cooldown on top, so a lifter hovering around the limit never hears a stream of
beeps.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from typing import Any, TextIO

from imu.errors import ImuError
from imu.sinks.base import Sink


class AlertSound(Sink):
    """The audible cue: the terminal bell, or ``command`` run without waiting for it.

    ``command`` (``--alert-command``) is split like a shell command line but not run
    through a shell; ``{kind}`` in it is replaced by the alert kind. Children are reaped
    as they finish; a command that fails to start is reported once, then skipped.
    A ``flexion_limit`` cue is skipped when another cue sounded less than
    ``cooldown_s`` ago (wall clock); flagged-rep cues always sound.
    """

    def __init__(
        self,
        command: str | None = None,
        terminal: TextIO | None = None,
        *,
        cooldown_s: float = 3.0,
    ) -> None:
        self.command = shlex.split(command) if command else None
        if self.command is not None and shutil.which(self.command[0]) is None:
            raise ImuError(f"--alert-command: '{self.command[0]}' not found (give a full path?)")
        self._terminal = terminal
        self._children: list[subprocess.Popen] = []
        self._failed = False
        self.cooldown_s = cooldown_s
        self._last_cue = -float("inf")
        self.n_cues = 0

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") != "alert":
            return
        now = time.monotonic()
        if event.get("kind") == "flexion_limit" and now - self._last_cue < self.cooldown_s:
            return
        self._last_cue = now
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
