"""RFC 7946 geometries from what Beacon stores: points, H3 cells, circles and [lat, lon] polygons.

Everything here returns GeoJSON geometry mappings in [longitude, latitude] order with closed,
counter-clockwise exterior rings (RFC 7946 §3.1.6), which QGIS and geojson.io open as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import h3
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

# A circle is exported as a regular polygon with this many vertices: about 0.5 % short of the
# true area, far below the precision of a patrol area, and small enough for any viewer.
CIRCLE_VERTICES = 64
EARTH_RADIUS_M = 6_371_008.8


def point(latitude: float | None, longitude: float | None) -> dict[str, Any] | None:
    """A Point, or None (a feature without geometry) when the place has no coordinates."""
    if latitude is None or longitude is None:
        return None
    return {"type": "Point", "coordinates": [float(longitude), float(latitude)]}


def _ccw(geom: BaseGeometry) -> BaseGeometry:
    """Exterior rings counter-clockwise, holes clockwise (shapely's sign=1.0)."""
    if isinstance(geom, Polygon):
        return orient(geom, sign=1.0)
    if isinstance(geom, MultiPolygon):
        return MultiPolygon([orient(p, sign=1.0) for p in geom.geoms])
    return geom


def _as_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """shapely's mapping with lists instead of tuples (plain JSON)."""
    data = mapping(_ccw(geom))
    return json_ready(data)


def json_ready(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value


def cells(cell_ids: Iterable[str]) -> dict[str, Any] | None:
    """The outline of a set of H3 cells: one Polygon, or a MultiPolygon for separate groups."""
    valid = [c for c in cell_ids if isinstance(c, str) and h3.is_valid_cell(c)]
    if not valid:
        return None
    # h3's __geo_interface__ is already [lon, lat]; neighbouring cells are merged into one outline.
    return _as_geojson(shape(h3.cells_to_h3shape(valid).__geo_interface__))


def circle(latitude: float, longitude: float, radius_m: float) -> dict[str, Any]:
    """A circle on the ground as a CIRCLE_VERTICES-sided polygon (spherical destination points)."""
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    d = float(radius_m) / EARTH_RADIUS_M
    ring: list[tuple[float, float]] = []
    for i in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * i / CIRCLE_VERTICES
        lat2 = math.asin(
            math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(bearing)
        )
        lon2 = lon1 + math.atan2(
            math.sin(bearing) * math.sin(d) * math.cos(lat1),
            math.cos(d) - math.sin(lat1) * math.sin(lat2),
        )
        ring.append((math.degrees(lon2), math.degrees(lat2)))
    return _as_geojson(Polygon(ring))


def lat_lon_polygon(points: Sequence[Sequence[float]]) -> dict[str, Any] | None:
    """A polygon stored as [latitude, longitude] points, swapped to [lon, lat] and closed."""
    ring = [(float(p[1]), float(p[0])) for p in points if len(p) >= 2]
    if len(ring) < 3:
        return None
    return _as_geojson(Polygon(ring))


def assignment_area(area: dict[str, Any]) -> dict[str, Any] | None:
    """An assignment's area (circle, cells or polygon) as a GeoJSON geometry."""
    kind = area.get("type")
    if kind == "circle":
        return circle(area["latitude"], area["longitude"], area["radius_m"])
    if kind == "cells":
        return cells(area.get("cells", []))
    if kind == "polygon":
        return lat_lon_polygon(area.get("points", []))
    return None
