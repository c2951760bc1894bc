"""The live screen (rich): flexion gauge, rep and set counters, verdicts, link quality.

Layout, refreshed a few times a second::

    imu live - WT901BLE67 (C4:..)          streaming  99.8 of 100 Hz  lost 0  drops 0
    calibration ok (quality 0.93, mounting PZPYNX)
    flexion   -20 [##############.......|.......] 100   54 deg   limit 60 deg
    set 2   rep 3   flagged 1
    last rep 2.3   peak 71 deg  lockout -3 deg  descent 1.20 s  ascent 0.90 s   OK
    set 1 done     5 reps  tempo trend +0.05 s/rep  flexion drift +2.1 deg
    !! rep 2.3: rep looks rounded (p = 0.81)                      (shown for 4 s)
    recent events ...

Everything shown comes from events, angles and the source status; the display keeps
no state the engine does not give it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import numpy as np

from imu.sinks.base import Sink
from imu.sinks.lines import SessionClock, fmt, summary_lines

GAUGE_MIN_DEG = -30.0
GAUGE_MAX_DEG = 110.0
GAUGE_WIDTH = 28
ALERT_SHOWN_S = 4.0


def gauge(flexion_deg: float | None, limit_deg: float | None, width: int = GAUGE_WIDTH) -> str:
    """A text bar from GAUGE_MIN_DEG to GAUGE_MAX_DEG: ``#`` up to the flexion, ``|`` at the limit."""

    def cell(deg: float) -> int:
        span = GAUGE_MAX_DEG - GAUGE_MIN_DEG
        return round((min(max(deg, GAUGE_MIN_DEG), GAUGE_MAX_DEG) - GAUGE_MIN_DEG) / span * width)

    filled = 0 if flexion_deg is None else cell(flexion_deg)
    bar = ["#"] * filled + ["."] * (width - filled)
    if limit_deg is not None:
        bar[min(cell(limit_deg), width - 1)] = "|"
    return "".join(bar)


