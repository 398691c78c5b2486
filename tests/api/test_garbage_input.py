"""Garbage in, a 4xx out: no wrong type, huge string, null, NaN or odd byte reaches a 500.

Each write endpoint gets a valid base payload with one field at a time replaced by
garbage, then whole bodies that are not objects at all; each list endpoint gets
garbage query parameters. The answers must all be below 500 (most are 400s).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

GARBAGE: list[Any] = [
    None,
    True,
    -1,
    0,
    10**30,
    -(10**30),
    1e308,
    "",
    "   ",
    "x" * 100_000,
    "NaN",
    "Infinity",
    "\x00",
    "a\x00b",
    "\ud800",
    "💥" * 300,
    "<script>alert(1)</script>",
    "'; DROP TABLE dispatch_call; --",
    "2025-13-45T99:99:99Z",
    [],
    [1, 2],
    {},
    {"nested": {"deeper": [None]}},
]
RAW_BODIES = [
    "[]",
    "null",
    "42",
    '"text"',
    '{"latitude": NaN, "longitude": Infinity}',
    "{not json",
    "[" * 5000 + "]" * 5000,
]


@pytest.fixture
def targets(call, unit, agency, cast) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(role, method, url, valid base payload) for every write endpoint."""
    from dispatch import services

    location = call.location
    person = services.person_create(agency=agency, last_name="Base")
    spare_unit = UnitFactory(agency=agency, call_sign="S1")
    c = f"/api/v1/calls/{call.pk}/"
    return [
        (
            "supervisor",
            "post",
            "/api/v1/calls/",
            {
                "call_type": "THEFT",
                "priority": 2,
                "source": "phone",
                "address": "1 Main St",
                "locality": "Town",
                "latitude": 29.4,
                "longitude": -98.4,
                "caller_name": "A",
                "caller_phone": "1",
                "narrative": "n",
                "received_at": "2025-01-01T00:00:00Z",
                "external_id": "E1",
            },
        ),
        (
            "supervisor",
            "patch",
            c,
            {
                "version": 1,
                "call_type": "THEFT",
                "priority": 2,
                "source": "phone",
                "narrative": "n",
                "caller_name": "A",
                "caller_phone": "1",
                "address": "2 Main St",
                "locality": "Town",
                "latitude": 29.4,
                "longitude": -98.4,
            },
        ),
        ("supervisor", "post", c + "notes/", {"text": "hello"}),
        (
            "supervisor",
            "post",
            c + "attach/",
            {"text": "t", "caller_name": "B", "caller_phone": "2"},
        ),
        ("supervisor", "post", c + "assign/", {"unit": spare_unit.pk}),
        (
            "supervisor",
            "post",
            c + "status/",
            {"status": "cancelled", "disposition": None, "note": "x", "version": 1},
        ),
        ("supervisor", "post", c + "close/", {"disposition": "REPORT", "note": "x", "version": 1}),
        (
            "supervisor",
            "post",
            f"/api/v1/units/{unit.pk}/status/",
            {"status": "off_duty", "expected_status": "available"},
        ),
        (
            "field",
            "post",
            f"/api/v1/units/{unit.pk}/positions/",
            {
                "positions": [
                    {
                        "recorded_at": "2025-01-01T00:00:00Z",
                        "latitude": 29.4,
                        "longitude": -98.4,
                        "heading": 1,
                        "speed": 1,
                        "accuracy": 1,
                    }
                ]
            },
        ),
        (
            "supervisor",
            "post",
            f"/api/v1/locations/{location.pk}/notes/",
            {"text": "t", "kind": "hazard", "sensitivity": 1, "expires_at": None},
        ),
        (
            "supervisor",
            "post",
            "/api/v1/observations/",
            {
                "category": "other",
                "observed_at": "2025-01-01T00:00:00Z",
                "narrative": "n",
                "address": "1 Main St",
                "latitude": 29.4,
                "longitude": -98.4,
                "call": call.pk,
                "sensitivity": 1,
            },
        ),
        (
            "supervisor",
            "post",
            "/api/v1/persons/",
            {
                "last_name": "L",
                "first_name": "F",
                "middle_name": "M",
                "date_of_birth": "1990-01-01",
                "sex": "X",
                "description": "d",
                "sensitivity": 2,
            },
        ),
        (
            "supervisor",
            "post",
            "/api/v1/vehicles/",
            {
                "plate": "ABC1",
                "plate_state": "TX",
                "make": "m",
                "model": "m",
                "color": "c",
                "year": 2000,
                "description": "d",
                "sensitivity": 2,
            },
        ),
        (
            "supervisor",
            "post",
            "/api/v1/involvements/",
            {"role": "witness", "person": person.pk, "call": call.pk, "notes": "n"},
        ),
        ("supervisor", "post", f"/api/v1/persons/{person.pk}/validate/", {"rationale": "r"}),
        (
            "supervisor",
            "post",
            "/api/v1/legal-holds/",
            {"object_type": "dispatch.person", "object_id": person.pk, "reason": "r"},
        ),
    ]


