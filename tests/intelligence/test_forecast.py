"""Forecast evaluation, pure part: every metric and method against hand-computed vectors."""

from __future__ import annotations

import math

import h3
import numpy as np
import pytest

from intelligence.analysis.forecast import (
    DAY,
    WEEK,
    EventSet,
    Grid,
    budget_cells,
    evaluate,
    hit_metrics,
    make_methods,
    plan_origins,
    prepare,
    rank_cells,
    score_damped,
    score_gistar,
    score_kde,
    score_naive,
    score_prospective,
)
from intelligence.analysis.hotspots import getis_ord_gi_star, knn_ring_weights

CENTRE = h3.latlng_to_cell(29.4241, -98.4936, 9)


def grid_of(cells: list[str], x: list[float] | None = None, y: list[float] | None = None) -> Grid:
    n = len(cells)
    return Grid(
        cells=tuple(cells),
        x=np.asarray(x if x is not None else [0.0] * n, dtype=float),
        y=np.asarray(y if y is not None else [0.0] * n, dtype=float),
        resolution=9,
    )


def events(
    cell: list[int], t: list[float], x: list[float] | None = None, y: list[float] | None = None
) -> EventSet:
    n = len(cell)
    return EventSet(
        cell=np.asarray(cell, dtype=np.int64),
        x=np.asarray(x if x is not None else [0.0] * n, dtype=float),
        y=np.asarray(y if y is not None else [0.0] * n, dtype=float),
        t=np.asarray(t, dtype=float),
    )


# --- budgets, ranking, metrics -----------------------------------------------------------


@pytest.mark.parametrize(
    ("n_cells", "fraction", "expected"),
    [
        (100, 0.01, 1),
        (100, 0.02, 2),
        (100, 0.05, 5),
        (150, 0.01, 1),  # 1.5 floors to 1
        (250, 0.02, 5),
        (50, 0.01, 1),  # 0.5 floors to 0, raised to the minimum of one cell
        (100, 0.29, 29),  # 28.999999999999996 in floats
        (3, 1.0, 3),
        (9129, 0.02, 182),
    ],
)
def test_budget_cells_floor_with_one_cell_minimum(n_cells: int, fraction: float, expected: int):
    assert budget_cells(n_cells, fraction) == expected


@pytest.mark.parametrize(("n_cells", "fraction"), [(100, 0.0), (100, 1.5), (0, 0.02)])
def test_budget_cells_rejects_bad_input(n_cells: int, fraction: float):
    with pytest.raises(ValueError, match="budget"):
        budget_cells(n_cells, fraction)


def test_rank_cells_breaks_ties_by_grid_order():
    assert rank_cells([1.0, 3.0, 3.0, 0.0, 1.0]).tolist() == [1, 2, 0, 4, 3]
    assert rank_cells([0.0, 0.0, 0.0]).tolist() == [0, 1, 2]


def test_rank_cells_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        rank_cells([1.0, math.nan])


def test_hit_metrics_reference_worked_vector():
    # Reference §4.7: N = 120, n = 30 in a = 2 of A = 50 units, oracle n* = 45 ->
    # H = 0.25, PAI = 6.25, PEI = 0.667.
    counts = np.zeros(50)
    counts[[0, 1]] = 15  # the forecast's two cells
    counts[[2, 3]] = [25, 20]  # the two busiest cells
    counts[4:49] = 1  # 45 more events, one per cell
    assert counts.sum() == 120
    order = np.arange(50)
    m = hit_metrics(order, counts, 2, 120)
    assert (m.hits, m.total, m.best, m.cells, m.area_cells) == (30, 120, 45, 2, 50)
    assert m.hit_rate == pytest.approx(0.25)
    assert m.pai == pytest.approx(6.25)
    assert m.pei == pytest.approx(2 / 3)


def test_hit_metrics_empty_test_period_is_undefined_not_zero():
    m = hit_metrics(np.arange(4), np.zeros(4), 1, 0)
    assert (m.hits, m.total, m.best) == (0, 0, 0)
    assert m.hit_rate is None and m.pai is None and m.pei is None


def test_hit_metrics_events_outside_the_grid_are_misses():
    # 4 held-out events, one of them outside the study area: N = 4, not 3.
    m = hit_metrics(np.array([1, 0]), np.array([1.0, 2.0]), 1, 4)
    assert m.hit_rate == pytest.approx(0.5)
    assert m.pai == pytest.approx(0.5 / 0.5)
    assert m.pei == pytest.approx(1.0)


