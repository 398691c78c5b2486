"""What each export holds: the rows the user may see (through the ``*_visible_to`` selectors),
narrowed by the export's filters, and each row as a GeoJSON feature or a CSV row.

Persons, vehicles, premise notes and free-text narratives are never part of an export; caller
identity columns exist only for users who may view caller identity. Entity findings (about a
person or vehicle) are left out of finding exports for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from dispatch.models import Call, Location
from dispatch.permissions import calls_visible_to, can_see_caller_identity, locations_visible_to
from exports import geometry
from intelligence.choices import FindingKind
from intelligence.models import Finding
from intelligence.permissions import findings_visible_to
from tasking.models import Assignment
from tasking.permissions import assignments_visible_to

# Rows are read in batches of this size so a large export never holds its whole set in memory.
BATCH = 2_000


@dataclass(frozen=True)
class ExportFilters:
    """An export's filters, already checked: days are whole days in the user's time zone."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    call_type: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()

    def start(self) -> dt.datetime | None:
        if self.date_from is None:
            return None
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.zone)

    def end(self) -> dt.datetime | None:
        """The first instant after the ``to`` day (the day is included)."""
        if self.date_to is None:
            return None
        return dt.datetime.combine(
            self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone
        )

    def as_params(self) -> dict[str, Any]:
        """The filters as given, for the audit event."""
        params: dict[str, Any] = {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "type": list(self.call_type),
            "status": list(self.status),
            "kind": list(self.kind),
        }
        return {k: v for k, v in params.items() if v}


def _in_range(qs: QuerySet[Any], filters: ExportFilters, field_name: str) -> QuerySet[Any]:
    if (start := filters.start()) is not None:
        qs = qs.filter(**{f"{field_name}__gte": start})
    if (end := filters.end()) is not None:
        qs = qs.filter(**{f"{field_name}__lt": end})
    return qs


def calls_for_export(*, user: Any, filters: ExportFilters) -> QuerySet[Call]:
    """Calls the user may see, received in the range, of the given types and statuses."""
    qs = _in_range(calls_visible_to(user), filters, "received_at")
    if filters.call_type:
        qs = qs.filter(call_type__code__in=filters.call_type)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    return qs.select_related("agency", "call_type", "disposition", "location").order_by("pk")


def locations_for_export(*, user: Any, filters: ExportFilters) -> QuerySet[Location]:
    """Places with coordinates the user may see, first recorded in the range."""
    qs = _in_range(locations_visible_to(user), filters, "created_at")
    qs = qs.filter(latitude__isnull=False, longitude__isnull=False)
    if filters.kind:
        qs = qs.filter(kind__in=filters.kind)
    return qs.order_by("pk")


def findings_for_export(
    *, user: Any, filters: ExportFilters, hotspots_only: bool = False
) -> QuerySet[Finding]:
    """Findings the user may see whose window overlaps the range; never entity findings."""
    qs = findings_visible_to(user).exclude(kind=FindingKind.ENTITY)
    if hotspots_only:
        qs = qs.filter(kind=FindingKind.HOTSPOT)
    if (start := filters.start()) is not None:
        qs = qs.filter(window_end__gte=start)
    if (end := filters.end()) is not None:
        qs = qs.filter(window_start__lt=end)
    if filters.kind:
        qs = qs.filter(kind__in=filters.kind)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    return qs.select_related("agency", "location").order_by("pk")


def assignments_for_export(*, user: Any, filters: ExportFilters) -> QuerySet[Assignment]:
    """Assignments the user may see, created in the range, of the given kinds and statuses."""
    qs = _in_range(assignments_visible_to(user), filters, "created_at")
    if filters.kind:
        qs = qs.filter(kind__in=filters.kind)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    return qs.select_related("agency", "assignee_unit", "assignee_user", "assignee_shift").order_by(
        "pk"
    )


def batched(qs: QuerySet[Any]) -> Iterator[Any]:
    """The queryset in primary-key order, BATCH rows per query (no server-side cursor needed)."""
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


