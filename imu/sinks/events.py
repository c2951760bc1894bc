"""``--events FILE``: every event as one JSON object per line (JSON Lines)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from imu.errors import input_error
from imu.sinks.base import Sink, json_safe


class EventLog(Sink):
    """Appends each event as one JSON line and flushes it, so ``tail -f`` sees it at once.

    A ``rep`` line carries the same fields as a rep in ``imu analyze --json``; NaN becomes
    ``null``. The file is created fresh; an existing file is an error unless ``force``.
    """

    def __init__(self, path: str | os.PathLike, *, force: bool = False) -> None:
        self.path = Path(path)
        try:
            self._handle = open(  # noqa: SIM115 - open for the session's lifetime
                self.path, "w" if force else "x", encoding="utf-8"
            )
        except FileExistsError:
            raise input_error("exists already (use --force to overwrite)", path=str(path)) from None
        except OSError as exc:
            raise input_error(f"cannot write ({exc.strerror})", path=str(path)) from None

    def on_event(self, event: dict[str, Any]) -> None:
        self._handle.write(json.dumps(json_safe(event), allow_nan=False) + "\n")
        self._handle.flush()

    def outputs(self) -> dict[str, str]:
        return {"events_file": str(self.path)}

    def close(self, summary: dict[str, Any]) -> None:
        if not self._handle.closed:
            self._handle.close()
