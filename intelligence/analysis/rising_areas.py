"""Areas whose calls rose faster than the whole jurisdiction's: where emerging hotspots start.

A hotspot test over a long window (Gi* over 90 days) dilutes a place that turned busy only in
the last few weeks, and in a city whose hotspots are already very hot it can stay below the FDR
bar for months. Emerging Hot Spot Analysis (ArcGIS) handles this with Gi* per time step; this
module asks the direct question instead, per cell neighbourhood:

* r = calls in the neighbourhood (the cell and its ``k`` rings) in the recent period,
  e = calls there in the earlier period, n = r + e;
* under "this neighbourhood changed like the jurisdiction did", r ~ Binomial(n, f) with
  f = R / (R + E), the jurisdiction's recent share (so a city-wide surge - a heat wave, a
  holiday - raises the bar everywhere instead of flagging everything);
* one-sided p = P(X >= r), Benjamini-Hochberg over the neighbourhoods with n >= ``min_count``
  (overlapping neighbourhoods are positively dependent, the case BH covers);
* significant cells with r > f * n merge into contiguous areas (``merge_hotspots``).

The result says "rising", not "emerging": whether the rise is a sustained trend is the
Mann-Kendall test's job (``trends``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from intelligence.analysis.fdr import bh_qvalues
from intelligence.analysis.hotspots import (
    Hotspot,
    cell_counts,
    knn_ring_weights,
    merge_hotspots,
    study_area,
)

__all__ = ["RisingResult", "rising_areas"]


@dataclass(frozen=True, slots=True, eq=False)
class RisingResult:
    """Per-cell neighbourhood counts and tests (aligned on ``cells``) and the merged areas."""

    cells: list[str]
    recent: np.ndarray
    earlier: np.ndarray
    recent_share: float
    p: np.ndarray
    q: np.ndarray
    rising: np.ndarray
    areas: list[Hotspot]


def rising_areas(
    recent_cells: Sequence[str],
    earlier_cells: Sequence[str],
    *,
    k: int = 1,
    alpha: float = 0.05,
    min_count: int = 10,
) -> RisingResult:
    """Neighbourhoods whose share of calls in the recent period is unusually high (see above).

    ``recent_cells`` / ``earlier_cells``: one H3 cell per call in each period (same resolution).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    if min_count < 1:
        raise ValueError(f"min_count: must be >= 1, got {min_count!r}")
    recent_unique, recent_counts = cell_counts(recent_cells)
    earlier_unique, earlier_counts = cell_counts(earlier_cells)
    total_recent, total_earlier = int(recent_counts.sum()), int(earlier_counts.sum())
    empty = np.zeros(0)
    if total_recent == 0 or total_earlier == 0:
        return RisingResult([], empty, empty, float("nan"), empty, empty, empty.astype(bool), [])
    cells = study_area([*recent_unique, *earlier_unique], k)
    index = {cell: i for i, cell in enumerate(cells)}
    r_cell = np.zeros(len(cells))
    e_cell = np.zeros(len(cells))
    r_cell[[index[c] for c in recent_unique]] = recent_counts
    e_cell[[index[c] for c in earlier_unique]] = earlier_counts
    weights = knn_ring_weights(cells, k)
    r = np.asarray(weights @ r_cell).ravel()
    e = np.asarray(weights @ e_cell).ravel()
    n = r + e
    share = total_recent / (total_recent + total_earlier)
    p = np.where(n >= min_count, stats.binom.sf(r - 1, n, share), np.nan)
    q = bh_qvalues(p)
    with np.errstate(invalid="ignore"):
        rising = (q <= alpha) & (r > share * n)
    z_like = {
        c: float(-stats.norm.ppf(max(pv, 1e-300)))
        for c, pv, h in zip(cells, p, rising, strict=True)
        if h
    }
    hot = [c for c, h in zip(cells, rising, strict=True) if h]
    counts = {c: int(v) for c, v in zip(cells, r_cell, strict=True) if v}
    areas = merge_hotspots(hot, z=z_like, counts=counts)
    return RisingResult(cells, r, e, share, p, q, rising, areas)
