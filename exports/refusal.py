"""A refused export asked for by a page's Export form answers with a page, not JSON.

The form GETs the API endpoint directly (no script), so a 400 used to show the browser a raw
``{"purpose": [...]}``. A request that asks for HTML first (a browser navigation) now gets the
errors with the field's label and the form again with what was typed; API clients keep JSON.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from governance.export_links import TARGETS

# Query parameter -> the label the form (or the user) knows it by.
LABELS = {
    "purpose": "Purpose",
    "recipient": "Recipient",
    "from": "From",
    "to": "To",
    "type": "Call type",
    "status": "Status",
    "kind": "Kind",
    "non_field_errors": "",
}
FORM_FIELDS = ("purpose", "recipient", "from", "to")


def wants_page(request: HttpRequest) -> bool:
    """A browser following a form asks for HTML before anything else; API clients do not."""
    accept = request.META.get("HTTP_ACCEPT", "")
    return accept.split(",", 1)[0].strip().startswith("text/html")


def refused_page(request: HttpRequest, errors: Any) -> HttpResponse:
    """The errors (each under its field's label) above the Export form filled as it was sent."""
    items = errors.items() if isinstance(errors, dict) else [("non_field_errors", errors)]
    lines = [
        {"label": LABELS.get(str(field), str(field)), "message": message}
        for field, messages in items
        for message in _messages(messages)
    ]
    match = request.resolver_match
    label = TARGETS.get(match.url_name if match else "", ("Export", ""))[0]
    back = request.META.get("HTTP_REFERER", "")
    same_site = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {
        "errors": lines,
        "exports": [{"label": label, "url": request.path}],
        "export_values": {name: request.GET.get(name, "") for name in FORM_FIELDS},
        "export_open": True,
        "back": back if same_site else "",
    }
    return render(request, "exports/refused.html", context, status=400)


def _messages(value: Any) -> list[str]:
    # A list parameter's errors come keyed by position ({"status": {1: ["…"]}}): flatten them.
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]
