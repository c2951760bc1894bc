"""Cost and timing accuracy of the BLE device profiles (decoder + Timestamper) per device.

Run: ``python benchmarks/bench_ble_profiles.py [--seconds 120]``. For every profile it
builds a synthetic stream (not recorded data; seed 0) at the profile's default rate, in
notifications of the size that device sends, arriving with exponential latency jitter
(mean 10 ms, plus a constant 15 ms) on a device clock running 200 ppm fast, then decodes
and timestamps it. Prints microseconds per sample, the share of one CPU core the live
stream takes, and the timestamp error after 10 s (host time minus true time minus the
constant latency) against the error of stamping with arrival times.
"""

from __future__ import annotations

import argparse
import struct
import time

import numpy as np

from imu.ble import openimu_codec
from imu.ble.profiles import PROFILES
from imu.ble.profiles.movesense import IMU_REF
from imu.ble.timing import Timestamper

BASE_LATENCY_S = 0.015
JITTER_S = 0.010
DRIFT = 200e-6


def notifications(name: str, n_samples: int, rate_hz: float) -> list[tuple[str, bytes, int]]:
    """``[(char_uuid, bytes, index of the last sample in it)]`` for ``n_samples`` samples."""
    profile = PROFILES[name]
    data = profile.notify_uuids[-1]
    dt_ns = 1e9 / rate_hz
    out: list[tuple[str, bytes, int]] = []
    if name in ("witmotion", "thingy52"):
        fmt = b"\x55\x61" if name == "witmotion" else b""
        for i in range(n_samples):
            out.append((data, fmt + struct.pack("<9h", 0, 0, 1000, 1, 2, 3, 0, 0, 0), i))
        return out
    k = 8
    for first in range(0, n_samples - k + 1, k):
        last = first + k - 1
        if name.startswith("polar"):
            stamp = int(1e12 + last * dt_ns).to_bytes(8, "little")
            acc = np.tile([0, 0, 1000], (k, 1)).astype("<i2").tobytes()
            out.append((data, b"\x02" + stamp + b"\x01" + acc, last))
            if profile.has_gyro:  # reference sample + one block of k-1 one-bit zero deltas
                gyro = (
                    struct.pack("<3h", 1, 2, 3) + bytes([1, k - 1]) + bytes((3 * (k - 1) + 7) // 8)
                )
                out.append((data, b"\x05" + stamp + b"\x80" + gyro, last))
        elif name == "movesense":
            body = struct.pack("<I", int(first * 1000 / rate_hz)) + struct.pack(
                f"<{6 * k}f", *([0.0, 0.0, 9.8] * k + [1.0, 2.0, 3.0] * k)
            )
            out.append((data, bytes([2, IMU_REF]) + body, last))
        else:
            packet = openimu_codec.encode_packet(
                np.zeros((k, 6), dtype=np.int16),
                sequence=first % 65536,
                device_time_us=int(first * 1e6 / rate_hz) % 2**32,
                acc_range_code=2,
                gyr_range_code=3,
                sampling_rate_hz=rate_hz,
            )
            out.append((data, packet, last))
    return out


def run(name: str, seconds: float, rng: np.random.Generator) -> str:
    profile = PROFILES[name]
    rate = profile.default_rate_hz
    n = int(seconds * rate)
    stream = notifications(name, n, rate)
    true = np.arange(n) / (rate * (1 + DRIFT))  # host time each sample was taken
    arrival = [true[last] + BASE_LATENCY_S + rng.exponential(JITTER_S) for _, _, last in stream]
    arrival = np.maximum.accumulate(arrival)
    decoder = profile.new_decoder(rate)
    stamper = Timestamper(rate, profile.device_clock)
    host = []
    start = time.perf_counter()
    for (uuid, data, _), when in zip(stream, arrival):
        for frame in decoder.feed(data, uuid):
            host.append(stamper.update(float(when), frame).samples[:, 0])
    elapsed = time.perf_counter() - start
    times = np.concatenate(host)
    truth = true[-len(times) :] if name == "polar-verity" else true[: len(times)]
    settled = truth > 10.0
    error_ms = (times[settled] - truth[settled] - BASE_LATENCY_S) * 1e3
    lasts = np.array([last for _, _, last in stream])
    naive_ms = (arrival - true[lasts] - BASE_LATENCY_S) * 1e3  # stamping with arrival
    per_sample_us = elapsed / len(times) * 1e6
    return (
        f"{name:13s} {per_sample_us:7.1f} us/sample  {100 * per_sample_us * rate / 1e6:5.2f} % core"
        f"  error {error_ms.min():+5.1f}..{error_ms.max():+5.1f} ms"
        f"  (arrival times {naive_ms.min():+5.1f}..{naive_ms.max():+6.1f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{args.seconds:g} s per device at its default rate, jitter mean {JITTER_S * 1e3:g} ms")
    for name in PROFILES:
        print(run(name, args.seconds, rng))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
