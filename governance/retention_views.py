"""The retention page (admins): policies per category, legal holds, the last purge's counts and
a preview of the next one.

Views are thin: ``governance.retention`` validates, writes and audits. A batch of policy edits is
one transaction, so one refused row leaves every row as it was.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from beacon_core.errors import DomainError, NotFoundError
from governance import retention
from governance.access import can
from governance.choices import Action, Category, HoldObject, RetentionAction, RetentionCategory
from governance.models import RetentionPolicy
from governance.selectors import last_purge_results, legal_holds_for

PAGE = "governance/retention.html"


def _require(request: HttpRequest, action: str) -> None:
    if not can(request.user, action, Category.ACCESS_POLICY):
        raise PermissionDenied


def _rows(values: Any) -> list[dict[str, Any]]:
    stored = {p.category: p for p in RetentionPolicy.objects.select_related("updated_by")}
    last = last_purge_results()
    previews = {r.category: r for r in retention.preview()}
    due = {d.category: d for d in retention.due_within(retention.DUE_SOON_DAYS)}
    rows = []
    for category, label in RetentionCategory.choices:
        policy = stored.get(category) or retention.policy_for(category)
        rows.append(
            {
                "category": category,
                "label": label,
                "policy": policy,
                "actions": [
                    (v, lbl)
                    for v, lbl in RetentionAction.choices
                    if v in retention.ALLOWED_ACTIONS[category]
                ],
                "min_days": retention.MIN_KEEP_DAYS.get(category, 1),
                "purgeable": category in retention.PURGEABLE,
                "last": last.get(category),
                "preview": previews.get(category),
                "due": due.get(category),
                # What the form sent, shown again after a refusal.
                "days_value": values.get(f"keep_days:{category}", policy.keep_days),
                "action_value": values.get(f"action:{category}", policy.action),
            }
        )
    return rows


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "rows": _rows(extra.get("values") or {}),
        "due_days": retention.DUE_SOON_DAYS,
        "holds": legal_holds_for(request.user),
        "hold_types": HoldObject.choices,
        "may_change": can(request.user, Action.CHANGE, Category.ACCESS_POLICY),
        "may_hold": retention.may_manage_holds(request.user),
        "errors": {},
        "values": {},
        "saved": request.GET.get("saved", ""),
        **extra,
    }


@require_GET
def retention_page(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    return render(request, PAGE, _context(request))


@require_POST
def retention_policies_save(request: HttpRequest) -> HttpResponse:
    """Apply the edited table: only rows whose days or action changed are written (and audited)."""
    _require(request, Action.CHANGE)
    post = request.POST
    justification = post.get("justification", "")
    changed = 0
    try:
        with transaction.atomic():
            for category, label in RetentionCategory.choices:
                days, action = post.get(f"keep_days:{category}"), post.get(f"action:{category}")
                if days is None and action is None:
                    continue  # row not sent: left as it is
                current = retention.policy_for(category)
                action = action if action is not None else current.action
                if str(days).strip() == str(current.keep_days) and action == current.action:
                    continue
                try:
                    retention.retention_policy_set(
                        actor=request.user,
                        category=category,
                        keep_days=days if days is not None else current.keep_days,
                        action=action,
                        justification=justification,
                    )
                except DomainError as exc:
                    raise DomainError(
                        {f: [f"{label}: {m}" for m in ms] for f, ms in exc.errors.items()}
                    ) from None
                changed += 1
            if not any(k.startswith(("keep_days:", "action:")) for k in post):
                raise DomainError("Nothing to save: send keep_days:<category>.", field="keep_days")
    except DomainError as exc:
        context = _context(request, errors=exc.errors, values=post)
        return render(request, PAGE, context, status=400)
    return redirect(f"{reverse('retention')}?saved={changed}")


@require_POST
def legal_hold_place(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    post = request.POST
    try:
        retention.legal_hold_place(
            actor=request.user,
            object_type=post.get("object_type"),
            object_id=post.get("object_id"),
            reason=post.get("reason", ""),
        )
    except DomainError as exc:
        context = _context(request, errors=exc.errors, values=post)
        return render(request, PAGE, context, status=400)
    return redirect(f"{reverse('retention')}?saved=1#holds")


@require_POST
def legal_hold_release(request: HttpRequest, hold_id: int) -> HttpResponse:
    _require(request, Action.VIEW)
    try:
        retention.legal_hold_release(
            actor=request.user, hold_id=hold_id, reason=request.POST.get("reason", "")
        )
    except NotFoundError:
        raise Http404 from None
    except DomainError as exc:
        context = _context(request, errors=exc.errors)
        return render(request, PAGE, context, status=400)
    return redirect(f"{reverse('retention')}?saved=1#holds")
