"""The :class:`Session` model and the names and units of the canonical columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imu.quality import data_quality
from imu.units import STANDARD_GRAVITY_M_S2 as STANDARD_GRAVITY

TIME = "time_s"
ACC = ("acc_x", "acc_y", "acc_z")
GYR = ("gyr_x", "gyr_y", "gyr_z")
REQUIRED = (TIME, *ACC, *GYR)
GAP_COLUMN = "gap"  # 1 on the first sample after a gap in a live recording

ACC_UNITS = {"m/s2": 1.0, "g": STANDARD_GRAVITY, "mg": STANDARD_GRAVITY / 1000}  # to m/s^2
GYR_UNITS = {"deg/s": 1.0, "rad/s": 180.0 / np.pi}  # factor to deg/s
MIN_RATE_HZ = 5.0
MAX_RATE_HZ = 2000.0


def is_synthetic(metadata: dict[str, str]) -> bool:
    """True when a recording's metadata marks it as simulated (``synthetic: true``, as
    ``imu simulate`` writes it)."""
    return str(metadata.get("synthetic", "")).strip().lower() in ("true", "1", "yes")


@dataclass
class Session:
    """A recording in canonical units.

    ``data`` has float64 columns ``time_s, acc_x..z (m/s^2), gyr_x..z (deg/s)`` and any
    extra columns; ``metadata`` holds the ``# key: value`` lines; ``warnings`` collects
    data-quality notes made while loading (never errors).
    """

    data: pd.DataFrame
    metadata: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def time_s(self) -> np.ndarray:
        """Sample times in s (float64, strictly increasing)."""
        return self.data[TIME].to_numpy(dtype=np.float64)

    def samples(self) -> np.ndarray:
        """(n, 7) float64 array ``[time_s, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z]``."""
        return self.data.loc[:, list(REQUIRED)].to_numpy(dtype=np.float64)

    @property
    def has_gyro(self) -> bool:
        """False for accelerometer-only recordings (``gyr_*`` all NaN, e.g. Polar H10)."""
        return bool(np.isfinite(self.data.loc[:, list(GYR)].to_numpy(dtype=np.float64)).any())

    @property
    def sampling_rate_hz(self) -> float:
        """Nominal rate from metadata, else 1 / median sample interval."""
        meta = self.metadata.get("sampling_rate_hz")
        if meta is not None:
            try:
                value = float(meta)
                if np.isfinite(value) and value > 0:
                    return value
            except ValueError:
                pass
        t = self.time_s
        if len(t) < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(t)))

    def quality(self) -> dict:
        """:func:`imu.quality.data_quality` of this recording at its nominal rate."""
        return data_quality(self.time_s, self.sampling_rate_hz)
