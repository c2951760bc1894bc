"""Recordings as people really make them: parts, rates, BLE timing, files cut to the set.

SYNTHETIC data. :func:`realistic_set` draws, per seed, one recording of one set:

- a part from :data:`imu.sim.sensor.PARTS` (noise density, steps, offsets and their
  temperature drift from its data sheet) at a rate from 25 to 200 Hz, the
  accelerometer on +-2 g half the time (it clips at jolts), the gyroscope on +-250,
  +-500 or +-2000 deg/s;
- host time stamps of a BLE link: samples in notifications of one connection interval
  (7.5-50 ms), latency jitter, and on half the recordings up to 30 % of the
  notifications lost in bursts; the device clock off by up to 50 ppm;
- the file cut to the set: it starts 0-1 s before the first rep, in the middle of
  the first rep, or (a lift from the floor) bent in the set-up hold before the first
  pull, and ends at the last lockout; the reps follow each other with almost no
  pause (lockout 0.05-0.35 s). ``standing_start=True`` keeps 2-3 s of standing still
  before the set instead (today's preferred path).

:func:`bend_trial` draws instead a laboratory trial of one slow bend (an ADXL345 +
ITG-3200 board at 200 Hz, 12 s, a standing start).

The motion is the simulator's (:mod:`imu.sim.script`); only the recording around it is
drawn here. Regenerate: ``python benchmarks/bench_realistic.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from imu.session import Session
from imu.sim.activities import ALL_KINDS, KINDS, DeadliftSet, SessionScript, Stand
from imu.sim.core import SimResult, simulate
from imu.sim.lifters import Lifter, make_lifter
from imu.sim.rotations import MOUNTINGS
from imu.sim.sensor import PARTS, part_model
from imu.sim.squat import SquatSet

STARTS = ("before_first_rep", "mid_rep", "standing", "setup_hold")
"""Where a file starts: 0-1 s before the first rep, in its middle, with 2-3 s of standing,
or (a lift from the floor) in the set-up hold at the bar before the first pull."""


def cut(result: SimResult, start_s: float, end_s: float) -> SimResult:
    """``result`` with only the samples (and truth) timed in ``[start_s, end_s]``; reps and
    bends that are not wholly inside are left out of the truth (a rep cut in two is not a
    rep). Times keep the original clock. ``kinematics`` is left whole (times from 0)."""
    time_s = result.session.data["time_s"].to_numpy()
    keep = (time_s >= start_s) & (time_s <= end_s)
    data = result.session.data.loc[keep].reset_index(drop=True)
    session = Session(
        data=data, metadata=dict(result.session.metadata), source=result.session.source
    )
    truth = result.truth_angles.loc[keep].reset_index(drop=True)
    reps, bends = (_inside(t, start_s, end_s) for t in (result.truth_reps, result.truth_bends))
    return dataclasses.replace(result, session=session, truth_angles=truth, truth_reps=reps,
                               truth_bends=bends)


def arrival_stamps(
    time_s: np.ndarray,
    per_notification: int,
    rng: np.random.Generator,
    *,
    latency_s: tuple[float, float] = (0.005, 0.03),
    stalls_per_min: float = 6.0,
    stall_s: tuple[float, float] = (0.2, 0.5),
    lost_per_min: float = 0.0,
    row_step_s: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Host time stamps of a logger that stamps every row of a BLE notification with the
    notification's arrival (SYNTHETIC), for samples measured at ``time_s``.

    Notifications carry ``per_notification`` samples each and arrive after their last
    sample by a latency drawn from ``latency_s`` (uniform): rows come in bunches on one
    stamp, irregularly spaced. ``stalls_per_min`` times a minute on average a
    notification is held for a time drawn from ``stall_s``; the ones due meanwhile arrive
    just after it, 1-3 ms apart (a stalled link and its backlog). ``lost_per_min`` times
    a minute a run of 1-5 notifications is lost. ``row_step_s`` > 0: the logger stamps each
    row as it writes it, about that much after the row before (0.5-1.5x), so the rows of
    a notification have nearly, not exactly, one stamp. Returns the stamps of the rows
    kept and the indices (into ``time_s``) of those rows; stamps never go back.
    """
    n = len(time_s)
    notification = np.arange(n) // per_notification
    m = int(notification[-1]) + 1 if n else 0
    last = np.minimum((np.arange(m) + 1) * per_notification, n) - 1
    arrival = time_s[last] + rng.uniform(*latency_s, m)
    per_min = m / max(float(time_s[-1] - time_s[0]) / 60.0, 1e-9) if n > 1 else 1.0
    for j in np.flatnonzero(rng.random(m) < stalls_per_min / per_min):
        end = arrival[j] + rng.uniform(*stall_s)
        held = np.flatnonzero((arrival >= arrival[j]) & (arrival <= end))
        arrival[held] = end + np.r_[0.0, np.cumsum(rng.uniform(0.001, 0.003, held.size - 1))]
    arrival = np.maximum.accumulate(arrival)  # delivered in order
    lost = np.zeros(m, dtype=bool)
    for j in np.flatnonzero(rng.random(m) < lost_per_min / per_min):
        lost[j : j + int(rng.integers(1, 6))] = True
    lost[:1] = False
    stamps = arrival[notification]
    if row_step_s > 0:
        step = rng.uniform(0.5, 1.5, n) * row_step_s
        step[np.r_[True, notification[1:] != notification[:-1]]] = 0.0
        total = np.cumsum(step)
        stamps = stamps + total - total[np.minimum(notification * per_notification, n - 1)]
    keep = np.flatnonzero(~lost[notification])
    return stamps[keep], keep


