"""Held-out evaluation of hotspot forecasts on an H3 grid: scoring methods, metrics, protocol.

Reference: ilp-methods-and-governance §1.1 (open_cp), §2.3-2.6 and §4. A *method* ranks the cells
of a fixed study area using only events before a forecast origin; the top ``c`` cells of that
ranking are the forecast hotspots for an area budget. The forecast is scored on the events of
the following ``horizon``:

* hit rate H = n / N (share of held-out events inside the selected cells);
* PAI = H / (c / C) (Chainey et al. 2008), with C the number of study-area cells; H3 cells of
  one resolution have nearly the same area within a city, so cell share stands in for area;
* PEI = n / n* (Hunt 2016), n* being the most events any ``c`` cells captured in that period.

Conventions, stated because they move the numbers:

* Study area: every cell of the chosen resolution that holds at least one event anywhere in the
  supplied history (``prepare``). It is a data footprint, not a jurisdiction boundary: empty
  parks and rivers inside the city are outside it, so PAI is relative to "where calls happen at
  all", which makes it smaller than a PAI over the whole land area.
* Budget: c = floor(C x fraction) cells, at least 1 (open_cp's ``top_slice`` also floors).
  PAI uses the actual c / C, not the nominal fraction.
* Ties: cells with equal scores are ranked by ascending H3 id (the grid order). Arbitrary but
  reproducible; the same rule is used for the oracle n*, where it cannot change n*.
* Events outside the study area (only possible when callers build their own grid) count in N
  as misses.

Rolling origin (§4.7): origins step back from the end of the data by ``step``; an origin is
used only when its whole training window lies inside the data and both its training and test
windows hold at least one event (the San Antonio extract has only the first days of each month, so many
windows are empty). Each method sees exactly the same training events at each origin.

Methods: ``naive`` (training counts), ``kde`` (retrospective Gaussian KDE), ``prospective``
(Bowers, Johnson & Pease 2004), ``gistar`` (the hotspot findings' Gi* z) and ``damped``
(counts with each cell-day's calls square-rooted; ``BEACON_DEFAULT_METHOD``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from intelligence.analysis.hotspots import getis_ord_gi_star, knn_ring_weights
from intelligence.analysis.near_repeat import project_lonlat

__all__ = [
    "BEACON_DEFAULT_METHOD",
    "COUNT_METHODS",
    "DEFAULT_BUDGETS",
    "DEFAULT_RESOLUTION",
    "METHODS",
    "Evaluation",
    "EventSet",
    "Grid",
    "Metrics",
    "budget_cells",
    "evaluate",
    "forecast_top_cells",
    "hit_metrics",
    "make_methods",
    "plan_origins",
    "prepare",
    "rank_cells",
    "recapture_rate_index",
    "score_damped",
    "score_gistar",
    "score_kde",
    "score_naive",
    "score_prospective",
]

DAY = 86_400.0
WEEK = 7 * DAY
# The hotspot runner works on the calls' stored h3_r9 cells; forecasts use the same grid by default.
DEFAULT_RESOLUTION = 9
DEFAULT_BUDGETS: tuple[float, ...] = (0.01, 0.02, 0.05)

# The method Beacon uses for hotspot forecasts. Chosen on the San Antonio rolling-origin
# evaluation (docs/benchmarks.md, "Forecast evaluation"), where it was the only method ahead of
# the naive counts at every budget; prospective hotspotting and Gi* were well behind. The margin
# is small and the choice was made on that same data: docs/forecasting.md has the caveats.
BEACON_DEFAULT_METHOD = "damped"


# --- data --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """The study area: sorted H3 cells and their centres projected to metres.

    ``_cache`` holds ring matrices and Gi* weights, which depend only on the cells and are
    reused by every origin.
    """

    cells: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    resolution: int
    _cache: dict[Any, sp.csr_matrix] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.cells)

    def ring(self, d: int) -> sp.csr_matrix:
        """Sparse 0/1 matrix: [i, j] = 1 when cell j is exactly ``d`` grid steps from cell i."""
        key = ("ring", d)
        if key not in self._cache:
            index = {c: i for i, c in enumerate(self.cells)}
            rows: list[int] = []
            cols: list[int] = []
            for i, cell in enumerate(self.cells):
                ring = [cell] if d == 0 else h3.grid_ring(cell, d)
                for other in ring:
                    j = index.get(other)
                    if j is not None:
                        rows.append(i)
                        cols.append(j)
            n = len(self.cells)
            data = np.ones(len(rows))
            self._cache[key] = sp.csr_matrix((data, (rows, cols)), shape=(n, n))
        return self._cache[key]

    def gi_weights(self, k: int) -> sp.csr_matrix:
        """The hotspot analysis's own k-ring weights (self included), built once per grid."""
        key = ("gi", k)
        if key not in self._cache:
            self._cache[key] = knn_ring_weights(list(self.cells), k)
        return self._cache[key]


