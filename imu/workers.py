"""Run a compiled kernel over parts of a long array on several cores (batch work only).

The kernels that loop over every sample of a recording (the CSV parser, the body angles)
are compiled with ``nogil=True``: while one runs, other Python threads may run too. For a
long input, :func:`run_parts` cuts the rows into contiguous parts, runs the first part in
the calling thread and the others in a small process-wide thread pool, and returns the
parts' results in order. Each part is computed by the same code as a single call would be,
so the results are the same bits; only the wall time changes.

Threads, not processes: the parts share the input arrays without copies. The pool is
created on first use, holds :func:`thread_count` - 1 threads and is dropped in a forked
child (its threads do not exist there). ``IMU_THREADS=1`` switches the parallel path off.
Live use never comes here: its chunks are far below ``min_rows``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import TypeVar

T = TypeVar("T")

MAX_THREADS = 4
"""Upper bound of threads used by one call (the gain of the memory-bound kernels flattens
beyond a few cores)."""

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()  # callers in several threads see one pool, never a closed one


def thread_count() -> int:
    """Threads a call may use: ``IMU_THREADS`` if set (>= 1), else the cores this process
    may run on, at most :data:`MAX_THREADS`."""
    setting = os.environ.get("IMU_THREADS", "").strip()
    if setting.isdigit() and int(setting) >= 1:
        return min(int(setting), 64)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def _pool(workers: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE < workers:  # grown on demand; an old pool is left
            # to finish what it was given (a caller in another thread may still submit)
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imu-kernel")
            _POOL_SIZE = workers
        return _POOL


def _forget_pool() -> None:
    global _POOL, _POOL_SIZE, _POOL_LOCK
    _POOL, _POOL_SIZE = None, 0
    _POOL_LOCK = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ``(start, stop)`` ranges covering ``range(n)``, sizes within one."""
    parts = max(1, min(parts, n)) if n else 1
    edges = [n * k // parts for k in range(parts + 1)]
    return list(pairwise(edges))


def run_parts(
    work: Callable[[int, int], T], n: int, *, min_rows: int, threads: int | None = None
) -> list[T]:
    """``[work(start, stop) for each part]`` of ``range(n)``: one part when ``n`` is below
    ``2 * min_rows`` or one thread is allowed, else up to :func:`thread_count` parts of at
    least ``min_rows`` run at the same time (``work`` must release the GIL to gain)."""
    threads = thread_count() if threads is None else threads
    parts = max(1, min(threads, n // max(1, min_rows)))
    ranges: Sequence[tuple[int, int]] = split(n, parts)
    if len(ranges) == 1:
        return [work(*ranges[0])]
    futures = [_pool(len(ranges) - 1).submit(work, *r) for r in ranges[1:]]
    first = work(*ranges[0])
    return [first, *(f.result() for f in futures)]
