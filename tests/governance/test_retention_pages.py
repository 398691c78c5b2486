"""The retention page (admins only) and the person validation API: edits, holds, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from dispatch.models import Person, UnitPosition
from governance import retention
from governance.models import AuditEvent, LegalHold, RetentionPolicy
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db
PAGE = "/governance/retention/"


def browser(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def person(agency) -> Person:  # type: ignore[no-untyped-def]
    return Person.objects.create(agency=agency, last_name="Bloggs", name_key="BLOGGS|")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("supervisor", 403),
        ("analyst", 403),
        ("dispatcher", 403),
        ("field", 403),
        ("auditor", 403),
    ],
)
def test_only_admins_open_the_page(cast, role: str, status: int) -> None:
    response = browser(cast[role]).get(PAGE)
    assert response.status_code == status
    if status == 200:
        assert b"Legal holds" in response.content
        assert b'id="keep-avl"' in response.content
    nav = browser(cast[role]).get("/governance/access/" if role == "admin" else "/")
    assert (b'href="/governance/retention/"' in nav.content) is (role == "admin")


def test_anonymous_is_sent_to_sign_in() -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_page_shows_preview_and_last_purge(agency, cast) -> None:
    unit = UnitFactory(agency=agency)
    UnitPosition.objects.create(
        unit=unit, recorded_at=timezone.now() - dt.timedelta(days=100), latitude=1, longitude=1
    )
    page = browser(cast["admin"]).get(PAGE).content.decode()
    assert "delete 1 (before" in page  # the preview of the AVL row
    assert "never run" in page
    retention.run_purge(categories=["avl"])
    page = browser(cast["admin"]).get(PAGE).content.decode()
    assert "1 deleted, 0 held" in page
    assert UnitPosition.objects.count() == 0


def test_page_shows_what_falls_due_within_thirty_days(agency, cast) -> None:
    now = timezone.now()
    UnitPosition.objects.create(
        unit=UnitFactory(agency=agency),
        recorded_at=now - dt.timedelta(days=80),
        latitude=1,
        longitude=1,
    )
    page = browser(cast["admin"]).get(PAGE).content.decode()
    assert "Due within 30 days" in page
    # Shown in the agency's time zone: the day may differ from the UTC one by one.
    days = {(now + dt.timedelta(days=d)).strftime("%Y-%m-%d") for d in (9, 10, 11)}
    cell = page.split('data-category="avl">', 1)[1].split("</td>", 1)[0]
    assert cell in {f"1 (first {day}), 0 held" for day in days}
    person_cell = page.split('data-category="person">', 1)[1].split("</td>", 1)[0]
    assert person_cell == "0, 0 held"


def test_admin_edits_policies(cast) -> None:
    admin = browser(cast["admin"])
    response = admin.post(
        "/governance/retention/policies/",
        {"keep_days:avl": "60", "action:avl": "delete", "justification": "DPIA 7"},
    )
    assert response.status_code == 302
    assert RetentionPolicy.objects.get(category="avl").keep_days == 60
    event = AuditEvent.objects.get(object_type="governance.retentionpolicy", object_id="avl")
    assert event.details["changed"] == {"keep_days": [90, 60]}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"keep_days:audit": "364"}, "keep_days"),
        ({"keep_days:avl": "ninety"}, "keep_days"),
        ({"keep_days:avl": "90", "action:avl": "anonymise"}, "action"),
        ({}, "keep_days"),
    ],
)
def test_bad_policy_input_answers_400_naming_the_field(cast, form: dict, field: str) -> None:
    before = list(RetentionPolicy.objects.values_list("category", "keep_days", "action"))
    # A good row alongside: the batch is all or nothing.
    response = browser(cast["admin"]).post(
        "/governance/retention/policies/", {**form, "keep_days:person": "2000"} if form else {}
    )
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()
    assert list(RetentionPolicy.objects.values_list("category", "keep_days", "action")) == before


def test_non_admins_may_not_post(cast) -> None:
    for role in ("supervisor", "analyst", "auditor"):
        response = browser(cast[role]).post(
            "/governance/retention/policies/", {"keep_days:avl": "1"}
        )
        assert response.status_code == 403
    assert RetentionPolicy.objects.get(category="avl").keep_days == 90


def test_admin_places_and_releases_a_hold(agency, cast) -> None:
    who = person(agency)
    admin = browser(cast["admin"])
    bad = admin.post(
        "/governance/retention/holds/",
        {"object_type": "dispatch.person", "object_id": "x", "reason": "Case 1"},
    )
    assert bad.status_code == 400 and "<strong>object_id</strong>" in bad.content.decode()
    missing_reason = admin.post(
        "/governance/retention/holds/", {"object_type": "dispatch.person", "object_id": who.pk}
    )
    assert missing_reason.status_code == 400
    assert "<strong>reason</strong>" in missing_reason.content.decode()
    ok = admin.post(
        "/governance/retention/holds/",
        {"object_type": "dispatch.person", "object_id": who.pk, "reason": "Case 1"},
    )
    assert ok.status_code == 302
    hold = LegalHold.objects.get()
    page = admin.get(PAGE).content.decode()
    assert f"Person #{who.pk}" in page and "Bloggs" not in page  # admins do not see names
    url = f"/governance/retention/holds/{hold.pk}/release/"
    assert admin.post(url, {}).status_code == 400  # a release needs a reason
    assert admin.post(url, {"reason": "Closed"}).status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == cast["admin"] and hold.release_reason == "Closed"
    assert admin.post(url, {"reason": "again"}).status_code == 400
    assert (
        admin.post("/governance/retention/holds/987654/release/", {"reason": "x"}).status_code
        == 404
    )


def test_another_agencys_hold_is_not_found(agency, other_agency, cast) -> None:
    from tests.factories import UserFactory

    theirs = person(other_agency)
    their_admin = UserFactory(username="nadmin", roles=["admin"], agency=other_agency)
    hold = retention.legal_hold_place(
        actor=their_admin, object_type="dispatch.person", object_id=theirs.pk, reason="Theirs"
    )
    admin = browser(cast["admin"])
    assert f'id="hold-{hold.pk}"' not in admin.get(PAGE).content.decode()
    url = f"/governance/retention/holds/{hold.pk}/release/"
    assert admin.post(url, {"reason": "x"}).status_code == 404


# --- the validation API ---------------------------------------------------------------------


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_validate_api(agency, cast) -> None:
    who = person(agency)
    url = f"/api/v1/persons/{who.pk}/validate/"
    bad = api(cast["supervisor"]).post(url, {}, format="json")
    assert bad.status_code == 400 and "rationale" in bad.json()
    assert api(cast["supervisor"]).post(url, {"rationale": " "}, format="json").status_code == 400
    assert api(cast["dispatcher"]).post(url, {"rationale": "x"}, format="json").status_code == 403
    ok = api(cast["analyst"]).post(url, {"rationale": "Still in case 12."}, format="json")
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert body["validated_by"] == cast["analyst"].pk
    assert body["validation_rationale"] == "Still in case 12."
    missing = api(cast["analyst"]).post(
        "/api/v1/persons/987654/validate/", {"rationale": "x"}, format="json"
    )
    assert missing.status_code == 404


# --- the legal hold API (admins and supervisors) -------------------------------------------


def test_supervisor_places_and_releases_a_hold_through_the_api(agency, cast) -> None:
    who = person(agency)
    sup = api(cast["supervisor"])
    assert api(cast["analyst"]).get("/api/v1/legal-holds/").status_code == 403
    bad = sup.post("/api/v1/legal-holds/", {"object_type": "dispatch.person"}, format="json")
    assert bad.status_code == 400 and {"object_id", "reason"} <= set(bad.json())
    wrong = sup.post(
        "/api/v1/legal-holds/",
        {"object_type": "dispatch.person", "object_id": 987654, "reason": "x"},
        format="json",
    )
    assert wrong.status_code == 400 and "object_id" in wrong.json()
    made = sup.post(
        "/api/v1/legal-holds/",
        {"object_type": "dispatch.person", "object_id": who.pk, "reason": "Case 3"},
        format="json",
    )
    assert made.status_code == 201, made.content
    hold_id = made.json()["id"]
    assert made.json()["record"] == f"Person #{who.pk}"
    assert [h["id"] for h in sup.get("/api/v1/legal-holds/").json()] == [hold_id]
    url = f"/api/v1/legal-holds/{hold_id}/release/"
    assert sup.post(url, {}, format="json").status_code == 400
    released = api(cast["admin"]).post(url, {"reason": "Closed"}, format="json")
    assert released.status_code == 200 and released.json()["released_by"] == "admin1"
    assert (
        api(cast["admin"])
        .post("/api/v1/legal-holds/987654/release/", {"reason": "x"}, format="json")
        .status_code
        == 404
    )


def test_garbage_ids_and_null_characters_answer_4xx(agency, cast) -> None:
    admin = browser(cast["admin"])
    huge = "9" * 40
    assert (
        admin.post(f"/governance/retention/holds/{huge}/release/", {"reason": "x"}).status_code
        == 404
    )
    for object_id in (huge, "-1", "0", "1e400", "\x00"):
        response = admin.post(
            "/governance/retention/holds/",
            {"object_type": "dispatch.person", "object_id": object_id, "reason": "x"},
        )
        assert response.status_code == 400, object_id
    who = person(agency)
    response = admin.post(
        "/governance/retention/holds/",
        {"object_type": "dispatch.person", "object_id": who.pk, "reason": "a\x00b"},
    )
    assert response.status_code == 400
