"""Location, premise note, observation, person, vehicle and involvement services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch import services
from dispatch.choices import CallEventKind, InvolvementRole, ObservationCategory
from dispatch.models import Call, CallType, FieldObservation, Location, Person, Vehicle
from governance.choices import Sensitivity
from governance.models import Agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(cast: dict[str, Any]) -> Any:
    return cast["dispatcher"]


def new_call(agency: Agency, actor: Any) -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="SUSP-PERS"),
        address="1 Market Sq",
        latitude=29.42,
        longitude=-98.49,
    )


# --- locations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("123 North Main Street Apt 4", "123 N MAIN ST #4", "123 n. main st., unit 4"),
        ("Main St / 5th Ave", "5th Avenue & Main Street"),
        ("100 block of Main St", "1XX Main Street"),
    ],
)
def test_location_resolve_merges_spellings_of_one_place(db, spellings):
    locations = {services.location_resolve(address=s).pk for s in spellings}
    assert len(locations) == 1
    assert Location.objects.count() == 1


def test_location_resolve_keeps_different_places_and_localities_apart(db):
    a = services.location_resolve(address="123 Main St", locality="Springfield")
    b = services.location_resolve(address="123 Main St", locality="Shelbyville")
    c = services.location_resolve(address="125 Main St", locality="Springfield")
    d = services.location_resolve(address="123 Main St Apt 2", locality="Springfield")
    assert len({a.pk, b.pk, c.pk, d.pk}) == 4
    assert services.location_resolve(address="123 MAIN STREET", locality=" springfield").pk == a.pk


def test_location_resolve_fills_in_a_point_learned_later_but_never_moves_a_known_one(db):
    first = services.location_resolve(address="42 Elm St")
    assert first.latitude is None and first.h3_r9 == ""

    located = services.location_resolve(address="42 ELM STREET", latitude=29.4, longitude=-98.5)
    assert located.pk == first.pk
    assert (located.latitude, located.longitude) == (29.4, -98.5) and located.h3_r9

    again = services.location_resolve(address="42 Elm St", latitude=30.0, longitude=-97.0)
    assert (again.latitude, again.longitude) == (29.4, -98.5)


def test_location_resolve_survives_losing_the_insert_race(db, monkeypatch):
    """The other request's row is returned, not a duplicate and not an error."""
    existing = services.location_resolve(address="7 Race Rd")
    real_get_or_create = Location.objects.get_or_create

    def lose_the_race(**kwargs: Any) -> Any:
        # What a concurrent writer makes get_or_create see: its row violates the key.
        from django.db import IntegrityError

        raise IntegrityError("location_unique_key")

    monkeypatch.setattr(Location.objects, "get_or_create", lose_the_race)
    assert services.location_resolve(address="7 RACE ROAD").pk == existing.pk
    monkeypatch.setattr(Location.objects, "get_or_create", real_get_or_create)
    assert Location.objects.count() == 1


@pytest.mark.parametrize("address", ["", "   ", "!!!", "x" * 600])
def test_location_resolve_refuses_unusable_addresses_naming_address(db, address):
    with pytest.raises(DomainError) as exc:
        services.location_resolve(address=address)
    assert "address" in exc.value.errors


def test_premise_note_validation(agency, dispatcher):
    location = services.location_resolve(address="1 Dog Ln")
    note = services.premise_note_create(
        location=location, agency=agency, actor=dispatcher, text=" big dog ", kind="hazard"
    )
    assert (note.text, note.kind, note.created_by) == ("big dog", "hazard", dispatcher)
    for bad, field in (
        ({"text": " "}, "text"),
        ({"kind": "gossip"}, "kind"),
        ({"sensitivity": 7}, "sensitivity"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "expires_at"),  # noqa: DTZ001  naive on purpose
    ):
        kwargs = {"text": "note", **bad}
        with pytest.raises(DomainError) as exc:
            services.premise_note_create(
                location=location, agency=agency, actor=dispatcher, **kwargs
            )
        assert field in exc.value.errors


# --- observations --------------------------------------------------------------------


