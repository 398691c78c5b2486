"""Benjamini-Hochberg: a hand example, agreement with scipy, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from intelligence.analysis.fdr import bh_qvalues, bh_reject


def test_hand_example() -> None:
    # m = 5, alpha = 0.05: thresholds i*alpha/m = .01 .02 .03 .04 .05.
    # Sorted p: .001 (<=.01) .008 (<=.02) .035 (>.03) .038 (<=.04) .20 (>.05) -> k = 4,
    # so the step-up also rejects .035 although it fails its own threshold.
    p = np.array([0.038, 0.001, 0.20, 0.035, 0.008])
    assert bh_reject(p, 0.05).tolist() == [True, True, False, True, True]
    # q: .001*5/1=.005, .008*5/2=.02, .035*5/3=.0583 -> min with .0475, .038*5/4=.0475, .2*5/5=.2
    np.testing.assert_allclose(bh_qvalues(p), [0.0475, 0.005, 0.2, 0.0475, 0.02])
    assert bh_reject(p, 0.0475 - 1e-9).tolist() == [False, True, False, False, True]


@pytest.mark.parametrize("seed", range(10))
def test_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.01, size=20)])
    # Rounding creates ties, which must not change anything.
    p = np.round(p, 3)
    q = bh_qvalues(p)
    np.testing.assert_allclose(q, false_discovery_control(p, method="bh"), rtol=0, atol=1e-15)
    assert np.array_equal(bh_reject(p, 0.1), false_discovery_control(p, method="bh") <= 0.1)


def test_ties_share_a_decision() -> None:
    p = np.array([0.02, 0.02, 0.02, 0.9])
    q = bh_qvalues(p)
    assert q[0] == q[1] == q[2] == pytest.approx(0.02 * 4 / 3)
    assert bh_reject(p, 0.03).tolist() == [True, True, True, False]


def test_empty_and_nan() -> None:
    assert bh_reject(np.array([]), 0.05).shape == (0,)
    assert bh_reject(np.array([np.nan, np.nan]), 0.05).tolist() == [False, False]
    p = np.array([0.01, np.nan, 0.04])
    # NaN is untested: m = 2, not 3.
    np.testing.assert_allclose(bh_qvalues(p), [0.02, np.nan, 0.04])
    assert bh_reject(p, 0.05).tolist() == [True, False, True]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="alpha"):
        bh_reject(np.array([0.1]), 0.0)
    with pytest.raises(ValueError, match="pvalues"):
        bh_reject(np.array([1.5]), 0.05)
    with pytest.raises(ValueError, match="pvalues"):
        bh_qvalues(np.zeros((2, 2)))
