"""A growable 2-D float array: the pipeline's append-only history buffers."""

from __future__ import annotations

import numpy as np


class GrowingArray:
    """Rows appended in amortised O(1); ``array`` is a view of the rows so far."""

    def __init__(self, width: int, capacity: int = 1024) -> None:
        self._data = np.empty((capacity, width))
        self.n = 0

    def append(self, *blocks: np.ndarray) -> None:
        """Append m rows: one (m, width) array, or column blocks ((m,) or (m, k)) side by side."""
        m = len(blocks[0])
        if not m:
            return
        if self.n + m > len(self._data):
            grown = np.empty((2 * (self.n + m), self._data.shape[1]))
            grown[: self.n] = self._data[: self.n]
            self._data = grown
        rows = slice(self.n, self.n + m)
        if len(blocks) == 1:  # whole rows: one copy (contiguous for a C-ordered block)
            self._data[rows] = np.asarray(blocks[0]).reshape(m, -1)
        else:  # column by column: numpy copies a strided (m, k) block ~3x slower
            columns = (c for b in blocks for c in np.asarray(b).reshape(m, -1).T)
            for column, values in enumerate(columns):
                self._data[rows, column] = values
        self.n += m

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
