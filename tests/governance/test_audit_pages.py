"""The auditor's audit-trail page and CSV export: filters, paging, who may open them, bad input
named per field (never a 500), and every read of the trail recorded in the trail."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

PAGE = "/governance/audit/"
EXPORT = "/governance/audit/export.csv"
OTHER_ROLES = ("dispatcher", "field", "supervisor", "analyst", "admin")


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def trail(cast, agency) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    """A few events by two people about two objects."""
    return [
        audit.record(
            action=AuditAction.VIEW,
            actor=cast["analyst"],
            object_type="dispatch.call",
            object_id="41",
            object_label="2026-000041",
        ),
        audit.record(
            action=AuditAction.FINDING_DECISION,
            actor=cast["supervisor"],
            object_type="intelligence.finding",
            object_id="7",
            justification="=HYPERLINK(1)",
        ),
        audit.record(action=AuditAction.LOGIN_FAILED, actor_username="@mallory", details={"n": 1}),
    ]


def _reads(action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, object_type="governance.auditevent").order_by(
            "seq"
        )
    )


def test_the_auditor_sees_the_trail_newest_first_and_the_view_is_recorded(cast, trail) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["auditor"])
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Audit trail" in html and "@mallory" in html and "2026-000041" in html
    assert html.index("@mallory") < html.index("2026-000041")  # newest first
    assert 'href="/governance/audit/export.csv"' in html
    (read,) = _reads(AuditAction.VIEW)
    assert read.actor_id == cast["auditor"].pk
    assert read.details["outcome"] == "allowed" and read.details["filters"] == {}
    assert read.details["results"] >= 3
    assert audit.verify_chain().intact


def test_filters_by_user_object_action_and_day(cast, trail) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["auditor"])
    html = client.get(PAGE, {"user": "supervisor1"}).content.decode()
    assert "intelligence.finding 7" in html and "2026-000041" not in html
    html = client.get(PAGE, {"object_type": "dispatch.call", "object_id": "41"}).content.decode()
    assert "2026-000041" in html and "intelligence.finding 7" not in html
    html = client.get(PAGE, {"action": "login_failed"}).content.decode()
    assert "@mallory" in html and "2026-000041" not in html
    today = dt.datetime.now(dt.UTC).date()
    html = client.get(PAGE, {"date_to": (today - dt.timedelta(days=3)).isoformat()}).content
    assert b"No events match." in html
    html = client.get(
        PAGE,
        {"date_from": (today - dt.timedelta(days=1)).isoformat(), "date_to": today.isoformat()},
    ).content
    assert b"2026-000041" in html
    last = _reads(AuditAction.VIEW)[-1]
    assert set(last.details["filters"]) == {"date_from", "date_to"}


def test_pages_carry_the_filters(cast, agency) -> None:  # type: ignore[no-untyped-def]
    for n in range(105):
        audit.record(action=AuditAction.VIEW, actor=cast["analyst"], object_id=str(n))
    html = signed_in(cast["auditor"]).get(PAGE, {"user": "analyst1"}).content.decode()
    assert "Page 1 of 2" in html and 'href="?user=analyst1&amp;page=2"' in html


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-45"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_from": "2026-02-02", "date_to": "2026-02-01"}, "date_to"),
        ({"object_id": "1; DROP TABLE"}, "object_id"),
        ({"object_id": "9" * 80}, "object_id"),
        ({"object_type": "call"}, "object_type"),
        ({"action": "tamper"}, "action"),
        ({"user": "bad\x00name"}, "user"),
    ],
)
def test_bad_filters_are_named_never_a_500(cast, trail, params, field) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["auditor"])
    response = client.get(PAGE, params)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()
    export = client.get(EXPORT, params)
    assert export.status_code == 400 and export.content.decode().startswith(f"{field}:")
    assert not _reads(AuditAction.EXPORT)  # nothing was read, so no export is recorded


def test_bad_page_numbers_fall_back(cast, trail) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["auditor"])
    for page in ("abc", "-1", "99999", "9" * 40):
        assert client.get(PAGE, {"page": page}).status_code == 200


def test_csv_export_of_the_filtered_set_is_recorded(cast, trail) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["auditor"]).get(EXPORT, {"action": "finding_decision"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["object_id"] for row in rows] == ["7"]
    # A formula typed into a field is defused for spreadsheet programs.
    assert rows[0]["justification"] == "'=HYPERLINK(1)"
    assert rows[0]["hash"] == trail[1].hash and rows[0]["at_utc"].endswith("+00:00")
    (export,) = _reads(AuditAction.EXPORT)
    assert export.details["filters"] == {"action": "finding_decision"}
    assert export.details["rows"] == 1 and export.details["truncated"] is False


def test_the_export_stops_at_the_row_cap_and_says_so(cast, trail, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BEACON_AUDIT_EXPORT_MAX_ROWS = 2
    response = signed_in(cast["auditor"]).get(EXPORT)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 3  # header + 2, oldest first
    assert rows[1][1] == str(trail[0].seq)
    assert response["X-Audit-Truncated"] == "true"
    (export,) = _reads(AuditAction.EXPORT)
    assert export.details["truncated"] is True and export.details["rows"] == 2


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_are_refused_and_the_attempt_is_recorded(cast, trail, role) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast[role])
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert f'href="{PAGE}"' not in client.get("/").content.decode()
    attempts = [e for e in AuditEvent.objects.filter(actor_username=f"{role}1") if e.details]
    assert sorted((e.action, e.details["outcome"]) for e in attempts) == [
        (AuditAction.EXPORT, "denied"),
        (AuditAction.VIEW, "denied"),
    ]


def test_the_auditor_has_the_nav_link(cast) -> None:  # type: ignore[no-untyped-def]
    html = signed_in(cast["auditor"]).get(PAGE).content.decode()
    assert f'<a href="{PAGE}">Audit</a>' in html


def test_anonymous_users_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    for path in (PAGE, EXPORT):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
