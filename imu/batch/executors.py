"""Where the work of a batch runs: this process, a local process pool, a Dask cluster.

Each executor runs ``fn(*args)`` for a list of argument tuples and yields
``(index, result)`` as results arrive, in any order; the caller puts them in order. At
most a few tasks per worker are in flight at once, so memory does not grow with the
number of recordings and an interruption loses only those. ``fn`` must be a module-level
function (shipped by reference) whose worker-side setup is cached per process, as
:func:`imu.batch.work.run_recording` does.

- :class:`InProcess` (``jobs=1``): no other process at all.
- :class:`LocalPool` (``jobs=N``): ``concurrent.futures.ProcessPoolExecutor`` with
  ``forkserver`` workers started from a server that has imported imu, numpy and pandas
  once (no fork of a process running threads).
- :class:`DaskCluster` (``scheduler=ADDRESS``): a ``distributed.Client`` connected to an
  existing scheduler; a task whose worker died is retried by the scheduler on another
  worker (Dask's ``distributed.scheduler.allowed-failures``), then ``on_lost`` gives its
  result.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from imu.errors import ImuError, input_error

Task = Callable[..., Any]
Lost = Callable[[tuple, BaseException], Any]
"""``on_lost(args, exception)``: the result of a task that could not run (its worker died)."""

IN_FLIGHT_PER_WORKER = 4
PRELOAD = ("imu.batch.work", "imu.pipeline", "imu.importers.canonical", "imu.model.dataset")
"""Modules the fork server imports once for all workers (numpy, pandas, numba with them)."""


class Executor(Protocol):
    """What every executor offers (module docstring)."""

    workers: int
    """Tasks it runs at once."""

    def map_unordered(
        self, fn: Task, items: Sequence[tuple], on_lost: Lost
    ) -> Iterator[tuple[int, Any]]: ...

    def close(self) -> None: ...


def default_jobs() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class InProcess:
    """Run every task in this process, in order."""

    workers = 1

    def map_unordered(self, fn: Task, items: Sequence[tuple], on_lost: Lost) -> Iterator[tuple[int, Any]]:
        for index, args in enumerate(items):
            yield index, fn(*args)

    def close(self) -> None:
        pass


class LocalPool:
    """A pool of ``jobs`` worker processes on this machine."""

    def __init__(self, jobs: int, preload: Sequence[str] = PRELOAD) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))
        self.workers = jobs
        self._pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                         initializer=_ignore_interrupts)
        self._stopped = False

    def map_unordered(self, fn: Task, items: Sequence[tuple], on_lost: Lost) -> Iterator[tuple[int, Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending: dict = {}
        queue = iter(enumerate(items))
        window = IN_FLIGHT_PER_WORKER * self.workers
        try:
            while True:
                for index, args in queue:
                    pending[self._pool.submit(fn, *args)] = index
                    if len(pending) >= window:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        except BrokenProcessPool:
            self._stopped = True
            raise ImuError(
                "a worker process ended unexpectedly (out of memory?); the results so far "
                "are kept: run the same command again to resume"
            ) from None
        except BaseException:  # Ctrl-C (only this process gets it) or the caller stopped
            self._stopped = True
            raise

    def close(self) -> None:
        """Wait for the workers to end; after an interruption, end them now (the
        recordings they were measuring are measured again on the next run)."""
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=not self._stopped, cancel_futures=True)
        if self._stopped:
            for process in processes:
                process.terminate()


class DaskCluster:
    """Tasks on an existing Dask distributed cluster (``pip install 'imu[dask]'``)."""

    def __init__(self, address: str, timeout_s: float = 30.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise input_error(
                "--scheduler needs Dask distributed", hint="pip install 'imu[dask]'"
            ) from None
        try:
            self._client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise input_error(
                f"cannot reach the Dask scheduler ({' '.join(str(exc).split())[:160]})",
                path=address, hint="start one with 'dask scheduler' (docs/batch.md)",
            ) from None
        threads = sum(self._client.nthreads().values())
        self.workers = max(threads, 1)

    def map_unordered(self, fn: Task, items: Sequence[tuple], on_lost: Lost) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        queue = iter(enumerate(items))
        window = IN_FLIGHT_PER_WORKER * self.workers
        indices: dict = {}

        def submit(index: int, args: tuple):
            future = self._client.submit(fn, *args, pure=False)
            indices[future] = (index, args)
            return future

        first = [submit(*item) for item in itertools.islice(queue, window)]
        running = as_completed(first, loop=self._client.loop)
        try:
            for future in running:
                index, args = indices.pop(future)
                try:
                    result = future.result()
                except ImuError:
                    raise  # the task's own one-line error, as in this process
                except Exception as exc:  # noqa: BLE001 (KilledWorker, a lost connection, ...)
                    result = on_lost(args, exc)
                future.release()
                yield index, result
                following = next(queue, None)
                if following is not None:
                    running.add(submit(*following))
        finally:
            for future in indices:
                future.cancel()

    def close(self) -> None:
        self._client.close()


NOTICE_AFTER_S = 2.0
WORKERS_NOTICE = (
    "imu: no result yet; each worker loads the numeric kernels before its first recording "
    "(the first run after installing compiles them, about 5-10 s; later runs load them from "
    "numba's cache)..."
)
"""Said when the first result is late, which a long first recording also makes it (an
hour at 100 Hz is measured in ~3.6 s with the kernels loaded, 2026-12-07), so it says
what workers do, not that they are doing it now."""


def with_start_notice(results: Iterator[tuple[int, Any]],
                      after_s: float | None = None) -> Iterator[tuple[int, Any]]:
    """``results`` (of a pool's or a cluster's ``map_unordered``), saying
    :data:`WORKERS_NOTICE` once on stderr if the first one takes longer than ``after_s``
    (default :data:`NOTICE_AFTER_S`): one line per run, from the client, whatever the
    number of workers (each loads the kernels silently, ``warm_up(notice_after_s=None)``
    in :func:`imu.batch.work._worker`)."""
    import sys
    import threading

    timer = threading.Timer(NOTICE_AFTER_S if after_s is None else after_s, print,
                            (WORKERS_NOTICE,), {"file": sys.stderr, "flush": True})
    timer.daemon = True
    timer.start()
    try:
        for item in results:
            timer.cancel()
            yield item
    finally:
        timer.cancel()


def map_measuring(executor: Executor, fn: Task, items: Sequence[tuple],
                  on_lost: Lost) -> Iterator[tuple[int, Any]]:
    """``executor.map_unordered(fn, items, on_lost)`` for tasks that measure recordings
    (``imu batch``, the spans of ``imu train``/``evaluate``): in this process
    (:class:`InProcess`) the kernels are loaded first, with fusion's own notice if that is
    slow; workers load them silently and :func:`with_start_notice` says it once for all."""
    results = executor.map_unordered(fn, items, on_lost)
    if not isinstance(executor, InProcess):
        return with_start_notice(results)
    from imu.pipeline.fusion import warm_up

    warm_up()
    return results


def _ignore_interrupts() -> None:
    """In a pool worker: Ctrl-C reaches the whole process group; only the parent acts on it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_executor(jobs: int | None = None, scheduler: str | None = None):
    """The executor for ``--jobs``/``--scheduler`` (``jobs`` None: the number of cores)."""
    if scheduler:
        return DaskCluster(scheduler)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise input_error(f"--jobs must be 1 or more, got {jobs}")
    return InProcess() if jobs == 1 else LocalPool(jobs)
