"""The canonical session CSV: the one module that reads and writes it.

Format (see docs/session-format.md)::

    # sampling_rate_hz: 100
    # device: witmotion-wt901blecl
    time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z
    12.000000,0.12,-9.79,0.40,0.5,-1.2,0.0

- ``time_s`` seconds, strictly increasing, any origin.
- ``acc_*`` specific force in m/s^2, sensor frame, gravity included.
- ``gyr_*`` angular rate in deg/s, sensor frame, right-handed.
- Extra columns are kept and written back. Metadata lines are ``# key: value``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imu.errors import input_error

TIME = "time_s"
ACC = ("acc_x", "acc_y", "acc_z")
GYR = ("gyr_x", "gyr_y", "gyr_z")
REQUIRED = (TIME, *ACC, *GYR)
GAP_COLUMN = "gap"  # 1 on the first sample after a gap in a live recording


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
        return self.data[TIME].to_numpy(dtype=np.float64)

    def samples(self) -> np.ndarray:
        """(n, 7) float64 array ``[time_s, acc_x, acc_y, acc_z, gyr_x, gyr_y, gyr_z]``."""
        return self.data.loc[:, list(REQUIRED)].to_numpy(dtype=np.float64)

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


def _split_metadata(text: str) -> tuple[dict[str, str], int]:
    """Return metadata dict and the index of the first non-metadata line."""
    metadata: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        body = lines[i].lstrip("#").strip()
        if ":" in body:
            key, value = body.split(":", 1)
            metadata[key.strip()] = value.strip()
        i += 1
    return metadata, i


def read_session(path: str | os.PathLike) -> Session:
    """Read a canonical session CSV. Raises :class:`imu.errors.InputError` on bad input."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise input_error("no such file", path=str(path)) from None
    except UnicodeDecodeError:
        raise input_error("not a text CSV file (cannot decode as UTF-8)", path=str(path)) from None
    metadata, header_index = _split_metadata(text)
    body = "\n".join(text.splitlines()[header_index:])
    if not body.strip():
        raise input_error("empty file: no header line", path=str(path))
    frame = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise input_error(
            f"missing column(s) {', '.join(missing)}",
            path=str(path),
            line=header_index + 1,
            hint=f"a session CSV needs the header {','.join(REQUIRED)}",
        )
    for column in REQUIRED:
        values = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = values
    return Session(data=frame, metadata=metadata, source=str(path))


def format_metadata(metadata: dict[str, str]) -> str:
    return "".join(f"# {key}: {value}\n" for key, value in metadata.items())


def write_session(session: Session, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write a canonical session CSV (metadata lines, header, rows; extra columns kept)."""
    path = Path(path)
    if path.exists() and not force:
        raise input_error("exists already (use --force to overwrite)", path=str(path))
    columns = list(REQUIRED) + [c for c in session.data.columns if c not in REQUIRED]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(format_metadata(session.metadata))
        session.data.to_csv(handle, columns=columns, index=False, float_format="%.6f", lineterminator="\n")
