"""Patrol dosage from AVL breadcrumbs: hand-computed tracks, bad inputs, properties."""

from __future__ import annotations

import datetime as dt
import math

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from dispatch.geo import EARTH_RADIUS_M, haversine_m
from tasking.analysis.dosage import (
    CellsArea,
    CircleArea,
    DosageTarget,
    PolygonArea,
    distance_m,
    inside,
    presence_runs,
    window_dosage,
)
from tasking.analysis.schedule import Interval

LAT, LON = 29.42, -98.49
AREA = CircleArea(LAT, LON, 100.0)
IN = (LAT, LON)
OUT = (LAT + 500 / EARTH_RADIUS_M * 180 / math.pi, LON)  # 500 m north
HOUR = 3600.0


def track(*legs: tuple[float, float, float, tuple[float, float]]) -> tuple:
    """Fixes every ``step`` s over [start, end] (inclusive) at one place, per leg."""
    t, lat, lon = [], [], []
    for start, end, step, (la, lo) in legs:
        times = np.arange(start, end + step / 2, step)
        t.append(times)
        lat.append(np.full(times.size, la))
        lon.append(np.full(times.size, lo))
    return np.concatenate(t), np.concatenate(lat), np.concatenate(lon)


def one(tracks: dict, windows: list | None = None, **kwargs):
    return window_dosage(tracks, AREA, windows or [(0.0, 2 * HOUR)], **kwargs)


# --- Inside --------------------------------------------------------------------------------


def test_circle_edge_is_inside() -> None:
    la, lo = np.array([LAT + 0.0009]), np.array([LON + 0.0004])
    r = float(distance_m(la, lo, LAT, LON)[0])
    assert r == pytest.approx(haversine_m(LAT, LON, la[0], lo[0]), abs=1e-6)
    assert inside(CircleArea(LAT, LON, r), la, lo)[0]
    assert not inside(CircleArea(LAT, LON, float(np.nextafter(r, 0))), la, lo)[0]


def test_polygon_boundary_is_inside_and_coordinates_are_lon_lat() -> None:
    square = PolygonArea(Polygon([(-98.5, 29.4), (-98.48, 29.4), (-98.48, 29.42), (-98.5, 29.42)]))
    lat = np.array([29.41, 29.4, 29.41, 29.43])
    lon = np.array([-98.49, -98.49, -98.5, -98.49])  # centre, bottom edge, left edge, outside
    assert inside(square, lat, lon).tolist() == [True, True, True, False]


def test_cells_membership_any_resolution() -> None:
    here = h3.latlng_to_cell(LAT, LON, 9)
    area = CellsArea(frozenset({here, h3.latlng_to_cell(LAT, LON + 0.05, 7)}))
    lat = np.array([LAT, OUT[0], LAT, LAT])
    lon = np.array([LON, OUT[1], LON + 0.05, LON + 0.2])
    assert inside(area, lat, lon).tolist() == [True, False, True, False]


# --- Time attribution and visits ------------------------------------------------------------


def test_segment_needs_both_fixes_inside() -> None:
    # Out until -5, in 0..600, out from 605: in->out and out->in segments are not credited.
    tr = track((-60, -5, 5, OUT), (0, 600, 5, IN), (605, 700, 5, OUT))
    (w,) = one({"A": tr})
    assert w.covered.seconds == 600.0
    assert [(v.start, v.end, v.seconds) for v in w.covered.visits] == [(0.0, 600.0, 600.0)]
    assert w.units["A"] == w.covered
    starts, ends = presence_runs(*tr, AREA)
    assert starts.tolist() == [0.0] and ends.tolist() == [600.0]


def test_silence_longer_than_max_gap_is_not_credited() -> None:
    # In 0..300, silent until 500 (200 s), in 500..800: 600 s credited, two visits.
    (w,) = one({"A": track((0, 300, 5, IN), (500, 800, 5, IN))})
    assert w.covered.seconds == 600.0
    assert len(w.covered.visits) == 2
    # A gap of exactly max_gap_s is credited.
    (w,) = one({"A": track((0, 300, 5, IN), (420, 720, 5, IN))})
    assert w.covered.seconds == 720.0 and len(w.covered.visits) == 1
    (w,) = one({"A": track((0, 300, 5, IN), (420, 720, 5, IN))}, max_gap_s=119.0)
    assert w.covered.seconds == 600.0 and len(w.covered.visits) == 2


def test_reentry_within_merge_gap_is_one_visit() -> None:
    # Out for 45 s between last and first inside fix: one visit, gap not credited.
    (w,) = one({"A": track((0, 300, 5, IN), (305, 340, 5, OUT), (345, 600, 5, IN))})
    assert [(v.start, v.end, v.seconds) for v in w.covered.visits] == [(0.0, 600.0, 555.0)]
    assert w.covered.seconds == 555.0
    # Exactly the merge gap (60 s) still merges.
    (w,) = one({"A": track((0, 300, 5, IN), (305, 355, 5, OUT), (360, 600, 5, IN))})
    assert len(w.covered.visits) == 1


