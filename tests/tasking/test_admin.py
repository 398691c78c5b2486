"""Assignments, their events and reports, and finding outcomes are read-only in the admin: every
write goes through a service."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tasking/assignment/",
        "/admin/tasking/assignmentevent/",
        "/admin/tasking/assignmentreport/",
        "/admin/intelligence/findingoutcome/",
    ],
)
def test_listed_but_never_added_or_changed_here(client, agency, path) -> None:  # type: ignore[no-untyped-def]
    root = UserFactory(username="root", agency=agency, is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(path).status_code == 200
    assert client.get(f"{path}add/").status_code == 403
