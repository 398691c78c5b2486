"""Benjamini-Hochberg false discovery rate control.

Hotspot maps test every cell at once; at alpha = 0.05 over 10,000 cells, per-cell testing would
flag ~500 cells by chance alone. BH bounds the expected share of false discoveries among the
flagged cells instead (Benjamini & Hochberg 1995), which is what ArcGIS's hot spot tools apply.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["bh_qvalues", "bh_reject"]


def _as_pvalues(pvalues: npt.ArrayLike) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvalues: expected a 1-D array, got shape {p.shape}")
    finite = p[~np.isnan(p)]
    if finite.size and (finite.min() < 0.0 or finite.max() > 1.0):
        raise ValueError("pvalues: every p-value must lie in [0, 1] (NaN allowed)")
    return p


def bh_qvalues(pvalues: npt.ArrayLike) -> np.ndarray:
    """BH-adjusted p-values (q-values), in the input order.

    With the m non-NaN p-values sorted ascending, p_(1) <= ... <= p_(m)::

        q_(i) = min_{j >= i} min(1, p_(j) * m / j)

    which is R's ``p.adjust(method="BH")`` and ``scipy.stats.false_discovery_control``.
    Tied p-values get equal q-values (the running minimum from the top makes them equal).
    NaN p-values are untested hypotheses: they do not count in m and their q-value is NaN.
    """
    p = _as_pvalues(pvalues)
    q = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    if m == 0:
        return q
    # A stable sort keeps the result independent of how ties happen to be ordered.
    order = tested[np.argsort(p[tested], kind="stable")]
    ranks = np.arange(1, m + 1, dtype=float)
    scaled = p[order] * m / ranks
    # Step-up: each q is the smallest scaled value at its rank or above.
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def bh_reject(pvalues: npt.ArrayLike, alpha: float = 0.05) -> np.ndarray:
    """Which hypotheses BH rejects at false discovery rate ``alpha`` (boolean, input order).

    Rejects H_(1..k) where k = max{i : p_(i) <= i * alpha / m}; equivalently q_i <= alpha.
    Empty input gives an empty mask; NaN p-values are never rejected.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    q = bh_qvalues(pvalues)
    # NaN <= alpha is False, so untested hypotheses are never rejected.
    with np.errstate(invalid="ignore"):
        return q <= alpha