def test_reentry_after_merge_gap_is_a_new_visit() -> None:
    (w,) = one({"A": track((0, 300, 5, IN), (305, 395, 5, OUT), (400, 700, 5, IN))})
    assert [(v.start, v.end, v.seconds) for v in w.covered.visits] == [
        (0.0, 300.0, 300.0),
        (400.0, 700.0, 300.0),
    ]


def test_drive_through_counts_time_but_not_a_visit() -> None:
    (w,) = one({"A": track((0, 40, 5, IN), (45, 300, 5, OUT))})
    assert w.covered.seconds == 40.0 and w.covered.visits == () and w.covered.drive_throughs == 1
    # One lone inside fix: a pass of 0 s.
    (w,) = one({"A": track((0, 95, 5, OUT), (100, 100, 5, IN), (105, 300, 5, OUT))})
    assert w.covered.seconds == 0.0 and w.covered.drive_throughs == 1
    # Exactly min_visit_s is a visit.
    (w,) = one({"A": track((0, 60, 5, IN), (65, 300, 5, OUT))})
    assert len(w.covered.visits) == 1 and w.covered.drive_throughs == 0


def test_window_edge_splits_a_visit() -> None:
    tr = {"A": track((0, 1800, 5, IN))}
    a, b = one(tr, [(0.0, 900.0), (900.0, HOUR)])
    assert a.covered.seconds == b.covered.seconds == 900.0
    assert a.covered.visits[0].end == 900.0 and b.covered.visits[0].start == 900.0
    assert a.met and b.met  # each part is a 15-minute visit in its window
    # Only the last 30 s fall into this window: a drive-through there.
    (c,) = one(tr, [(1770.0, HOUR)])
    assert c.covered.seconds == 30.0 and c.covered.visits == () and c.covered.drive_throughs == 1
    # A run ending exactly where the window opens adds nothing (half-open windows).
    (d,) = one(tr, [(1800.0, HOUR)])
    assert d.covered.seconds == 0.0 and d.covered.drive_throughs == 0


def test_several_units_union_not_sum() -> None:
    tracks = {"A": track((0, 900, 5, IN)), "B": track((600, 1500, 5, IN)), "C": ((), (), ())}
    (w,) = one(tracks)
    assert w.units["A"].seconds == w.units["B"].seconds == 900.0
    assert w.units["C"].seconds == 0.0 and w.units["C"].visits == ()
    assert w.covered.seconds == 1500.0
    assert [(v.start, v.end) for v in w.covered.visits] == [(0.0, 1500.0)]
    # Parked together: 900 s covered, not 1,800.
    (w,) = one({"A": track((0, 900, 5, IN)), "B": track((0, 900, 5, IN))})
    assert w.covered.seconds == 900.0
    # One unit leaving as another arrives 30 s later: one covered visit (merge gap).
    (w,) = one({"A": track((0, 400, 5, IN)), "B": track((430, 800, 5, IN))})
    assert len(w.covered.visits) == 1 and w.covered.seconds == 770.0


def test_dosage_target() -> None:
    twice = {"A": track((0, 900, 5, IN), (905, 1795, 5, OUT), (1800, 2700, 5, IN))}
    (w,) = one(twice, target=DosageTarget(visit_minutes=15, visits=2))
    assert w.qualifying_visits == 2 and w.met
    (w,) = one(twice, target=DosageTarget(visit_minutes=15, visits=3))
    assert not w.met
    (w,) = one(twice, target=DosageTarget(visit_minutes=16, visits=1))
    assert w.qualifying_visits == 0 and not w.met
    (w,) = one(twice, target=DosageTarget(visit_minutes=0, visits=0, total_minutes=30))
    assert w.met
    (w,) = one(twice, target=DosageTarget(visit_minutes=0, visits=0, total_minutes=31))
    assert not w.met
    (w,) = one({"A": track((0, 899, 1, IN))})  # default target: one visit of 15 min
    assert not w.met


def test_input_order_and_duplicate_timestamps() -> None:
    t, la, lo = track((0, 300, 5, IN), (305, 400, 5, OUT))
    # A duplicate timestamp with another position: the smallest (lat, lon) wins, whatever order.
    t = np.append(t, 300.0)
    la, lo = np.append(la, OUT[0]), np.append(lo, OUT[1])
    perm = np.random.default_rng(1).permutation(t.size)
    a = one({"A": (t, la, lo)})
    b = one({"A": (t[perm], la[perm], lo[perm])})
    assert a == b and a[0].covered.seconds == 300.0


def test_windows_as_datetimes_and_intervals() -> None:
    tr = {"A": track((0, 900, 5, IN))}
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    end = epoch + dt.timedelta(hours=1)
    by_dt = one(tr, [(epoch, end)])
    by_interval = one(tr, [Interval(epoch, end, HOUR, 0)])
    assert by_dt == by_interval == one(tr, [(0.0, HOUR)])


