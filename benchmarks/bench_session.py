"""Speed of the session format: write, read, gzip read, importer load, live recording.

    python benchmarks/bench_session.py [--minutes 60] [--rate 100]

Prints seconds per operation on a synthetic recording (a sensor rocking +-30 deg at
0.3 Hz with noise; generated in memory, written to a temporary folder, deleted after).
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from imu.importers import load
from imu.session import (
    REQUIRED,
    STANDARD_GRAVITY,
    Session,
    SessionWriter,
    read_session,
    write_session,
)


def synthetic(minutes: float, rate_hz: float) -> pd.DataFrame:
    n = int(minutes * 60 * rate_hz)
    t = np.arange(n) / rate_hz
    rng = np.random.default_rng(0)
    angle = np.radians(30 * np.sin(2 * np.pi * 0.3 * t))
    noise = rng.normal(0, 0.05, (n, 6))
    return pd.DataFrame(
        {
            "time_s": t,
            "acc_x": noise[:, 0],
            "acc_y": STANDARD_GRAVITY * np.sin(angle) + noise[:, 1],
            "acc_z": STANDARD_GRAVITY * np.cos(angle) + noise[:, 2],
            "gyr_x": np.degrees(np.gradient(angle, t)) + noise[:, 3],
            "gyr_y": noise[:, 4],
            "gyr_z": noise[:, 5],
        }
    )


def timed(label: str, action) -> object:
    start = time.perf_counter()
    result = action()
    print(f"{label:<44} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    data = synthetic(args.minutes, args.rate)
    session = Session(data, {"synthetic": "true", "sampling_rate_hz": f"{args.rate:g}"})
    print(f"{len(data)} samples ({args.minutes:g} min at {args.rate:g} Hz), synthetic")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        timed("write_session", lambda: write_session(session, path))
        print(f"{'file size':<44} {path.stat().st_size / 1e6:7.1f} MB")
        timed("read_session", lambda: read_session(path))
        gz = Path(folder) / "s.csv.gz"
        gz.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6))
        print(f"{'gzipped size':<44} {gz.stat().st_size / 1e6:7.1f} MB")
        timed("read_session (.csv.gz)", lambda: read_session(gz))
        timed("imu.importers.load (detection + read)", lambda: load(path))
        samples = data.loc[:, list(REQUIRED)].to_numpy()
        chunk = max(1, int(args.rate / 10))  # 10 notifications a second

        def record() -> None:
            with SessionWriter(Path(folder) / "rec.csv") as writer:
                for i in range(0, len(samples), chunk):
                    writer.append(samples[i : i + chunk])

        elapsed = time.perf_counter()
        record()
        elapsed = time.perf_counter() - elapsed
        print(
            f"{'SessionWriter.append, chunks of ' + str(chunk):<44} {elapsed:7.2f} s "
            f"({len(samples) / elapsed / 1e3:.0f} k samples/s; live needs {args.rate:g}/s)"
        )


if __name__ == "__main__":
    main()
