"""The shift briefing's reads: which shift, and what a reader may be briefed on for it.

A shift is a span of agency-local wall-clock time. By default it is the current 12-hour shift,
07:00-19:00 or 19:00-07:00, the common pattern for patrol rosters; any date and start/end can be
asked for (an end at or before the start ends the next day).

Everything goes through the access functions and is limited to the reader's own agency: an
agency sharing its assignments or findings with ours is still briefed by its own supervisors.
The briefing text is re-generated at the reader's rights (``briefing.reader_briefing``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from beacon_core.errors import DomainError
from governance import audit
from governance.access import user_agency_id
from governance.choices import AuditAction
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding, FindingOutcome
from intelligence.permissions import findings_visible_to
from tasking import areas, briefing, execution
from tasking.choices import OUTCOME_STATUSES, PENDING_STATUSES
from tasking.permissions import assignments_visible_to

DAY_START = dt.time(7, 0)
NIGHT_START = dt.time(19, 0)
OUTCOME_DAYS = 30
MAX_ASSIGNMENTS = 100
MAX_PRIORITIES = 50
MAX_OUTCOMES = 30
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
PRIORITY_KINDS = (FindingKind.HOTSPOT, FindingKind.REPEAT_LOCATION)


@dataclass(frozen=True, slots=True)
class ShiftPeriod:
    """[start, end) in UTC, with the local date and times it was asked as."""

    start: dt.datetime
    end: dt.datetime
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    time_zone: str


def _local(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def make_shift(day: dt.date, start: dt.time, end: dt.time, time_zone: str) -> ShiftPeriod:
    """The shift opening on local ``day`` at ``start``; an ``end`` not after it is the next day."""
    tz = ZoneInfo(time_zone)
    end_day = day if end > start else day + dt.timedelta(days=1)
    return ShiftPeriod(_local(day, start, tz), _local(end_day, end, tz), day, start, end, time_zone)


def default_shift(now: dt.datetime, time_zone: str) -> ShiftPeriod:
    """The 12-hour shift under way at ``now``: day 07:00-19:00 or night 19:00-07:00."""
    local = now.astimezone(ZoneInfo(time_zone))
    if DAY_START <= local.time() < NIGHT_START:
        return make_shift(local.date(), DAY_START, NIGHT_START, time_zone)
    # Before 07:00 the night shift began the evening before.
    day = local.date() if local.time() >= NIGHT_START else local.date() - dt.timedelta(days=1)
    return make_shift(day, NIGHT_START, DAY_START, time_zone)


def _time(value: str, field: str) -> dt.time:
    match = _HHMM.fullmatch(value.strip())
    if match is None:
        raise DomainError("Give a time as HH:MM.", field=field)
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_shift(params: Mapping[str, str], *, now: dt.datetime, time_zone: str) -> ShiftPeriod:
    """The shift from ``?date=YYYY-MM-DD&start=HH:MM&end=HH:MM``; the default when none given."""
    default = default_shift(now, time_zone)
    if not any(params.get(k) for k in ("date", "start", "end")):
        return default
    try:
        day = dt.date.fromisoformat(params.get("date") or default.date.isoformat())
    except ValueError:
        raise DomainError("Give a date as YYYY-MM-DD.", field="date") from None
    start = _time(params.get("start") or default.start_time.strftime("%H:%M"), "start")
    end = _time(params.get("end") or default.end_time.strftime("%H:%M"), "end")
    return make_shift(day, start, end, time_zone)


def _priorities(user: Any, agency_id: int) -> list[dict[str, Any]]:
    """Accepted hotspots and repeat locations, each with the hours a time-window finding found."""
    findings = findings_visible_to(user).filter(agency_id=agency_id)
    chosen = list(
        findings.filter(kind__in=PRIORITY_KINDS, status=FindingStatus.ACCEPTED)
        .select_related("location")
        .order_by("kind", "-id")[:MAX_PRIORITIES]
    )
    # A time-window finding names its parent's subject key; proposed ones count (the hours are
    # a fact about the calls even before review), dismissed and expired ones do not.
    hours: dict[str, list[str]] = {}
    windows = findings.filter(
        kind=FindingKind.TIME_WINDOW,
        status__in=[FindingStatus.ACCEPTED, FindingStatus.PROPOSED],
    ).values_list("statistics", flat=True)
    for stats in windows[:500]:
        if isinstance(stats, dict) and stats.get("parent") and stats.get("label"):
            hours.setdefault(stats["parent"], []).append(str(stats["label"]))
    return [
        {"finding": f, "place": _place(f), "hours": sorted(set(hours.get(f.subject_key, [])))}
        for f in chosen
    ]


def _place(finding: Finding) -> str:
    if finding.location_id:
        return finding.location.display_address
    if finding.cells:
        return areas.area_text({"type": "cells", "cells": list(finding.cells)})
    return ""


def _assignments(user: Any, agency_id: int, shift: ShiftPeriod) -> list[dict[str, Any]]:
    """Live or finished assignments with at least one window overlapping the shift."""
    candidates = (
        assignments_visible_to(user)
        .filter(agency_id=agency_id, status__in=sorted(PENDING_STATUSES | OUTCOME_STATUSES))
        # Work finished before the shift began is not this shift's.
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=shift.start))
        .select_related("agency", "finding", "assignee_unit", "assignee_user", "assignee_shift")
        .order_by("priority", "id")
    )
    out: list[dict[str, Any]] = []
    for a in candidates[: MAX_ASSIGNMENTS * 5]:
        inside = [
            i for i in execution.intervals_of(a) if i.start < shift.end and i.end > shift.start
        ]
        if not inside:
            continue
        out.append(
            {
                "a": a,
                "windows": inside,
                "area_text": areas.area_text(a.area),
                "shapes": areas.area_shapes(a.area),
                "briefing": briefing.reader_briefing(assignment=a, reader=user),
            }
        )
        if len(out) == MAX_ASSIGNMENTS:
            break
    return out


def _outcomes(user: Any, agency_id: int, now: dt.datetime) -> list[FindingOutcome]:
    visible = findings_visible_to(user).filter(agency_id=agency_id).values("pk")
    return list(
        FindingOutcome.objects.filter(
            finding_id__in=visible, evaluated_at__gte=now - dt.timedelta(days=OUTCOME_DAYS)
        )
        .select_related("finding")
        .order_by("-evaluated_at", "-id")[:MAX_OUTCOMES]
    )


def shift_briefing(*, user: Any, shift: ShiftPeriod, now: dt.datetime) -> dict[str, Any]:
    """Priorities, the shift's assignments and recent outcomes, as this reader may see them."""
    agency_id = user_agency_id(user)
    if agency_id is None:
        return {"priorities": [], "assignments": [], "outcomes": []}
    return {
        "priorities": _priorities(user, agency_id),
        "assignments": _assignments(user, agency_id, shift),
        "outcomes": _outcomes(user, agency_id, now),
    }


def record_briefing_shown(*, user: Any, shift: ShiftPeriod, data: Mapping[str, Any]) -> None:
    """Log one rendering of the shift briefing as a dissemination to its reader (28 CFR 23.20(f)).

    One event per page, naming what it showed (assignment and finding ids), not one per item;
    a briefing that showed nothing disseminated nothing and is not logged.
    """
    assignments = [row["a"] for row in data["assignments"]]
    findings = {row["finding"].pk for row in data["priorities"]}
    findings |= {a.finding_id for a in assignments if a.finding_id is not None}
    findings |= {outcome.finding_id for outcome in data["outcomes"]}
    if not (assignments or findings):
        return
    audit.record(
        action=AuditAction.DISSEMINATE,
        actor=user,
        object_type="tasking.briefing",
        object_label=f"Shift briefing {shift.date} {shift.start_time:%H:%M}-{shift.end_time:%H:%M}",
        details={
            "recipient": user.get_username(),
            "purpose": "shift briefing",
            "shift": {"start": shift.start, "end": shift.end, "time_zone": shift.time_zone},
            "assignments": [a.pk for a in assignments],
            "findings": sorted(findings),
        },
    )
