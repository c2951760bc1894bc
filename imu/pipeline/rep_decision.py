"""Rep or not a rep: a decision from an excursion's own kinematics and its context.

The segmenter (:mod:`imu.pipeline.reps`) finds excursions (down past ``bottom_deg``, back
up to upright) and rejects the impossible ones by rule (too short, still bent at the end,
no extension, ...). Every excursion left is a *candidate*, and this stage decides whether
it is a rep, the way a coach watching the hip would:

- its own kinematics: depth, descent and ascent durations, the extension's velocity
  profile (a loaded pull extends late and steadily; an unloaded stand-up is quicker), a
  hold at the bottom (set-up, plates), the lockout (an upright, still finish), turning
  while bent, sway;
- what came before it: walking or turning in the seconds before its start, the time since
  the last candidate and the last rep, its depth, tempo and heading relative to the
  lifter's recent reps, the regularity of the interval between reps;
- what came after it (the *final* verdict only): whether the next excursion began soon,
  walking or turning after the lockout.

It works the same live and in batch: a candidate is decided when the next excursion
rises past ``bottom_deg`` or ``decide_s`` after its lockout, whichever is first, from the
rows up to that moment only. At the lockout itself an *early* verdict (the same features
without the after-part) decides whether provisional alerts are given.
When a candidate is decided a rep, a *look-back* verdict reconsiders the candidate just
before it if that one was decided not a rep (and, while it takes them, the one before
that): the first rep of a set that looked like a bend on its own (a quick, unloaded-looking
RDL) is recognised once an alike rep follows; such reps are marked ``look_back``.

Each verdict is a gradient-boosted tree ensemble trained with scikit-learn on the
simulator's SYNTHETIC gym sessions (``python tools/train_rep_decision.py``, grouped
cross-validation by simulated lifter in the file's manifest) and shipped as plain JSON
numbers (``models/rep_decision.json``): reading it executes nothing, and evaluating it
needs numpy only (this module never imports scikit-learn).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OWN_FEATURES = (
    "peak_flexion_deg", "descent_s", "ascent_s", "duration_s", "ascent_to_descent",
    "peak_flexion_velocity_deg_s", "peak_extension_velocity_deg_s", "mean_extension_deg_s",
    "extension_peakedness", "fastest_extension_share", "bottom_hold_s", "bottom_speed_deg_s",
    "end_flexion_deg", "lockout_extension_deg", "lockout_motion_deg", "twist_range_deg",
    "lateral_bend_range_deg", "turned_at_bottom_deg", "heading_change_deg", "smoothness",
    "liftoff_drop_deg", "ascent_acc_range_mps2", "lockout_acc_sd_mps2", "pull_acc_max_mps2",
    "pull_acc_max_share", "pull_acc_early_mps2",
)  # fmt: skip
"""Features of the excursion's own rows (and the lockout window after its end)."""
BEFORE_FEATURES = (
    "before_twist_rate_sd_deg_s", "before_lateral_sd_deg", "before_turn_deg",
    "before_flexion_max_deg", "before_acc_sd_mps2", "before_step_mps2",
)  # fmt: skip
"""Features of the ``context_s`` seconds before its start (walking, turning, bending)."""
CONTEXT_FEATURES = (
    "since_candidate_s", "since_rep_s", "depth_to_last_rep", "depth_to_lifter",
    "descent_to_last_rep", "ascent_to_last_rep", "heading_to_last_rep_deg",
    "depth_to_last_candidate", "descent_to_last_candidate", "ascent_to_last_candidate",
    "heading_to_last_candidate_deg",
)  # fmt: skip
"""Features relating it to the earlier candidates and reps of the session: how long since
them, and how alike it is to the last rep, to the last candidate whatever its verdict
(one wrongly rejected rep does not make the alike reps after it look like the first of a
run) and to the lifter's recent reps. Nothing counts its
place in a set (reps so far, whether the last candidate was a rep, the rhythm of the
intervals): that would learn the simulator's set structure; without them the grouped
out-of-fold F1 was the same (0.9939 against 0.9934, tools/train_rep_decision.py rows)."""
AFTER_FEATURES = (
    "next_rise_s", "after_twist_rate_sd_deg_s", "after_lateral_sd_deg", "after_turn_deg",
    "after_flexion_max_deg", "after_acc_sd_mps2", "after_step_mps2",
)  # fmt: skip
"""Features of the rows after its lockout up to the decision (final verdict only)."""
EARLY_FEATURES = OWN_FEATURES + BEFORE_FEATURES + CONTEXT_FEATURES
FINAL_FEATURES = EARLY_FEATURES + AFTER_FEATURES
NEXT_FEATURES = ("since_candidate_s", "depth_to_last_candidate", "descent_to_last_candidate",
                 "ascent_to_last_candidate", "heading_to_last_candidate_deg")  # fmt: skip
