"""Repeat locations and concentration: planted hot premise, Poisson control, curve properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from intelligence.analysis.repeat_locations import (
    DAY_SECONDS,
    concentration_curve,
    gini,
    repeat_locations,
    share_of_events_from_top,
    share_of_locations_for_events,
)

AS_OF = 1_700_000_000.0
SPAN_DAYS = 365 + 90 + 90


def _uniform_poisson(rng: np.random.Generator, n_loc: int, rate_per_day: float):
    counts = rng.poisson(rate_per_day * SPAN_DAYS, size=n_loc)
    keys = np.repeat(np.arange(n_loc), counts)
    times = AS_OF - rng.uniform(0, SPAN_DAYS, size=keys.size) * DAY_SECONDS
    return keys, times


def test_planted_hot_premise_is_flagged_and_rising() -> None:
    rng = np.random.default_rng(1)
    keys, times = _uniform_poisson(rng, 500, 0.02)
    hot = 42
    burst = AS_OF - rng.uniform(0, 7, size=8) * DAY_SECONDS
    keys = np.concatenate([keys, np.full(8, hot)])
    times = np.concatenate([times, burst])
    res = repeat_locations(keys, times, as_of=AS_OF)
    r7 = res[7.0]
    i = int(np.flatnonzero(r7.keys == hot)[0])
    assert r7.flagged[i]
    assert r7.count[i] >= 8
    assert r7.trend[i] == "rising"
    assert r7.p_baseline[i] < 1e-4 and r7.p_jurisdiction[i] < 1e-4
    assert r7.flagged_indices()[0] == i
    # Expected rates follow the documented formulas.
    assert r7.expected_baseline[i] == pytest.approx(max(r7.baseline_count[i], 1.0) * 7 / 365)
    assert r7.expected_jurisdiction == pytest.approx(r7.count.sum() / 500)
    assert r7.p_baseline[i] == pytest.approx(
        stats.poisson.sf(r7.count[i] - 1, r7.expected_baseline[i])
    )


def test_uniform_poisson_control_flags_at_most_about_alpha() -> None:
    rng = np.random.default_rng(7)
    keys, times = _uniform_poisson(rng, 2000, 0.1)
    res = repeat_locations(keys, times, as_of=AS_OF, alpha=0.05, min_count=1)
    for r in res.values():
        assert r.flagged.mean() <= 0.05
        # Trend tests are two-sided at alpha: rising + falling together about alpha at most.
        assert np.mean(r.trend != "flat") <= 0.07


def test_windows_are_half_open_and_future_ignored() -> None:
    keys = np.array(["a", "a", "a", "b"])
    times = np.array([AS_OF, AS_OF - 7 * DAY_SECONDS, AS_OF - 1.0, AS_OF - 1.0])
    r = repeat_locations(keys, times, as_of=AS_OF, windows_days=[7])[7.0]
    assert list(r.keys) == ["a", "b"]
    # AS_OF itself is excluded; AS_OF - 7 days is the window's closed start.
    assert list(r.count) == [2, 1]
    assert list(r.previous_count) == [0, 0]


def test_chronically_busy_place_is_not_flagged() -> None:
    # Steady 2 events/day for 545 days: high vs the jurisdiction, normal vs its own history.
    rng = np.random.default_rng(3)
    keys, times = _uniform_poisson(rng, 300, 0.02)
    busy = AS_OF - (np.arange(2 * SPAN_DAYS) + 0.25) / 2 * DAY_SECONDS
    keys = np.concatenate([keys, np.full(busy.size, 999)])
    times = np.concatenate([times, busy])
    for r in repeat_locations(keys, times, as_of=AS_OF).values():
        i = int(np.flatnonzero(r.keys == 999)[0])
        assert r.p_jurisdiction[i] < 1e-6
        assert not r.flagged[i]
        assert r.trend[i] == "flat"


def test_bad_input_names_field() -> None:
    with pytest.raises(ValueError, match="keys/times"):
        repeat_locations([1, 2], [1.0], as_of=AS_OF)
    with pytest.raises(ValueError, match="n_locations"):
        repeat_locations([1, 2], [1.0, 2.0], as_of=AS_OF, n_locations=1)
    with pytest.raises(ValueError, match="times"):
        repeat_locations([1], [math.nan], as_of=AS_OF)


def test_concentration_curve_and_shares() -> None:
    counts = [0, 10, 5, 5, 0, 80, 0, 0, 0, 0]
    loc, ev = concentration_curve(counts)
    assert loc[0] == 0 and ev[0] == 0 and loc[-1] == 1 and ev[-1] == 1
    assert np.all(np.diff(ev) >= 0) and np.all(np.diff(loc) > 0)
    assert ev[1] == pytest.approx(0.8)
    assert share_of_events_from_top(counts, 0.1) == pytest.approx(0.8)
    assert share_of_events_from_top(counts, 0.3) == pytest.approx(0.95)
    assert share_of_locations_for_events(counts, 0.5) == pytest.approx(0.1)
    assert share_of_locations_for_events(counts, 0.9) == pytest.approx(0.2)
    assert share_of_locations_for_events(counts, 0.95) == pytest.approx(0.3)
    assert share_of_locations_for_events(counts, 1.0) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="counts"):
        concentration_curve([0, 0])


def test_gini() -> None:
    assert gini([3, 3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 10]) == pytest.approx(3 / 4)
    assert math.isnan(gini([]))
    # Mean-absolute-difference definition, brute force.
    x = np.array([1.0, 4.0, 0.0, 9.0, 2.0])
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert gini(x) == pytest.approx(mad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=60))
def test_curve_properties(counts: list[int]) -> None:
    if sum(counts) == 0:
        return
    loc, ev = concentration_curve(counts)
    assert np.all(np.diff(ev) >= -1e-12)
    assert ev[-1] == 1.0
    # Busiest-first curve lies on or above the diagonal (concave).
    assert np.all(ev >= loc - 1e-12)
    # Order of input does not matter.
    perm = np.random.default_rng(0).permutation(len(counts))
    assert np.allclose(concentration_curve(np.asarray(counts)[perm])[1], ev)
    g = gini(counts)
    assert -1e-12 <= g <= 1.0


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_result_invariant_to_event_order(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 20, size=200)
    times = AS_OF - rng.uniform(0, 500, size=200) * DAY_SECONDS
    perm = rng.permutation(200)
    a = repeat_locations(keys, times, as_of=AS_OF)
    b = repeat_locations(keys[perm], times[perm], as_of=AS_OF)
    for w in a:
        assert np.array_equal(a[w].count, b[w].count)
        assert np.array_equal(a[w].flagged, b[w].flagged)
        assert np.allclose(a[w].p_baseline, b[w].p_baseline)