def test_observation_create_files_a_located_card_linked_to_a_call(agency, cast):
    field_user = cast["field"]
    call = new_call(agency, cast["dispatcher"])
    obs = services.observation_create(
        agency=agency,
        actor=field_user,
        category=ObservationCategory.SUSPICIOUS_VEHICLE,
        address="1 Market Square",
        narrative="white van, engine running",
        call_id=call.pk,
    )
    assert obs.location == call.location
    assert (obs.latitude, obs.longitude) == (29.42, -98.49)
    assert obs.reported_by == field_user and obs.call == call and obs.h3_r9


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "ufo"}, "category"),
        ({"address": "", "latitude": None, "longitude": None}, "address"),
        ({"latitude": 100.0, "longitude": 0.0}, "latitude"),
        ({"observed_at": dt.datetime(2025, 1, 1)}, "observed_at"),  # noqa: DTZ001  naive on purpose
        ({"observed_at": timezone.now() + dt.timedelta(days=1)}, "observed_at"),
        ({"sensitivity": 0}, "sensitivity"),
        ({"call_id": 999_999}, "call"),
    ],
)
def test_observation_create_refuses_bad_input_naming_the_field(agency, cast, overrides, field):
    kwargs: dict[str, Any] = {
        "category": ObservationCategory.NUISANCE,
        "latitude": 29.4,
        "longitude": -98.4,
        **overrides,
    }
    with pytest.raises(DomainError) as exc:
        services.observation_create(agency=agency, actor=cast["field"], **kwargs)
    assert field in exc.value.errors
    assert not FieldObservation.objects.exists()


def test_an_observation_cannot_be_tied_to_another_agencys_call(agency, other_agency, cast):
    foreign_call = new_call(other_agency, cast["dispatcher"])
    with pytest.raises(DomainError) as exc:
        services.observation_create(
            agency=agency,
            actor=cast["field"],
            category=ObservationCategory.NUISANCE,
            latitude=29.4,
            longitude=-98.4,
            call_id=foreign_call.pk,
        )
    assert "call" in exc.value.errors


# --- persons and vehicles ------------------------------------------------------------------


def test_person_create_builds_the_matching_key_and_validates(agency):
    person = services.person_create(agency=agency, last_name=" O'Brien ", first_name="Mary-Kate")
    assert person.last_name == "O'Brien"
    assert person.name_key == "OBRIEN|MARYKATE"
    assert person.sensitivity == Sensitivity.RESTRICTED
    for bad, field in (
        ({"last_name": " "}, "last_name"),
        ({"sex": "Q"}, "sex"),
        ({"date_of_birth": timezone.now().date() + dt.timedelta(days=1)}, "date_of_birth"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"sensitivity": 9}, "sensitivity"),
    ):
        with pytest.raises(DomainError) as exc:
            services.person_create(agency=agency, **{"last_name": "Doe", **bad})
        assert field in exc.value.errors


def test_vehicle_plates_are_normalised_so_two_spellings_find_one_vehicle(agency):
    vehicle, created = services.vehicle_get_or_create(
        agency=agency, plate="abc-123", plate_state="tx", make="Ford"
    )
    assert created and (vehicle.plate, vehicle.plate_state) == ("ABC123", "TX")
    same, created_again = services.vehicle_get_or_create(
        agency=agency, plate=" ABC 123 ", plate_state="TX"
    )
    assert same.pk == vehicle.pk and not created_again
    other_state, created_other = services.vehicle_get_or_create(
        agency=agency, plate="ABC123", plate_state="OK"
    )
    assert created_other and other_state.pk != vehicle.pk


def test_the_same_plate_in_two_agencies_is_two_records(agency, other_agency):
    mine, _ = services.vehicle_get_or_create(agency=agency, plate="XYZ9", plate_state="TX")
    theirs, _ = services.vehicle_get_or_create(agency=other_agency, plate="XYZ9", plate_state="TX")
    assert mine.pk != theirs.pk