def _inside(truth: pd.DataFrame | None, start_s: float, end_s: float) -> pd.DataFrame | None:
    """The rows of ``truth`` (``start_s``, ``end_s`` columns) wholly inside the cut."""
    if truth is None:
        return None
    inside = (truth["start_s"] >= start_s) & (truth["end_s"] <= end_s + 1e-9)
    return truth.loc[inside].reset_index(drop=True)


def realistic_set(
    seed: int,
    *,
    start: str | None = None,
    kinds: tuple[str, ...] = tuple(KINDS),
    n_reps: tuple[int, int] = (3, 10),
    squats: bool = False,
    lifter: Lifter | None = None,
    part: str | None = None,
    sampling_rate_hz: float | None = None,
    acc_scale_error: float = 0.0,
    misalignment_deg: float = 5.0,
) -> tuple[SimResult, dict]:
    """One set recorded as described in the module docstring, drawn from ``seed``.

    ``start``: one of :data:`STARTS`, or None to draw between the first two. ``squats``: a
    set of back-to-back back squats (:class:`imu.sim.squat.SquatSet`, ``kinds`` unused)
    instead of a deadlift kind. ``lifter``: this lifter (several sets of one lifter, e.g.
    for cross-validation by subject) instead of one drawn from ``seed``; its lockout is
    still drawn (back to back). ``part`` (of :data:`PARTS`), ``sampling_rate_hz``: these
    instead of the drawn ones (everything else is drawn as without them);
    ``acc_scale_error``: the accelerometer reads this much high (> 0) or low on every axis
    (``SensorModel.acc_scale_error``; nothing else drawn changes); ``misalignment_deg``:
    sigma of the sensor's tilt on the strap (:func:`imu.sim.simulate`; 5 deg, capped at
    2.5 sigma; a strap put on askew: 15). Returns the cut
    recording and what was drawn (part, rate, ranges, loss, start, ...)."""
    rng = np.random.default_rng([seed, 12])
    drawn_start = str(rng.choice(STARTS[:2]))
    start = start or drawn_start
    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}")
    drawn_part = str(rng.choice(sorted(PARTS)))  # drawn either way: the same draws after
    drawn_rate = float(rng.choice([25.0, 40.0, 50.0, 52.0, 60.0, 100.0, 104.0, 110.0, 200.0]))
    part, rate = part or drawn_part, sampling_rate_hz or drawn_rate
    interval = float(rng.uniform(0.0075, 0.05))
    lossy = rng.random() < 0.5
    fields = {
        "acc_range_g": float(rng.choice([2.0, 4.0, 8.0, 16.0], p=[0.5, 0.2, 0.15, 0.15])),
        "gyr_range_deg_s": float(rng.choice([250.0, 500.0, 2000.0])),
        "connection_interval_s": interval,
        "latency_jitter_s": float(rng.uniform(0.2, 1.0)) * interval,
        "loss_fraction": float(rng.uniform(0.05, 0.3)) if lossy else 0.0,
        "mean_burst_packets": float(rng.uniform(1.0, 8.0)),
        "clock_error_ppm": float(rng.uniform(-50, 50)),
        "powered_s": float(rng.uniform(0, 600)),
        "temperature_rise_k": float(rng.uniform(2, 8)),
        "warmup_tau_s": float(rng.uniform(120, 300)),
    }
    if part == "adxl345_itg3200":  # fixed ranges of that rig (its steps are its own)
        fields.pop("acc_range_g"), fields.pop("gyr_range_deg_s")
    sensor = part_model(part, **fields, acc_scale_error=acc_scale_error)
    drawn_lifter = make_lifter(int(rng.integers(0, 1000)), seed=seed)
    lifter = dataclasses.replace(lifter or drawn_lifter, lockout_s=round(float(rng.uniform(0.05, 0.35)), 2))
    kind = str(rng.choice(kinds))
    if start == "setup_hold" and (squats or not ALL_KINDS[kind].from_floor):
        raise ValueError("a set-up hold start needs a lift from the floor")
    reps = int(rng.integers(n_reps[0], n_reps[1] + 1))
    lift_set = SquatSet(reps) if squats else DeadliftSet(reps, kind)
    kind = "squat" if squats else kind
    script = SessionScript(lifter, (Stand(3.0, still=True), lift_set), 0.0, f"set{seed}")
    mounting = str(rng.choice(sorted(MOUNTINGS)))
    result = simulate(
        script,
        sampling_rate_hz=rate,
        mounting=mounting,
        misalignment_deg=misalignment_deg,
        sensor=sensor,
        seed=seed,
        generator="imu.sim.recording.realistic_set",
    )
    first, last = result.truth_reps.iloc[0], result.truth_reps.iloc[-1]
    if start == "standing":
        begin = float(rng.uniform(0.0, 0.5))
    elif start == "before_first_rep":
        begin = float(first["start_s"]) - float(rng.uniform(0.0, 1.0))
    elif start == "setup_hold":  # bent over the bar: the end of the descent, or the hold
        share = float(rng.uniform(0.5, 0.75))
        begin = float(first["start_s"] + share * (first["bottom_s"] - first["start_s"]))
    else:
        share = float(rng.uniform(0.2, 0.8))
        begin = float(first["start_s"] + share * (first["end_s"] - first["start_s"]))
    recording = cut(result, begin, float(last["end_s"]))
    ends = result.truth_reps["end_s"].to_numpy()
    first_lockout = float(ends[ends >= begin][0])
    recording.session.metadata.update(
        {"device": f"simulated-imu (imu.sim, {part}-like errors)", "cut": start}
    )
    drawn = {
        "seed": seed,
        "part": part,
        "sampling_rate_hz": rate,
        "start": start,
        "kind": kind,
        "n_reps": len(recording.truth_reps),
        "first_lockout_s": first_lockout,
        "mounting": mounting,
        **{k: round(v, 4) for k, v in fields.items()},
    }
    return recording, drawn