# --- Bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CircleArea(LAT, LON, 0.0), r"^radius_m: "),
        (lambda: CircleArea(LAT, LON, math.nan), r"^radius_m: "),
        (lambda: CircleArea(95.0, LON, 10.0), r"^area: "),
        (lambda: CellsArea(frozenset()), r"^cells: "),
        (lambda: CellsArea(frozenset({"nope"})), r"^cells: not valid"),
        (lambda: CellsArea("89283082837ffff"), r"^cells: "),
        (lambda: PolygonArea(Polygon()), r"^polygon: "),
        (lambda: PolygonArea(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])), r"^polygon: "),
        (lambda: PolygonArea(Polygon([(29, -98), (29, 200), (30, 200)])), r"^polygon: "),
        (lambda: DosageTarget(visit_minutes=-1), r"^visit_minutes: "),
        (lambda: DosageTarget(visits=-1), r"^visits: "),
        (lambda: DosageTarget(visits=0, total_minutes=0), r"^visits: "),
        (lambda: DosageTarget(total_minutes=math.inf), r"^total_minutes: "),
    ],
)
def test_bad_areas_and_targets(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


GOOD = track((0, 60, 5, IN))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tracks": {"A": (GOOD[0], GOOD[1])}}, r"^tracks\['A'\]: expected"),
        ({"tracks": {"A": (GOOD[0], GOOD[1][:-1], GOOD[2])}}, r"^tracks\['A'\]: t, lat and lon"),
        ({"tracks": {"A": (np.append(GOOD[0][:-1], np.nan), *GOOD[1:])}}, r"^tracks\['A'\]\.t: "),
        ({"tracks": {"A": (GOOD[0], GOOD[2], GOOD[1])}}, r"^tracks\['A'\]\.lat: "),
        ({"tracks": {"A": (GOOD[0], [["x"]] * 13, GOOD[2])}}, r"^tracks\['A'\]\.lat: "),
        ({"tracks": [GOOD]}, r"^tracks: "),
        ({"windows": [(10.0, 10.0)]}, r"^windows\[0\]: "),
        ({"windows": [(0.0, 1.0), (5.0,)]}, r"^windows\[1\]: "),
        ({"windows": [(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))]}, r"^windows\[0\]: "),  # noqa: DTZ001
        ({"area": (LAT, LON, 100)}, r"^area: "),
        ({"max_gap_s": 0}, r"^max_gap_s: "),
        ({"merge_gap_s": -1}, r"^merge_gap_s: "),
        ({"min_visit_s": math.nan}, r"^min_visit_s: "),
        ({"target": 15}, r"^target: "),
    ],
)
def test_bad_dosage_inputs_name_the_parameter(kwargs: dict, message: str) -> None:
    args = {"tracks": {"A": GOOD}, "area": AREA, "windows": [(0.0, HOUR)], **kwargs}
    with pytest.raises(ValueError, match=message):
        window_dosage(args.pop("tracks"), args.pop("area"), args.pop("windows"), **args)


# --- Properties ----------------------------------------------------------------------------


@st.composite
def unit_track(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 40))
    steps = draw(st.lists(st.integers(1, 200), min_size=n, max_size=n))
    flags = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    t = np.cumsum(np.array(steps, dtype=float)) + draw(st.integers(-500, 500))
    lat = np.where(flags, IN[0], OUT[0]).astype(float)
    lon = np.full(n, LON)
    return t, lat, lon


@settings(max_examples=80, deadline=None)
@given(
    tracks=st.dictionaries(st.sampled_from("ABC"), unit_track(), min_size=1, max_size=3),
    lo=st.integers(-600, 3000),
    length=st.integers(1, 6000),
    cut=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_dosage_properties(tracks: dict, lo: int, length: int, cut: float, seed: int) -> None:
    hi = lo + length
    mid = lo + max(1.0, cut * length) if length > 1 else hi
    whole, left, right = window_dosage(
        tracks, AREA, [(lo, hi), (lo, mid), (mid, hi)] if mid < hi else [(lo, hi)] * 3
    )
    per_unit = [p.seconds for p in whole.units.values()]
    assert 0.0 <= whole.covered.seconds <= length
    assert all(0.0 <= s <= length for s in per_unit)
    assert max(per_unit) <= whole.covered.seconds + 1e-9
    assert whole.covered.seconds <= sum(per_unit) + 1e-9
    assert all(v.seconds <= v.end - v.start + 1e-9 for v in whole.covered.visits)
    if mid < hi:  # time is additive over a split window; visits are not (they are split)
        assert left.covered.seconds + right.covered.seconds == pytest.approx(whole.covered.seconds)
    rng = np.random.default_rng(seed)
    shuffled = {}
    for unit, (t, la, lo_) in tracks.items():
        p = rng.permutation(t.size)
        shuffled[unit] = (t[p], la[p], lo_[p])
    assert window_dosage(shuffled, AREA, [(lo, hi)])[0] == whole
