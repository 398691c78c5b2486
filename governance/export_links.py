"""The Export form on the pages: which files the user may take from here (EXPORT on the category).

Here rather than in ``exports`` because the pages of every app show it, and dispatch may import
governance but no app above it (the export endpoints themselves read every domain).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from governance.access import can
from governance.choices import Action, Category

# url name -> (button label, category whose EXPORT right the endpoint asks for)
TARGETS: dict[str, tuple[str, str]] = {
    "export-calls-csv": ("Calls (CSV)", Category.CALL),
    "export-calls-geojson": ("Calls (GeoJSON)", Category.CALL),
    "export-locations-geojson": ("Places (GeoJSON)", Category.LOCATION),
    "export-findings-csv": ("Findings (CSV)", Category.FINDING),
    "export-findings-geojson": ("Findings (GeoJSON)", Category.FINDING),
    "export-hotspots-geojson": ("Hotspots (GeoJSON)", Category.FINDING),
    "export-assignment-areas-geojson": ("Assignment areas (GeoJSON)", Category.ASSIGNMENT),
}


def export_buttons(user: Any, names: list[str]) -> list[dict[str, str]]:
    """The buttons of the page's Export form the user may use (an empty list hides the form)."""
    return [
        {"label": TARGETS[name][0], "url": reverse(name)}
        for name in names
        if can(user, Action.EXPORT, TARGETS[name][1])
    ]
