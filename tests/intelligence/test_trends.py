"""Mann-Kendall against hand values and scipy's Kendall tau; the hotspot trend labels."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau, norm

from intelligence.analysis.trends import classify_hotspot_trend, mann_kendall


def test_hand_example_with_ties() -> None:
    # x = 1 2 2 3 1. Pairs from each i: +3, 0, 0, -1 -> S = 2.
    # Ties: {1,1} and {2,2}: Σ t(t-1)(2t+5) = 18 + 18 = 36; Var = (5·4·15 - 36)/18 = 264/18.
    r = mann_kendall(np.array([1, 2, 2, 3, 1]))
    assert r.s == 2
    assert r.var_s == pytest.approx(264 / 18)
    assert r.z == pytest.approx(1 / np.sqrt(264 / 18))  # continuity: S - 1
    assert r.p == pytest.approx(2 * norm.sf(1 / np.sqrt(264 / 18)))
    # tau-b: n0 = 10, n1 = 2 -> 2 / sqrt(10 · 8)
    assert r.tau == pytest.approx(2 / np.sqrt(80))
    assert r.trend == "no trend" and r.n == 5


def test_monotone_series_is_significant() -> None:
    up = mann_kendall(np.arange(10))
    assert up.s == 45 and up.var_s == pytest.approx(125.0)
    assert up.z == pytest.approx(44 / np.sqrt(125))
    assert up.tau == pytest.approx(1.0) and up.trend == "increasing" and up.p < 1e-3
    down = mann_kendall(np.arange(10)[::-1])
    assert down.s == -45 and down.z == pytest.approx(-44 / np.sqrt(125))
    assert down.trend == "decreasing"


def test_constant_short_and_nan() -> None:
    flat = mann_kendall(np.full(12, 4.0))
    assert (flat.s, flat.z, flat.p, flat.trend) == (0, 0.0, 1.0, "no trend")
    assert mann_kendall(np.array([1.0, 2.0])).p == 1.0
    assert mann_kendall(np.array([])).trend == "no trend"
    # NaNs are dropped, the order of the rest is kept.
    assert mann_kendall(np.array([1, np.nan, 2, 3, np.nan, 4])).s == 6
    with pytest.raises(ValueError, match="alpha"):
        mann_kendall(np.arange(5), alpha=1.5)
    with pytest.raises(ValueError, match="series"):
        mann_kendall(np.zeros((3, 3)))


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_scipy_kendalltau(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    x = rng.normal(size=n) + rng.uniform(-0.05, 0.05) * np.arange(n)  # no ties
    r = mann_kendall(x)
    ref = kendalltau(np.arange(n), x, method="asymptotic")
    assert r.tau == pytest.approx(ref.statistic, abs=1e-12)
    # scipy's asymptotic p has no continuity correction: rebuild it from ours exactly, and
    # check the corrected p is the (slightly larger) neighbour.
    assert 2 * norm.sf(abs(r.s) / np.sqrt(r.var_s)) == pytest.approx(ref.pvalue, rel=1e-9)
    assert ref.pvalue <= r.p <= ref.pvalue + 0.05


@pytest.mark.parametrize("seed", range(4))
def test_tau_b_matches_scipy_with_ties(seed: int) -> None:
    x = np.random.default_rng(seed).poisson(2.0, size=30)
    r = mann_kendall(x)
    ref = kendalltau(np.arange(30), x, method="asymptotic")
    assert r.tau == pytest.approx(ref.statistic, abs=1e-12)
    assert 2 * norm.sf(abs(r.s) / np.sqrt(r.var_s)) == pytest.approx(ref.pvalue, rel=1e-9)


def test_classify_hotspot_trend() -> None:
    rng = np.random.default_rng(3)
    weeks = 26
    rising = rng.poisson(np.linspace(1, 12, weeks))
    falling = rising[::-1]
    steady = rng.poisson(8, size=weeks)
    assert classify_hotspot_trend(rising) == "emerging"
    assert classify_hotspot_trend(falling) == "diminishing"
    assert mann_kendall(steady).trend == "no trend"
    assert classify_hotspot_trend(steady) == "persistent"
    on_off = np.tile([0, 0, 5, 0], weeks // 4 + 1)[:weeks]
    assert classify_hotspot_trend(on_off) == "sporadic"
    # An explicit per-week hot flag overrides "any incident": hot 20 of 26 weeks < 80 %.
    hot = np.arange(weeks) < 20
    assert classify_hotspot_trend(steady, weekly_hot=hot) == "sporadic"
    assert classify_hotspot_trend(steady, weekly_hot=hot, persistent_share=0.75) == "persistent"
    with pytest.raises(ValueError, match="weekly_hot"):
        classify_hotspot_trend(steady, weekly_hot=hot[:5])
    with pytest.raises(ValueError, match="weekly_counts"):
        classify_hotspot_trend([])
