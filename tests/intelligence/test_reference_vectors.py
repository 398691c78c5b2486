"""Test vectors from ``shared/reference/ilp-methods-and-governance.md`` not covered elsewhere.

Already covered (checked against the reference text, same numbers and tolerances):
``test_outcomes.py`` has the ptools WDD vector (-10, SE 8.3666, z -1.195229, 90 % CI
-23.76..3.76), the crimede-coder WDD (-10, SE sqrt(370) = 19.235), the Wilson IRR (0.6545, log
-0.4238, SE 0.297) and the ptools Poisson e-test (p = 0.1748748). The WDQ has no numeric vector
in the reference. PAI / PEI / RRI (§4.7) have no committed implementation yet.

Added here:

* §2.2 (a): Knox on the Burkitt data (pointpats ``Knox`` doctest, delta = 20, tau = 5):
  statistic 13, observed 2 x 2 table [[13, 3416], [39, 14110]], analytic expected
  [[10.1438161, 3418.85618], [41.8561839, 14107.1438]], ``p_poisson`` 0.14624558197140414.
* §1.2: esda's ``fdr`` cut-off and scipy's BH against Beacon's Benjamini-Hochberg.

Conventions (they differ, and the tests pin how):

* pointpats counts a pair as close when d <= delta and |dt| <= tau (closed); Beacon's bands
  are half-open ``[e_k, e_k+1)``. Burkitt times are whole days, so |dt| <= 5 is the band
  [0, 6); with [0, 5) Beacon counts 12 pairs, not 13. Distances: coordinates are whole
  numbers, so d <= 20 is [0, 20 + 1e-6) (the next possible distance is sqrt(401)).
* pointpats' ``p_poisson`` is ``poisson.sf(nst, expected)`` = P(X > 13), not the upper tail
  P(X >= 13) = 0.2223; Beacon reports no Poisson p, only the Monte-Carlo one, (1 + #{sim >=
  obs}) / (1 + R), one-sided. The test derives the Poisson figure from Beacon's own table.
* Beacon's Knox ``expected`` is the mean over permutations; pointpats' is analytic (row total
  x column total / pairs). Beacon's converges to it: checked within 5 Monte-Carlo standard
  errors at 999 permutations (seeded, so the check is deterministic).
* esda's ``fdr`` returns the BH threshold k * alpha / m (strict ``<``), and alpha / m when
  *nothing* passes (its docstring calls that the Bonferroni bound). Beacon's ``bh_reject`` uses
  ``<=``; they agree on every input without a p-value exactly on a threshold.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.stats import false_discovery_control, poisson

from intelligence.analysis.fdr import bh_qvalues, bh_reject
from intelligence.analysis.forecast import hit_metrics, recapture_rate_index
from intelligence.analysis.near_repeat import knox_test

pytestmark = pytest.mark.validation

if os.environ.get("CI"):
    # CI installs esda/libpysal from requirements-dev.lock: missing there is a failure, not a skip.
    import libpysal
    from esda import fdr as esda_fdr
else:
    libpysal = pytest.importorskip("libpysal")
    esda_fdr = pytest.importorskip("esda").fdr

BURKITT_OBSERVED = [[13, 3416], [39, 14110]]
BURKITT_EXPECTED = [[1.01438161e01, 3.41885618e03], [4.18561839e01, 1.41071438e04]]
BURKITT_P_POISSON = 0.14624558197140414
# Coordinates are whole numbers, so the next distance above 20 is sqrt(401) = 20.02: d <= 20 is
# the band [0, 20 + 1e-6).
D_CLOSED = 20 + 1e-6
FAR = 1e9  # an outer band edge beyond any distance or gap: every pair is counted


def burkitt() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, Y, T of the 188 Burkitt's lymphoma cases shipped with libpysal."""
    table = libpysal.io.open(libpysal.examples.get_path("burkitt.dbf"))
    try:
        columns = {name: np.asarray(table.by_col(name), dtype=float) for name in "XYT"}
    finally:
        table.close()
    return columns["X"], columns["Y"], columns["T"]


