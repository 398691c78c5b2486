"""When does it happen? Hour-of-week profiles and significant time windows.

Convention: an hour of week is ``24 * day + hour`` in the agency's *local* time, with day 0 =
Monday and hour 0 = 00:00-00:59, so 0 = Monday 00:00 and 167 = Sunday 23:00. The caller converts
aware UTC datetimes to local time first (DST shifts move events by an hour, which is why this is
not done on UTC epoch seconds here).

Two window methods, both controlling false alarms with Benjamini-Hochberg:

**Scan** (``scan_time_windows``, what the runner uses): every candidate window "these days x
these consecutive hours" is tested at once. Candidates are the day sets people plan shifts by
(each day, every run of 2, 3 and 5 consecutive days, wrapping Sunday -> Monday, and all seven)
times every start hour times 1..``max_hours`` hours (5,568 candidates with the defaults). Each
candidate's pooled count C out of N is tested against its reference share R with the exact
one-sided binomial ``P(X >= C | Binomial(N, R))``; BH runs over all candidates (the tests are
positively dependent - overlapping windows share counts - the case BH is proven for, Benjamini
& Yekutieli 2001). Among the rejected candidates the strongest (smallest p, then larger count,
then fewer cells) is reported, every candidate sharing an hour cell with it is dropped, and so on.
Pooling across days is what finds a weekday pattern like "Mon-Fri 15:00-18:00" whose single
hour cells are too thin to pass a per-cell test.

**Per cell** (``find_time_windows``):

1. Per hour-of-week cell h with count c_h out of N events and reference share r_h (uniform 1/168
   or a jurisdiction-wide profile), an exact one-sided binomial test of excess:
   ``p_h = P(X >= c_h | X ~ Binomial(N, r_h))``.
2. Benjamini-Hochberg over the 168 cells at level ``alpha`` (168 tests at once; see ``fdr``).
3. Adjacent significant cells merge into runs; runs wrap across midnight and across
   Sunday 23:00 -> Monday 00:00 (hour 167 is adjacent to hour 0).
4. Runs with the same local start hour and length on different days are grouped into one window
   ("Fri-Sat 19:00-23:00"), whose count, share and pooled binomial p-value cover all its cells.

Hours are end-exclusive: a window 19:00-23:00 covers the hour cells 19, 20, 21 and 22, i.e.
local times in [19:00, 23:00). A window crossing midnight reads e.g. "Fri 22:00-02:00" and the
day named is the day it *starts*.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from intelligence.analysis.fdr import bh_reject

__all__ = [
    "DAY_NAMES",
    "HOURS_PER_WEEK",
    "TimeWindow",
    "chi_square_vs_reference",
    "find_time_windows",
    "format_days",
    "format_window",
    "hour_of_week_profile",
    "scan_time_windows",
]

HOURS_PER_WEEK = 168
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DASH = "\u2013"  # en dash, as in "Fri-Sat" typeset for people


def hour_of_week_profile(hours_of_week: npt.ArrayLike) -> np.ndarray:
    """Event counts per hour of week, shape (168,), index 0 = Monday 00:00 local."""
    h = np.asarray(hours_of_week)
    if h.ndim != 1:
        raise ValueError(f"hours_of_week: expected a 1-D array, got shape {h.shape}")
    if h.size and (not np.issubdtype(h.dtype, np.integer) or h.min() < 0 or h.max() > 167):
        raise ValueError("hours_of_week: every value must be an integer in 0..167")
    return np.bincount(h.astype(np.intp), minlength=HOURS_PER_WEEK)


def _reference_shares(reference: npt.ArrayLike | None) -> np.ndarray:
    if reference is None:
        return np.full(HOURS_PER_WEEK, 1.0 / HOURS_PER_WEEK)
    r = np.asarray(reference, dtype=float)
    if r.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"reference: expected 168 values (counts or shares), got shape {r.shape}")
    # A zero reference share would make any event in that hour infinitely surprising.
    if not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError("reference: every hour needs a finite value > 0")
    return r / r.sum()


def chi_square_vs_reference(
    counts: npt.ArrayLike, reference: npt.ArrayLike | None = None
) -> tuple[float, int, float]:
    """Pearson chi-square goodness of fit of a 168-bin profile to a reference profile.

    ``X2 = sum_h (c_h - N r_h)^2 / (N r_h)`` with 167 degrees of freedom (the reference is
    given, not estimated); returns ``(X2, df, p)``. ``reference`` may be counts or shares
    (normalised here); None means uniform. Needs N > 0. The chi-square approximation wants
    expected counts of about 5 per cell, i.e. N >= ~840 events for a uniform reference; below
    that read the p-value as indicative only.
    """
    c = np.asarray(counts, dtype=float)
    if c.shape != (HOURS_PER_WEEK,):
        raise ValueError(f"counts: expected 168 values, got shape {c.shape}")
    n = c.sum()
    if n <= 0:
        raise ValueError("counts: need at least one event")
    expected = n * _reference_shares(reference)
    stat, p = stats.chisquare(c, f_exp=expected)
    return float(stat), HOURS_PER_WEEK - 1, float(p)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A recurring window: the same local hours on one or more days.

    ``start_hour`` in 0..23; ``end_hour`` = (start_hour + n_hours) mod 24, end-exclusive;
    ``cells`` are the hour-of-week indices covered; ``p_value`` is the pooled one-sided binomial
    test of ``count`` out of N against ``expected_share``.
    """

    days: tuple[int, ...]
    start_hour: int
    end_hour: int
    n_hours: int
    count: int
    share: float
    expected_share: float
    p_value: float
    cells: tuple[int, ...]

    @property
    def label(self) -> str:
        """Text such as "Fri-Sat 19:00-23:00" (with en dashes)."""
        return format_window(self.days, self.start_hour, self.end_hour, n_hours=self.n_hours)


