"""``/api/v1/audit-events/``: read-only, auditors only, the page's filters, every read recorded."""

from __future__ import annotations

import pytest

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def trail(cast) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return [
        audit.record(action=AuditAction.VIEW, actor=cast["analyst"], object_id="1"),
        audit.record(action=AuditAction.LOGIN_FAILED, actor_username="mallory"),
    ]


def _api_reads() -> list[AuditEvent]:
    return [
        e
        for e in AuditEvent.objects.filter(object_type="governance.auditevent").order_by("seq")
        if e.details.get("via") == "api" or e.details.get("outcome") == "denied"
    ]


def test_the_auditor_lists_and_filters_and_each_read_is_recorded(client_for, trail) -> None:  # type: ignore[no-untyped-def]
    client = client_for("auditor")
    body = client.get(URL, {"action": "login_failed"}).json()
    assert [row["actor_username"] for row in body["results"]] == ["mallory"]
    assert body["results"][0]["hash"] == trail[1].hash
    detail = client.get(f"{URL}{trail[0].pk}/").json()
    assert detail["seq"] == trail[0].seq
    reads = _api_reads()
    assert [r.details.get("filters") for r in reads] == [{"action": "login_failed"}, None]
    assert reads[1].details["event"] == trail[0].pk


def test_bad_filters_are_a_400_naming_the_field(client_for, trail) -> None:  # type: ignore[no-untyped-def]
    response = client_for("auditor").get(URL, {"date_from": "2026-02-30", "object_id": "a b"})
    assert response.status_code == 400
    assert set(response.json()) == {"date_from", "object_id"}


def test_the_api_is_read_only(client_for, trail) -> None:  # type: ignore[no-untyped-def]
    client = client_for("auditor")
    assert client.post(URL, {"action": "view"}, format="json").status_code in (403, 405)
    assert client.delete(f"{URL}{trail[0].pk}/").status_code in (403, 405)
    assert client.patch(f"{URL}{trail[0].pk}/", {}, format="json").status_code in (403, 405)
    assert AuditEvent.objects.filter(pk=trail[0].pk).exists()


@pytest.mark.parametrize("role", ["dispatcher", "field", "supervisor", "analyst", "admin"])
def test_other_roles_get_403_and_the_attempt_is_recorded(client_for, trail, role) -> None:  # type: ignore[no-untyped-def]
    assert client_for(role).get(URL).status_code == 403
    (attempt,) = _api_reads()
    assert attempt.actor_username == f"{role}1" and attempt.details["outcome"] == "denied"


def test_anonymous_gets_401(api_client) -> None:  # type: ignore[no-untyped-def]
    assert api_client.get(URL).status_code == 401
