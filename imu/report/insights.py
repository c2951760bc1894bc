"""Training insights: the known causes of back pain after deadlifts, measured.

Each check looks for one pattern (docs/report.md explains the causes, thresholds and
their sources) and returns :class:`Insight` objects written in plain words with the
numbers behind them. A check says nothing when the data cannot support a statement:
too few reps in a set for a trend, too few sets for a warm-up, one session for volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imu.report.data import SessionData
from imu.report.summary import classified_mask, rounded_mask, session_totals, set_summary


@dataclass(frozen=True)
class InsightSettings:
    """Thresholds of the insight checks; defaults and sources in docs/report.md."""

    min_reps_for_trend: int = 3
    """Reps a set needs before a within-set trend (peak flexion rise, slowing) is reported."""
    drift_limit_deg: float = 5.0
    """Peak flexion rise over a set (deg, fitted) from which it is reported."""
    speed_loss_limit_pct: float = 20.0
    """Ascent speed lost over a set (%) reported as fatigue (velocity-loss threshold)."""
    min_reps_for_pattern: int = 2
    """Reps that must show hyperextension / sway / twist before it is called a pattern."""
    sway_limit_deg: float = 10.0
    """Lateral bend range within a rep (deg) counted as sway."""
    twist_limit_deg: float = 15.0
    """Twist range within a rep (deg) counted as twisting."""
    min_sets_for_warmup: int = 2
    """Sets (with >= 2 reps each) needed before the warm-up check runs."""
    warmup_speed_margin_pct: float = 15.0
    """A ramp-up set moves at least this much faster (%) than the heaviest set."""
    warmup_load_ratio: float = 0.8
    """With loads given: a ramp-up set is at most this fraction of the top load."""
    volume_increase_limit_pct: float = 10.0
    """Session-to-session volume increase (%) above which progression is called abrupt."""
    late_reps: int = 2
    """The last this-many reps of a set count as "late in the set" for flagged reps."""


@dataclass(frozen=True)
class Insight:
    """One finding. ``level`` is ``"warning"`` (act on it), ``"note"`` or ``"good"``."""

    kind: str
    level: str
    title: str
    text: str
    session: str
    set: int | None = None


def _deg(value: float) -> str:
    return f"{value:.1f}\N{DEGREE SIGN}"


def _sets_over(session: SessionData, settings: InsightSettings, column: str, limit: float):
    """Sets with enough reps for a trend whose ``column`` reaches ``limit``."""
    summary = set_summary(session)
    trend = summary[summary["n_reps"] >= settings.min_reps_for_trend]
    return trend[trend[column] >= limit]


def _set_list(numbers, word: str = "Set") -> str:
    """``Set 2``, ``Sets 1, 2 and 3`` (``word="set"``: ``set 2``, ``sets 1 and 3``)."""
    numbers = [str(n) for n in numbers]
    if len(numbers) == 1:
        return f"{word} {numbers[0]}"
    return f"{word}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def _per_set(details: list[tuple[int, str]]) -> str:
    """The figures of each set named once: ``+8.0° over 5 reps (...)`` for one set,
    ``+8.0° over 5 reps in set 1 (...); +9.0° over 4 reps in set 2 (...)`` for several
    (``details``: ``(set, (figures, in brackets))``)."""
    if len(details) == 1:
        return " ".join(details[0][1])
    return "; ".join(f"{figures} in set {number} {more}" for number, (figures, more) in details)


def form_drift(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Peak flexion creeping up rep by rep within a set."""
    sets = _sets_over(session, settings, "peak_flexion_rise_deg", settings.drift_limit_deg)
    if sets.empty:
        return []
    details = []
    for row in sets.itertuples():
        peaks = session.reps.loc[session.reps["set"] == row.set, "peak_flexion_deg"]
        details.append((row.set, (
            f"+{_deg(row.peak_flexion_rise_deg)} over {row.n_reps} reps",
            f"({_deg(peaks.iloc[0])} on rep 1, {_deg(peaks.iloc[-1])} on the last)",
        )))  # fmt: skip
    return [
        Insight(
            "form_drift",
            "warning",
            f"{_set_list(sets['set'])}: the back bent further rep after rep",
            f"Peak flexion crept up within {_set_list(sets['set'], 'set')} (the peak flexion "
            f"rise, fitted; limit {_deg(settings.drift_limit_deg)}): {_per_set(details)}. "
            "When the lower "
            "back loses its brace as a set goes on, later reps are lifted with more spinal "
            "flexion: end the set when the depth starts to creep, or lighten the load.",
            session.name,
        )
    ]


