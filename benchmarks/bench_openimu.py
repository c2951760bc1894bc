"""Speed of the OpenIMU codec (imu.ble.openimu_codec) against what a live stream needs.

Run: ``python benchmarks/bench_openimu.py [--packets 20000] [--samples 19]``. Prints the
time to decode one packet of that many samples (the most that fit ATT MTU 247) and to
convert it to SI units, packets and samples per second, and the share of one CPU core a
416 Hz stream takes (416 / samples packets per second). Packets hold pseudo-random
counts (seed 0), not recorded data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from imu.ble import openimu_codec as oc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20000)
    parser.add_argument("--samples", type=int, default=19)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    packets = [
        oc.encode_packet(
            rng.integers(-32768, 32768, (args.samples, 6)),
            sequence=(i * args.samples) % 65536,
            device_time_us=i * 45_673,
            acc_range_code=2,
            gyr_range_code=3,
            sampling_rate_hz=416.0,
        )
        for i in range(args.packets)
    ]
    start = time.perf_counter()
    for data in packets:
        packet = oc.decode_packet(data)
        packet.acc_m_s2, packet.gyr_deg_s  # noqa: B018 - the conversion is part of the cost
    elapsed = time.perf_counter() - start
    per_packet_us = elapsed / args.packets * 1e6
    rate_packets = 416 / args.samples
    print(
        f"decode + SI conversion: {per_packet_us:.1f} us per {args.samples}-sample packet, "
        f"{args.packets / elapsed:,.0f} packets/s, {args.packets * args.samples / elapsed:,.0f} "
        f"samples/s"
    )
    print(
        f"a 416 Hz stream ({rate_packets:.1f} packets/s) uses "
        f"{rate_packets * per_packet_us / 1e4:.3f} % of one core"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