BENDS = ("stoop", "squat")
"""The bends of :func:`bend_trial`: a stoop (a straight-legged hip hinge, the simulator's
good morning without a bar) or a squat."""


def bend_trial(
    seed: int, *, bend: str | None = None, lifter: Lifter | None = None, duration_s: float = 12.0,
    bend_s: tuple[float, float] = (2.0, 3.5),
) -> tuple[SimResult, dict]:
    """One laboratory trial of a single bend, drawn from ``seed`` (SYNTHETIC): an ADXL345 +
    ITG-3200 board (:data:`PARTS`: its offsets reach +-40 deg/s) read at 200 Hz by a wired
    logger (regular time stamps), the subject standing still 2-3 s, one slow stoop bend
    (descent and ascent each drawn from ``bend_s``, 2-3.5 s) or a squat (``bend``: one of
    :data:`BENDS`, None to draw it), then standing; the file is ``duration_s`` long.
    ``lifter``: this subject instead of one drawn from ``seed``. The session's metadata
    names the lift preset to measure it with (``lift``: stoop or squat) and the call that
    regenerates it (``generator``; a ``lifter`` passed in is named by its name only).
    Returns the trial and what was drawn."""
    rng = np.random.default_rng([seed, 13])
    call = _bend_trial_call(seed, bend, lifter, duration_s, bend_s)
    bend = bend or str(rng.choice(BENDS))
    if bend not in BENDS:
        raise ValueError(f"bend must be one of {BENDS}")
    subject = lifter or make_lifter(int(rng.integers(0, 1000)), seed=seed)
    good_morning = ALL_KINDS["good_morning"]
    subject = dataclasses.replace(
        subject,
        descent_s=round(float(rng.uniform(*bend_s)) / good_morning.descent, 2),
        ascent_s=round(float(rng.uniform(*bend_s)) / good_morning.ascent, 2),
        lockout_s=2.0,
    )
    movement = SquatSet(1) if bend == "squat" else DeadliftSet(1, "good_morning")
    stand_s = float(rng.uniform(2.0, 3.0))
    script = SessionScript(
        subject, (Stand(stand_s, still=True), movement, Stand(duration_s, still=True)), 0.0,
        f"trial{seed}",
    )
    powered_s = float(rng.uniform(0.0, 600.0))
    sensor = part_model("adxl345_itg3200", powered_s=powered_s, temperature_rise_k=4.0)
    mounting = str(rng.choice(sorted(MOUNTINGS)))
    result = simulate(
        script, sampling_rate_hz=200.0, mounting=mounting, misalignment_deg=5.0,
        sensor=sensor, seed=seed, generator=call,
    )  # fmt: skip
    first_s = float(result.session.data["time_s"].iloc[0])
    trial = cut(result, first_s, first_s + duration_s)
    trial.session.metadata.update(
        {"device": "simulated-imu (imu.sim, adxl345_itg3200-like errors)", "cut": "trial",
         "lift": bend}  # the preset: --lift stoop or squat (analyze and label warn otherwise)
    )
    drawn = {"seed": seed, "bend": bend, "stand_s": round(stand_s, 2), "mounting": mounting,
             "powered_s": round(powered_s, 1), "n_reps": len(trial.truth_reps)}
    return trial, drawn


def _bend_trial_call(seed: int, bend: str | None, lifter: Lifter | None, duration_s: float,
                     bend_s: tuple[float, float]) -> str:
    """The call that draws this trial again (its ``generator`` metadata): the arguments
    passed that are not the defaults (a bend passed changes the draws that follow it)."""
    arguments = [str(seed)] + ([f"bend={bend!r}"] if bend is not None else [])
    arguments += [f"lifter={lifter.name}"] if lifter is not None else []
    arguments += [f"duration_s={duration_s:g}"] if duration_s != 12.0 else []
    arguments += [f"bend_s=({bend_s[0]:g}, {bend_s[1]:g})"] if tuple(bend_s) != (2.0, 3.5) else []
    return f"imu.sim.recording.bend_trial({', '.join(arguments)})"
