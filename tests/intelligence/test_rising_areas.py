"""Rising areas: neighbourhoods whose recent share of calls beats the jurisdiction's."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from scipy import stats

from intelligence.analysis.rising_areas import rising_areas

CENTRE = h3.latlng_to_cell(29.43, -98.50, 9)


def _city(rng: np.random.Generator, n: int) -> list[str]:
    disk = sorted(h3.grid_disk(CENTRE, 12))
    return [disk[i] for i in rng.integers(len(disk), size=n)]


def test_a_ramp_in_one_place_is_found_and_a_citywide_surge_is_not() -> None:
    rng = np.random.default_rng(5)
    ramp_cell = h3.grid_disk(CENTRE, 6)
    spot = sorted(h3.grid_ring(CENTRE, 6))[0]
    assert spot in ramp_cell
    earlier = _city(rng, 8000) + [spot] * 10
    # The whole city doubles recently (a surge), and the spot rises far more.
    recent = _city(rng, 8000) + [spot] * 150
    result = rising_areas(recent, earlier)
    [area] = result.areas
    assert spot in area.cells and area.n_cells <= 7
    assert result.recent_share == pytest.approx(8150 / 16160)
    i = result.cells.index(spot)
    n = result.recent[i] + result.earlier[i]
    assert result.p[i] == pytest.approx(stats.binom.sf(result.recent[i] - 1, n, 8150 / 16160))


def test_no_change_anywhere_gives_no_area() -> None:
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        hits += bool(rising_areas(_city(rng, 3000), _city(rng, 6000)).areas)
    assert hits <= 2  # BH over a global null: any area at all in about alpha of runs


def test_empty_periods_and_bad_arguments() -> None:
    assert rising_areas([], [CENTRE]).areas == []
    assert rising_areas([CENTRE], []).areas == []
    with pytest.raises(ValueError, match="alpha"):
        rising_areas([CENTRE], [CENTRE], alpha=1.0)
    with pytest.raises(ValueError, match="min_count"):
        rising_areas([CENTRE], [CENTRE], min_count=0)
    with pytest.raises(ValueError, match="cells"):
        rising_areas(["nope"], [CENTRE])
