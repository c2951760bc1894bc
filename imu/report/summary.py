"""Per-set and per-session figures computed from the rep table.

Everything here is derived from the analysis' rep objects only, so every number in a
report can be traced back to ``imu analyze --json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from imu.pipeline.metrics import fitted_ends
from imu.report.data import SessionData


def speed_loss_pct(ascent_s: np.ndarray) -> float:
    """Loss of ascent speed over a set (%), from the fitted ascent durations.

    Speed is taken as inversely proportional to the ascent (concentric) duration over the
    same range of motion, so ``loss = 1 - t_first / t_last``. Positive = slowing down.
    """
    first, last = fitted_ends(ascent_s)
    if not (np.isfinite(first) and np.isfinite(last)) or first <= 0 or last <= 0:
        return float("nan")
    return 100.0 * (1.0 - first / last)


def rounded_mask(reps: pd.DataFrame) -> np.ndarray:
    """Boolean array: the classifier called the rep rounded (``rounded is True``)."""
    return np.array([value is True for value in reps["rounded"]], dtype=bool)


def flagged_mask(reps: pd.DataFrame) -> np.ndarray:
    """Boolean array: the rep is flagged, i.e. rounded or hyperextended (or both)."""
    return rounded_mask(reps) | reps["hyperextended"].to_numpy(dtype=bool)


def classified_mask(reps: pd.DataFrame) -> np.ndarray:
    """Boolean array: the rep has a verdict (a classifier was used)."""
    return np.array([value is not None for value in reps["rounded"]], dtype=bool)


SET_COLUMNS = (
    "set",
    "n_reps",
    "n_reps_lost",
    "start_s",
    "end_s",
    "rest_before_s",
    "time_under_tension_s",
    "peak_flexion_mean_deg",
    "peak_flexion_max_deg",
    "peak_flexion_rise_deg",
    "ascent_mean_s",
    "speed_loss_pct",
    "n_rounded",
    "n_hyperextended",
    "load_kg",
)


def set_summary(session: SessionData) -> pd.DataFrame:
    """One row per set with :data:`SET_COLUMNS`.

    ``peak_flexion_rise_deg`` is the fitted rise of peak flexion from the first to the last
    rep (deg, positive = creeping deeper), as the set events and the log give it
    (:func:`imu.pipeline.metrics.set_summary`); ``speed_loss_pct`` see :func:`speed_loss_pct`;
    ``rest_before_s`` is the time from the previous set's last lockout to this set's
    first descent (NaN for the first set); ``load_kg`` is the user's input or NaN;
    ``n_reps_lost`` the reps that may be lost in gaps in the data in the set (its set
    event's, as the set line says it; 0 without one).
    """
    lost = _reps_lost(session.sets)
    rows = []
    previous_end = float("nan")
    flagged = rounded_mask(session.reps)
    for number, group in session.reps.groupby("set", sort=True):
        mask = (session.reps["set"] == number).to_numpy()
        peaks = group["peak_flexion_deg"].to_numpy()
        first, last = fitted_ends(peaks)
        start, end = float(group["start_s"].min()), float(group["end_s"].max())
        rows.append(
            {
                "set": int(number),
                "n_reps": len(group),
                "n_reps_lost": lost.get(int(number), 0),
                "start_s": start,
                "end_s": end,
                "rest_before_s": start - previous_end,
                "time_under_tension_s": float((group["end_s"] - group["start_s"]).sum()),
                "peak_flexion_mean_deg": float(np.nanmean(peaks))
                if np.isfinite(peaks).any()
                else np.nan,
                "peak_flexion_max_deg": float(np.nanmax(peaks))
                if np.isfinite(peaks).any()
                else np.nan,
                "peak_flexion_rise_deg": last - first,
                "ascent_mean_s": float(group["ascent_s"].mean()),
                "speed_loss_pct": speed_loss_pct(group["ascent_s"].to_numpy()),
                "n_rounded": int(flagged[mask].sum()),
                "n_hyperextended": int(group["hyperextended"].sum()),
                "load_kg": float(session.loads_kg.get(int(number), np.nan)),
            }
        )
        previous_end = end
    return pd.DataFrame(rows, columns=list(SET_COLUMNS))


def _reps_lost(sets: pd.DataFrame) -> dict[int, int]:
    """Set number -> reps that may be lost in gaps in the data (the set events'
    ``n_reps_lost``)."""
    if sets.empty or "n_reps_lost" not in sets or "set" not in sets:
        return {}
    counts = pd.to_numeric(sets["n_reps_lost"], errors="coerce").fillna(0)
    return {int(s): int(n) for s, n in zip(sets["set"], counts)}


@dataclass(frozen=True)
class SessionTotals:
    """Headline numbers of one session (counts, deg, kg)."""

    n_sets: int
    n_reps: int
    n_classified: int
    n_rounded: int
    n_hyperextended: int
    n_flagged: int  # rounded or hyperextended (a rep with both once)
    peak_flexion_max_deg: float
    volume_kg: float  # sum of load x reps; NaN unless every set with reps has a load

    @property
    def rounded_rate(self) -> float:
        """Fraction of classified reps called rounded (NaN without a classifier)."""
        return self.n_rounded / self.n_classified if self.n_classified else float("nan")


def session_totals(session: SessionData) -> SessionTotals:
    """Count reps, sets, flags and volume of a session."""
    reps = session.reps
    sets = sorted(int(s) for s in reps["set"].unique())
    loads = [session.loads_kg.get(s) for s in sets]
    if sets and all(load is not None for load in loads):
        counts = reps["set"].value_counts()
        volume = float(sum(load * int(counts[s]) for s, load in zip(sets, loads)))
    else:
        volume = float("nan")
    peaks = reps["peak_flexion_deg"].to_numpy()
    return SessionTotals(
        n_sets=len(sets),
        n_reps=len(reps),
        n_classified=int(classified_mask(reps).sum()),
        n_rounded=int(rounded_mask(reps).sum()),
        n_hyperextended=int(reps["hyperextended"].sum()),
        n_flagged=int(flagged_mask(reps).sum()),
        peak_flexion_max_deg=float(np.nanmax(peaks)) if np.isfinite(peaks).any() else np.nan,
        volume_kg=volume,
    )
