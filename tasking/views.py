"""Pages of the tasking domain: the supervisors' execution board and the issue form.

Thin: access through ``tasking.permissions``, reads through ``selectors``, writes through
``services``; the board's script re-reads ``board.json`` on every ``assignment.*`` event.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from beacon_core.errors import DomainError, NotFoundError
from beacon_core.maps import map_config
from dispatch.models import Unit
from governance.access import can, user_agency_id
from governance.choices import Action, Category
from governance.export_links import export_buttons
from governance.models import Agency, Membership
from intelligence.choices import FindingStatus
from intelligence.permissions import access_finding
from tasking import areas, briefing, execution, selectors, services, shift
from tasking.choices import AssignmentKind, AssignmentStatus
from tasking.forms import FormError, create_kwargs
from tasking.models import Assignment
from tasking.permissions import can_task, sees_agency_assignments

BOARD_ORDER = [s.value for s in AssignmentStatus]


def _require_board(request: HttpRequest) -> None:
    if not sees_agency_assignments(request.user):
        raise PermissionDenied


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _row(a: Assignment, dosage: dict[str, Any] | None = None) -> dict[str, Any]:
    events = list(a.events.all())
    by = {e.to_status: e.actor.get_username() if e.actor else None for e in events}
    return {
        "id": a.pk,
        "kind": a.kind,
        "kind_label": a.get_kind_display(),
        "objective": a.objective[:140],
        "assignee": a.assignee_label,
        "priority": a.priority,
        "status": a.status,
        "status_label": a.get_status_display(),
        "manual": a.manual,
        "finding": a.finding_id,
        "issued_at": _iso(a.issued_at),
        "acknowledged_at": _iso(a.acknowledged_at),
        "acknowledged_by": by.get(AssignmentStatus.ACKNOWLEDGED)
        or (by.get(AssignmentStatus.IN_PROGRESS) if a.acknowledged_at else None),
        "started_at": _iso(a.started_at),
        "finished_at": _iso(a.finished_at or a.cancelled_at),
        "version": a.version,
        "url": reverse("tasking-detail", args=[a.pk]),
        "dosage": dosage,
    }


@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    """The execution board: every assignment of the agency by status, live."""
    _require_board(request)
    config = {
        "urls": {
            "board": reverse("tasking-board-json"),
            "ws": "/ws/dispatch/",
            "api": "/api/v1/",
            "new": reverse("tasking-new"),
        },
        "statuses": [[s.value, s.label] for s in AssignmentStatus],
        "may_task": can_task(request.user),
    }
    return render(
        request,
        "tasking/board.html",
        {
            "config_json": config,
            "created": request.GET.get("created", ""),
            "exports": export_buttons(request.user, ["export-assignment-areas-geojson"]),
        },
    )


@require_GET
def board_json(request: HttpRequest) -> JsonResponse:
    """The board's rows (the script re-reads this on every assignment event and reconnect)."""
    _require_board(request)
    now = timezone.now()
    assignments = list(selectors.assignment_board(user=request.user)[:500])
    dosage = selectors.board_dosage(assignments, now=now)
    rows = [_row(a, dosage.get(a.pk)) for a in assignments]
    rows.sort(key=lambda r: (BOARD_ORDER.index(r["status"]), r["priority"]))
    return JsonResponse({"rows": rows, "now": now.isoformat()})


