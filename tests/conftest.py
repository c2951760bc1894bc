"""Suite-wide set-up: one BLAS/OpenMP thread per test process.

``pytest -n 2`` runs two test processes on a 2-core machine; a BLAS that starts its own
threads in each (OpenBLAS does, for the matrix products of scikit-learn's solvers) puts
more busy threads than cores on the machine, and they wait on each other (a personalisation
test that takes 1-3 s alone took 38 s in a full run). Child processes that tests start
inherit the setting.

Each test process also loads numba's compiled kernels once, before any test, without the
"compiling the numeric kernels" notice: otherwise the first test of a process to touch
them gets that line in its captured stderr whenever loading takes over 2 s (a loaded
machine), and a test of a one-line error fails by chance. The notice has its own tests.
"""

from __future__ import annotations

import os

import pytest

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from threadpoolctl import threadpool_limits  # after the variables: numpy reads them

threadpool_limits(1)  # in case a plugin imported numpy before this file


@pytest.fixture(autouse=True, scope="session")
def _kernels_loaded() -> None:
    from imu.pipeline.fusion import warm_up

    warm_up(notice_after_s=None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``dbus`` (the fake BlueZ on a private bus, tests/fakebluez) are skipped
    where there is no dbus-daemon to run it (Debian: the ``dbus`` package)."""
    marked = [item for item in items if item.get_closest_marker("dbus")]
    if not marked:
        return
    from tests.fakebluez import dbus_daemon_available

    if not dbus_daemon_available():
        skip = pytest.mark.skip(reason="needs dbus-daemon (Debian: dbus)")
        for item in marked:
            item.add_marker(skip)
