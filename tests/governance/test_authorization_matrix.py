"""The authorization matrix (governance issue): every URL pattern x role x method gets the answer
``authorization_matrix.py`` says; a pattern missing from the matrix fails (fails closed); a record
a role may not see answers exactly like one that does not exist (no existence leaks).

The records are made once for the module (``world``) inside a transaction rolled back at the
end; each test runs in its own savepoint, so writes (and sign-outs) never leak between tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from tests.governance.authorization_matrix import (
    EXCLUDED,
    HIDDEN_VISIBLE_TO,
    KNOWN_DUPLICATE_NAMES,
    LEAK_XFAIL,
    MATRIX,
    MISSING_ID,
    REFERENCES,
    ROLES,
    WEBSOCKETS,
)
from tests.governance.matrix_sessions import signed_in_world
from tests.governance.matrix_support import (
    OUTCOMES,
    build_url,
    classify,
    duplicate_url_names,
    object_id,
    request,
    shape,
    url_patterns,
)
from tests.governance.matrix_world import World

pytestmark = pytest.mark.django_db

PATTERNS = {p.key: p for p in url_patterns()}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The cast and its records, made once; one signed-in session per role."""
    yield from signed_in_world(django_db_blocker)


# One client for the module: a new one loads the middleware again, and WhiteNoise's scans every
# static file (20 ms a request, most of this module's time).
_CLIENT = Client()


def client_as(world: World, role: str) -> Client:
    """The shared client, signed in as ``role`` (its cookies reset: nothing carries over)."""
    client = _CLIENT
    client.cookies.clear()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def _query(entry: Any, world: World) -> str:
    return re.sub(r"\{own:(\w+)\}", lambda m: str(world.own[m.group(1)]), entry.query)


# --- coverage: every pattern is in the matrix, and only patterns that exist --------------------


def test_every_route_is_in_the_matrix() -> None:
    missing = sorted(set(PATTERNS) - set(MATRIX) - set(EXCLUDED))
    assert not missing, (
        "These URL patterns are not in the authorization matrix. Add each one to "
        "tests/governance/authorization_matrix.py with every role's expected answer "
        "(docs/authorization-matrix.md):\n  " + "\n  ".join(missing)
    )


def test_matrix_lists_no_stale_routes() -> None:
    stale = sorted((set(MATRIX) | set(EXCLUDED)) - set(PATTERNS))
    assert not stale, "No such URL pattern any more; remove from the matrix:\n  " + "\n  ".join(
        stale
    )


def test_matrix_rows_use_known_outcomes() -> None:
    for key, entry in MATRIX.items():
        for method, row in entry.checks.items():
            unknown = set(row.split()) - set(OUTCOMES)
            assert not unknown, f"{key} {method}: unknown outcome(s) {unknown}"
            assert "error" not in row.split(), f"{key} {method}: a 5xx is never expected"


def test_url_names_are_unique() -> None:
    """reverse() of a name given to two patterns returns only one of them (a page's form can end
    up posting to an API route)."""
    duplicates = {k: v for k, v in duplicate_url_names().items() if k not in KNOWN_DUPLICATE_NAMES}
    assert not duplicates, f"URL names used by more than one pattern: {duplicates}"


def test_xfail_marks_name_real_cases() -> None:
    for key, entry in MATRIX.items():
        for method, role in entry.xfail:
            assert method in entry.checks and role in ROLES, f"{key}: stale xfail {method} {role}"
    leak_ids = {p.id for p in _leak_cases()}
    for key, method, role, variant in LEAK_XFAIL:
        assert f"{key}|{method}|{role}|{variant}" in leak_ids, f"stale LEAK_XFAIL entry for {key}"


def test_websocket_routes_are_in_the_matrix() -> None:
    from config.routing import websocket_urlpatterns

    routes = {str(p.pattern) for p in websocket_urlpatterns}
    assert routes == set(WEBSOCKETS), (
        "Websocket routes and the matrix differ; add new ones to WEBSOCKETS in "
        f"tests/governance/authorization_matrix.py: {sorted(routes ^ set(WEBSOCKETS))}"
    )


# --- each route x role x method --------------------------------------------------------------


def _cases() -> Iterator[Any]:
    for key in sorted(MATRIX):
        entry = MATRIX[key]
        for method, row in entry.checks.items():
            for role, expected in zip(ROLES, row.split(), strict=True):
                marks = []
                if (method, role) in entry.xfail:
                    marks.append(pytest.mark.xfail(strict=True, reason=entry.xfail[method, role]))
                yield pytest.param(
                    key, method, role, expected, id=f"{key}|{method}|{role}", marks=marks
                )


@pytest.mark.parametrize(("key", "method", "role", "expected"), list(_cases()))
def test_route_answers_role(world: World, key: str, method: str, role: str, expected: str) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern (see test_matrix_lists_no_stale_routes)")
    entry = MATRIX[key]
    url = build_url(PATTERNS[key], entry.obj, object_id(entry.obj, world)) + _query(entry, world)
    response = request(client_as(world, role), method, url, None)
    got = classify(response, anonymous=role == "anonymous", api=url.startswith("/api/"))
    assert got == expected, (
        f"{method} {url} as {role}: expected {expected} ({OUTCOMES.get(expected)}), "
        f"got {got} (HTTP {response.status_code})"
    )


# --- no existence leaks: a record a role may not see answers like a missing one --------------


