"""The compiled orientation kernels (imu/pipeline/fusion.py) against imufusion and formulas.

Every session here is SYNTHETIC (imu.sim, generated in memory). The reference is the
per-sample ``imufusion`` loop the pipeline used before (tests/fusion_reference.py)
run on the same rows: both compute in float32 with the same operations, so on x86-64
(neither build fuses multiply-adds) the quaternions are bit-identical; elsewhere they
must agree within 0.01 deg.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fusion_reference import imufusion_run, quaternion_angle_deg

from imu.pipeline import fusion
from imu.pipeline.orientation import (
    GravityTilt,
    GravityTiltSettings,
    Orientation,
    OrientationSettings,
    tilt_quaternion,
)
from imu.pipeline.timing import Timing
from imu.sim import SensorModel, Stand, demo_session, make_lifter, simulate
from imu.sim.activities import SessionScript
from imu.units import STANDARD_GRAVITY_M_S2

COLUMNS = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
BIT_EXACT = platform.machine().lower() in ("x86_64", "amd64")
MAX_ANGLE_DEG = 0.01


def sim_rows(rate_hz: float, mounting: str, seed: int, sensor: SensorModel | None = None):
    """(n, 7) samples of a short SYNTHETIC session: stance, walk, 2 sets of 3-4 reps."""
    script = demo_session(
        make_lifter(seed), seed=seed, n_sets=2, reps_per_set=(3, 4), rest_s=(10, 15),
        non_reps=False,
    )  # fmt: skip
    result = simulate(script, sampling_rate_hz=rate_hz, mounting=mounting, seed=seed, sensor=sensor)
    return result.session.data[COLUMNS].to_numpy()


def with_gaps(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Duplicated rows (skipped), a 0.5 s gap (bridged) and a 2 s gap (restart)."""
    n = len(samples)
    dup = np.sort(rng.choice(np.arange(100, n - 100), 20, replace=False))
    rows = np.insert(samples, dup, samples[dup], axis=0)
    t = rows[:, 0]
    bridged = (t > t[0] + 20) & (t < t[0] + 20.5)
    restarted = (t > t[0] + 40) & (t < t[0] + 42)
    return rows[~(bridged | restarted)]


def sustained_push(samples: np.ndarray) -> np.ndarray:
    """8 s of an extra 4 m/s^2 across gravity (a push the filter cannot explain as tilt)."""
    out = samples.copy()
    t = out[:, 0] - out[0, 0]
    window = (t > 25) & (t < 33)
    across = np.cross(out[window, 1:4].mean(axis=0), [1.0, 1.0, 1.0])
    out[window, 1:4] += 4.0 * across / np.linalg.norm(across)
    return out


def gyro_over_range(samples: np.ndarray) -> np.ndarray:
    """Three samples at 2100 deg/s (a knock above the 2000 deg/s range) at 30 s."""
    out = samples.copy()
    t = out[:, 0] - out[0, 0]
    out[np.flatnonzero(t > 30)[:3], 4] = 2100.0
    return out


def run_both(samples: np.ndarray, rate_hz: float, settings: OrientationSettings, bias=None):
    """Our kernel and imufusion on the same rows; imufusion has no gap recovery (ours
    is compared with it off, and against the simulator's truth in test_pipeline_gaps.py)."""
    settings = dataclasses.replace(settings, gap_recovery_s=0.0)
    timed = Timing().update(samples)
    bias = np.zeros(3) if bias is None else bias
    args = (samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart)
    orientation = Orientation(settings, rate_hz, bias)
    ours = orientation.update(*args)
    reference = imufusion_run(settings, rate_hz, bias, *args)
    return ours, reference, timed, orientation


def assert_same(ours: np.ndarray, reference: np.ndarray) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(reference))
    finite = np.isfinite(ours[:, 0])
    assert quaternion_angle_deg(ours[finite], reference[finite]).max() < MAX_ANGLE_DEG
    if BIT_EXACT:
        np.testing.assert_array_equal(ours, reference)


CASES = [
    (25.0, "xleft_zfwd", "plain"),
    (200.0, "xup_zback", "plain"),
    (50.0, "xfwd_zright", "gaps"),
    (200.0, "xleft_zfwd", "gaps"),
    (100.0, "xup_zback", "push"),
    (200.0, "xfwd_zright", "over_range"),
    (25.0, "xup_zback", "over_range"),
]


