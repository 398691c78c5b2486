"""The audit trail in the admin: read-only, no deletion even for superusers, reads recorded; the
admin role (no audit grant) does not see it."""

from __future__ import annotations

import pytest
from django.test import Client

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/governance/auditevent/"


def test_superusers_read_it_and_cannot_delete_or_change(agency) -> None:  # type: ignore[no-untyped-def]
    root = UserFactory(username="root", is_superuser=True, is_staff=True, agency=agency)
    event = audit.record(action=AuditAction.LOGIN_FAILED, actor_username="mallory")
    client = Client()
    client.force_login(root)
    assert client.get(LIST).status_code == 200
    detail = client.get(f"{LIST}{event.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.post(f"{LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    reads = AuditEvent.objects.filter(actor_username="root", object_type="governance.auditevent")
    assert sorted(r.details["admin"] for r in reads) == ["changelist", "detail"]
    assert audit.verify_chain().intact


def test_the_admin_role_does_not_see_the_trail(cast) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(cast["admin"])
    assert client.get(LIST).status_code == 403
    assert b"auditevent" not in client.get("/admin/").content.lower()
