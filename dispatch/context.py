"""What a dispatcher sees the moment a location is set: history, hazards, people, flags, duplicates.

Reads only, through the access-filtered querysets of :mod:`dispatch.permissions`.
``intelligence`` and ``tasking`` add flags (problem location, active hotspot,
assignment area) by registering a *context provider* at start-up; dispatch
never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from dispatch.addressing import AddressError, normalize_address, normalize_locality
from dispatch.choices import OPEN_CALL_STATUSES, UnitStatus
from dispatch.geo import cells_within, haversine_m, valid_point
from dispatch.models import Call, Involvement, Location
from dispatch.permissions import (
    calls_visible_to,
    premise_notes_visible_to,
    units_visible_to,
)
from dispatch.selectors import call_counts
from governance.access import can
from governance.choices import Action, Category

DEFAULT_RADIUS_M = 250.0
DEFAULT_DUPLICATE_RADIUS_M = 150.0
DEFAULT_DUPLICATE_WINDOW_MIN = 30


@dataclass(frozen=True, slots=True)
class ContextFlag:
    """A flag another app raises about a place (e.g. "flagged problem location")."""

    kind: str
    label: str
    detail: str = ""
    url: str = ""


ContextProvider = Callable[[Any, Location | None, float | None, float | None], list[ContextFlag]]
_providers: list[ContextProvider] = []


MapAreaProvider = Callable[[Any], list[dict[str, Any]]]
_map_area_providers: list[MapAreaProvider] = []


def register_map_area_provider(provider: MapAreaProvider) -> None:
    """Other apps add areas (accepted hotspots, assignment areas) to the live map.

    A provider takes the user and returns ``{"kind", "label", "detail", "rings"}`` dicts,
    ``rings`` being lists of ``[lat, lon]`` points; it applies its own access rules.
    """
    if provider not in _map_area_providers:
        _map_area_providers.append(provider)


def map_areas(*, user: Any) -> list[dict[str, Any]]:
    """Every registered provider's areas for this user."""
    return [area for provider in _map_area_providers for area in provider(user)]


def register_context_provider(provider: ContextProvider) -> None:
    """Called by other apps' ``AppConfig.ready``; providers must apply their own access rules."""
    if provider not in _providers:
        _providers.append(provider)


@dataclass
class IntakeContext:
    """Everything the intake panel renders for one place."""

    location: Location | None
    latitude: float | None
    longitude: float | None
    counts: dict[str, int] = field(default_factory=dict)
    recent: list[Call] = field(default_factory=list)
    nearby_counts: dict[str, int] = field(default_factory=dict)
    nearby_recent: list[Call] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    flags: list[ContextFlag] = field(default_factory=list)
    duplicates: list[Call] = field(default_factory=list)
    radius_m: float = DEFAULT_RADIUS_M


def location_lookup(*, address: str, locality: str = "") -> Location | None:
    """The existing Location for an address (never creates one), or None."""
    try:
        key = normalize_address(address).key
    except AddressError:
        return None
    loc_key = normalize_locality(locality)
    found = Location.objects.filter(address_key=key, locality=loc_key).first()
    if found is None and not loc_key:
        found = Location.objects.filter(address_key=key).order_by("id").first()
    return found


