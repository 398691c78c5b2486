"""The assignments REST API: who may do what, the lifecycle over HTTP (409 with current), bad
input as a 400 naming the field, the devices' pending list, and the schema."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from tasking.models import Assignment
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import CIRCLE, DOSAGE, WINDOWS, make_finding

pytestmark = pytest.mark.django_db
URL = "/api/v1/assignments/"


@pytest.fixture
def body(finding, unit):  # type: ignore[no-untyped-def]
    return {
        "finding": finding.pk,
        "kind": "directed_patrol",
        "objective": "Be visible, evenings.",
        "area": CIRCLE,
        "windows": WINDOWS,
        "dosage": DOSAGE,
        "assignee_unit": unit.pk,
        "priority": 2,
    }


def test_supervisor_drafts_and_issues_then_field_works_it(client_for, body, cast):
    sup, field = client_for("supervisor"), client_for("field")
    created = sup.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    a = created.json()
    assert (a["status"], a["manual"], a["assignee"]["unit_call_sign"]) == ("draft", False, "A11")
    assert a["events"][0]["to_status"] == "draft" and "Seven burglaries" in a["briefing"]
    pk = a["id"]
    # A draft is not on the device yet.
    assert field.get(f"{URL}pending/").json() == []
    issued = sup.post(f"{URL}{pk}/issue/")
    assert issued.status_code == 200 and issued.json()["issued_by"] == "supervisor1"
    pending = field.get(f"{URL}pending/").json()
    assert [p["id"] for p in pending] == [pk] and pending[0]["briefing"]
    for _ in range(2):  # a retried tap is the same answer
        ack = field.post(f"{URL}{pk}/acknowledge/")
        assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert field.post(f"{URL}{pk}/start/").json()["status"] == "in_progress"
    report = field.post(
        f"{URL}{pk}/report/",
        {"notes": "Quiet.", "contacts_made": 1, "client_ref": "r1"},
        format="json",
    )
    assert report.status_code == 201 and report.json()["author"] == "field1"
    done = field.post(f"{URL}{pk}/finish/", {"outcome": "completed"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    detail = sup.get(f"{URL}{pk}/").json()
    assert [e["to_status"] for e in detail["events"]] == [
        "draft",
        "issued",
        "acknowledged",
        "in_progress",
        "completed",
    ]
    assert len(detail["reports"]) == 1
    assert field.get(f"{URL}pending/").json() == []


def test_contested_transition_is_409_with_current(client_for, body):
    sup = client_for("supervisor")
    pk = sup.post(URL, {**body, "issue": True}, format="json").json()["id"]
    sup.post(f"{URL}{pk}/cancel/", {"reason": "Called off"}, format="json")
    response = client_for("field").post(f"{URL}{pk}/acknowledge/")
    assert response.status_code == 409
    assert response.json()["current"] == {"status": "cancelled", "version": 3}
    assert "status" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "stakeout"}, "kind"),
        ({"objective": ""}, "objective"),
        ({"area": {"type": "circle"}}, "area"),
        ({"windows": []}, "windows"),
        ({"dosage": {"minutes_per_visit": "15"}}, "dosage"),
        ({"priority": "high"}, "priority"),
        ({"assignee_unit": None}, "assignee"),
        ({"assignee_unit": 999999}, "assignee_unit"),
        ({"finding": 999999}, "finding"),
        ({"finding": "x"}, "finding"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field(client_for, body, change, field):
    response = client_for("supervisor").post(URL, {**body, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Assignment.objects.exists()


def test_a_proposed_finding_is_400_on_finding(client_for, body, agency):
    proposed = make_finding(agency, status="proposed")
    response = client_for("supervisor").post(URL, {**body, "finding": proposed.pk}, format="json")
    assert response.status_code == 400 and "proposed" in response.json()["finding"][0]


def test_manual_assignment_without_a_finding(client_for, body):
    response = client_for("supervisor").post(URL, {**body, "finding": None}, format="json")
    assert response.status_code == 201 and response.json()["manual"] is True


def test_bad_action_bodies_are_400(client_for, body):
    sup = client_for("supervisor")
    pk = sup.post(URL, {**body, "issue": True}, format="json").json()["id"]
    field = client_for("field")
    assert "outcome" in field.post(f"{URL}{pk}/finish/", {"outcome": "done"}, format="json").json()
    bad = field.post(f"{URL}{pk}/report/", {"notes": "x", "observation_ids": ["a"]}, format="json")
    assert bad.status_code == 400 and "observation_ids" in bad.json()
    assert field.post(f"{URL}{pk}/report/", {}, format="json").json().keys() == {"notes"}


def test_roles(client_for, body, cast):
    sup = client_for("supervisor")
    pk = sup.post(URL, body, format="json").json()["id"]
    field = client_for("field")
    assert field.post(URL, body, format="json").status_code == 403
    assert field.post(f"{URL}{pk}/issue/").status_code == 403
    assert client_for("analyst").get(f"{URL}{pk}/").status_code == 200
    assert client_for("analyst").post(f"{URL}{pk}/acknowledge/").status_code == 403
    for role in ("dispatcher", "auditor", "admin"):
        assert client_for(role).get(URL).status_code == 403, role


def test_other_agency_and_other_unit_are_404(client_for, body, agency, other_agency):
    sup = client_for("supervisor")
    other_unit = UnitFactory(agency=agency, call_sign="Z9")
    theirs = sup.post(URL, {**body, "assignee_unit": other_unit.pk, "issue": True}, format="json")
    field = client_for("field")
    assert field.get(f"{URL}{theirs.json()['id']}/").status_code == 404
    assert field.post(f"{URL}{theirs.json()['id']}/acknowledge/").status_code == 404
    assert field.get(URL).json()["results"] == []

    from rest_framework.test import APIClient

    neighbour = APIClient()
    neighbour.force_authenticate(UserFactory(roles=["supervisor"], agency=other_agency))
    assert neighbour.get(f"{URL}{theirs.json()['id']}/").status_code == 404
    assert neighbour.post(f"{URL}{theirs.json()['id']}/cancel/").status_code == 404
    assert neighbour.get(URL).json()["results"] == []


def test_list_filters_by_status(client_for, body):
    sup = client_for("supervisor")
    sup.post(URL, body, format="json")
    sup.post(URL, {**body, "issue": True}, format="json")
    rows = sup.get(URL, {"status": "issued"}).json()["results"]
    assert [r["status"] for r in rows] == ["issued"]


def test_schema_covers_the_tasking_api(client):
    schema = client.get("/api/schema/?format=json").json()
    validate(schema)
    paths = schema["paths"]
    for action in ("issue", "acknowledge", "start", "finish", "cancel", "report"):
        assert f"/api/v1/assignments/{{id}}/{action}/" in paths
        assert "409" in paths[f"/api/v1/assignments/{{id}}/{action}/"]["post"]["responses"]
    assert "/api/v1/assignments/pending/" in paths
