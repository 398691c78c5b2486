"""Reads for the execution board, the devices and the issue form. Each applies access rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from dispatch.geo import valid_point
from governance.access import user_agency_id
from intelligence.choices import FindingKind
from intelligence.models import Finding, FindingOutcome
from intelligence.permissions import findings_visible_to
from tasking import execution
from tasking.analysis import schedule
from tasking.choices import OUTCOME_STATUSES, PENDING_STATUSES, AssignmentStatus
from tasking.models import Assignment, AssignmentEvent, Shift
from tasking.permissions import assignments_visible_to, own_assignments_q

DEFAULT_RADIUS_M = 250.0
PREFILL_WEEKS = 4


def assignment_list(*, user: Any) -> QuerySet[Assignment]:
    """Assignments the user may see, newest first, with what a row shows."""
    return (
        assignments_visible_to(user)
        .select_related("assignee_unit", "assignee_user", "assignee_shift", "finding")
        .order_by("-created_at", "-id")
    )


def assignment_board(*, user: Any) -> QuerySet[Assignment]:
    """The supervisors' execution board: every assignment with its timeline, by status."""
    return assignment_list(user=user).prefetch_related(
        Prefetch("events", queryset=AssignmentEvent.objects.select_related("actor"))
    )


def board_dosage(assignments: list[Assignment], *, now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Dosage for the board's rows: one query for all their fixes, not one per assignment.

    Drafts and cancelled work were never patrolled, so they are left out; finished work whose
    dosage the schedule recorded shows that record instead of being recomputed.
    """
    out: dict[int, dict[str, Any]] = {}
    live = []
    for a in assignments:
        if a.status in (AssignmentStatus.DRAFT, AssignmentStatus.CANCELLED):
            continue
        if a.status in OUTCOME_STATUSES and a.dosage_summary:
            out[a.pk] = a.dosage_summary
        else:
            live.append(a)
    out.update({pk: s.as_dict() for pk, s in execution.dosage_for(live, now=now).items()})
    return out


def assignment_detail(*, user: Any, assignment_id: int) -> Assignment:
    """One assignment with its timeline and reports (access already checked by the caller)."""
    return (
        assignments_visible_to(user)
        .select_related(
            "assignee_unit", "assignee_user", "assignee_shift", "finding", "created_by", "agency"
        )
        .prefetch_related(
            Prefetch("events", queryset=AssignmentEvent.objects.select_related("actor")),
            "reports__author",
            "reports__observations",
        )
        .get(pk=assignment_id)
    )


def assignments_pending_for_device(*, user: Any) -> QuerySet[Assignment]:
    """What a (re)connecting device must hold: every issued, acknowledged or in-progress
    assignment made to the user or to a unit they are signed to (even for a supervisor, whose
    board shows the rest). Oldest first, so the phone lists them in the order they came."""
    own = Assignment.objects.filter(own_assignments_q(user)).values("pk")
    return (
        assignments_visible_to(user)
        .filter(pk__in=own, status__in=sorted(PENDING_STATUSES))
        .select_related("assignee_unit", "assignee_user", "assignee_shift")
        .order_by("issued_at", "id")
    )


def shift_readers(shift: Shift) -> QuerySet[Any]:
    """Active people who receive a shift's work: its members and everyone signed to its units."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(pk__in=shift.members.values("pk")) | Q(units__in=shift.units.values("pk")))
        .distinct()
    )


def shifts_of_agency(*, user: Any) -> QuerySet[Shift]:
    """Active shifts of the user's own agency (none without one)."""
    agency_id = user_agency_id(user)
    if agency_id is None:
        return Shift.objects.none()
    return Shift.objects.filter(agency_id=agency_id, active=True).order_by("name")


def shifts_for_form(*, user: Any) -> list[Shift]:
    """The agency's active shifts with their roster sizes, for assignee pickers and quick picks."""
    return list(
        shifts_of_agency(user=user).annotate(
            member_count=Count("members", distinct=True), unit_count=Count("units", distinct=True)
        )
    )


def assignment_prefill(finding: Finding | None) -> dict[str, Any]:
    """Form defaults from a finding: its area (point + radius, or cells) and, for a time-window
    finding, its recurring window."""
    if finding is None:
        return {"area": None, "windows": [], "objective": ""}
    area: dict[str, Any] | None = None
    # A hotspot's cells are its shape; a point finding gets a circle around it.
    if finding.cells:
        area = {"type": "cells", "cells": list(finding.cells)}
    elif valid_point(finding.latitude, finding.longitude):
        area = {
            "type": "circle",
            "latitude": finding.latitude,
            "longitude": finding.longitude,
            "radius_m": DEFAULT_RADIUS_M,
        }
    elif finding.location_id and valid_point(finding.location.latitude, finding.location.longitude):
        area = {
            "type": "circle",
            "latitude": finding.location.latitude,
            "longitude": finding.location.longitude,
            "radius_m": DEFAULT_RADIUS_M,
        }
    return {
        "area": area,
        "windows": _windows_prefill(finding),
        "objective": finding.explanation[:500],
    }


def _windows_prefill(finding: Finding) -> list[dict[str, Any]]:
    """A time-window finding's hours as a 4-week weekly window starting today (agency time)."""
    stats = finding.statistics or {}
    if finding.kind != FindingKind.TIME_WINDOW:
        return []
    zone = stats.get("time_zone") or finding.agency.time_zone
    try:
        today = timezone.now().astimezone(ZoneInfo(zone)).date()
        spec = schedule.suggest_from_statistics(
            {**stats, "time_zone": zone}, first_date=today, weeks=PREFILL_WEEKS
        )
    except (KeyError, ValueError):
        return []  # an old or odd finding: the supervisor types the windows
    return schedule.windows_to_json([spec])


def assignment_outcome(*, user: Any, assignment: Assignment) -> FindingOutcome | None:
    """The outcome to show on an assignment: the one over its own period, else the finding's
    latest; none if the reader may not see the finding."""
    if assignment.finding_id is None:
        return None
    if not findings_visible_to(user).filter(pk=assignment.finding_id).exists():
        return None
    outcomes = FindingOutcome.objects.filter(finding_id=assignment.finding_id)
    period = execution.period_of(assignment)
    own = outcomes.filter(period_start=period[0]).first() if period else None
    return own or outcomes.order_by("-evaluated_at", "-id").first()
