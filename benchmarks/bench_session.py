"""Speed of the session format: write, read, gzip read, importer load, live recording.

    python benchmarks/bench_session.py [--minutes 60] [--rate 200] [--repeat 3]

Prints CPU seconds per operation on a synthetic recording (a sensor rocking +-30 deg at
0.3 Hz with noise; generated in memory, written to a temporary folder, deleted after),
the best of ``--repeat`` runs (CPU time: on a shared machine wall time mostly measures
the neighbours; every operation here runs on one thread). The reading figures stand next to a bare
``pandas.read_csv`` of the same file (the cost of parsing the text at all) with their
ratio to it; the goal is a one-hour 200 Hz session loading within a small factor of it.
Peak memory is the largest Python-traced allocation of one load (tracemalloc; numpy and
pandas buffers included) beside the file size.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
import tracemalloc
from collections.abc import Callable
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


def best_time(action: Callable[[], object], repeat: int) -> float:
    """Fewest CPU seconds ``action`` took over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return min(times)


def report(label: str, seconds: float, reference: float | None = None) -> None:
    ratio = f"  {seconds / reference:5.2f}x read_csv" if reference else ""
    print(f"{label:<44} {seconds:7.2f} s{ratio}")


def peak_mb(action: Callable[[], object]) -> float:
    """Peak traced allocation (MB) while ``action`` runs."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = synthetic(args.minutes, args.rate)
    session = Session(data, {"synthetic": "true", "sampling_rate_hz": f"{args.rate:g}"})
    print(f"{len(data)} samples ({args.minutes:g} min at {args.rate:g} Hz), synthetic")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        report("write_session", best_time(lambda: write_session(session, path, force=True), 1))
        print(f"{'file size':<44} {path.stat().st_size / 1e6:7.1f} MB")
        bare = best_time(lambda: pd.read_csv(path, comment="#"), args.repeat)
        report("pandas.read_csv (reference, no checks)", bare, bare)
        report("read_session", best_time(lambda: read_session(path), args.repeat), bare)
        report(
            "imu.importers.load (detection + read)",
            best_time(lambda: load(path), args.repeat),
            bare,
        )
        gz = Path(folder) / "s.csv.gz"
        gz.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6))
        print(f"{'gzipped size':<44} {gz.stat().st_size / 1e6:7.1f} MB")
        report("read_session (.csv.gz)", best_time(lambda: read_session(gz), args.repeat), bare)
        for label, action in (
            ("pandas.read_csv", lambda: pd.read_csv(path, comment="#")),
            ("imu.importers.load", lambda: load(path)),
        ):
            print(f"{'peak memory, ' + label:<44} {peak_mb(action):7.0f} MB")
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
