"""Live-path benchmarks: flag latency, cost per notification, memory over a long session.

    python benchmarks/bench_live.py [--hours 3] [--rate 200]

Prints five figures (goals from the project's issues):

1. signal time from a rep's lockout (``end_s``) to the moment its flag (``alert``, with
   the shipped model) comes out of the engine, when samples arrive in notifications of 8
   (goal <= 0.4 s); and to its ``rep`` event (confirmed one excursion later);
2. processing cost per notification: decode + timestamp (WitMotion decoder and
   Timestamper) and ``Engine.update``, in microseconds (mean and 99th percentile);
3. resident memory while a ``--hours`` session at ``--rate`` Hz streams through the
   runner (engine, recorder to a temporary file, event log), sampled every 10 min of
   signal (goal: flat, growth <= 50 MB);
4. through the live path (unmodified bleak, the fake BlueZ of tests/fakebluez over a
   private D-Bus, BleSource, Runner): seconds from a flagged rep's lockout, as the
   sensor sampled it, to its provisional alert at the sinks, a fake WitMotion streaming
   in real time at 100 and 200 Hz in notifications of 8 (goal <= 0.4 s, issue 13);
5. through the same path: a set with 1 s of notifications lost inside one rep and a
   disconnection losing 1 s inside another: reps outside the lost seconds counted, cut
   reps reported as ``rep_lost`` (issue 13: every rep outside the lost second reported).

Input: a synthetic session from imu.sim (demo lifter 0, seed 11), repeated with its
clock shifted to fill the duration (1-3); for 4-5 synthetic sets of held-out lifters
1000-1005 (:func:`flagged_set`). Synthetic data; regenerate by re-running this script.
4 and 5 need ``dbus-daemon`` (Debian package ``dbus``); 4 takes ~40 s per set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from imu.ble.profiles import PROFILES
from imu.ble.source import Batch
from imu.ble.timing import Timestamper
from imu.pipeline import Engine, EngineSettings
from imu.sim import demo_session, make_lifter, simulate
from imu.sinks.events import EventLog
from imu.sinks.recorder import Recorder
from imu.sinks.runner import Runner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fakebluez (4, 5)

PER_NOTIFICATION = 8


def synthetic_session(rate_hz: float) -> np.ndarray:
    """(n, 7) samples of a simulated training session (synthetic, imu.sim)."""
    script = demo_session(make_lifter(0), seed=11, n_sets=3, reps_per_set=(5, 6), rest_s=(60, 90))
    return simulate(script, sampling_rate_hz=rate_hz, seed=11).session.samples()


def latencies(samples: np.ndarray, rate_hz: float, classifier) -> tuple[list[float], list[float]]:
    """Signal time after lockout at which each flag's first alert, and each rep event, came out.

    Samples are fed in notifications of PER_NOTIFICATION; the time of an output is the
    time of the last sample fed when it came out.
    """
    engine = Engine(EngineSettings(sampling_rate_hz=rate_hz), classifier)
    flags, reps = [], []
    for i in range(0, len(samples), PER_NOTIFICATION):
        chunk = samples[i : i + PER_NOTIFICATION]
        now = float(chunk[-1, 0])
        for event in engine.update(chunk).events:
            if event["type"] == "rep":
                reps.append(now - event["end_s"])
            elif event["type"] == "alert" and event["kind"] != "flexion_limit":
                flags.append(now - event["time_s"])  # time_s = the rep's lockout
    return flags, reps


def witmotion_notifications(samples: np.ndarray) -> list[bytes]:
    """WitMotion packets (``55 61`` + 9 int16) for the samples, 8 per notification."""
    acc = np.clip(np.round(samples[:, 1:4] / 9.80665 * 2048), -32768, 32767)
    gyr = np.clip(np.round(samples[:, 4:7] * 32768 / 2000), -32768, 32767)
    body = np.hstack([acc, gyr, np.zeros((len(samples), 3))]).astype("<i2")
    packets = [b"\x55\x61" + row.tobytes() for row in body]
    return [
        b"".join(packets[i : i + PER_NOTIFICATION])
        for i in range(0, len(packets), PER_NOTIFICATION)
    ]


def costs(samples: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    profile = PROFILES["witmotion"]
    decoder = profile.new_decoder(rate_hz)
    stamper = Timestamper(rate_hz, profile.device_clock)
    engine = Engine(EngineSettings(sampling_rate_hz=rate_hz))
    decode_us, engine_us = [], []
    arrival = 0.0
    for data in witmotion_notifications(samples):
        arrival += PER_NOTIFICATION / rate_hz
        start = time.perf_counter()
        pieces = [
            chunk
            for frame in decoder.feed(data)
            for chunk, _ in stamper.update(arrival, frame).chunks()
        ]
        middle = time.perf_counter()
        for chunk in pieces:
            engine.update(chunk)
        end = time.perf_counter()
        decode_us.append((middle - start) * 1e6)
        engine_us.append((end - middle) * 1e6)
    return np.array(decode_us), np.array(engine_us)


class RepeatedSession:
    """A sample source: ``samples`` repeated (clock shifted) for ``duration_s``."""

    def __init__(self, samples: np.ndarray, duration_s: float, report_every_s: float) -> None:
        self.samples = samples
        self.duration_s = duration_s
        self.report_every_s = report_every_s
        self.device = "synthetic"
        self.metadata = {"synthetic": "true"}
        self.rss_mb: list[tuple[float, float]] = []

    def stop(self) -> None:
        self.duration_s = 0.0

    def status(self) -> dict:
        return {"state": "benchmark"}

    async def batches(self):
        span = self.samples[-1, 0] - self.samples[0, 0] + 1.0 / 200
        offset, elapsed, next_report = 0.0, 0.0, 0.0
        while elapsed < self.duration_s:
            shifted = self.samples.copy()
            shifted[:, 0] += offset - self.samples[0, 0]
            for i in range(0, len(shifted), PER_NOTIFICATION):
                chunk = shifted[i : i + PER_NOTIFICATION]
                elapsed = float(chunk[-1, 0])
                if elapsed >= next_report:
                    self.rss_mb.append((elapsed, rss_mb()))
                    next_report += self.report_every_s
                if elapsed >= self.duration_s:
                    return
                yield Batch(chunk)
            offset += span
            await asyncio.sleep(0)


def rss_mb() -> float:
    """Current resident set size in MB (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def memory(samples: np.ndarray, rate_hz: float, hours: float) -> list[tuple[float, float]]:
    source = RepeatedSession(samples, hours * 3600, report_every_s=600)
    with tempfile.TemporaryDirectory() as tmp:
        sinks = [
            Recorder(Path(tmp) / "long.csv", {"sampling_rate_hz": rate_hz, "synthetic": "true"}),
            EventLog(Path(tmp) / "events.jsonl"),
        ]
        runner = Runner(source, Engine(EngineSettings(sampling_rate_hz=rate_hz)), sinks)
        summary = asyncio.run(runner.run())
    print(f"  streamed {summary['n_samples']} samples, {summary['n_reps']} reps")
    return source.rss_mb


# --- 4 and 5: through the live path: unmodified bleak, the fake BlueZ, BleSource, Runner ----

WIT = "C4:00:00:00:00:01"
HELD_OUT_SEEDS = (1000, 1001, 1002, 1003, 1004, 1005)
"""Lifters/seeds of the synthetic sets streamed through the fake (no test uses them)."""


def flagged_set(seed: int, rate_hz: float) -> tuple[np.ndarray, Any]:
    """SYNTHETIC: a standing start, then 8 conventional deadlifts of lifter ``seed``, five of
    them rounded (imu.sim; regenerate with this script). Samples and the truth reps."""
    from imu.sim import DeadliftSet, SessionScript, Stand

    rounded = (False, True, False, True, True, False, True, True)
    script = SessionScript(
        make_lifter(seed),
        (Stand(3.0, still=True), DeadliftSet(8, "conventional", rounded=rounded), Stand(3.0)),
        0.0,
        f"bench-live-{seed}",
    )
    result = simulate(script, sampling_rate_hz=rate_hz, seed=seed)
    return result.session.samples(), result.truth_reps


def live_path_latency(rate_hz: float, seed: int, classifier: Any) -> tuple[list[float], int]:
    """Seconds from each flagged rep's lockout, as the sensor sampled it, to its provisional
    alert reaching the sinks, with a fake WitMotion streaming in real time, 8 samples per
    notification, through unmodified bleak over a private D-Bus (real arrival times); and
    the number of reps counted.

    The lockout sample is the one the engine names (the alert's ``time_s``); the sensor
    took it ``(last index of its notification - its index) / rate`` before that
    notification was sent (the fake's send time, ``time.monotonic``). The alert's time is
    when the runner handed it to the sinks (the alert sound is one of them).
    """
    from tests.fakebluez import FakeBluez
    from tests.fakebluez.devices import WIT_NOTIFY, packets_of, witmotion_spec, witmotion_stream
    from tests.fakebluez.session import Collector, run_live

    samples, _ = flagged_set(seed, rate_hz)
    packets = packets_of(witmotion_stream(samples), 20 * PER_NOTIFICATION)
    sent_at: list[float] = []
    collector = Collector()
    with FakeBluez() as fake:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
        fake.add_device(witmotion_spec(WIT))
        stream = fake.stream(WIT, WIT_NOTIFY, packets, PER_NOTIFICATION / rate_hz, sent_at=sent_at)
        engine = Engine(EngineSettings(sampling_rate_hz=rate_hz), classifier)
        run_live(
            WIT, PROFILES["witmotion"], rate_hz, stream, engine, [],
            samples_per_packet=[len(p) // 20 for p in packets], collector=collector,
            timeout_s=len(samples) / rate_hz + 60,
        )  # fmt: skip
    if not all(stream.result()):
        raise RuntimeError("the fake lost notifications")
    times = collector.all_samples()[:, 0]
    out = []
    for event, at in zip(collector.events, collector.wall_s):
        if event["type"] != "alert" or not event.get("provisional"):
            continue
        k = int(np.searchsorted(times, event["time_s"]))
        j = k // PER_NOTIFICATION
        last = min(j * PER_NOTIFICATION + PER_NOTIFICATION - 1, len(samples) - 1)
        out.append(at - (sent_at[j] - (last - k) / rate_hz))
    return out, len(collector.of_type("rep"))


def live_path_link_loss(seed: int) -> tuple[int, int, int, int, int]:
    """One synthetic set through the fake at 100 Hz with 1 s of notifications lost inside
    one rep and a disconnection + reconnection losing another second inside a later rep
    (lockstep, on the sensor's clock: tests/fakebluez/session.py). Returns (reps outside
    the lost seconds, of them counted, reps overlapping one, ``rep_lost`` events, sets)."""
    from imu.sim.matching import iou
    from tests.fakebluez import FakeBluez
    from tests.fakebluez.devices import WIT_NOTIFY, packets_of, witmotion_spec, witmotion_stream
    from tests.fakebluez.session import (
        LINK_LATENCY_S,
        Collector,
        arrival_times,
        lockstep,
        packets_arrive_at,
        run_live,
    )

    rate_hz = 100.0
    samples, truth = flagged_set(seed, rate_hz)
    rng = np.random.default_rng(seed)
    spans = []
    for k in sorted(rng.choice(np.arange(1, len(truth) - 1), 2, replace=False)):
        lo = truth.start_s[k] + rng.uniform(0, truth.end_s[k] - truth.start_s[k] - 1.0)
        spans.append((lo, lo + 1.0))
    packets: list[bytes | None] = list(packets_of(witmotion_stream(samples), 20 * PER_NOTIFICATION))
    sizes = [len(p) // 20 for p in packets]
    first_s = np.arange(len(packets)) * PER_NOTIFICATION / rate_hz
    last_s = first_s + (np.array(sizes) - 1) / rate_hz
    t0 = 1.75e9
    arrival = arrival_times(packets, t0 + last_s)
    lost = [np.flatnonzero((last_s >= lo) & (first_s < hi)).tolist() for lo, hi in spans]
    for i in lost[0] + lost[1]:
        packets[i] = None
    collector = Collector()
    with FakeBluez() as fake, packets_arrive_at(arrival):
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = fake.address
        fake.add_device(witmotion_spec(WIT))

        def drop(i: int) -> None:
            if i == lost[1][0]:
                fake.device(WIT).drop_link()

        stream = fake.stream(
            WIT, WIT_NOTIFY, packets, 0.0, on_packet=drop, hold_while_down=True,
            gate=lockstep(collector, sizes),
        )  # fmt: skip
        engine = Engine(EngineSettings(sampling_rate_hz=rate_hz))
        run_live(
            WIT, PROFILES["witmotion"], rate_hz, stream, engine, [],
            samples_per_packet=sizes, collector=collector,
        )  # fmt: skip
    origin = t0 + LINK_LATENCY_S
    found = [(r["start_s"] - origin, r["end_s"] - origin) for r in collector.of_type("rep")]
    reps = list(zip(truth.start_s, truth.end_s))
    hit = [any(s < hi and e > lo for lo, hi in spans) for s, e in reps]
    outside = [rep for rep, h in zip(reps, hit) if not h]
    counted = sum(any(iou(f, rep) >= 0.5 for f in found) for rep in outside)
    n_lost, n_sets = len(collector.of_type("rep_lost")), len(collector.of_type("set"))
    return len(outside), counted, sum(hit), n_lost, n_sets


def live_path(args: argparse.Namespace, classifier: Any) -> None:
    """Figures 4 and 5 (needs dbus-daemon; see docs/live.md, testing without a radio)."""
    from tests.fakebluez import dbus_daemon_available

    if not dbus_daemon_available():
        print("4./5. skipped: no dbus-daemon (Debian package dbus) for the fake BlueZ")
        return
    for rate_hz in (100.0, 200.0):
        latencies, n_reps = [], 0
        for seed in HELD_OUT_SEEDS[: args.live_sets]:
            lat, reps = live_path_latency(rate_hz, seed, classifier)
            latencies += lat
            n_reps += reps
        v = np.array(latencies)
        print(
            f"4. through bleak + fake WitMotion in real time, {rate_hz:g} Hz, "
            f"{PER_NOTIFICATION} samples per notification: lockout (sampled) -> provisional "
            f"alert at the sinks: median {np.median(v):.3f} s, p95 {np.percentile(v, 95):.3f} s, "
            f"max {v.max():.3f} s over {len(v)} alerts ({n_reps} reps, "
            f"{args.live_sets} SYNTHETIC sets; goal <= 0.4 s)"
        )
    rows = [live_path_link_loss(seed) for seed in HELD_OUT_SEEDS]
    outside, counted, over, n_lost, n_sets = (sum(r[k] for r in rows) for k in range(5))
    print(
        f"5. link loss through bleak + fake WitMotion ({len(rows)} SYNTHETIC sets of 8 reps, "
        "each with 1 s of notifications lost inside one rep and a disconnection losing 1 s "
        f"inside another): reps outside the lost seconds counted {counted}/{outside}; reps "
        f"overlapping one {over}, rep_lost events {n_lost}; sets {n_sets} (goal: every rep "
        "outside counted, each cut rep reported, one set each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument(
        "--live-sets", type=int, default=2, help="sets per rate streamed in real time for 4"
    )
    parser.add_argument("--only-live", action="store_true", help="figures 4 and 5 only")
    args = parser.parse_args()
    from imu.model.files import default_model_path, load_model

    if args.only_live:
        live_path(args, load_model(default_model_path()))
        return
    samples = synthetic_session(args.rate)
    print(f"synthetic session: {len(samples)} samples at {args.rate:g} Hz (imu.sim)")

    flags, reps = (
        np.array(x) for x in latencies(samples, args.rate, load_model(default_model_path()))
    )
    print(
        f"1. lockout -> flag alert: median {np.median(flags):.3f} s, max {flags.max():.3f} s "
        f"over {len(flags)} flags (goal <= 0.4 s); lockout -> rep event: median "
        f"{np.median(reps):.2f} s, max {reps.max():.2f} s over {len(reps)} reps (the rep is "
        "confirmed when the next excursion starts, or 8 s later)"
    )

    decode_us, engine_us = costs(samples, args.rate)
    print(
        f"2. per notification of {PER_NOTIFICATION} samples: decode+timestamp "
        f"{decode_us.mean():.0f} us (p99 {np.percentile(decode_us, 99):.0f}), engine "
        f"{engine_us.mean():.0f} us (p99 {np.percentile(engine_us, 99):.0f}); budget "
        f"{PER_NOTIFICATION / args.rate * 1e6:.0f} us at {args.rate:g} Hz"
    )

    start = time.perf_counter()
    trace = memory(samples, args.rate, args.hours)
    seconds = time.perf_counter() - start
    first, last = trace[0][1], trace[-1][1]
    points = ", ".join(f"{t / 3600:.1f} h {mb:.0f} MB" for t, mb in trace)
    print(
        f"3. RSS over {args.hours:g} h at {args.rate:g} Hz through the runner: {points}; "
        f"growth {last - first:+.1f} MB (goal <= 50 MB); ran in {seconds:.0f} s"
    )
    live_path(args, load_model(default_model_path()))


if __name__ == "__main__":
    main()
