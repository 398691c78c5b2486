"""Patrol dosage: how long, and in how many visits, assigned units were inside an area per window.

Conventions (all times are Unix epoch seconds; windows are half-open ``[start, end)``):

**Inside.** A fix is inside a ``CircleArea`` when its haversine distance to the centre is
``<= radius_m`` (the edge counts as inside); inside a ``PolygonArea`` (shapely, lon/lat) when it
lies in the polygon *or on its boundary*; inside a ``CellsArea`` when the H3 cell containing it, at
the resolution of any of the area's cells, is one of them (H3 gives every point exactly one cell
per resolution, so there is no boundary case to settle).

**Time.** A unit's fixes are sorted by time (fixes with the same timestamp: the one with the
smallest (lat, lon) is kept, so results never depend on input order). The time between two
consecutive fixes is credited as inside only when *both* fixes are inside and they are at most
``max_gap_s`` apart (default 120 s). A segment with one end outside is not credited at all, so a
visit is undercounted by at most one sampling interval at each end (5 s with 5-s fixes); a unit
whose tracker went silent for longer than ``max_gap_s`` is not credited for the silence, even
if it reappears in the same place.

**Presence runs.** Maximal chains of inside fixes joined by credited segments. A run's time is
``last - first`` fix; a lone inside fix is a run of 0 s (a pass, not time).

**Visits.** Runs separated by at most ``merge_gap_s`` (default 60 s, from the last inside fix of
one to the first of the next) are one visit - a car pulling out to turn round, or a GPS jitter
across the edge, has not left. A visit's time is the sum of its runs' time (the gaps between
them are not credited). A visit with less than ``min_visit_s`` (default 60 s) of time is a
*drive-through*: its time still counts towards time inside, but it is not a visit. Koper (1995)
contrasts drive-throughs with stops and found 10-16 minute stops far more effective, hence the
default dosage target of one visit of at least 15 minutes per window (``DosageTarget``).

**Windows.** Runs are clipped to each window before visits are formed, so a visit spanning a
window edge is split and each part is judged (visit or drive-through) on its own time in its
window. A run touching a window only at an instant adds nothing to it.

**Several units.** Per unit: its own time, visits and drive-throughs. For the area ("covered"):
the *union* of all units' clipped runs - two cars parked together for 15 minutes cover 15
minutes, not 30 - with visits formed on the union the same way. The dosage target is judged on
the union: ``met`` when at least ``target.visits`` covered visits lasted
``target.visit_minutes`` or more each and the covered time reached ``target.total_minutes``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from dispatch.geo import EARTH_RADIUS_M

__all__ = [
    "Area",
    "CellsArea",
    "CircleArea",
    "DosageTarget",
    "PolygonArea",
    "Presence",
    "Visit",
    "WindowDosage",
    "distance_m",
    "inside",
    "presence_runs",
    "window_dosage",
]

Track = tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]
"""(epoch seconds, latitude, longitude), three 1-D arrays of equal length."""


def _check_point(latitude: Any, longitude: Any, name: str) -> None:
    if not (isinstance(latitude, int | float) and isinstance(longitude, int | float)):
        raise ValueError(f"{name}: latitude/longitude must be numbers")
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise ValueError(f"{name}: latitude/longitude must be finite")
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError(f"{name}: ({latitude}, {longitude}) is not a WGS84 latitude/longitude")


@dataclass(frozen=True, slots=True)
class CircleArea:
    """A disc of ``radius_m`` metres around a point; the edge is inside."""

    latitude: float
    longitude: float
    radius_m: float

    def __post_init__(self) -> None:
        _check_point(self.latitude, self.longitude, "area")
        if not (isinstance(self.radius_m, int | float) and math.isfinite(self.radius_m)) or (
            self.radius_m <= 0
        ):
            raise ValueError(f"radius_m: expected a finite number > 0, got {self.radius_m!r}")


@dataclass(frozen=True, slots=True)
class CellsArea:
    """A set of H3 cells (any resolutions)."""

    cells: frozenset[str]

    def __post_init__(self) -> None:
        if isinstance(self.cells, str):
            raise ValueError("cells: expected a collection of H3 cell ids, got one string")
        cells = frozenset(self.cells)
        if not cells:
            raise ValueError("cells: need at least one H3 cell")
        bad = sorted(c for c in cells if not (isinstance(c, str) and h3.is_valid_cell(c)))
        if bad:
            raise ValueError(f"cells: not valid H3 cell ids: {bad[:3]!r}")
        object.__setattr__(self, "cells", cells)


@dataclass(frozen=True, slots=True)
class PolygonArea:
    """A shapely Polygon or MultiPolygon in (lon, lat); its boundary is inside."""

    polygon: BaseGeometry

    def __post_init__(self) -> None:
        geom = self.polygon
        if not isinstance(geom, BaseGeometry) or geom.geom_type not in (
            "Polygon",
            "MultiPolygon",
        ):
            raise ValueError(f"polygon: expected a shapely Polygon or MultiPolygon, got {geom!r}")
        if geom.is_empty or not geom.is_valid or geom.area <= 0:
            raise ValueError("polygon: must be a valid, non-empty polygon with an area")
        minx, miny, maxx, maxy = geom.bounds
        if not (minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90):
            raise ValueError("polygon: coordinates must be (longitude, latitude) in degrees")
        shapely.prepare(geom)  # speeds up every later intersects_xy call on the same geometry


Area = CircleArea | CellsArea | PolygonArea


def distance_m(
    latitude: npt.ArrayLike, longitude: npt.ArrayLike, lat0: float, lon0: float
) -> np.ndarray:
    """Haversine distance in metres from each point to (lat0, lon0); ``dispatch.geo`` formula."""
    p1 = np.radians(np.asarray(latitude, dtype=float))
    p0 = math.radians(lat0)
    dp = p1 - p0
    dl = np.radians(np.asarray(longitude, dtype=float) - lon0)
    a = np.sin(dp / 2) ** 2 + math.cos(p0) * np.cos(p1) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _inside_cells(area: CellsArea, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    out = np.zeros(lat.shape, dtype=bool)
    # h3 has no vectorised point lookup; skipping fixes outside the cells' bounding box (with a
    # margin for the slight bow of cell edges) saves most of the per-point calls on real tracks.
    vertices = np.array([v for c in area.cells for v in h3.cell_to_boundary(c)])
    lo_lat, hi_lat = vertices[:, 0].min(), vertices[:, 0].max()
    lo_lon, hi_lon = vertices[:, 1].min(), vertices[:, 1].max()
    margin = 0.1 * max(hi_lat - lo_lat, hi_lon - lo_lon, 1e-4)
    near = (lat >= lo_lat - margin) & (lat <= hi_lat + margin)
    if hi_lon - lo_lon < 180:  # cells straddling the antimeridian: test every fix
        near &= (lon >= lo_lon - margin) & (lon <= hi_lon + margin)
    idx = np.flatnonzero(near)
    if idx.size == 0:
        return out
    resolutions = sorted({h3.get_resolution(c) for c in area.cells})
    cells = area.cells
    lat_l, lon_l = lat[idx].tolist(), lon[idx].tolist()
    hit = np.zeros(idx.size, dtype=bool)
    for res in resolutions:
        hit |= np.fromiter(
            (h3.latlng_to_cell(a, b, res) in cells for a, b in zip(lat_l, lon_l, strict=True)),
            dtype=bool,
            count=idx.size,
        )
    out[idx] = hit
    return out


def inside(area: Area, latitude: npt.ArrayLike, longitude: npt.ArrayLike) -> np.ndarray:
    """Boolean mask: which points are inside ``area`` (boundary conventions in the module doc)."""
    lat = np.asarray(latitude, dtype=float)
    lon = np.asarray(longitude, dtype=float)
    if isinstance(area, CircleArea):
        return distance_m(lat, lon, area.latitude, area.longitude) <= area.radius_m
    if isinstance(area, PolygonArea):
        return shapely.intersects_xy(area.polygon, lon, lat)
    if isinstance(area, CellsArea):
        return _inside_cells(area, lat, lon)
    raise ValueError(f"area: expected a CircleArea, CellsArea or PolygonArea, got {area!r}")


def _track_arrays(track: Any, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        t_raw, lat_raw, lon_raw = track
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected (epoch_seconds, lat, lon) arrays") from exc
    arrays = []
    for label, raw in (("t", t_raw), ("lat", lat_raw), ("lon", lon_raw)):
        try:
            a = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}.{label}: expected numbers") from exc
        if a.ndim != 1:
            raise ValueError(f"{name}.{label}: expected a 1-D array, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}.{label}: every value must be finite")
        arrays.append(a)
    t, lat, lon = arrays
    if not (t.size == lat.size == lon.size):
        raise ValueError(
            f"{name}: t, lat and lon differ in length ({t.size}, {lat.size}, {lon.size})"
        )
    if lat.size and np.abs(lat).max() > 90:
        raise ValueError(f"{name}.lat: outside -90..90 degrees (lat and lon swapped?)")
    if lon.size and np.abs(lon).max() > 180:
        raise ValueError(f"{name}.lon: outside -180..180 degrees")
    return t, lat, lon


def _runs(
    ts: np.ndarray, lat: np.ndarray, lon: np.ndarray, area: Area, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray]:
    if ts.size == 0:
        return np.empty(0), np.empty(0)
    order = np.lexsort((lon, lat, ts))
    ts, lat, lon = ts[order], lat[order], lon[order]
    keep = np.ones(ts.size, dtype=bool)
    keep[1:] = ts[1:] != ts[:-1]
    ts, lat, lon = ts[keep], lat[keep], lon[keep]
    ins = inside(area, lat, lon)
    # link[i]: the segment from fix i to fix i + 1 is credited.
    link = ins[:-1] & ins[1:] & (np.diff(ts) <= max_gap_s)
    linked_before = np.concatenate(([False], link))
    linked_after = np.concatenate((link, [False]))
    return ts[ins & ~linked_before], ts[ins & ~linked_after]


def _check_max_gap(max_gap_s: float) -> None:
    if not (math.isfinite(max_gap_s) and max_gap_s > 0):
        raise ValueError(f"max_gap_s: expected a finite number > 0, got {max_gap_s!r}")


def presence_runs(
    t: npt.ArrayLike,
    latitude: npt.ArrayLike,
    longitude: npt.ArrayLike,
    area: Area,
    *,
    max_gap_s: float = 120.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) of one unit's presence runs, sorted and disjoint (see the module doc)."""
    _check_max_gap(max_gap_s)
    ts, lat, lon = _track_arrays((t, latitude, longitude), "track")
    return _runs(ts, lat, lon, area, max_gap_s)


