"""The findings API: list filters and pagination, detail with evidence and decisions, the review
decision (400 naming the field, 403 view-only role or shared agency, 404 other agency, 409 decided),
read-only analysis runs, and a warning-free schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from governance.choices import Category, Role
from governance.models import AgencyShare
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding, FindingDecision
from tests.factories import AgencyFactory, UserFactory
from tests.grants import set_grants
from tests.intelligence.test_dashboard_support import analyse, plant, repeat_finding

pytestmark = pytest.mark.django_db
URL = "/api/v1/findings/"


@pytest.fixture
def finding(agency):  # type: ignore[no-untyped-def]
    return repeat_finding(agency)


@pytest.fixture
def foreign(other_agency):  # type: ignore[no-untyped-def]
    return repeat_finding(other_agency)


def decide(client: APIClient, finding: Finding, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"{URL}{finding.pk}/decision/", body, format="json")


# --- reading --------------------------------------------------------------------------------


def test_list_shows_own_agency_findings_paginated(client_for, finding, foreign) -> None:  # type: ignore[no-untyped-def]
    body = client_for("supervisor").get(URL).json()
    assert body["count"] == 1 and {"next", "previous", "results"} <= set(body)
    row = body["results"][0]
    assert row["id"] == finding.pk and row["kind"] == "repeat_locations"
    assert row["status"] == "proposed" and row["subject"]["type"] == "location"
    assert row["statistics"] == finding.statistics and row["kind_label"] == "Repeat location"


def test_list_filters_by_kind_status_agency_and_since(client_for, agency, finding) -> None:  # type: ignore[no-untyped-def]
    analyse(FindingKind.HOTSPOT, agency)
    client = client_for("analyst")
    assert client.get(URL).json()["count"] == 2
    hot = client.get(URL, {"kind": "hotspots"}).json()["results"]
    assert [r["kind"] for r in hot] == ["hotspots"]
    assert client.get(URL, {"status": "accepted"}).json()["count"] == 0
    assert client.get(URL, {"agency": agency.pk}).json()["count"] == 2
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert client.get(URL, {"since": future}).json()["count"] == 0
    assert client.get(URL, {"page_size": 1}).json()["next"] is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "burglary"}, "kind"),
        ({"status": "maybe"}, "status"),
        ({"agency": "abc"}, "agency"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(client_for, finding, params, field) -> None:  # type: ignore[no-untyped-def]
    response = client_for("supervisor").get(URL, params)
    assert response.status_code == 400 and field in response.json()


def test_detail_has_evidence_ids_and_decisions(client_for, finding) -> None:  # type: ignore[no-untyped-def]
    body = client_for("supervisor").get(f"{URL}{finding.pk}/").json()
    evidence = sorted(finding.evidence.values_list("call_id", flat=True))
    assert evidence and body["evidence"] == {"calls": evidence, "observations": []}
    assert body["decisions"] == [] and body["explanation"] == finding.explanation


def test_another_agencys_finding_is_404_to_read_and_to_decide(client_for, foreign) -> None:  # type: ignore[no-untyped-def]
    client = client_for("supervisor")
    assert client.get(f"{URL}{foreign.pk}/").status_code == 404
    response = decide(client, foreign, decision="accept", rationale="looks right")
    assert response.status_code == 404
    assert client.get(f"{URL}999999/").status_code == 404


def test_roles_without_findings_are_refused(client_for, finding) -> None:  # type: ignore[no-untyped-def]
    for role in ("dispatcher", "field", "admin", "auditor"):
        assert client_for(role).get(URL).status_code == 403, role
        assert client_for(role).get(f"{URL}{finding.pk}/").status_code == 403, role
    assert APIClient().get(URL).status_code == 401


def test_entity_findings_need_person_view(agency) -> None:  # type: ignore[no-untyped-def]
    seen = Finding.objects.create(
        agency=agency,
        kind=FindingKind.ENTITY,
        subject_key="person:1",
        window_start=timezone.now() - dt.timedelta(days=1),
        window_end=timezone.now(),
        explanation="A person in 3 incidents.",
    )
    client = APIClient()
    client.force_authenticate(UserFactory(roles=["supervisor"], agency=agency))
    assert client.get(f"{URL}{seen.pk}/").status_code == 200
    set_grants(Role.SUPERVISOR, Category.PERSON, set())
    client.force_authenticate(UserFactory(roles=["supervisor"], agency=agency))
    assert client.get(f"{URL}{seen.pk}/").status_code == 404
    assert client.get(URL, {"kind": "entities"}).json()["count"] == 0


# --- deciding -------------------------------------------------------------------------------


def test_accept_with_rationale_returns_the_updated_finding(client_for, cast, finding) -> None:  # type: ignore[no-untyped-def]
    response = decide(
        client_for("supervisor"), finding, decision="accept", rationale="  Known bar problem.  "
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "accepted"
    assert body["decisions"][0]["reviewer"] == cast["supervisor"].username
    assert body["decisions"][0]["rationale"] == "Known bar problem."
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACCEPTED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "accept", "rationale": ""}, "rationale"),
        ({"decision": "accept", "rationale": "   "}, "rationale"),
        ({"decision": "accept"}, "rationale"),
        ({"decision": "approve", "rationale": "why"}, "decision"),
        ({"rationale": "why"}, "decision"),
        ({"decision": "accept", "rationale": "x" * 5001}, "rationale"),
        ({"decision": "accept", "rationale": "why", "status": "accepted"}, "status"),
    ],
)
def test_bad_decisions_are_400_naming_the_field(client_for, finding, body, field) -> None:  # type: ignore[no-untyped-def]
    response = decide(client_for("analyst"), finding, **body)
    assert response.status_code == 400 and field in response.json(), response.json()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED and not FindingDecision.objects.exists()


def test_malformed_json_is_400(client_for, finding) -> None:  # type: ignore[no-untyped-def]
    response = client_for("supervisor").post(
        f"{URL}{finding.pk}/decision/", "[[[[", content_type="application/json"
    )
    assert response.status_code == 400


def test_an_already_decided_finding_is_409(client_for, finding) -> None:  # type: ignore[no-untyped-def]
    client = client_for("supervisor")
    assert (
        decide(client, finding, decision="dismiss", rationale="Event, not a pattern.").status_code
        == 200
    )
    again = decide(client_for("analyst"), finding, decision="accept", rationale="I disagree.")
    assert again.status_code == 409
    assert again.json()["current"] == {"status": "dismissed"} and "status" in again.json()


def test_a_role_that_may_view_but_not_review_is_403(agency, finding) -> None:  # type: ignore[no-untyped-def]
    # No shipped role views findings without reviewing them, so one is granted view only here.
    set_grants(Role.DISPATCHER, Category.FINDING, {"view"})
    client = APIClient()
    client.force_authenticate(UserFactory(roles=["dispatcher"], agency=agency))
    assert client.get(f"{URL}{finding.pk}/").status_code == 200
    response = decide(client, finding, decision="accept", rationale="why")
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED


def test_a_shared_agencys_finding_is_visible_but_not_reviewable(agency, foreign) -> None:  # type: ignore[no-untyped-def]
    AgencyShare.objects.create(owner=foreign.agency, viewer=agency, category=Category.FINDING)
    client = APIClient()
    client.force_authenticate(UserFactory(roles=["supervisor"], agency=agency))
    assert client.get(f"{URL}{foreign.pk}/").status_code == 200
    assert decide(client, foreign, decision="accept", rationale="why").status_code == 403


# --- runs and schema ------------------------------------------------------------------------


def test_runs_are_listed_read_only(client_for, agency, other_agency) -> None:  # type: ignore[no-untyped-def]
    plant(agency)
    mine = analyse(FindingKind.HOTSPOT, agency)
    everyone = analyse(FindingKind.REPEAT_LOCATION)
    theirs = analyse(FindingKind.HOTSPOT, AgencyFactory(code="third"))
    client = client_for("supervisor")
    ids = [r["id"] for r in client.get("/api/v1/analysis-runs/").json()["results"]]
    assert set(ids) == {mine.pk, everyone.pk} and theirs.pk not in ids
    one = client.get(f"/api/v1/analysis-runs/{mine.pk}/").json()
    assert one["status"] == "succeeded" and one["counts"]["created"] == 1
    assert client.get(f"/api/v1/analysis-runs/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/analysis-runs/", {"status": "nope"}).status_code == 400
    assert client.post("/api/v1/analysis-runs/", {}).status_code in (403, 405)
    assert client_for("dispatcher").get("/api/v1/analysis-runs/").status_code == 403


def test_schema_documents_the_findings_api(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/schema/?format=json").json()
    validate(schema)
    paths = schema["paths"]
    for path in (
        "/api/v1/findings/",
        "/api/v1/findings/{id}/",
        "/api/v1/findings/{id}/decision/",
        "/api/v1/analysis-runs/",
        "/api/v1/analysis-runs/{id}/",
    ):
        assert path in paths, path
    post = paths["/api/v1/findings/{id}/decision/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(post["responses"])
    params = {p["name"] for p in paths["/api/v1/findings/"]["get"]["parameters"]}
    assert {"kind", "status", "agency", "since", "page"} <= params
