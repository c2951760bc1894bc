"""Report size and build time for a one-hour simulated session (synthetic data).

Run: ``python benchmarks/bench_report.py [--minutes 60] [--rate 100]``. Prints the
session length, the analysis and report build times, the HTML size and the PNG sizes.
The session is simulated (imu.sim.demo_session, seed 0), not recorded.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from imu.pipeline import analyze_session
from imu.report import build_report, from_analysis
from imu.sim import demo_session, make_lifter, simulate

SET_PERIOD_S = 155.0  # a set of ~6 reps plus a 60-180 s rest, on average


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0, help="sampling rate (Hz)")
    args = parser.parse_args()
    n_sets = max(1, round(args.minutes * 60 / SET_PERIOD_S))
    script = demo_session(make_lifter(0), seed=0, n_sets=n_sets, name="bench")
    t0 = time.perf_counter()
    result = simulate(script, sampling_rate_hz=args.rate, seed=0)
    t1 = time.perf_counter()
    analysis = analyze_session(result.session)
    t2 = time.perf_counter()
    report = build_report([from_analysis(analysis, "bench", result.session.metadata)])
    t3 = time.perf_counter()
    html_bytes = len(report.html.encode("utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        pngs = report.write_pngs(tmp)
        png_kb = {p.name: Path(p).stat().st_size / 1024 for p in pngs}
    t4 = time.perf_counter()
    duration_min = (analysis.angles[-1, 0] - analysis.angles[0, 0]) / 60
    print(
        f"session: {duration_min:.1f} min, {len(analysis.angles)} samples at {args.rate:g} Hz, "
        f"{len(analysis.reps)} reps in {len(analysis.sets)} sets (synthetic, imu.sim seed 0)"
    )
    print(
        f"simulate {t1 - t0:.1f} s, analyse {t2 - t1:.1f} s, build report {t3 - t2:.1f} s, "
        f"PNGs {t4 - t3:.1f} s"
    )
    print(f"HTML report: {html_bytes / 1024:.0f} kB")
    print("PNG files: " + ", ".join(f"{k} {v:.0f} kB" for k, v in png_kb.items()))


if __name__ == "__main__":
    main()
