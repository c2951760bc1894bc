"""Speed of the session format: write, read (plain and gzip), importer load, live recording.

    python benchmarks/bench_session.py [--minutes 60] [--rate 200] [--repeat 7] [--file CSV]

Every reading figure stands next to a bare ``pandas.read_csv`` of the same file (the
cost of parsing the text at all, no checks) with its ratio to it, measured in the same
run: the reference and the readers take turns, ``--repeat`` rounds, and each keeps its
fewest CPU seconds (of all the process's threads) and, separately, its fewest wall
seconds (on a shared machine wall time also measures the neighbours). The
``.csv.gz`` readers are set against both ``read_csv`` of the gzip file and of the plain
one. Goal: a one-hour 200 Hz session loads within ~1x the bare parse, with every check of
docs/session-format.md.

The data is SYNTHETIC: by default a sensor rocking +-30 deg at 0.3 Hz with noise,
generated in memory and written to a temporary folder (deleted after). ``--file`` reads
a canonical session CSV instead, e.g. one hour of the simulator::

    python -c "from imu.sim import demo_session, make_lifter, simulate; \
from imu.session import write_session; \
r = simulate(demo_session(make_lifter(0), seed=7, minutes=60), sampling_rate_hz=200, seed=7); \
write_session(r.session, '/tmp/hour.csv')"

Peak memory is the largest Python-traced allocation of one load (tracemalloc; numpy and
pandas buffers included) beside the file size.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping
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


def best_times(
    actions: Mapping[str, Callable[[], object]], repeat: int
) -> dict[str, tuple[float, float]]:
    """Fewest (CPU, wall) seconds of each action over ``repeat`` rounds in which they take
    turns (so a busy spell of the machine hits all of them alike)."""
    best = {label: (float("inf"), float("inf")) for label in actions}
    for _ in range(repeat):
        for label, action in actions.items():
            cpu, wall = time.process_time(), time.perf_counter()
            action()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[label] = (min(best[label][0], cpu), min(best[label][1], wall))
    return best


def report(label: str, seconds: tuple[float, float], *references: tuple[float, float]) -> None:
    """One line: CPU s and its ratios to ``references``, then the same for wall s."""
    cells = []
    for kind in (0, 1):
        ratios = "".join(f" {seconds[kind] / r[kind]:5.2f}x" for r in references)
        cells.append(f"{seconds[kind]:7.3f} s{ratios}")
    print(f"{label:<44} " + "   ".join(cells))


def peak_mb(action: Callable[[], object]) -> float:
    """Peak traced allocation (MB) while ``action`` runs."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def reading(path: Path, gz: Path, repeat: int) -> None:
    """The read/load figures of ``path`` and its gzip copy ``gz``, against read_csv."""
    times = best_times(
        {
            "csv": lambda: pd.read_csv(path, comment="#"),
            "read_session": lambda: read_session(path),
            "load": lambda: load(path),
            "gz": lambda: pd.read_csv(gz, comment="#"),
            "read_session gz": lambda: read_session(gz),
            "load gz": lambda: load(gz),
        },
        repeat,
    )
    csv, gz_csv = times["csv"], times["gz"]
    print(f"best of {repeat}{'':<35} {'CPU':>9} {'/ read_csv':>6}   {'wall':>9} {'/ read_csv':>6}")
    report("pandas.read_csv (reference, no checks)", csv, csv)
    report("read_session", times["read_session"], csv)
    report("imu.importers.load (detection + read)", times["load"], csv)
    print(f"{'':<44} {'':9} {'/ read_csv(csv), (gz)':>20}")
    report("pandas.read_csv (.csv.gz, reference)", gz_csv, csv, gz_csv)
    report("read_session (.csv.gz)", times["read_session gz"], csv, gz_csv)
    report("imu.importers.load (.csv.gz)", times["load gz"], csv, gz_csv)
    for label, action in (
        ("pandas.read_csv", lambda: pd.read_csv(path, comment="#")),
        ("imu.importers.load", lambda: load(path)),
    ):
        print(f"{'peak memory, ' + label:<44} {peak_mb(action):7.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--file", type=Path, help="time this canonical session CSV instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        if args.file:
            shutil.copyfile(args.file, path)
            session = read_session(path)
            print(f"{args.file}: {len(session.data)} samples")
        else:
            data = synthetic(args.minutes, args.rate)
            session = Session(data, {"synthetic": "true", "sampling_rate_hz": f"{args.rate:g}"})
            print(f"{len(data)} samples ({args.minutes:g} min at {args.rate:g} Hz), synthetic")
            write = best_times({"w": lambda: write_session(session, path, force=True)}, 1)
            report("write_session (CPU, wall)", write["w"])
        print(f"{'file size':<44} {path.stat().st_size / 1e6:7.1f} MB")
        gz = Path(folder) / "s.csv.gz"
        gz.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6))
        print(f"{'gzipped size':<44} {gz.stat().st_size / 1e6:7.1f} MB")
        reading(path, gz, args.repeat)
        samples = session.data.loc[:, list(REQUIRED)].to_numpy()
        rate = session.sampling_rate_hz
        chunk = max(1, int(rate / 10))  # 10 notifications a second

        def record() -> None:
            with SessionWriter(Path(folder) / "rec.csv") as writer:
                for i in range(0, len(samples), chunk):
                    writer.append(samples[i : i + chunk])

        elapsed = time.perf_counter()
        record()
        elapsed = time.perf_counter() - elapsed
        print(
            f"{'SessionWriter.append, chunks of ' + str(chunk):<44} {elapsed:7.2f} s "
            f"({len(samples) / elapsed / 1e3:.0f} k samples/s; live needs {rate:g}/s)"
        )


if __name__ == "__main__":
    main()
