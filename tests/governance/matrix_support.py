"""Machinery of the authorization matrix: enumerate URL patterns, build URLs, classify answers.

The data (which answer each role gets) is in ``authorization_matrix.py``; the tests are in
``test_authorization_matrix.py``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.governance.authorization_matrix import MISSING_ID
from tests.governance.matrix_world import World


@dataclass(frozen=True)
class Pattern:
    """One resolvable URL pattern: its key in the matrix (its name, or its route when unnamed)."""

    key: str
    route: str
    name: str | None
    kwargs: tuple[str, ...]


def _kwarg_names(pattern: Any) -> tuple[str, ...]:
    return tuple(pattern.regex.groupindex)


def url_patterns() -> list[Pattern]:
    """Every URL pattern of the project, walking includes and namespaces (e.g. ``admin:``)."""
    found: list[Pattern] = []

    def walk(patterns: list[Any], prefix: str, namespace: str | None, kwargs: tuple) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace
                walk(
                    p.url_patterns,
                    prefix + str(p.pattern),
                    f"{namespace}:{ns}" if namespace and ns else (ns or namespace),
                    kwargs + _kwarg_names(p.pattern),
                )
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                found.append(
                    Pattern(
                        key=name or route,
                        route=route,
                        name=name,
                        kwargs=kwargs + _kwarg_names(p.pattern),
                    )
                )

    walk(get_resolver().url_patterns, "", None, ())
    # A name used twice cannot key the matrix (and reverse() finds only one of the two, see
    # test_url_names_are_unique): those patterns are keyed "<name> @ <route>", built by hand.
    names = Counter(p.name for p in found if p.name)
    return [
        Pattern(key=f"{p.name} @ {p.route}", route=p.route, name=None, kwargs=p.kwargs)
        if p.name and names[p.name] > 1
        else p
        for p in found
    ]


def duplicate_url_names() -> dict[str, list[str]]:
    """URL names given to more than one pattern, with their routes."""
    routes: dict[str, list[str]] = {}
    for p in url_patterns():
        if p.name is None and " @ " in p.key:
            routes.setdefault(p.key.split(" @ ")[0], []).append(p.route)
    return routes


# --- URLs --------------------------------------------------------------------------------

# The record in the URL: ``pk``, ``id``, ``object_id`` or any ``<kind>_id`` (the route's ``obj``).
OBJECT_KWARGS = ("pk", "id", "object_id")


def object_id(obj: str | None, world: World) -> int | None:
    """The id of the record a route's ``obj`` names, in the cast's own agency."""
    if obj is None:
        return None
    if obj.startswith("admin:"):
        return world.admin_objects[obj.removeprefix("admin:")]
    return world.own[obj]


def build_url(pattern: Pattern, obj: str | None, ident: int | None) -> str:
    """The URL of ``pattern`` about record ``ident`` (None: the pattern takes no record)."""
    values: dict[str, Any] = {}
    for kwarg in pattern.kwargs:
        if kwarg in OBJECT_KWARGS or (kwarg.endswith("_id") and kwarg != "content_type_id"):
            assert ident is not None, f"{pattern.key}: the matrix entry needs obj=..."
            values[kwarg] = ident
        elif kwarg == "content_type_id":
            values[kwarg] = ContentType.objects.get(app_label="dispatch", model="unit").pk
        elif kwarg == "app_label":
            values[kwarg] = "dispatch"
        elif kwarg == "url":
            values[kwarg] = "no-such-page/"
        else:
            raise AssertionError(f"{pattern.key}: no value for URL argument {kwarg!r}")
    if pattern.name:
        return reverse(pattern.name, kwargs=values)
    # Unnamed patterns (the admin's object redirect and catch-all): fill the route by hand.
    url = "/" + pattern.route
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), url)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    return url.replace("^", "").replace("$", "")


# --- answers -----------------------------------------------------------------------------

OUTCOMES = {
    "ok": "2xx",
    "redirect": "3xx to a page other than a sign-in page",
    "login": "sign in first: 3xx to a sign-in page, or 401/403 from the API to anonymous",
    "invalid": "400 (allowed, but the empty or minimal body is refused)",
    "denied": "403",
    "hidden": "404",
    "method": "405",
    "conflict": "409 (allowed, but not in the record's current state)",
    "error": "5xx (always a bug)",
}
LOGIN_PATHS = ("/login/", "/admin/login/")


def classify(response: HttpResponse, *, anonymous: bool, api: bool) -> str:
    """The outcome class (a key of ``OUTCOMES``) of one answer."""
    status = response.status_code
    if 300 <= status < 400:
        location = response.get("Location", "")
        return "login" if location.split("?")[0].endswith(LOGIN_PATHS) else "redirect"
    if status == 401 or (status == 403 and anonymous and api):
        return "login"
    return {
        400: "invalid",
        403: "denied",
        404: "hidden",
        405: "method",
        409: "conflict",
    }.get(status, "ok" if 200 <= status < 300 else "error" if status >= 500 else str(status))


def request(client: Any, method: str, url: str, body: dict[str, Any] | None) -> HttpResponse:
    """One request as the matrix sends it: JSON to the API, form posts to pages."""
    api = url.startswith("/api/")
    if method == "GET":
        return client.get(url)
    data = body or {}
    if api:
        return client.generic(method, url, json.dumps(data), content_type="application/json")
    if method == "POST":
        return client.post(url, data)
    return client.generic(method, url, json.dumps(data), content_type="application/json")


def shape(response: HttpResponse, ident: int) -> Any:
    """What a leak comparison looks at: status, and the body with the record's id blanked."""

    def blank(text: str) -> str:
        for number in (ident, MISSING_ID):
            text = re.sub(rf"(?<!\d){number}(?!\d)", "<id>", text)
        return text

    text = blank(response.content.decode("utf-8", "replace"))
    location = blank(response.get("Location", ""))
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        try:
            return response.status_code, location, json.loads(text)
        except ValueError:
            pass
    # CSRF tokens differ per response; they are not about the record.
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'csrfToken["\']?\s*[:=]\s*["\'][^"\']*["\']', "", text)
    return response.status_code, location, text