def _send(client, method: str, url: str, body: Any):
    # Encoded here with ASCII escapes so lone surrogates reach the server as JSON allows.
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def _field_values(field: str, base: dict[str, Any]) -> list[Any]:
    """Garbage for a field; for the AVL batch, garbage inside one fix too."""
    if field != "positions":
        return GARBAGE
    fix = base["positions"][0]
    return GARBAGE + [[{**fix, key: value}] for key in fix for value in GARBAGE]


def test_no_write_endpoint_answers_5xx_to_garbage_fields(client_for, targets):
    failures = []
    for role, method, url, base in targets:
        client = client_for(role)
        for field in base:
            for value in _field_values(field, base):
                response = _send(client, method, url, {**base, field: value})
                if response.status_code >= 500:
                    failures.append((url, field, repr(value)[:60], response.status_code))
    assert failures == []


def test_no_write_endpoint_answers_5xx_to_bodies_that_are_not_objects(client_for, targets):
    failures = []
    for role, method, url, _base in targets:
        client = client_for(role)
        for raw in RAW_BODIES:
            response = getattr(client, method)(url, data=raw, content_type="application/json")
            if response.status_code >= 500:
                failures.append((url, raw[:30], response.status_code))
        for body in (GARBAGE[:4], {"unknown": 1}, json.loads('{"a": [1, {"b": null}]}')):
            if _send(client, method, url, body).status_code >= 500:
                failures.append((url, repr(body)[:30]))
    assert failures == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/calls/",
        "/api/v1/units/",
        "/api/v1/locations/",
        "/api/v1/observations/",
        "/api/v1/persons/",
        "/api/v1/vehicles/",
        "/api/v1/involvements/",
        "/api/v1/call-types/",
        "/api/v1/dispositions/",
    ],
)
def test_no_list_endpoint_answers_5xx_to_garbage_query_parameters(client_for, call, url):
    params = [
        "status",
        "priority",
        "call_type",
        "source",
        "received_after",
        "received_before",
        "open",
        "location",
        "number",
        "kind",
        "q",
        "locality",
        "category",
        "observed_after",
        "call",
        "name",
        "date_of_birth",
        "plate",
        "plate_state",
        "make",
        "role",
        "person",
        "vehicle",
        "observation",
        "active",
        "ordering",
        "page",
        "page_size",
    ]
    values = ["", "\x00", "x" * 5000, "-1", "1e400", "99999999999999999999999", "NaN", "🙂", "a,b"]
    client = client_for("supervisor")
    failures = [
        (param, value[:20], response.status_code)
        for param in params
        for value in values
        if (response := client.get(url, {param: value})).status_code >= 500
    ]
    assert failures == []


def test_detail_and_history_urls_answer_4xx_to_garbage_ids(client_for, call, unit):
    client = client_for("supervisor")
    for path in (
        "/api/v1/calls/{}/",
        "/api/v1/calls/{}/events/",
        "/api/v1/units/{}/positions/?since=%00",
        "/api/v1/locations/{}/history/",
        "/api/v1/persons/{}/",
    ):
        for pk in ("0", "9" * 18, "9" * 40, "abc", "-1", "1.5"):
            response = client.get(path.format(pk))
            assert response.status_code < 500, (path, pk, response.status_code)
    response = client.get(f"/api/v1/units/{unit.pk}/positions/", {"since": "\x00"})
    assert response.status_code == 400
