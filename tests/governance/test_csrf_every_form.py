"""CSRF protects every state-changing URL (issue #8): for each URL pattern that accepts a POST,
PUT, PATCH or DELETE from some role, that role's signed-in browser session sending the request
without a CSRF token is refused with 403 before anything runs.

The routes and roles come from the authorization matrix, so a new route is covered as soon as
it is added there (which its own test enforces). API calls authenticated by a token carry no
cookie a third-party page could ride on, so DRF checks CSRF for session authentication only
(docs/security.md); ``test_token_api_calls_need_no_csrf_token`` pins that design.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.governance.authorization_matrix import MATRIX, ROLES
from tests.governance.matrix_sessions import signed_in_world
from tests.governance.matrix_support import build_url, object_id, url_patterns
from tests.governance.matrix_world import World

pytestmark = pytest.mark.django_db

PATTERNS = {p.key: p for p in url_patterns()}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Outcomes that mean "this role may send this request" (the matrix's empty body may be refused
# as invalid, or the record be in the wrong state, but the request reaches the view).
ALLOWED = {"ok", "redirect", "invalid", "conflict"}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The authorization matrix's cast and records, made once and rolled back at the end."""
    yield from signed_in_world(django_db_blocker)


def _writers() -> list[Any]:
    """(route, method, role): the first role (signed-in roles first) allowed each unsafe request."""
    cases = []
    order = [*ROLES[1:], "anonymous"]  # the sign-in form is the one form anonymous people post
    for key in sorted(MATRIX):
        for method in UNSAFE:
            row = MATRIX[key].checks.get(method)
            if row is None:
                continue
            answers = dict(zip(ROLES, row.split(), strict=True))
            role = next((r for r in order if answers[r] in ALLOWED), None)
            if role is not None:
                cases.append(pytest.param(key, method, role, id=f"{key}|{method}|{role}"))
        # The matrix lists the admin's GETs only; every admin page also takes the admin's POST.
        if key.startswith("admin") and not set(UNSAFE) & set(MATRIX[key].checks):
            cases.append(pytest.param(key, "POST", "admin", id=f"{key}|POST|admin"))
    return cases


WRITERS = _writers()


def _refused_for_csrf(response: Any) -> bool:
    """Django's CSRF failure page, or DRF's session-authentication CSRF refusal."""
    if response.status_code != 403:
        return False
    body = response.content.decode("utf-8", "replace")
    if "json" in response.get("Content-Type", ""):
        return "CSRF" in json.dumps(json.loads(body))
    return "CSRF verification failed" in body


def test_the_walk_covers_pages_api_and_admin() -> None:
    """The walk is not vacuous: it reaches page forms, API writes and admin forms."""
    keys = {p.values[0] for p in WRITERS}
    assert "login" in keys
    assert any(k.startswith("admin:") for k in keys)
    assert any(PATTERNS[k].route.startswith("api/") for k in keys if k in PATTERNS)
    assert len(WRITERS) > 40


@pytest.mark.parametrize(("key", "method", "role"), WRITERS)
def test_unsafe_request_without_csrf_token_is_refused(
    world: World, key: str, method: str, role: str
) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern (see test_matrix_lists_no_stale_routes)")
    entry = MATRIX[key]
    query = re.sub(r"\{own:(\w+)\}", lambda m: str(world.own[m.group(1)]), entry.query)
    url = build_url(PATTERNS[key], entry.obj, object_id(entry.obj, world)) + query
    client = Client(enforce_csrf_checks=True)
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    # A CSRF cookie without the matching form field or header: what a forged cross-site form sends.
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    if url.startswith("/api/") or method != "POST":
        response = client.generic(method, url, "{}", content_type="application/json")
    else:
        response = client.post(url, {})
    assert _refused_for_csrf(response), (
        f"{method} {url} as {role} without a CSRF token: HTTP {response.status_code}, "
        "expected a CSRF refusal (403)"
    )


def test_the_same_request_with_a_token_passes_csrf(world: World) -> None:
    """The refusal above is about the token: sending it gets past CSRF to the view."""
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions["dispatcher"]
    page = client.get("/calls/")
    token = page.cookies[settings.CSRF_COOKIE_NAME].value if page.cookies else None
    token = token or client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/v1/calls/", "{}", content_type="application/json")
    assert _refused_for_csrf(response)
    response = client.post(
        "/api/v1/calls/", "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 400, response.content


def test_token_api_calls_need_no_csrf_token(world: World) -> None:
    """By design: a token is not sent automatically by browsers, so it cannot be forged."""
    token, _ = Token.objects.get_or_create(user=world.users["dispatcher"])
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/calls/",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 400, response.content
