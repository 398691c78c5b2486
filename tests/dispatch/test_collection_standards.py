"""Collection standards (28 CFR 23.20(a)/(b)) and per-category observation requirements.

Refusals name the field, through the services, the API and the phone form, and leave nothing
half-written; an admin's requirement applies to the very next card.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from beacon_core.errors import DomainError
from dispatch import services
from dispatch.models import FieldObservation, Involvement, ObservationRequirement, Person, Vehicle
from governance.choices import AuditAction
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

PERSONS = "/api/v1/persons/"
OBSERVATIONS = "/api/v1/observations/"
REASON = "Seen handing small packages to buyers at the corner on three nights."
VIEWS_REASON = "Recruits for the gang's drug sales at these meetings, per two informants."


def _nothing_written() -> None:
    assert Person.objects.count() == 0
    assert FieldObservation.objects.count() == 0
    assert Vehicle.objects.count() == 0
    assert Involvement.objects.count() == 0


# --- intelligence subjects: reasonable suspicion and a criminal-activity category ------------


def test_a_subject_without_category_and_justification_is_refused_naming_both(agency) -> None:
    with pytest.raises(DomainError) as err:
        services.person_create(agency=agency, last_name="Doe", intelligence_subject=True)
    assert set(err.value.errors) == {"criminal_activity", "suspicion_justification"}
    assert "23.20(a)" in err.value.errors["criminal_activity"][0]
    assert Person.objects.count() == 0


@pytest.mark.parametrize("justification", ["", "   \n\t   " * 5, "suspicious guy"])
def test_a_blank_or_token_justification_is_refused(agency, justification: str) -> None:
    with pytest.raises(DomainError) as err:
        services.person_create(
            agency=agency,
            last_name="Doe",
            intelligence_subject=True,
            criminal_activity="drugs",
            suspicion_justification=justification,
        )
    assert list(err.value.errors) == ["suspicion_justification"]
    assert "20 characters" in err.value.errors["suspicion_justification"][0]


def test_a_category_without_the_subject_flag_is_refused(agency) -> None:
    with pytest.raises(DomainError) as err:
        services.person_create(agency=agency, last_name="Doe", criminal_activity="drugs")
    assert list(err.value.errors) == ["intelligence_subject"]


def test_a_justified_subject_is_recorded_with_who_and_when_and_audited(agency, cast) -> None:
    person = services.person_create(
        agency=agency,
        actor=cast["supervisor"],
        last_name="Doe",
        intelligence_subject=True,
        criminal_activity="drugs",
        suspicion_justification=f"  {REASON}  ",
    )
    person.refresh_from_db()
    assert (person.intelligence_subject, person.criminal_activity) == (True, "drugs")
    assert person.suspicion_justification == REASON
    assert person.subject_recorded_by == cast["supervisor"]
    assert person.subject_recorded_at is not None
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="dispatch.person")
    assert event.justification == REASON and event.details["criminal_activity"] == "drugs"


@pytest.mark.parametrize(
    "fields",
    [
        {"intelligence_subject": True, "criminal_activity": "", "suspicion_justification": REASON},
        {
            "intelligence_subject": True,
            "criminal_activity": "drugs",
            "suspicion_justification": "x",
        },
        {
            "intelligence_subject": True,
            "criminal_activity": "drugs",
            "suspicion_justification": " " * 30,
        },
        {"criminal_activity": "politics"},
        {"views_or_associations": "Member of a trade union"},
        {
            "views_or_associations": "Member of a trade union",
            "views_related_to_criminal_conduct": True,
            "views_justification": "short",
        },
    ],
)
def test_the_database_refuses_rows_that_bypass_the_service(agency, fields: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(agency=agency, last_name="Doe", name_key="DOE|", **fields)


def test_person_mark_subject_needs_both_and_then_records_and_audits(agency, cast) -> None:
    person = services.person_create(agency=agency, last_name="Doe")
    with pytest.raises(DomainError) as err:
        services.person_mark_subject(
            actor=cast["supervisor"], person=person, criminal_activity="weapons"
        )
    assert list(err.value.errors) == ["suspicion_justification"]
    person.refresh_from_db()
    assert not person.intelligence_subject

    services.person_mark_subject(
        actor=cast["supervisor"],
        person=person,
        criminal_activity="weapons",
        suspicion_justification=REASON,
    )
    person.refresh_from_db()
    assert (person.intelligence_subject, person.criminal_activity) == (True, "weapons")
    event = AuditEvent.objects.get(action=AuditAction.CHANGE, object_id=str(person.pk))
    assert event.details["changed_fields"]["intelligence_subject"] == [False, True]

    services.person_mark_subject(
        actor=cast["supervisor"], person=person, intelligence_subject=False
    )
    person.refresh_from_db()
    assert (person.intelligence_subject, person.criminal_activity) == (False, "")
    assert person.suspicion_justification == ""


# --- views and associations (28 CFR 23.20(b)) -------------------------------------------------


def test_views_without_a_link_to_criminal_conduct_are_refused(agency) -> None:
    with pytest.raises(DomainError) as err:
        services.person_create(
            agency=agency, last_name="Doe", views_or_associations="Attends St Mary's church"
        )
    assert list(err.value.errors) == ["views_or_associations"]
    assert "28 CFR 23.20(b)" in err.value.errors["views_or_associations"][0]
    assert Person.objects.count() == 0


def test_views_flagged_but_unjustified_are_refused_naming_the_justification(agency) -> None:
    with pytest.raises(DomainError) as err:
        services.person_create(
            agency=agency,
            last_name="Doe",
            views_or_associations="Member of the Eastside Kings",
            views_related_to_criminal_conduct=True,
        )
    assert set(err.value.errors) == {"views_or_associations", "views_justification"}


def test_views_directly_related_to_criminal_conduct_are_kept_with_the_reason(agency) -> None:
    person = services.person_create(
        agency=agency,
        last_name="Doe",
        views_or_associations="Member of the Eastside Kings",
        views_related_to_criminal_conduct=True,
        views_justification=VIEWS_REASON,
    )
    person.refresh_from_db()
    assert person.views_related_to_criminal_conduct and person.views_justification == VIEWS_REASON


# --- through the API ----------------------------------------------------------------------------


def test_api_person_create_refuses_a_subject_without_justification(client_for) -> None:
    resp = client_for("dispatcher").post(
        PERSONS,
        {"last_name": "Doe", "intelligence_subject": True, "criminal_activity": "drugs"},
        format="json",
    )
    assert resp.status_code == 400
    assert list(resp.json()) == ["suspicion_justification"]
    _nothing_written()


def test_api_person_create_refuses_views_citing_the_regulation(client_for) -> None:
    resp = client_for("dispatcher").post(
        PERSONS,
        {"last_name": "Doe", "views_or_associations": "Votes Green"},
        format="json",
    )
    assert resp.status_code == 400
    assert "28 CFR 23.20(b)" in resp.json()["views_or_associations"][0]
    _nothing_written()


def test_api_person_create_records_a_justified_subject(client_for) -> None:
    resp = client_for("supervisor").post(
        PERSONS,
        {
            "last_name": "Doe",
            "intelligence_subject": True,
            "criminal_activity": "violence",
            "suspicion_justification": REASON,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert (body["intelligence_subject"], body["criminal_activity"]) == (True, "violence")


def test_api_mark_subject_names_the_missing_field_then_marks(client_for, agency) -> None:
    person = services.person_create(agency=agency, last_name="Doe")
    url = f"{PERSONS}{person.pk}/intelligence-subject/"
    client = client_for("supervisor")
    resp = client.post(url, {"suspicion_justification": REASON}, format="json")
    assert resp.status_code == 400 and list(resp.json()) == ["criminal_activity"]
    person.refresh_from_db()
    assert not person.intelligence_subject
    resp = client.post(
        url, {"criminal_activity": "fraud", "suspicion_justification": REASON}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["intelligence_subject"] is True
    assert client_for("analyst").post(url, {}, format="json").status_code == 403


def test_api_observation_refuses_views_or_associations(client_for) -> None:
    resp = client_for("field").post(
        OBSERVATIONS,
        {"category": "other", "address": "1 Main St", "views_or_associations": "Muslim"},
        format="json",
    )
    assert resp.status_code == 400
    assert "28 CFR 23.20(b)" in resp.json()["views_or_associations"][0]
    _nothing_written()


# --- per-category requirements -------------------------------------------------------------------


def _require(cast: dict[str, Any], category: str, fields: list[str], minimum: int = 0) -> None:
    services.observation_requirement_set(
        actor=cast["admin"], category=category, required_fields=fields, narrative_min_length=minimum
    )


def test_a_requirement_applies_to_the_next_api_card_and_lifting_it_too(client_for, cast) -> None:
    client = client_for("field")
    card = {"category": "suspicious_vehicle", "address": "77 Dock St", "narrative": "Idling."}
    assert client.post(OBSERVATIONS, card, format="json").status_code == 201

    _require(cast, "suspicious_vehicle", ["vehicles"])
    resp = client.post(OBSERVATIONS, card, format="json")
    assert resp.status_code == 400
    assert resp.json() == {"vehicles": ["Required for category 'suspicious vehicle'."]}
    assert FieldObservation.objects.count() == 1  # only the first card

    _require(cast, "suspicious_vehicle", [])
    assert client.post(OBSERVATIONS, card, format="json").status_code == 201


def test_api_card_with_the_required_vehicle_links_it(client_for, cast, agency) -> None:
    _require(cast, "suspicious_vehicle", ["vehicles", "narrative"], minimum=10)
    vehicle, _ = services.vehicle_get_or_create(agency=agency, plate="ABC123", plate_state="TX")
    client = client_for("field")
    card = {"category": "suspicious_vehicle", "address": "77 Dock St", "vehicles": [vehicle.pk]}
    resp = client.post(OBSERVATIONS, card, format="json")
    assert resp.json() == {"narrative": ["Required for category 'suspicious vehicle'."]}
    resp = client.post(OBSERVATIONS, {**card, "narrative": "Idling"}, format="json")
    assert "narrative" in resp.json() and "10 characters" in resp.json()["narrative"][0]
    resp = client.post(OBSERVATIONS, {**card, "narrative": "Idling for an hour."}, format="json")
    assert resp.status_code == 201, resp.json()
    obs = FieldObservation.objects.get()
    assert [(i.role, i.vehicle_id) for i in obs.involvements.all()] == [("subject", vehicle.pk)]


def test_api_card_missing_several_requirements_names_each(client_for, cast) -> None:
    _require(cast, "suspicious_person", ["address", "persons", "narrative"])
    resp = client_for("field").post(
        OBSERVATIONS,
        {"category": "suspicious_person", "latitude": 29.42, "longitude": -98.49},
        format="json",
    )
    assert resp.status_code == 400
    assert set(resp.json()) == {"address", "persons", "narrative"}
    _nothing_written()


def test_api_card_cannot_link_an_unseen_person(client_for, cast, other_agency) -> None:
    foreign = services.person_create(agency=other_agency, last_name="Far")
    resp = client_for("field").post(
        OBSERVATIONS,
        {"category": "other", "address": "1 Main St", "persons": [foreign.pk]},
        format="json",
    )
    assert resp.status_code == 400 and resp.json() == {"persons": ["No such persons."]}
    assert FieldObservation.objects.count() == 0


def test_unknown_requirement_fields_are_refused(cast) -> None:
    with pytest.raises(DomainError) as err:
        _require(cast, "hazard", ["photo"])
    assert list(err.value.errors) == ["required_fields"]


# --- the phone form -------------------------------------------------------------------------------


def _phone(cast: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(cast["field"])
    return client


def test_phone_form_shows_the_missing_vehicle_next_to_it_and_keeps_the_typing(cast) -> None:
    _require(cast, "suspicious_vehicle", ["vehicles"])
    resp = _phone(cast).post(
        "/field/observe/",
        {
            "category": "suspicious_vehicle",
            "address": "77 Dock St",
            "narrative": "Engine running for an hour",
            "person_last_name": "Roe",
            "person_description": "tall, red cap",
        },
    )
    assert resp.status_code == 400
    page = resp.content.decode()
    vehicles_box = page[page.index('id="o-vehicles"') : page.index('id="o-persons"')]
    assert "Required for category &#x27;suspicious vehicle&#x27;." in vehicles_box
    for typed in ("77 Dock St", "Engine running for an hour", "Roe", "tall, red cap"):
        assert typed in page
    assert 'value="suspicious_vehicle" checked' in page
    _nothing_written()  # the person typed was rolled back with the card


def test_phone_form_files_when_the_requirement_is_met(cast) -> None:
    _require(cast, "suspicious_person", ["persons"])
    client = _phone(cast)
    card = {"category": "suspicious_person", "address": "77 Dock St"}
    resp = client.post("/field/observe/", card)
    assert resp.status_code == 400 and b"Required for category" in resp.content
    resp = client.post("/field/observe/", {**card, "person_description": "tall, red cap"})
    assert resp.status_code == 302
    assert FieldObservation.objects.get().involvements.get().person.last_name == "UNKNOWN"


def test_phone_form_shows_person_field_errors_under_the_person(cast) -> None:
    resp = _phone(cast).post(
        "/field/observe/",
        {"category": "other", "address": "1 Main St", "person_first_name": "x" * 101},
    )
    # Only a first name: no person is recorded, so nothing to refuse; with a last name it is.
    assert resp.status_code == 302
    resp = _phone(cast).post(
        "/field/observe/",
        {
            "category": "other",
            "address": "1 Main St",
            "person_last_name": "Roe",
            "person_first_name": "x" * 101,
        },
    )
    assert resp.status_code == 400
    assert "At most 100 characters." in resp.content.decode()


def test_phone_form_hints_the_requirements_of_each_category(cast) -> None:
    _require(cast, "suspicious_vehicle", ["vehicles"], minimum=15)
    page = _phone(cast).get("/field/observe/").content.decode()
    assert 'id="observe-requirements"' in page and '"narrative_min_length": 15' in page


# --- admins edit requirements in the browser ------------------------------------------------------


def test_admin_sets_requirements_through_checkboxes_and_it_is_audited(cast) -> None:
    client = Client()
    client.force_login(cast["admin"])
    url = "/admin/dispatch/observationrequirement/add/"
    assert client.get(url).status_code == 200
    resp = client.post(
        url,
        {
            "category": "hazard",
            "required_fields": ["narrative", "address"],
            "narrative_min_length": 5,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    row = ObservationRequirement.objects.get(category="hazard")
    assert (row.required_fields, row.narrative_min_length) == (["address", "narrative"], 5)
    assert AuditEvent.objects.filter(
        action=AuditAction.CHANGE, object_type="dispatch.observationrequirement"
    ).exists()
    resp = client.post(
        url, {"category": "other", "required_fields": ["photo"], "narrative_min_length": 0}
    )
    assert resp.status_code == 200 and "photo is not one of the available choices" in resp.text
    assert not ObservationRequirement.objects.filter(category="other").exists()
