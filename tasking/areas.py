"""An assignment's area for people: shapes for the Leaflet map and words for paper."""

from __future__ import annotations

from typing import Any

import h3

MAX_CELLS_LISTED = 12


def area_shapes(area: dict[str, Any]) -> dict[str, Any]:
    """What ``tasking-map.js`` draws: a circle, H3 cell outlines or a polygon, all [lat, lon]."""
    kind = area.get("type")
    if kind == "circle":
        return {
            "circle": [area["latitude"], area["longitude"], area["radius_m"]],
            "polygons": [],
        }
    if kind == "cells":
        # Outlines are computed here so the page needs no H3 library in the browser.
        rings = [[list(p) for p in h3.cell_to_boundary(c)] for c in area.get("cells", [])]
        return {"circle": None, "polygons": rings}
    if kind == "polygon":
        return {"circle": None, "polygons": [area.get("points", [])]}
    return {"circle": None, "polygons": []}


def area_text(area: dict[str, Any]) -> str:
    """The area in words and coordinates, for print where a map is not reliable."""
    kind = area.get("type")
    if kind == "circle":
        return f"Within {area['radius_m']:.0f} m of {area['latitude']:.5f}, {area['longitude']:.5f}"
    if kind == "cells":
        cells = list(area.get("cells", []))
        centres = [h3.cell_to_latlng(c) for c in cells[:MAX_CELLS_LISTED]]
        listed = "; ".join(f"{lat:.5f}, {lon:.5f}" for lat, lon in centres)
        more = f" (+{len(cells) - MAX_CELLS_LISTED} more)" if len(cells) > MAX_CELLS_LISTED else ""
        return f"{len(cells)} H3 cell(s) centred at {listed}{more}"
    if kind == "polygon":
        points = area.get("points", [])
        corners = "; ".join(f"{lat:.5f}, {lon:.5f}" for lat, lon in points)
        return f"Polygon with corners {corners}"
    return "Unknown area"
