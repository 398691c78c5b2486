"""Gi* against an independent loop, a hand example and esda's published vector; H3 plumbing;
planted and uniform patterns end to end."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from intelligence.analysis.hotspots import (
    Hotspot,
    cell_counts,
    getis_ord_gi_star,
    hot_cells,
    knn_ring_weights,
    merge_hotspots,
    run_hotspots,
    study_area,
)

CENTRE = h3.latlng_to_cell(51.5074, -0.1278, 9)
DISK = sorted(h3.grid_disk(CENTRE, 10))  # 331 cells


def brute_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The Ord & Getis (1995) Gi* z-score, one cell at a time, straight from the formula."""
    n = len(x)
    xbar = sum(x) / n
    s = np.sqrt(sum(v * v for v in x) / n - xbar * xbar)
    z = np.empty(n)
    for i in range(n):
        g = sum(w[i, j] * x[j] for j in range(n))
        wi = sum(w[i, j] for j in range(n))
        s1 = sum(w[i, j] ** 2 for j in range(n))
        var = s * s * (n * s1 - wi * wi) / (n - 1)
        z[i] = (g - wi * xbar) / np.sqrt(var)
    return z


def random_binary_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    w = (rng.uniform(size=(n, n)) < 0.15).astype(float)
    w = np.maximum(w, w.T)
    np.fill_diagonal(w, 1.0)
    return w


@pytest.mark.parametrize("seed", range(5))
def test_gi_star_matches_brute_force_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    x = rng.poisson(3.0, size=n).astype(float)
    w = random_binary_weights(rng, n)
    z, p = getis_ord_gi_star(x, sp.csr_matrix(w))
    np.testing.assert_allclose(z, brute_gi_star(x, w), rtol=0, atol=1e-12)
    np.testing.assert_allclose(p, norm.sf(z), rtol=0, atol=1e-15)


def test_gi_star_on_h3_weights_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    cells = sorted(h3.grid_disk(CENTRE, 4))
    w = knn_ring_weights(cells, 1)
    x = rng.poisson(2.0, size=len(cells)).astype(float)
    z, _ = getis_ord_gi_star(x, w)
    np.testing.assert_allclose(z, brute_gi_star(x, w.toarray()), rtol=0, atol=1e-12)


def test_gi_star_hand_example() -> None:
    # Four cells on a line, each a neighbour of itself and the next one over; x = 0 0 0 4.
    # x̄ = 1, Σx²/n = 4, S² = 3. End cells: W* = S1 = 2, Var = 3(4·2 - 4)/3 = 4.
    # Inner cells: W* = S1 = 3, Var = 3(4·3 - 9)/3 = 3.
    # z0 = (0 - 2)/2 = -1, z1 = (0 - 3)/√3 = -√3, z2 = (4 - 3)/√3 = 1/√3, z3 = (4 - 2)/2 = 1.
    w = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=float)
    z, p = getis_ord_gi_star(np.array([0.0, 0.0, 0.0, 4.0]), sp.csr_matrix(w))
    np.testing.assert_allclose(z, [-1.0, -np.sqrt(3), 1 / np.sqrt(3), 1.0], atol=1e-15)
    assert p[3] == pytest.approx(0.15865525393145707)  # 1 - Φ(1)


def test_gi_star_matches_esda_docstring_vector() -> None:
    # esda G_Local docstring: DistanceBand(threshold=15) on six points, transform='B', star=True.
    pts = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
    y = np.array([2, 3, 3.2, 5, 8, 7])
    dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
    w = (dist <= 15).astype(float)  # includes the diagonal: the star
    z, _ = getis_ord_gi_star(y, sp.csr_matrix(w))
    expected = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
    np.testing.assert_allclose(z, expected, atol=5e-9)