@dataclass(frozen=True, slots=True, eq=False)
class EventSet:
    """Events sorted by time: grid cell index (-1 = outside), metres x/y, epoch seconds t."""

    cell: np.ndarray
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray

    def __post_init__(self) -> None:
        n = self.t.size
        if not (self.cell.size == self.x.size == self.y.size == n):
            raise ValueError("events: cell, x, y and t must have the same length")
        if n > 1 and np.any(np.diff(self.t) < 0):
            raise ValueError("events: t must be sorted ascending")

    def __len__(self) -> int:
        return int(self.t.size)

    def window(self, start: float, end: float) -> EventSet:
        """Events with start <= t < end (a view, by binary search on the sorted times)."""
        lo, hi = np.searchsorted(self.t, [start, end], side="left")
        return EventSet(self.cell[lo:hi], self.x[lo:hi], self.y[lo:hi], self.t[lo:hi])

    def counts(self, n_cells: int) -> np.ndarray:
        """Events per grid cell (events outside the grid are left out)."""
        inside = self.cell[self.cell >= 0]
        return np.bincount(inside, minlength=n_cells).astype(float)


def prepare(
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    resolution: int = DEFAULT_RESOLUTION,
) -> tuple[Grid, EventSet]:
    """Grid and events from WGS84 points and epoch seconds; the grid is every occupied cell.

    The projection is the local equirectangular one of the near-repeat analysis, centred on the
    mean event, so KDE distances are in metres (well under 1 % error across a city).
    """
    la = np.asarray(lat, dtype=float)
    lo = np.asarray(lon, dtype=float)
    tt = np.asarray(t, dtype=float)
    if not (la.shape == lo.shape == tt.shape) or la.ndim != 1:
        raise ValueError("lat, lon, t: expected 1-D arrays of the same length")
    if not 0 <= resolution <= 15:
        raise ValueError(f"resolution: must be 0-15, got {resolution}")
    order = np.argsort(tt, kind="stable")
    la, lo, tt = la[order], lo[order], tt[order]
    names = [h3.latlng_to_cell(a, b, resolution) for a, b in zip(la, lo, strict=True)]
    cells = sorted(set(names))
    index = {c: i for i, c in enumerate(cells)}
    lon0 = float(lo.mean()) if lo.size else 0.0
    lat0 = float(la.mean()) if la.size else 0.0
    x, y = project_lonlat(lo, la, lon0=lon0, lat0=lat0)
    centres = np.array([h3.cell_to_latlng(c) for c in cells]).reshape(-1, 2)
    cx, cy = project_lonlat(centres[:, 1], centres[:, 0], lon0=lon0, lat0=lat0)
    grid = Grid(cells=tuple(cells), x=cx, y=cy, resolution=resolution)
    cell_idx = np.array([index[c] for c in names], dtype=np.int64)
    return grid, EventSet(cell=cell_idx, x=x, y=y, t=tt)


# --- scoring methods ---------------------------------------------------------------------
# Each takes the grid, the training events (all before ``origin``) and the origin, and returns
# one finite score per grid cell; higher = more likely to hold events in the test period.

Scorer = Callable[[Grid, EventSet, float], np.ndarray]


def score_naive(grid: Grid, train: EventSet, origin: float) -> np.ndarray:
    """Events per cell over the whole training window (open_cp's counting baseline, §4.7 (i))."""
    return train.counts(len(grid))


