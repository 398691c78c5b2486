"""Observations, persons, vehicles and involvements."""

from __future__ import annotations

import pytest

from dispatch import services
from dispatch.models import FieldObservation, Involvement, Person, Vehicle
from governance.choices import Sensitivity

pytestmark = pytest.mark.django_db

OBSERVATIONS = "/api/v1/observations/"
PERSONS = "/api/v1/persons/"
VEHICLES = "/api/v1/vehicles/"
INVOLVEMENTS = "/api/v1/involvements/"


@pytest.fixture
def person(agency):
    return services.person_create(agency=agency, last_name="Smith", first_name="John")


@pytest.fixture
def other_person(other_agency):
    return services.person_create(agency=other_agency, last_name="Smith", first_name="Jane")


@pytest.fixture
def vehicle(agency):
    return services.vehicle_get_or_create(agency=agency, plate="abc-123", plate_state="tx")[0]


@pytest.fixture
def observation(agency, cast):
    return services.observation_create(
        agency=agency,
        actor=cast["field"],
        category="suspicious_vehicle",
        latitude=29.42,
        longitude=-98.49,
        narrative="Van idling",
    )


@pytest.fixture
def other_observation(other_agency):
    return services.observation_create(
        agency=other_agency, actor=None, category="nuisance", address="9 Elm St"
    )


# --- observations -----------------------------------------------------------------------------