def test_hit_metrics_tied_oracle_is_the_same_whatever_the_order():
    counts = np.array([3.0, 3.0, 3.0, 1.0])
    assert hit_metrics(np.array([3, 2, 1, 0]), counts, 2, 10).best == 6
    assert hit_metrics(np.array([3, 2, 1, 0]), counts, 2, 10).hits == 4


# --- methods -----------------------------------------------------------------------------


def test_naive_counts_training_events_per_cell():
    g = grid_of(["a", "b", "c"])
    ev = events([2, 0, 2, 2, -1], [1, 2, 3, 4, 5])
    assert score_naive(g, ev, 10.0).tolist() == [1.0, 0.0, 3.0]


def test_kde_gaussian_at_cell_centres_with_truncation():
    g = grid_of(["a", "b"], x=[0.0, 1000.0], y=[0.0, 0.0])
    # Two calls at one address (merged, weight 2), one 100 m east, one at the second centre.
    ev = events([0, 0, 0, 1], [1, 2, 3, 4], x=[0.0, 0.0, 100.0, 1000.0], y=[0.0] * 4)
    s = score_kde(g, ev, 10.0, bandwidth_m=100.0)
    # Centre a: 2 x exp(0) + exp(-0.5 x 1²); the event at 1000 m is beyond 3 sigma (300 m).
    assert s[0] == pytest.approx(2.0 + math.exp(-0.5))
    # Centre b: its own event only (the others are 900 m and 1000 m away).
    assert s[1] == pytest.approx(1.0)
    wide = score_kde(g, ev, 10.0, bandwidth_m=1000.0)
    assert wide[1] == pytest.approx(1.0 + 2 * math.exp(-0.5) + math.exp(-0.5 * 0.9**2))


def test_kde_empty_training_scores_zero():
    g = grid_of(["a", "b"])
    assert score_kde(g, events([], []), 0.0).tolist() == [0.0, 0.0]


def _three_cells() -> tuple[list[str], str, str, str]:
    """A cell, one neighbour and a cell two rings out that touches that neighbour."""
    ring1 = sorted(h3.grid_ring(CENTRE, 1))[0]
    ring2 = next(c for c in sorted(h3.grid_ring(CENTRE, 2)) if h3.grid_distance(c, ring1) == 1)
    return sorted([CENTRE, ring1, ring2]), CENTRE, ring1, ring2


def test_prospective_inverse_distance_and_time_bands():
    cells, c0, c1, c2 = _three_cells()
    g = grid_of(cells)
    i0, i1, i2 = cells.index(c0), cells.index(c1), cells.index(c2)
    origin = 100 * WEEK
    ev = events(
        [i2, i1, i0],
        [
            origin - 9 * WEEK,  # week 9: outside 8 time bands, contributes nowhere
            origin - 8 * DAY,  # week 1 (8 days rounds down)
            origin - 1 * DAY,  # week 0
        ],
    )
    s = score_prospective(g, ev, origin, space_bands=2, time_bands=8)
    # c0: own event 1/(1·1) + neighbour's 1/(2·2); c2 is two rings away (d = 2, excluded).
    assert s[i0] == pytest.approx(1.0 + 0.25)
    # c1: c0's event 1/(2·1) + own event 1/(1·2).
    assert s[i1] == pytest.approx(0.5 + 0.5)
    # c2: c1's event at d = 1, week 1: 1/(2·2); its own event is too old.
    assert s[i2] == pytest.approx(0.25)
    own = score_prospective(g, ev, origin, space_bands=1, time_bands=10)
    assert own[i2] == pytest.approx(1 / 10)  # own cell only, week 9 -> 1/(1+9)


def test_prospective_ignores_events_after_the_origin():
    g = grid_of([CENTRE])
    s = score_prospective(g, events([0], [5 * DAY]), 1 * DAY)
    assert s.tolist() == [0.0]


def test_damped_counts_favour_steady_places_over_one_loud_day():
    g = grid_of(["a", "b"])
    origin = 10 * DAY
    # a: 4 calls on one day -> sqrt(4) = 2. b: one call on each of 3 days -> 3.
    a = [origin - 2 * DAY + 60 + h * 3600 for h in range(4)]  # all in day 1 back
    b = [origin - d * DAY - 60 for d in (1, 2, 3)]
    order = np.argsort(a + b, kind="stable")
    cells = np.array([0] * 4 + [1] * 3)[order]
    ev = events(cells.tolist(), sorted(a + b))
    assert score_damped(g, ev, origin).tolist() == pytest.approx([2.0, 3.0])
    assert score_naive(g, ev, origin).tolist() == [4.0, 3.0]
    assert score_damped(g, events([], []), origin).tolist() == [0.0, 0.0]