@pytest.mark.parametrize(("rate_hz", "mounting", "case"), CASES)
def test_kernel_matches_imufusion(rate_hz, mounting, case):
    rng = np.random.default_rng(7)
    sensor = SensorModel(timestamp_jitter_s=0.002, drop_probability=0.005)
    samples = sim_rows(rate_hz, mounting, seed=len(case), sensor=sensor)
    samples = {
        "plain": lambda s: s,
        "gaps": lambda s: with_gaps(s, rng),
        "push": sustained_push,
        "over_range": gyro_over_range,
    }[case](samples)
    ours, ref, timed, orientation = run_both(samples, rate_hz, OrientationSettings())
    assert_same(ours, ref.quaternions)
    np.testing.assert_array_equal(orientation.gyro_bias_deg_s, ref.gyro_bias_deg_s)
    # The path under test was taken (imufusion's own flags say so).
    assert ref.flags.accelerometer_ignored.sum() > 10  # lifts pull the measured acceleration off g
    if case == "gaps":
        assert timed.skip.sum() >= 15 and timed.restart.sum() == 2  # some fall into the gaps
    if case == "push":
        # Rejected longer than the 5 s timeout: recovery uses the accelerometer again.
        assert ref.flags.acceleration_recovery.sum() > rate_hz
    if case == "over_range":
        # Soft restart: 3 s of start-up (gain ramp, heading held at 0) after the knock.
        assert 2.5 * rate_hz < ref.flags.startup.sum() <= 3.0 * rate_hz + 3


def test_short_rejection_timeout_recovers_during_lifts():
    """A 0.2 s timeout makes ordinary pulls trigger recovery; still the same quaternions."""
    samples = sim_rows(200.0, "xup_zback", seed=4)
    settings = OrientationSettings(rejection_timeout_s=0.2, acceleration_rejection_deg=5.0)
    ours, ref, _, _ = run_both(samples, 200.0, settings)
    assert ref.flags.acceleration_recovery.sum() > 0
    assert_same(ours, ref.quaternions)


def test_bias_tracking_converges_on_a_still_period():
    """Ideal sensor + a constant gyroscope bias, tracking from 0: converges like imufusion."""
    true_bias = np.array([0.8, -0.5, 0.3])
    script = SessionScript(make_lifter(0), (Stand(40.0, still=True),), 0.0, "still")
    result = simulate(script, sampling_rate_hz=100.0, sensor=SensorModel.ideal(), seed=1)
    samples = result.session.data[COLUMNS].to_numpy()
    samples[:, 4:7] += true_bias
    ours, ref, _, orientation = run_both(samples, 100.0, OrientationSettings())
    assert_same(ours, ref.quaternions)
    np.testing.assert_array_equal(orientation.gyro_bias_deg_s, ref.gyro_bias_deg_s)
    # 0.02 Hz high-pass (tau 8 s) after 3 s of stillness: 37 s of tracking leaves ~1 %.
    np.testing.assert_allclose(orientation.gyro_bias_deg_s, true_bias, atol=0.03)


def feed(updater, samples: np.ndarray, sizes) -> np.ndarray:
    """Feed rows in chunks of ``sizes``."""
    timed = Timing().update(samples)
    cols = (samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart)
    out, start = [], 0
    for size in sizes:
        stop = min(start + size, len(samples))
        out.append(updater.update(*(c[start:stop] for c in cols)))
        start = stop
    return np.vstack(out)


@pytest.mark.parametrize("kind", ["fusion", "tilt"])
def test_chunks_of_any_size_and_one_row_each_equal_whole(kind):
    rng = np.random.default_rng(3)
    samples = with_gaps(sim_rows(100.0, "xleft_zfwd", seed=2), rng)
    samples = gyro_over_range(sustained_push(samples))
    n = len(samples)

    def make():
        if kind == "fusion":
            return Orientation(OrientationSettings(), 100.0, np.array([0.2, -0.1, 0.05]))
        return GravityTilt(GravityTiltSettings(), initial_acc=samples[0, 1:4] * 1.01)

    whole = feed(make(), samples, [n])
    assert np.isfinite(whole).all()
    random_sizes = rng.integers(1, 700, n)
    np.testing.assert_array_equal(feed(make(), samples, random_sizes), whole)
    np.testing.assert_array_equal(feed(make(), samples, [1] * n), whole)


