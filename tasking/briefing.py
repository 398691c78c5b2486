"""The briefing text an assignment carries, generated once from its finding at creation.

It is written for the assignee, so it holds only what every person who will read it may see:
persons and vehicles appear only if each of them may view those records at that sensitivity.
The text is frozen on the assignment (what the officer was told), not recomputed on read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from dispatch.choices import PremiseNoteKind
from dispatch.models import Call, Involvement, PremiseNote
from governance.access import can, max_sensitivity, user_agency_id
from governance.choices import Action, Category
from intelligence.models import Finding, FindingEvidence

RECENT_CALLS = 5
RECENT_DAYS = 90
# Statistics worth a line in the field; the rest stay on the finding page.
STAT_KEYS = ("label", "count", "total", "expected", "p", "share", "gi_star", "z", "trend")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _clearance(audience: Sequence[Any], category: str) -> int:
    """The sensitivity every reader may see in ``category`` (0: not everyone may see any)."""
    if not audience:
        return 0
    levels = [
        max_sensitivity(u, category) if can(u, Action.VIEW, category) else 0 for u in audience
    ]
    return min(levels)


def _recent_calls(finding: Finding) -> list[Call]:
    evidence_ids = FindingEvidence.objects.filter(finding=finding, call__isnull=False).values(
        "call_id"
    )
    evidence = Call.objects.filter(agency_id=finding.agency_id, pk__in=evidence_ids)
    calls = list(
        evidence.select_related("call_type", "location").order_by("-received_at")[:RECENT_CALLS]
    )
    if calls:
        return calls
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    place = Call.objects.filter(agency_id=finding.agency_id, received_at__gte=since)
    if finding.location_id:
        place = place.filter(location_id=finding.location_id)
    elif finding.cells:
        place = place.filter(h3_r9__in=list(finding.cells))
    else:
        return []
    return list(
        place.select_related("call_type", "location").order_by("-received_at")[:RECENT_CALLS]
    )


def _stats_line(statistics: dict[str, Any]) -> str:
    parts = []
    for key in STAT_KEYS:
        value = statistics.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.3g}"
        if isinstance(value, int | str):
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def finding_briefing(*, finding: Finding, audience: Sequence[Any], time_zone: str) -> str:
    """Pattern summary, recent calls, hazards and (if every reader may see them) persons/vehicles."""
    tz = _zone(time_zone)
    lines = [f"{finding.get_kind_display()}: {finding.explanation.strip()}"]
    stats = _stats_line(finding.statistics or {})
    if stats:
        lines.append(f"Statistics: {stats}.")
    calls = _recent_calls(finding)
    if calls:
        lines.append("Recent calls:")
        for c in calls:
            where = c.location.display_address if c.location else c.address_given
            lines.append(
                f"- {c.received_at.astimezone(tz):%Y-%m-%d %H:%M} {c.call_type.name}"
                f" at {where or 'unknown place'} ({c.get_status_display().lower()})"
            )
    location_ids = {c.location_id for c in calls if c.location_id}
    if finding.location_id:
        location_ids.add(finding.location_id)
    # With no known reader (a shift) hazards still go out, at the routine level only: officer
    # safety outweighs withholding, and routine notes are what every field role may read.
    hazard_level = _clearance(audience, Category.PREMISE_NOTE) if audience else 1
    now = timezone.now()
    hazards = PremiseNote.objects.filter(
        agency_id=finding.agency_id,
        location_id__in=location_ids,
        kind=PremiseNoteKind.HAZARD,
        sensitivity__lte=hazard_level,
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    hazard_lines = [
        f"- {h.location.display_address}: {h.text}" for h in hazards.select_related("location")[:10]
    ]
    if hazard_lines:
        lines.append("Hazards:")
        lines.extend(hazard_lines)
    lines.extend(_entities(calls, audience))
    return "\n".join(lines)


def _entities(calls: list[Call], audience: Sequence[Any]) -> list[str]:
    """Persons and vehicles on the recent calls, only at a level every reader may see."""
    person_level = _clearance(audience, Category.PERSON)
    vehicle_level = _clearance(audience, Category.VEHICLE)
    if not calls or (person_level == 0 and vehicle_level == 0):
        return []
    # A briefing goes to several readers; persons limited to need-to-know groups stay out of it.
    involvements = (
        Involvement.objects.filter(call__in=calls)
        .exclude(person__need_to_know__isnull=False)
        .select_related("person", "vehicle")
    )
    out: list[str] = []
    for inv in involvements[:20]:
        if inv.person_id and inv.person.sensitivity <= person_level:
            out.append(f"- {inv.get_role_display()}: {inv.person}")
        elif inv.vehicle_id and inv.vehicle.sensitivity <= vehicle_level:
            out.append(f"- {inv.get_role_display()}: {inv.vehicle.label}")
    return ["Persons and vehicles:", *out] if out else []


def manual_briefing(*, objective: str) -> str:
    """A manual assignment has no finding behind it; say so, so nobody reads it as analysed."""
    return f"Manual assignment (no finding): {objective.strip()}"


def reader_briefing(*, assignment: Any, reader: Any) -> str:
    """The briefing at the reader's own rights, for the detail and shift-briefing pages.

    The stored text was redacted for the assignee, who may see more or less than this reader;
    a finding's briefing is re-generated for the reader instead. Someone reading another
    agency's (shared) assignment gets it as for an unknown reader: no persons or vehicles.
    """
    if assignment.finding_id is None:
        return assignment.briefing
    own = user_agency_id(reader) == assignment.agency_id
    return finding_briefing(
        finding=assignment.finding,
        audience=[reader] if own else [],
        time_zone=assignment.agency.time_zone,
    )
