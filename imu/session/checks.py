"""The whole-recording checks every loader shares: increasing time, units (acceleration
magnitude, gyroscope against tilt), sampling rate, gaps (:func:`finish_session`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from imu.errors import input_error
from imu.quality import DATA_GAP_S, gap_intervals
from imu.session.model import (
    ACC,
    ACC_UNITS,
    GAP_COLUMN,
    GYR,
    GYR_UNITS,
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    REQUIRED,
    TIME,
    Session,
)
from imu.text import plural

JITTER_S = 0.1
"""The most a row's time may lie behind an earlier row's and still be the jitter of host
time stamps (s): BLE notifications arrive late by up to a connection interval (7.5-50
ms) or two; a clock set back is a larger step (ntpd slews offsets below 0.128 s and
steps only larger ones)."""

MAX_NOTIFICATION_ROWS = 128
"""The most rows one time stamp may share and still be one BLE notification (or the few
notifications of one connection event) stamped on arrival: an ATT payload of at most
244 bytes holds about 20 six-axis samples of 12 bytes, and a host may deliver a handful
of notifications at once; hundreds of rows on one stamp are a broken time column."""


FEW_ROWS = 4
"""A file of at most this many rows is too few to tell a broken time column from one
notification by the share of its rows on one stamp: a run that is most of it is spread
like any other, and the commands then refuse the file as too short to analyse
(``imu.commands.options.check_long_enough``), not as a broken time column."""


def check_time(frame: pd.DataFrame, name: str, column: str, warnings: list[str]) -> pd.DataFrame:
    """Enforce strictly increasing time in ``frame`` (``frame.attrs["lines"]`` = file lines).

    In a file whose repeated times all hold identical rows, those are a logger that wrote
    a row twice: the copies are dropped with a warning that counts them. Otherwise runs
    of rows sharing one time are a logger that stamps every sample of a BLE notification
    with the notification's arrival, and every row of a run is a sample, also one
    identical to its neighbour (a sensor at rest with a coarse ADC repeats its values):
    they get times spread back from the stamp at the file's interval and no later than
    the stamps after them allow (:func:`_spread_notifications`), with one warning that
    counts the rows restamped; a run too long for one notification is an error naming
    the line. Rows stamped nearly alike in bunches (a logger stamping each row as it
    writes it) are taken as such runs first (:func:`_join_bunched_stamps`). A row whose time is not later than every row before it, by
    at most :data:`JITTER_S`, is the jitter of host time stamps (a BLE logger stamps
    samples when a notification arrives, late by up to a connection interval): the rows
    stamped later than a row after it (late stamps) are restamped evenly between the
    nearest rows that keep theirs (:func:`_restamp_late`), with one warning; none is
    dropped or sorted: the file's order is the order the sensor sampled in, as the live
    path (:mod:`imu.ble.timing`) keeps every sample in arrival order. A step back by more
    (a clock reset, recordings joined; unless only a few rows just before it are later:
    late stamps, as above) is handled as live handles a device clock that
    goes back (:func:`_continue_after_resets`): the rows from there continue one sample
    interval after the latest earlier time, with a ``gap`` mark, so the analysis restarts
    there; one warning. More than :data:`MAX_CLOCK_RESETS` such steps are a broken time
    column: an error naming the first.
    ``column`` is the source's name for the time column (for messages).
    """
    lines = frame.attrs.get("lines", np.arange(len(frame)) + 2)
    frame = _continue_after_resets(frame, lines, name, column, warnings)
    frame, bunches = _join_bunched_stamps(frame, lines, name)
    t = frame[TIME].to_numpy(dtype=np.float64)
    steps = np.diff(t)
    repeated = np.flatnonzero(steps == 0) + 1
    if repeated.size:
        values = frame.to_numpy(dtype=np.float64)
        same = np.all(
            (values[repeated] == values[repeated - 1])
            | (np.isnan(values[repeated]) & np.isnan(values[repeated - 1])),
            axis=1,
        )
        if same.all():  # a logger that wrote rows twice
            warnings.append(
                f"{name}: dropped {plural(same.size, 'exact duplicate row')}, first at line "
                f"{lines[repeated[0]]}"
            )
            frame = _drop_rows(frame, repeated, lines)
            lines = frame.attrs["lines"]
        else:  # notifications, whose samples may repeat exactly (a sensor at rest)
            frame = _spread_notifications(frame, lines, name, column, warnings, bunches)
            bunches = None  # said in the one warning about the notifications
        t = frame[TIME].to_numpy(dtype=np.float64)
        steps = np.diff(t)
    if bunches:  # bunches of exact duplicates, dropped: say the bunching on its own
        warnings.append(f"{name}: {bunches['rows']}: each such bunch taken as one "
                        f"notification, at its last stamp ({bunches['moved']})")
    if not (steps < 0).any():
        return frame
    return _restamp_late(frame, lines, name, column, warnings)


BUNCHED_STEP = 0.25
"""A step shorter than this share of the file's mean interval joins two rows into one
notification, in a file where such steps are at least :data:`BUNCHED_SHARE` of all."""

BUNCHED_WITHIN = 4.0
"""In a bunched file, the steps that join rows into one notification: at most this many
times the median of the short steps (the logger's time per row; notifications that
arrived together, a backlog 1-3 ms apart, stay apart)."""

BUNCHED_SHARE = 0.3
"""The share of steps shorter than :data:`BUNCHED_STEP` mean intervals that makes a file
bunched: a logger that stamps each row as it writes it, just after its notification
arrived (2 samples per notification: half the steps; a regularly stamped file with
jitter has hardly any)."""


def _join_bunched_stamps(frame: pd.DataFrame, lines, name: str) -> tuple[pd.DataFrame, dict | None]:
    """Rows of one notification stamped nearly alike given that notification's last stamp.

    A logger that stamps each row when it writes it, as the notification's samples come
    in, gives them times a fraction of a millisecond apart, then the next notification's
    a connection interval later: most steps are far shorter than the sampling interval
    (1 / median interval would read as thousands of Hz) and the others far longer. In a
    file where at least :data:`BUNCHED_SHARE` of the steps are shorter than
    :data:`BUNCHED_STEP` times the mean interval (over the steps forward of at most 1 s:
    not across a gap or a clock jump), the rows joined by such steps, and no longer than
    :data:`BUNCHED_WITHIN` times their median, are one notification and share its last
    stamp (an upper bound of when each was measured), then spread back as notifications
    stamped on arrival (:func:`_spread_notifications`), whose one warning counts them:
    returned with words for it (``None``: no bunches).
    """
    t = frame[TIME].to_numpy(dtype=np.float64)
    if len(t) < 3:
        return frame, None
    steps = np.diff(t)
    usual = steps[(steps >= 0) & (steps <= 1.0)]  # not a gap or clock jump (s)
    mean_step = float(np.mean(usual)) if usual.size else 0.0
    close = (steps >= 0) & (steps < BUNCHED_STEP * mean_step)
    if not (mean_step > 0
            and np.count_nonzero(close & (steps > 0)) >= BUNCHED_SHARE * steps.size):
        return frame, None  # regular stamps, or runs on one stamp (_spread_notifications)
    # the rows of one notification follow each other faster than notifications that
    # arrive together (a backlog, 1-3 ms apart): those stay apart, bounded by each other
    within = BUNCHED_WITHIN * float(np.median(steps[close & (steps > 0)]))
    close &= steps <= within
    last = np.flatnonzero(np.r_[~close, True])  # the last row of each notification
    notification = np.r_[0, np.cumsum(~close)]
    joined = t[last][notification]
    moved = np.flatnonzero(joined != t)
    attrs = dict(frame.attrs)
    frame = frame.assign(**{TIME: joined})
    frame.attrs = attrs
    words = {
        "rows": f"{plural(int(np.count_nonzero(close)), 'row')} stamped at most "
        f"{within * 1e3:.2g} ms after the row before (a logger stamping each row of a BLE "
        f"notification as it wrote it), first at line {lines[moved[0]]}",
        "moved": f"{plural(moved.size, 'row')} moved by up to {np.max(joined - t) * 1e3:.3g} ms",
        "within_ms": f"{within * 1e3:.2g}",
    }
    return frame, words


def _run_interval(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(starts, counts, dt)``: the first row and the number of rows of each run of equal
    times, and the sampling interval: the median over the runs of the time since the
    previous run per row (0 without two runs)."""
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    counts = np.diff(np.r_[starts, len(t)])
    room = np.diff(t[starts])
    return starts, counts, float(np.median(room / counts[1:])) if room.size else 0.0