def test_skipped_rows_before_the_first_sample_are_nan_and_repeat_after():
    samples = sim_rows(50.0, "xup_zback", seed=0)[:50]
    orientation = Orientation(OrientationSettings(), 50.0, np.zeros(3))
    skip = np.zeros(50, dtype=bool)
    skip[[0, 1, 20, 21]] = True
    restart = np.zeros(50, dtype=bool)
    restart[2] = True
    q = orientation.update(samples[:, 1:4], samples[:, 4:7], np.full(50, 0.02), skip, restart)
    assert np.isnan(q[:2]).all()
    np.testing.assert_array_equal(q[20], q[19])
    np.testing.assert_array_equal(q[21], q[19])
    np.testing.assert_array_equal(q[2], tilt_quaternion(samples[2, 1:4]).astype(np.float32))


def test_first_restart_starts_from_initial_acc():
    """``initial_acc`` (any scale) gives the first tilt; later restarts use their own row
    (Fusion's restart with heading 0 when gap recovery is off; with it, the least turn from
    the estimate, here the same quaternion)."""
    up = np.array([1.0, 0.0, 0.0])  # sensor x up: a quarter turn about y
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY_M_S2], (3, 1))
    restart = np.array([True, False, True])
    half = math.sqrt(0.5)
    for settings in (OrientationSettings(gap_recovery_s=0.0), OrientationSettings()):
        orientation = Orientation(settings, 100.0, np.zeros(3), initial_acc=up * 3.0)
        q = orientation.update(acc, np.zeros((3, 3)), np.full(3, 0.01), np.zeros(3, bool), restart)
        np.testing.assert_allclose(q[0], [half, 0.0, -half, 0.0], atol=1e-7)
        np.testing.assert_allclose(q[2], [1.0, 0.0, 0.0, 0.0], atol=1e-7)


def test_quaternion_angle_is_exact_near_zero():
    turn = np.radians(1e-4)  # 1e-4 deg about z, float32 as imufusion returns them
    q1 = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32).astype(float)
    q2 = np.array([[np.cos(turn / 2), 0.0, 0.0, np.sin(turn / 2)]])
    assert quaternion_angle_deg(q1, q1)[0] == 0.0
    assert quaternion_angle_deg(q1, q2)[0] == pytest.approx(1e-4, rel=1e-6)
    assert quaternion_angle_deg(q1, -q2)[0] == pytest.approx(1e-4, rel=1e-6)  # same rotation


def test_tilt_quaternion_rotates_up_onto_world_z():
    rng = np.random.default_rng(0)
    for up in [*rng.normal(size=(20, 3)), np.array([0.0, 0.0, -2.0])]:
        w, x, y, z = tilt_quaternion(up)
        rotation = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ])  # fmt: skip
        np.testing.assert_allclose(rotation @ (up / np.linalg.norm(up)), [0, 0, 1], atol=1e-12)
        assert z == 0.0  # heading 0: no rotation about the vertical


def test_settings_constants_as_fusion_computes_them():
    s = fusion.fusion_settings(200.0, 0.5, 2000.0, 10.0, 5.0, 3.0, 3.0)
    assert s[fusion.S_REJECTION] == pytest.approx((0.5 * math.sin(math.radians(10))) ** 2, 1e-6)
    assert s[fusion.S_TIMEOUT] == 1000  # samples
    assert s[fusion.S_BIAS_TIMEOUT] == 600
    assert s[fusion.S_RANGE] == pytest.approx(1960.0)
    assert s[fusion.S_BIAS_COEFFICIENT] == pytest.approx(2 * math.pi * 0.02 / 200, 1e-6)
    assert s[fusion.S_STARTUP_STEP] == pytest.approx((10 - 0.5) / 3 / 200, 1e-6)
    off = fusion.fusion_settings(100.0, 0.5, 0.0, 10.0, 0.0, 3.0, 3.0)
    assert off[fusion.S_RANGE] == np.inf
    assert off[fusion.S_REJECTION] == np.finfo(np.float32).max  # timeout 0: rejection off


