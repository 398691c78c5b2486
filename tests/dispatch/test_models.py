"""Single-row invariants the database enforces, and the lifecycle tables they rest on."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch.choices import (
    CALL_TRANSITIONS,
    OPEN_CALL_STATUSES,
    TERMINAL_CALL_STATUSES,
    UNIT_TRANSITIONS,
    CallStatus,
    UnitStatus,
)
from dispatch.models import (
    Call,
    CallAssignment,
    Involvement,
    Location,
    Person,
    UnitPosition,
    Vehicle,
)
from governance.models import AgencyShare
from tests.factories import CallFactory, LocationFactory, UnitFactory

pytestmark = pytest.mark.django_db


def refused(make) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_call_priority_must_be_1_to_5(agency):
    refused(lambda: CallFactory(agency=agency, priority=6))
    refused(lambda: CallFactory(agency=agency, priority=0))


def test_call_numbers_are_unique(agency):
    CallFactory(agency=agency, number="2025-000001")
    refused(lambda: CallFactory(agency=agency, number="2025-000001"))


def test_a_unit_has_at_most_one_open_assignment(agency):
    unit = UnitFactory(agency=agency)
    first, second = CallFactory(agency=agency), CallFactory(agency=agency)
    now = timezone.now()
    done = CallAssignment.objects.create(call=first, unit=unit, assigned_at=now)
    refused(lambda: CallAssignment.objects.create(call=second, unit=unit, assigned_at=now))
    done.cleared_at = now
    done.save()
    # Once cleared, the unit can be assigned again: history keeps both rows.
    CallAssignment.objects.create(call=second, unit=unit, assigned_at=now)
    assert CallAssignment.objects.filter(unit=unit).count() == 2


def test_an_avl_fix_is_stored_once_per_unit_and_time(agency):
    unit = UnitFactory(agency=agency)
    at = timezone.now()
    UnitPosition.objects.create(unit=unit, recorded_at=at, latitude=29.4, longitude=-98.4)
    refused(
        lambda: UnitPosition.objects.create(
            unit=unit, recorded_at=at, latitude=29.5, longitude=-98.5
        )
    )


def test_one_location_per_address_key_and_locality():
    LocationFactory(address_key="1 MAIN ST", locality="")
    LocationFactory(address_key="1 MAIN ST", locality="SPRINGFIELD")
    refused(lambda: LocationFactory(address_key="1 MAIN ST", locality=""))


def test_external_ids_are_unique_per_agency_but_may_be_absent_many_times(agency):
    CallFactory(agency=agency, external_id=None)
    CallFactory(agency=agency, external_id=None)
    CallFactory(agency=agency, external_id="X1")
    refused(lambda: CallFactory(agency=agency, external_id="X1"))


def test_vehicle_plates_are_unique_per_agency_and_state_but_blank_plates_repeat(agency):
    Vehicle.objects.create(agency=agency, plate="", make="Ford")
    Vehicle.objects.create(agency=agency, plate="", make="Ford")
    Vehicle.objects.create(agency=agency, plate="ABC1", plate_state="TX")
    refused(lambda: Vehicle.objects.create(agency=agency, plate="ABC1", plate_state="TX"))


def test_an_involvement_names_one_entity_and_one_incident(agency):
    call = CallFactory(agency=agency)
    person = Person.objects.create(agency=agency, last_name="Doe", name_key="DOE|")
    vehicle = Vehicle.objects.create(agency=agency, plate="V1")
    refused(lambda: Involvement.objects.create(role="witness", call=call))
    refused(
        lambda: Involvement.objects.create(
            role="witness", person=person, vehicle=vehicle, call=call
        )
    )
    refused(lambda: Involvement.objects.create(role="witness", person=person))
    Involvement.objects.create(role="witness", person=person, call=call)


def test_an_agency_cannot_share_with_itself(agency, other_agency):
    refused(lambda: AgencyShare.objects.create(owner=agency, viewer=agency, category="call"))
    AgencyShare.objects.create(owner=agency, viewer=other_agency, category="call")
    refused(lambda: AgencyShare.objects.create(owner=agency, viewer=other_agency, category="call"))


def test_open_calls_queryset_and_is_open(agency):
    open_call = CallFactory(agency=agency, status=CallStatus.ON_SCENE)
    CallFactory(agency=agency, status=CallStatus.CLOSED)
    assert list(Call.objects.open()) == [open_call]
    assert open_call.is_open and str(open_call) == open_call.number


def test_the_call_lifecycle_table_is_complete_and_terminal_states_are_final():
    assert set(CALL_TRANSITIONS) == set(CallStatus.values)
    assert set(OPEN_CALL_STATUSES) | set(TERMINAL_CALL_STATUSES) == set(CallStatus.values)
    for terminal in TERMINAL_CALL_STATUSES:
        assert CALL_TRANSITIONS[terminal] == frozenset()
    for targets in CALL_TRANSITIONS.values():
        assert CallStatus.PENDING not in targets  # nothing goes back to the queue


def test_units_never_report_themselves_dispatched():
    """Only an assignment (an atomic claim) commits a unit."""
    assert set(UNIT_TRANSITIONS) == set(UnitStatus.values)
    assert all(UnitStatus.DISPATCHED not in targets for targets in UNIT_TRANSITIONS.values())


def test_location_str_is_the_display_address():
    assert str(Location(display_address="1 MAIN ST")) == "1 MAIN ST"