def _regular_interval(stamps: np.ndarray, counts: np.ndarray, dt: float) -> float:
    """The sampling interval from the notifications that came soonest after their samples.

    ``stamps``: the last stamp of each run of ``counts`` rows; ``dt``: a first guess. In
    each :data:`INTERVAL_CHUNK_S` of stamps, the notification whose stamp lies least
    after its row count at ``dt`` came with the least latency; the time from one such
    notification to the next per row is the interval, free of most of the latency's
    jitter (a notification late by a stalled link is never the least late of its
    chunk). Samples lost between them make it longer, so a low quantile
    (:data:`INTERVAL_QUANTILE`) of them, twice (the second from the first's interval).
    Fewer than 3 chunks: ``dt``."""
    rows = np.cumsum(counts)
    chunk = np.floor((stamps - stamps[0]) / INTERVAL_CHUNK_S)
    for _ in range(2):
        if not dt > 0:
            break
        order = np.lexsort((stamps - rows * dt, chunk))
        least = order[np.r_[True, chunk[order][1:] != chunk[order][:-1]]]
        if least.size < 3:
            break
        dt = float(np.quantile(np.diff(stamps[least]) / np.diff(rows[least]), INTERVAL_QUANTILE))
    return dt


INTERVAL_CHUNK_S = 0.5
"""The stretch of stamps in which :func:`_regular_interval` takes the least late
notification (a few notifications even at 25 Hz with 2 samples each)."""

INTERVAL_QUANTILE = 0.2
"""The quantile of the intervals between the least late notifications that
:func:`_regular_interval` takes: below the median, as lost samples only lengthen them."""


LATE_ROWS = 0.75
"""A step back is late stamps, not a clock set back, when the only rows later than the
row after it are the rows just before it, fewer than this share of the rows sampled
over the step (a clock set back by D has about D x rate rows later than the row after
it; a notification delayed by D has its own few)."""

MAX_CLOCK_RESETS = 10
"""The most steps back by more than :data:`JITTER_S` a file may hold and still be a clock
reset or a few recordings joined; more is a broken time column (an error)."""