def gravity_tilt_by_formula(settings, acc, dt_s, restart) -> np.ndarray:
    """docs/calibration.md: g += alpha (a - g), alpha = dt / (tau + dt), norm rejection."""
    g, rejected, out = None, 0.0, []
    for a, dt, first in zip(acc, dt_s, restart, strict=True):
        if first:
            g, rejected = a.copy(), 0.0
        else:
            off = abs(np.linalg.norm(a) - STANDARD_GRAVITY_M_S2) > settings.rejection_m_s2
            rejected = rejected + dt if off else 0.0
            if rejected == 0.0 or rejected > settings.rejection_timeout_s:
                g = g + dt / (settings.time_constant_s + dt) * (a - g)
        out.append(tilt_quaternion(g))
    return np.array(out)


def test_gravity_tilt_follows_its_formula():
    samples = sustained_push(sim_rows(100.0, "xfwd_zright", seed=5))
    timed = Timing().update(samples)
    settings = GravityTiltSettings()
    tilt = GravityTilt(settings)
    ours = tilt.update(samples[:, 1:4], samples[:, 4:7], timed.dt_s, timed.skip, timed.restart)
    expected = gravity_tilt_by_formula(settings, samples[:, 1:4], timed.dt_s, timed.restart)
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


# -- numba's on-disk cache ---------------------------------------------------------------
def constant_turn() -> list[float]:
    """Last quaternion of 5 s of a constant turn (the work of the child processes)."""
    import numpy as np

    from imu.pipeline.orientation import Orientation, OrientationSettings

    n = 500
    acc = np.tile([0.5, 0.2, 9.7], (n, 1))
    gyr = np.tile([5.0, -3.0, 1.0], (n, 1))
    skip, restart = np.zeros(n, bool), np.zeros(n, bool)
    restart[0] = True
    orientation = Orientation(OrientationSettings(), 100.0, np.zeros(3))
    return orientation.update(acc, gyr, np.full(n, 0.01), skip, restart)[-1].tolist()


# A cache that cannot be written only warns: the child turns warnings into errors.
_CHILD = "\n".join(
    [
        "import warnings",
        "warnings.simplefilter('error')",
        inspect.getsource(constant_turn),
        "print(constant_turn())",
    ]
)


