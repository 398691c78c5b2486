"""Refused requests are on the audit trail (CJIS 5.4.1.1 "unsuccessful attempts to access";
28 CFR 23 need-to-know: "a user outside the unit gets 404/403 and the attempt is logged").

One ``denied`` event per refused request of a signed-in user, written after the answer is made
(``governance.middleware.AuditRequestMiddleware`` -> ``audit.record_refusal``); the answers
themselves are what the authorization matrix expects, unchanged.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dispatch.models import Person
from governance.choices import AuditAction
from governance.models import AuditEvent, NeedToKnowGroup
from tests.factories import UserFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db


def denied() -> list[AuditEvent]:
    return [e for e in AuditEvent.objects.order_by("seq") if e.details.get("outcome") == "denied"]


def page_client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_api_403_is_one_denied_view_with_the_five_cjis_fields(cast) -> None:  # type: ignore[no-untyped-def]
    response = api(cast["auditor"]).get("/api/v1/persons/", HTTP_USER_AGENT="pytest-agent")
    assert response.status_code == 403
    [event] = denied()
    assert event.action == AuditAction.VIEW
    assert event.actor == cast["auditor"] and event.actor_username == "auditor1"
    assert event.at is not None and event.ip == "127.0.0.1"
    assert event.object_type == "http.request"
    assert event.details == {
        "outcome": "denied",
        "status": 403,
        "method": "GET",
        "path": "/api/v1/persons/",
        "route": event.object_label,
    }
    assert "person-list" in event.object_label


def test_a_refused_write_is_a_denied_change_and_a_refused_page_is_recorded_too(cast) -> None:  # type: ignore[no-untyped-def]
    assert api(cast["analyst"]).post("/api/v1/persons/", {}, format="json").status_code == 403
    assert page_client(cast["dispatcher"]).get("/governance/access/").status_code == 403
    writes, page = denied()
    assert writes.action == AuditAction.CHANGE and writes.details["method"] == "POST"
    assert writes.actor == cast["analyst"]
    assert page.action == AuditAction.VIEW and page.details["route"] == "access-rules"


def test_anonymous_missing_and_allowed_requests_are_not_recorded_as_refusals(cast) -> None:  # type: ignore[no-untyped-def]
    assert APIClient().get("/api/v1/persons/").status_code == 401
    assert Client().get("/governance/access/").status_code == 302
    assert api(cast["dispatcher"]).get("/api/v1/persons/999999/").status_code == 404
    assert api(cast["dispatcher"]).get("/api/v1/persons/").status_code == 200
    assert denied() == []


def test_a_refused_read_of_the_trail_is_recorded_once(cast) -> None:  # type: ignore[no-untyped-def]
    assert api(cast["analyst"]).get("/api/v1/audit-events/").status_code == 403
    assert page_client(cast["analyst"]).get("/governance/audit/").status_code == 403
    assert len(denied()) == 2


@pytest.fixture
def squad(agency, cast) -> NeedToKnowGroup:  # type: ignore[no-untyped-def]
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    group.members.add(cast["supervisor"], UserFactory(roles=["dispatcher"], agency=agency))
    return group


def test_a_person_hidden_by_need_to_know_answers_404_and_the_attempt_is_logged(
    agency, cast, squad
) -> None:
    person = Person.objects.create(agency=agency, last_name="KANE", name_key="KANE|")
    person.need_to_know.add(squad)
    outsider = api(cast["dispatcher"])
    hidden = outsider.get(f"/api/v1/persons/{person.pk}/")
    missing = outsider.get("/api/v1/persons/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden.headers.get("Content-Type") == missing.headers.get("Content-Type")
    [event] = denied()
    assert event.action == AuditAction.VIEW
    assert (event.object_type, event.object_id) == ("dispatch.person", str(person.pk))
    assert event.object_label == f"person #{person.pk}"  # never the name
    assert event.details["reason"] == "need_to_know" and event.details["status"] == 404
    assert event.agency_id == agency.pk
    # A refused write of the limit is a denied change; members are not refused at all.
    url = f"/api/v1/persons/{person.pk}/need-to-know/"
    assert outsider.post(url, {"groups": []}, format="json").status_code == 404
    assert denied()[-1].action == AuditAction.CHANGE
    assert api(cast["supervisor"]).get(f"/api/v1/persons/{person.pk}/").status_code == 200
    assert len(denied()) == 2


def test_a_finding_hidden_by_need_to_know_is_logged_from_the_api_and_the_page(
    agency, cast, squad
) -> None:
    finding = make_finding(agency)
    finding.need_to_know.add(squad)
    analyst = cast["analyst"]  # may view findings, is not in the group
    assert api(analyst).get(f"/api/v1/findings/{finding.pk}/").status_code == 404
    assert page_client(analyst).get(f"/patterns/findings/{finding.pk}/").status_code == 404
    events = denied()
    assert [(e.object_type, e.object_id) for e in events] == [
        ("intelligence.finding", str(finding.pk))
    ] * 2
    assert {e.details["category"] for e in events} == {"finding"}


def test_another_agencys_record_is_not_a_need_to_know_refusal(other_agency, cast) -> None:  # type: ignore[no-untyped-def]
    # Invisible for other reasons (agency, level): a plain 404 as before, nothing recorded.
    person = Person.objects.create(agency=other_agency, last_name="FAR", name_key="FAR|")
    assert api(cast["dispatcher"]).get(f"/api/v1/persons/{person.pk}/").status_code == 404
    assert denied() == []
