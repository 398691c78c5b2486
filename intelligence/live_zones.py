"""Live near-repeat risk zones: around each recent call of a category whose near-repeat pattern
a supervisor accepted.

The near-repeat analysis (Knox test) says *whether* a category's events cluster in space and
time, and how far and how long; it runs on a schedule. The zones themselves must follow the
calls as they come in: a burglary logged at 02:10 puts its neighbours at risk from 02:10, not
from the next nightly run. So the zones are computed here, on read, from the accepted finding's
parameters (call types, radius, lifetime) and the calls of the last ``zone_days``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dispatch.geo import haversine_m
from dispatch.models import Call
from governance.access import can
from governance.choices import Action, Category
from intelligence.choices import FindingKind
from intelligence.permissions import intake_findings

MAX_ZONES = 300
EARTH_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True, slots=True)
class RiskZone:
    """A circle of risk around one recent call, until ``expires_at``."""

    finding_id: int
    category: str
    call_number: str
    call_type: str
    latitude: float
    longitude: float
    radius_m: float
    received_at: dt.datetime
    expires_at: dt.datetime


def live_risk_zones(user: Any, *, now: dt.datetime | None = None) -> list[RiskZone]:
    """Zones the user may see: accepted near-repeat patterns of agencies whose calls they see."""
    if not can(user, Action.VIEW, Category.CALL):
        return []
    now = now or timezone.now()
    patterns = intake_findings(user).filter(kind=FindingKind.NEAR_REPEAT).order_by("pk")
    zones: list[RiskZone] = []
    for pattern in patterns[:20]:
        stats = pattern.statistics or {}
        radius = float(stats.get("zone_radius_m") or 0)
        days = float(stats.get("zone_days") or 0)
        codes = list(stats.get("call_types") or [])
        if radius <= 0 or days <= 0 or not codes:
            continue
        lifetime = dt.timedelta(days=days)
        recent = Call.objects.filter(
            agency_id=pattern.agency_id,
            call_type__code__in=codes,
            received_at__gt=now - lifetime,
            received_at__lte=now,
            latitude__isnull=False,
            longitude__isnull=False,
        ).order_by("-received_at")
        for number, code, lat, lon, received in recent.values_list(
            "number", "call_type__code", "latitude", "longitude", "received_at"
        )[: MAX_ZONES - len(zones)]:
            zones.append(
                RiskZone(
                    finding_id=pattern.pk,
                    category=str(stats.get("category") or "near repeat"),
                    call_number=number,
                    call_type=code,
                    latitude=lat,
                    longitude=lon,
                    radius_m=radius,
                    received_at=received,
                    expires_at=received + lifetime,
                )
            )
    return zones


def zones_containing(zones: list[RiskZone], latitude: float, longitude: float) -> list[RiskZone]:
    """The zones a point lies in (distance to the zone's call below its radius)."""
    return [
        z for z in zones if haversine_m(latitude, longitude, z.latitude, z.longitude) < z.radius_m
    ]


def circle_ring(latitude: float, longitude: float, radius_m: float, points: int = 24) -> list:
    """A closed [lat, lon] ring approximating a circle (maps take polygons, not circles)."""
    dlat = radius_m / EARTH_M_PER_DEG_LAT
    dlon = radius_m / (EARTH_M_PER_DEG_LAT * max(math.cos(math.radians(latitude)), 1e-6))
    ring = [
        [
            round(latitude + dlat * math.sin(2 * math.pi * k / points), 6),
            round(longitude + dlon * math.cos(2 * math.pi * k / points), 6),
        ]
        for k in range(points)
    ]
    return [*ring, ring[0]]
