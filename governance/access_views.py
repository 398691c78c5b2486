"""The access rules page (admins): the role x category x action matrix with sensitivity levels,
personal grants with expiry, need-to-know groups, and any person's effective rights.

Views are thin: ``governance.access_rules`` makes and audits every change; a batch of matrix
edits is one transaction, so one refused cell leaves every other cell as it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from beacon_core.errors import DomainError, NotFoundError
from governance import access_matrix, access_rules
from governance.access import can
from governance.choices import Action, Category, Role, Sensitivity

CELL_PREFIX = "g:"


def _require(request: HttpRequest, action: str) -> None:
    if not can(request.user, action, Category.ACCESS_POLICY):
        raise PermissionDenied


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    users = list(access_matrix.agency_users(request.user))
    chosen = None
    wanted = request.GET.get("user", "")
    if wanted.isdigit():
        chosen = next((u for u in users if u.pk == int(wanted)), None)
    return {
        "roles": Role.choices,
        "levels": Sensitivity.choices,
        "categories": Category.choices,
        "actions": Action.choices,
        "matrix": access_matrix.role_matrix(),
        "short": access_matrix.LEVEL_SHORT,
        "users": users,
        "chosen": chosen,
        "chosen_roles": access_matrix.roles_of(chosen) if chosen else [],
        "effective": access_matrix.effective_rights(chosen) if chosen else [],
        "grants": access_matrix.personal_grants(request.user),
        "groups": access_matrix.need_to_know_groups(request.user),
        "may_change": can(request.user, Action.CHANGE, Category.ACCESS_POLICY),
        "errors": {},
        "saved": request.GET.get("saved", ""),
        "now": timezone.now(),
        "time_zone": settings.BEACON_TIME_ZONE,
        "grant_values": {},
        **extra,
    }


@require_GET
def access_page(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    return render(request, "governance/access_rules.html", _context(request))


def _cell_changes(post: Any) -> list[tuple[str, str, str, str]]:
    """(role, category, action, level) for every matrix cell the form sent."""
    out = []
    for key, value in post.items():
        if key.startswith(CELL_PREFIX):
            parts = key[len(CELL_PREFIX) :].split(":")
            if len(parts) == 3:
                out.append((parts[0], parts[1], parts[2], value))
    return out


@require_POST
def role_grants_save(request: HttpRequest) -> HttpResponse:
    """Apply the edited matrix: only cells whose level changed are written (and audited)."""
    _require(request, Action.CHANGE)
    current = {
        (role, row.category, row.action): level
        for row in access_matrix.role_matrix()
        for role, level in row.cells
    }
    justification = request.POST.get("justification", "")
    changed = 0
    try:
        with transaction.atomic():
            for role, category, action, value in _cell_changes(request.POST):
                level = int(value) if value.isdigit() else None
                if current.get((role, category, action), "missing") == level:
                    continue
                try:
                    access_rules.role_grant_set(
                        actor=request.user,
                        role=role,
                        category=category,
                        action=action,
                        max_sensitivity=level,
                        justification=justification,
                    )
                except DomainError as exc:
                    where = f"{role} / {category} / {action}"
                    raise DomainError(
                        " ".join(f"{where}: {m}" for ms in exc.errors.values() for m in ms),
                        field="matrix",
                    ) from None
                changed += 1
    except DomainError as exc:
        context = _context(request, errors=exc.errors)
        return render(request, "governance/access_rules.html", context, status=400)
    return redirect(f"{reverse('access-rules')}?saved={changed}")


def _expiry(value: str) -> dt.datetime | None:
    """A local date/time from the form (agency zone), or None for "until revoked"."""
    if not value.strip():
        return None
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise DomainError("Give a date and time (YYYY-MM-DDTHH:MM).", field="expires_at") from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(settings.BEACON_TIME_ZONE))


@require_POST
def user_grant_add(request: HttpRequest) -> HttpResponse:
    _require(request, Action.CHANGE)
    post = request.POST
    try:
        access_rules.user_grant_set(
            actor=request.user,
            user_id=post.get("user"),
            category=post.get("category"),
            action=post.get("action"),
            max_sensitivity=post.get("max_sensitivity"),
            expires_at=_expiry(post.get("expires_at", "")),
            reason=post.get("reason", ""),
        )
    except DomainError as exc:
        context = _context(request, errors=exc.errors, grant_values=post)
        return render(request, "governance/access_rules.html", context, status=400)
    return redirect(f"{reverse('access-rules')}?saved=1#personal")


@require_POST
def user_grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    try:
        access_rules.user_grant_revoke(
            actor=request.user, grant_id=grant_id, justification=request.POST.get("reason", "")
        )
    except NotFoundError:
        raise Http404 from None
    except DomainError as exc:
        context = _context(request, errors=exc.errors)
        return render(request, "governance/access_rules.html", context, status=400)
    return redirect(f"{reverse('access-rules')}?saved=1#personal")