def _continue_after_resets(
    frame: pd.DataFrame, lines, name: str, column: str, warnings: list[str]
) -> pd.DataFrame:
    """Rows after a step back of more than :data:`JITTER_S` moved on, marked as a gap.

    A device counter or host clock set back (or recordings joined) gives no time for
    what passed: as :class:`imu.ble.timing.Timestamper` does live when a device clock goes
    back, the rows from the step on keep their spacing and continue one sample interval
    (the file's, :func:`_run_interval`) after the latest earlier time, the first of them
    (of its notification run, which is then spread back from there) marked in the
    ``gap`` column; the engine restarts at such a mark (a flagged step with no room for
    lost samples, :mod:`imu.pipeline.timing`). One warning names the first step. A step
    back behind only the rows just before it, fewer than :data:`LATE_ROWS` of those
    sampled over the step (a notification stamped late, a stamp out of place), is no
    reset: those rows are late stamps, restamped with the jitter.
    """
    t = frame[TIME].to_numpy(dtype=np.float64, copy=True)
    if len(t) < 2 or not (np.maximum.accumulate(t)[:-1] - t[1:] > JITTER_S).any():
        return frame
    _, counts, dt = _run_interval(t)
    rows_on_stamp = np.repeat(counts, counts)
    moved: list[tuple[int, float, float]] = []  # (row, its time, the latest before it)
    start = 1  # rows before it are checked
    while True:
        latest = np.maximum.accumulate(t)
        back = np.flatnonzero(latest[start - 1 : -1] - t[start:] > JITTER_S)
        if not back.size:
            break
        i = int(back[0]) + start
        ahead = np.flatnonzero(t[:i] > t[i])
        late = dt > 0 and ahead.size < LATE_ROWS * (latest[i - 1] - t[i]) / dt
        if late and 0 < ahead[0] and ahead.size == i - ahead[0]:
            # only the rows just before are later, fewer than were sampled over the step:
            # late stamps (a notification delayed, a stamp out of place), not a clock set
            # back; rows after them behind them are jitter (restamped by _restamp_late)
            start = i + int(np.argmax(np.r_[t[i:] >= latest[i - 1] - JITTER_S, True]))
            if start >= len(t):
                break
            continue
        if len(moved) == MAX_CLOCK_RESETS or not dt > 0:
            i, time_s, before = moved[0] if moved else (i, float(t[i]), float(latest[i - 1]))
            raise input_error(
                f"time goes backwards ({time_s} after {before}), by {before - time_s:.3g} s, "
                f"more than time stamps' jitter ({JITTER_S:g} s)"
                + (f", at more than {MAX_CLOCK_RESETS} lines: no clock reset"
                   if moved else ", in a file with no sampling interval"),
                path=name,
                line=int(lines[i]),
                column=column,
                hint="fix the time column",
            )
        moved.append((i, float(t[i]), float(latest[i - 1])))
        t[i:] += latest[i - 1] + rows_on_stamp[i] * dt - t[i]
        start = i + 1
    if not moved:
        return frame
    rows = [i for i, _, _ in moved]
    gap = (
        frame[GAP_COLUMN].fillna(0).to_numpy(dtype=np.float64, copy=True)
        if GAP_COLUMN in frame
        else np.zeros(len(t))
    )
    gap[rows] = 1.0
    attrs = dict(frame.attrs)
    frame = frame.assign(**{TIME: t, GAP_COLUMN: gap})
    frame.attrs = attrs
    i, time_s, before = moved[0]
    more = f" (and at {plural(len(moved) - 1, 'more line')})" if len(moved) > 1 else ""
    warnings.append(
        f"{name}: time goes backwards at line {lines[i]} ({time_s} after {before}), by "
        f"{before - time_s:.3g} s{more}, more than time stamps' jitter: a clock reset or "
        "recordings joined; the rows from there continue one sample interval after the "
        "latest earlier time, marked as a gap, and the analysis restarts there"
    )
    return frame


def _restamp_late(
    frame: pd.DataFrame, lines, name: str, column: str, warnings: list[str]
) -> pd.DataFrame:
    """Rows out of time order restamped in file order, none dropped.

    Host stamps are late, never early: a row stamped later than a row after it was
    delayed (a notification that arrived late, a stamp out of place). Such rows are placed
    evenly, by their position in the file, between the nearest rows stamped earlier than
    every row after them (those keep their stamps and are in time order; before the first
    of them: back from it at the file's interval), so every sample is kept in the order it
    was sampled, as live keeps it.
    """
    t = frame[TIME].to_numpy(dtype=np.float64, copy=True)
    latest = np.maximum.accumulate(t)
    behind = np.r_[False, t[1:] <= latest[:-1]]  # what shows: rows not after every earlier
    earliest_after = np.minimum.accumulate(t[::-1])[::-1]  # min of t[i:]
    rows = np.flatnonzero(np.r_[t[:-1] >= earliest_after[1:], False])  # stamped late
    anchors = np.flatnonzero(np.r_[t[:-1] < earliest_after[1:], True])
    if anchors.size < 2:
        i = int(np.argmax(behind))
        raise input_error(
            f"time goes back ({float(t[i])} after {float(latest[i - 1])}) on most rows",
            path=name,
            line=int(lines[i]),
            column=column,
            hint="timestamps must be increasing; fix the time column",
        )
    t[rows] = np.interp(rows, anchors, t[anchors])
    dt = float(np.median(np.diff(t[anchors]) / np.diff(anchors)))
    early = rows[rows < anchors[0]]
    t[early] = t[anchors[0]] - (anchors[0] - early) * dt
    by = latest[:-1] - frame[TIME].to_numpy(dtype=np.float64)[1:]
    first = int(np.argmax(behind))
    warnings.append(
        f"{name}: time goes back on {plural(int(behind.sum()), 'line')}, by up to {by.max() * 1e3:.3g} "
        f"ms, first at line {lines[first]} (host time stamps' jitter, e.g. BLE "
        f"notifications): {plural(rows.size, 'row')} restamped evenly between the nearest rows in "
        "time order, none dropped or sorted (the file's order is the sensor's)"
    )
    attrs = dict(frame.attrs)
    frame = frame.assign(**{TIME: t})
    frame.attrs = attrs
    return frame