def test_gistar_is_the_hotspot_modules_z_score():
    cells = sorted(h3.grid_disk(CENTRE, 3))
    g = grid_of(cells)
    rng = np.random.default_rng(7)
    idx = np.sort(rng.integers(0, len(cells), 200))
    ev = events(idx.tolist(), list(range(200)))
    expected, _ = getis_ord_gi_star(np.bincount(idx, minlength=len(cells)), knn_ring_weights(cells))
    assert score_gistar(g, ev, 1e9) == pytest.approx(expected)
    # Three calls in the centre and one in each neighbour put the centre first (9 vs 6 or less).
    ring = [cells.index(c) for c in h3.grid_ring(CENTRE, 1)]
    cluster = events(sorted([cells.index(CENTRE)] * 3 + ring), list(range(9)))
    assert rank_cells(score_gistar(g, cluster, 10.0))[0] == cells.index(CENTRE)


def test_make_methods_binds_parameters_and_rejects_unknown():
    g = grid_of(["a", "b"], x=[0.0, 1000.0], y=[0.0, 0.0])
    ev = events([1], [0.0], x=[0.0], y=[0.0])
    m = make_methods(["kde"], {"kde": {"bandwidth_m": 1000.0}})
    assert m["kde"](g, ev, 1.0)[1] == pytest.approx(math.exp(-0.5 * 1.0))
    with pytest.raises(ValueError, match="unknown 'oracle'"):
        make_methods(["oracle"])


# --- data preparation and protocol -------------------------------------------------------


def test_prepare_builds_the_occupied_grid_and_sorts_events_by_time():
    lat = [29.4241, 29.4251, 29.4241]
    lon = [-98.4936, -98.4936, -98.4936]
    grid, ev = prepare(lat, lon, [30.0, 10.0, 20.0], resolution=9)
    assert list(grid.cells) == sorted(
        {h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon, strict=True)}
    )
    assert ev.t.tolist() == [10.0, 20.0, 30.0]
    assert [grid.cells[i] for i in ev.cell] == [
        h3.latlng_to_cell(la, lo, 9)
        for la, lo in [(lat[1], lon[1]), (lat[2], lon[2]), (lat[0], lon[0])]
    ]
    # 0.001 degrees of latitude is 111.19 m on the mean-radius sphere.
    assert ev.y[0] - ev.y[1] == pytest.approx(111.19, abs=0.01)
    with pytest.raises(ValueError, match="resolution"):
        prepare(lat, lon, [1.0, 2.0, 3.0], resolution=16)


def test_event_set_requires_sorted_times():
    with pytest.raises(ValueError, match="sorted"):
        events([0, 0], [2.0, 1.0])


def _daily(days: list[int], offset: float = 3600.0) -> np.ndarray:
    return np.array([d * DAY + offset for d in days], dtype=float)


def test_plan_origins_steps_back_and_skips_empty_windows():
    # Events on days 0-49 and 80-99; the gap empties some test and training windows.
    t = _daily(list(range(50)) + list(range(80, 100)))
    origins, skipped = plan_origins(
        t, train_s=10 * DAY, horizon_s=5 * DAY, step_s=5 * DAY, n=10, end=100 * DAY
    )
    assert [o / DAY for o in origins] == [95, 90, 85, 45, 40, 35, 30, 25, 20, 15]
    assert skipped == 7  # 80 (empty training), 75 ... 50 (empty test)
    # Without a cap it stops where a training window would start before the first event.
    origins, _ = plan_origins(
        t, train_s=10 * DAY, horizon_s=5 * DAY, step_s=5 * DAY, n=100, end=100 * DAY
    )
    # The first event is at day 0 + 1 h, so the window [5 d, 15 d) is the earliest one inside.
    assert origins[-1] / DAY == 15
    assert plan_origins(np.array([]), train_s=1, horizon_s=1, step_s=1, n=1) == ([], 0)


