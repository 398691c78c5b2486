"""Schemathesis against Beacon's own OpenAPI schema: every operation, as every role and anonymous,
answers without a server error and as the schema documents (status, content type, body, headers).

The schema is served by the app (``/api/schema/``) and the requests go straight into Django's WSGI
handler (no server, no network). The records come from the authorization matrix's world, made
once for the module; each request runs in a savepoint that is rolled back, so a DELETE or a
closing call as one role leaves the record for the next. ``BEACON_FUZZ_MAX_EXAMPLES`` sets the
number of generated requests per operation (docs/reliability.md, "Hostile input").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.governance.matrix_world import ROLES, World, build_world

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("BEACON_FUZZ_MAX_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Valid and invalid requests alike. The coverage phase (every boundary value of every parameter,
# hundreds of requests per operation before the budget applies) is too slow for CI.
CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"mode": "all"}, "phases": {"coverage": {"enabled": False}}}
)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    # Django closes the connection at the end of every request when it is inside a transaction;
    # the test client stops that the same way, or the module's transaction would end with the
    # first request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def tokens(world: World, django_db_blocker: Any) -> dict[str, str]:
    with django_db_blocker.unblock():
        return {role: Token.objects.create(user=world.users[role]).key for role in ROLES}


# Loaded at collection from the app itself (an anonymous GET, no database): one test per operation.
# (schemathesis' lazy fixture loader does not run under pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_as_every_role(case: Any, tokens: dict[str, str]) -> None:
    for role in ("anonymous", *ROLES):
        headers = {} if role == "anonymous" else {"Authorization": f"Token {tokens[role]}"}
        with transaction.atomic():
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as exc:
                exc.add_note(f"as {role}")
                raise
            finally:
                transaction.set_rollback(True)
