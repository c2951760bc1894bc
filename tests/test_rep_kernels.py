"""The compiled excursion kernels (imu.pipeline.rep_kernels) against the numpy formulation
they replace, to the bit: each helper on generated arrays, and locating, judging and
measuring excursions on SIMULATED traces (imu.sim, made in the tests: see ``_traces``).

The ``reference_*`` functions are the segmenter's numpy code before it was compiled
(git history of imu/pipeline/reps.py and metrics.py): every kernel must give their bits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.pipeline import rep_kernels as k
from imu.pipeline.metrics import rep_metrics, sparc, trace
from imu.pipeline.reps import RepSettings, span_record

# -- the numpy formulation -------------------------------------------------------------


def reference_velocity(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    n = len(values)
    out = np.zeros(n)
    if n < 2:
        return out
    dt = time_s[1:] - time_s[:-1]
    out[0] = (values[1] - values[0]) / dt[0]
    out[-1] = (values[-1] - values[-2]) / dt[-1]
    dx1, dx2 = dt[:-1], dt[1:]
    span = dx1 + dx2
    out[1:-1] = (
        -(dx2) / (dx1 * span) * values[:-2]
        + (dx2 - dx1) / (dx1 * dx2) * values[1:-1]
        + dx1 / (dx2 * span) * values[2:]
    )
    return out


def reference_unwrap_deg(angles_deg: np.ndarray) -> np.ndarray:
    return np.degrees(np.unwrap(np.radians(angles_deg)))


def reference_lockout_seen(time_s: np.ndarray, flexion: np.ndarray, onset: float) -> np.ndarray:
    seen = np.zeros(len(flexion), dtype=bool)
    if len(flexion) < 3:
        return seen
    inner = reference_velocity(flexion, time_s)[:-1]
    last = np.diff(flexion) / np.diff(time_s)
    positions = np.arange(len(inner))
    low = np.minimum.accumulate(inner)
    is_new_low = np.concatenate(([True], inner[1:] < low[:-1]))
    fastest = np.maximum.accumulate(np.where(is_new_low, positions, 0))
    stopped = np.maximum.accumulate(np.where(inner >= -onset, positions, -1))
    seen[2:] = (last[1:] >= low[1:]) & (stopped[1:] >= fastest[1:])
    return seen


def reference_sparc(speed: np.ndarray, rate_hz: float) -> float:
    if len(speed) < 4 or not np.any(speed):
        return float("nan")
    n_fft = int(2 ** (np.ceil(np.log2(len(speed))) + 4))
    n_bins = min(n_fft // 2 + 1, int(10.0 * n_fft / rate_hz) + 2)
    freq = np.arange(n_bins) * rate_hz / n_fft
    magnitude = np.abs(np.fft.rfft(speed, n_fft)[:n_bins])
    keep = freq <= 10.0
    freq, magnitude = freq[keep], magnitude[keep] / magnitude.max()
    above = np.flatnonzero(magnitude >= 0.05)
    freq, magnitude = freq[above[0] : above[-1] + 1], magnitude[above[0] : above[-1] + 1]
    if len(freq) < 2:
        return 0.0
    d_freq = np.diff(freq) / (freq[-1] - freq[0])
    return float(-np.sum(np.sqrt(d_freq**2 + np.diff(magnitude) ** 2)))


def reference_locate(h: np.ndarray, floor: int, rise: int, cut: int, s: RepSettings) -> tuple:
    t, flexion = h[:, 0], h[:, 1]
    lo = max(floor, int(np.searchsorted(t, t[rise] - s.lookback_s, side="left")))
    before = flexion[lo : rise + 1]
    base = float(np.min(before))
    rising = reference_velocity(before, t[lo : rise + 1])
    quiet = np.flatnonzero((before <= base + s.onset_deg) | (rising <= s.onset_velocity_deg_s))
    start = lo + int(quiet[-1])
    peak = rise + int(np.argmax(flexion[rise : cut + 1]))
    velocity_deg_s = reference_velocity(flexion[peak : cut + 1], t[peak : cut + 1])
    fastest = int(np.argmin(velocity_deg_s))
    stopped = np.flatnonzero(velocity_deg_s[fastest:] >= -s.onset_velocity_deg_s)
    if stopped.size:
        end = peak + fastest + int(stopped[0])
    else:
        end = peak + fastest + int(np.argmin(flexion[peak + fastest : cut + 1]))
    tail_end = int(np.searchsorted(t, t[end] + s.lockout_window_s, side="right")) - 1
    tail_end = min(tail_end, cut)
    return start, peak, end, tail_end, base, float(np.min(flexion[end : tail_end + 1]))


def reference_is_rep(h: np.ndarray, start: int, peak: int, end: int, s: RepSettings) -> bool:
    t, a = h[:, 0], h[:, 1:4]
    near = a[start : end + 1, 0] >= a[peak, 0] - s.hold_band_deg
    hold_s = float(np.sum(np.diff(t[start : end + 1])[near[:-1] & near[1:]]))
    duration = t[end] - t[start]
    if not s.min_rep_s <= duration <= s.max_rep_s or end - start < 3:
        return False
    if a[end, 0] > s.max_lockout_flexion_deg:
        return False
    twist = reference_unwrap_deg(a[start : end + 1, 2])
    turned = abs(np.median(twist[near]) - twist[0])
    if hold_s > s.max_bottom_hold_s or (hold_s > s.twisted_hold_s and turned > s.twisted_hold_deg):
        return False
    lateral = np.ptp(a[start : end + 1, 1])
    if np.ptp(twist) > s.max_twist_range_deg or lateral > s.max_lateral_bend_range_deg:
        return False
    extension = (
        reference_velocity(a[peak : end + 1, 0], t[peak : end + 1]) if end - peak >= 2 else [0.0]
    )
    return bool(-np.min(extension) >= s.min_extension_velocity_deg_s)


def reference_rep_metrics(h: np.ndarray, start: int, end: int, tail_end: int) -> dict:
    t, flexion = h[start : tail_end + 1, 0], h[start : tail_end + 1, 1]
    m = end - start
    velocity_deg_s = reference_velocity(flexion, t)
    peak = int(np.argmax(flexion[: m + 1]))
    fastest_up = peak + int(np.argmin(velocity_deg_s[peak : m + 1]))
    moving = np.flatnonzero(velocity_deg_s[peak : fastest_up + 1] >= -10.0)
    bottom = peak + (int(moving[-1]) if moving.size else 0)
    twist = reference_unwrap_deg(h[start : end + 1, 3])
    speed, rate = np.zeros(0), 1.0
    if m >= 3:
        rate = 1.0 / np.median(np.diff(t[: m + 1]))
        grid = np.arange(t[0], t[m], 1.0 / rate)
        speed = np.abs(np.interp(grid, t[: m + 1], velocity_deg_s[: m + 1]))
    return {
        "start_s": float(t[0]),
        "bottom_s": float(t[bottom]),
        "end_s": float(t[m]),
        "peak_flexion_deg": float(flexion[peak]),
        "liftoff_flexion_deg": float(flexion[bottom]),
        "lockout_extension_deg": max(
            float(-np.min(flexion[bottom : m + 1])), float(-np.min(flexion[m:]))
        ),
        "descent_s": float(t[bottom] - t[0]),
        "ascent_s": float(t[m] - t[bottom]),
        "peak_flexion_velocity_deg_s": float(np.max(velocity_deg_s[: bottom + 1])),
        "peak_extension_velocity_deg_s": float(-np.min(velocity_deg_s[bottom : m + 1])),
        "lateral_bend_range_deg": float(np.ptp(h[start : end + 1, 2])),
        "twist_range_deg": float(np.ptp(twist)),
        "smoothness": reference_sparc(speed, rate),
    }


def reference_trace(h: np.ndarray, start: int, end: int, n_points: int) -> np.ndarray:
    t = h[start : end + 1, 0]
    grid = np.linspace(t[0], t[-1], n_points)
    return np.array([np.interp(grid, t, h[start : end + 1, c]) for c in (1, 2, 3)])


def same_bits(a, b) -> bool:
    """Equal to the bit (0.0 is not -0.0), NaN where the other is NaN (of any sign or
    payload: a NaN carries no value, and a rep's JSON writes it as NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    return a[~np.isnan(a)].tobytes() == b[~np.isnan(b)].tobytes()


# -- generated arrays ------------------------------------------------------------------

SPECIAL = [0.0, -0.0, 1e-300, -1e-300, 180.0, -180.0, np.pi, np.inf, -np.inf, np.nan]


@st.composite
def float_arrays(draw, min_size=0, max_size=600, specials=True):
    """Random walks of a drawn length and scale, some values replaced by special ones."""
    n = draw(st.integers(min_size, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0.0, 1.0, n).cumsum() * draw(st.sampled_from([1e-3, 1.0, 30.0, 1e6]))
    if specials and n and draw(st.booleans()):
        at = rng.integers(0, n, draw(st.integers(1, 3)))
        values[at] = rng.choice(SPECIAL, len(at))
    if draw(st.booleans()):
        values = np.round(values)  # ties
    return values


@st.composite
def times(draw, n):
    """Strictly increasing times (s): uniform, jittered or with a changed rate part-way."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    step_s = draw(st.sampled_from([1 / 128, 0.005, 0.01, 0.02]))
    steps = np.full(n, step_s)
    kind = draw(st.sampled_from(["uniform", "jitter", "break"]))
    if kind == "jitter":
        steps *= rng.uniform(0.5, 1.5, n)
    elif kind == "break" and n > 2:
        steps[n // 2 :] *= 1.25
    return draw(st.sampled_from([0.0, 1234.567, 86400.0])) + np.cumsum(steps)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_velocity_is_the_numpy_formulation(data):
    values = data.draw(float_arrays(max_size=300))
    time_s = data.draw(times(len(values)))
    assert same_bits(k.velocity(values, time_s), reference_velocity(values, time_s))


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from([0.0, 2.0, 20.0]))
def test_lockout_seen_is_the_numpy_formulation(data, onset_deg_s):
    flexion = data.draw(float_arrays(max_size=300))
    time_s = data.draw(times(len(flexion)))
    got = k.lockout_seen(time_s, flexion, onset_deg_s)
    assert got.tolist() == reference_lockout_seen(time_s, flexion, onset_deg_s).tolist()


@settings(max_examples=300, deadline=None)
@given(float_arrays(max_size=3000))
def test_sum_is_numpys_pairwise_sum(values):
    assert same_bits(k.total(values), np.sum(values))


@settings(max_examples=300, deadline=None)
@given(float_arrays(min_size=1))
def test_extremes_and_their_positions_are_numpys(values):
    """The same bits, but for the sign of a zero extreme when 0.0 and -0.0 both occur
    (numpy's vectorised reduction picks either)."""
    for got, expected in ((k.lowest(values), np.min(values)), (k.highest(values), np.max(values))):
        assert same_bits(got, expected) or got == expected == 0.0
    assert k.first_min(values) == np.argmin(values)
    assert k.first_max(values) == np.argmax(values)


@settings(max_examples=300, deadline=None)
@given(float_arrays(max_size=400), st.integers(0, 400), st.floats(-50, 50))
def test_first_crossing_is_the_first_hit(values, lo, threshold):
    lo = min(lo, len(values))
    for above in (True, False):
        hits = np.flatnonzero(values[lo:] > threshold if above else values[lo:] < threshold)
        expected = lo + int(hits[0]) if hits.size else len(values)
        assert k.first_crossing(values, lo, len(values), threshold, above) == expected


@settings(max_examples=300, deadline=None)
@given(float_arrays(min_size=1, max_size=400), st.floats(0.5, 40.0))
def test_unwrap_deg_is_numpys_unwrap(values, turns):
    wrapped = (values * turns + 180.0) % 360.0 - 180.0  # turning, wrapped at +-180 deg
    for angles_deg in (values, wrapped):
        assert same_bits(k.unwrap_deg(angles_deg), reference_unwrap_deg(angles_deg))


@settings(max_examples=300, deadline=None)
@given(float_arrays(min_size=1, max_size=700))
def test_median_is_numpys(values):
    """The same bits, but a median of -0.0 keeps its sign (numpy's mean makes it 0.0)."""
    got, expected = k.median(values), np.median(values)
    assert same_bits(got, expected) or got == expected == 0.0


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1e5, 1e5),
    st.floats(0.0, 30.0),
    st.sampled_from([1 / 128, 0.005, 0.01, 1 / 3, 0.0049999, 1.0]),
)
def test_grids_are_numpys(start, length, step):
    stop = start + length
    assert same_bits(k.arange(start, stop, step), np.arange(start, stop, step))
    if stop > start:
        assert same_bits(k.linspace(start, stop, 51), np.linspace(start, stop, 51))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_interp_is_numpys(data):
    fp = data.draw(float_arrays(min_size=1, max_size=200))
    xp = data.draw(times(len(fp)))
    span_s = xp[-1] - xp[0]
    x = np.sort(data.draw(float_arrays(max_size=300, specials=False))) % (span_s + 0.2)
    x = np.concatenate((xp[0] - 0.1 + x, xp[:: max(1, len(xp) // 7)], [np.nan]))
    if data.draw(st.booleans()):
        x = x[::-1]  # any order
    assert same_bits(k.interp(x, xp, fp, np.empty(len(x))), np.interp(x, xp, fp))


@settings(max_examples=200, deadline=None)
@given(float_arrays(max_size=1500, specials=False), st.sampled_from([50.0, 100.0, 200.0]))
def test_sparc_is_the_numpy_formulation(values, rate_hz):
    speed = np.abs(values)
    assert same_bits(sparc(speed, rate_hz), reference_sparc(speed, rate_hz))


def test_sparc_arc_length_by_hand():
    """An 8-point FFT at 8 Hz has bins at 0..4 Hz; with a 3.5 Hz cut-off, bins 0..3 count
    (bin 4 does not, however large). Magnitudes 1, 0.5, 0.5, 0.1 of the largest, all
    reaching the threshold: frequency steps of 1/3 of the band, arc length
    sqrt(1/9 + 1/4) + 1/3 + sqrt(1/9 + 4/25)."""
    magnitude = np.array([2.0, 1.0, 1.0, 0.2, 1.5])
    got = k.arc_length(magnitude, 8, 8.0, 3.5, 0.05)
    expected = -(np.sqrt(1 / 9 + 1 / 4) + 1 / 3 + np.sqrt(1 / 9 + 4 / 25))
    assert got == pytest.approx(expected, rel=1e-12)
    # below the threshold from bin 2 on: only bins 0 and 1 (one step of the whole band)
    assert k.arc_length(np.array([2.0, 1.0, 0.05, 0.01]), 8, 8.0, 3.5, 0.05) == pytest.approx(
        -np.sqrt(1 + 0.25), rel=1e-12
    )


def _bend(knots_s: list[float], knots_deg: list[float]) -> tuple[np.ndarray, int, int]:
    """History rows of a flexion trace through the knots at 100 Hz (no twist or lateral
    bend), the rise above ``bottom_deg`` and the segmenter's cut (1 s after the flexion
    is back below ``top_deg``)."""
    time_s = np.arange(int(knots_s[-1] * 100) + 1) / 100
    flexion = np.interp(time_s, knots_s, knots_deg)
    zeros = np.zeros_like(time_s)
    h = np.column_stack((time_s, flexion, zeros, zeros, np.arange(len(time_s), dtype=float)))
    rise = int(np.argmax(flexion > 35.0))
    down = rise + int(np.argmax(flexion[rise:] < 15.0))
    return h, rise, int(np.searchsorted(time_s, time_s[down] + 1.0))


def test_excursion_of_a_triangle_bend_by_hand():
    """Upright until 1 s, bending at 60 deg/s to 60 deg at 2 s, extending at 60 deg/s to
    upright at 3 s: the rep starts at 1.00 s (the last row within 0.5 deg of upright),
    its bottom is the turn-around at 2.00 s (extension speed below 10 deg/s there), its
    end the first row after the fastest extension that has stopped: 3.01 s."""
    from imu.pipeline.metrics import measures_record

    h, rise, cut = _bend([0, 1, 2, 3, 5], [0, 0, 60, 0, 0])
    s = RepSettings()
    got = k.excursion(h, 0, rise, cut, k.settings_array(s), 51)
    start, end, after_end, tail_low, is_rep, values, speed, rate_hz, traces = got
    assert (start, end, after_end, tail_low, is_rep) == (100, 301, 302, 0.0, True)
    record = measures_record(values, speed, rate_hz, s.hyperextension_deg)
    assert (record["start_s"], record["bottom_s"], record["end_s"]) == (1.0, 2.0, 3.01)
    assert record["peak_flexion_deg"] == record["liftoff_flexion_deg"] == 60.0
    assert record["descent_s"] == 1.0 and record["ascent_s"] == pytest.approx(1.01)
    assert record["peak_flexion_velocity_deg_s"] == pytest.approx(60.0)
    assert record["peak_extension_velocity_deg_s"] == pytest.approx(60.0)
    assert record["lateral_bend_range_deg"] == record["twist_range_deg"] == 0.0
    assert record["lockout_extension_deg"] == 0.0 and not record["hyperextended"]
    assert -3.0 < record["smoothness"] < 0.0  # one smooth bump
    assert traces.shape == (3, 51) and traces[0, 25] == pytest.approx(60.0, abs=0.7)


@pytest.mark.parametrize(
    ("why", "knots_s", "knots_deg"),
    [
        ("held 5 s at the bottom (loading plates)", [0, 1, 2, 7, 8, 10], [0, 0, 60, 60, 0, 0]),
        ("starting bent (sitting)", [0, 1, 2, 3, 5], [10, 10, 60, 10, 10]),
        ("too quick (0.5 s)", [0, 1, 1.25, 1.5, 3], [0, 0, 60, 0, 0]),
    ],
)
def test_excursions_that_are_not_reps(why, knots_s, knots_deg):
    h, rise, cut = _bend(knots_s, knots_deg)
    s = RepSettings()
    assert not k.excursion(h, 0, rise, cut, k.settings_array(s), 51)[4], why
    start, peak, end = reference_locate(h, 0, rise, cut, s)[:3]
    assert not reference_is_rep(h, start, peak, end, s) or why.startswith("starting")


# -- excursions of simulated traces ----------------------------------------------------


def _traces() -> list[np.ndarray]:
    """History arrays (time_s, flexion, lateral bend, twist, row) of SIMULATED sessions
    (imu.sim, made here): truth angles with sensor-like noise, times jittered, the twist
    turned through +-180 deg (wrapped), and the engine's own estimated angles."""
    from imu.pipeline import EngineSettings, analyze_session
    from imu.sim import demo_session, make_lifter, simulate

    out = []
    for seed in (3, 11):
        result = simulate(
            demo_session(make_lifter(seed), seed=seed, n_sets=2, reps_per_set=(3, 5)),
            sampling_rate_hz=100,
            seed=seed,
        )
        rng = np.random.default_rng(seed)
        truth = result.truth_angles.to_numpy()
        n = len(truth)
        time_s = truth[:, 0] + rng.uniform(-0.003, 0.003, n)  # still increasing (10 ms steps)
        angles = truth[:, 1:4] + rng.normal(0.0, 0.3, (n, 3))
        angles[:, 2] = (angles[:, 2] + 170.0 + np.linspace(0, 40, n) + 180.0) % 360.0 - 180.0
        out.append(np.column_stack((time_s, angles, np.arange(n, dtype=float))))
        if seed == 3:
            analysis = analyze_session(result.session, EngineSettings())
            estimated = analysis.angles[np.isfinite(analysis.angles[:, 1])]
            out.append(np.column_stack((estimated, np.arange(len(estimated), dtype=float))))
    return out


TRACES = _traces()


def _excursions(h: np.ndarray, s: RepSettings):
    """(floor, rise, cut) of every rise above ``bottom_deg`` after the previous one came
    back below ``top_deg``, cut at the segmenter's candidates (back below ``top_deg``, the
    lockout deadline) and a few rows on either side; the floor is the previous lockout."""
    t, flexion = h[:, 0], h[:, 1]
    rises = np.flatnonzero((flexion[1:] > s.bottom_deg) & (flexion[:-1] <= s.bottom_deg)) + 1
    floor = down = 0
    for rise in rises:
        below = np.flatnonzero(flexion[rise:] < s.top_deg)
        if rise <= down or not below.size:
            continue
        down = rise + int(below[0])
        deadline = int(np.searchsorted(t, t[down] + 2 * s.lockout_window_s))
        cuts = sorted(
            c for c in {down, down + 3, deadline - 1, deadline, deadline + 40} if c < len(t)
        )
        for cut in cuts:
            yield floor, int(rise), cut
        if cuts:
            spans = (s.lookback_s, s.onset_deg, s.onset_velocity_deg_s, s.lockout_window_s)
            floor = k.locate(h, floor, int(rise), cuts[-1], *spans)[2]


@pytest.mark.parametrize("lift", ["deadlift", "rdl"])
def test_excursions_of_simulated_traces_are_located_judged_and_measured_as_before(lift):
    """The segmenter's kernel (:func:`rep_kernels.excursion`) finds the same rows, the same
    judgement and, for reps, the same record as the numpy formulation; ``rep_metrics``
    measures every located span (reps or not) as it did."""
    from imu.pipeline.metrics import measures_record, trace_record
    from imu.pipeline.reps import LIFTS

    s = LIFTS[lift]
    checked = reps = 0
    for h in TRACES:
        for floor, rise, cut in _excursions(h, s):
            got = k.excursion(h, floor, rise, cut, k.settings_array(s), s.trace_points)
            start, end, after_end, tail_low, is_rep, values, speed, rate_hz, traces = got
            start_, peak, end_, tail_end, base, tail_low_ = reference_locate(h, floor, rise, cut, s)
            assert (start, end, after_end) == (start_, end_, min(tail_end, end_ + 1))
            assert same_bits(tail_low, tail_low_)
            expected_rep = base <= s.max_start_flexion_deg and reference_is_rep(
                h, start, peak, end, s
            )
            assert is_rep == expected_rep
            expected = reference_rep_metrics(h, start, end, after_end)
            record = rep_metrics(h, start, end, after_end, s.hyperextension_deg)
            assert list(record) == [*expected, "hyperextended"]
            assert same_bits(list(record.values())[:-1], list(expected.values()))
            if is_rep:
                assert measures_record(values, speed, rate_hz, s.hyperextension_deg) == record
                expected_traces = reference_trace(h, start, end, s.trace_points)
                assert same_bits(list(trace_record(traces).values()), expected_traces)
                assert same_bits(
                    list(trace(h, start, end, s.trace_points).values()), expected_traces
                )
            checked += 1
            reps += is_rep
    assert checked > 100 and 10 < reps < checked  # reps and non-reps both met


def test_span_record_of_an_analysed_session_is_the_numpy_formulation():
    """``span_record`` (the labelled-rep path: a DataFrame of analysed angles) measures a
    span as the numpy formulation does, trace and lockout window included."""
    import pandas as pd

    h = TRACES[-1]
    columns = ["time_s", "flexion_deg", "lateral_bend_deg", "twist_deg"]
    frame = pd.DataFrame(h[:, :4], columns=columns)
    settings_ = RepSettings()
    for start in range(200, len(h) - 600, 997):
        end = start + 450
        record = span_record(frame, h[start, 0], h[end, 0], settings_)
        tail_end = int(np.searchsorted(h[:, 0], h[end, 0] + 0.5, side="right")) - 1
        expected = reference_rep_metrics(h, start, end, tail_end)
        assert same_bits([record[key] for key in expected], list(expected.values()))
        assert same_bits(list(record["trace"].values()), reference_trace(h, start, end, 51))


_WARM_UP_CHILD = """
import json
import numpy as np
from imu.pipeline import Engine, EngineSettings, RepSettings, fusion, rep_kernels
from imu.sim import demo_session, make_lifter, simulate

kernels = [getattr(rep_kernels, name) for name in (
    "excursion", "arc_length", "lockout_seen", "first_crossing")]
fusion.warm_up()
before = [len(kernel.signatures) for kernel in kernels]
script = demo_session(make_lifter(5), seed=5, n_sets=1, reps_per_set=(4, 4), non_reps=False)
samples = simulate(script, sampling_rate_hz=50.0, seed=5).session.samples()
# whole numbers as settings (int, not float) must not make new signatures either
whole = RepSettings(top_deg=15, bottom_deg=35, lookback_s=3, trace_points=51)
chunked, one_by_one = Engine(), Engine(EngineSettings(reps=whole))
steps = [chunked.update(samples), chunked.finish()]
for row in samples:
    steps.append(one_by_one.update(row[None, :]))
steps.append(one_by_one.finish())
reps = [e for step in steps for e in step.events if e["type"] == "rep"]
print(json.dumps([before, [len(kernel.signatures) for kernel in kernels], len(reps)]))
"""


def test_warm_up_loads_the_rep_kernels_the_engine_calls():
    """After ``fusion.warm_up`` the engine's calls of the excursion kernels, chunked and
    one sample per update (provisional alerts on; settings given as whole numbers), add
    no compiled signature: nothing compiles mid-stream (a fresh process, so no other
    test counts)."""
    run = subprocess.run(
        [sys.executable, "-c", _WARM_UP_CHILD], capture_output=True, text=True, check=True
    )
    before, after, n_reps = json.loads(run.stdout)
    assert min(before) == 1 and after == before
    assert n_reps >= 8  # both engines found the reps
