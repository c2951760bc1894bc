"""Live-path benchmarks: flag latency, cost per notification, memory over a long session.

    python benchmarks/bench_live.py [--hours 3] [--rate 200]

Prints three figures (goals from the project's issue):

1. signal time from a rep's lockout (``end_s``) to the moment its flag (``alert``, with
   the shipped model) comes out of the engine, when samples arrive in notifications of 8
   (goal <= 0.4 s); and to its ``rep`` event (confirmed one excursion later);
2. processing cost per notification: decode + timestamp (WitMotion decoder and
   Timestamper) and ``Engine.update``, in microseconds (mean and 99th percentile);
3. resident memory while a ``--hours`` session at ``--rate`` Hz streams through the
   runner (engine, recorder to a temporary file, event log), sampled every 10 min of
   signal (goal: flat, growth <= 50 MB).

Input: a synthetic session from imu.sim (demo lifter 0, seed 11), repeated with its
clock shifted to fill the duration. Synthetic data; regenerate by re-running this script.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from imu.ble.profiles import PROFILES
from imu.ble.source import Batch
from imu.ble.timing import Timestamper
from imu.pipeline import Engine, EngineSettings
from imu.sim import demo_session, make_lifter, simulate
from imu.sinks.events import EventLog
from imu.sinks.recorder import Recorder
from imu.sinks.runner import Runner

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    samples = synthetic_session(args.rate)
    print(f"synthetic session: {len(samples)} samples at {args.rate:g} Hz (imu.sim)")

    from imu.model.files import default_model_path, load_model

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


if __name__ == "__main__":
    main()
