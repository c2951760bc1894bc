"""What a person reads about samples lost: one count of *gaps in the data* (over 0.25 s:
the engine's), the same in the loading warning and in `imu analyze`, and the *short
dropouts* (bridged) by that name (docs/vocabulary.md).

SYNTHETIC: the set of tests/test_pipeline_gap_reps.py (imu.sim, lifter 4, seed 31), with
rows cut out of it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from imu.cli import main
from imu.session import Session, write_session
from tests.test_pipeline_gap_reps import RATE_HZ, gapped_set


def test_analyze_counts_one_kind_of_gap_and_names_the_short_dropouts(tmp_path, capsys):
    """`imu analyze` printed '38 gaps in the timeline' (every loss over 3 sample intervals)
    beside '2 gaps in the data' (the engine's, over 0.25 s). A person now reads one count
    of gaps in the data, the same in the warning and the analysis, and the short dropouts
    (bridged) by that name."""
    result = gapped_set()
    samples, truth = result.session.samples(), result.truth_reps
    keep = np.ones(len(samples), dtype=bool)
    for start in range(400, len(samples) - 10, 250):  # 3-5 samples: 0.04-0.06 s
        keep[start : start + 3 + start % 3] = False
    short_only = samples[keep]
    for lo, hi in [(truth.end_s[1] + 0.1, truth.end_s[1] + 0.9),
                   (truth.start_s[3] + 1.0, truth.start_s[3] + 3.0)]:  # fmt: skip
        keep &= (samples[:, 0] < lo) | (samples[:, 0] >= hi)
    columns = ["time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    metadata = {"sampling_rate_hz": str(RATE_HZ), "synthetic": "true"}
    said = {}
    for name, rows in (("short", short_only), ("both", samples[keep])):
        path = tmp_path / f"{name}.csv"
        write_session(Session(pd.DataFrame(rows, columns=columns), metadata), path)
        assert main(["analyze", "--no-model", str(path)]) == 0
        said[name] = capsys.readouterr().out
    steps = np.diff(short_only[:, 0])
    n_short = int(np.sum(steps > 3 / RATE_HZ))
    assert n_short > 10
    assert (
        f"{n_short} short dropouts of at most 0.06 s (bridged; no gap over 0.25 s" in said["short"]
    )
    assert "gap" not in said["short"].replace("no gap over 0.25 s in the data", "")
    both = said["both"]
    assert "timeline" not in both
    assert re.search(
        r"warning: .*: 2 gaps in the data, longest 2\.0\d s, the first at 0:13\.", both
    )
    steps = np.diff(samples[keep][:, 0])
    n_short = int(np.sum((steps > 3 / RATE_HZ) & (steps <= 0.25)))
    assert f" from the start; {n_short} short dropouts of at most 0.06 s (bridged); " in both
    assert "\n2 gaps in the data, 2.8 s in total, 1 too long to bridge" in both, both
