"""Getis-Ord Gi* hotspots on the H3 grid, with FDR control and merging into areas.

The pipeline (``run_hotspots``) is: count incidents per H3 cell -> build the study area (observed
cells plus a k-ring of zero-count cells) -> binary k-ring weights including self -> analytic Gi*
z-scores and one-sided "hot" p-values -> Benjamini-Hochberg at ``alpha`` -> connected components
of the hot cells, each a ``Hotspot``.

Everything is vectorised over cells (sparse matrix-vector products); the only Python loops are
over H3 calls, which the h3 library does not vectorise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import h3
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.stats import norm

from intelligence.analysis.fdr import bh_reject

__all__ = [
    "Hotspot",
    "HotspotResult",
    "cell_counts",
    "getis_ord_gi_star",
    "hot_cells",
    "knn_ring_weights",
    "merge_hotspots",
    "run_hotspots",
    "study_area",
]


def _check_cells(cells: Iterable[str]) -> list[str]:
    checked = list(cells)
    for cell in checked:
        if not isinstance(cell, str) or not h3.is_valid_cell(cell):
            raise ValueError(f"cells: {cell!r} is not a valid H3 cell")
    return checked


def cell_counts(cells: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct cells (sorted, so results do not depend on input order) and incidents per cell."""
    checked = _check_cells(cells)
    if not checked:
        return [], np.zeros(0, dtype=np.int64)
    unique, counts = np.unique(np.asarray(checked, dtype=object), return_counts=True)
    return [str(c) for c in unique], counts.astype(np.int64)


def study_area(cells: Iterable[str], k: int = 1) -> list[str]:
    """The cells Gi* is computed on: the observed cells plus every cell within ``k`` rings of one.

    Gi* compares a neighbourhood's total with the study-area mean, so cells with no incidents
    are data, not gaps: a cell with 20 calls surrounded by empty cells is a sharper hotspot than
    one surrounded by busy cells. Using only observed cells would drop those zeros and bias every
    neighbourhood sum upward. The ring of width ``k`` (the weights' own radius) gives every
    observed cell its complete neighbourhood.

    Choice and caveat: the area is derived from the data's footprint, so its outer ring is all
    zeros by construction. Where incidents cover a whole jurisdiction densely, that ring lowers
    the study-area mean a little; pass the jurisdiction's own cells as ``area`` to
    ``run_hotspots`` when they are known. All cells must share one H3 resolution. Sorted output.
    """
    if k < 0:
        raise ValueError(f"k: must be >= 0, got {k}")
    observed = set(_check_cells(cells))
    if len({h3.get_resolution(c) for c in observed}) > 1:
        raise ValueError("cells: all cells must have the same H3 resolution")
    area: set[str] = set()
    for cell in observed:
        area.update(h3.grid_disk(cell, k))
    return sorted(area)


