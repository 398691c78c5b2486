"""The authorization matrix's world with one signed-in session per role, for module fixtures
of tests that walk the matrix's routes (CSRF, Content-Security-Policy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.test import Client

from tests.governance.authorization_matrix import ROLES
from tests.governance.matrix_world import World, build_world


def signed_in_world(django_db_blocker: Any) -> Iterator[World]:
    """Build the world inside a transaction rolled back when the generator is closed."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            for role in ROLES[1:]:
                client = Client()
                client.force_login(built.users[role])
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