def location_suggest(*, query: str, limit: int = 8) -> list[Location]:
    """Known locations matching what the dispatcher has typed so far (normalised, prefix first)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    try:
        key = normalize_address(query).key
    except AddressError:
        key = query.upper()
    exact = list(Location.objects.filter(address_key=key)[:limit])
    seen = {loc.pk for loc in exact}
    prefix = Location.objects.filter(
        Q(address_key__startswith=key) | Q(address_key__startswith=query.upper())
    )
    more = list(prefix.exclude(pk__in=seen).order_by("address_key")[: limit - len(exact)])
    if len(exact) + len(more) < limit and " " in query.strip():
        # "main st" should find "123 N MAIN ST": fall back to a contains match on the street words.
        words = key.split()
        tail = " ".join(words[-2:]) if len(words) >= 2 else key
        seen |= {loc.pk for loc in more}
        more += list(
            Location.objects.filter(address_key__contains=tail)
            .exclude(pk__in=seen)
            .order_by("address_key")[: limit - len(exact) - len(more)]
        )
    return exact + more


def calls_near(
    *,
    user: Any,
    latitude: float,
    longitude: float,
    radius_m: float,
    since: dt.datetime | None = None,
) -> Any:
    """Calls within ``radius_m`` of a point (H3 cell prefilter, exact distance done by the caller)."""
    cells = cells_within(latitude, longitude, radius_m, resolution=9)
    qs = calls_visible_to(user).filter(h3_r9__in=cells)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    return qs


def _within(calls: list[Call], lat: float, lon: float, radius_m: float) -> list[Call]:
    return [
        c
        for c in calls
        if c.latitude is not None and haversine_m(lat, lon, c.latitude, c.longitude) <= radius_m
    ]


def intake_context(
    *,
    user: Any,
    location: Location | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    call_type_category: str | None = None,
    exclude_call_id: int | None = None,
    radius_m: float = DEFAULT_RADIUS_M,
    duplicate_radius_m: float = DEFAULT_DUPLICATE_RADIUS_M,
    duplicate_window_min: int = DEFAULT_DUPLICATE_WINDOW_MIN,
    now: dt.datetime | None = None,
    recent_limit: int = 10,
) -> IntakeContext:
    """Assemble the intake panel for a place: prior calls here and nearby, notes, people, flags, duplicates."""
    now = now or timezone.now()
    if latitude is None and location is not None:
        latitude, longitude = location.latitude, location.longitude
    has_point = valid_point(latitude, longitude)
    ctx = IntakeContext(
        location=location, latitude=latitude, longitude=longitude, radius_m=radius_m
    )
    since_90d = now - dt.timedelta(days=90)

    if location is not None:
        here = calls_visible_to(user).filter(location=location)
        if exclude_call_id:
            here = here.exclude(pk=exclude_call_id)
        ctx.counts = call_counts(here, now)
        ctx.recent = list(
            here.select_related("call_type", "disposition").order_by("-received_at")[:recent_limit]
        )
        ctx.notes = list(
            premise_notes_visible_to(user)
            .filter(location=location)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .order_by("-kind", "-created_at")
        )
        ctx.persons, ctx.vehicles = _entities_at(user, location)
        if can(user, Action.VIEW, Category.FIELD_OBSERVATION):
            from dispatch.permissions import observations_visible_to

            ctx.observations = list(
                observations_visible_to(user)
                .filter(location=location, observed_at__gte=since_90d)
                .select_related("reported_by")
                .order_by("-observed_at")[:recent_limit]
            )

    if has_point and latitude is not None and longitude is not None:
        near = list(
            calls_near(
                user=user,
                latitude=latitude,
                longitude=longitude,
                radius_m=radius_m,
                since=since_90d,
            )
            .select_related("call_type", "disposition", "location")
            .order_by("-received_at")[:2000]
        )
        near = _within(near, latitude, longitude, radius_m)
        if exclude_call_id:
            near = [c for c in near if c.pk != exclude_call_id]
        ctx.nearby_counts = {
            "last_24h": sum(c.received_at >= now - dt.timedelta(hours=24) for c in near),
            "last_7d": sum(c.received_at >= now - dt.timedelta(days=7) for c in near),
            "last_90d": len(near),
        }
        ctx.nearby_recent = near[:recent_limit]
    ctx.duplicates = possible_duplicates(
        user=user,
        latitude=latitude if has_point else None,
        longitude=longitude if has_point else None,
        location=location,
        call_type_category=call_type_category,
        radius_m=duplicate_radius_m,
        window_min=duplicate_window_min,
        now=now,
        exclude_call_id=exclude_call_id,
    )

    for provider in _providers:
        ctx.flags.extend(provider(user, location, latitude, longitude))
    return ctx


def possible_duplicates(
    *,
    user: Any,
    latitude: float | None,
    longitude: float | None,
    location: Location | None,
    call_type_category: str | None,
    radius_m: float = DEFAULT_DUPLICATE_RADIUS_M,
    window_min: int = DEFAULT_DUPLICATE_WINDOW_MIN,
    now: dt.datetime | None = None,
    exclude_call_id: int | None = None,
) -> list[Call]:
    """Open calls of a related type at the same place or nearby, received in the last ``window_min`` minutes."""
    now = now or timezone.now()
    since = now - dt.timedelta(minutes=window_min)
    qs = calls_visible_to(user).filter(status__in=OPEN_CALL_STATUSES, received_at__gte=since)
    if exclude_call_id:
        qs = qs.exclude(pk=exclude_call_id)
    if call_type_category:
        qs = qs.filter(call_type__category=call_type_category)
    if latitude is not None and longitude is not None and valid_point(latitude, longitude):
        cells = cells_within(latitude, longitude, radius_m, resolution=9)
        place = Q(h3_r9__in=cells) | (
            Q(location=location) if location is not None else Q(pk__in=[])
        )
        candidates = list(
            qs.filter(place).select_related("call_type", "location").order_by("-received_at")[:50]
        )
        return [
            c
            for c in candidates
            if (location is not None and c.location_id == location.pk)
            or (
                c.latitude is not None
                and haversine_m(latitude, longitude, c.latitude, c.longitude) <= radius_m
            )
        ]
    if location is not None:
        return list(
            qs.filter(location=location)
            .select_related("call_type", "location")
            .order_by("-received_at")
        )
    return []


def _tally(rows: Any, entity: str, label: Callable[[Any], str], limit: int) -> list[dict[str, Any]]:
    """Group involvements by person/vehicle: label, the roles seen, how often; most frequent first."""
    seen: dict[int, dict[str, Any]] = {}
    for inv in rows:
        obj = getattr(inv, entity)
        entry = seen.setdefault(
            obj.pk, {"id": obj.pk, "label": label(obj), "roles": set(), "count": 0}
        )
        entry["roles"].add(inv.role)
        entry["count"] += 1
    top = sorted(seen.values(), key=lambda e: -e["count"])[:limit]
    return [{**entry, "roles": sorted(entry["roles"])} for entry in top]


def _entities_at(
    user: Any, location: Location, limit: int = 10
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Persons and vehicles involved in earlier calls/observations here, if the user may see them."""
    from dispatch.permissions import persons_visible_to, vehicles_visible_to

    at_place = Q(call__location=location) | Q(observation__location=location)
    persons: list[dict[str, Any]] = []
    vehicles: list[dict[str, Any]] = []
    if can(user, Action.VIEW, Category.PERSON):
        rows = (
            Involvement.objects.filter(at_place, person__in=persons_visible_to(user))
            .select_related("person")
            .order_by("-created_at")[:200]
        )
        persons = [{**e, "name": e["label"]} for e in _tally(rows, "person", str, limit)]
    if can(user, Action.VIEW, Category.VEHICLE):
        rows = (
            Involvement.objects.filter(at_place, vehicle__in=vehicles_visible_to(user))
            .select_related("vehicle")
            .order_by("-created_at")[:200]
        )
        vehicles = _tally(rows, "vehicle", lambda v: v.label, limit)
    return persons, vehicles


