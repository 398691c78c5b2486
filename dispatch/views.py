"""Dispatch pages. The full console arrives with the console issue; these list and show calls."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from beacon_core.errors import NotFoundError
from dispatch import selectors
from dispatch.permissions import access_call, can_see_caller_identity
from governance.access import can
from governance.choices import Action, Category


def call_list_page(request: HttpRequest) -> HttpResponse:
    """Recent calls the user may see, newest first."""
    if not can(request.user, Action.VIEW, Category.CALL):
        raise PermissionDenied
    page = Paginator(selectors.call_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "dispatch/call_list.html", {"page": page})


def call_detail_page(request: HttpRequest, call_id: int) -> HttpResponse:
    """One call with its timeline and units."""
    try:
        access_call(request.user, call_id)
    except NotFoundError:
        raise Http404 from None
    call = selectors.call_detail(user=request.user, call_id=call_id)
    return render(request, "dispatch/call_detail.html",
                  {"call": call, "show_caller": can_see_caller_identity(request.user)})