class Display(Sink):
    """A rich ``Live`` view of the session; on close, the summary stays on screen."""

    def __init__(
        self,
        title: str,
        *,
        flexion_limit_deg: float | None = None,
        console: Any = None,
        refresh_per_second: float = 8.0,
    ) -> None:
        from rich.console import Console
        from rich.live import Live

        self.title = title
        self.flexion_limit_deg = flexion_limit_deg
        self.console = console if console is not None else Console()
        self._clock = SessionClock()
        self.flexion_deg: float | None = None
        self.calibration: str = "waiting: stand upright and still for 2 s, then bend forward"
        self.status: dict[str, Any] = {}
        self.n_reps = 0
        self.n_flagged = 0
        self.set_number = 1
        self.rep_in_set = 0
        self.n_sets = 0
        self.last_rep: dict[str, Any] | None = None
        self.last_set: dict[str, Any] | None = None
        self.alert: tuple[float, str] | None = None
        self.recent: deque[str] = deque(maxlen=5)
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=refresh_per_second,
            transient=False,
        )
        self._live.start()

    # --- sink interface ---------------------------------------------------------------
    def on_samples(self, samples: np.ndarray, gap_before: bool) -> None:
        self._clock.see(samples)

    def on_angles(self, angles: np.ndarray) -> None:
        finite = angles[np.isfinite(angles[:, 1]), 1]
        if len(finite):
            self.flexion_deg = float(finite[-1])

    def on_status(self, status: dict[str, Any]) -> None:
        self.status = dict(status)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "calibration":
            self.calibration = (
                f"ok (quality {event.get('quality', 0):.2f}, mounting {event.get('mounting')})"
                if event.get("ok")
                else f"FAILED: {event.get('message', '')}"
            )
        elif kind == "rep":
            self.n_reps += 1
            self.n_flagged += bool(event.get("rounded") or event.get("hyperextended"))
            self.last_rep = event
            self.set_number = int(event.get("set") or self.set_number)
            self.rep_in_set = int(event.get("rep") or self.rep_in_set + 1)
        elif kind == "set":
            self.last_set = event
            self.n_sets += 1
            self.set_number = int(event.get("set") or 0) + 1
            self.rep_in_set = 0
        elif kind == "alert":
            where = f"rep {event['set']}.{event['rep']}: " if event.get("rep") else ""
            self.alert = (time.monotonic(), where + str(event.get("message", event.get("kind"))))
        elif kind == "alert_withdrawn":
            self.alert = (time.monotonic(), f"withdrawn: {event.get('message', '')}")
        elif kind == "disconnected":
            self.alert = (time.monotonic(), "sensor link lost: reconnecting, keep lifting")
        self.recent.append(self._clock.describe(event))

    def close(self, summary: dict[str, Any]) -> None:
        self._live.stop()
        self.console.print()
        for line in summary_lines(summary):
            self.console.print(line, highlight=False)

    # --- rendering --------------------------------------------------------------------
    def render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        lines = [
            Text(self._link_line()),
            Text(f"calibration {self.calibration}"),
            self._gauge_line(),
            Text(
                f"set {self.set_number}   rep {self.rep_in_set or '-'}      session: "
                f"{self.n_reps} reps, {self.n_sets} sets done, {self.n_flagged} flagged"
            ),
            self._rep_line(),
        ]
        if self.last_set is not None:
            s = self.last_set
            lines.append(
                Text(
                    f"set {s.get('set')} done: {s.get('n_reps')} reps, tempo trend "
                    f"{fmt(s.get('tempo_trend'), '+.2f')} s/rep, flexion drift "
                    f"{fmt(s.get('flexion_drift_deg'), '+.1f')} deg"
                )
            )
        if self.alert is not None and time.monotonic() - self.alert[0] < ALERT_SHOWN_S:
            lines.append(Text(f"!! {self.alert[1]}", style="bold white on red"))
        lines += [Text(line, style="dim") for line in self.recent]
        return Panel(Group(*lines), title=self.title, title_align="left")

    def _link_line(self) -> str:
        s = self.status
        if not s:
            return "starting"
        if s.get("state") == "replay":
            return f"replay {100 * s.get('progress', 0):.0f} %  ({fmt(s.get('rate_hz'), '.0f')} Hz)"
        text = (
            f"{s.get('state')}  {fmt(s.get('rate_hz'), '.1f')} of "
            f"{fmt(s.get('nominal_rate_hz'), 'g')} Hz  lost {s.get('lost_samples', 0)} samples  "
            f"link drops {s.get('disconnects', 0)}"
        )
        if s.get("attempt"):
            text += f"  (attempt {s['attempt']}, next in {s.get('retry_in_s', 0):.1f} s)"
        return text

    def _gauge_line(self) -> Any:
        from rich.text import Text

        over = (
            self.flexion_deg is not None
            and self.flexion_limit_deg is not None
            and self.flexion_deg > self.flexion_limit_deg
        )
        value = "--" if self.flexion_deg is None else f"{self.flexion_deg:4.0f}"
        limit = "" if self.flexion_limit_deg is None else f"  limit {self.flexion_limit_deg:g} deg"
        text = Text(f"flexion {GAUGE_MIN_DEG:g} ")
        text.append(
            gauge(self.flexion_deg, self.flexion_limit_deg), style="red" if over else "green"
        )
        text.append(f" {GAUGE_MAX_DEG:g}  {value} deg{limit}")
        return text

    def _rep_line(self) -> Any:
        from rich.text import Text

        rep = self.last_rep
        if rep is None:
            return Text("no rep yet")
        flags = [
            name
            for name, on in (
                ("ROUNDED", rep.get("rounded")),
                ("HYPEREXTENDED", rep.get("hyperextended")),
            )
            if on
        ]
        verdict = " ".join(flags) or "OK"
        p = rep.get("p_rounded")
        text = Text(
            f"last rep {rep.get('set')}.{rep.get('rep')}  peak {fmt(rep.get('peak_flexion_deg'), '.0f')} deg  "
            f"lockout {fmt(rep.get('lockout_extension_deg'), '.0f')} deg  "
            f"descent {fmt(rep.get('descent_s'), '.2f')} s  ascent {fmt(rep.get('ascent_s'), '.2f')} s"
            + (f"  p(rounded) {p:.2f}" if isinstance(p, float) and math.isfinite(p) else "")
            + "  "
        )
        text.append(verdict, style="bold red" if flags else "bold green")
        return text
