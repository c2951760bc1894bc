"""GrowingArray: what is appended, in any form and any growth, is what the array holds."""

from __future__ import annotations

import numpy as np

from imu.pipeline.buffers import GrowingArray


def test_appends_in_every_form_hold_the_rows_in_order():
    rng = np.random.default_rng(5)
    buffer, want = GrowingArray(5, capacity=2), []
    for m in (1, 3, 0, 700, 2, 2500):  # beyond the capacity several times
        time_s, angles, rows = rng.normal(size=m), rng.normal(size=(m, 4))[:, 1:], np.arange(m)
        buffer.append(time_s, angles, rows)  # column blocks; angles a strided view
        want.append(np.column_stack([time_s, angles, rows]))
        whole = rng.normal(size=(m, 5))
        buffer.append(whole)  # whole rows
        want.append(whole)
        buffer.append_row(tuple(whole[0]) if m else (1.0, 2.0, 3.0, 4.0, 5.0))
        want.append(whole[:1] if m else np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))
    expected = np.concatenate(want)
    assert buffer.n == len(expected)
    assert buffer.array.tobytes() == expected.tobytes()
    buffer.drop_front(1000)
    assert buffer.array.tobytes() == expected[1000:].tobytes()


def test_one_column_buffer_takes_flat_and_column_blocks():
    buffer = GrowingArray(1)
    buffer.append(np.arange(3.0))
    buffer.append(np.arange(2.0)[:, None])
    assert buffer.array.ravel().tolist() == [0.0, 1.0, 2.0, 0.0, 1.0]
