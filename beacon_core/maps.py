"""The map settings every page with a Leaflet map starts from."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def map_config() -> dict[str, Any]:
    """Start view and tile URL from ``LEAFLET_CONFIG``; no tile URL means a plain background
    (offline or air-gapped), on which every marker and area still draws."""
    leaflet = settings.LEAFLET_CONFIG
    tiles = leaflet.get("TILES")
    return {
        "center": list(leaflet.get("DEFAULT_CENTER", (0, 0))),
        "zoom": leaflet.get("DEFAULT_ZOOM", 12),
        "tiles": tiles if isinstance(tiles, str) and tiles else None,
    }