"""What the look-back sees of the candidate after the one it reconsiders: how it relates to
it (its own context features against the last candidate), and its ``p_rep``."""
LOOK_BACK_FEATURES = (
    "p_rep",
    *FINAL_FEATURES,
    *(f"next_{name}" for name in NEXT_FEATURES),
    "next_p_rep",
)
"""The look-back verdict's features: a candidate decided not a rep (its final features and
``p_rep``), and the candidate right after it, which was decided a rep."""

MODEL_FORMAT = "imu-rep-decision/1"
_PACKAGE = Path(__file__).resolve().parents[1]
DEFAULT_MODEL_PATH = next(
    (
        path
        for path in (
            _PACKAGE.parent / "models" / "rep_decision.json",  # a checkout
            _PACKAGE / "models" / "rep_decision.json",  # installed: imu/models
        )
        if path.exists()
    ),
    _PACKAGE.parent / "models" / "rep_decision.json",
)
"""The shipped model: ``models/rep_decision.json`` of a checkout, else of the installed
package (``imu/models``, pyproject.toml)."""
_NO_REP_S = 60.0  # "since" features when there was none (and their cap)


@dataclass(frozen=True)
class DecisionSettings:
    """When candidates are decided and which context they see (s)."""

    decide_s: float = 5.0
    """A candidate is decided at the latest this long after its lockout (earlier when the
    next excursion rises past ``bottom_deg``)."""
    context_s: float = 4.0
    """The window before a candidate's start whose walking and turning it sees."""
    lockout_window_s: float = 0.5
    """The window after the end whose motion measures the lockout (stillness)."""


def wrap_deg(angle_deg):
    """An angle (deg, float or array) wrapped to [-180, 180)."""
    return (angle_deg + 180.0) % 360.0 - 180.0