@given(
    values=st.lists(st.integers(0, 50), min_size=8, max_size=40),
    scale=st.floats(0.01, 1000),
    shift=st.floats(-1000, 1000),
)
def test_gi_star_invariant_to_scale_and_shift(
    values: list[int], scale: float, shift: float
) -> None:
    x = np.array(values, dtype=float)
    n = len(x)
    w = random_binary_weights(np.random.default_rng(n), n)
    z, _ = getis_ord_gi_star(x, sp.csr_matrix(w))
    z_scaled, _ = getis_ord_gi_star(x * scale, sp.csr_matrix(w))
    z_shifted, _ = getis_ord_gi_star(x + shift, sp.csr_matrix(w))
    np.testing.assert_allclose(z_scaled, z, atol=1e-8)
    np.testing.assert_allclose(z_shifted, z, atol=1e-8)


def test_gi_star_degenerate_inputs() -> None:
    w = sp.csr_matrix(np.ones((4, 4)))
    z, p = getis_ord_gi_star(np.full(5, 3.0), knn_ring_weights(DISK[:5], 1))
    assert z.tolist() == [0.0] * 5 and p.tolist() == [1.0] * 5
    z, p = getis_ord_gi_star(np.array([1.0, 9.0]), sp.csr_matrix(np.ones((2, 2))))
    assert z.tolist() == [0.0, 0.0] and p.tolist() == [1.0, 1.0]
    # A neighbourhood that is the whole area: its sum is the total, so no evidence either way.
    z, p = getis_ord_gi_star(np.array([1.0, 2.0, 3.0, 10.0]), w)
    assert z.tolist() == [0.0] * 4 and p.tolist() == [1.0] * 4
    z, p = getis_ord_gi_star(np.array([]), sp.csr_matrix((0, 0)))
    assert z.shape == p.shape == (0,)
    with pytest.raises(ValueError, match="weights"):
        getis_ord_gi_star(np.ones(3), sp.csr_matrix(np.ones((2, 2))))
    with pytest.raises(ValueError, match="values"):
        getis_ord_gi_star(np.array([1.0, np.nan, 2.0]), sp.eye(3, format="csr"))


def test_cell_counts_and_study_area() -> None:
    a, b = DISK[0], DISK[1]
    cells, counts = cell_counts([b, a, b, b])
    assert cells == sorted([a, b]) and counts.tolist() == ([1, 3] if a < b else [3, 1])
    assert cell_counts([]) == ([], pytest.approx(np.zeros(0)))
    area = study_area([CENTRE], 2)
    assert set(area) == set(h3.grid_disk(CENTRE, 2)) and len(area) == 19
    assert study_area([CENTRE], 0) == [CENTRE]
    with pytest.raises(ValueError, match="not a valid H3 cell"):
        cell_counts(["not-a-cell"])
    with pytest.raises(ValueError, match="resolution"):
        study_area([CENTRE, h3.cell_to_parent(CENTRE, 8)], 1)


def test_ring_weights() -> None:
    cells = sorted(h3.grid_disk(CENTRE, 2))
    w = knn_ring_weights(cells, 1)
    assert isinstance(w, sp.csr_matrix) and w.shape == (19, 19)
    assert (w != w.T).nnz == 0 and np.all(w.diagonal() == 1)
    row_sums = np.asarray(w.sum(axis=1)).ravel()
    assert row_sums[cells.index(CENTRE)] == 7  # self + 6 hexagon neighbours
    assert set(row_sums) == {4, 5, 7}  # outer ring cells lose neighbours outside the area
    w2 = knn_ring_weights(cells, 2)
    assert w2[cells.index(CENTRE)].sum() == 19
    with pytest.raises(ValueError, match="duplicate"):
        knn_ring_weights([CENTRE, CENTRE])


