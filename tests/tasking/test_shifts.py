"""Assignments to a shift: every member's devices and every device of the shift's units get the
work (pushed live, and from ``pending/``), nobody else's do; the API and form name shifts by id;
admins keep rosters within their agency; the demo has shifts; old text labels migrate to rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tasking import realtime, selectors, services
from tasking.admin import ShiftForm
from tasking.models import Assignment, Shift
from tests.dispatch.test_consumers import SyncWriter, in_sync_thread, sockets  # noqa: F401
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import CIRCLE, DOSAGE, WINDOWS

URL = "/api/v1/assignments/"


@pytest.fixture
def crew(agency: Any, other_unit: Any) -> Any:
    """Someone signed to the shift's unit B22 but not a member by name."""
    person = UserFactory(username="crew1", roles=["field"], agency=agency)
    other_unit.users.add(person)
    return person


def to_shift(draft: Any, shift: Shift, cast: dict[str, Any]) -> Assignment:
    a = draft(assignee_unit_id=None, assignee_shift_id=shift.pk)
    return services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"])


@pytest.mark.django_db
def test_members_and_unit_crews_hold_it_others_do_not(draft, shift, crew, night_member, cast):
    a = to_shift(draft, shift, cast)
    for person in (night_member, crew):
        assert [x.pk for x in selectors.assignments_pending_for_device(user=person)] == [a.pk]
    # The field user is on unit A11, which is not on the shift.
    assert list(selectors.assignments_pending_for_device(user=cast["field"])) == []
    # A member and crew at once still gets one row.
    shift.members.add(crew)
    assert selectors.assignments_pending_for_device(user=crew).count() == 1
    # Whoever joins the roster later holds it from then on (the roster, not a copy, decides).
    shift.members.add(cast["field"])
    assert [x.pk for x in selectors.assignments_pending_for_device(user=cast["field"])] == [a.pk]


@pytest.mark.django_db
def test_push_groups_are_the_members_and_the_units(draft, shift, night_member, other_unit, cast):
    a = draft(assignee_unit_id=None, assignee_shift_id=shift.pk)
    assert realtime.assignment_groups(a) == [f"board.agency.{a.agency_id}"]  # a draft: board only
    a = services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"])
    groups = realtime.assignment_groups(a)
    assert f"user.{night_member.pk}" in groups and f"unit.{other_unit.pk}" in groups
    assert len(groups) == 3


@pytest.mark.django_db(transaction=True)
async def test_issuing_to_a_shift_reaches_member_and_crew_devices_live(
    cast,
    agency,
    sockets,  # noqa: F811
):
    sup = cast["supervisor"]

    def setup() -> tuple[Any, Any, Any, Assignment]:
        from tests.tasking.conftest import make_finding

        member = UserFactory(roles=["field"], agency=agency)
        crew = UserFactory(roles=["field"], agency=agency)
        unit = UnitFactory(agency=agency, call_sign="N7")
        unit.users.add(crew)
        outsider = UserFactory(roles=["field"], agency=agency)
        UnitFactory(agency=agency, call_sign="D1").users.add(outsider)
        nights = Shift.objects.create(
            agency=agency, name="Nights", starts_at=dt.time(19), ends_at=dt.time(7)
        )
        nights.members.add(member)
        nights.units.add(unit)
        draft = services.assignment_create(
            actor=sup,
            finding_id=make_finding(agency).pk,
            kind="directed_patrol",
            objective="Evenings on the block.",
            area=CIRCLE,
            windows=WINDOWS,
            assignee_shift_id=nights.pk,
        )
        return member, crew, outsider, draft

    member, crew, outsider, draft = await in_sync_thread(setup)
    member_phone, crew_phone, outsider_phone = (
        await sockets(member),
        await sockets(crew),
        await sockets(outsider),
    )
    writer = SyncWriter(lambda: services.assignment_issue(assignment_id=draft.pk, actor=sup))
    for phone in (member_phone, crew_phone):
        event = await phone.receive_json_from(timeout=1)
        assert (event["type"], event["assignment_id"]) == ("assignment.issued", draft.pk)
        assert event["shift_id"] == draft.assignee_shift_id
    await writer.outcome()
    assert await outsider_phone.receive_nothing(timeout=0.3)