def _rate(values: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Finite-difference rate of ``values`` per s (empty for fewer than two rows)."""
    if len(values) < 2:
        return np.zeros(0)
    return np.diff(values) / np.diff(time_s)


def _activity(rows: np.ndarray) -> tuple[float, float, float, float]:
    """(sd of twist rate deg/s, sd of lateral bend deg, twist range deg, max flexion deg) of
    ``rows`` (time_s, flexion, lateral, twist): walking sways the pelvis at stride
    frequency, turning moves the heading. Zeros for fewer than three rows."""
    if len(rows) < 3:
        return 0.0, 0.0, 0.0, 0.0
    twist = np.degrees(np.unwrap(np.radians(rows[:, 3])))
    return (
        float(np.std(_rate(twist, rows[:, 0]))),
        float(np.std(rows[:, 2])),
        float(np.ptp(twist)),
        float(np.max(rows[:, 1])),
    )


STEP_BAND_HZ = (1.2, 2.8)
"""Step frequencies of walking (a step every 0.35-0.85 s; adults walk at ~1.5-2.2 steps/s)."""
_GRID_HZ = 50.0  # the |acc| of a window is resampled to this rate before its spectrum


def _acc_activity(time_s: np.ndarray, acc_norm_mps2: np.ndarray) -> tuple[float, float]:
    """(sd of |acc|, RMS of |acc| in :data:`STEP_BAND_HZ`), m/s^2, of a window: walking
    bounces the pelvis once a step. Rows without an acceleration (NaN) are left out; zeros
    for less than 1 s of rows. Resampled to 50 Hz first, so the rate does not matter."""
    finite = np.isfinite(acc_norm_mps2)
    t, a = time_s[finite], acc_norm_mps2[finite]
    if len(t) < 3 or t[-1] - t[0] < 1.0:
        return 0.0, 0.0
    grid = np.arange(t[0], t[-1], 1.0 / _GRID_HZ)
    x = np.interp(grid, t, a)
    x = x - x.mean()
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / _GRID_HZ)
    band = (f >= STEP_BAND_HZ[0]) & (f <= STEP_BAND_HZ[1])  # neither DC nor Nyquist
    # Parseval: a one-sided bin holds half of its frequency's variance
    return float(np.std(a)), math.sqrt(2.0 * float(power[band].sum())) / len(x)


PULL_LEAD_S = 0.5
"""The pull's window starts this long before the peak flexion: under a load the knees
extend (the hip rises) while the trunk still holds its angle."""


def _pull_acc(time_s: np.ndarray, acc_norm_mps2: np.ndarray, peak_s: float) -> tuple:
    """(largest |acc| above the window's median m/s^2, when it comes as a share of the
    window, mean |acc| of the window's first 40 % minus its last 60 % m/s^2) of the pull:
    from :data:`PULL_LEAD_S` before the peak flexion to the end. Zeros for fewer than
    three rows with an acceleration."""
    inside = (time_s >= peak_s - PULL_LEAD_S) & np.isfinite(acc_norm_mps2)
    t, a = time_s[inside], acc_norm_mps2[inside]
    if len(t) < 3 or t[-1] <= t[0]:
        return 0.0, 0.0, 0.0
    share = (t - t[0]) / (t[-1] - t[0])
    k = int(np.argmax(a))
    early = share <= 0.4
    late_mean = float(np.mean(a[~early])) if (~early).any() else float(np.mean(a))
    return float(a[k] - np.median(a)), float(share[k]), float(np.mean(a[early])) - late_mean


def own_features(
    h: np.ndarray, start: int, end: int, tail_end: int, record: dict, settings: DecisionSettings
) -> dict[str, float]:
    """Features of a candidate's own rows ``start..end`` of ``h`` (columns time_s,
    flexion_deg, lateral_bend_deg, twist_deg, row, |acc| m/s^2), rows to ``tail_end`` being its lockout
    window, and of the ``context_s`` before its start. ``record`` is its rep record."""
    t, flexion = h[: tail_end + 1, 0], h[: tail_end + 1, 1]
    peak = start + int(np.argmax(flexion[start : end + 1]))
    depth = float(flexion[peak])
    v = _rate(flexion[peak : end + 1], t[peak : end + 1])
    fastest = int(np.argmin(v)) if v.size else 0
    up_s = max(float(t[end] - t[peak]), 1e-3)
    mean_ext = (depth - float(flexion[end])) / up_s
    near = flexion[start : end + 1] >= depth - 8.0
    steps = np.diff(t[start : end + 1])
    held = near[1:] & near[:-1]
    hold_s = float(steps[held].sum()) if steps.size else 0.0
    band_v = _rate(flexion[start : end + 1], t[start : end + 1])
    bottom_speed = float(np.mean(np.abs(band_v[held]))) if held.any() else 0.0
    lock = flexion[end : tail_end + 1]
    twist = np.degrees(np.unwrap(np.radians(h[start : end + 1, 3])))
    turned = float(np.median(twist[near]) - twist[0]) if near.any() else 0.0
    lo = int(np.searchsorted(h[:, 0], t[start] - settings.context_s, side="left"))
    before = _activity(h[lo : start + 1])
    before_acc = _acc_activity(h[lo : start + 1, 0], h[lo : start + 1, 5])
    up_acc = h[peak : end + 1, 5]
    up_acc = up_acc[np.isfinite(up_acc)]
    pull = _pull_acc(h[start : end + 1, 0], h[start : end + 1, 5], float(t[peak]))
    lock_acc = h[end : tail_end + 1, 5]
    lock_acc = lock_acc[np.isfinite(lock_acc)]
    peak_ext = float(record["peak_extension_velocity_deg_s"])
    return {
        "peak_flexion_deg": depth,
        "descent_s": float(record["descent_s"]),
        "ascent_s": float(record["ascent_s"]),
        "duration_s": float(t[end] - t[start]),
        "ascent_to_descent": float(record["ascent_s"]) / max(float(record["descent_s"]), 1e-3),
        "peak_flexion_velocity_deg_s": float(record["peak_flexion_velocity_deg_s"]),
        "peak_extension_velocity_deg_s": peak_ext,
        "mean_extension_deg_s": mean_ext,
        "extension_peakedness": peak_ext / max(mean_ext, 1e-3),
        "fastest_extension_share": float(t[peak + fastest] - t[peak]) / up_s if v.size else 0.0,
        "bottom_hold_s": hold_s,
        "bottom_speed_deg_s": bottom_speed,
        "end_flexion_deg": float(flexion[end]),
        "lockout_extension_deg": float(record["lockout_extension_deg"]),
        "lockout_motion_deg": float(np.ptp(lock)) if lock.size else 0.0,
        "twist_range_deg": float(np.ptp(twist)),
        "lateral_bend_range_deg": float(np.ptp(h[start : end + 1, 2])),
        "turned_at_bottom_deg": abs(turned),
        "heading_change_deg": abs(float(twist[-1] - twist[0])),
        "smoothness": float(record["smoothness"]),
        "liftoff_drop_deg": depth - float(record["liftoff_flexion_deg"]),
        "ascent_acc_range_mps2": float(np.ptp(up_acc)) if up_acc.size else 0.0,
        "lockout_acc_sd_mps2": float(np.std(lock_acc)) if lock_acc.size else 0.0,
        "pull_acc_max_mps2": pull[0],
        "pull_acc_max_share": pull[1],
        "pull_acc_early_mps2": pull[2],
        "before_twist_rate_sd_deg_s": before[0],
        "before_lateral_sd_deg": before[1],
        "before_turn_deg": before[2],
        "before_flexion_max_deg": before[3],
        "before_acc_sd_mps2": before_acc[0],
        "before_step_mps2": before_acc[1],
    }


@dataclass
class Candidate:
    """What the session remembers of a decided candidate (for the next ones' context)."""

    start_s: float
    end_s: float
    peak_flexion_deg: float
    descent_s: float
    ascent_s: float
    heading_deg: float
    """Twist at its end (deg)."""
    is_rep: bool


class Context:
    """The session so far as later candidates see it: the decided candidates (the last few)
    and the depths of the last reps."""

    def __init__(self) -> None:
        self.candidates: list[Candidate] = []
        self.rep_depths: list[float] = []

    def add(self, candidate: Candidate) -> None:
        """Remember a decided candidate."""
        self.candidates = [*self.candidates[-7:], candidate]
        if candidate.is_rep:
            self.rep_depths = [*self.rep_depths[-9:], candidate.peak_flexion_deg]

    def count_as_rep(self, candidate: Candidate) -> None:
        """A candidate remembered as not a rep is a rep after all (the look-back)."""
        candidate.is_rep = True
        self.rep_depths = [*self.rep_depths[-9:], candidate.peak_flexion_deg]

    def features(self, own: dict[str, float], start_s: float, start_twist_deg: float) -> dict:
        """Context features of a candidate with features ``own`` starting at ``start_s``
        facing ``start_twist_deg``."""
        last = self.candidates[-1] if self.candidates else None
        reps = [c for c in self.candidates if c.is_rep]
        rep = reps[-1] if reps else None
        depth = own["peak_flexion_deg"]
        return {
            "since_rep_s": min(start_s - rep.end_s, _NO_REP_S) if rep else _NO_REP_S,
            "depth_to_last_rep": depth / rep.peak_flexion_deg if rep else 0.0,
            "depth_to_lifter": depth / float(np.median(self.rep_depths))
            if self.rep_depths
            else 0.0,
            "descent_to_last_rep": own["descent_s"] / max(rep.descent_s, 1e-3) if rep else 0.0,
            "ascent_to_last_rep": own["ascent_s"] / max(rep.ascent_s, 1e-3) if rep else 0.0,
            "heading_to_last_rep_deg": abs(wrap_deg(start_twist_deg - rep.heading_deg))
            if rep
            else 180.0,
            # the same against the last candidate, whatever it was decided: a run of alike
            # excursions in quick succession does not hang on one earlier verdict
            **relation(own, start_s, start_twist_deg, last),
        }


def relation(
    own: dict[str, float], start_s: float, start_twist_deg: float, other: Candidate | None
) -> dict[str, float]:
    """How a candidate with features ``own`` starting at ``start_s`` facing
    ``start_twist_deg`` relates to an earlier candidate ``other`` (None: there was none):
    the context features against the last candidate, and the look-back's ``next_`` ones."""
    if other is None:
        return {"since_candidate_s": _NO_REP_S, "depth_to_last_candidate": 0.0,
                "descent_to_last_candidate": 0.0, "ascent_to_last_candidate": 0.0,
                "heading_to_last_candidate_deg": 180.0}  # fmt: skip
    return {
        "since_candidate_s": min(start_s - other.end_s, _NO_REP_S),
        "depth_to_last_candidate": own["peak_flexion_deg"] / other.peak_flexion_deg,
        "descent_to_last_candidate": own["descent_s"] / max(other.descent_s, 1e-3),
        "ascent_to_last_candidate": own["ascent_s"] / max(other.ascent_s, 1e-3),
        "heading_to_last_candidate_deg": abs(wrap_deg(start_twist_deg - other.heading_deg)),
    }


def after_features(
    h: np.ndarray, end: int, stop: int, end_s: float, decided_s: float, next_rise: bool,
    settings: DecisionSettings,
) -> dict[str, float]:  # fmt: skip
    """Features of rows ``end..stop-1`` of ``h`` (after the lockout, up to the decision at
    ``decided_s``); ``next_rise``: the decision is made because the next excursion rose."""
    activity = _activity(h[end:stop])
    acc = _acc_activity(h[end:stop, 0], h[end:stop, 5])
    return {
        "next_rise_s": min(decided_s - end_s, settings.decide_s)
        if next_rise
        else settings.decide_s + 1.0,
        "after_twist_rate_sd_deg_s": activity[0],
        "after_lateral_sd_deg": activity[1],
        "after_turn_deg": activity[2],
        "after_flexion_max_deg": activity[3],
        "after_acc_sd_mps2": acc[0],
        "after_step_mps2": acc[1],
    }


class TreeEnsemble:
    """A gradient-boosted ensemble of regression trees (log-odds), numbers only."""

    def __init__(self, spec: dict, names: tuple[str, ...]) -> None:
        if tuple(spec["features"]) != names:
            raise ValueError("the model's features are not this version's")
        self.names = names
        self.init = float(spec["init"])
        self.rate = float(spec["learning_rate"])
        self.threshold = float(spec["threshold"])
        self.trees = [
            tuple(
                np.asarray(tree[key], dtype=dtype)
                for key, dtype in (
                    ("feature", np.int64),
                    ("threshold", np.float64),
                    ("left", np.int64),
                    ("right", np.int64),
                    ("value", np.float64),
                )
            )
            for tree in spec["trees"]
        ]
        for feature, _, left, right, value in self.trees:
            n = len(value)
            if not (len(feature) == len(left) == len(right) == n) or n == 0:
                raise ValueError("a tree's arrays differ in length")
            inner = left >= 0
            if (
                (feature[inner] >= len(names)).any()
                or (left[inner] >= n).any()
                or (right[inner] >= n).any()
            ):
                raise ValueError("a tree refers outside itself")
            if (left[inner] <= np.flatnonzero(inner)).any():
                raise ValueError("a tree's children must follow their parent")

    def p_rep(self, features: dict[str, float]) -> float:
        # rounded to float32 as scikit-learn's trees compare them
        x = np.array([features[name] for name in self.names], dtype=np.float32).tolist()
        raw = self.init
        for feature, threshold, left, right, value in self.trees:
            node = 0
            while left[node] >= 0:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
            raw += self.rate * value[node]
        return 1.0 / (1.0 + math.exp(-raw))


def look_back_features(
    candidate: dict[str, float], p_rep: float, following: dict[str, float], next_p_rep: float
) -> dict[str, float]:
    """The look-back features of ``candidate`` (final features, decided not a rep at
    ``p_rep``) given ``following``, the final features of the candidate right after it
    (decided a rep at ``next_p_rep``, or taken for one by an earlier look-back)."""
    return {
        "p_rep": p_rep,
        **{name: candidate[name] for name in FINAL_FEATURES},
        **{f"next_{name}": following[name] for name in NEXT_FEATURES},
        "next_p_rep": next_p_rep,
    }


class DecisionModel:
    """The early and final verdicts (:meth:`early`, :meth:`final`: p_rep, is_rep), and the
    look-back verdict on a candidate decided not a rep once the next one is a rep
    (:meth:`look_back`; never, in a model file without one)."""

    def __init__(self, spec: dict, path: str | None = None) -> None:
        if spec.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a rep-decision model ({MODEL_FORMAT})")
        self.early_trees = TreeEnsemble(spec["early"], EARLY_FEATURES)
        self.final_trees = TreeEnsemble(spec["final"], FINAL_FEATURES)
        self.look_back_trees = (
            TreeEnsemble(spec["look_back"], LOOK_BACK_FEATURES) if "look_back" in spec else None
        )
        self.manifest = spec.get("manifest", {})
        self.path = path

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_PATH) -> DecisionModel:
        """Read a model file (JSON numbers; nothing in it is executed)."""
        from imu.errors import input_error

        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(spec, str(path))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise input_error(f"cannot read the rep-decision model: {error}", path=str(path))

    def early(self, features: dict[str, float]) -> tuple[float, bool]:
        p = self.early_trees.p_rep(features)
        return p, p >= self.early_trees.threshold

    def final(self, features: dict[str, float]) -> tuple[float, bool]:
        p = self.final_trees.p_rep(features)
        return p, p >= self.final_trees.threshold

    def look_back(self, features: dict[str, float]) -> tuple[float, bool]:
        """(p_rep, is_rep) of a candidate decided not a rep, from its
        :func:`look_back_features`."""
        if self.look_back_trees is None:
            return 0.0, False
        p = self.look_back_trees.p_rep(features)
        return p, p >= self.look_back_trees.threshold


class EveryCandidate:
    """The decision for lifts the model was not trained on (the ``squat`` preset): every
    candidate that the segmenter's rules let through is a rep."""

    def early(self, features: dict[str, float]) -> tuple[float, bool]:
        return 1.0, True

    def final(self, features: dict[str, float]) -> tuple[float, bool]:
        return 1.0, True


_DEFAULT: DecisionModel | None = None


def default_model() -> DecisionModel:
    """The shipped model (read once per process)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DecisionModel.load(DEFAULT_MODEL_PATH)
    return _DEFAULT