def knn_ring_weights(cells: Sequence[str], k: int = 1) -> sp.csr_matrix:
    """Binary spatial weights: w_ij = 1 when cell j is within ``k`` grid steps of cell i.

    The diagonal is 1 (the "star" in Gi*: a cell belongs to its own neighbourhood). Neighbours
    outside ``cells`` are ignored, so a cell on the edge of the study area has fewer neighbours
    (Gi* accounts for that through W_i* and S1_i). Rows and columns follow the order of
    ``cells``; the matrix is symmetric.
    """
    if k < 0:
        raise ValueError(f"k: must be >= 0, got {k}")
    checked = _check_cells(cells)
    index = {cell: i for i, cell in enumerate(checked)}
    if len(index) != len(checked):
        raise ValueError("cells: duplicate cells; pass each cell once")
    rows: list[int] = []
    cols: list[int] = []
    for i, cell in enumerate(checked):
        for neighbour in h3.grid_disk(cell, k):
            j = index.get(neighbour)
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(checked)
    data = np.ones(len(rows), dtype=float)
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def getis_ord_gi_star(
    values: npt.ArrayLike, weights: sp.spmatrix | sp.sparray
) -> tuple[np.ndarray, np.ndarray]:
    """Getis-Ord Gi* z-scores and one-sided ("hot") p-values (Ord & Getis 1995, self included).

    For n cells with values x and weights w (``weights`` row i = neighbourhood of i, self
    included), with x̄ = Σx/n and S = sqrt(Σx²/n - x̄²) (population form):

        G*_i  = Σ_j w_ij x_j                      (the neighbourhood total)
        W_i*  = Σ_j w_ij,   S1_i = Σ_j w_ij²
        E     = W_i* x̄
        Var   = S² (n S1_i - W_i*²) / (n - 1)
        z_i   = (G*_i - W_i* x̄) / sqrt(Var)

    This is PySAL esda's ``G_Local(star=True, transform="B")`` analytic ``Zs`` with binary
    weights (esda divides G*_i by Σx, which rescales numerator and standard deviation alike).
    It is *not* esda's default ``transform="R"``: row-standardised weights give
    (neighbourhood mean - x̄) / S-type scores, a different statistic whenever neighbourhoods
    differ in size (rim cells). ``tests/intelligence/test_validation_gi_star.py`` pins the
    equality with esda to 1e-9.

    p_i = 1 - Φ(z_i), one-sided for high values: a hotspot map asks "is this neighbourhood
    busier than the area as a whole?", and cold spots are not flagged here. For z >= 0 this is
    esda's ``p_norm``; esda's ``p_norm`` is Φ(-|z|) (the tail on the side z falls), so for
    negative z Beacon's p is 1 - ``p_norm``. Double p (capped at 1) for a two-sided test.

    Caveat: the normal p-value assumes neighbourhood sums are roughly normal. With sparse
    counts (a few incidents per neighbourhood) their right tail is heavier than the normal's,
    so extreme p-values are optimistic: in seeded uniform tests with ~3 incidents per cell,
    about one run in five flags a cell after FDR, although the share of flagged cells stays far
    below alpha. A conditional-permutation p-value (esda's ``p_sim``) is the remedy if needed.

    Degenerate cases get z = 0 and p = 1 (no evidence), never NaN (esda gives NaN): n < 3 (too few cells for a
    spatial comparison), all values equal (S = 0), and any cell whose neighbourhood is the whole
    area (n S1_i = W_i*², its sum is the total and cannot differ from expectation).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values: expected a 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values: must be finite")
    w_mat = sp.csr_matrix(weights, dtype=float)
    n = x.size
    if w_mat.shape != (n, n):
        raise ValueError(f"weights: expected shape ({n}, {n}), got {w_mat.shape}")
    z = np.zeros(n)
    p = np.ones(n)
    if n < 3:
        return z, p
    mean = x.mean()
    # Centring first keeps S accurate when values share a large offset (Σx²/n - x̄² would cancel).
    s2 = np.mean((x - mean) ** 2)
    # Relative tolerance: values that are equal up to rounding count as all-equal.
    if s2 <= (np.finfo(float).eps * max(1.0, np.abs(x).max())) ** 2:
        return z, p
    w_sum = np.asarray(w_mat.sum(axis=1)).ravel()
    s1 = np.asarray(w_mat.multiply(w_mat).sum(axis=1)).ravel()
    spread = n * s1 - w_sum**2
    ok = spread > 1e-12 * np.maximum(1.0, n * s1)
    # Σ_j w_ij (x_j - x̄) equals G*_i - W_i* x̄ but without cancellation between two big numbers.
    numerator = w_mat @ (x - mean)
    var = s2 * spread[ok] / (n - 1)
    z[ok] = numerator[ok] / np.sqrt(var)
    p[ok] = norm.sf(z[ok])
    return z, p


def hot_cells(
    cells: Sequence[str],
    z: npt.ArrayLike,
    p: npt.ArrayLike,
    alpha: float = 0.05,
    method: Literal["fdr", "bonferroni", "none"] = "fdr",
) -> np.ndarray:
    """Boolean mask of significantly hot cells: z > 0 and the test rejected at ``alpha``.

    ``method``: "fdr" = Benjamini-Hochberg over all cells (the default, as in ArcGIS's hot spot
    tools); "bonferroni" = p <= alpha / n (stricter, controls the chance of any false cell);
    "none" = p <= alpha per cell (expect alpha x n false cells; for exploration only).
    """
    z_arr = np.asarray(z, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    if not (len(cells) == z_arr.size == p_arr.size):
        raise ValueError(f"cells, z, p: lengths differ ({len(cells)}, {z_arr.size}, {p_arr.size})")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    if method == "fdr":
        rejected = bh_reject(p_arr, alpha)
    elif method == "bonferroni":
        rejected = p_arr <= alpha / max(p_arr.size, 1)
    elif method == "none":
        rejected = p_arr <= alpha
    else:
        raise ValueError(f"method: expected 'fdr', 'bonferroni' or 'none', got {method!r}")
    return rejected & (z_arr > 0)


@dataclass(frozen=True, slots=True)
class Hotspot:
    """One connected area of hot cells.

    ``centroid`` is (lat, lon), the plain mean of the cell centres: fine at city scale, not
    across the antimeridian. ``max_z`` and ``total_count`` are None when not supplied.
    """

    cells: tuple[str, ...]
    centroid: tuple[float, float]
    n_cells: int
    max_z: float | None = None
    total_count: int | None = None


def merge_hotspots(
    hot: Iterable[str],
    *,
    z: Mapping[str, float] | None = None,
    counts: Mapping[str, int] | None = None,
) -> list[Hotspot]:
    """Connected components of ``hot`` cells under H3 adjacency (grid_disk(1)).

    Two hot cells share a hotspot when a chain of edge-adjacent hot cells joins them. ``z`` and
    ``counts`` (cell -> value) fill in each hotspot's max z and total count. The result is
    ordered by max z (highest first, when given), then size, then first cell, so it is
    deterministic.
    """
    remaining = set(_check_cells(hot))
    spots: list[Hotspot] = []
    while remaining:
        seed = min(remaining)  # min, not pop: the traversal does not depend on set ordering
        remaining.discard(seed)
        component = [seed]
        frontier = [seed]
        while frontier:
            cell = frontier.pop()
            for neighbour in h3.grid_disk(cell, 1):
                if neighbour in remaining:
                    remaining.discard(neighbour)
                    component.append(neighbour)
                    frontier.append(neighbour)
        members = tuple(sorted(component))
        centres = np.array([h3.cell_to_latlng(c) for c in members])
        lat, lon = centres.mean(axis=0)
        spots.append(
            Hotspot(
                cells=members,
                centroid=(float(lat), float(lon)),
                n_cells=len(members),
                max_z=None if z is None else float(max(z[c] for c in members)),
                total_count=None if counts is None else int(sum(counts.get(c, 0) for c in members)),
            )
        )
    spots.sort(key=lambda s: (-(s.max_z if s.max_z is not None else 0.0), -s.n_cells, s.cells[0]))
    return spots


# eq=False: numpy fields make field-wise equality ambiguous, so compare fields explicitly.
@dataclass(frozen=True, slots=True, eq=False)
class HotspotResult:
    """Everything one hotspot run produced, aligned on ``cells`` (the sorted study area)."""

    cells: list[str]
    counts: np.ndarray
    z: np.ndarray
    p: np.ndarray
    hot: np.ndarray
    hotspots: list[Hotspot]
    k: int
    alpha: float


def run_hotspots(
    cells: Sequence[str],
    *,
    k: int = 1,
    alpha: float = 0.05,
    area: Iterable[str] | None = None,
) -> HotspotResult:
    """Gi* hotspots for incidents given as one H3 cell per incident.

    ``k`` is both the neighbourhood radius of the weights and the zero-count buffer of the study
    area. ``area``, when given (e.g. the jurisdiction's cells), is added to the study area so
    empty parts of it count as zeros; see ``study_area`` for why that matters.
    """
    unique, counts = cell_counts(cells)
    region = set(study_area(unique, k))
    if area is not None:
        region.update(_check_cells(area))
        if len({h3.get_resolution(c) for c in region}) > 1:
            raise ValueError("area: cells must have the same H3 resolution as the incidents")
    ordered = sorted(region)
    by_cell = dict(zip(unique, counts.tolist(), strict=True))
    values = np.array([by_cell.get(c, 0) for c in ordered], dtype=np.int64)
    z, p = getis_ord_gi_star(values.astype(float), knn_ring_weights(ordered, k))
    hot = hot_cells(ordered, z, p, alpha=alpha, method="fdr")
    hot_list = [c for c, h in zip(ordered, hot, strict=True) if h]
    z_by_cell = dict(zip(ordered, z.tolist(), strict=True))
    spots = merge_hotspots(hot_list, z=z_by_cell, counts=by_cell)
    return HotspotResult(
        cells=ordered, counts=values, z=z, p=p, hot=hot, hotspots=spots, k=k, alpha=alpha
    )
