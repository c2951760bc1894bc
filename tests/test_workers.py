"""imu.workers: parts cover the rows exactly once, in order, and match one whole call."""

import os
import threading

import numpy as np
import pytest

from imu import workers


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 101])
@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_split_covers_each_row_once(n, parts):
    ranges = workers.split(n, parts)
    covered = [i for start, stop in ranges for i in range(start, stop)]
    assert covered == list(range(n))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_run_parts_equals_one_call_and_uses_threads():
    values = np.random.default_rng(3).normal(size=100_003)
    seen = set()

    def work(start, stop):
        seen.add(threading.current_thread().name)
        return np.cumsum(values[start:stop])[-1] if stop > start else 0.0

    parts = workers.run_parts(work, len(values), min_rows=10_000, threads=3)
    assert len(parts) == 3
    edges = workers.split(len(values), 3)
    assert parts == [np.cumsum(values[a:b])[-1] for a, b in edges]
    assert any(name.startswith("imu-kernel") for name in seen)


def test_small_inputs_and_one_thread_stay_in_the_caller():
    names = []

    def work(start, stop):
        names.append(threading.current_thread().name)
        return (start, stop)

    assert workers.run_parts(work, 15_000, min_rows=10_000, threads=4) == [(0, 15_000)]
    assert workers.run_parts(work, 90_000, min_rows=10_000, threads=1) == [(0, 90_000)]
    assert names == [threading.current_thread().name] * 2


def test_thread_count_setting(monkeypatch):
    monkeypatch.setenv("IMU_THREADS", "1")
    assert workers.thread_count() == 1
    monkeypatch.setenv("IMU_THREADS", "junk")
    assert 1 <= workers.thread_count() <= workers.MAX_THREADS


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_pool_works_in_a_forked_child():
    workers.run_parts(lambda a, b: b - a, 40_000, min_rows=10_000, threads=2)  # pool exists
    pid = os.fork()
    if pid == 0:  # child: a stale pool would hang here
        ok = workers.run_parts(lambda a, b: b - a, 40_000, min_rows=10_000, threads=2)
        os._exit(0 if ok == [20_000, 20_000] else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_callers_in_several_threads_share_the_pool_while_it_grows():
    # Each caller asks for a larger pool than the last: growing must not close a pool that
    # another caller is still submitting to.
    errors, results = [], {}

    def caller(threads):
        try:
            for _ in range(20):
                results[threads] = workers.run_parts(
                    lambda a, b: b - a, 80_000, min_rows=10_000, threads=threads
                )
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(exc)

    workers._forget_pool()
    callers = [threading.Thread(target=caller, args=(k,)) for k in (2, 3, 4, 5)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    assert not errors
    assert {k: sum(v) for k, v in results.items()} == dict.fromkeys((2, 3, 4, 5), 80_000)
