"""The live screen (rich): flexion gauge, rep and set counters, verdicts, link quality.

Above the panel, the session log scrolls: every calibration, rep, set, alert and gap
as one line (:mod:`imu.sinks.lines`, the very lines ``--no-display`` prints, in the same
order), so no rep leaves the screen before the terminal's scrollback does. The panel
below it is redrawn a few times a second::

    0:52.8  rep 1.1  peak flexion 50.5 deg  lockout 1.8 deg  ...  good (p=0.00 < 0.15)
    0:56.1  rep 1.2  ...
    ╭ imu live - WT901BLE67 (C4:..) ──────────────────────────────────────────────╮
    │ streaming  99.8 of 100 Hz  lost 0 samples  link lost 0 times                 │
    │ calibration ok: mounting PZPYNX (quality 0.93)                               │
    │ flexion -30 ##############.......|....... 110    54 deg  limit 60 deg        │
    │ set 2, rep 3 in progress    session: 8 reps, 1 set done, 2 flagged           │
    │ last rep 2.3  peak 71 deg  lockout -3 deg  ...  good (p=0.05 < 0.15)         │
    │ set 1 done: 5 reps, 1 flagged (1 rounded, 0 hyperextended), ...              │
    │ !! 1:02.3  ALERT rep 2.3 rounded (p=0.81 ≥ 0.15)         (shown for 4 s)      │
    ╰──────────────────────────────────────────────────────────────────────────────╯

A replay's first line says where it is, as the log stamps its lines: ``replay 1:06.6 of
2:16.5 (49 %)  speed 4x  100 Hz``. A line too long for the panel (an alert, the last
set) is folded as the log folds it, the rest under the text after its time stamp.

Everything shown comes from events, angles and the source status; the display keeps
no state the engine does not give it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from imu.fileio import reader_went_away
from imu.sinks.base import Sink
from imu.sinks.lines import (
    ALERTS,
    SessionLog,
    calibration_detail,
    describe,
    fmt,
    fold,
    mounting_text,
    rep_verdict,
    set_text,
    summary_lines,
)
from imu.text import Timeline, clock, is_flagged, plural, times

GAUGE_MIN_DEG = -30.0
GAUGE_MAX_DEG = 110.0
GAUGE_WIDTH = 28
ALERT_SHOWN_S = 4.0
PANEL_BORDER = 4
"""Columns the panel's frame and padding take from the terminal's width."""


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
    """A rich ``Live`` panel under the scrolling session log; on close, the summary stays."""

    def __init__(
        self,
        title: str,
        *,
        flexion_limit_deg: float | None = None,
        console: Any = None,
        refresh_per_second: float = 8.0,
        timeline: Timeline | None = None,
        threshold: float | None = None,
        whole_lines: bool | None = None,
    ) -> None:
        """``whole_lines``: the log's lines and the summary unfolded, as ``--no-display``
        writes them (None: when the console is not a terminal, a file or a pipe: rich
        takes those as 80 columns wide, and a grep found half a line)."""
        from rich.console import Console
        from rich.live import Live

        self.title = title
        self.flexion_limit_deg = flexion_limit_deg
        self.console = console if console is not None else Console()
        if whole_lines is None:
            whole_lines = not self.console.is_terminal
        self.log = SessionLog(
            timeline, threshold, (lambda: None) if whole_lines else (lambda: self.console.width)
        )
        self.flexion_deg: float | None = None
        self.calibration: str = "waiting: stand still 2 s, then bend forward, or start your reps"
        self.status: dict[str, Any] = {}
        self.n_reps = 0
        self.n_flagged = 0
        self.set_number = 1
        self.rep_in_set = 0
        self.n_sets = 0
        self.ended = False
        self.last_rep: dict[str, Any] | None = None
        self.last_set: dict[str, Any] | None = None
        self.alert: tuple[float, str] | None = None
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=refresh_per_second,
            transient=False,
        )
        self._live.start()

    # --- sink interface ---------------------------------------------------------------
    def on_samples(self, samples: np.ndarray, gap_before: bool) -> None:
        self._write(self.log.see(samples))

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
                f"{'revised' if event.get('revised') else 'ok'}: {mounting_text(event)}"
                if event.get("ok")
                else f"FAILED: {calibration_detail(event.get('message'))}"
            )
        elif kind == "rep":
            self.n_reps += 1
            self.n_flagged += is_flagged(event)
            self.last_rep = event
            self.set_number = int(event.get("set") or self.set_number)
            self.rep_in_set = int(event.get("rep") or self.rep_in_set + 1)
        elif kind == "set":
            self.last_set = {**event, "n_flagged": self.log.flagged_in(event.get("set"))}
            self.n_sets += 1
            self.set_number = int(event.get("set") or 0) + 1
            self.rep_in_set = 0
        elif kind in ALERTS:
            self.alert = (time.monotonic(), describe(event, self.log.timeline, self.log.threshold))
        elif kind == "alert_withdrawn":
            self.alert = (time.monotonic(), f"withdrawn: {event.get('message', '')}")
        elif kind == "disconnected":
            self.alert = (time.monotonic(), "sensor link lost: reconnecting, keep lifting")
        self._write(self.log.lines(event))

    def close(self, summary: dict[str, Any]) -> None:
        self._write(self.log.flush())
        self.ended = True
        self.alert = None
        with self._terminal_gone():
            self._live.stop()
            self.console.print()
            for line in self.log.fitted(summary_lines(summary, self.log.timeline)):
                self.console.print(line, highlight=False, markup=False, soft_wrap=True)  # fitted

    def _write(self, lines: list[str]) -> None:
        """Lines of the session log, printed above the panel (they scroll, it stays)."""
        with self._terminal_gone():
            for line in lines:
                self._live.console.print(line, highlight=False, markup=False, soft_wrap=True)

    @contextlib.contextmanager
    def _terminal_gone(self) -> Iterator[None]:
        """A terminal that hung up (EIO) is a reader gone, as rich takes a closed pipe:
        the console goes quiet and the runner ends the session (``BrokenPipeError``)."""
        try:
            yield
        except OSError as exc:
            if not reader_went_away(exc) or isinstance(exc, BrokenPipeError):
                raise
            self.console.quiet = True
            raise BrokenPipeError(exc.errno, exc.strerror) from exc

    # --- rendering --------------------------------------------------------------------
    def render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        lines = [
            Text(self._link_line()),
            Text(f"calibration {self.calibration}"),
            self._gauge_line(),
            Text(self._progress_line()),
            self._rep_line(),
        ]
        if self.last_set is not None:
            lines.append(Text(self._set_line()))
        if self.alert is not None and time.monotonic() - self.alert[0] < ALERT_SHOWN_S:
            inside = self.console.width - PANEL_BORDER  # folded as the log folds its lines
            alert = "\n".join(fold(f"!! {self.alert[1]}", inside))
            lines.append(Text(alert, style="bold white on red"))
        return Panel(Group(*lines), title=self.title, title_align="left")

    def _progress_line(self) -> str:
        """Where the lifter is: in a set, between sets, or (at the end) the totals."""
        done = (
            f"{plural(self.n_reps, 'rep')}, {plural(self.n_sets, 'set')} done, "
            f"{self.n_flagged} flagged"
        )
        if self.ended:
            return f"session over: {done}"
        if self.rep_in_set:
            return f"set {self.set_number}, rep {self.rep_in_set} done    session: {done}"
        if self.n_reps:
            return f"between sets    session: {done}"
        return "before the first set"  # the rep line below says "no rep yet"

    def _set_line(self) -> str:
        """The last set, folded as in the log to the panel's inside."""
        inside = self.console.width - PANEL_BORDER
        return "\n".join(fold(set_text(self.last_set or {}), inside))

    def _link_line(self) -> str:
        s = self.status
        if not s:
            return "starting"
        if s.get("state") == "replay":  # where the replay is, as the log stamps its lines
            timeline = self.log.timeline
            at = timeline.at(self.log.now_s) if self.log.now_s is not None else clock(0.0)
            speed = s.get("speed")
            pace = "fast" if speed is None else f"speed {speed:g}x"
            return (f"replay {at} of {clock(s.get('duration_s'))} "
                    f"({100 * s.get('progress', 0):.0f} %)  {pace}  "
                    f"{fmt(s.get('rate_hz'), '.0f')} Hz")
        drops = int(s.get("disconnects") or 0)
        losses = (f"lost {plural(int(s.get('lost_samples') or 0), 'sample')}  link lost "
                  f"{times(drops)}")  # the summary's words
        if s.get("decode_errors"):
            losses += f"  unreadable {s['decode_errors']}"
        if s.get("attempt"):  # the rate is 0 while the link is down: when it tries again
            retry = f"(attempt {s['attempt']}, next in {s.get('retry_in_s', 0):.1f} s)"
            return f"{s.get('state')} {retry}  {losses}"
        rate = f"{fmt(s.get('rate_hz'), '.1f')} of {fmt(s.get('nominal_rate_hz'), 'g')} Hz"
        return f"{s.get('state')}  {rate}  {losses}"

    def _gauge_line(self) -> Any:
        from rich.text import Text

        over = (
            self.flexion_deg is not None
            and self.flexion_limit_deg is not None
            and self.flexion_deg > self.flexion_limit_deg
        )
        value = "--" if self.flexion_deg is None else fmt(self.flexion_deg, "4.0f")
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
        verdict = rep_verdict(rep, self.log.threshold)
        head = (f"last rep {rep.get('set')}.{rep.get('rep')}  "
                f"peak {fmt(rep.get('peak_flexion_deg'), '.0f')} deg  "
                f"lockout {fmt(rep.get('lockout_extension_deg'), '.0f')} deg  ")
        tempo = (f"descent {fmt(rep.get('descent_s'), '.2f')} s  "
                 f"ascent {fmt(rep.get('ascent_s'), '.2f')} s  ")
        inside = self.console.width - PANEL_BORDER  # a narrow terminal: no wrapped verdict
        text = Text(head + (tempo if len(head + tempo + verdict) <= inside else ""))
        text.append(verdict, style="bold red" if is_flagged(rep) else "bold green")
        return text
