"""Intelligence flags at call intake and areas on the live map: accepted problem locations,
hotspots and live near-repeat risk zones.

Registered with ``dispatch.context`` at start-up (dispatch never imports
intelligence). Only *accepted* findings are shown: a flag a dispatcher acts on
has been reviewed by a person, as the human-review rule requires. The flag
states the pattern in plain words; the finding itself stays behind the
``finding`` category for roles that may open it.
"""

from __future__ import annotations

from typing import Any

import h3

from dispatch.context import ContextFlag
from governance.access import can
from governance.choices import Action, Category
from intelligence.choices import FindingKind
from intelligence.live_zones import circle_ring, live_risk_zones, zones_containing
from intelligence.permissions import intake_findings

HOTSPOT_RESOLUTION = 9  # the resolution the hotspot runner works on (calls' h3_r9)


def _finding_url(finding_id: int, show: bool) -> str:
    return f"/patterns/findings/{finding_id}/" if show else ""


def intelligence_flags(
    user: Any, location: Any, latitude: float | None, longitude: float | None
) -> list[ContextFlag]:
    """Accepted repeat-location findings for this place, and accepted hotspots containing the point."""
    if not can(user, Action.VIEW, Category.CALL):
        return []
    accepted = intake_findings(user)
    show_link = can(user, Action.VIEW, Category.FINDING)
    flags: list[ContextFlag] = []
    if location is not None:
        for finding in accepted.filter(kind=FindingKind.REPEAT_LOCATION, location=location)[:3]:
            flags.append(
                ContextFlag(
                    kind="problem_location",
                    label="Flagged problem location",
                    detail=finding.explanation[:300],
                    url=_finding_url(finding.pk, show_link),
                )
            )
    if latitude is not None and longitude is not None:
        cell = h3.latlng_to_cell(latitude, longitude, HOTSPOT_RESOLUTION)
        # Accepted hotspots are few (each needed a supervisor's decision): a scan is cheap.
        for finding in accepted.filter(kind=FindingKind.HOTSPOT).only("pk", "cells", "explanation")[
            :200
        ]:
            if cell in (finding.cells or []):
                flags.append(
                    ContextFlag(
                        kind="hotspot",
                        label="Inside an accepted hotspot",
                        detail=finding.explanation[:300],
                        url=_finding_url(finding.pk, show_link),
                    )
                )
        for zone in zones_containing(live_risk_zones(user), latitude, longitude)[:3]:
            flags.append(
                ContextFlag(
                    kind="near_repeat",
                    label=f"Near-repeat risk ({zone.category})",
                    detail=(
                        f"Within {zone.radius_m:g} m of {zone.call_type} call {zone.call_number} "
                        f"received {zone.received_at:%Y-%m-%d %H:%M} UTC; the accepted "
                        f"near-repeat pattern puts this area at raised risk until "
                        f"{zone.expires_at:%Y-%m-%d %H:%M} UTC."
                    ),
                    url=_finding_url(zone.finding_id, show_link),
                )
            )
    return flags


def accepted_hotspot_areas(user: Any) -> list[dict[str, Any]]:
    """Outlines of accepted hotspots for the live map (cells merged into one or more rings)."""
    if not can(user, Action.VIEW, Category.CALL):
        return []
    accepted = intake_findings(user).filter(kind=FindingKind.HOTSPOT)
    areas = []
    for finding in accepted.only("pk", "cells", "explanation")[:200]:
        cells = [c for c in (finding.cells or []) if h3.is_valid_cell(c)]
        if not cells:
            continue
        shape = h3.cells_to_h3shape(cells)
        polygons = shape.polys if hasattr(shape, "polys") else [shape]
        rings = [[list(point) for point in poly.outer] for poly in polygons]
        areas.append(
            {
                "kind": "hotspot",
                "label": "Accepted hotspot",
                "detail": finding.explanation[:300],
                "rings": rings,
            }
        )
    return areas


def near_repeat_zone_areas(user: Any) -> list[dict[str, Any]]:
    """Live near-repeat risk zones for the live map, one circle per recent call."""
    return [
        {
            "kind": "near_repeat",
            "label": f"Near-repeat risk ({zone.category})",
            "detail": (
                f"{zone.radius_m:g} m around {zone.call_type} call {zone.call_number} until "
                f"{zone.expires_at:%Y-%m-%d %H:%M} UTC"
            ),
            "rings": [circle_ring(zone.latitude, zone.longitude, zone.radius_m)],
        }
        for zone in live_risk_zones(user)
    ]


def alert_finding_action(user: Any, alert: Any) -> list[dict[str, str]]:
    """The alert page's "Propose a finding" button, for those who may propose one."""
    from django.urls import reverse

    from intelligence.permissions import can_propose_from_alert

    if not can_propose_from_alert(user) or alert.cancelled_at is not None:
        return []
    return [
        {
            "label": "Propose a finding from this alert",
            "url": reverse("finding-from-alert", kwargs={"alert_id": alert.pk}),
        }
    ]
