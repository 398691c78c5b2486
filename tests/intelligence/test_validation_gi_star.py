"""Beacon's Getis-Ord Gi* against PySAL esda's ``G_Local(star=True)``, which we did not write.

Conventions matched (read from ``intelligence/analysis/hotspots.py`` and ``esda/getisord.py``):

* Weights: binary k-ring on H3 cells, w_ij = 1 when ``h3.grid_distance(i, j) <= k`` and both
  cells are in the study area, **self included** (w_ii = 1: the "star"). Built here from
  ``h3.grid_disk`` into a ``libpysal.weights.W``, not from Beacon's ``knn_ring_weights``.
* esda is called with ``transform="B"`` (binary, no row-standardisation) and ``star=True``. Its
  Gi* z is then (G*_i - W_i x̄) / (S sqrt((n W_i - W_i²)/(n - 1))) with the population
  variance S² = Σx²/n - x̄² and W_i = Σ_j w_ij, which is Beacon's formula (S1_i = W_i for
  binary weights). Two ways of giving esda the self-weight are both checked: a W whose
  neighbour lists already contain the cell itself, and a W without it, where esda's own
  ``star=True`` handling sets the diagonal to 1 (its documented rule for binary weights).
* esda's *default* ``transform="R"`` is a different statistic: after row-standardising, esda's
  variance uses the row sum (1) as the cardinality, which reduces z to
  (neighbourhood mean - x̄) / S; ``test_esda_row_standardised_default_is_another_statistic``
  pins that, so nobody "fixes" the comparison by switching transforms.
* p-values: Beacon reports the one-sided upper tail 1 - Φ(z); esda's ``p_norm`` is
  1 - Φ(|z|) (the tail in the direction of z's sign). They agree for z >= 0; for z < 0
  Beacon's p is 1 - esda's ``p_norm``. Compared as such.
* ``permutations=0``: only the analytic z and the normal p are compared.
* Degenerate cells: where a cell's neighbourhood is the whole study area (n W_i = W_i²) or all
  values are equal, esda divides 0 by 0 (NaN); Beacon reports z = 0, p = 1 by design. Those
  cells are compared as "esda NaN <-> Beacon 0/1" and every other cell to 1e-9.

The study area and counts are rebuilt here independently (``collections.Counter`` and
``h3.grid_disk``) and must equal what ``run_hotspots`` used, cell for cell.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence

import h3
import numpy as np
import pytest

from dispatch.demo.generator import generate
from intelligence.analysis.hotspots import HotspotResult, getis_ord_gi_star, run_hotspots

pytestmark = pytest.mark.validation

if os.environ.get("CI"):
    # CI installs esda from requirements-dev.lock: a missing package there is a failure, not a skip.
    import esda  # noqa: F401
    import libpysal
    from esda.getisord import G_Local
else:
    pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    from esda.getisord import G_Local

ATOL = 1e-9
RES = 9
SAN_ANTONIO = (29.4241, -98.4936)
DEMO_ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


# --- the independent side --------------------------------------------------------------


def expected_study_area(incident_cells: Iterable[str], k: int, area: Iterable[str] = ()) -> list:
    """Observed cells plus every cell within k rings of one, plus ``area``; sorted."""
    region: set[str] = set(area)
    for cell in set(incident_cells):
        region.update(h3.grid_disk(cell, k))
    return sorted(region)


def libpysal_ring_weights(cells: Sequence[str], k: int, *, with_self: bool) -> libpysal.weights.W:
    """Binary k-ring weights as a libpysal W (ids = positions in ``cells``)."""
    index = {cell: i for i, cell in enumerate(cells)}
    neighbours = {
        i: sorted(
            index[n] for n in h3.grid_disk(cell, k) if n in index and (with_self or n != cell)
        )
        for i, cell in enumerate(cells)
    }
    return libpysal.weights.W(neighbours, id_order=list(range(len(cells))), silence_warnings=True)


def esda_gi_star(cells: Sequence[str], counts: np.ndarray, k: int, *, with_self: bool) -> G_Local:
    w = libpysal_ring_weights(cells, k, with_self=with_self)
    with warnings.catch_warnings():
        # 0/0 on degenerate cells is expected (see the module docstring); islands are wanted.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        return G_Local(np.asarray(counts, dtype=float), w, transform="B", star=True, permutations=0)


def cardinalities(cells: Sequence[str], k: int) -> np.ndarray:
    """Neighbourhood sizes including self, counted with h3 directly."""
    members = set(cells)
    return np.array([sum(n in members for n in h3.grid_disk(c, k)) for c in cells])


def assert_equals_esda(result: HotspotResult, incident_cells: Sequence[str], area=()) -> None:
    """Beacon's cells/counts/z/p equal the independent rebuild and esda, cell by cell."""
    k = result.k
    cells = expected_study_area(incident_cells, k, area)
    assert result.cells == cells
    by_cell = Counter(incident_cells)
    np.testing.assert_array_equal(result.counts, [by_cell.get(c, 0) for c in cells])

    for with_self in (True, False):
        ref = esda_gi_star(cells, result.counts, k, with_self=with_self)
        zs = np.asarray(ref.Zs, dtype=float)
        ok = np.isfinite(zs)
        np.testing.assert_allclose(result.z[ok], zs[ok], rtol=0, atol=ATOL)
        # Beacon's p is the upper tail; esda's p_norm is the tail on z's side.
        p_norm = np.asarray(ref.p_norm, dtype=float)
        beacon_side = np.where(zs >= 0, p_norm, 1.0 - p_norm)
        np.testing.assert_allclose(result.p[ok], beacon_side[ok], rtol=0, atol=ATOL)
        # Where esda has no number, Beacon says "no evidence" rather than NaN.
        assert np.all(result.z[~ok] == 0.0)
        assert np.all(result.p[~ok] == 1.0)