def _spread_notifications(
    frame: pd.DataFrame, lines, name: str, column: str, warnings: list[str],
    bunches: dict | None = None,
) -> pd.DataFrame:
    """Spread each run of rows that share one time back from that time, at the file's rate.

    A logger that stamps a BLE notification when it arrives gives its k samples one
    time, taken after the last of them was measured: the stamp is the last sample's time
    (plus the link's latency) and the others came before it, one sampling interval apart.
    So sample j of a run of k at stamp T gets ``T - (k - 1 - j) * dt``, with ``dt`` the
    file's interval (:func:`_regular_interval`), and no row later than the stamps after
    it allow at that interval (:func:`_bound_by_later_stamps`): a notification held by a
    stalled link and the backlog that came just after it go back to where their samples
    were measured, and two notifications that arrived closer than their samples push the
    earlier one back. A run whose samples reach more than :data:`JITTER_S` before the
    latest earlier stamp at the median interval (:func:`_run_interval`; unless it fits
    with the late runs just before it, :func:`_join_backlogs`), or that holds most of the
    file's rows or more than :data:`MAX_NOTIFICATION_ROWS`, is no notification: an error
    naming it. One warning counts the rows restamped and the notifications placed more
    than :data:`LATE_S` before their stamp; with ``bunches`` (:func:`_join_bunched_stamps`)
    it names the runs as the bunches of rows stamped nearly alike they were in the file.
    """
    t = frame[TIME].to_numpy(dtype=np.float64, copy=True)
    starts, counts, dt = _run_interval(t)  # first row and rows of each stamp
    starts_0, counts_0 = starts, counts  # before late notifications join their backlog
    stamps = t[starts]
    before = _room_before(stamps)
    runs = np.flatnonzero(counts > 1)
    shared = counts[runs]  # rows on each repeated stamp, for the warning
    first_line = lines[starts[runs[0]]]
    most = ((counts[runs] > len(t) / 2) & (len(t) > FEW_ROWS)) | (
        counts[runs] > MAX_NOTIFICATION_ROWS
    )
    too_long = runs[most | (counts[runs] * dt > before[runs] + JITTER_S)] if dt > 0 else runs
    if too_long.size and dt > 0 and not most.any():
        # a late notification and the backlog that came just after it (a stall) share
        # the time since the stamp before the stall: spread back together from the last
        starts, counts = _join_backlogs(t, starts, counts, dt, too_long)
        stamps = t[starts + counts - 1]  # a joined run's stamp is its last
        before = _room_before(stamps)
        runs = np.flatnonzero(counts > 1)
        too_long = runs[counts[runs] * dt > before[runs] + JITTER_S]
    if too_long.size:
        g = int(too_long[0])
        k = int(counts[g])
        if dt <= 0:
            span = "the stamps give no sampling interval"
        elif k > len(t) / 2 and len(t) > FEW_ROWS:
            span = f"they are most of the file's {len(t)} rows"
        elif k > MAX_NOTIFICATION_ROWS:
            span = f"more than {MAX_NOTIFICATION_ROWS} rows on one stamp"
        elif before[g] < 0:
            span = (f"at {1 / dt:.4g} Hz they span {k * dt:.3g} s behind a stamp already "
                    f"{-before[g]:.3g} s behind an earlier one")
        else:
            span = (f"at {1 / dt:.4g} Hz they span {k * dt:.3g} s, the stamps leave "
                    f"{before[g]:.3g} s")
        raise input_error(
            f"time {stamps[g]:g} repeats on {k} rows from line {lines[starts[g]]} with "
            f"different values: too many for one BLE notification ({span})",
            path=name,
            line=int(lines[starts[g] + 1]),
            column=column,
            hint="timestamps must be strictly increasing; fix the time column",
        )
    # the interval from the notifications that came soonest (the median above, for the
    # checks, takes in the link's latency jitter, stalls and losses); each row back from
    # its own (joined) run's stamp at it, then no later than the stamps after it allow:
    # notifications that arrived late, bunched with later ones, go back to where their
    # samples were measured
    dt = _regular_interval(stamps, counts, dt)
    after = np.repeat(starts + counts, counts) - 1 - np.arange(len(t))  # rows after, in run
    own = np.repeat(stamps, counts) - after * dt
    spread = _bound_by_later_stamps(own, np.repeat(starts + counts, counts), dt)
    n_moved = int(np.count_nonzero(spread != t))
    # how far before its own notification's stamp (spread back at dt) each row went
    early = t - (np.repeat(starts_0 + counts_0, counts_0) - 1 - np.arange(len(t))) * dt - spread
    late = early[starts_0] > LATE_S
    n_late = int(np.count_nonzero(late))
    attrs = dict(frame.attrs)
    frame = frame.assign(**{TIME: spread})
    frame.attrs = attrs
    them = "it" if n_late == 1 else "them"
    warnings.append(
        (f"{name}: {int(shared.sum())} rows in {plural(shared.size, 'bunch', 'bunches')} "
         f"stamped at most {bunches['within_ms']} ms apart (a logger stamping each row of a "
         f"BLE notification as it wrote it), first at line {first_line}: each bunch taken as "
         f"one notification, {plural(n_moved, 'row')} restamped, spread back from their "
         f"bunch's last stamp at {1 / dt:.4g} Hz"
         if bunches else
         f"{name}: {int(shared.sum())} rows share {plural(shared.size, 'time stamp')} with "
         f"different values (a logger stamping each BLE notification on arrival), first at "
         f"line {first_line}: {plural(n_moved, 'row')} restamped, spread back from their "
         f"stamp at {1 / dt:.4g} Hz")
        + (f"; {plural(n_late, 'notification')} placed more than {LATE_S:g} s before "
           f"{'its' if n_late == 1 else 'their'} stamp, as the stamps after {them} allow at "
           f"that rate (late: a stalled link and its backlog), by up to "
           f"{early.max():.3g} s, the first at line {lines[starts_0[np.argmax(late)]]}"
           if n_late else "")
    )
    return frame