def test_field_user_files_observation_tied_to_a_call(client_for, call, agency):
    response = client_for("field").post(
        OBSERVATIONS,
        {
            "category": "suspicious_person",
            "address": "123 n main st apt 4",
            "narrative": "Loitering by the porch",
            "call": call.pk,
            "observed_at": "2025-02-01T03:00:00+01:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["call"] == call.pk and body["agency"] == agency.pk
    assert body["location"]["address_key"] == "123 N MAIN ST #4"
    assert body["observed_at"] == "2025-02-01T02:00:00Z"
    assert body["reported_by"] == "field1"


def test_observation_list_and_detail(client_for, observation, other_observation):
    client = client_for("analyst")
    rows = client.get(OBSERVATIONS).json()["results"]
    assert [r["id"] for r in rows] == [observation.pk]
    rows = client.get(OBSERVATIONS + "?category=nuisance").json()["results"]
    assert rows == []
    assert client.get(f"{OBSERVATIONS}{observation.pk}/").json()["narrative"] == "Van idling"
    assert client.get(f"{OBSERVATIONS}{other_observation.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"address": "1 Main St"}, "category"),
        ({"category": "ufo", "address": "1 Main St"}, "category"),
        ({"category": "other"}, "address"),
        ({"category": "other", "latitude": 0, "longitude": 0}, "latitude"),
        ({"category": "other", "address": "1 Main St", "sensitivity": 7}, "sensitivity"),
        ({"category": "other", "address": "1 Main St", "sensitivity": 3}, "sensitivity"),
        ({"category": "other", "address": "1 Main St", "call": "first"}, "call"),
        ({"category": "other", "address": "1 Main St", "call": 987654}, "call"),
        (
            {"category": "other", "address": "1 Main St", "observed_at": "2999-01-01T00:00Z"},
            "observed_at",
        ),
    ],
)
def test_bad_observation_is_400_naming_the_field(client_for, payload, field, agency):
    response = client_for("field").post(OBSERVATIONS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not FieldObservation.objects.exists()


def test_observation_on_other_agency_call_is_400_no_such_call(client_for, other_call):
    response = client_for("field").post(
        OBSERVATIONS, {"category": "other", "address": "1 Main St", "call": other_call.pk}
    )
    assert response.status_code == 400
    assert response.json() == {"call": ["No such call."]}


def test_observations_access(anon, client_for, agency):
    assert anon.get(OBSERVATIONS).status_code in (401, 403)
    assert client_for("auditor").get(OBSERVATIONS).status_code == 403
    response = client_for("analyst").post(OBSERVATIONS, {"category": "other", "address": "1 Main"})
    assert response.status_code == 403  # analysts read observations, they do not file them
    assert not FieldObservation.objects.exists()


# --- persons ---------------------------------------------------------------------------------


def test_dispatcher_records_a_person(client_for, agency):
    response = client_for("dispatcher").post(
        PERSONS,
        {"last_name": "Doe", "first_name": "Jo", "date_of_birth": "1990-05-01", "sex": "F"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["agency"] == agency.pk
    assert response.json()["sensitivity"] == Sensitivity.RESTRICTED


@pytest.mark.parametrize("query", ["smith", "Smith, Jo", "John Smith", "smith john"])
def test_person_search_by_name_in_either_order(client_for, person, other_person, query):
    services.person_create(agency=person.agency, last_name="Smithers", first_name="Amy")
    rows = client_for("dispatcher").get(PERSONS, {"name": query}).json()["results"]
    names = {(r["last_name"], r["first_name"]) for r in rows}
    assert ("Smith", "John") in names
    assert ("Smith", "Jane") not in names  # the neighbour's person
    if query != "smith":
        assert ("Smithers", "Amy") not in names


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "last_name"),
        ({"last_name": ""}, "last_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"last_name": "Doe", "sex": "Q"}, "sex"),
        ({"last_name": "Doe", "date_of_birth": "3000-01-01"}, "date_of_birth"),
        ({"last_name": "Doe", "date_of_birth": "01/05/1990"}, "date_of_birth"),
        ({"last_name": "Doe", "sensitivity": 3}, "sensitivity"),
    ],
)
def test_bad_person_is_400_naming_the_field(client_for, agency, payload, field):
    response = client_for("dispatcher").post(PERSONS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Person.objects.exists()


def test_persons_access(anon, client_for, person, other_person):
    assert anon.get(PERSONS).status_code in (401, 403)
    assert client_for("auditor").get(PERSONS).status_code == 403
    assert client_for("admin").get(PERSONS).status_code == 403
    assert client_for("analyst").post(PERSONS, {"last_name": "X"}).status_code == 403
    assert client_for("dispatcher").get(f"{PERSONS}{person.pk}/").status_code == 200
    assert client_for("dispatcher").get(f"{PERSONS}{other_person.pk}/").status_code == 404


def test_confidential_person_is_invisible_to_dispatcher(client_for, agency):
    secret = services.person_create(
        agency=agency, last_name="Covert", sensitivity=Sensitivity.CONFIDENTIAL
    )
    assert client_for("dispatcher").get(f"{PERSONS}{secret.pk}/").status_code == 404
    assert client_for("supervisor").get(f"{PERSONS}{secret.pk}/").status_code == 200


# --- vehicles --------------------------------------------------------------------------------


def test_vehicle_get_or_create_normalises_the_plate(client_for, agency):
    client = client_for("field")
    first = client.post(VEHICLES, {"plate": "abc 123", "plate_state": "tx", "make": "Ford"})
    assert first.status_code == 201, first.json()
    assert first.json()["plate"] == "ABC123" and first.json()["plate_state"] == "TX"
    again = client.post(VEHICLES, {"plate": "ABC-123", "plate_state": "TX"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Vehicle.objects.count() == 1


def test_vehicle_plate_search_is_normalised(client_for, vehicle, other_agency):
    services.vehicle_get_or_create(agency=other_agency, plate="ABC123", plate_state="TX")
    client = client_for("dispatcher")
    rows = client.get(VEHICLES, {"plate": "abc-1"}).json()["results"]
    assert [r["id"] for r in rows] == [vehicle.pk]
    assert client.get(VEHICLES, {"plate": "zzz"}).json()["results"] == []
    assert client.get(f"{VEHICLES}{vehicle.pk}/").json()["plate"] == "ABC123"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "plate"),
        ({"plate": "---"}, "plate"),
        ({"plate": "ABC1", "plate_state": "Texas"}, "plate_state"),
        ({"plate": "ABC1", "year": 1800}, "year"),
        ({"plate": "ABC1", "year": "new"}, "year"),
        ({"plate": "ABC1", "sensitivity": 3}, "sensitivity"),
    ],
)
def test_bad_vehicle_is_400_naming_the_field(client_for, agency, payload, field):
    response = client_for("dispatcher").post(VEHICLES, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Vehicle.objects.exists()


def test_vehicle_above_users_level_is_not_handed_back_nor_hinted(client_for, agency):
    spy = services.vehicle_get_or_create(
        agency=agency, plate="SPY1", plate_state="TX", sensitivity=Sensitivity.CONFIDENTIAL
    )[0]
    response = client_for("dispatcher").post(VEHICLES, {"plate": "spy1", "plate_state": "tx"})
    # Answered like a new plate: a record of the dispatcher's own level, not the confidential one.
    assert response.status_code == 201
    mine = response.json()
    assert mine["id"] != spy.pk and mine["sensitivity"] == Sensitivity.RESTRICTED
    again = client_for("dispatcher").post(VEHICLES, {"plate": "SPY1", "plate_state": "TX"})
    assert again.status_code == 200 and again.json()["id"] == mine["id"]
    # A supervisor, cleared for both, finds the confidential one.
    sup = client_for("supervisor").post(VEHICLES, {"plate": "SPY1", "plate_state": "TX"})
    assert sup.status_code == 200 and sup.json()["id"] == spy.pk


def test_vehicles_access(anon, client_for, vehicle, other_agency):
    theirs = services.vehicle_get_or_create(agency=other_agency, plate="N1")[0]
    assert anon.get(VEHICLES).status_code in (401, 403)
    assert client_for("auditor").get(VEHICLES).status_code == 403
    assert client_for("analyst").post(VEHICLES, {"plate": "X1"}).status_code == 403
    assert client_for("dispatcher").get(f"{VEHICLES}{theirs.pk}/").status_code == 404


# --- involvements --------------------------------------------------------------------------


def test_link_person_to_call_and_vehicle_to_observation(
    client_for, call, person, vehicle, observation
):
    client = client_for("dispatcher")
    response = client.post(
        INVOLVEMENTS, {"role": "suspect", "person": person.pk, "call": call.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert call.events.filter(kind="involvement").exists()
    response = client.post(
        INVOLVEMENTS,
        {"role": "driver", "vehicle": vehicle.pk, "observation": observation.pk, "notes": "blue"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    rows = client.get(INVOLVEMENTS).json()["results"]
    assert {r["role"] for r in rows} == {"suspect", "driver"}
    rows = client.get(INVOLVEMENTS, {"call": call.pk}).json()["results"]
    assert [r["person"] for r in rows] == [person.pk]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"person": 1, "call": 1}, "role"),
        ({"role": "bystander", "person": 1, "call": 1}, "role"),
        ({"role": "suspect", "call": 1}, "person"),
        ({"role": "suspect", "person": 1, "vehicle": 1, "call": 1}, "person"),
        ({"role": "suspect", "person": 1}, "call"),
        ({"role": "suspect", "person": 1, "call": 1, "observation": 1}, "call"),
        ({"role": "suspect", "person": "one", "call": 1}, "person"),
    ],
)
def test_bad_involvement_is_400_naming_the_field(client_for, agency, payload, field):
    response = client_for("dispatcher").post(INVOLVEMENTS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Involvement.objects.exists()


def test_involvement_with_unseen_records_is_400_on_that_field(
    client_for, call, person, other_person, other_call, other_observation
):
    client = client_for("dispatcher")
    cases = [
        ({"role": "suspect", "person": other_person.pk, "call": call.pk}, "person"),
        ({"role": "suspect", "person": person.pk, "call": other_call.pk}, "call"),
        (
            {"role": "suspect", "person": person.pk, "observation": other_observation.pk},
            "observation",
        ),
        ({"role": "suspect", "vehicle": 424242, "call": call.pk}, "vehicle"),
    ]
    for payload, field in cases:
        response = client.post(INVOLVEMENTS, payload, format="json")
        assert response.status_code == 400
        assert field in response.json()
    assert not Involvement.objects.exists()


def test_involvements_access(anon, client_for, call, person, other_call, other_person):
    services.involvement_create(actor=None, role="witness", person=other_person, call=other_call)
    payload = {"role": "witness", "person": person.pk, "call": call.pk}
    assert anon.post(INVOLVEMENTS, payload, format="json").status_code in (401, 403)
    assert client_for("analyst").post(INVOLVEMENTS, payload, format="json").status_code == 403
    assert client_for("auditor").get(INVOLVEMENTS).status_code == 403
    assert client_for("dispatcher").get(INVOLVEMENTS).json()["results"] == []  # not the neighbour's
    assert not Involvement.objects.filter(call=call).exists()
