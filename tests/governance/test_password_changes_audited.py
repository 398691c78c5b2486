"""CJIS 5.4.1.1: successful and unsuccessful password changes are audit events (never the
password itself): an admin setting someone's password, and anyone changing their own."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from governance.choices import AuditAction
from governance.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW = "correct horse battery staple 42"


def password_events() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="auth.user")
        .exclude(details__password=None)
        .order_by("seq")
    )


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_setting_a_password_is_audited_when_refused_and_when_done(cast) -> None:  # type: ignore[no-untyped-def]
    target = cast["dispatcher"]
    client = signed_in(cast["admin"])
    url = f"/admin/auth/user/{target.pk}/password/"
    assert client.get(url).status_code == 200
    assert password_events() == []  # showing the form is not a change
    refused = client.post(url, {"password1": "short", "password2": "short"})
    assert refused.status_code == 200
    done = client.post(url, {"password1": NEW, "password2": NEW})
    assert done.status_code == 302
    failed, changed = password_events()
    assert failed.details["outcome"] == "failed" and failed.details["fields"] == ["password2"]
    assert changed.details == {"password": "changed", "outcome": "allowed", "own_account": False}
    for event in (failed, changed):
        assert event.actor == cast["admin"] and event.object_id == str(target.pk)
        assert event.object_label == f"user #{target.pk}"
    target.refresh_from_db()
    assert target.check_password(NEW)
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert NEW not in trail and "short" not in trail


def test_changing_ones_own_password_is_audited_with_a_wrong_old_password_too(cast) -> None:  # type: ignore[no-untyped-def]
    admin = cast["admin"]
    client = signed_in(admin)
    url = "/admin/password_change/"
    wrong = client.post(
        url, {"old_password": "not it at all", "new_password1": NEW, "new_password2": NEW}
    )
    assert wrong.status_code == 200
    right = client.post(
        url, {"old_password": TEST_PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert right.status_code == 302
    failed, changed = password_events()
    assert failed.details["fields"] == ["old_password"] and failed.details["own_account"]
    assert changed.details["outcome"] == "allowed" and changed.actor == admin
