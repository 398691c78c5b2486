"""Repeat locations and concentration ("x % of places produce y % of calls").

Works for any grouping key (premise, block, street segment, call category...): the caller passes
one key per event and the event times; nothing here knows what a key means.

Time convention: times are epoch seconds (float64, UTC). Every period is half-open,
``[start, end)``: the current window of ``w`` days is ``[as_of - w, as_of)``, so an event at
exactly ``as_of`` belongs to the *next* run, and events at or after ``as_of`` are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from intelligence.analysis.fdr import bh_qvalues

__all__ = [
    "DAY_SECONDS",
    "RepeatWindowResult",
    "concentration_curve",
    "gini",
    "repeat_locations",
    "share_of_events_from_top",
    "share_of_locations_for_events",
]

DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class RepeatWindowResult:
    """Per-location statistics for one window length; every array is aligned with ``keys``.

    ``keys`` are the distinct keys seen in the input (sorted, as ``numpy.unique`` sorts them).
    ``trend`` holds "rising", "falling" or "flat" (see :func:`repeat_locations`).
    """

    window_days: float
    keys: np.ndarray
    count: np.ndarray
    previous_count: np.ndarray
    baseline_count: np.ndarray
    expected_baseline: np.ndarray
    p_baseline: np.ndarray
    expected_jurisdiction: float
    p_jurisdiction: np.ndarray
    trend: np.ndarray
    p_trend: np.ndarray
    flagged: np.ndarray
    q: np.ndarray | None = None
    spike: np.ndarray | None = None

    def flagged_indices(self) -> np.ndarray:
        """Indices of flagged keys, strongest first (smaller max(p_baseline, p_jurisdiction),
        then larger count, then key order - a deterministic tie-break)."""
        idx = np.flatnonzero(self.flagged)
        worst_p = np.maximum(self.p_baseline[idx], self.p_jurisdiction[idx])
        order = np.lexsort((idx, -self.count[idx], worst_p))
        return idx[order]


def _poisson_upper_tail(k: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    # P(X >= k | lam) = sf(k - 1); for k = 0 this is 1, which is what sf(-1) returns.
    return stats.poisson.sf(k - 1, lam)


def _two_sided_equal_rate_p(k: np.ndarray, k_prev: np.ndarray) -> np.ndarray:
    # Conditional (exact) test of equal Poisson rates: given n = k + k_prev, k ~ Bin(n, 1/2).
    # Symmetric null, so the two-sided p is twice the smaller tail, capped at 1.
    n = k + k_prev
    lower = stats.binom.cdf(k, n, 0.5)
    upper = stats.binom.sf(k - 1, n, 0.5)
    p = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    return np.where(n == 0, 1.0, p)


def repeat_locations(
    keys: npt.ArrayLike,
    times: npt.ArrayLike,
    *,
    as_of: float,
    windows_days: Sequence[float] = (7.0, 28.0, 90.0),
    baseline_days: float = 365.0,
    n_locations: int | None = None,
    min_count: int = 3,
    alpha: float = 0.05,
    baseline_floor_events: float = 1.0,
    fdr: bool = False,
    require_baseline: bool = True,
    history_start: float | None = None,
) -> dict[float, RepeatWindowResult]:
    """Count events per key in each window and flag unusual repeat locations.

    For each window length ``w`` (days) and each key:

    * ``count`` k = events in ``[as_of - w, as_of)``.
    * Own baseline: ``baseline_count`` b = events in the ``baseline_days`` (B) before the window,
      ``[as_of - w - B, as_of - w)``; expected ``lambda_b = max(b, baseline_floor_events) * w / B``.
      The floor (default: as if 1 event in the baseline year) keeps a never-seen-before key
      from getting lambda = 0, where any single event would have p = 0.
    * Jurisdiction: ``lambda_j = (all events in the window) / n_locations``, the count of the
      average location in the *same* window. Using the same window makes a city-wide surge
      (weather, a holiday) raise the bar for every location instead of flagging all of them.
      ``n_locations`` should be the number of known locations including those with no events;
      by default it is the number of distinct keys in the input.
    * p-values: Poisson upper tail ``P(X >= k | lambda) = poisson.sf(k - 1, lambda)``.
    * ``flagged`` = ``k >= min_count and p_baseline < alpha and p_jurisdiction < alpha``: the
      location must be unusual against its own history *and* against the typical location, so a
      chronically busy place (a hospital, a shopping centre) is not flagged every night for
      being busy, and a quiet place with two calls is not flagged for a "200 %" rise. No
      multiple-testing correction is applied unless ``fdr`` (these are screening flags for
      human review); under a pure Poisson null the share of flagged keys is at most ~alpha.
    * With ``fdr=True`` the test of a (key, window) uses ``p = max(p_baseline,
      p_jurisdiction)`` (both must pass, so the larger p decides) - or, with
      ``require_baseline=False``, ``p_jurisdiction`` alone, so a chronically busy place is
      flagged too and ``spike`` (``p_baseline < alpha``) tells the sudden from the chronic -
      and Benjamini-Hochberg runs
      over every (key, window) in all windows together (keys below the minimum count count as
      tests too - leaving them out would select the busy keys first and let chance counts
      through); ``flagged`` is then ``k >= min_count and q <= alpha`` and ``q`` holds the BH
      q-values.
      This keeps the expected share of false flags among all flags at ``alpha`` however many
      places a city has.
    * Trend against the previous equal window ``[as_of - 2w, as_of - w)`` with count k':
      exact conditional test of equal rates (given n = k + k', k ~ Binomial(n, 1/2)), two-sided
      ``p_trend``; "rising" if ``p_trend < alpha`` and k > k', "falling" if ``p_trend < alpha``
      and k < k', otherwise "flat".

    * ``history_start`` (epoch seconds), when given, is when the data begins: a baseline is then
      cut to ``[max(as_of - w - B, history_start), as_of - w)`` and ``lambda_b`` scales by its
      real length, so a young data set is not compared with a year it does not hold. A window
      with less than one window length of history before it cannot be judged against its own
      past: it is left out of the result (so a kept window's previous window, the trend's
      comparison, always lies in the data).

    Returns ``{w: RepeatWindowResult}`` in the order of ``windows_days`` (less the windows left
    out for lack of history).
    """
    key_arr = np.asarray(keys)
    t = np.asarray(times, dtype=np.float64)
    if key_arr.ndim != 1 or t.ndim != 1 or key_arr.shape != t.shape:
        raise ValueError(
            f"keys/times: expected two 1-D arrays of equal length, got {key_arr.shape} and {t.shape}"
        )
    if not np.all(np.isfinite(t)):
        raise ValueError("times: every time must be finite (epoch seconds)")
    if not math.isfinite(as_of):
        raise ValueError(f"as_of: must be finite epoch seconds, got {as_of!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    if baseline_days <= 0:
        raise ValueError(f"baseline_days: must be > 0, got {baseline_days!r}")
    if baseline_floor_events < 0:
        raise ValueError(f"baseline_floor_events: must be >= 0, got {baseline_floor_events!r}")
    if any(w <= 0 for w in windows_days):
        raise ValueError(f"windows_days: every window must be > 0 days, got {windows_days!r}")

    uniq, inverse = np.unique(key_arr, return_inverse=True)
    n_keys = uniq.size
    n_loc = n_keys if n_locations is None else int(n_locations)
    if n_loc < max(n_keys, 1):
        raise ValueError(
            f"n_locations: must be >= the number of distinct keys ({n_keys}) and >= 1, got {n_loc}"
        )

    def count_in(start: float, end: float) -> np.ndarray:
        mask = (t >= start) & (t < end)
        return np.bincount(inverse[mask], minlength=n_keys)

    results: dict[float, RepeatWindowResult] = {}
    for w in windows_days:
        w_s = float(w) * DAY_SECONDS
        b_s = float(baseline_days) * DAY_SECONDS
        if history_start is not None:
            b_s = min(b_s, as_of - w_s - float(history_start))
            if b_s < w_s:
                continue  # less than one window of history: no baseline to judge against
        k = count_in(as_of - w_s, as_of)
        k_prev = count_in(as_of - 2 * w_s, as_of - w_s)
        b = count_in(as_of - w_s - b_s, as_of - w_s)
        lam_b = np.maximum(b, baseline_floor_events) * (w_s / b_s)
        # With a zero floor and no history, lambda = 0: P(X >= k) is 0 for k >= 1, 1 for k = 0.
        p_b = np.where(lam_b > 0, _poisson_upper_tail(k, np.maximum(lam_b, 1e-300)), (k == 0) * 1.0)
        lam_j = float(k.sum()) / n_loc
        p_j = _poisson_upper_tail(k, lam_j) if lam_j > 0 else np.ones(n_keys)
        p_tr = _two_sided_equal_rate_p(k, k_prev)
        trend = np.where(
            (p_tr < alpha) & (k > k_prev),
            "rising",
            np.where((p_tr < alpha) & (k < k_prev), "falling", "flat"),
        )
        flagged = (k >= min_count) & (p_b < alpha) & (p_j < alpha)
        results[float(w)] = RepeatWindowResult(
            window_days=float(w),
            keys=uniq,
            count=k,
            previous_count=k_prev,
            baseline_count=b,
            expected_baseline=lam_b,
            p_baseline=np.asarray(p_b, dtype=float),
            expected_jurisdiction=lam_j,
            p_jurisdiction=np.asarray(p_j, dtype=float),
            trend=trend,
            p_trend=p_tr,
            flagged=flagged,
        )
    if fdr and results:
        _apply_fdr(results, alpha=alpha, min_count=min_count, require_baseline=require_baseline)
    return results


def _apply_fdr(
    results: dict[float, RepeatWindowResult],
    *,
    alpha: float,
    min_count: int,
    require_baseline: bool,
) -> None:
    """Replace each window's flags with BH over every (key, window) test at once."""
    windows = list(results)
    tested = [results[w].count >= min_count for w in windows]
    worst = [
        np.maximum(results[w].p_baseline, results[w].p_jurisdiction)
        if require_baseline
        else results[w].p_jurisdiction
        for w in windows
    ]
    # Every (key, window) is a test, the ones below the minimum count included: dropping them
    # first would shrink m to the few busy keys and let chance counts through (selection bias).
    q_all = bh_qvalues(np.concatenate(worst))
    n = results[windows[0]].keys.size
    for i, w in enumerate(windows):
        q = q_all[i * n : (i + 1) * n]
        with np.errstate(invalid="ignore"):
            flagged = tested[i] & (q <= alpha)
        old = results[w]
        results[w] = RepeatWindowResult(
            **{
                **{name: getattr(old, name) for name in old.__dataclass_fields__},
                "flagged": flagged,
                "q": q,
                "spike": old.p_baseline < alpha,
            }
        )


def _as_counts(counts: npt.ArrayLike) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.ndim != 1:
        raise ValueError(f"counts: expected a 1-D array, got shape {c.shape}")
    if c.size and (not np.all(np.isfinite(c)) or c.min() < 0):
        raise ValueError("counts: every count must be finite and >= 0")
    return c


def concentration_curve(counts: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of locations vs cumulative share of events, busiest locations first.

    With counts sorted descending c_(1) >= ... >= c_(n) and total S::

        share_of_locations[i] = i / n,   share_of_events[i] = (c_(1) + ... + c_(i)) / S

    for i = 0..n, so both arrays have n + 1 points, start at 0 and end at 1 (Esri's "80-20"
    curve). Pass the zero-count locations too, or the curve overstates how spread events are.
    Empty input or a zero total raises (there is no curve to draw).
    """
    c = _as_counts(counts)
    total = c.sum()
    if c.size == 0 or total <= 0:
        raise ValueError("counts: need at least one location and a positive total")
    desc = np.sort(c)[::-1]
    share_loc = np.arange(c.size + 1, dtype=float) / c.size
    share_ev = np.concatenate(([0.0], np.cumsum(desc) / total))
    share_ev[-1] = 1.0  # exact end point despite float summation
    return share_loc, share_ev


def share_of_events_from_top(counts: npt.ArrayLike, fraction: float) -> float:
    """Share of all events produced by the busiest ``fraction`` of locations.

    Takes the top ``m = ceil(fraction * n - 1e-9)`` locations (at least the stated share; the
    epsilon stops 0.3 * 10 = 3.0000000000000004 from rounding up to 4). Ties at the cut do not
    matter: tied locations contribute equal counts whichever of them is taken.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction: must be in [0, 1], got {fraction!r}")
    _, share_ev = concentration_curve(counts)
    n = share_ev.size - 1
    m = min(n, math.ceil(fraction * n - 1e-9))
    return float(share_ev[m])


def share_of_locations_for_events(counts: npt.ArrayLike, event_share: float) -> float:
    """Smallest share of locations (busiest first) producing at least ``event_share`` of events.

    The inverse reading of the curve: "50 % of calls come from 3 % of places".
    """
    if not 0.0 <= event_share <= 1.0:
        raise ValueError(f"event_share: must be in [0, 1], got {event_share!r}")
    share_loc, share_ev = concentration_curve(counts)
    # Tolerance so that an exactly attainable share is not missed by float rounding.
    i = int(np.searchsorted(share_ev, event_share - 1e-12, side="left"))
    return float(share_loc[min(i, share_loc.size - 1)])


def gini(counts: npt.ArrayLike) -> float:
    """Gini coefficient of the counts (0 = all equal, (n-1)/n = all events at one location).

    With counts sorted ascending x_(1) <= ... <= x_(n) and i = 1..n::

        G = sum_i (2i - n - 1) * x_(i) / (n * sum_i x_(i))

    NaN for an empty input or a zero total (undefined).
    """
    c = _as_counts(counts)
    total = c.sum()
    if c.size == 0 or total <= 0:
        return math.nan
    asc = np.sort(c)
    n = c.size
    i = np.arange(1, n + 1, dtype=float)
    return float(np.sum((2.0 * i - n - 1.0) * asc) / (n * total))
