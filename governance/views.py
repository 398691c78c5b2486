"""Sign-in, sign-out, the role-aware landing page, and the auditor's audit-trail search and export."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from beacon_core.csv_safe import Echo, cell
from beacon_core.errors import DomainError
from governance import audit
from governance.access import can, user_roles
from governance.choices import Action, AuditAction, Category, Role
from governance.models import AuditEvent
from governance.selectors import (
    AUDIT_FILTER_FIELDS,
    AuditFilters,
    audit_events,
    audit_zone,
    parse_audit_filters,
    user_summary,
)

AUDIT_PAGE_SIZE = 100
EXPORT_BATCH = 2_000
AUDIT_TRAIL_TYPE = "governance.auditevent"


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires)."""


def home(request: HttpRequest) -> HttpResponse:
    """Landing page: dispatchers go to the console, field staff to their phone view, others choose."""
    roles = user_roles(request.user)
    if Role.DISPATCHER in roles:
        return redirect("console")
    if roles == {Role.FIELD}:
        return redirect("field")
    return render(request, "governance/home.html", {"me": user_summary(request.user)})


# --- the audit trail (auditors) ------------------------------------------------------------


def _audit_read(
    request: HttpRequest, action: str, *, details: dict[str, Any], allowed: bool
) -> None:
    """Reading the trail is itself audited (CJIS: access to the audit log), refused reads too."""
    audit.record(
        action=action,
        actor=request.user,
        object_type=AUDIT_TRAIL_TYPE,
        object_label="Audit trail",
        details={"outcome": "allowed" if allowed else "denied", **details},
    )


def _require_audit(request: HttpRequest, action: str, audit_action: str) -> None:
    if not can(request.user, action, Category.AUDIT):
        _audit_read(request, audit_action, details={"path": request.path[:200]}, allowed=False)
        raise PermissionDenied


def audit_page(request: HttpRequest) -> HttpResponse:
    """Search the audit trail: filters, a dense page of events (newest first), CSV export link.

    Dates filter whole days in the auditor's agency time zone; times show in that zone too.
    """
    _require_audit(request, Action.VIEW, AuditAction.VIEW)
    zone = audit_zone(request.user)
    errors: dict[str, list[str]] = {}
    page = None
    filters: AuditFilters | None = None
    try:
        filters = parse_audit_filters(request.GET, zone=zone)
    except DomainError as exc:
        errors = exc.errors
    if filters is not None:
        paginator = Paginator(audit_events(user=request.user, filters=filters), AUDIT_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        rows = list(page.object_list)  # read before the view event below is appended
        _audit_read(
            request,
            AuditAction.VIEW,
            details={
                "filters": filters.as_params(),
                "page": page.number,
                "results": paginator.count,
                "shown": [row.seq for row in rows[:1]] + [row.seq for row in rows[-1:]],
            },
            allowed=True,
        )
    context = {
        "page": page,
        "rows": list(page.object_list) if page is not None else [],
        "errors": errors,
        "values": {name: request.GET.get(name, "")[:150] for name in AUDIT_FILTER_FIELDS},
        "query_string": urlencode(filters.as_params()) if filters else "",
        "actions": AuditAction.choices,
        "zone": str(zone),
        "may_export": can(request.user, Action.EXPORT, Category.AUDIT),
    }
    return render(request, "governance/audit.html", context, status=400 if errors else 200)


EXPORT_COLUMNS = (
    "id",
    "seq",
    "at_utc",
    "at_local",
    "actor_username",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "justification",
    "ip",
    "user_agent",
    "agency",
    "details",
    "prev_hash",
    "hash",
)


def _export_rows(filters_qs: Any, *, zone: Any, limit: int) -> Iterator[list[str]]:
    """Rows oldest first, read by ``seq`` in batches (no server-side cursor, any database)."""
    yield list(EXPORT_COLUMNS)
    last_seq, sent = 0, 0
    base = filters_qs.order_by("seq")
    while sent < limit:
        batch = list(base.filter(seq__gt=last_seq)[: min(EXPORT_BATCH, limit - sent)])
        if not batch:
            return
        for event in batch:
            yield [
                str(event.pk),
                str(event.seq),
                event.at.astimezone(dt.UTC).isoformat(),
                timezone.localtime(event.at, zone).isoformat(),
                cell(event.actor_username),
                str(event.actor_id or ""),
                event.action,
                event.object_type,
                cell(event.object_id),
                cell(event.object_label),
                cell(event.justification),
                event.ip,
                cell(event.user_agent),
                event.agency.code if event.agency else "",
                json.dumps(event.details, sort_keys=True, ensure_ascii=False),
                event.prev_hash,
                event.hash,
            ]
        sent += len(batch)
        last_seq = batch[-1].seq


def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered trail as CSV, oldest first, streamed; capped at BEACON_AUDIT_EXPORT_MAX_ROWS."""
    _require_audit(request, Action.EXPORT, AuditAction.EXPORT)
    zone = audit_zone(request.user)
    try:
        filters = parse_audit_filters(request.GET, zone=zone)
    except DomainError as exc:
        text = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    limit = settings.BEACON_AUDIT_EXPORT_MAX_ROWS
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    # Pinned to the head before this export's own event: the file holds what was counted.
    qs = audit_events(user=request.user, filters=filters).filter(seq__lte=head)
    matching = qs.count()
    rows = min(matching, limit)
    _audit_read(
        request,
        AuditAction.EXPORT,
        details={
            "filters": filters.as_params(),
            "rows": rows,
            "matching": matching,
            "truncated": matching > limit,
            "through_seq": head,
        },
        allowed=True,
    )
    writer = csv.writer(Echo())
    stream = (writer.writerow(row) for row in _export_rows(qs, zone=zone, limit=limit))
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    response["X-Audit-Rows"] = str(rows)
    response["X-Audit-Truncated"] = "true" if matching > limit else "false"
    return response
