"""The webhooks page (admins): register outbound webhooks, show or rotate their secret, switch
them on and off, send a test event, and read each one's delivery log.

Views are thin: ``governance.webhooks`` validates, writes and audits. An admin sees and manages
only their own agency's webhooks; another agency's answers like a missing one (404).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from beacon_core.errors import DomainError, NotFoundError
from governance import webhooks
from governance.access import can, user_agency_id
from governance.choices import Action, Category
from governance.models import Agency

LIST_PAGE = "governance/webhooks.html"
DETAIL_PAGE = "governance/webhook_detail.html"


def _require(request: HttpRequest) -> int | None:
    # Webhooks send agency events outside Beacon and hold signing secrets: the access-rule
    # keepers' (admins') business, like retention.
    if not can(request.user, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied
    return user_agency_id(request.user)


def _list_context(request: HttpRequest, agency_id: int | None, **extra: Any) -> dict[str, Any]:
    values = extra.pop("values", {})
    chosen = values.getlist("events") if hasattr(values, "getlist") else []
    return {
        "webhooks": webhooks.webhooks_for(agency_id),
        "event_types": webhooks.event_types(chosen),
        "values": values,
        "errors": {},
        "saved": request.GET.get("saved", ""),
        "max_attempts": webhooks.MAX_ATTEMPTS,
        "disable_after": webhooks.DISABLE_AFTER_FAILURES,
        **extra,
    }


def _detail(request: HttpRequest, webhook: Any, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "webhook": webhook,
        "deliveries": webhooks.deliveries_for(webhook),
        "errors": {},
        "secret": None,
        "saved": request.GET.get("saved", ""),
        **extra,
    }
    return render(request, DETAIL_PAGE, context, status=status)


def _webhook(webhook_id: int, agency_id: int | None) -> Any:
    try:
        return webhooks.webhook_get(webhook_id=webhook_id, agency_id=agency_id)
    except NotFoundError:
        raise Http404 from None


@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    agency_id = _require(request)
    return render(request, LIST_PAGE, _list_context(request, agency_id))


@require_POST
def webhook_create(request: HttpRequest) -> HttpResponse:
    """Register; the answer shows the new secret once (it is not put in a redirect URL)."""
    agency_id = _require(request)
    post = request.POST
    try:
        agency = Agency.objects.filter(pk=agency_id).first()
        if agency is None:
            raise DomainError("Your account belongs to no agency.", field="agency")
        webhook = webhooks.webhook_create(
            actor=request.user,
            agency=agency,
            name=post.get("name"),
            url=post.get("url"),
            events=post.getlist("events"),
            allow_private_network=post.get("allow_private_network") in ("on", "1", "true"),
        )
    except DomainError as exc:
        context = _list_context(request, agency_id, errors=exc.errors, values=post)
        return render(request, LIST_PAGE, context, status=400)
    return _detail(request, webhook, status=201, secret=webhook.secret, created=True)


@require_GET
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    agency_id = _require(request)
    return _detail(request, _webhook(webhook_id, agency_id))


@require_POST
def webhook_secret(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """``action=show`` (audited) or ``action=rotate``; either answers with the secret."""
    agency_id = _require(request)
    webhook = _webhook(webhook_id, agency_id)
    what = request.POST.get("action", "")
    if what == "show":
        secret = webhooks.webhook_reveal_secret(
            actor=request.user, webhook_id=webhook_id, agency_id=agency_id
        )
    elif what == "rotate":
        webhook = webhooks.webhook_rotate_secret(
            actor=request.user, webhook_id=webhook_id, agency_id=agency_id
        )
        secret = webhook.secret
    else:
        errors = {"action": ["Choose show or rotate."]}
        return _detail(request, webhook, status=400, errors=errors)
    return _detail(request, webhook, secret=secret, rotated=what == "rotate")


@require_POST
def webhook_active(request: HttpRequest, webhook_id: int) -> HttpResponse:
    agency_id = _require(request)
    webhook = _webhook(webhook_id, agency_id)
    try:
        webhooks.webhook_set_active(
            actor=request.user,
            webhook_id=webhook_id,
            agency_id=agency_id,
            active=request.POST.get("active", ""),
        )
    except DomainError as exc:
        return _detail(request, webhook, status=400, errors=exc.errors)
    return redirect(f"{reverse('webhook-detail', args=[webhook_id])}?saved=1")


@require_POST
def webhook_test(request: HttpRequest, webhook_id: int) -> HttpResponse:
    agency_id = _require(request)
    _webhook(webhook_id, agency_id)
    webhooks.webhook_send_test(actor=request.user, webhook_id=webhook_id, agency_id=agency_id)
    return redirect(f"{reverse('webhook-detail', args=[webhook_id])}?saved=test")
