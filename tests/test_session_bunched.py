"""Rows in bunches: a logger that stamps every row of a BLE notification on its arrival.

Each notification carries 2 samples at 25 Hz, 3 at 50 Hz, 4 at 100 Hz; its rows get one
stamp (or nearly one: each row a fraction of a millisecond after the one before), the
notification's arrival, 5-25 ms after its last sample (uniform); a stalled link holds
one notification and delivers the ones due meanwhile just after it. The true sampling
times are known here, and the loaded times must follow them, with a gap only where
samples were lost.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_session import tilting_samples, write_rows

from imu.session import read_session, write_session

CASES = [(25.0, 2), (50.0, 3), (100.0, 4)]


def bunched_stamps(
    truth_s: np.ndarray, per: int, *, stall_at: int, stall_s: float, row_step_s: float = 0.0
) -> np.ndarray:
    """Arrival stamps of notifications of ``per`` samples: 5-25 ms after the last sample
    (uniform, seeded), notification ``stall_at`` held ``stall_s``, the ones due before it
    is delivered arriving 2 ms apart just after it; ``row_step_s`` between the rows of a
    notification (0: one stamp). Rounded to 1 us, as written."""
    n = len(truth_s)
    note = np.arange(n) // per
    last = np.minimum((np.arange(note[-1] + 1) + 1) * per, n) - 1
    arrival = truth_s[last] + np.random.default_rng(per).uniform(0.005, 0.025, last.size)
    end = arrival[stall_at] + stall_s
    held = np.flatnonzero((np.arange(last.size) >= stall_at) & (arrival <= end))
    arrival[held] = end + 0.002 * np.arange(held.size)
    position = np.arange(n) - note * per
    return np.round(arrival[note] + position * row_step_s, 6)


@pytest.mark.parametrize(("rate_hz", "per"), CASES)
@pytest.mark.parametrize("row_step_s", [0.0, 1e-4], ids=["one stamp", "nearly one stamp"])
def test_bunched_rows_with_a_stall_load_at_their_sampling_times(tmp_path, rate_hz, per, row_step_s):
    """A stall of 0.4 s 4 s in: the held notification and the backlog just after it came
    0.4 s late. The old reader left them there (up to 0.4 s late, with a gap of 0.4 s
    before them where no sample was lost) or, with nearly one stamp per notification,
    refused the file (a rate of thousands of Hz). Now every row is between its sampling
    time and 30 ms after it (the link's latency and its jitter), none after its stamp,
    no gap; the samples are kept in file order."""
    truth = tilting_samples(int(20 * rate_hz), rate_hz)
    stall_at = int(4 * rate_hz) // per
    stamps = bunched_stamps(truth[:, 0], per, stall_at=stall_at, stall_s=0.4, row_step_s=row_step_s)
    rows = truth.copy()
    rows[:, 0] = stamps
    session = read_session(write_rows(tmp_path / "bunched.csv", rows))
    late = session.time_s - truth[:, 0]
    assert late.min() >= -1e-6 and late.max() <= 0.03, (late.min(), late.max())
    assert np.all(session.time_s <= stamps + 1e-9)
    assert session.quality()["gaps"] == []
    assert not any("gap" in w for w in session.warnings), session.warnings
    np.testing.assert_array_equal(session.samples()[:, 1:], truth[:, 1:])
    held = stamps - truth[:, 0] > 0.05  # the late notification and its backlog
    assert held.sum() >= 0.3 * rate_hz and np.abs(late[held]).max() <= 0.03
    assert any("(late: a stalled link and its backlog)" in w for w in session.warnings)
    # one warning for one cause (it used to be two: the bunches, then the shared stamps)
    told = [w for w in session.warnings if "BLE notification" in w]
    assert len(told) == 1, session.warnings
    full = len(truth) // per  # notifications of more than one row
    if row_step_s:
        assert (f"{full * per} rows in {full} bunches stamped at most 0.4 ms apart (a logger "
                "stamping each row of a BLE notification as it wrote it), first at line 2: "
                "each bunch taken as one notification, ") in told[0], told[0]
        assert "rows restamped, spread back from their bunch's last stamp at " in told[0]
    else:
        assert f"{full * per} rows share {full} time stamps with different values" in told[0]


@pytest.mark.parametrize(("rate_hz", "per"), CASES)
def test_lost_notifications_stay_a_gap_of_their_length(tmp_path, rate_hz, per):
    """The same bunched file, and 5 notifications lost 10 s in: one gap in the timeline,
    where they were lost, as long as the samples lost (within the latency's jitter); the
    stall elsewhere makes none."""
    truth = tilting_samples(int(20 * rate_hz), rate_hz)
    stamps = bunched_stamps(truth[:, 0], per, stall_at=int(4 * rate_hz) // per, stall_s=0.4)
    lost = np.arange(len(truth)) // per
    first = int(10 * rate_hz) // per
    keep = (lost < first) | (lost >= first + 5)
    rows = truth[keep].copy()
    rows[:, 0] = stamps[keep]
    session = read_session(write_rows(tmp_path / "lost.csv", rows))
    late = session.time_s - truth[keep, 0]
    assert late.min() >= -1e-6 and late.max() <= 0.03
    gaps = session.quality()["gaps"]
    assert len(gaps) == 1, gaps
    gone_s = 5 * per / rate_hz
    assert abs(gaps[0]["duration_s"] - (gone_s + 1 / rate_hz)) <= 0.03
    assert abs(gaps[0]["start_s"] - truth[first * per - 1, 0]) <= 0.03


def test_bunched_simulated_recording_round_trip(tmp_path):
    """SYNTHETIC: a simulated set at 50 Hz (imu.sim), its rows given the stamps of
    ``imu.sim.recording.arrival_stamps`` (3 samples per notification, nearly one stamp,
    6 stalls a minute), written with ``write_session`` and read back: every row within
    30 ms of its sampling time (latency), no gap, and the analysis finds the reps it finds
    with the true times. Writing what was read and reading it again gives the same
    times (already restamped: spread, no bunches)."""
    from imu.pipeline import analyze_session
    from imu.sim import demo_session, make_lifter, simulate
    from imu.sim.recording import arrival_stamps

    script = demo_session(make_lifter(3), seed=3, n_sets=1, non_reps=False, clock_origin_s=0.0)
    result = simulate(script, sampling_rate_hz=50.0, seed=3, mounting="random")
    truth_s = result.session.time_s
    stamps, keep = arrival_stamps(
        truth_s, 3, np.random.default_rng(3), stalls_per_min=6.0, row_step_s=1e-4
    )
    assert len(keep) == len(truth_s)
    bunched = dataclasses.replace(result.session, data=result.session.data.assign(time_s=stamps))
    path = tmp_path / "bunched.csv"
    write_session(bunched, path)
    back = read_session(path)
    late = back.time_s - truth_s
    assert np.all(np.isfinite(late)) and late.min() >= -0.005 and late.max() <= 0.035
    assert back.quality()["gaps"] == []
    again = tmp_path / "again.csv"
    write_session(back, again)
    np.testing.assert_allclose(read_session(again).time_s, back.time_s, rtol=0, atol=1e-6)
    reps = [(r["start_s"], r["end_s"]) for r in analyze_session(back).reps]
    reference = [(r["start_s"], r["end_s"]) for r in analyze_session(result.session).reps]
    assert len(reps) == len(reference) == len(result.truth_reps)
    np.testing.assert_allclose(reps, reference, atol=0.1)