# --- synthetic clustered points ----------------------------------------------------------


def clustered_cells(seed: int) -> list[str]:
    """1,000 points: a sparse uniform background over 6 km x 6 km plus two Gaussian clusters."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = SAN_ANTONIO
    m_lat, m_lon = 1 / 110_860.0, 1 / (111_320.0 * np.cos(np.radians(lat0)))
    bg = rng.uniform(-3000, 3000, size=(400, 2))
    c1 = rng.normal([600, -400], 120, size=(350, 2))
    c2 = rng.normal([-900, 700], 200, size=(250, 2))
    xy = np.vstack([bg, c1, c2])
    return [h3.latlng_to_cell(lat0 + y * m_lat, lon0 + x * m_lon, RES) for x, y in xy.tolist()]


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clustered_points_equal_esda(seed: int, k: int) -> None:
    incidents = clustered_cells(seed)
    result = run_hotspots(incidents, k=k)
    assert_equals_esda(result, incidents)
    card = cardinalities(result.cells, k)
    full = 1 + 3 * k * (k + 1)
    # The cases this is about are really there: rim cells with cut neighbourhoods, empty cells
    # inside the area, hot cells and cells with negative z (where the p conventions part).
    assert (card < full).sum() > 10
    assert ((result.counts == 0) & (card == full)).sum() > 10
    assert result.hot.sum() > 0
    assert (result.z < 0).sum() > 10


# --- zero-count interior, islands, pentagons, k = 0 --------------------------------------


def test_hole_and_islands_equal_esda() -> None:
    """Incidents on a ring with an empty middle, inside a given area that also holds isolated
    cells (islands: no neighbour but themselves) and an isolated pair of cells."""
    centre = h3.latlng_to_cell(*SAN_ANTONIO, RES)
    rng = np.random.default_rng(11)
    ring_cells = sorted(set(h3.grid_ring(centre, 3)) | set(h3.grid_ring(centre, 4)))
    incidents = [ring_cells[i] for i in rng.integers(0, len(ring_cells), 400)]
    incidents += [centre] * 2  # one busy-ish cell in the middle of the hole
    far = h3.grid_ring(centre, 25)
    islands = far[::9]
    pair_anchor = h3.grid_ring(centre, 40)[0]
    pair = [pair_anchor, h3.grid_ring(pair_anchor, 1)[0]]
    area = sorted(set(h3.grid_disk(centre, 7)) | set(islands) | set(pair))
    result = run_hotspots(incidents, k=1, area=area)
    assert_equals_esda(result, incidents, area)

    card = dict(zip(result.cells, cardinalities(result.cells, 1).tolist(), strict=True))
    assert all(card[c] == 1 for c in islands)
    assert card[pair[0]] == card[pair[1]] == 2
    hole = set(h3.grid_disk(centre, 2)) - {centre}
    assert all(result.counts[result.cells.index(c)] == 0 for c in hole)


def test_incidents_on_an_island_cell_equal_esda() -> None:
    """k = 0: every cell is its own neighbourhood (all islands), z = (x_i - x̄) / S."""
    incidents = clustered_cells(5)
    result = run_hotspots(incidents, k=0)
    assert_equals_esda(result, incidents)
    x = result.counts.astype(float)
    np.testing.assert_allclose(result.z, (x - x.mean()) / x.std(), rtol=0, atol=ATOL)


def test_around_a_pentagon_equal_esda() -> None:
    """H3 pentagons have five neighbours, not six: both sides must count the ring the same."""
    pentagon = sorted(h3.get_pentagons(RES))[3]
    rng = np.random.default_rng(5)
    disk = sorted(h3.grid_disk(pentagon, 4))
    incidents = [disk[i] for i in rng.integers(0, len(disk), 300)] + [pentagon] * 12
    result = run_hotspots(incidents, k=1)
    assert_equals_esda(result, incidents)
    card = cardinalities(result.cells, 1)
    assert card[result.cells.index(pentagon)] == 6


def test_degenerate_cells_are_zero_where_esda_has_no_number() -> None:
    """One busy cell with k = 1: its neighbourhood is the whole area (esda: 0/0)."""
    cell = h3.latlng_to_cell(*SAN_ANTONIO, RES)
    incidents = [cell] * 9
    result = run_hotspots(incidents, k=1)
    assert len(result.cells) == 7
    ref = esda_gi_star(result.cells, result.counts, 1, with_self=True)
    centre = result.cells.index(cell)
    assert np.isnan(ref.Zs[centre])
    assert result.z[centre] == 0.0
    assert result.p[centre] == 1.0
    assert_equals_esda(result, incidents)
    # All values equal: esda has no number anywhere, Beacon reports no evidence anywhere.
    z, p = getis_ord_gi_star(np.full(7, 3.0), _dense_ring(result.cells))
    ref = esda_gi_star(result.cells, np.full(7, 3.0), 1, with_self=True)
    assert np.all(np.isnan(ref.Zs))
    assert np.all(z == 0.0)
    assert np.all(p == 1.0)


def _dense_ring(cells: Sequence[str]) -> np.ndarray:
    members = set(cells)
    index = {c: i for i, c in enumerate(cells)}
    w = np.zeros((len(cells), len(cells)))
    for i, c in enumerate(cells):
        for n in h3.grid_disk(c, 1):
            if n in members:
                w[i, index[n]] = 1.0
    return w


# --- the demo data (what `make run` shows) -----------------------------------------------


def test_demo_calls_equal_esda() -> None:
    """Harbor City's 90-day demo calls per agency on H3 r9, as the hotspot runner feeds them."""
    plan = generate(seed=7, days=90, anchor=DEMO_ANCHOR, time_zone="America/Chicago")
    start = DEMO_ANCHOR - dt.timedelta(days=90)
    by_agency: dict[str, list[str]] = {}
    for call in plan.calls:
        if start <= call.received_at < DEMO_ANCHOR:
            loc = plan.locations[call.location]
            cell = h3.latlng_to_cell(loc.latitude, loc.longitude, RES)
            by_agency.setdefault(call.agency, []).append(cell)
    assert len(by_agency) >= 1
    hot_somewhere = False
    for incidents in by_agency.values():
        result = run_hotspots(incidents, k=1, alpha=0.05)
        assert_equals_esda(result, incidents)
        hot_somewhere |= bool(result.hot.any())
    assert hot_somewhere  # the planted hot areas make the comparison cover significant cells


# --- the convention that does *not* match -----------------------------------------------


def test_esda_row_standardised_default_is_another_statistic() -> None:
    """esda's default transform="R" gives z = (neighbourhood mean - x̄) / S, not Gi*'s z.

    ``getis_ord_gi_star``'s docstring says row-standardising leaves z unchanged; in esda 2.9
    it does not (its variance takes the row sum, 1 after standardising, as the cardinality).
    Beacon's z equals esda's only with ``transform="B"``.
    """
    incidents = clustered_cells(1)
    result = run_hotspots(incidents, k=1)
    w = libpysal_ring_weights(result.cells, 1, with_self=True)
    x = result.counts.astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = G_Local(x, w, transform="R", star=True, permutations=0)
    card = cardinalities(result.cells, 1)
    dense = _dense_ring(result.cells)
    nbhd_mean = dense @ x / card
    np.testing.assert_allclose(ref.Zs, (nbhd_mean - x.mean()) / x.std(), rtol=0, atol=ATOL)
    assert np.max(np.abs(ref.Zs - result.z)) > 1.0