def _leak_cases() -> Iterator[Any]:
    for key in sorted(MATRIX):
        entry = MATRIX[key]
        if entry.obj is None:
            continue
        for (kind, variant), visible_to in sorted(HIDDEN_VISIBLE_TO.items()):
            if kind != entry.obj:
                continue
            for method in entry.checks:
                for role in ROLES[1:]:
                    if role in visible_to:
                        continue
                    reason = LEAK_XFAIL.get((key, method, role, variant))
                    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                    yield pytest.param(
                        key,
                        method,
                        role,
                        variant,
                        id=f"{key}|{method}|{role}|{variant}",
                        marks=marks,
                    )


@pytest.mark.parametrize(("key", "method", "role", "variant"), list(_leak_cases()))
def test_hidden_record_looks_missing(
    world: World, key: str, method: str, role: str, variant: str
) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern")
    entry = MATRIX[key]
    pattern = PATTERNS[key]
    hidden_id = world.hidden[entry.obj][variant]
    client = client_as(world, role)
    sid = transaction.savepoint()
    hidden = request(client, method, build_url(pattern, entry.obj, hidden_id), None)
    transaction.savepoint_rollback(sid)
    missing = request(
        client_as(world, role), method, build_url(pattern, entry.obj, MISSING_ID), None
    )
    assert hidden.status_code < 500, f"{method} {key} as {role}: HTTP {hidden.status_code}"
    assert shape(hidden, hidden_id) == shape(missing, MISSING_ID), (
        f"{method} {key} as {role}: the {variant} record answers HTTP {hidden.status_code}, "
        f"a missing one HTTP {missing.status_code} (or their bodies differ): an existence leak"
    )


# --- records named in a body or query string: hidden looks missing too ------------------------


def _fill(template: Any, world: World, ident: int) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, world, ident) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, world, ident) for v in template]
    if isinstance(template, str) and template == "{id}":
        return ident
    if isinstance(template, str) and template.startswith("{own:"):
        return world.own[template[5:-1]]
    if isinstance(template, str):
        return template.replace("{id}", str(ident))
    return template


def _reference_cases() -> Iterator[Any]:
    for key, method, kind, template in REFERENCES:
        for (hidden_kind, variant), visible_to in sorted(HIDDEN_VISIBLE_TO.items()):
            if hidden_kind != kind:
                continue
            for role in ROLES[1:]:
                if role not in visible_to:
                    yield pytest.param(
                        key,
                        method,
                        kind,
                        template,
                        role,
                        variant,
                        id=f"{key}|{method}|{kind}|{role}|{variant}",
                    )


@pytest.mark.parametrize(
    ("key", "method", "kind", "template", "role", "variant"), list(_reference_cases())
)
def test_hidden_reference_looks_missing(
    world: World, key: str, method: str, kind: str, template: Any, role: str, variant: str
) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern")
    entry = MATRIX[key]
    url = build_url(PATTERNS[key], entry.obj, object_id(entry.obj, world)) + _query(entry, world)
    hidden_id = world.hidden[kind][variant]

    def send(ident: int) -> Any:
        client = client_as(world, role)
        if isinstance(template, str):
            return client.get(url + _fill(template, world, ident))
        return request(client, method, url, _fill(template, world, ident))

    sid = transaction.savepoint()
    hidden = send(hidden_id)
    transaction.savepoint_rollback(sid)
    missing = send(MISSING_ID)
    assert hidden.status_code < 500, f"{method} {key} as {role}: HTTP {hidden.status_code}"
    assert shape(hidden, hidden_id) == shape(missing, MISSING_ID), (
        f"{method} {key} naming a {variant} {kind} as {role}: HTTP {hidden.status_code}, "
        f"a missing one HTTP {missing.status_code} (or their bodies differ): an existence leak"
    )


# --- what an allowed page shows: nothing of records the role may not see ---------------------


def _content_cases() -> Iterator[Any]:
    for key in sorted(MATRIX):
        row = MATRIX[key].checks.get("GET")
        if row is None:
            continue
        for role, expected in zip(ROLES, row.split(), strict=True):
            if expected == "ok" and role != "anonymous":
                yield pytest.param(key, role, id=f"{key}|{role}")


@pytest.mark.parametrize(("key", "role"), list(_content_cases()))
def test_allowed_answer_shows_nothing_hidden(world: World, key: str, role: str) -> None:
    if key not in PATTERNS:
        pytest.skip(f"{key} is not a URL pattern")
    entry = MATRIX[key]
    url = build_url(PATTERNS[key], entry.obj, object_id(entry.obj, world)) + _query(entry, world)
    response = client_as(world, role).get(url)
    if response.streaming:
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    shown = sorted(t for t, roles in world.sentinels.items() if role not in roles and t in body)
    assert not shown, f"GET {url} as {role} shows what the role may not see: {shown}"


# --- known leaks outside the URL and reference checks ----------------------------------------


@pytest.mark.parametrize("role", ["dispatcher", "field"])
def test_recording_a_plate_does_not_tell_a_confidential_one_exists(world: World, role: str) -> None:
    # A plate on record above the role's level answers like a new plate: the role gets a record of
    # its own level (vehicle_get_or_create(visible_up_to=...)), never a hint of the other.
    secret = request(client_as(world, role), "POST", "/api/v1/vehicles/", {"plate": "SEC999"})
    fresh = request(client_as(world, role), "POST", "/api/v1/vehicles/", {"plate": "FRESH777"})
    assert secret.status_code == fresh.status_code == 201
    assert set(secret.json()) == set(fresh.json())
    assert secret.json()["sensitivity"] == fresh.json()["sensitivity"]


def test_the_admin_lists_only_their_agencys_accounts(world: World) -> None:
    # User has no agency field: BeaconUserAdmin scopes accounts through their Membership.
    listing = client_as(world, "admin").get("/admin/auth/user/").content.decode()
    assert "dispatcher1" in listing
    assert "n-supervisor" not in listing
