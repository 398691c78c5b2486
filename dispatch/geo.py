"""Point helpers: validation, H3 cells and straight-line distance. Pure, no Django."""

from __future__ import annotations

import math

import h3

H3_RESOLUTIONS = (7, 9, 11)
EARTH_RADIUS_M = 6_371_008.8


def valid_point(latitude: float | None, longitude: float | None) -> bool:
    """True for a finite WGS84 point that is not the (0, 0) placeholder of bad geocoders."""
    if latitude is None or longitude is None:
        return False
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return False
    return not (abs(lat) < 1e-9 and abs(lon) < 1e-9)


def h3_cells(latitude: float | None, longitude: float | None) -> dict[str, str]:
    """The point's H3 cells as ``{"h3_r7": ..., "h3_r9": ..., "h3_r11": ...}`` (empty strings if no point)."""
    if not valid_point(latitude, longitude):
        return {f"h3_r{res}": "" for res in H3_RESOLUTIONS}
    return {f"h3_r{res}": h3.latlng_to_cell(latitude, longitude, res) for res in H3_RESOLUTIONS}


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (straight-line) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def cells_within(
    latitude: float, longitude: float, radius_m: float, resolution: int = 9
) -> list[str]:
    """H3 cells at ``resolution`` that cover a disc of ``radius_m`` around the point."""
    centre = h3.latlng_to_cell(latitude, longitude, resolution)
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    k = max(1, math.ceil(radius_m / (edge * 1.5)) + 1)
    return list(h3.grid_disk(centre, k))
