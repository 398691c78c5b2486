"""Fixtures shared by the whole suite: agencies, a named cast of users per role, API clients."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from dispatch.reference_data import load_defaults
from governance.models import Agency
from governance.services import roles_ensure
from tests.factories import AgencyFactory, UserFactory

# CI replays a fixed set of examples (a red build must be reproducible) and allows slow
# machines; locally hypothesis keeps exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROLES = ("dispatcher", "field", "supervisor", "analyst", "admin", "auditor")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests that need PostgreSQL or Redis when the environment does not provide them."""
    no_pg = not os.environ.get("DATABASE_URL", "").startswith("postgres")
    no_redis = not os.environ.get("REDIS_URL")
    for item in items:
        if no_pg and "postgres" in item.keywords:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
            )
        if no_redis and "redis" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://..."))


@pytest.fixture
def reference_data(db: None) -> None:
    """Default call types, dispositions and role groups.

    Data migrations create them, but a transactional test's flush empties the
    tables for the tests after it; restoring them here keeps tests independent.
    """
    load_defaults()
    roles_ensure()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with empty rate-limit counters (the cache is per process in tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def agency(reference_data: None) -> Agency:
    """The default agency every cast member works for."""
    return AgencyFactory(code="default")


@pytest.fixture
def other_agency(db: None) -> Agency:
    """A neighbouring agency whose records the cast must not see."""
    return AgencyFactory(code="neighbour", name="Neighbouring agency")


@pytest.fixture
def cast(agency: Agency) -> dict[str, object]:
    """One user per role in the default agency: ``cast["dispatcher"]`` and so on."""
    return {role: UserFactory(username=f"{role}1", roles=[role], agency=agency) for role in ROLES}


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(cast: dict[str, object]):
    """``client_for("dispatcher")``: an API client signed in as that role."""

    def _make(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=cast[role])
        return client

    return _make
