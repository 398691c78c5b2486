"""The supervisors' pages: the execution board (and its JSON), the issue form from an accepted
finding (prefilled) or manual, errors named per field, the link on the finding page, the nav
link, and the phone page's Assignments section."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from governance.context_processors import roles as nav_flags
from governance.policy import DEFAULT_POLICY
from tasking.models import Assignment
from tasking.permissions import sees_agency_assignments
from tests.factories import UserFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def form(finding, unit, **changes):  # type: ignore[no-untyped-def]
    values = {
        "finding": finding.pk if finding else "",
        "kind": "directed_patrol",
        "objective": "Evenings on the block.",
        "area_type": "circle",
        "area_latitude": "29.4241",
        "area_longitude": "-98.4936",
        "area_radius_m": "250",
        "windows": json.dumps(
            [{"kind": "once", "start": "2026-03-06T01:00:00+00:00", "end": "2026-03-06T05:00:00Z"}]
        ),
        "minutes_per_visit": "15",
        "visits_per_window": "2",
        "assignee_type": "unit",
        "assignee_unit": str(unit.pk),
        "priority": "2",
        "issue": "on",
    }
    values.update(changes)
    return values


def test_board_for_supervisors_and_analysts_only(cast, issued):
    for role in ("supervisor", "analyst"):
        page = signed_in(cast[role]).get("/tasking/")
        assert page.status_code == 200 and b"assignment-board" in page.content
        rows = signed_in(cast[role]).get("/tasking/board.json").json()["rows"]
        assert [(r["id"], r["status"]) for r in rows] == [(issued.pk, "issued")]
    for role in ("field", "dispatcher", "auditor"):
        assert signed_in(cast[role]).get("/tasking/").status_code == 403
        assert signed_in(cast[role]).get("/tasking/board.json").status_code == 403


def test_board_json_shows_the_acknowledgement(cast, issued):
    from tasking import services

    services.assignment_acknowledge(assignment_id=issued.pk, actor=cast["field"])
    (row,) = signed_in(cast["supervisor"]).get("/tasking/board.json").json()["rows"]
    assert row["acknowledged_by"] == "field1" and row["acknowledged_at"]


def test_form_from_a_finding_is_prefilled_and_issues(cast, finding, unit):
    sup = signed_in(cast["supervisor"])
    page = sup.get(f"/tasking/new/?finding={finding.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="from-finding"' in html and str(finding.latitude) in html
    response = sup.post("/tasking/new/", form(finding, unit))
    assert response.status_code == 302, response.content.decode()[:2000]
    a = Assignment.objects.get()
    assert response["Location"] == f"/tasking/?created={a.pk}"
    assert (a.status, a.finding, a.assignee_unit, a.priority) == ("issued", finding, unit, 2)


def test_time_window_finding_prefills_windows(cast, agency):
    f = make_finding(
        agency,
        kind="time_windows",
        cells=["8948e2b2a2bffff"],
        statistics={"days": [4, 5], "start_hour": 19, "end_hour": 23, "n_hours": 4},
    )
    html = signed_in(cast["supervisor"]).get(f"/tasking/new/?finding={f.pk}").content.decode()
    assert "8948e2b2a2bffff" in html and "&quot;weekly&quot;" in html and "240" in html


def test_manual_form_and_errors_named(cast, unit):
    sup = signed_in(cast["supervisor"])
    assert b'id="manual-note"' in sup.get("/tasking/new/").content
    bad = sup.post("/tasking/new/", form(None, unit, objective="", windows="[]"))
    assert bad.status_code == 400
    assert "Objective: This is required." in bad.content.decode()
    bad = sup.post("/tasking/new/", form(None, unit, windows="[oops", area_latitude="north"))
    html = bad.content.decode()
    assert bad.status_code == 400 and "Windows: Not valid JSON" in html and "Area:" in html
    ok = sup.post("/tasking/new/", form(None, unit, issue=""))
    assert ok.status_code == 302 and Assignment.objects.get().manual
    assert Assignment.objects.get().status == "draft"


def test_proposed_finding_is_refused_on_the_form(cast, agency, unit):
    proposed = make_finding(agency, status="proposed")
    sup = signed_in(cast["supervisor"])
    assert b"Only an accepted finding" in sup.get(f"/tasking/new/?finding={proposed.pk}").content
    response = sup.post("/tasking/new/", form(proposed, unit))
    assert response.status_code == 400 and b"Finding: Only an accepted" in response.content


def test_form_needs_a_tasker_and_hides_other_agencies_findings(cast, other_agency, reference_data):
    assert signed_in(cast["field"]).get("/tasking/new/").status_code == 403
    assert signed_in(cast["analyst"]).get("/tasking/new/").status_code == 403
    foreign = make_finding(other_agency)
    assert (
        signed_in(cast["supervisor"]).get(f"/tasking/new/?finding={foreign.pk}").status_code == 404
    )


def test_finding_page_links_to_the_form_only_when_accepted(cast, agency, finding):
    url = f"/patterns/findings/{finding.pk}/"
    assert b'id="issue-assignment"' in signed_in(cast["supervisor"]).get(url).content
    assert b'id="issue-assignment"' not in signed_in(cast["analyst"]).get(url).content
    proposed = make_finding(agency, status="proposed")
    page = signed_in(cast["supervisor"]).get(f"/patterns/findings/{proposed.pk}/")
    assert b'id="issue-assignment"' not in page.content


def test_nav_link_follows_the_board_rule_for_every_role(cast, rf):
    for role in DEFAULT_POLICY:
        user = UserFactory(roles=[role])
        request = rf.get("/")
        request.user = user
        assert nav_flags(request)["may_view_tasking"] == sees_agency_assignments(user), role
    assert b">Tasking</a>" in signed_in(cast["supervisor"]).get("/tasking/").content
    assert b">Tasking</a>" not in signed_in(cast["field"]).get("/field/").content


def test_phone_page_has_the_assignments_section(cast, unit):
    html = signed_in(cast["field"]).get("/field/").content.decode()
    assert 'id="assignments"' in html and "js/field-assignments.js" in html


@pytest.mark.parametrize("role", ["supervisor", "analyst"])
def test_the_briefing_nav_link_shows_for_the_boards_audience(cast, role) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(cast[role])
    html = client.get("/calls/").content.decode()
    assert 'href="/tasking/briefing/">Briefing</a>' in html


def test_field_staff_reach_the_briefing_from_the_phone_page(cast) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(cast["field"])
    assert 'href="/tasking/briefing/">Briefing</a>' not in client.get("/calls/").content.decode()
    assert 'id="shift-briefing-link" href="/tasking/briefing/"' in (
        client.get("/field/").content.decode()
    )
