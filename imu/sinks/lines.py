"""``--no-display``: one plain line per event on stdout, for piping and logs."""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

from imu.sinks.base import Sink


def fmt(value: Any, spec: str) -> str:
    """``format(value, spec)``; ``?`` when the value is missing or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "?"
    return format(value, spec)


def _num(value: Any, digits: int = 1) -> str:
    return fmt(value, f".{digits}f")


def describe(event: dict[str, Any], origin_s: float = 0.0) -> str:
    """One human line for an event: ``t=12.3 s  rep 1.3  peak flexion 54.2 deg ...``.

    Times are shown as ``t`` seconds after ``origin_s`` (the session's first sample).
    """
    kind = event.get("type", "?")

    def at(key: str) -> str:
        value = event.get(key)
        return _num(None if value is None else value - origin_s)

    if kind == "rep":
        flags = []
        if event.get("rounded"):
            flags.append(f"ROUNDED (p={_num(event.get('p_rounded'), 2)})")
        if event.get("hyperextended"):
            flags.append("HYPEREXTENDED")
        verdict = ", ".join(flags) if flags else "ok"
        return (
            f"t={at('end_s')} s  rep {event.get('set')}.{event.get('rep')}  "
            f"peak flexion {_num(event.get('peak_flexion_deg'))} deg  "
            f"lockout {_num(event.get('lockout_extension_deg'))} deg  "
            f"descent {_num(event.get('descent_s'), 2)} s  ascent {_num(event.get('ascent_s'), 2)} s  "
            f"{verdict}"
        )
    if kind == "set":
        return (
            f"t={at('end_s')} s  set {event.get('set')} done: {event.get('n_reps')} reps, "
            f"flexion drift {_num(event.get('flexion_drift_deg'))} deg"
        )
    if kind == "alert":
        return f"t={at('time_s')} s  ALERT {event.get('kind')}: {event.get('message', '')}"
    if kind == "alert_withdrawn":
        return f"t={at('time_s')} s  alert withdrawn: {event.get('message', '')}"
    if kind == "gap":
        return f"t={at('end_s')} s  gap of {_num(event.get('duration_s'), 2)} s in the data" + (
            " (state restarted)" if event.get("restarted") else ""
        )
    if kind == "calibration":
        state = "ok" if event.get("ok") else "FAILED"
        when = "" if event.get("time_s") is None else f"t={at('time_s')} s  "  # none if failed
        detail = str(event.get("message", ""))
        for said in ("calibration failed: ", "calibrated: "):  # the state says it already
            detail = detail.removeprefix(said)
        return f"{when}calibration {state}: {detail}"
    if kind in ("connected", "disconnected"):
        what = "reconnected" if event.get("reconnect") else kind
        reason = f" ({event['reason']})" if event.get("reason") else ""
        return f"{what} {event.get('device', '')}".rstrip() + reason
    return f"{kind}: {event}"


class SessionClock:
    """The session's first sample time, for showing event times from zero."""

    def __init__(self) -> None:
        self.origin_s: float | None = None

    def see(self, samples: Any) -> None:
        if self.origin_s is None and len(samples):
            self.origin_s = float(samples[0, 0])

    def describe(self, event: dict[str, Any]) -> str:
        return describe(event, self.origin_s or 0.0)


class LineOutput(Sink):
    """Writes :func:`describe` of every event, flushed line by line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._clock = SessionClock()
        self._reader_gone = False

    def on_samples(self, samples: Any, gap_before: bool) -> None:
        self._clock.see(samples)

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def on_event(self, event: dict[str, Any]) -> None:
        self._print(self._clock.describe(event))

    def close(self, summary: dict[str, Any]) -> None:
        for line in summary_lines(summary):
            self._print(line)

    def _print(self, line: str) -> None:
        """Print and flush; when the reader has gone (``| head``), raise once (the runner
        then closes the other sinks and the CLI exits quietly) and stay silent after."""
        if self._reader_gone:
            return
        try:
            print(line, file=self.stream, flush=True)
        except BrokenPipeError:
            self._reader_gone = True
            raise


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The end-of-session summary as a few lines (shared by line output and display)."""
    lines = [
        (
            f"session {summary.get('ended_by', 'ended')}: {_num(summary.get('duration_s'))} s, "
            f"{summary.get('n_samples', 0)} samples, {summary.get('n_reps', 0)} reps in "
            f"{summary.get('n_sets', 0)} sets, {summary.get('n_flagged', 0)} flagged, "
            f"{summary.get('n_alerts', 0)} alerts, {summary.get('n_gaps', 0)} gaps"
        )
    ]
    if summary.get("n_disconnects"):
        lines.append(
            f"link lost {summary['n_disconnects']} time(s), reconnected each time it came back"
        )
    if summary.get("recording"):
        lines.append(f"recording: {summary['recording']}")
    if summary.get("events_file"):
        lines.append(f"events: {summary['events_file']}")
    return lines