def run_child(env: dict, cwd: Path, prefix: list[str] | None = None) -> subprocess.Popen:
    """The child script in ``cwd`` (not the checkout: ``-c`` puts the cwd first on sys.path)."""
    return subprocess.Popen(
        [*(prefix or []), sys.executable, "-c", _CHILD],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def copy_package(tmp_path: Path) -> Path:
    """A copy of the ``imu`` package without compiled caches (as a fresh install)."""
    source = Path(fusion.__file__).parents[1]
    target = tmp_path / "site" / "imu"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    return target.parent


def read_only_prefix(site: Path) -> list[str] | None:
    """Command prefix that runs the child with ``site`` read-only (None: not possible here)."""
    if os.geteuid() != 0:
        for path in [site, *site.rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        return None
    mount = f"mount --bind {site} {site} && mount -o remount,bind,ro {site}"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", mount], check=False, capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "sh", "-c", mount + ' && exec "$0" "$@"']


@pytest.mark.slow
def test_first_runs_concurrent_on_a_read_only_install(tmp_path):
    """A fresh install whose package directory is not writable (another user's install):
    two processes compiling at once both succeed without a warning, caching in the user
    cache directory (nothing written next to the package); a third run loads the cache."""
    site = copy_package(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(PYTHONPATH=str(site), HOME=str(home))
    prefix = read_only_prefix(site)
    cache = home / ".cache" / "numba"
    if prefix is None:  # root without mount namespaces: concurrency only, in a given cache
        prefix, cache = [], tmp_path / "cache"
        env["NUMBA_CACHE_DIR"] = str(cache)
    children = [run_child(env, tmp_path, prefix) for _ in range(2)]
    outputs = [child.communicate(timeout=240) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert out == f"{constant_turn()}\n"
    assert not list(site.rglob("*.nbi"))
    assert list(cache.rglob("*fusion_chunk*.nbi"))
    again = run_child({**env, "NUMBA_DEBUG_CACHE": "1"}, tmp_path, prefix)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    assert "[cache] data loaded" in out and "data saved" not in out
    assert out.splitlines()[-1] == str(constant_turn())


def test_engine_angles_with_kernel_equal_imufusion(monkeypatch):
    """Whole pipeline (calibration, angles, reps) on the kernel and on imufusion: same output."""
    from fusion_reference import ImufusionOrientation

    from imu.pipeline import analyze_session, engine

    script = demo_session(make_lifter(2), seed=2, n_sets=2, reps_per_set=(3, 4), rest_s=(10, 15))
    session = simulate(script, sampling_rate_hz=100.0, mounting="xleft_zfwd", seed=2).session
    ours = analyze_session(session)
    monkeypatch.setattr(engine, "Orientation", ImufusionOrientation)
    reference = analyze_session(session)
    assert ours.calibration["ok"] and len(ours.reps) >= 5  # of 6 true ones
    finite = np.isfinite(ours.angles[:, 1])
    assert finite.mean() > 0.9
    np.testing.assert_array_equal(finite, np.isfinite(reference.angles[:, 1]))
    difference = np.abs(ours.angles[finite, 1:3] - reference.angles[finite, 1:3])
    assert difference.max() < MAX_ANGLE_DEG
    if BIT_EXACT:
        np.testing.assert_array_equal(ours.angles, reference.angles)
        assert ours.reps == reference.reps


_WARM_UP_CHILD = """
import json
import numpy as np
from imu.pipeline import fusion
from imu.pipeline.orientation import GravityTilt, GravityTiltSettings, Orientation, OrientationSettings
from imu.pipeline.timing import Timing
from imu.pipeline import Engine
from imu.sim import demo_session, make_lifter, simulate

kernels = (fusion.fusion_chunk, fusion.tilt_chunk, fusion.body_angles_chunk)
fusion.warm_up()
before = [len(k.signatures) for k in kernels]
script = demo_session(make_lifter(5), seed=5, n_sets=1, reps_per_set=(3, 3), non_reps=False)
session = simulate(script, sampling_rate_hz=50.0, seed=5).session.samples()
without_gyro = session.copy()
without_gyro[:, 4:7] = np.nan
for samples in (session, without_gyro):  # the engine's own calls, chunked and one by one
    engine = Engine()
    engine.update(samples[:-10])
    for row in samples[-10:]:
        engine.update(row[None, :])
    assert engine.calibration["ok"]
rows = session[:400]
timed = Timing().update(rows)
acc, gyr = rows[:, 1:4], rows[:, 4:7]
for stage in (Orientation(OrientationSettings(), 50.0, np.zeros(3)), GravityTilt(GravityTiltSettings())):
    stage.update(acc[:300], gyr[:300], timed.dt_s[:300], timed.skip[:300], timed.restart[:300])
    for i in range(300, 310):
        stage.update(acc[i : i + 1], gyr[i : i + 1], timed.dt_s[i : i + 1],
                     timed.skip[i : i + 1], timed.restart[i : i + 1])
print(json.dumps([before, [len(k.signatures) for k in kernels]]))
"""


def test_warm_up_leaves_nothing_to_compile_mid_stream():
    """After ``warm_up`` (live and replay run it before connecting) the engine's own calls
    of every kernel (orientation and body angles), chunked and one by one, in both modes,
    add no compiled signature:
    nothing is compiled or loaded mid-stream (a fresh process, so no other test's calls
    count)."""
    run = subprocess.run(
        [sys.executable, "-c", _WARM_UP_CHILD], capture_output=True, text=True, check=True
    )
    before, after = json.loads(run.stdout)
    assert min(before) >= 1 and after == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_slow_first_load_is_announced_on_a_terminal_and_in_a_log(monkeypatch):
    """``warm_up`` says on stderr (a terminal, or a file it is redirected to) that it
    compiles when loading the kernels takes longer than ``notice_after_s`` (the first run
    after installing), and is a no-op once the process has them."""
    loads = []
    monkeypatch.setattr(fusion, "_load_kernels", lambda: (loads.append(1), time.sleep(0.5)))
    for stream, announced in ((_Terminal(), True), (io.StringIO(), True)):
        monkeypatch.setattr(fusion, "_WARM", False)
        monkeypatch.setattr(sys, "stderr", stream)
        fusion.warm_up(notice_after_s=0.1)
        assert (fusion.COMPILE_NOTICE in stream.getvalue()) is announced
    fast = _Terminal()
    monkeypatch.setattr(sys, "stderr", fast)
    monkeypatch.setattr(fusion, "_WARM", False)
    fusion.warm_up(notice_after_s=5.0)  # loaded quickly: nothing said
    fusion.warm_up(notice_after_s=0.0)  # already warm: nothing loaded
    assert fast.getvalue() == "" and len(loads) == 3