def closest_available_units(
    *, user: Any, latitude: float, longitude: float, limit: int = 5, max_fix_age_min: int = 60
) -> list[dict[str, Any]]:
    """Available units by straight-line distance from their last AVL fix (no road network: stated to users)."""
    now = timezone.now()
    units = units_visible_to(user).filter(
        active=True, status=UnitStatus.AVAILABLE, latitude__isnull=False
    )
    ranked = []
    for unit in units:
        distance = haversine_m(latitude, longitude, unit.latitude, unit.longitude)
        age_min = (now - unit.position_at).total_seconds() / 60 if unit.position_at else None
        ranked.append(
            {
                "id": unit.pk,
                "call_sign": unit.call_sign,
                "kind": unit.kind,
                "distance_m": round(distance),
                "fix_age_min": round(age_min, 1) if age_min is not None else None,
                "stale": age_min is None or age_min > max_fix_age_min,
            }
        )
    ranked.sort(key=lambda r: (r["stale"], r["distance_m"]))
    return ranked[:limit]


def hazard_points(*, user: Any, limit: int = 500) -> list[dict[str, Any]]:
    """Premise hazards the user may see, with their location's point, for the live map."""
    now = timezone.now()
    notes = (
        premise_notes_visible_to(user)
        .filter(kind="hazard", location__latitude__isnull=False)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("location")
        .order_by("-created_at")[:limit]
    )
    return [
        {
            "id": n.pk,
            "text": n.text,
            "address": n.location.display_address,
            "latitude": n.location.latitude,
            "longitude": n.location.longitude,
        }
        for n in notes
    ]


def unit_current_call(*, unit: Any, user: Any) -> Call | None:
    """The call the unit is committed to now, if the user may see it."""
    return (
        calls_visible_to(user)
        .filter(assignments__unit=unit, assignments__cleared_at__isnull=True)
        .select_related("call_type", "location")
        .first()
    )


def unit_recent_calls(*, unit: Any, user: Any, limit: int = 10) -> list[Call]:
    """The unit's most recent calls (any status), newest first."""
    from django.db.models import Prefetch

    from dispatch.models import CallAssignment

    open_assignments = CallAssignment.objects.filter(cleared_at__isnull=True).select_related("unit")
    return list(
        calls_visible_to(user)
        .filter(assignments__unit=unit)
        .distinct()
        .select_related("call_type", "location")
        .prefetch_related(
            Prefetch("assignments", queryset=open_assignments, to_attr="open_assignments")
        )
        .order_by("-received_at")[:limit]
    )
