"""Shapes of alert areas: H3 cover for indexing, exact point tests, rings for the map."""

from __future__ import annotations

import math
from typing import Any

import h3
from shapely.geometry import Point, Polygon

KM_PER_DEG_LAT = 111.32
# Cells per area and resolution beyond which an area is left uncovered (checked by shape).
MAX_CELLS = 20_000
RESOLUTIONS = (7, 9)


def circle_ring(lat: float, lon: float, radius_km: float, points: int = 32) -> list[list[float]]:
    """A closed [lat, lon] ring around a circle (circumscribed, so it covers the whole circle)."""
    r = radius_km / math.cos(math.pi / points)
    dlat = r / KM_PER_DEG_LAT
    dlon = r / (KM_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
    ring = [
        [
            round(max(-90.0, min(90.0, lat + dlat * math.sin(2 * math.pi * k / points))), 6),
            round(lon + dlon * math.cos(2 * math.pi * k / points), 6),
        ]
        for k in range(points)
    ]
    return [*ring, ring[0]]


def rings(polygons: list[Any], circles: list[Any]) -> list[list[list[float]]]:
    """Every shape of an area as a [lat, lon] ring (what the Leaflet map draws)."""
    return [list(p) for p in polygons] + [circle_ring(*c) for c in circles]


def _area_km2(ring: list[list[float]]) -> float:
    poly = Polygon([(lon, lat) for lat, lon in ring])
    lat0 = poly.centroid.y if not poly.is_empty else 0.0
    return abs(poly.area) * KM_PER_DEG_LAT**2 * max(math.cos(math.radians(lat0)), 1e-6)


def cover(polygons: list[Any], circles: list[Any]) -> dict[int, set[str]] | None:
    """H3 cells at res 7 and 9 overlapping the area, or None when there are too many."""
    shapes = rings(polygons, circles)
    if not shapes:
        return {}
    out: dict[int, set[str]] = {}
    total_km2 = sum(_area_km2(r) for r in shapes)
    for res in RESOLUTIONS:
        estimate = total_km2 / h3.average_hexagon_area(res, unit="km^2")
        if estimate > MAX_CELLS:
            if res == RESOLUTIONS[0]:
                return None
            continue  # too fine for this area: the coarser cover alone indexes it
        cells: set[str] = set()
        for ring in shapes:
            shape = h3.LatLngPoly([tuple(p) for p in ring[:-1]])
            cells.update(h3.h3shape_to_cells_experimental(shape, res, contain="overlap"))
        out[res] = cells
    return out


def _km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return h3.great_circle_distance((lat1, lon1), (lat2, lon2), unit="km")


def contains(polygons: list[Any], circles: list[Any], lat: float, lon: float) -> bool:
    """True when (lat, lon) lies in one of the polygons or circles (edges included)."""
    point = Point(lon, lat)
    for ring in polygons:
        poly = Polygon([(p[1], p[0]) for p in ring])
        if poly.is_valid and poly.covers(point):
            return True
        if not poly.is_valid and poly.buffer(0).covers(point):
            return True
    return any(_km_between(c[0], c[1], lat, lon) <= c[2] for c in circles)
