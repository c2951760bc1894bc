"""``--record FILE``: the raw samples, as received, to a canonical session CSV.

Delegates to :class:`imu.session.SessionWriter` (the one writer of the format), which
flushes and fsyncs at least once a second: after ``kill -9`` the file loads with at
most the last second missing. The first sample after a link loss or lost packets has
``gap`` = 1.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from imu.session import SessionWriter
from imu.sinks.base import Sink


class Recorder(Sink):
    """Writes every received sample; ``metadata`` becomes the file's ``# key: value`` lines."""

    def __init__(
        self,
        path: str | os.PathLike,
        metadata: dict[str, Any],
        *,
        force: bool = False,
        sync_interval_s: float = 1.0,
    ) -> None:
        self._writer = SessionWriter(path, metadata, force=force, sync_interval_s=sync_interval_s)
        self.path = self._writer.path
        self.n_samples = 0

    def on_samples(self, samples: np.ndarray, gap_before: bool) -> None:
        self._writer.append(samples, gap_before=gap_before)
        self.n_samples += len(samples)

    def outputs(self) -> dict[str, str]:
        return {"recording": str(self.path)}

    def close(self, summary: dict[str, Any]) -> None:
        self._writer.close()