def score_kde(
    grid: Grid,
    train: EventSet,
    origin: float,
    *,
    bandwidth_m: float = 150.0,
    truncate_sd: float = 3.0,
) -> np.ndarray:
    """Retrospective Gaussian KDE at cell centres: Σ_events exp(-d² / 2 s²), time ignored.

    s = ``bandwidth_m``. The kernel is cut at ``truncate_sd`` x s (beyond 3 s it is < 1.2 % of
    its peak) so only nearby event-centre pairs are summed (cKDTree). Events at the same point
    are merged first and weighted by multiplicity: calls repeat at the same address, which cuts
    the pairs a lot.
    The constant factor of the density is left out; it cannot change a ranking.
    """
    if bandwidth_m <= 0 or truncate_sd <= 0:
        raise ValueError("kde: bandwidth_m and truncate_sd must be > 0")
    scores = np.zeros(len(grid))
    if len(train) == 0 or len(grid) == 0:
        return scores
    points, weight = np.unique(np.column_stack([train.x, train.y]), axis=0, return_counts=True)
    centres = cKDTree(np.column_stack([grid.x, grid.y]))
    pairs = centres.sparse_distance_matrix(
        cKDTree(points), bandwidth_m * truncate_sd, output_type="coo_matrix"
    )
    kernel = np.exp(-0.5 * (pairs.data / bandwidth_m) ** 2) * weight[pairs.col]
    # The "coo_matrix" output keeps zero distances (an event exactly at a centre); "dok" would not.
    np.add.at(scores, pairs.row, kernel)
    return scores


def score_prospective(
    grid: Grid,
    train: EventSet,
    origin: float,
    *,
    space_bands: int = 2,
    time_bands: int = 8,
    time_unit_s: float = WEEK,
) -> np.ndarray:
    """Prospective hotspotting (Bowers, Johnson & Pease 2004), on the H3 grid.

    score_i = Σ_events 1 / ((1 + d) (1 + w)) over events with d < ``space_bands`` and
    w < ``time_bands``, where d is the H3 grid distance (rings) from the event's cell to cell i
    and w the event's age at the origin in whole ``time_unit_s`` (weeks by default, rounded
    down: 6 days old is week 0). This is open_cp's ``ProspectiveHotSpot`` with ``ClassicWeight``
    on a hexagonal grid, where ring distance treats all six neighbours alike. Bowers et al. used
    400 m and 8 weeks; at resolution 9 (centres ~300 m apart) ``space_bands=2`` (own cell and
    first ring) is the nearest match.
    """
    if space_bands < 1 or time_bands < 1 or time_unit_s <= 0:
        raise ValueError("prospective: space_bands, time_bands >= 1 and time_unit_s > 0")
    inside = train.cell >= 0
    age = np.floor((origin - train.t[inside]) / time_unit_s)
    keep = (age >= 0) & (age < time_bands)
    # The weight factorises in space and time: sum the time weights per cell, then spread.
    per_cell = np.bincount(
        train.cell[inside][keep], weights=1.0 / (1.0 + age[keep]), minlength=len(grid)
    )
    scores = np.zeros(len(grid))
    for d in range(space_bands):
        scores += (grid.ring(d) @ per_cell) / (1.0 + d)
    return scores


def score_damped(grid: Grid, train: EventSet, origin: float, *, day_s: float = DAY) -> np.ndarray:
    """Burst-damped counts: Σ over the cell's days of sqrt(events that day).

    Calls for service come in bursts: one crash or fight brings ten callers on one day, and
    those calls do not recur. sqrt is the variance-stabilising transform of a Poisson count, so a
    cell-day with 16 calls weighs 4 (not 16) against a cell-day with 1. A place busy on many
    days outranks a place with one loud day. Days are counted back from the origin in whole
    ``day_s`` (so they follow local days when the origin is a local midnight).
    """
    if day_s <= 0:
        raise ValueError("damped: day_s must be > 0")
    inside = train.cell >= 0
    day = np.floor((origin - train.t[inside]) / day_s).astype(np.int64)
    cell = train.cell[inside]
    if cell.size == 0:
        return np.zeros(len(grid))
    pairs, per_day = np.unique(np.column_stack([cell, day]), axis=0, return_counts=True)
    return np.bincount(pairs[:, 0], weights=np.sqrt(per_day), minlength=len(grid))


def score_gistar(grid: Grid, train: EventSet, origin: float, *, k: int = 1) -> np.ndarray:
    """Beacon's hotspot statistic: Gi* z of the training counts, k-ring weights (hotspots.py).

    Gi* ranks neighbourhoods, not cells: a quiet cell among busy ones scores high. It is here
    because it is what the hotspot findings use, not because it is built for forecasting.
    """
    z, _ = getis_ord_gi_star(train.counts(len(grid)), grid.gi_weights(k))
    return z


METHODS: dict[str, Scorer] = {
    "naive": score_naive,
    "kde": score_kde,
    "prospective": score_prospective,
    "gistar": score_gistar,
    "damped": score_damped,
}


def make_methods(
    names: Iterable[str], params: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Scorer]:
    """Scorers by name with their keyword parameters bound, e.g. {"kde": {"bandwidth_m": 200}}."""
    params = params or {}
    out: dict[str, Scorer] = {}
    for name in names:
        if name not in METHODS:
            raise ValueError(f"methods: unknown {name!r}; known: {', '.join(METHODS)}")
        out[name] = partial(METHODS[name], **params.get(name, {}))
    return out