def test_a_vehicle_without_a_plate_needs_a_description(agency):
    vehicle, created = services.vehicle_get_or_create(agency=agency, make="Honda", color="red")
    assert created and vehicle.plate == ""
    with pytest.raises(DomainError) as exc:
        services.vehicle_get_or_create(agency=agency)
    assert "plate" in exc.value.errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"plate": "---"}, "plate"),
        ({"plate": "ABC1", "plate_state": "Texas"}, "plate_state"),
        ({"plate": "ABC1", "year": 1850}, "year"),
        ({"plate": "ABC1", "year": "new"}, "year"),
        ({"plate": "ABC1", "sensitivity": 5}, "sensitivity"),
    ],
)
def test_vehicle_validation_names_the_field(agency, kwargs, field):
    with pytest.raises(DomainError) as exc:
        services.vehicle_get_or_create(agency=agency, **kwargs)
    assert field in exc.value.errors
    assert not Vehicle.objects.exists()


# --- involvements ---------------------------------------------------------------------


def test_involving_a_person_in_a_call_adds_a_timeline_entry(agency, dispatcher):
    call = new_call(agency, dispatcher)
    person = services.person_create(agency=agency, last_name="Doe", first_name="Jane")
    involvement = services.involvement_create(
        actor=dispatcher, role=InvolvementRole.SUSPECT, person=person, call=call
    )
    assert involvement.call == call and involvement.created_by == dispatcher
    call.refresh_from_db()
    assert call.version == 2
    event = call.events.get(kind=CallEventKind.INVOLVEMENT)
    assert event.data == {"role": "suspect", "person_id": person.pk, "vehicle_id": None}


def test_involving_a_vehicle_in_an_observation(agency, cast):
    obs = services.observation_create(
        agency=agency,
        actor=cast["field"],
        category=ObservationCategory.SUSPICIOUS_VEHICLE,
        latitude=29.4,
        longitude=-98.4,
    )
    vehicle, _ = services.vehicle_get_or_create(agency=agency, plate="VAN1", plate_state="TX")
    involvement = services.involvement_create(
        actor=cast["field"], role=InvolvementRole.OWNER, vehicle=vehicle, observation=obs
    )
    assert involvement.observation == obs and involvement.person is None


def test_an_involvement_names_exactly_one_person_or_vehicle_and_one_incident(agency, dispatcher):
    call = new_call(agency, dispatcher)
    person = services.person_create(agency=agency, last_name="Doe")
    vehicle, _ = services.vehicle_get_or_create(agency=agency, plate="CAR1")
    with pytest.raises(DomainError) as exc:
        services.involvement_create(
            actor=dispatcher, role="witness", person=person, vehicle=vehicle, call=call
        )
    assert "person" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.involvement_create(actor=dispatcher, role="witness", call=call)
    assert "person" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.involvement_create(actor=dispatcher, role="witness", person=person)
    assert "call" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.involvement_create(actor=dispatcher, role="bystander", person=person, call=call)
    assert "role" in exc.value.errors


def test_an_involvement_across_agencies_is_refused(agency, other_agency, dispatcher):
    call = new_call(agency, dispatcher)
    stranger = services.person_create(agency=other_agency, last_name="Roe")
    with pytest.raises(DomainError) as exc:
        services.involvement_create(actor=dispatcher, role="witness", person=stranger, call=call)
    assert "person" in exc.value.errors
    assert not Person.objects.get(pk=stranger.pk).involvements.exists()


@pytest.mark.django_db
def test_an_address_typed_without_its_town_lands_on_the_one_known_place(agency):
    """A known place in one town is found even when the caller does not name the town."""
    from dispatch.services import location_resolve

    in_town = location_resolve(address="412 Front St", locality="Harbor City")
    assert location_resolve(address="412 FRONT STREET") == in_town
    elsewhere = location_resolve(address="412 Front St", locality="Bayside")
    assert elsewhere != in_town
    # Now ambiguous: without a town the record falls back to its own, town-less place.
    ambiguous = location_resolve(address="412 Front St")
    assert ambiguous not in (in_town, elsewhere)