def test_knox_burkitt_reproduces_pointpats_doctest() -> None:
    x, y, t = burkitt()
    assert x.size == 188
    n_perm = 999
    result = knox_test(
        x, y, t, space_edges=[0, D_CLOSED, FAR], time_edges=[0, 6, FAR], n_perm=n_perm, seed=12345
    )
    n_pairs = x.size * (x.size - 1) // 2
    np.testing.assert_array_equal(result.observed, BURKITT_OBSERVED)
    assert result.observed.sum() == n_pairs
    assert int(result.observed[0, 0]) == 13  # pointpats' statistic_

    # pointpats' analytic expectation, from the margins of Beacon's own table.
    rows, cols = result.observed.sum(axis=1), result.observed.sum(axis=0)
    analytic = np.outer(rows, cols) / n_pairs
    np.testing.assert_allclose(analytic, BURKITT_EXPECTED, rtol=1e-8)
    assert poisson.sf(13, analytic[0, 0]) == pytest.approx(BURKITT_P_POISSON, rel=1e-12)
    assert poisson.sf(12, analytic[0, 0]) == pytest.approx(0.2223, abs=5e-5)  # P(X >= 13)

    # Beacon's Monte-Carlo expectation converges to the analytic one.
    sims = result.permuted[:, 0, 0]
    assert result.permuted.shape == (n_perm, 2, 2)
    standard_error = sims.std(ddof=1) / np.sqrt(n_perm)
    assert abs(result.expected[0, 0] - analytic[0, 0]) < 5 * standard_error
    np.testing.assert_allclose(result.expected, result.permuted.mean(axis=0), rtol=1e-12)
    # Every permutation keeps the margins (times are shuffled, distances stay).
    np.testing.assert_array_equal(result.permuted.sum(axis=2), np.broadcast_to(rows, (n_perm, 2)))
    # Beacon's p: (1 + #{sim >= obs}) / (1 + R), one-sided.
    p = (1 + np.sum(sims >= 13)) / (1 + n_perm)
    assert result.p_value[0, 0] == pytest.approx(p, abs=1e-15)
    # With this little interaction (13 against ~10.1 expected) neither p is small.
    assert result.p_value[0, 0] > 0.1


def test_knox_half_open_bands_differ_from_pointpats_closed_thresholds() -> None:
    x, y, t = burkitt()
    closed = knox_test(x, y, t, space_edges=[0, D_CLOSED], time_edges=[0, 6], n_perm=1)
    half_open = knox_test(x, y, t, space_edges=[0, 20], time_edges=[0, 5], n_perm=1)
    assert int(closed.observed[0, 0]) == 13
    # The pairs exactly 5 days apart are what pointpats counts and [0, 5) does not.
    assert int(half_open.observed[0, 0]) == 12


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_bh_equals_esda_fdr_and_scipy(seed: int, alpha: float) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(20, 2000))
    signal = rng.uniform(0, 1, m) < 0.1
    # Null p-values uniform; signals piled up near 0 (Beta(0.1, 8)).
    p = np.where(signal, rng.beta(0.1, 8, m), rng.uniform(0, 1, m))
    cut = esda_fdr(p, alpha)
    mask = bh_reject(p, alpha)
    np.testing.assert_array_equal(mask, p < cut)
    np.testing.assert_allclose(bh_qvalues(p), false_discovery_control(p), rtol=1e-12)
    if not mask.any():
        assert cut == pytest.approx(alpha / m)


def test_bh_esda_returns_bonferroni_bound_when_nothing_passes() -> None:
    p = np.linspace(0.5, 1.0, 50)
    assert esda_fdr(p, 0.05) == pytest.approx(0.05 / 50)
    assert not bh_reject(p, 0.05).any()
    # Everything passes: esda's cut is alpha itself (k = m), not the Bonferroni bound.
    q = np.full(40, 1e-6)
    assert esda_fdr(q, 0.05) == pytest.approx(0.05)
    assert bh_reject(q, 0.05).all()


def test_forecast_metrics_reproduce_the_reference_worked_vector() -> None:
    """Reference section 4.7: N = 120 held-out events, n = 30 inside a = 2 km2 of A = 50 km2,
    oracle n* = 45 -> H 0.25, PAI 6.25, PEI 0.667; with PAI_T1 = 8 for the same cells, RRI 0.781.
    Cells of 1 km2: the forecast picks cells 0 and 1 (15 + 15 events); the busiest two cells
    hold 25 + 20; the other 46 cells hold the remaining 45 (at most 15 each)."""
    counts = np.zeros(50, dtype=np.int64)
    counts[[0, 1]] = 15
    counts[[2, 3]] = [25, 20]
    counts[4:49] = 1
    assert counts.sum() == 120  # 30 chosen + 45 in the best two + 45 elsewhere
    order = np.arange(50)  # the forecast's ranking: cells 0 and 1 first
    m = hit_metrics(order, counts, 2, 120)
    assert (m.hits, m.total, m.best, m.cells, m.area_cells) == (30, 120, 45, 2, 50)
    assert m.hit_rate == pytest.approx(0.25)
    assert m.pai == pytest.approx(6.25)
    assert m.pei == pytest.approx(0.667, abs=5e-4)
    assert recapture_rate_index(m.pai, 8.0) == pytest.approx(0.781, abs=5e-4)
    with pytest.raises(ValueError, match="pai_earlier"):
        recapture_rate_index(6.25, 0.0)