def format_days(days: Iterable[int]) -> str:
    """Day list as text: consecutive days collapse into ranges, wrapping Sunday -> Monday.

    ``[4, 5]`` -> "Fri-Sat"; ``[0, 2, 3, 4]`` -> "Mon, Wed-Fri"; ``[6, 0]`` -> "Sun-Mon";
    all seven -> "Mon-Sun" (en dashes).
    """
    ds = sorted({int(d) for d in days})
    if not ds or ds[0] < 0 or ds[-1] > 6:
        raise ValueError(f"days: need day numbers in 0..6 (0 = Monday), got {ds!r}")
    if len(ds) == 7:
        return f"Mon{_DASH}Sun"
    present = set(ds)
    # Start each range at a day whose previous day is absent; rotate so the list reads from the
    # first such range in Monday-first order.
    starts = [d for d in ds if (d - 1) % 7 not in present]
    parts = []
    for s in starts:
        e = s
        while (e + 1) % 7 in present:
            e = (e + 1) % 7
        parts.append(DAY_NAMES[s] if e == s else f"{DAY_NAMES[s]}{_DASH}{DAY_NAMES[e]}")
    return ", ".join(parts)


def format_window(
    days: Iterable[int], start_hour: int, end_hour: int, *, n_hours: int | None = None
) -> str:
    """ "Fri-Sat 19:00-23:00" (en dashes): days, then start and end-exclusive end, local time.

    ``n_hours`` only matters for runs of 24 hours or more, which the clock times cannot show:
    they read "Fri 19:00 for 30 h".
    """
    if not (0 <= start_hour <= 23 and 0 <= end_hour <= 23):
        raise ValueError(f"start_hour/end_hour: must be in 0..23, got {start_hour}, {end_hour}")
    day_text = format_days(days)
    if n_hours is not None and n_hours >= 24:
        return f"{day_text} {start_hour:02d}:00 for {n_hours} h"
    return f"{day_text} {start_hour:02d}:00{_DASH}{end_hour:02d}:00"


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of runs of True on the 168-hour circle."""
    if not mask.any():
        return []
    if mask.all():
        return [(0, HOURS_PER_WEEK)]
    # Rotate so the scan starts just after a False cell: no run is then split by the wrap.
    offset = int(np.flatnonzero(~mask)[0]) + 1
    rolled = np.roll(mask, -offset)
    runs = []
    i = 0
    while i < HOURS_PER_WEEK:
        if rolled[i]:
            j = i
            while j < HOURS_PER_WEEK and rolled[j]:
                j += 1
            runs.append(((i + offset) % HOURS_PER_WEEK, j - i))
            i = j
        else:
            i += 1
    return runs


def find_time_windows(
    hours_of_week: npt.ArrayLike,
    *,
    reference: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> list[TimeWindow]:
    """Recurring windows carrying a significant excess share of events (see module docstring).

    ``reference``: 168 counts or shares (e.g. the jurisdiction's all-calls profile), None for
    uniform. Returned strongest first (smallest p, then largest count, then earliest cell).
    Empty input gives no windows.
    """
    counts = hour_of_week_profile(hours_of_week)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    ref = _reference_shares(reference)
    n = int(counts.sum())
    if n == 0:
        return []
    p_cell = stats.binom.sf(counts - 1, n, ref)
    significant = bh_reject(p_cell, alpha=alpha)

    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for start, length in _runs(significant):
        groups[(start % 24, length)].append(start)

    windows = []
    for (start_hour, length), starts in groups.items():
        cells = tuple(sorted((s + k) % HOURS_PER_WEEK for s in starts for k in range(length)))
        count = int(counts[list(cells)].sum())
        exp_share = float(ref[list(cells)].sum())
        windows.append(
            TimeWindow(
                days=tuple(sorted(s // 24 for s in starts)),
                start_hour=start_hour,
                end_hour=(start_hour + length) % 24,
                n_hours=length,
                count=count,
                share=count / n,
                expected_share=exp_share,
                p_value=float(stats.binom.sf(count - 1, n, min(exp_share, 1.0))),
                cells=cells,
            )
        )
    windows.sort(key=lambda w: (w.p_value, -w.count, w.cells[0]))
    return windows


# Day sets a roster is planned by: single days, consecutive runs of 2, 3 and 5 days (wrapping
# Sunday -> Monday, so "Sun-Mon" and "Fri-Sun" exist), and the whole week.
DEFAULT_DAY_SETS: tuple[tuple[int, ...], ...] = (
    *(tuple((d + k) % 7 for k in range(n)) for n in (1, 2, 3, 5) for d in range(7)),
    tuple(range(7)),
)


def _candidate_matrix(
    day_sets: tuple[tuple[int, ...], ...], max_hours: int
) -> tuple[np.ndarray, list[tuple[tuple[int, ...], int, int]]]:
    """Boolean (candidates x 168) cell membership and each candidate's (days, start, hours)."""
    specs = [
        (tuple(sorted(days)), start, n)
        for days in day_sets
        for start in range(24)
        for n in range(1, max_hours + 1)
    ]
    member = np.zeros((len(specs), HOURS_PER_WEEK), dtype=bool)
    for i, (days, start, n) in enumerate(specs):
        for d in days:
            member[i, [(24 * d + start + k) % HOURS_PER_WEEK for k in range(n)]] = True
    return member, specs


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The candidate windows of one (day sets, max hours): membership as bool and as float64.

    The float copy is what the matrix products use: ``bool @ float`` converts the whole
    5,568 x 168 matrix on every call, which dominated a scan.
    """

    member: np.ndarray
    member_f: np.ndarray
    n_cells: np.ndarray
    specs: list[tuple[tuple[int, ...], int, int]]


_CANDIDATE_CACHE: dict[tuple[tuple[tuple[int, ...], ...], int], _Candidates] = {}

# Candidate reference shares per (candidates, reference shares): one agency's reference serves
# every place scanned against it. Bounded: cleared when it grows past _SHARE_CACHE_SIZE.
_SHARE_CACHE: dict[tuple[tuple[tuple[tuple[int, ...], ...], int], bytes], np.ndarray] = {}
_SHARE_CACHE_SIZE = 64


def _candidates(sets: tuple[tuple[int, ...], ...], max_hours: int) -> _Candidates:
    key = (sets, max_hours)
    found = _CANDIDATE_CACHE.get(key)
    if found is None:
        member, specs = _candidate_matrix(sets, max_hours)
        found = _CANDIDATE_CACHE[key] = _Candidates(
            member, member.astype(np.float64), member.sum(axis=1), specs
        )
    return found


def _candidate_shares(
    key: tuple[tuple[tuple[int, ...], ...], int], cands: _Candidates, ref: np.ndarray
) -> np.ndarray:
    share_key = (key, ref.tobytes())
    found = _SHARE_CACHE.get(share_key)
    if found is None:
        if len(_SHARE_CACHE) >= _SHARE_CACHE_SIZE:
            _SHARE_CACHE.clear()
        found = _SHARE_CACHE[share_key] = np.minimum(cands.member_f @ ref, 1.0)
        found.flags.writeable = False
    return found


def scan_time_windows(
    hours_of_week: npt.ArrayLike,
    *,
    reference: npt.ArrayLike | None = None,
    alpha: float = 0.05,
    max_hours: int = 8,
    day_sets: Iterable[Iterable[int]] | None = None,
) -> list[TimeWindow]:
    """Recurring windows found by the BH-controlled window scan (see module docstring).

    ``reference``: 168 counts or shares, None for uniform. ``max_hours``: longest window (1..24).
    ``day_sets``: candidate day sets (default ``DEFAULT_DAY_SETS``). Returned strongest first;
    no two returned windows share an hour-of-week cell. Empty input gives no windows.
    """
    counts = hour_of_week_profile(hours_of_week)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    if not 1 <= int(max_hours) <= 24:
        raise ValueError(f"max_hours: must be in 1..24, got {max_hours!r}")
    sets = DEFAULT_DAY_SETS if day_sets is None else tuple(tuple(d) for d in day_sets)
    for days in sets:
        if not days or any(not 0 <= int(d) <= 6 for d in days):
            raise ValueError(f"day_sets: every set needs day numbers in 0..6, got {days!r}")
    ref = _reference_shares(reference)
    n = int(counts.sum())
    if n == 0:
        return []
    key = (sets, int(max_hours))
    cands = _candidates(*key)
    member, specs, n_cells = cands.member, cands.specs, cands.n_cells
    # Exact: integer counts well below 2**53 survive the float product unchanged.
    cand_count = np.rint(cands.member_f @ counts.astype(np.float64)).astype(counts.dtype)
    cand_share = _candidate_shares(key, cands, ref)
    p = stats.binom.sf(cand_count - 1, n, cand_share)
    alive = bh_reject(p, alpha=alpha)
    windows: list[TimeWindow] = []
    while alive.any():
        idx = np.flatnonzero(alive)
        best = idx[np.lexsort((n_cells[idx], -cand_count[idx], p[idx]))[0]]
        days, start, hours = specs[best]
        cells = tuple(int(c) for c in np.flatnonzero(member[best]))
        windows.append(
            TimeWindow(
                days=days,
                start_hour=start,
                end_hour=(start + hours) % 24,
                n_hours=hours,
                count=int(cand_count[best]),
                share=float(cand_count[best]) / n,
                expected_share=float(cand_share[best]),
                p_value=float(p[best]),
                cells=cells,
            )
        )
        # Overlapping candidates describe the same excess again: drop them.
        alive &= ~member[:, member[best]].any(axis=1)
    return windows