@require_GET
def detail_page(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """One assignment: objective, area map, windows met/unmet, timeline, reports, briefing."""
    try:
        a = selectors.assignment_detail(user=request.user, assignment_id=assignment_id)
    except Assignment.DoesNotExist:
        raise Http404 from None
    summary = execution.assignment_dosage(a, now=timezone.now())
    context = {
        "a": a,
        "summary": summary,
        "time_zone": a.agency.time_zone,
        "area_text": areas.area_text(a.area),
        "map_json": {"map": map_config(), "areas": [{"id": a.pk, **areas.area_shapes(a.area)}]},
        "briefing_text": briefing.reader_briefing(assignment=a, reader=request.user),
        "outcome": selectors.assignment_outcome(user=request.user, assignment=a),
        "may_board": sees_agency_assignments(request.user),
    }
    return render(request, "tasking/detail.html", context)


@require_GET
def briefing_page(request: HttpRequest) -> HttpResponse:
    """The shift briefing: priorities, the shift's assignments with maps, recent outcomes."""
    if not can(request.user, Action.VIEW, Category.ASSIGNMENT):
        raise PermissionDenied
    agency_id = user_agency_id(request.user)
    zone = Agency.objects.filter(pk=agency_id).values_list("time_zone", flat=True).first()
    zone = zone or settings.BEACON_TIME_ZONE
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    try:
        chosen = shift.parse_shift(request.GET, now=now, time_zone=zone)
    except DomainError as exc:
        errors = exc.errors
        chosen = shift.default_shift(now, zone)
    data = shift.shift_briefing(user=request.user, shift=chosen, now=now)
    shift.record_briefing_shown(user=request.user, shift=chosen, data=data)
    areas_json = [{"id": row["a"].pk, **row["shapes"]} for row in data["assignments"]]
    context = {
        "shift": chosen,
        "time_zone": zone,
        "errors": errors,
        "now": now,
        "map_json": {"map": map_config(), "areas": areas_json},
        "may_board": sees_agency_assignments(request.user),
        "rosters": selectors.shifts_for_form(user=request.user),
        **data,
    }
    return render(request, "tasking/briefing.html", context, status=400 if errors else 200)


def _choices(request: HttpRequest) -> dict[str, Any]:
    agency_id = user_agency_id(request.user)
    users = [
        u
        for u in get_user_model()
        .objects.filter(
            is_active=True,
            pk__in=Membership.objects.filter(agency_id=agency_id).values("user_id"),
        )
        .order_by("last_name", "first_name", "username")
        if can(u, Action.VIEW, Category.ASSIGNMENT)
    ]
    return {
        "kinds": AssignmentKind.choices,
        "units": Unit.objects.filter(agency_id=agency_id, active=True).order_by("call_sign"),
        "users": users,
        "shifts": selectors.shifts_for_form(user=request.user),
    }


def _initial(finding: Any) -> dict[str, Any]:
    prefill = selectors.assignment_prefill(finding)
    area = prefill["area"] or {"type": "circle"}
    return {
        "kind": AssignmentKind.DIRECTED_PATROL,
        "objective": prefill["objective"],
        "area_type": area["type"],
        "area_latitude": area.get("latitude", ""),
        "area_longitude": area.get("longitude", ""),
        "area_radius_m": area.get("radius_m", selectors.DEFAULT_RADIUS_M),
        "area_cells": "\n".join(area.get("cells", [])),
        "area_points": "",
        "windows": json.dumps(prefill["windows"], indent=1) if prefill["windows"] else "",
        "minutes_per_visit": "15",
        "visits_per_window": "2",
        "priority": "3",
        "assignee_type": "unit",
        "assignee_unit": "",
        "assignee_user": "",
        "assignee_shift": "",
        "issue": "on",
    }


@require_http_methods(["GET", "POST"])
def new_page(request: HttpRequest) -> HttpResponse:
    """Issue an assignment from an accepted finding (``?finding=<id>``), or a manual one."""
    if not can_task(request.user):
        raise PermissionDenied
    finding = None
    finding_id = request.POST.get("finding") or request.GET.get("finding")
    if finding_id:
        try:
            finding = access_finding(request.user, finding_id)
        except NotFoundError:
            raise Http404 from None
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = _initial(finding)
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            kwargs = create_kwargs(request.POST)
            assignment = services.assignment_create(actor=request.user, **kwargs)
        except FormError as exc:
            errors, status = exc.errors, 400
        except DomainError as exc:
            errors, status = exc.errors, 400
        else:
            return redirect(f"{reverse('tasking-board')}?created={assignment.pk}")
    context = {
        "finding": finding,
        "finding_accepted": finding is not None and finding.status == FindingStatus.ACCEPTED,
        "values": values,
        "errors": errors,
        "editor_json": {"map": map_config()},
        **_choices(request),
    }
    return render(request, "tasking/new.html", context, status=status)
