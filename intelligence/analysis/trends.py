"""Mann-Kendall trend test and a simple emerging/persistent/diminishing/sporadic hotspot label.

Mann-Kendall asks whether later values tend to exceed earlier ones, using only their order, so
a single busy week cannot fake a trend and no distribution is assumed (Mann 1945, Kendall 1975).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

__all__ = ["HotspotTrend", "MKResult", "Trend", "classify_hotspot_trend", "mann_kendall"]

Trend = Literal["increasing", "decreasing", "no trend"]
HotspotTrend = Literal["emerging", "persistent", "diminishing", "sporadic"]


@dataclass(frozen=True, slots=True)
class MKResult:
    """Mann-Kendall statistics for one series (see ``mann_kendall`` for the formulas)."""

    s: int
    var_s: float
    z: float
    p: float
    tau: float
    trend: Trend
    n: int


def mann_kendall(series: npt.ArrayLike, alpha: float = 0.05) -> MKResult:
    """Two-sided Mann-Kendall trend test with tie and continuity corrections.

    For the n observations x_1..x_n in time order (NaNs are dropped first: a missing week
    carries no order information, and the test uses order only)::

        S      = Σ_{i<j} sign(x_j - x_i)
        Var(S) = [n(n-1)(2n+5) - Σ_g t_g(t_g-1)(2t_g+5)] / 18     (t_g = size of tie group g)
        z      = (S - 1)/√Var(S) if S > 0;  0 if S = 0;  (S + 1)/√Var(S) if S < 0
        p      = 2 (1 - Φ(|z|))

    The +-1 is the continuity correction (S moves in steps of 2). ``tau`` is Kendall's tau-b
    between the series and time, S / √(n0 (n0 - n1)) with n0 = n(n-1)/2 and
    n1 = Σ_g t_g(t_g-1)/2; without ties it equals S / n0. ``trend`` is "increasing" or
    "decreasing" when p <= ``alpha``, else "no trend". Fewer than 3 observations, or a constant
    series, give S = 0, z = 0, p = 1, "no trend".
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"series: expected a 1-D array, got shape {x.shape}")
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return MKResult(s=0, var_s=0.0, z=0.0, p=1.0, tau=0.0, trend="no trend", n=n)
    # All pairs at once: weekly series are at most a few hundred long, so n² is small.
    signs = np.sign(x[None, :] - x[:, None])
    s = int(np.triu(signs, k=1).sum())
    _, ties = np.unique(x, return_counts=True)
    var_s = float((n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0)
    if var_s <= 0.0:  # constant series: every pair tied
        return MKResult(s=0, var_s=0.0, z=0.0, p=1.0, tau=0.0, trend="no trend", n=n)
    z = (s - np.sign(s)) / np.sqrt(var_s)
    p = float(min(1.0, 2.0 * norm.sf(abs(z))))
    n0 = n * (n - 1) / 2
    n1 = float(np.sum(ties * (ties - 1)) / 2)
    tau = s / np.sqrt(n0 * (n0 - n1))
    trend: Trend = "no trend"
    if p <= alpha:
        trend = "increasing" if s > 0 else "decreasing"
    return MKResult(s=s, var_s=var_s, z=float(z), p=p, tau=float(tau), trend=trend, n=n)


def classify_hotspot_trend(
    weekly_counts: npt.ArrayLike,
    alpha: float = 0.05,
    *,
    weekly_hot: npt.ArrayLike | None = None,
    persistent_share: float = 0.8,
) -> HotspotTrend:
    """Label a hotspot's history from its weekly counts (oldest first).

    Rules, first match wins:

    1. Mann-Kendall trend "increasing" at ``alpha`` -> "emerging";
    2. "decreasing" -> "diminishing";
    3. hot in at least ``persistent_share`` of the weeks -> "persistent";
    4. otherwise -> "sporadic".

    A week is "hot" per ``weekly_hot`` (e.g. the area was a significant Gi* hotspot that week)
    when given; otherwise, for an area already found hot over the whole window, any week with at
    least one incident counts as active.

    This is a deliberate simplification of ArcGIS Pro's Emerging Hot Spot Analysis, which runs
    Gi* per space-time bin, applies Mann-Kendall to the Gi* z-scores (not counts), uses a 90 %
    rule and distinguishes new, consecutive, intensifying, persistent, diminishing, sporadic,
    oscillating and historical hot spots (and the same for cold spots). Our four labels are what
    a supervisor needs to prioritise: growing, steady, fading, or on-and-off.
    """
    if not 0.0 < persistent_share <= 1.0:
        raise ValueError(f"persistent_share: must be in (0, 1], got {persistent_share!r}")
    counts = np.asarray(weekly_counts, dtype=float)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError("weekly_counts: expected a non-empty 1-D array")
    if weekly_hot is None:
        hot = counts > 0
    else:
        hot = np.asarray(weekly_hot, dtype=bool)
        if hot.shape != counts.shape:
            raise ValueError(
                f"weekly_hot: expected {counts.size} weeks like weekly_counts, got {hot.size}"
            )
    trend = mann_kendall(counts, alpha).trend
    if trend == "increasing":
        return "emerging"
    if trend == "decreasing":
        return "diminishing"
    if hot.mean() >= persistent_share:
        return "persistent"
    return "sporadic"