def test_hot_cells_requires_positive_z_and_rejection() -> None:
    cells = DISK[:4]
    z = np.array([4.0, -4.0, 0.5, 4.0])
    p = np.array([1e-5, 1e-5, 0.3, 0.2])
    assert hot_cells(cells, z, p, 0.05).tolist() == [True, False, False, False]
    assert hot_cells(cells, z, p, 0.25, method="none").tolist() == [True, False, False, True]
    with pytest.raises(ValueError, match="lengths"):
        hot_cells(cells[:3], z, p)
    with pytest.raises(ValueError, match="method"):
        hot_cells(cells, z, p, method="holm")  # type: ignore[arg-type]


def test_merge_hotspots_components() -> None:
    blob = sorted(h3.grid_disk(CENTRE, 1))
    far = set(h3.grid_disk(CENTRE, 6)) - set(h3.grid_disk(CENTRE, 5))
    lone = min(far)
    z = dict.fromkeys(blob, 3.0) | {lone: 5.0}
    counts = dict.fromkeys(blob, 2) | {lone: 9}
    spots = merge_hotspots([*blob, lone], z=z, counts=counts)
    assert [s.n_cells for s in spots] == [1, 7]  # ordered by max z
    assert spots[0] == Hotspot(
        cells=(lone,), centroid=h3.cell_to_latlng(lone), n_cells=1, max_z=5.0, total_count=9
    )
    assert spots[1].cells == tuple(blob) and spots[1].total_count == 14
    assert spots[1].centroid == pytest.approx(h3.cell_to_latlng(CENTRE), abs=1e-4)
    # Two cells two steps apart do not merge; a chain through a shared neighbour does.
    a, c = CENTRE, min(h3.grid_ring(CENTRE, 2))
    assert len(merge_hotspots([a, c])) == 2
    bridge = (set(h3.grid_disk(a, 1)) & set(h3.grid_disk(c, 1))).pop()
    assert [s.n_cells for s in merge_hotspots([a, c, bridge])] == [3]
    assert merge_hotspots([]) == []
    assert merge_hotspots([CENTRE])[0].max_z is None


def test_planted_cluster_is_one_hotspot() -> None:
    rng = np.random.default_rng(20261124)
    background = [DISK[i] for i in rng.integers(0, len(DISK), 1000)]
    hub = min(h3.grid_ring(CENTRE, 5))
    cluster = sorted(h3.grid_disk(hub, 1))
    planted = [cluster[i] for i in rng.integers(0, len(cluster), 300)]
    result = run_hotspots(background + planted, k=1, alpha=0.05)
    assert len(result.hotspots) == 1
    spot = result.hotspots[0]
    # Gi* smooths: cells next to the cluster share its neighbourhood sums, so the hotspot may
    # carry a one-cell halo, but never reaches further.
    assert set(cluster) <= set(spot.cells) <= set(h3.grid_disk(hub, 2))
    assert h3.grid_distance(h3.latlng_to_cell(*spot.centroid, 9), hub) <= 1
    assert spot.total_count == sum(
        int(n) for c, n in zip(result.cells, result.counts, strict=True) if c in spot.cells
    )
    assert len(result.cells) == len(result.z) == len(result.p) == len(result.hot)
    assert result.counts.sum() == 1300


def test_uniform_pattern_rarely_flags_cells() -> None:
    alpha = 0.05
    shares, uncorrected = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        incidents = [DISK[i] for i in rng.integers(0, len(DISK), 1000)]
        result = run_hotspots(incidents, k=1, alpha=alpha, area=DISK)
        shares.append(result.hot.mean())
        uncorrected.append(hot_cells(result.cells, result.z, result.p, alpha, "none").mean())
    assert np.mean(shares) <= alpha
    # The FDR step is what keeps the map clean: per-cell testing flags many more cells.
    assert np.mean(shares) < np.mean(uncorrected) / 5


def test_run_hotspots_empty_and_tiny() -> None:
    result = run_hotspots([])
    assert result.cells == [] and result.hotspots == [] and result.hot.shape == (0,)
    result = run_hotspots([CENTRE] * 5)
    assert len(result.cells) == 7 and not result.hot.any()
