"""The pipeline's array helpers: GrowingArray (what is appended, in any form and any
growth, is what the array holds) and the kernels' C-ordered copies."""

from __future__ import annotations

import numpy as np

from imu.pipeline.buffers import GrowingArray
from imu.pipeline.orientation import c_ordered


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


def test_c_ordered_copies_any_layout_exactly():
    rng = np.random.default_rng(6)
    samples = np.asfortranarray(rng.normal(size=(50, 7)))  # the loaded samples' layout
    for block in (samples[:, 1:4], samples[::2, 4:7], np.ascontiguousarray(samples)[:, 1:4]):
        got = c_ordered(block)
        assert got.flags.c_contiguous and got.dtype == np.float64
        assert got.tobytes() == np.ascontiguousarray(block).tobytes()
    whole = np.ascontiguousarray(samples)
    assert c_ordered(whole) is whole  # already the kernels' layout: no copy
    assert c_ordered(np.arange(6).reshape(3, 2)).tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
