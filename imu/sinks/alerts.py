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
from imu.fileio import is_terminal
from imu.sinks.base import Sink

SHELL_OPERATORS = frozenset("|&;<>()")


def command_words(command: str) -> list[str]:
    """``--alert-command`` as words (shell-like quoting), refusing shell syntax.

    >>> command_words("paplay '/tmp/a b.oga'")
    ['paplay', '/tmp/a b.oga']
    """
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as exc:
        raise ImuError(f"--alert-command: {exc} in {command!r}") from None
    operators = [w for w in words if w and set(w) <= SHELL_OPERATORS]
    if operators:
        raise ImuError(
            f"--alert-command is not run through a shell, so {operators[0]!r} would not work; "
            f"give --alert-command \"sh -c '...'\" for a shell line"
        )
    if not words:
        raise ImuError("--alert-command is empty")
    return words


class AlertSound(Sink):
    """The audible cue: the terminal bell, or ``command`` run without waiting for it.

    The bell goes to ``terminal`` (default stderr) only when it is a terminal: a log or
    a pipe never gets ``\\a`` characters. With ``console`` (the live display's rich
    console) on a terminal, the bell goes through it instead: while rich's ``Live`` runs it
    catches writes to stderr and prints each as a log line, so a bare ``\\a`` there became
    a blank line under every alert. ``command`` (``--alert-command``) is split into
    words like a shell command line but not run through a shell, so shell syntax
    (``>``, ``|``, ``;``, ``&&``, ...) is refused with a one-line error instead of being
    passed on as words (``sh -c '...'`` runs a shell line); ``{kind}`` in it is replaced
    by the alert kind. Children are reaped as they finish, their output is discarded;
    a command that fails to start is reported once, then skipped.
    A ``flexion_limit`` cue is skipped when another cue sounded less than
    ``cooldown_s`` ago (wall clock); flagged-rep cues always sound.
    """

    def __init__(
        self,
        command: str | None = None,
        terminal: TextIO | None = None,
        *,
        console: Any = None,
        cooldown_s: float = 3.0,
    ) -> None:
        self.command = command_words(command) if command else None
        if self.command is not None and shutil.which(self.command[0]) is None:
            raise ImuError(f"--alert-command: '{self.command[0]}' not found (give a full path?)")
        self._terminal = terminal
        self._console = console
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
            self._ring()
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

    def _ring(self) -> None:
        if self._console is not None and self._console.is_terminal:
            self._console.bell()  # a control code in the console's output: no line
            return
        terminal = self._terminal if self._terminal is not None else sys.stderr
        if is_terminal(terminal):
            terminal.write("\a")
            terminal.flush()

    def close(self, summary: dict[str, Any]) -> None:
        for child in self._children:
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                child.kill()