# --- metrics -----------------------------------------------------------------------------


def budget_cells(n_cells: int, fraction: float) -> int:
    """Cells in an area budget: floor(C x fraction), at least 1, at most C."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget: must be in (0, 1], got {fraction!r}")
    if n_cells < 1:
        raise ValueError("budget: the study area has no cells")
    # The epsilon keeps 0.29 x 100 (= 28.999999999999996 in floats) at 29 cells.
    return min(n_cells, max(1, math.floor(n_cells * fraction + 1e-9)))


def rank_cells(scores: npt.ArrayLike) -> np.ndarray:
    """Cell indices by descending score; ties by ascending index (= ascending H3 id)."""
    s = np.asarray(scores, dtype=float)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores: must be finite")
    return np.lexsort((np.arange(s.size), -s))


@dataclass(frozen=True, slots=True)
class Metrics:
    """One forecast at one budget: n, N, n*, c, C and the derived rates (None when N = 0)."""

    hits: int
    total: int
    best: int
    cells: int
    area_cells: int
    hit_rate: float | None
    pai: float | None
    pei: float | None


def hit_metrics(order: np.ndarray, test_counts: np.ndarray, c: int, total: int) -> Metrics:
    """Hit rate, PAI and PEI of the top ``c`` cells of ``order`` against held-out counts.

    ``total`` is N, all held-out events including any outside the grid (they are misses).
    """
    n_cells = test_counts.size
    hits = int(test_counts[order[:c]].sum())
    best = int(np.sort(test_counts)[::-1][:c].sum())
    if total <= 0:
        return Metrics(hits, total, best, c, n_cells, None, None, None)
    rate = hits / total
    return Metrics(
        hits=hits,
        total=total,
        best=best,
        cells=c,
        area_cells=n_cells,
        hit_rate=rate,
        pai=rate / (c / n_cells),
        pei=hits / best if best > 0 else None,
    )


def recapture_rate_index(pai_later: float, pai_earlier: float) -> float:
    """Levine's RRI for the same cells in two periods: PAI_T2 / PAI_T1 (= (n2/n1) / (N2/N1)).

    1 = the cells hold the same share of events as before; > 1 = more concentrated. It measures
    how stable a hotspot selection is, not forecast skill (reference section 4.4).
    """
    if pai_earlier <= 0:
        raise ValueError(f"pai_earlier: must be > 0, got {pai_earlier!r}")
    return pai_later / pai_earlier


# Methods that score from cell counts and times alone (no projected geometry).
COUNT_METHODS = ("naive", "damped")


def forecast_top_cells(
    cells: Sequence[str],
    t: npt.ArrayLike,
    *,
    origin: float,
    train_days: float = 90.0,
    budget: float = 0.02,
    method: str = BEACON_DEFAULT_METHOD,
) -> list[tuple[str, float]]:
    """The cells a count-based method expects to be busiest after ``origin``, best first.

    ``cells`` / ``t``: one H3 cell and epoch time per call; every cell given is the study area
    (pass a long history, e.g. a year, so quiet cells count). The method scores the last
    ``train_days`` before ``origin``; the top ``budget`` share of the study area's cells
    (``budget_cells``) with a positive score is returned as ``(cell, score)``, ties by cell id -
    the same selection ``evaluate`` scores as hit rate, PAI and PEI.
    """
    if method not in COUNT_METHODS:
        raise ValueError(f"method: must be one of {', '.join(COUNT_METHODS)}, got {method!r}")
    if train_days <= 0:
        raise ValueError(f"train_days: must be > 0, got {train_days!r}")
    tt = np.asarray(t, dtype=float)
    if len(cells) != tt.size:
        raise ValueError("cells, t: expected the same length")
    if tt.size == 0:
        return []
    names = sorted(set(cells))
    index = {c: i for i, c in enumerate(names)}
    order = np.argsort(tt, kind="stable")
    cell_idx = np.array([index[cells[i]] for i in order.tolist()], dtype=np.int64)
    zeros = np.zeros(len(names))
    grid = Grid(cells=tuple(names), x=zeros, y=zeros, resolution=h3.get_resolution(names[0]))
    events = EventSet(cell=cell_idx, x=np.zeros(tt.size), y=np.zeros(tt.size), t=tt[order])
    train = events.window(origin - train_days * DAY, origin)
    scores = METHODS[method](grid, train, origin)
    top = rank_cells(scores)[: budget_cells(len(names), budget)]
    return [(names[i], float(scores[i])) for i in top.tolist() if scores[i] > 0]


# --- rolling origin ----------------------------------------------------------------------


def plan_origins(
    t: np.ndarray,
    *,
    train_s: float,
    horizon_s: float,
    step_s: float,
    n: int,
    end: float | None = None,
) -> tuple[list[float], int]:
    """Up to ``n`` usable origins, latest first, and how many were skipped as empty.

    The first candidate is end - horizon (end defaults to just after the last event); each next
    one is ``step_s`` earlier. Stops once a training window would start before the first event.
    """
    if train_s <= 0 or horizon_s <= 0 or step_s <= 0 or n < 1:
        raise ValueError("protocol: train, horizon and step must be > 0 and origins >= 1")
    if t.size == 0:
        return [], 0
    last = float(t[-1]) + 1.0 if end is None else float(end)
    first = float(t[0])
    origins: list[float] = []
    skipped = 0
    origin = last - horizon_s
    while len(origins) < n and origin - train_s >= first:
        lo, mid, hi = np.searchsorted(t, [origin - train_s, origin, origin + horizon_s])
        if hi > mid and mid > lo:
            origins.append(origin)
        else:
            skipped += 1
        origin -= step_s
    return origins, skipped


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per-origin metrics ``[origin][method][budget]`` and the protocol that produced them."""

    origins: list[float]
    skipped_empty: int
    budgets: tuple[float, ...]
    methods: tuple[str, ...]
    results: list[dict[str, dict[float, Metrics]]]
    train_counts: list[int]
    test_counts: list[int]
    n_cells: int

    def summary(self) -> dict[str, dict[float, dict[str, float | None]]]:
        """Mean and sample sd (None with fewer than 2 origins) of H, PAI and PEI."""
        out: dict[str, dict[float, dict[str, float | None]]] = {}
        for method in self.methods:
            out[method] = {}
            for budget in self.budgets:
                row: dict[str, float | None] = {}
                for metric in ("hit_rate", "pai", "pei"):
                    values = [
                        getattr(r[method][budget], metric)
                        for r in self.results
                        if getattr(r[method][budget], metric) is not None
                    ]
                    arr = np.asarray(values, dtype=float)
                    row[metric] = float(arr.mean()) if arr.size else None
                    row[f"{metric}_sd"] = float(arr.std(ddof=1)) if arr.size > 1 else None
                out[method][budget] = row
        return out