def slowing_ascents(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Ascents getting slower within a set: fatigue or a load near the limit."""
    sets = _sets_over(session, settings, "speed_loss_pct", settings.speed_loss_limit_pct)
    if sets.empty:
        return []
    details = []
    for row in sets.itertuples():
        ascents = session.reps.loc[session.reps["set"] == row.set, "ascent_s"]
        first, last = ascents.iloc[0], ascents.iloc[-1]
        details.append((row.set, (
            f"{row.speed_loss_pct:.0f}% slower",
            f"(ascent {first:.2f} s on rep 1 and {last:.2f} s on rep {row.n_reps})",
        )))  # fmt: skip
    return [
        Insight(
            "slowing",
            "warning",
            f"{_set_list(sets['set'])}: the ascent slowed down markedly",
            f"The ascent lost speed within {_set_list(sets['set'], 'set')} (fitted, limit "
            f"{settings.speed_loss_limit_pct:.0f}% speed loss): {_per_set(details)}. "
            "Large speed loss within a set "
            "is a sign of fatigue or of a load close to the limit, when form tends to break "
            "down: consider ending sets earlier.",
            session.name,
        )
    ]


def hyperextension(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Leaning back past upright at lockout, as flagged by the analysis."""
    reps = session.reps
    flagged = reps[reps["hyperextended"]]
    if len(flagged) < settings.min_reps_for_pattern:
        return []
    worst = float(np.nanmax(flagged["lockout_extension_deg"]))
    where = ", ".join(f"set {s} rep {r}" for s, r in zip(flagged["set"], flagged["rep"]))
    return [
        Insight(
            "hyperextension",
            "warning",
            "Hyperextended at lockout",
            f"{len(flagged)} of {len(reps)} reps finished leaning back past upright "
            f"({where}), by up to {_deg(worst)} (flagged beyond "
            f"{_deg(session.hyperextension_deg)}). Finishing a rep by leaning back loads the lumbar joints; "
            "lock out by standing tall with hips and knees, ribs down.",
            session.name,
        )
    ]


def _range_pattern(
    session: SessionData, column: str, limit_deg: float, settings: InsightSettings
) -> tuple[int, float] | None:
    values = session.reps[column].to_numpy(dtype=np.float64)
    over = values[np.isfinite(values) & (values > limit_deg)]
    if len(session.reps) < settings.min_reps_for_trend or len(over) < settings.min_reps_for_pattern:
        return None
    return len(over), float(over.max())


def rounded_reps(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Reps the classifier judged rounded, and whether they come late in their sets."""
    reps = session.reps
    flagged = reps[rounded_mask(reps)]
    n_classified = int(classified_mask(reps).sum())
    if len(flagged) < settings.min_reps_for_pattern:
        return []
    set_sizes = reps.groupby("set")["rep"].max()
    late = flagged["rep"].to_numpy() > set_sizes[flagged["set"]].to_numpy() - settings.late_reps
    where = ", ".join(f"set {s} rep {r}" for s, r in zip(flagged["set"], flagged["rep"]))
    text = (
        f"The classifier judged {len(flagged)} of {n_classified} reps rounded "
        f"({100 * len(flagged) / n_classified:.0f}%: {where})."
    )
    if late.mean() > 0.5:
        text += (
            f" {int(late.sum())} of them came in the last {settings.late_reps} reps of their "
            "set, where fatigue is highest: consider ending sets before that point or "
            "lightening the load."
        )
    text += " Review these reps on video; retrain the model on your own labelled reps."
    return [Insight("rounded", "warning", "Reps with a rounded back", text, session.name)]


def sway_and_twist(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Side bend and twist during reps: a trunk that is not braced."""
    found = []
    checks = (
        ("sway", "lateral_bend_range_deg", settings.sway_limit_deg, "bent sideways", "side"),
        ("twist", "twist_range_deg", settings.twist_limit_deg, "twisted", "twist"),
    )
    n = len(session.reps)
    for kind, column, limit, verb, noun in checks:
        pattern = _range_pattern(session, column, limit, settings)
        if pattern is None:
            continue
        count, worst = pattern
        found.append(
            Insight(
                kind,
                "warning",
                f"The trunk {verb} during reps",
                f"In {count} of {n} reps the lower back {verb} by more than {_deg(limit)} "
                f"(largest {_deg(worst)} {noun} range within a rep). The lift is "
                "symmetric; a braced core keeps the trunk square. Check the stance and "
                "grip, and brace before each rep.",
                session.name,
            )
        )
    return found


def warm_up(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """Were there lighter ramp-up sets before the heaviest work?

    With loads given, the heaviest set is the top load and a ramp-up set is one before it
    at most ``warmup_load_ratio`` of that load. Without loads it is an inference: the
    heaviest set is the one with the slowest median ascent (slower ascent = heavier load)
    and a ramp-up set moved at least ``warmup_speed_margin_pct`` faster.
    """
    summary = set_summary(session)
    summary = summary[summary["n_reps"] >= 2].reset_index(drop=True)
    if len(summary) < settings.min_sets_for_warmup:
        return []
    loads = summary["load_kg"].to_numpy()
    numbers = [int(n) for n in summary["set"]]
    if np.isfinite(loads).all():
        heaviest = int(np.argmax(loads))
        ramp = loads[:heaviest] <= settings.warmup_load_ratio * loads[heaviest]
        values = [f"{load:.0f} kg" for load in loads]
        rule = f"at most {100 * settings.warmup_load_ratio:.0f}% of the top load"
        how = "from the loads you entered"
    else:
        medians = np.array(
            [session.reps.loc[session.reps["set"] == n, "ascent_s"].median() for n in numbers]
        )
        if not np.isfinite(medians).all():
            return []
        heaviest = int(np.argmax(medians))
        # a set is faster by the margin <=> t_heaviest / t_set >= 1 + margin
        ramp = medians[heaviest] / medians[:heaviest] >= 1 + settings.warmup_speed_margin_pct / 100
        values = [f"median ascent {t:.2f} s" for t in medians]
        rule = f"an ascent at least {settings.warmup_speed_margin_pct:.0f}% faster"
        how = (
            "an inference from ascent speed, since the sensor cannot weigh the bar: a slower "
            "ascent usually means a heavier load"
        )
    top = f"set {numbers[heaviest]}, {values[heaviest]}"
    if ramp.any():
        lighter = ", ".join(f"set {numbers[i]} ({values[i]})" for i in np.flatnonzero(ramp))
        return [
            Insight(
                "warmup",
                "good",
                "Ramp-up sets before the heaviest work",
                f"Lighter sets came before the heaviest set ({top}): {lighter}; {how}.",
                session.name,
                numbers[heaviest],
            )
        ]
    if heaviest == 0:
        finding = f"The first recorded set ({top}) was already as heavy as any later set"
    else:
        before = ", ".join(f"set {numbers[i]}: {values[i]}" for i in range(heaviest))
        which = ("The set" if heaviest == 1 else f"None of the {heaviest} sets")
        finding = (
            f"{which} before the heaviest set ({top}) was {'not ' if heaviest == 1 else ''}"
            f"clearly lighter ({rule}; {before})"
        )
    return [
        Insight(
            "warmup",
            "warning",
            "No lighter ramp-up sets before the heaviest work",
            f"{finding}; {how}. Heavy sets without lighter ramp-up sets are a common cause "
            "of back pain after lifting: work up to the top weight over 2-4 lighter sets. "
            "If you warmed up before the recording started, ignore this.",
            session.name,
            numbers[heaviest],
        )
    ]


def session_insights(session: SessionData, settings: InsightSettings) -> list[Insight]:
    """All single-session checks, in the order of a coach's attention."""
    return [
        *warm_up(session, settings),
        *rounded_reps(session, settings),
        *form_drift(session, settings),
        *slowing_ascents(session, settings),
        *hyperextension(session, settings),
        *sway_and_twist(session, settings),
    ]


def volume_progression(sessions: list[SessionData], settings: InsightSettings) -> list[Insight]:
    """Session-to-session change in volume of the same lifter (sessions in chronological
    order).

    Each session is compared with the previous session of the same lifter (``lifter`` or
    ``subject`` metadata). Sessions whose lifter is not recorded are compared with the
    previous such session, saying that the lifter is assumed the same; sessions of
    different lifters are never compared, and a note says which lifters the report mixes.
    Volume is load x reps (kg) when every set of both sessions has a load, else the
    number of reps. An increase beyond ``volume_increase_limit_pct`` is called abrupt.
    """
    found = []
    lifters = {s.lifter for s in sessions if s.lifter}
    if len(lifters) > 1:
        who = "; ".join(f"{s.name}: {s.lifter or 'not recorded'}" for s in sessions)
        found.append(
            Insight(
                "volume",
                "note",
                f"{len(lifters)} different lifters",
                f"These sessions come from different lifters ({who}), so volume is compared "
                "only between sessions of the same lifter.",
                sessions[-1].name,
            )
        )
    last: dict[str | None, SessionData] = {}
    for current in sessions:
        previous = last.get(current.lifter)
        last[current.lifter] = current
        if previous is not None:
            found += _volume_change(previous, current, settings)
    return found


def _volume_change(
    previous: SessionData, current: SessionData, settings: InsightSettings
) -> list[Insight]:
    before, now = session_totals(previous), session_totals(current)
    if np.isfinite(before.volume_kg) and np.isfinite(now.volume_kg):
        old, new, unit = before.volume_kg, now.volume_kg, "kg lifted (load x reps)"
    else:
        old, new, unit = float(before.n_reps), float(now.n_reps), "reps"
    if old <= 0:
        return []
    change = round(100.0 * (new / old - 1.0), 6)  # 10 -> 11 reps is +10 %, not +10.0000001
    whose = (
        f"lifter {current.lifter}'s previous session"
        if current.lifter
        else "the previous session without a lifter in its metadata (assumed the same lifter)"
    )
    numbers = f"{old:.0f} -> {new:.0f} {unit}, {change:+.0f}% vs {previous.name}, {whose}"
    limit = settings.volume_increase_limit_pct
    if change > limit:
        return [
            Insight(
                "volume",
                "warning",
                "Volume jumped from the previous session",
                f"{numbers} (limit +{limit:.0f}%). Big jumps in training volume are a known "
                "cause of back pain; progress gradually.",
                current.name,
            )
        ]
    if change < 0:
        return [
            Insight(
                "volume", "note", "Volume lower than the previous session", f"{numbers}.",
                current.name,
            )
        ]  # fmt: skip
    return [
        Insight(
            "volume",
            "good",
            "Volume within a gradual progression",
            f"{numbers} (within +{limit:.0f}%).",
            current.name,
        )
    ]


def all_insights(sessions: list[SessionData], settings: InsightSettings) -> list[Insight]:
    """Per-session insights of every session, then the volume progression across them."""
    found = [insight for s in sessions for insight in session_insights(s, settings)]
    return found + volume_progression(sessions, settings)
