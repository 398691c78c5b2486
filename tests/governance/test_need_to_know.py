"""Need-to-know groups: a person record or finding limited to groups is seen only by members
(whatever their roles allow), answers like a missing record to everyone else, stays out of
shared briefings, and limits are set through audited services (API, finding page, admin)."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dispatch.models import Involvement, Person
from dispatch.permissions import persons_visible_to
from governance.choices import AuditAction
from governance.models import AuditEvent, NeedToKnowGroup
from intelligence.permissions import findings_visible_to
from tests.factories import CallFactory, UserFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def squad(agency, cast):  # type: ignore[no-untyped-def]
    """Group "Gang unit" with the supervisor and a second dispatcher in it."""
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    insider = UserFactory(username="insider", roles=["dispatcher"], agency=agency)
    group.members.add(cast["supervisor"], insider)
    return group, insider


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_limited_person_is_seen_by_members_only_and_looks_missing_to_others(
    agency, cast, squad
) -> None:
    group, insider = squad
    person = Person.objects.create(agency=agency, last_name="KANE", name_key="KANE|")
    person.need_to_know.add(group)
    open_record = Person.objects.create(agency=agency, last_name="OPEN", name_key="OPEN|")
    assert set(persons_visible_to(insider)) == {person, open_record}
    assert set(persons_visible_to(cast["dispatcher"])) == {open_record}
    inside = api(insider).get(f"/api/v1/persons/{person.pk}/")
    assert inside.status_code == 200
    assert inside.json()["need_to_know"] == [{"id": group.pk, "name": "Gang unit"}]
    outside = api(cast["dispatcher"]).get(f"/api/v1/persons/{person.pk}/")
    missing = api(cast["dispatcher"]).get("/api/v1/persons/999999/")
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()
    # Involvements naming the person are hidden with it.
    call = CallFactory(agency=agency)
    Involvement.objects.create(call=call, person=person, role="suspect")
    listed = api(cast["dispatcher"]).get(f"/api/v1/involvements/?call={call.pk}").json()
    assert listed["results"] == []


def test_setting_limits_through_the_api_is_checked_and_audited(
    agency, other_agency, cast, squad
) -> None:
    group, _ = squad
    person = Person.objects.create(agency=agency, last_name="KANE", name_key="KANE|")
    url = f"/api/v1/persons/{person.pk}/need-to-know/"
    theirs = NeedToKnowGroup.objects.create(agency=other_agency, name="Theirs")
    outside_group = NeedToKnowGroup.objects.create(agency=agency, name="Vice")
    sup = api(cast["supervisor"])
    for body, field in (
        ({"groups": [theirs.pk]}, "groups"),
        ({"groups": [outside_group.pk]}, "groups"),  # the supervisor is not in Vice
        ({"groups": "all"}, "groups"),
        ({"groups": [0]}, "groups"),
        ({}, "groups"),
    ):
        r = sup.post(url, body, format="json")
        assert r.status_code == 400 and field in r.json(), (body, r.json())
    assert not person.need_to_know.exists()
    done = sup.post(url, {"groups": [group.pk]}, format="json")
    assert done.status_code == 200 and done.json()["need_to_know"][0]["name"] == "Gang unit"
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="dispatch.person")
    assert event.get().details["changed"]["need_to_know"] == [[], ["Gang unit"]]
    # Field staff may not change persons; lifting the limit works for members.
    assert api(cast["field"]).post(url, {"groups": []}, format="json").status_code in (403, 404)
    assert sup.post(url, {"groups": []}, format="json").status_code == 200
    assert not person.need_to_know.exists()


def test_a_limited_finding_is_seen_by_members_only_and_stays_out_of_other_pages(
    agency, cast, squad
) -> None:
    group, _ = squad
    finding = make_finding(agency)
    other = make_finding(agency)
    client = Client()
    client.force_login(cast["supervisor"])
    page = client.get(f"/patterns/findings/{finding.pk}/").content.decode()
    assert 'id="ntk-form"' in page and "Not limited" in page
    saved = client.post(f"/patterns/findings/{finding.pk}/need-to-know/", {"groups": [group.pk]})
    assert saved.status_code == 302
    assert "Limited to: <b>Gang unit</b>" in client.get(f"/patterns/findings/{finding.pk}/").text
    analyst = cast["analyst"]  # may view findings, but is not in the group
    assert set(findings_visible_to(analyst)) == {other}
    a = Client()
    a.force_login(analyst)
    assert a.get(f"/patterns/findings/{finding.pk}/").status_code == 404
    assert api(analyst).get(f"/api/v1/findings/{finding.pk}/").status_code == 404
    r = api(cast["supervisor"]).post(
        f"/api/v1/findings/{finding.pk}/need-to-know/", {"groups": []}, format="json"
    )
    assert r.status_code == 200 and r.json()["need_to_know"] == []
    assert a.get(f"/patterns/findings/{finding.pk}/").status_code == 200
    bad = client.post(f"/patterns/findings/{finding.pk}/need-to-know/", {"groups": ["x"]})
    assert bad.status_code == 400 and 'id="ntk-errors"' in bad.text


def test_admin_membership_changes_are_audited(agency, cast, squad) -> None:
    group, insider = squad
    client = Client()
    client.force_login(cast["admin"])
    r = client.post(
        f"/admin/governance/needtoknowgroup/{group.pk}/change/",
        {"agency": agency.pk, "name": "Gang unit", "description": "", "members": [insider.pk]},
    )
    assert r.status_code == 302, r.content.decode()[:1500]
    event = AuditEvent.objects.filter(action=AuditAction.PERMISSION_CHANGE).order_by("-seq")[0]
    assert event.details["members"] == [["insider", "supervisor1"], ["insider"]]


def test_role_changes_in_the_admin_are_audited(agency, cast) -> None:
    from django.contrib.auth.models import Group

    client = Client()
    client.force_login(cast["admin"])
    target = cast["field"]
    page = client.get(f"/admin/auth/user/{target.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "username": target.username,
            "groups": [Group.objects.get(name="dispatcher").pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "membership-TOTAL_FORMS": "1",
            "membership-INITIAL_FORMS": "1",
            "membership-MIN_NUM_FORMS": "0",
            "membership-MAX_NUM_FORMS": "1",
            "membership-0-id": target.membership.pk,
            "membership-0-user": target.pk,
            "membership-0-agency": agency.pk,
            "is_active": "on",
        }
    )
    data.pop("password", None)
    data.pop("last_login", None)
    r = client.post(f"/admin/auth/user/{target.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    event = AuditEvent.objects.filter(action=AuditAction.PERMISSION_CHANGE).order_by("-seq")[0]
    assert event.details["roles"] == [["field"], ["dispatcher"]]


def test_limited_persons_stay_out_of_assignment_briefings(agency, cast, squad) -> None:
    from intelligence.models import FindingEvidence
    from tasking.briefing import finding_briefing

    group, _ = squad
    finding = make_finding(agency)
    call = FindingEvidence.objects.filter(finding=finding).first().call
    known = Person.objects.create(agency=agency, last_name="OPEN", name_key="OPEN|")
    secret = Person.objects.create(agency=agency, last_name="KANE", name_key="KANE|")
    secret.need_to_know.add(group)
    for person in (known, secret):
        Involvement.objects.create(call=call, person=person, role="witness")
    text = finding_briefing(finding=finding, audience=[cast["supervisor"]], time_zone="UTC")
    assert "OPEN" in text and "KANE" not in text


def test_admin_refuses_members_of_another_agency(agency, other_agency, squad) -> None:
    from django.contrib.auth import get_user_model

    group, _ = squad
    stranger = UserFactory(username="stranger", roles=["field"], agency=other_agency)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 16)
    client = Client()
    client.force_login(root)
    r = client.post(
        f"/admin/governance/needtoknowgroup/{group.pk}/change/",
        {"agency": agency.pk, "name": "Gang unit", "description": "", "members": [stranger.pk]},
    )
    assert r.status_code == 200 and "Not people of" in r.content.decode()
    assert stranger not in group.members.all()