def evaluate(
    grid: Grid,
    events: EventSet,
    methods: Mapping[str, Scorer],
    *,
    train_days: float = 90,
    horizon_days: float = 7,
    origins: int = 8,
    step_days: float | None = None,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    end: float | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Evaluation:
    """Rolling-origin evaluation: each method ranks cells on [o - train, o), scored on [o, o + h).

    ``step_days`` defaults to the horizon (non-overlapping test windows). ``progress`` is called
    as (done, total, origin) after each origin.
    """
    if not methods:
        raise ValueError("methods: give at least one")
    if len(grid) == 0:
        raise ValueError("grid: the study area has no cells")
    cells_per_budget = {b: budget_cells(len(grid), b) for b in budgets}
    planned, skipped = plan_origins(
        events.t,
        train_s=train_days * DAY,
        horizon_s=horizon_days * DAY,
        step_s=(step_days if step_days is not None else horizon_days) * DAY,
        n=origins,
        end=end,
    )
    results: list[dict[str, dict[float, Metrics]]] = []
    train_n: list[int] = []
    test_n: list[int] = []
    for i, origin in enumerate(planned):
        train = events.window(origin - train_days * DAY, origin)
        test = events.window(origin, origin + horizon_days * DAY)
        test_counts = test.counts(len(grid))
        per_method: dict[str, dict[float, Metrics]] = {}
        for name, scorer in methods.items():
            order = rank_cells(scorer(grid, train, origin))
            per_method[name] = {
                b: hit_metrics(order, test_counts, c, len(test))
                for b, c in cells_per_budget.items()
            }
        results.append(per_method)
        train_n.append(len(train))
        test_n.append(len(test))
        if progress is not None:
            progress(i + 1, len(planned), origin)
    return Evaluation(
        origins=planned,
        skipped_empty=skipped,
        budgets=tuple(budgets),
        methods=tuple(methods),
        results=results,
        train_counts=train_n,
        test_counts=test_n,
        n_cells=len(grid),
    )