LATE_S = 0.05
"""A notification placed back by more than this from its own stamp by the stamps after it
is counted as late in the warning (less is the link's latency jitter, up to a connection
interval of 7.5-50 ms)."""

LEAK = 0.01
"""How much shorter than the file's interval the interval between a row and the rows of
later notifications is taken when they bound it (:func:`_bound_by_later_stamps`): a
stamp then bounds the rows before it less the further back they are, so an interval a
little too long (losses, a clock off by tens of ppm) cannot pull a stretch of rows early."""

BOUND_S = 2.0
"""How far back (s, at the file's interval) a notification's stamp bounds the rows
before it: a stalled link holds notifications for a fraction of a second, up to the
link's supervision timeout (a few seconds) before it drops."""


def _bound_by_later_stamps(own: np.ndarray, next_run: np.ndarray, dt: float) -> np.ndarray:
    """Times no later than the later notifications' stamps allow at the file's interval.

    A stamp taken on arrival is an upper bound of the time its samples were measured, and
    of every sample before them, one interval earlier per sample (samples lost in between
    only make the earlier ones earlier still). So row i's time is at most ``own[j] -
    (j - i) x dt'`` for each row j of a later notification (``next_run[i]``: the first
    row after row i's own notification), within :data:`BOUND_S`, with ``dt'`` =
    ``dt x (1 - LEAK)``. A notification held by a stalled link and the backlog that came
    just after it have nearly one stamp: this places the late one's samples back where
    they were measured, and leaves no gap where none was lost. ``own``: each row spread
    back from its own notification's stamp at ``dt``.
    """
    n = len(own)
    if n < 2 or not dt > 0:
        return own
    step = dt * (1.0 - LEAK)
    origin = own[0]
    bound = (own - origin) - np.arange(n) * step
    window = max(2, int(np.ceil(BOUND_S / dt)))
    lowest = bound.copy()  # lowest[i]: min of bound[i : i + span]
    span = 1
    while span < window:
        shift = min(span, window - span)
        np.minimum(lowest[:-shift], lowest[shift:], out=lowest[:-shift])
        span += shift
    later = np.r_[lowest, np.inf][np.minimum(next_run, n)]
    return np.minimum(own, origin + np.arange(n) * step + later)


def _room_before(stamps: np.ndarray) -> np.ndarray:
    """How far back (s) the samples of each run of rows on one stamp may reach: the time
    since the latest earlier stamp (``stamps``: one per run, in file order); the first
    run of a file has no stamp before it (``inf``). The latest, not the previous, so a run
    after a stamp jittered back is not spread behind the stamp before it, where its first
    samples would fall behind that stamp too."""
    return np.r_[np.inf, stamps[1:] - np.maximum.accumulate(stamps)[:-1]]


