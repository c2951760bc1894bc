"""Loading the kernels spares the process SciPy's linear algebra, and takes nothing away."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from imu.pipeline import fusion
from imu.session import write_session
from imu.sim import demo_session, make_lifter, simulate

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


def test_imu_analyze_runs_without_scipy_linalg(tmp_path):
    """The whole command with the default model: SciPy's linear algebra never loads (a
    kernel called before ``warm_up``, or a model path needing SciPy, would load it)."""
    script = demo_session(make_lifter(1), seed=4, n_sets=1, reps_per_set=(3, 3), rest_s=(5, 6))
    path = tmp_path / "sim.csv"  # SYNTHETIC (imu.sim, seed 4)
    write_session(simulate(script, sampling_rate_hz=100, seed=4).session, path)
    child = (
        "import io, contextlib, sys\n"
        "from imu.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main(['analyze', {str(path)!r}, '--json']) == 0\n"
        "assert '\"reps\"' in out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('scipy.linalg', 'sklearn'))))\n"
    )
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