def test_evaluate_end_to_end_by_hand():
    g = grid_of([f"c{i}" for i in range(10)])
    # Training (days 0-9): cell 3 busiest, then cell 5. Test (days 10-11): 3 calls in 5, 1 in 3.
    train_cells = [3] * 5 + [5] * 2 + [7]
    test_cells = [5, 5, 5, 3]
    t = np.concatenate([np.linspace(0, 9 * DAY, 8), [10 * DAY + 60 * i for i in range(4)]])
    ev = events(train_cells + test_cells, t.tolist())
    seen: list[tuple[int, int]] = []
    result = evaluate(
        g,
        ev,
        make_methods(["naive"]),
        train_days=10,
        horizon_days=2,
        origins=1,
        budgets=(0.1, 0.2),
        end=12 * DAY,
        progress=lambda done, total, origin: seen.append((done, total)),
    )
    assert seen == [(1, 1)]
    assert result.origins == [10 * DAY]
    assert result.train_counts == [8] and result.test_counts == [4]
    one = result.results[0]["naive"][0.1]  # 1 cell: cell 3 -> 1 of 4 calls; the oracle gets 3
    assert (one.hits, one.best, one.hit_rate, one.pai, one.pei) == (1, 3, 0.25, 2.5, 1 / 3)
    two = result.results[0]["naive"][0.2]  # cells 3 and 5 -> all 4
    assert (two.hits, two.best, two.pai, two.pei) == (4, 4, 5.0, 1.0)
    summary = result.summary()["naive"][0.1]
    assert summary["pai"] == pytest.approx(2.5)
    assert summary["pai_sd"] is None  # one origin: no spread


def test_summary_mean_and_sample_sd_over_origins():
    g = grid_of(["a", "b"])
    # Day d in the test window: origins at days 4, 2 (step 2, horizon 2, train 2).
    t = _daily([0, 1, 2, 3, 4, 5], offset=0.0)
    ev = events([0, 0, 0, 1, 0, 1], t.tolist())
    result = evaluate(
        g,
        ev,
        make_methods(["naive"]),
        train_days=2,
        horizon_days=2,
        origins=2,
        budgets=(0.5,),
        end=6 * DAY,
    )
    assert [o / DAY for o in result.origins] == [4, 2]
    # Origin 4: train days 2-3 (a, b tie -> a), test a, b -> H 0.5.  Origin 2: train a, a -> a;
    # test a, b -> H 0.5. Means 0.5, sd 0; PAI = 0.5 / 0.5 = 1.
    s = result.summary()["naive"][0.5]
    assert s["hit_rate"] == pytest.approx(0.5)
    assert s["hit_rate_sd"] == pytest.approx(0.0)
    assert s["pai"] == pytest.approx(1.0)
    assert s["pei"] == pytest.approx(1.0)


def test_evaluate_rejects_no_methods():
    with pytest.raises(ValueError, match="methods"):
        evaluate(grid_of(["a"]), events([0], [0.0]), {})


def test_forecast_top_cells_takes_the_budget_of_the_whole_area_by_damped_counts() -> None:
    from intelligence.analysis.forecast import forecast_top_cells

    day = 86_400.0
    origin = 100 * day
    base = h3.latlng_to_cell(29.43, -98.50, 9)
    area = sorted(h3.grid_disk(base, 6))  # 127 cells -> 2 % = 2 cells
    cells, times = list(area), [origin - 200 * day] * len(area)  # history: every cell once
    steady, loud, other = area[5], area[9], area[20]
    for d in range(20):  # one call a day for 20 days
        cells.append(steady)
        times.append(origin - (d + 0.5) * day)
    cells += [loud] * 16  # sixteen calls on one day: sqrt(16) = 4
    times += [origin - 3.5 * day] * 16
    cells += [other] * 3  # three days with one call each
    times += [origin - (d + 0.5) * day for d in range(3)]
    top = forecast_top_cells(cells, times, origin=origin, train_days=90)
    assert [c for c, _ in top] == [steady, loud]
    assert [s for _, s in top] == pytest.approx([20.0, 4.0])
    # Nothing after the origin counts, and naive counts rank the loud cell first.
    later = forecast_top_cells([*cells, other], [*times, origin + day], origin=origin)
    assert later == top
    naive = forecast_top_cells(cells, times, origin=origin, method="naive")
    assert [c for c, _ in naive] == [steady, loud] and naive[1][1] == 16
    assert forecast_top_cells([], [], origin=origin) == []
    with pytest.raises(ValueError, match="method"):
        forecast_top_cells(cells, times, origin=origin, method="kde")
