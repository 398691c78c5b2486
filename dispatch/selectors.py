"""Reads that feed lists, boards and snapshots. Each owns its joins and applies access rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from dispatch.choices import CALLER_FIELDS, OPEN_CALL_STATUSES
from dispatch.models import Call, CallAssignment, CallEvent, Location, Unit
from dispatch.permissions import (
    calls_visible_to,
    premise_notes_visible_to,
    redact_call_events,
    units_visible_to,
)
from governance import audit
from governance.choices import Category


def call_list(*, user: Any) -> QuerySet[Call]:
    """Calls the user may see, with what a list row shows."""
    return (
        calls_visible_to(user)
        .select_related("call_type", "location", "disposition")
        .order_by("-received_at")
    )


def call_queue(*, user: Any) -> QuerySet[Call]:
    """Open calls by priority, then age: the dispatcher's pending queue."""
    open_assignments = CallAssignment.objects.filter(cleared_at__isnull=True).select_related("unit")
    return (
        calls_visible_to(user)
        .filter(status__in=OPEN_CALL_STATUSES)
        .select_related("call_type", "location")
        .prefetch_related(
            Prefetch("assignments", queryset=open_assignments, to_attr="open_assignments")
        )
        .order_by("priority", "received_at")
    )


def _timeline_and_units() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("events", queryset=CallEvent.objects.select_related("actor").order_by("at", "id")),
        Prefetch(
            "assignments", queryset=CallAssignment.objects.select_related("unit", "assigned_by")
        ),
    )


def call_detail(*, user: Any, call_id: int) -> Call:
    """One call with its timeline and units, for the detail view (access already checked by caller).

    The timeline comes redacted for the user (``redact_call_events``): every interface that shows
    it (API, console, field phone, call page) reads it from here.
    """
    call = (
        calls_visible_to(user)
        .select_related("call_type", "location", "disposition", "created_by")
        .prefetch_related(*_timeline_and_units())
        .get(pk=call_id)
    )
    redact_call_events(user, call.events.all())
    return call


def call_detail_after_write(*, user: Any, call: Call) -> Call:
    """``call_detail`` for the call a service just wrote and returned, read from that instance.

    The service locked the row, changed it and saved it in its transaction (with its type,
    location and disposition loaded), so the instance is what was committed; only the timeline
    and units are read. It saves re-reading the call the answer describes, which was about 40 %
    of the work of logging or closing a call (the soak's profile). Access: the caller checked
    write access (or created the call) before the service ran.
    """
    cache = getattr(call, "_prefetched_objects_cache", None)
    if cache:  # a service may have read these mid-write; read them as committed
        cache.pop("events", None)
        cache.pop("assignments", None)
    prefetch_related_objects([call], *_timeline_and_units())
    redact_call_events(user, call.events.all())
    return call


def unit_board(*, user: Any) -> QuerySet[Unit]:
    """Active units with their open assignment's call, for the status board."""
    open_assignments = CallAssignment.objects.filter(cleared_at__isnull=True).select_related("call")
    return (
        units_visible_to(user)
        .filter(active=True)
        .prefetch_related(
            Prefetch("assignments", queryset=open_assignments, to_attr="open_assignments")
        )
        .order_by("call_sign")
    )


def call_counts(qs: QuerySet[Call], now: dt.datetime) -> dict[str, int]:
    """How many of ``qs`` were received in the last 24 hours, 7 days and 90 days (one query)."""
    return qs.aggregate(
        last_24h=Count("id", filter=Q(received_at__gte=now - dt.timedelta(hours=24))),
        last_7d=Count("id", filter=Q(received_at__gte=now - dt.timedelta(days=7))),
        last_90d=Count("id", filter=Q(received_at__gte=now - dt.timedelta(days=90))),
    )


def location_history(
    *, user: Any, location: Location, now: dt.datetime | None = None, limit: int = 20
) -> dict[str, Any]:
    """Prior calls at a location: counts for 24 h / 7 d / 90 d and the most recent ones."""
    now = now or timezone.now()
    qs = calls_visible_to(user).filter(location=location)
    counts = call_counts(qs, now)
    recent = list(qs.select_related("call_type", "disposition").order_by("-received_at")[:limit])
    notes = list(
        premise_notes_visible_to(user)
        .filter(location=location)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    return {"counts": counts, "recent": recent, "notes": notes}


def record_caller_view(
    user: Any, call: Call, *, shown: bool, repeat_after: int | None = None
) -> None:
    """Log a consultation of the call's caller identity, when a detail view showed some to the user.

    Nothing is logged when the user's role sees it redacted, or the call has none.
    """
    present = [f for f in CALLER_FIELDS if getattr(call, f)]
    if shown and present:
        audit.record_view(
            user,
            call,
            category=Category.CALLER_IDENTITY,
            details={"fields": present},
            repeat_after=repeat_after,
        )


def observation_requirements() -> dict[str, dict[str, object]]:
    """What each observation category requires (admin-set), for the phone form's hints."""
    from dispatch.choices import OBSERVATION_REQUIRABLE_FIELDS
    from dispatch.models import ObservationRequirement

    return {
        r.category: {
            "fields": [f for f in r.required_fields if f in OBSERVATION_REQUIRABLE_FIELDS],
            "labels": [
                OBSERVATION_REQUIRABLE_FIELDS[f]
                for f in r.required_fields
                if f in OBSERVATION_REQUIRABLE_FIELDS
            ],
            "narrative_min_length": r.narrative_min_length,
        }
        for r in ObservationRequirement.objects.all()
    }
