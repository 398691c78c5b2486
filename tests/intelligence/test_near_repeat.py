"""Knox test: brute-force equivalence, planted chains, null calibration, scale, risk zones."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.analysis.near_repeat import (
    knox_test,
    near_repeat_risk_zones,
    project_lonlat,
)


def _brute_table(x, y, t, s_edges, t_edges) -> np.ndarray:
    """All-pairs Knox table, written independently: explicit [lo, hi) comparisons per band."""
    n = len(x)
    i, j = np.triu_indices(n, k=1)
    d = np.sqrt((x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2)
    dt = np.abs(t[i] - t[j])
    table = np.zeros((len(s_edges) - 1, len(t_edges) - 1), dtype=np.int64)
    for a in range(len(s_edges) - 1):
        in_s = (d >= s_edges[a]) & (d < s_edges[a + 1])
        for b in range(len(t_edges) - 1):
            table[a, b] = np.count_nonzero(in_s & (dt >= t_edges[b]) & (dt < t_edges[b + 1]))
    return table


def _brute_knox(x, y, t, s_edges, t_edges, n_perm, seed):
    obs = _brute_table(x, y, t, s_edges, t_edges)
    rng = np.random.default_rng(seed)
    perms = np.stack(
        [_brute_table(x, y, t[rng.permutation(len(t))], s_edges, t_edges) for _ in range(n_perm)]
    )
    p = (1 + (perms >= obs).sum(axis=0)) / (1 + n_perm)
    return obs, perms, p


def _planted(rng: np.random.Generator, n_bg: int, n_chains: int):
    x = rng.uniform(0, 5000, n_bg)
    y = rng.uniform(0, 5000, n_bg)
    t = rng.uniform(0, 365, n_bg)
    for _ in range(n_chains):
        cx, cy, ct = rng.uniform(0, 5000), rng.uniform(0, 5000), rng.uniform(0, 360)
        x = np.concatenate([x, cx + rng.uniform(-30, 30, 4)])
        y = np.concatenate([y, cy + rng.uniform(-30, 30, 4)])
        t = np.concatenate([t, ct + rng.uniform(0, 3, 4)])
    return x, y, t


S_EDGES = [0.0, 100.0, 200.0, 300.0]
T_EDGES = [0.0, 7.0, 14.0, 21.0]


def test_matches_brute_force_including_permutations() -> None:
    rng = np.random.default_rng(11)
    x, y, t = _planted(rng, 300, 10)
    r = knox_test(x, y, t, space_edges=S_EDGES, time_edges=T_EDGES, n_perm=49, seed=5)
    obs, perms, p = _brute_knox(x, y, t, S_EDGES, T_EDGES, 49, 5)
    assert np.array_equal(r.observed, obs)
    assert np.array_equal(r.permuted, perms)
    assert np.allclose(r.p_value, p)
    assert np.allclose(r.expected, perms.mean(axis=0))
    assert np.allclose(r.ratio, obs / perms.mean(axis=0))


def test_band_edges_are_left_closed_right_open() -> None:
    # Grid points: exact distances 0, 100, 200, 300 and exact gaps 0, 7, 14, 21.
    x = np.array([0.0, 100.0, 200.0, 300.0])
    y = np.zeros(4)
    t = np.array([0.0, 7.0, 14.0, 21.0])
    r = knox_test(x, y, t, space_edges=S_EDGES, time_edges=T_EDGES, n_perm=1)
    expected = np.zeros((3, 3), dtype=int)
    # Pairs at (100 m, 7 d) x3 -> band [100,200) x [7,14); (200, 14) x2 -> [200,300) x [14,21);
    # (300 m, 21 d) is outside both last edges.
    expected[1, 1] = 3
    expected[2, 2] = 2
    assert np.array_equal(r.observed, expected)
    assert r.band_labels() == (
        ["[0, 100) m", "[100, 200) m", "[200, 300) m"],
        ["[0, 7) d", "[7, 14) d", "[14, 21) d"],
    )


def test_planted_chains_are_detected() -> None:
    rng = np.random.default_rng(2)
    x, y, t = _planted(rng, 1500, 60)
    r = knox_test(x, y, t, n_perm=99, seed=1)
    assert r.p_value[0, 0] == pytest.approx(0.01)
    assert r.ratio[0, 0] > 2.0


def test_null_control_near_short_cell_significant_at_about_alpha() -> None:
    rng = np.random.default_rng(123)
    hits = 0
    reps = 200
    for k in range(reps):
        n = 400
        r = knox_test(
            rng.uniform(0, 3000, n),
            rng.uniform(0, 3000, n),
            rng.uniform(0, 365, n),
            n_perm=39,
            seed=k,
        )
        hits += r.p_value[0, 0] <= 0.05
    # Binomial(200, 0.05): mean 10, sd ~3.1; a valid test stays well inside [0, 22].
    assert 1 <= hits <= 22


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_observed_invariant_to_input_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, t = _planted(rng, 80, 3)
    perm = rng.permutation(x.size)
    a = knox_test(x, y, t, n_perm=5)
    b = knox_test(x[perm], y[perm], t[perm], n_perm=5)
    assert np.array_equal(a.observed, b.observed)
    assert np.array_equal(a.observed, _brute_table(x, y, t, S_EDGES, T_EDGES))


def test_same_seed_same_result_and_small_inputs() -> None:
    rng = np.random.default_rng(4)
    x, y, t = _planted(rng, 100, 5)
    a = knox_test(x, y, t, seed=9)
    b = knox_test(x, y, t, seed=9)
    assert np.array_equal(a.permuted, b.permuted)
    one = knox_test([0.0], [0.0], [0.0], n_perm=3)
    assert one.observed.sum() == 0 and np.all(one.p_value == 1.0)
    with pytest.raises(ValueError, match="space_edges"):
        knox_test(x, y, t, space_edges=[0, 100, 100])
    with pytest.raises(ValueError, match="time_edges"):
        knox_test(x, y, t, time_edges=[0, np.inf])
    with pytest.raises(ValueError, match="x/y/t"):
        knox_test(x, y[:-1], t)


def test_scale_50k() -> None:
    rng = np.random.default_rng(0)
    n = 50_000
    x, y = rng.uniform(0, 20_000, n), rng.uniform(0, 20_000, n)
    t = rng.uniform(0, 365, n)
    start = time.perf_counter()
    r = knox_test(x, y, t, n_perm=99)
    elapsed = time.perf_counter() - start
    # Measured 1.4 s on the 2-core dev machine; generous bound for slow CI runners.
    assert elapsed < 20.0
    assert r.n_candidate_pairs > 500_000


def test_project_lonlat() -> None:
    # One degree of latitude is ~111.2 km; one of longitude at 60 N about half that.
    x, y = project_lonlat([0.0, 0.0, 1.0], [60.0, 61.0, 60.0], lon0=0.0, lat0=60.0)
    assert y[1] == pytest.approx(111_195, rel=1e-3)
    assert x[2] == pytest.approx(111_195 * 0.5, rel=1e-3)
    assert x[0] == 0.0 and y[0] == 0.0
    with pytest.raises(ValueError, match="lon/lat"):
        project_lonlat([0.0], [95.0])


def test_risk_zones() -> None:
    x = np.array([0.0, 10.0, 20.0, 30.0])
    y = np.zeros(4)
    t = np.array([100.0, 95.0, 93.0, 101.0])  # days; the last is in the future
    cats = np.array(["burglary", "burglary", "burglary", "robbery"])
    zones = near_repeat_risk_zones(
        x,
        y,
        t,
        space_m=200.0,
        days=7.0,
        as_of=100.0,
        categories=cats,
        significant_categories={"burglary"},
    )
    # 93 is exactly 7 days old: expired. 101 is in the future and a robbery anyway.
    assert [z.source_index for z in zones] == [0, 1]
    assert zones[0].expires_at == 107.0 and zones[0].radius == 200.0
    assert zones[1].category == "burglary"
    assert (
        near_repeat_risk_zones(
            x,
            y,
            t,
            space_m=200.0,
            days=7.0,
            as_of=100.0,
            categories=cats,
            significant_categories=set(),
        )
        == []
    )


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31 - 1),
    st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4),
    st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=4),
)
def test_matches_brute_force_on_lattice_data(
    seed: int, s_steps: list[int], t_steps: list[int]
) -> None:
    # Integer lattice coordinates and days put many pairs exactly on band edges and at d = 0.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    x = rng.integers(0, 6, n).astype(float) * 50.0
    y = rng.integers(0, 6, n).astype(float) * 50.0
    t = rng.integers(0, 20, n).astype(float)
    s_edges = np.concatenate([[0.0], np.cumsum(s_steps) * 50.0])
    t_edges = np.concatenate([[0.0], np.cumsum(t_steps).astype(float)])
    r = knox_test(x, y, t, space_edges=s_edges, time_edges=t_edges, n_perm=7, seed=seed)
    obs, perms, p = _brute_knox(x, y, t, s_edges, t_edges, 7, seed)
    assert np.array_equal(r.observed, obs)
    assert np.array_equal(r.permuted, perms)
    assert np.allclose(r.p_value, p)