@pytest.mark.django_db
def test_api_lists_shifts_for_taskers_and_creates_by_id(client_for, shift, finding, other_agency):
    Shift.objects.create(agency=other_agency, name="Theirs", starts_at="07:00", ends_at="19:00")
    listed = client_for("supervisor").get("/api/v1/shifts/")
    assert listed.status_code == 200
    assert [(s["name"], len(s["members"]), len(s["units"])) for s in listed.json()] == [
        ("Nights", 1, 1)
    ]
    assert client_for("supervisor").get(f"/api/v1/shifts/{shift.pk}/").json()["name"] == "Nights"
    for role in ("field", "dispatcher", "auditor", "analyst"):
        assert client_for(role).get("/api/v1/shifts/").status_code == 403, role
    body = {
        "finding": finding.pk,
        "kind": "directed_patrol",
        "objective": "Nights on the block.",
        "area": CIRCLE,
        "windows": WINDOWS,
        "dosage": DOSAGE,
        "assignee_shift": shift.pk,
        "issue": True,
    }
    made = client_for("supervisor").post(URL, body, format="json")
    assert made.status_code == 201, made.json()
    assignee = made.json()["assignee"]
    assert (assignee["shift"], assignee["shift_name"], assignee["label"]) == (
        shift.pk,
        "Nights",
        "shift: Nights",
    )
    filtered = client_for("supervisor").get(f"{URL}?shift={shift.pk}").json()["results"]
    assert [r["id"] for r in filtered] == [made.json()["id"]]
    for bad, field in (("Nights", "assignee_shift"), (10**9, "assignee_shift")):
        r = client_for("supervisor").post(URL, {**body, "assignee_shift": bad}, format="json")
        assert r.status_code == 400 and field in r.json(), r.json()


@pytest.mark.django_db
def test_the_form_offers_shifts_and_issues_to_one(cast, finding, shift):
    client = Client()
    client.force_login(cast["supervisor"])
    html = client.get(f"/tasking/new/?finding={finding.pk}").content.decode()
    assert (
        f'<option value="{shift.pk}"' in html and "Nights (19:00-07:00; 1 people, 1 units)" in html
    )
    post = {
        "finding": finding.pk,
        "kind": "directed_patrol",
        "objective": "Nights.",
        "area_type": "circle",
        "area_latitude": "29.4241",
        "area_longitude": "-98.4936",
        "area_radius_m": "200",
        "windows": '[{"kind": "once", "start": "2026-03-06T19:00:00-06:00", '
        '"end": "2026-03-06T23:00:00-06:00"}]',
        "priority": "3",
        "assignee_type": "shift",
        "assignee_shift": str(shift.pk),
        "issue": "on",
    }
    assert client.post("/tasking/new/", post).status_code == 302
    assert Assignment.objects.get().assignee_shift == shift
    bad = client.post("/tasking/new/", {**post, "assignee_shift": "x"})
    assert bad.status_code == 400 and "Shift: Give a whole number." in bad.content.decode()


@pytest.mark.django_db
def test_briefing_offers_each_shifts_hours(cast, shift):
    client = Client()
    client.force_login(cast["field"])
    html = client.get("/tasking/briefing/").content.decode()
    assert f'id="shift-pick-{shift.pk}"' in html and "start=19:00&amp;end=07:00" in html


@pytest.mark.django_db
def test_admin_form_keeps_rosters_within_the_agency(agency, other_agency, cast):
    foreign_unit = UnitFactory(agency=other_agency, call_sign="X1")
    stranger = UserFactory(roles=["field"], agency=other_agency)
    form = ShiftForm(
        data={
            "agency": agency.pk,
            "name": "Days",
            "starts_at": "07:00",
            "ends_at": "19:00",
            "members": [cast["field"].pk, stranger.pk],
            "units": [foreign_unit.pk],
            "active": "on",
        }
    )
    assert not form.is_valid()
    assert "units" in form.errors and "members" in form.errors
    assert stranger.username in str(form.errors["members"])
    good = ShiftForm(
        data={
            "agency": agency.pk,
            "name": "Days",
            "starts_at": "07:00",
            "ends_at": "19:00",
            "members": [cast["field"].pk],
            "active": "on",
        }
    )
    assert good.is_valid(), good.errors


@pytest.mark.django_db
def test_admin_edits_shifts(cast, agency):
    client = Client()
    client.force_login(cast["admin"])
    assert client.get("/admin/tasking/shift/add/").status_code == 200
    made = client.post(
        "/admin/tasking/shift/add/",
        {
            "agency": agency.pk,
            "name": "Days",
            "starts_at": "07:00",
            "ends_at": "19:00",
            "members": [cast["field"].pk],
            "active": "on",
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    assert list(Shift.objects.get(name="Days").members.all()) == [cast["field"]]