@dataclass(frozen=True, slots=True)
class DosageTarget:
    """What a window needs: ``visits`` visits of ``visit_minutes`` each and ``total_minutes`` in all."""

    visit_minutes: float = 15.0
    visits: int = 1
    total_minutes: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.visit_minutes) and self.visit_minutes >= 0):
            raise ValueError(f"visit_minutes: expected a number >= 0, got {self.visit_minutes!r}")
        if isinstance(self.visits, bool) or not isinstance(self.visits, int) or self.visits < 0:
            raise ValueError(f"visits: expected an integer >= 0, got {self.visits!r}")
        if not (math.isfinite(self.total_minutes) and self.total_minutes >= 0):
            raise ValueError(f"total_minutes: expected a number >= 0, got {self.total_minutes!r}")
        # A target every window meets would report success for patrols that never happened.
        if self.visits == 0 and self.total_minutes == 0:
            raise ValueError("visits: need visits >= 1 or total_minutes > 0")


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit: first and last inside fix (epoch s) and the time credited inside."""

    start: float
    end: float
    seconds: float


@dataclass(frozen=True, slots=True)
class Presence:
    """Time inside, visits and drive-throughs within one window (one unit, or the union)."""

    seconds: float
    visits: tuple[Visit, ...]
    drive_throughs: int

    def qualifying(self, target: DosageTarget) -> int:
        """Visits long enough to count towards ``target``."""
        return sum(v.seconds >= target.visit_minutes * 60 for v in self.visits)


@dataclass(frozen=True, slots=True)
class WindowDosage:
    """One window's dosage: the area's covered figures (union), per-unit figures, the verdict."""

    start: float
    end: float
    covered: Presence
    units: dict[Hashable, Presence]
    qualifying_visits: int
    met: bool


def _presence(
    starts: np.ndarray, ends: np.ndarray, merge_gap_s: float, min_visit_s: float
) -> Presence:
    """Visits from sorted, disjoint runs (zero-length runs allowed)."""
    if starts.size == 0:
        return Presence(0.0, (), 0)
    lengths = ends - starts
    new_visit = np.concatenate(([True], starts[1:] - ends[:-1] > merge_gap_s))
    first = np.flatnonzero(new_visit)
    last = np.concatenate((first[1:], [starts.size])) - 1
    seconds = np.add.reduceat(lengths, first)
    is_visit = seconds >= min_visit_s
    visits = tuple(
        Visit(float(s), float(e), float(x))
        for s, e, x in zip(
            starts[first][is_visit], ends[last][is_visit], seconds[is_visit], strict=True
        )
    )
    return Presence(float(lengths.sum()), visits, int((~is_visit).sum()))


def _clip(
    starts: np.ndarray, ends: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    # Runs are sorted and disjoint, so ends are sorted too: slice to the candidates first.
    a = int(np.searchsorted(ends, lo, side="left"))
    b = int(np.searchsorted(starts, hi, side="left"))
    s, e = starts[a:b], ends[a:b]
    cs, ce = np.maximum(s, lo), np.minimum(e, hi)
    keep = (cs < ce) | ((s == e) & (s >= lo))
    return cs[keep], ce[keep]


def _union(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals (touching ones merge), as sorted, disjoint runs."""
    if starts.size == 0:
        return starts, ends
    order = np.lexsort((ends, starts))
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.concatenate(([True], s[1:] > reach[:-1]))
    first = np.flatnonzero(new)
    last = np.concatenate((first[1:], [s.size])) - 1
    return s[first], reach[last]