def _join_backlogs(
    t: np.ndarray, starts: np.ndarray, counts: np.ndarray, dt: float, too_long: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Runs of equal times ``t`` joined where a late notification and its backlog meet.

    A stalled link delivers a notification late and the ones held behind it just after
    it: each backlog run's samples reach back over the late stamp, though all of them fit
    in the time since the stamp before the stall. For each run in ``too_long`` (indices
    into ``starts``/``counts``) the fewest runs just before it whose samples, with its
    own, fit at ``dt`` (within :data:`JITTER_S`) behind its stamp, after the latest stamp
    before them (:func:`_room_before`: the file's first run has none, so it joins no group), at most :data:`MAX_NOTIFICATION_ROWS` and half the rows, become one run
    (placed as one notification); so does a run squeezed (its samples at ``dt`` reach
    back over the stamp before it) just after a joined one, with the same fit: the
    notifications after the backlog, on time again. Returns the joined ``starts`` and
    ``counts``; a run that no such group fits stays as it was (an error).
    """
    stamps = t[starts]
    before = _room_before(stamps)
    label = np.arange(len(starts))
    joined = np.zeros(len(starts), dtype=bool)
    # the too long runs, and a run squeezed just after a joined one (the backlog's last
    # notifications, on time again but closer to its late stamp than their samples)
    tried = set(too_long.tolist())
    for g in np.flatnonzero(counts * dt > before).tolist():
        if g not in tried and not joined[g - 1]:
            continue
        total = int(counts[g])
        for first in range(g - 1, 0, -1):  # a stamp before the group
            total += int(counts[first])
            if total > min(MAX_NOTIFICATION_ROWS, len(t) / 2):
                break
            # the time from the latest stamp before the group to g's
            if total * dt <= before[first] + (stamps[g] - stamps[first]) + JITTER_S:
                label[first : g + 1] = label[first]
                joined[first : g + 1] = True
                break
    keep = np.r_[True, label[1:] != label[:-1]]
    return starts[keep], np.add.reduceat(counts, np.flatnonzero(keep))


def _drop_rows(frame: pd.DataFrame, rows: np.ndarray, lines) -> pd.DataFrame:
    """``frame`` without ``rows`` (positions), its ``attrs["lines"]`` kept in step."""
    keep = np.ones(len(frame), dtype=bool)
    keep[rows] = False
    attrs = dict(frame.attrs)
    frame = frame.loc[keep].reset_index(drop=True)
    frame.attrs = {**attrs, "lines": np.asarray(lines)[keep]}
    return frame


def _odd_median_magnitude(acc: np.ndarray) -> float | None:
    """Median length of the rows of ``acc`` (n x 3, m/s^2); None when counting shows it
    within 6-14 m/s^2, where :func:`_acc_magnitude_problem` has nothing to say (two
    counts cost less than the sort of a median).

    The counts are sound bounds: a length below 6 has a square below 36, one above 14 a
    square above 196; when at most ``(n - 1) // 2`` squares are below 36 and at most that
    many above 196, both middle values of the sorted lengths are within 6-14.
    """
    squared = np.einsum("ij,ij->i", acc, acc)
    limit = (len(squared) - 1) // 2
    if (
        np.count_nonzero(squared < 36.0) <= limit
        and np.count_nonzero(squared > 196.0) <= limit
        and not np.isnan(squared).any()  # np.median: NaN
    ):
        return None
    return float(np.median(np.sqrt(squared)))


def _acc_magnitude_problem(median: float, acc_unit: str | None) -> tuple[str, str] | None:
    """(message, hint) when the median acceleration magnitude is not gravity-like."""
    if 6.0 <= median <= 14.0:
        return None
    where = f"median |acc| is {median:.3g} m/s^2"
    if acc_unit is not None and acc_unit != "m/s2":
        where += f" after converting from {acc_unit}"
    if acc_unit in (None, "m/s2") and 0.6 <= median <= 1.4:
        return f"{where}, ~1: the accelerometer is in g", "pass --acc-unit g"
    if acc_unit not in (None, "m/s2") and 6.0 <= median / ACC_UNITS[acc_unit] <= 14.0:
        return f"{where}: the values were already m/s^2", "pass --acc-unit m/s2"
    if acc_unit in (None, "m/s2") and 600 <= median <= 1400:
        return f"{where}, ~1000: the accelerometer looks like milli-g", "convert to g or m/s^2"
    if median < 3.0:
        return (
            f"{where}: gravity seems removed (linear acceleration)",
            "record acceleration including gravity (total acceleration)",
        )
    return f"{where}, expected ~9.81 at rest", "check the accelerometer unit (--acc-unit)"


TILT_WINDOW_S = 0.5  # windows over which tilt and gyro rotation are compared
TILT_SMOOTHING_S = 0.2  # accelerometer mean at each window end (noise: std / sqrt(n))
MIN_TILT_DEG = 20.0  # a window counts when the gravity direction turned more than this
MIN_TILT_WINDOWS = 3


def _gyro_tilt_ratio(samples: np.ndarray, rate_hz: float) -> float | None:
    """How far the accelerometer's gravity direction turns per unit of gyroscope rotation.

    Over 0.5 s windows, the angle between the gravity directions seen by the accelerometer
    (0.2 s means) at the window's ends is compared with the rotation the gyroscope
    integrates over the window (|gyr| dt). The tilt cannot exceed the rotation, so with
    both in degrees the median ratio over windows that tilt by more than 20 deg is at
    most ~1 (linear acceleration blurs it a little; 1.0 on simulated deadlift sessions);
    a gyroscope in rad/s read as deg/s gives ~57x that. ``None`` when fewer than 3
    windows tilt that much (a still recording: even 1 m/s^2 of accelerometer noise at
    25 Hz turns the mean direction 20 deg with odds below 1e-6) or there is no gyroscope.
    Only the samples of the 0.2 s means are summed (strided views, no running sums).
    """
    time_s, acc, gyr = samples[:, 0], samples[:, 1:4], samples[:, 4:7]
    step = max(2, round(rate_hz * TILT_WINDOW_S))
    width = max(3, round(rate_hz * TILT_SMOOTHING_S))
    if not np.isfinite(gyr).all() or len(acc) < step + width:
        return None
    n_windows = (len(acc) - width - step) // step + 1  # windows whose far end fits too
    ends = np.arange(n_windows + 1) * step  # sample k starts the mean at a window end
    down = sliding_window_view(acc, width, axis=0)[ends].sum(axis=-1)
    norm = np.linalg.norm(down, axis=1, keepdims=True)
    down /= np.where(norm > 0, norm, np.nan)  # gravity direction; NaN for a zero mean
    cosine = np.einsum("ij,ij->i", down[:-1], down[1:])
    tilt_deg = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    tilted = tilt_deg > MIN_TILT_DEG
    if tilted.sum() < MIN_TILT_WINDOWS:
        return None
    # the rotation of the tilted windows only: a window runs between the centres of its
    # two means (the mean from k covers samples k .. k + width - 1); samples i - 1 -> i
    # turn by |gyr[i]| (t[i] - t[i - 1])
    after = (ends[:-1][tilted, np.newaxis] + width // 2 + 1 + np.arange(step)).ravel()
    # in the memory order of ``gyr`` (columns apart or rows apart): einsum may sum the
    # three products in another order otherwise, and round the last bit differently
    rates = np.asarray(gyr[after], order="F" if gyr.strides[0] < gyr.strides[1] else "C")
    turned = np.sqrt(np.einsum("ij,ij->i", rates, rates)) * (time_s[after] - time_s[after - 1])
    rotation_deg = turned.reshape(-1, step).sum(axis=-1)
    return float(np.median(tilt_deg[tilted] / np.maximum(rotation_deg, 1e-9)))


ACC_LIMIT_MS2 = 1e4
"""Largest |acc| any accelerometer can report (~1000 g; wide-range IMUs reach +-200 g)."""
GYR_LIMIT_DPS = 1e5
"""Largest |gyr| any gyroscope can report (the widest common ones: +-4000 deg/s)."""


def _check_sensor_range(samples: np.ndarray, lines, name: str, labels: Mapping[str, str]) -> None:
    """InputError naming line and column for a value beyond any sensor's range (a corrupt
    cell such as 1e308: like an infinity it would overflow the checks and the filter)."""
    for first, limit, unit in ((1, ACC_LIMIT_MS2, "m/s^2"), (4, GYR_LIMIT_DPS, "deg/s")):
        block = samples[:, first:first + 3]
        beyond = np.abs(np.nan_to_num(block, nan=0.0)) > limit
        if beyond.any():
            row, k = np.unravel_index(int(np.argmax(beyond)), beyond.shape)
            column = REQUIRED[first + k]
            raise input_error(
                f"{block[row, k]:g} {unit} is beyond any sensor's range (|value| <= {limit:g})",
                path=name, line=None if lines is None else int(lines[row]),
                column=labels.get(column, column), hint="a corrupt value: fix or remove the row")


def _nominal_rate_warning(metadata: Mapping[str, str], name: str, rate: float) -> list[str]:
    """A warning for metadata ``sampling_rate_hz`` that is no positive number (ignored)."""
    given = metadata.get("sampling_rate_hz")
    if given is None:
        return []
    try:
        value = float(given)
    except ValueError:
        value = float("nan")
    if np.isfinite(value) and value > 0:
        return []
    return [(f"{name}: metadata sampling_rate_hz {given!r} is not a positive number; ignored "
             f"(the samples come at {rate:.4g} Hz, 1 / median interval)")]


def finish_session(
    data: pd.DataFrame,
    *,
    name: str,
    metadata: dict[str, str] | None = None,
    warnings: Sequence[str] = (),
    acc_unit: str | None = None,
    gyr_unit: str | None = None,
    labels: Mapping[str, str] | None = None,
    gyro_name: str | None = None,
    record_rate: bool = False,
) -> Session:
    """Apply the unit overrides and the whole-recording checks, return the Session.

    ``data`` has the canonical columns, with acceleration in ``acc_unit`` (a key of
    ``ACC_UNITS``; ``None`` = m/s^2) and angular rate in ``gyr_unit`` (a key of
    ``GYR_UNITS``; ``None`` = deg/s): the unit the source declares or the user's
    ``--acc-unit``/``--gyr-unit``. They are converted to canonical units here.
    Errors: fewer than 2 samples, a sampling rate outside 5-2000 Hz, a value beyond any
    sensor's range, an accelerometer whose median magnitude is not gravity-like (g,
    milli-g, gravity removed), a gyroscope that looks like rad/s or ~57x too fast (deg/s
    after a rad/s conversion, or converted twice). Warnings: no gyroscope, gaps, a
    ``sampling_rate_hz`` that is no positive number. ``labels`` maps canonical names to
    the source's column names and ``gyro_name`` names the gyroscope's file when it differs
    from ``name``, for messages. ``record_rate``: without ``sampling_rate_hz`` in
    ``metadata``, write the measured rate there (4 digits; an import records the rate it
    found)."""
    labels = dict(labels or {})
    metadata = dict(metadata or {})
    warnings = list(warnings)
    data = data.reset_index(drop=True)
    lines = data.attrs.get("lines")  # for the sensor range check's message
    data.attrs = {}  # file lines served the checks; pandas deep-copies attrs at every step
    if acc_unit not in (None, *ACC_UNITS):
        raise input_error(f"unknown acceleration unit {acc_unit!r}", hint="use m/s2 or g")
    if gyr_unit not in (None, *GYR_UNITS):
        raise input_error(f"unknown angular-rate unit {gyr_unit!r}", hint="use deg/s or rad/s")
    if len(data) < 2:
        raise input_error(f"only {plural(len(data), 'sample')}; a session needs at least 2",
                          path=name)
    for unit, table, columns, key in (
        (acc_unit, ACC_UNITS, ACC, "acc_unit_converted_from"),
        (gyr_unit, GYR_UNITS, GYR, "gyr_unit_converted_from"),
    ):
        if unit is not None and table[unit] != 1.0:
            data.loc[:, list(columns)] = data.loc[:, list(columns)] * table[unit]
            metadata[key] = unit
    t = data[TIME].to_numpy(dtype=np.float64)
    steps_s = np.diff(t)
    median_step_s = float(np.median(steps_s))
    # times too large for their steps (1e19 s) round to equal values after an offset
    rate = 1.0 / median_step_s if median_step_s > 0 else float("inf")
    if not MIN_RATE_HZ <= float(f"{rate:.4g}") <= MAX_RATE_HZ:  # 5 Hz with us-rounded times
        hint = "time must be in seconds"
        for factor, unit in ((1e3, "milliseconds"), (1e6, "microseconds"), (1e9, "nanoseconds")):
            if MIN_RATE_HZ <= rate * factor <= MAX_RATE_HZ:
                hint = f"time looks like {unit}; divide it by {factor:.0f} or pass --format"
        raise input_error(
            f"sampling rate {rate:.4g} Hz is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz",
            path=name,
            column=labels.get(TIME, TIME),
            hint=hint,
        )
    samples = data.loc[:, list(REQUIRED)].to_numpy(dtype=np.float64)
    _check_sensor_range(samples, lines, name, labels)
    del lines
    acc = samples[:, 1:4]
    median_acc = _odd_median_magnitude(acc)
    problem = None if median_acc is None else _acc_magnitude_problem(median_acc, acc_unit)
    if problem:
        raise input_error(
            problem[0], path=name, column=labels.get("acc_x", "acc_x"), hint=problem[1]
        )
    gyro_nan = np.isnan(samples[:, 4:7])
    if gyro_nan.all():
        warnings.append(
            f"{name}: no gyroscope data; flexion comes from the accelerometer alone "
            "(accelerometer-only mode: less accurate during fast movement) and twist is "
            "unavailable"
        )
    else:
        ratio = _gyro_tilt_ratio(samples, rate)
        message = None
        if ratio is not None and ratio > 10.0:
            message = (
                f"the gyroscope turns ~{ratio:.0f}x slower than the accelerometer tilts: "
                "its values look like rad/s, not deg/s"
            )
            hint = "pass --gyr-unit rad/s" if gyr_unit in (None, "deg/s") else None
        elif ratio is not None and ratio < 0.1 and gyr_unit == "rad/s":
            message = (
                f"after converting from rad/s the gyroscope turns ~{1 / ratio:.0f}x faster "
                "than the accelerometer tilts: its values look like deg/s already"
            )
            hint = "pass --gyr-unit deg/s"
        elif ratio is not None and ratio < 0.1:  # whatever the unit: always checked
            message = (
                f"the gyroscope turns ~{1 / ratio:.0f}x faster than the accelerometer tilts: "
                "its deg/s look converted from rad/s twice"
            )
            hint = "divide the gyroscope columns by 57.3, or re-export them in deg/s"
        if message:
            raise input_error(
                message,
                path=gyro_name or name,
                column=labels.get("gyr_x", "gyr_x"),
                hint=hint or "check the gyroscope unit (--gyr-unit)",
            )
    if record_rate and "sampling_rate_hz" not in metadata:
        metadata["sampling_rate_hz"] = f"{rate:.4g}"
    session = Session(data=data, metadata=metadata, source=name, warnings=warnings)
    warnings += _nominal_rate_warning(metadata, name, rate)
    nominal = session.sampling_rate_hz if "sampling_rate_hz" in metadata else rate
    if abs(nominal / rate - 1.0) > 0.2:
        warnings.append(
            f"{name}: metadata says sampling_rate_hz {metadata['sampling_rate_hz']} but the "
            f"samples come at {rate:.4g} Hz (1 / median interval); gaps are judged at "
            f"{nominal:.4g} Hz"
        )
    warnings += _gap_warning(data, name, steps_s, nominal, session)
    return session


def _gap_warning(
    data: pd.DataFrame, name: str, steps_s: np.ndarray, nominal_hz: float, session: Session
) -> list[str]:
    """The samples missing, in the words of docs/vocabulary.md: the *gaps in the data*
    (over :data:`~imu.quality.DATA_GAP_S`, or a loss marked in the ``gap`` column, however
    short, with room for a lost sample: the ones the engine reports, analyze counts and the
    report hatches) and the *short
    dropouts* (over ``GAP_FACTOR`` sample intervals, bridged); one count of each, never two
    counts of "gaps" by different rules."""
    dropped = gap_intervals(steps_s, nominal_hz)
    marked = np.zeros(len(steps_s), dtype=bool)
    if GAP_COLUMN in data:
        marked = data[GAP_COLUMN].to_numpy()[1:] == 1
    # a marked loss is a gap however short, as the engine counts it (TimingSettings), but
    # a mark with no room for a lost sample is a clock re-anchored: its own words
    from imu.pipeline.timing import TimingSettings

    room = steps_s > TimingSettings.flagged_min_steps / nominal_hz
    long = (steps_s > DATA_GAP_S) | (marked & room)
    short = dropped & ~long
    if not long.any() and not short.any():
        return []
    from imu.text import clock, duration

    parts = []
    if long.any():
        # stamped where the rows resume, as the log stamps a gap (docs/vocabulary.md)
        resume = int(np.flatnonzero(long)[0]) + 1
        first_s = float(data[TIME].iloc[resume] - data[TIME].iloc[0])
        parts.append(
            f"{plural(int(long.sum()), 'gap')} in the data, longest "
            f"{duration(float(steps_s[long].max()))}, the first ended at {clock(first_s)} "
            "from the start"
        )
    if short.any():
        parts.append(
            f"{plural(int(short.sum()), 'short dropout')} of at most "
            f"{duration(float(steps_s[short].max()))} (bridged"
            + ("" if long.any() else f"; no gap over {DATA_GAP_S:g} s in the data")
            + ")"
        )
    lost = 100 * session.quality()["fraction_lost"]
    share = f"about {lost:.1f} %" if lost >= 0.05 else "under 0.1 %"  # never "about 0.0 %"
    return [f"{name}: {'; '.join(parts)}; {share} of samples missing"]