# --- calls ---------------------------------------------------------------------------------

CALL_COLUMNS = (
    "id",
    "number",
    "agency",
    "call_type",
    "call_type_name",
    "priority",
    "status",
    "source",
    "received_at",
    "closed_at",
    "disposition",
    "address",
    "latitude",
    "longitude",
    "h3_r9",
)
CALLER_COLUMNS = ("caller_name", "caller_phone")


def call_columns(user: Any) -> tuple[str, ...]:
    """The call columns this user gets: caller identity only with the right to view it."""
    return CALL_COLUMNS + (CALLER_COLUMNS if can_see_caller_identity(user) else ())


def call_values(call: Call, columns: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": call.pk,
        "number": call.number,
        "agency": call.agency.code,
        "call_type": call.call_type.code,
        "call_type_name": call.call_type.name,
        "priority": call.priority,
        "status": call.status,
        "source": call.source,
        "received_at": _iso(call.received_at),
        "closed_at": _iso(call.closed_at),
        "disposition": call.disposition.code if call.disposition else None,
        # The verified place only: what the caller typed may be their own address.
        "address": call.location.display_address if call.location else None,
        "latitude": call.latitude,
        "longitude": call.longitude,
        "h3_r9": call.h3_r9 or None,
        "caller_name": call.caller_name,
        "caller_phone": call.caller_phone,
    }
    return {c: values[c] for c in columns}


def call_feature(call: Call, columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": call.pk,
        "geometry": geometry.point(call.latitude, call.longitude),
        "properties": call_values(call, columns),
    }


# --- locations -----------------------------------------------------------------------------


def location_feature(location: Location) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": location.pk,
        "geometry": geometry.point(location.latitude, location.longitude),
        "properties": {
            "id": location.pk,
            "address": location.display_address,
            "locality": location.locality,
            "kind": location.kind,
            "h3_r9": location.h3_r9 or None,
        },
    }


# --- findings ------------------------------------------------------------------------------

FINDING_COLUMNS = (
    "id",
    "agency",
    "kind",
    "status",
    "window_start",
    "window_end",
    "address",
    "latitude",
    "longitude",
    "cells",
    "explanation",
)


def finding_geometry(finding: Finding) -> dict[str, Any] | None:
    """A place finding is its Point; an area finding (cells) is the outline of its cells."""
    if finding.location_id is not None:
        return geometry.point(finding.location.latitude, finding.location.longitude)
    if finding.cells:
        return geometry.cells(finding.cells)
    return geometry.point(finding.latitude, finding.longitude)


def finding_values(finding: Finding) -> dict[str, Any]:
    loc = finding.location if finding.location_id is not None else None
    return {
        "id": finding.pk,
        "agency": finding.agency.code,
        "kind": finding.kind,
        "status": finding.status,
        "window_start": _iso(finding.window_start),
        "window_end": _iso(finding.window_end),
        "address": loc.display_address if loc else None,
        "latitude": loc.latitude if loc else finding.latitude,
        "longitude": loc.longitude if loc else finding.longitude,
        "cells": " ".join(finding.cells or []) or None,
        "explanation": finding.explanation,
    }


def finding_feature(finding: Finding) -> dict[str, Any]:
    properties = finding_values(finding)
    properties["cells"] = len(finding.cells or [])
    return {
        "type": "Feature",
        "id": finding.pk,
        "geometry": finding_geometry(finding),
        "properties": properties,
    }


# --- assignment areas ----------------------------------------------------------------------


def assignment_feature(assignment: Assignment) -> dict[str, Any]:
    area = assignment.area or {}
    return {
        "type": "Feature",
        "id": assignment.pk,
        "geometry": geometry.assignment_area(area),
        "properties": {
            "id": assignment.pk,
            "agency": assignment.agency.code,
            "kind": assignment.kind,
            "status": assignment.status,
            "priority": assignment.priority,
            "assignee": assignment.assignee_label,
            "area_type": area.get("type"),
            "finding": assignment.finding_id,
        },
    }
