"""A growable 2-D float array: the pipeline's append-only history buffers."""

from __future__ import annotations

import numpy as np


class GrowingArray:
    """Rows appended in amortised O(1); ``array`` is a view of the rows so far."""

    def __init__(self, width: int, capacity: int = 1024) -> None:
        self._data = np.empty((capacity, width))
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        """Append (m, width) rows."""
        if self.n + len(rows) > len(self._data):
            grown = np.empty((2 * (self.n + len(rows)), self._data.shape[1]))
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        self._data[self.n : self.n + len(rows)] = rows
        self.n += len(rows)

    def append_row(self, values: tuple[float, ...]) -> None:
        """Append one row given as plain floats (the per-sample fast path)."""
        if self.n == len(self._data):
            self.append(np.asarray([values], dtype=np.float64))
            return
        self._data[self.n] = values
        self.n += 1

    def drop_front(self, k: int) -> None:
        """Forget the first ``k`` rows."""
        kept = self.n - k
        self._data[:kept] = self._data[k : self.n].copy()
        self.n = kept

    @property
    def array(self) -> np.ndarray:
        return self._data[: self.n]