def _window_bounds(window: Any, index: int) -> tuple[float, float]:
    if hasattr(window, "epoch"):  # schedule.Interval
        lo, hi = window.epoch
    else:
        try:
            lo, hi = window
        except (TypeError, ValueError) as exc:
            raise ValueError(f"windows[{index}]: expected (start, end)") from exc
        if isinstance(lo, dt.datetime) and isinstance(hi, dt.datetime):
            if lo.tzinfo is None or hi.tzinfo is None:
                raise ValueError(f"windows[{index}]: datetimes must be aware")
            lo, hi = lo.timestamp(), hi.timestamp()
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"windows[{index}]: expected epoch seconds or aware datetimes") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"windows[{index}]: need finite start < end, got ({lo}, {hi})")
    return lo, hi


def window_dosage(
    tracks: Mapping[Hashable, Track],
    area: Area,
    windows: Sequence[Any],
    *,
    target: DosageTarget | None = None,
    max_gap_s: float = 120.0,
    merge_gap_s: float = 60.0,
    min_visit_s: float = 60.0,
) -> list[WindowDosage]:
    """Dosage per window, in the order given; conventions in the module docstring.

    ``tracks`` maps a unit key to its breadcrumbs ``(epoch_seconds, lat, lon)`` (any order, any
    sampling; an empty track is a unit that never reported). ``windows`` are ``(start, end)``
    pairs of epoch seconds or aware datetimes, or ``schedule.Interval``s.
    """
    target = DosageTarget() if target is None else target
    if not isinstance(target, DosageTarget):
        raise ValueError(f"target: expected a DosageTarget, got {target!r}")
    if not isinstance(area, CircleArea | CellsArea | PolygonArea):
        raise ValueError(f"area: expected a CircleArea, CellsArea or PolygonArea, got {area!r}")
    _check_max_gap(max_gap_s)
    if not (math.isfinite(merge_gap_s) and merge_gap_s >= 0):
        raise ValueError(f"merge_gap_s: expected a finite number >= 0, got {merge_gap_s!r}")
    if not (math.isfinite(min_visit_s) and min_visit_s >= 0):
        raise ValueError(f"min_visit_s: expected a finite number >= 0, got {min_visit_s!r}")
    if not isinstance(tracks, Mapping):
        raise ValueError("tracks: expected a mapping of unit -> (epoch_seconds, lat, lon)")
    bounds = [_window_bounds(w, i) for i, w in enumerate(windows)]
    runs: dict[Hashable, tuple[np.ndarray, np.ndarray]] = {}
    for unit, track in tracks.items():
        t, lat, lon = _track_arrays(track, f"tracks[{unit!r}]")
        runs[unit] = _runs(t, lat, lon, area, max_gap_s)

    out: list[WindowDosage] = []
    for lo, hi in bounds:
        per_unit: dict[Hashable, Presence] = {}
        pieces_s: list[np.ndarray] = []
        pieces_e: list[np.ndarray] = []
        for unit, (starts, ends) in runs.items():
            cs, ce = _clip(starts, ends, lo, hi)
            per_unit[unit] = _presence(cs, ce, merge_gap_s, min_visit_s)
            pieces_s.append(cs)
            pieces_e.append(ce)
        all_s = np.concatenate(pieces_s) if pieces_s else np.empty(0)
        all_e = np.concatenate(pieces_e) if pieces_e else np.empty(0)
        covered = _presence(*_union(all_s, all_e), merge_gap_s, min_visit_s)
        qualifying = covered.qualifying(target)
        met = qualifying >= target.visits and covered.seconds >= target.total_minutes * 60
        out.append(WindowDosage(lo, hi, covered, per_unit, qualifying, met))
    return out
