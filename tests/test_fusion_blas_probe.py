"""Loading the kernels spares the process SciPy's linear algebra, and takes nothing away."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from imu.pipeline import fusion

FRESH_PROCESS = textwrap.dedent(
    """
    import sys

    import numba
    import numpy as np

    from imu.pipeline import fusion

    fusion.warm_up()
    assert "scipy.linalg" not in sys.modules, "the kernels' load imported scipy.linalg"

    @numba.njit
    def dot(a, b):
        return np.dot(a, b)  # numba's BLAS path: needs scipy.linalg.cython_blas

    assert dot(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == 32.0
    assert "scipy.linalg" in sys.modules
    import scipy.linalg

    assert scipy.linalg.det(np.eye(2)) == 1.0
    print("ok")
    """
)


def test_kernels_load_without_scipy_linalg_and_linear_algebra_still_works():
    run = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_an_imported_scipy_linalg_is_left_alone():
    import scipy.linalg

    with fusion._without_blas_probe():
        assert sys.modules["scipy.linalg"] is scipy.linalg
    assert sys.modules["scipy.linalg"] is scipy.linalg
