"""Console knobs (status-age thresholds, context radius, duplicate window).

Defaults live here; the admin-editable values come from ``DispatchSettings``
(one row, pk=1), read fresh on each request (no per-process cache, so
every ASGI process sees an admin's change at once).
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "context_radius_m": 250.0,
    "duplicate_radius_m": 150.0,
    "duplicate_window_min": 30,
    # seconds in a status before the board shows amber / red
    "status_thresholds": {
        "dispatched": [120, 300],
        "en_route": [600, 1200],
        "on_scene": [1800, 3600],
        "out_of_service": [3600, 7200],
    },
    "pending_thresholds": {
        "1": [60, 180],
        "2": [180, 600],
        "3": [600, 1200],
        "4": [1200, 2400],
        "5": [1800, 3600],
    },
}


def console_settings() -> dict[str, Any]:
    """The console's current settings (defaults overlaid with the admin-edited row, if any)."""
    values = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    from dispatch.models import DispatchSettings

    row = DispatchSettings.objects.filter(pk=1).first()
    if row is not None:
        values.update(row.as_dict())
    return values
