"""Call services: intake, numbering, the status lifecycle, edits and optimistic versions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError
from dispatch import services
from dispatch.choices import CallEventKind, CallStatus, UnitStatus
from dispatch.models import Call, CallAssignment, CallType, Disposition, Unit
from governance.models import Agency
from tests.factories import UnitFactory, disposition

pytestmark = pytest.mark.django_db

CALL_NUMBER = re.compile(r"^\d{4}-\d{6}$")


@pytest.fixture
def dispatcher(cast: dict[str, Any]) -> Any:
    return cast["dispatcher"]


def new_call(agency: Agency, actor: Any, **overrides: Any) -> Call:
    """A call through the real intake service (the only way calls are made in production)."""
    fields: dict[str, Any] = {
        "call_type": CallType.objects.get(code="THEFT"),
        "address": "123 Main Street",
        "latitude": 29.42,
        "longitude": -98.49,
    }
    fields.update(overrides)
    return services.call_create(agency=agency, actor=actor, **fields)


def call_in(status: str, agency: Agency, actor: Any, *, units: int = 1) -> tuple[Call, list[Unit]]:
    """A call driven through the services into ``status`` with ``units`` units on it."""
    call = new_call(agency, actor)
    assigned: list[Unit] = []
    if status == CallStatus.PENDING:
        return call, assigned
    for _ in range(units):
        unit = UnitFactory(agency=agency)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=actor)
        assigned.append(unit)
    if status in (CallStatus.EN_ROUTE, CallStatus.ON_SCENE, CallStatus.CLEARED):
        services.call_set_status(call_id=call.pk, actor=actor, status=CallStatus.EN_ROUTE)
    if status in (CallStatus.ON_SCENE, CallStatus.CLEARED):
        services.call_set_status(call_id=call.pk, actor=actor, status=CallStatus.ON_SCENE)
    if status == CallStatus.CLEARED:
        services.call_set_status(call_id=call.pk, actor=actor, status=CallStatus.CLEARED)
    if status == CallStatus.CLOSED:
        services.call_close(call_id=call.pk, actor=actor, disposition=disposition())
    if status == CallStatus.CANCELLED:
        services.call_set_status(call_id=call.pk, actor=actor, status=CallStatus.CANCELLED)
    call.refresh_from_db()
    assert call.status == status
    return call, assigned


# --- intake -----------------------------------------------------------------------------


def test_call_create_logs_a_pending_call_with_location_default_priority_and_created_event(
    agency, dispatcher
):
    call = new_call(agency, dispatcher, narrative="bike taken from porch")

    assert call.status == CallStatus.PENDING
    assert call.priority == CallType.objects.get(code="THEFT").default_priority
    assert CALL_NUMBER.match(call.number)
    assert call.location is not None and call.location.address_key == "123 MAIN ST"
    assert call.h3_r9 and call.h3_r7 and call.h3_r11
    assert call.created_by == dispatcher
    assert call.version == 1
    assert [(e.kind, e.actor) for e in call.events.all()] == [(CallEventKind.CREATED, dispatcher)]


def test_call_create_takes_the_point_from_a_known_location_when_none_given(agency, dispatcher):
    new_call(agency, dispatcher, address="500 Elm St", latitude=29.5, longitude=-98.5)
    second = new_call(agency, dispatcher, address="500 ELM STREET", latitude=None, longitude=None)
    assert (second.latitude, second.longitude) == (29.5, -98.5)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"address": "", "latitude": None, "longitude": None}, "address"),
        ({"latitude": 91.0}, "latitude"),
        ({"latitude": 0.0, "longitude": 0.0}, "latitude"),
        ({"latitude": 29.4, "longitude": None}, "longitude"),
        ({"priority": 9}, "priority"),
        ({"priority": "urgent"}, "priority"),
        ({"source": "carrier-pigeon"}, "source"),
        ({"received_at": dt.datetime(2025, 1, 1, 12, 0)}, "received_at"),  # noqa: DTZ001  naive on purpose
        ({"received_at": timezone.now() + dt.timedelta(hours=1)}, "received_at"),
        ({"narrative": "x" * 20_001}, "narrative"),
        ({"caller_phone": "5" * 41}, "caller_phone"),
    ],
)
def test_call_create_refuses_bad_input_naming_the_field_and_stores_nothing(
    agency, dispatcher, overrides, field
):
    with pytest.raises(DomainError) as exc:
        new_call(agency, dispatcher, **overrides)
    assert field in exc.value.errors
    assert Call.objects.count() == 0


def test_call_create_refuses_a_retired_call_type(agency, dispatcher):
    retired = CallType.objects.get(code="OTHER")
    retired.active = False
    retired.save()
    with pytest.raises(DomainError) as exc:
        new_call(agency, dispatcher, call_type=retired)
    assert "call_type" in exc.value.errors


def test_call_create_refuses_a_second_call_with_the_same_external_id(agency, dispatcher):
    new_call(agency, dispatcher, external_id="CAD-1")
    with pytest.raises(ConflictError) as exc:
        new_call(agency, dispatcher, external_id="CAD-1")
    assert "external_id" in exc.value.errors
    assert exc.value.status_code == 409


def test_the_same_external_id_may_exist_in_two_agencies(agency, other_agency, dispatcher):
    new_call(agency, dispatcher, external_id="CAD-1")
    assert new_call(other_agency, dispatcher, external_id="CAD-1").agency == other_agency


# --- call numbers ----------------------------------------------------------------------


def test_call_numbers_are_year_dash_six_digits_and_increase(agency, dispatcher):
    numbers = [new_call(agency, dispatcher).number for _ in range(3)]
    assert all(CALL_NUMBER.match(n) for n in numbers)
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    assert [int(n[-6:]) for n in numbers] == [1, 2, 3]


def test_call_numbers_allocate_hands_out_consecutive_blocks_per_year(db):
    assert services.call_numbers_allocate(year=2031, count=3) == [
        "2031-000001",
        "2031-000002",
        "2031-000003",
    ]
    assert services.call_numbers_allocate(year=2031) == ["2031-000004"]
    assert services.call_numbers_allocate(year=2032) == ["2032-000001"]
    assert services.call_numbers_allocate(year=2031, count=0) == []


def test_call_number_year_is_the_agency_local_year_of_receipt(agency, dispatcher, settings):
    settings.BEACON_TIME_ZONE = "America/Chicago"
    # 03:00 UTC on 1 January is still 31 December in Chicago.
    received = dt.datetime(2025, 1, 1, 3, 0, tzinfo=dt.UTC)
    assert new_call(agency, dispatcher, received_at=received).number.startswith("2024-")


# --- lifecycle -------------------------------------------------------------------------


def test_full_lifecycle_pending_dispatched_en_route_on_scene_cleared_closed(agency, dispatcher):
    call = new_call(agency, dispatcher)
    unit = UnitFactory(agency=agency)

    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    call.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED and call.dispatched_at is not None

    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.EN_ROUTE)
    call.refresh_from_db()
    assert call.status == CallStatus.EN_ROUTE and call.en_route_at is not None

    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.ON_SCENE)
    call.refresh_from_db()
    assert call.status == CallStatus.ON_SCENE and call.on_scene_at is not None

    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    call.refresh_from_db()
    assert call.status == CallStatus.CLEARED and call.cleared_at is not None

    services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition("ARREST"))
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED and call.closed_at is not None
    assert call.disposition.code == "ARREST"
    assert not call.is_open

    transitions = [
        (e.data["old"], e.data["new"]) for e in call.events.filter(kind=CallEventKind.STATUS)
    ]
    assert transitions == [
        ("pending", "dispatched"),
        ("dispatched", "en_route"),
        ("en_route", "on_scene"),
        ("on_scene", "cleared"),
        ("cleared", "closed"),
    ]
    assert call.received_at <= call.dispatched_at <= call.en_route_at <= call.on_scene_at
    assert call.on_scene_at <= call.cleared_at <= call.closed_at


def test_each_status_change_bumps_the_version(agency, dispatcher):
    call, _ = call_in(CallStatus.DISPATCHED, agency, dispatcher)
    before = call.version
    services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.EN_ROUTE)
    call.refresh_from_db()
    assert call.version == before + 1


def test_clearing_a_call_frees_its_units(agency, dispatcher):
    call, units = call_in(CallStatus.ON_SCENE, agency, dispatcher, units=2)
    services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.CLEARED)
    assert {Unit.objects.get(pk=u.pk).status for u in units} == {UnitStatus.AVAILABLE}
    assert not CallAssignment.objects.filter(call=call, cleared_at__isnull=True).exists()


@pytest.mark.parametrize(
    "from_status",
    [CallStatus.PENDING, CallStatus.DISPATCHED, CallStatus.EN_ROUTE, CallStatus.ON_SCENE],
)
def test_cancel_from_each_active_state_frees_the_units(agency, dispatcher, from_status):
    call, units = call_in(from_status, agency, dispatcher, units=2)

    services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.CANCELLED)

    call.refresh_from_db()
    assert call.status == CallStatus.CANCELLED and call.cancelled_at is not None
    assert all(Unit.objects.get(pk=u.pk).status == UnitStatus.AVAILABLE for u in units)
    assert not CallAssignment.objects.filter(call=call, cleared_at__isnull=True).exists()
    # A freed unit can take the next call straight away.
    if units:
        nxt = new_call(agency, dispatcher)
        services.unit_assign(call_id=nxt.pk, unit_id=units[0].pk, actor=dispatcher)


def test_a_cleared_call_is_closed_with_a_disposition_not_cancelled(agency, dispatcher):
    """Units have already worked a cleared call, so its outcome must be recorded."""
    call, _ = call_in(CallStatus.CLEARED, agency, dispatcher)
    with pytest.raises(ConflictError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.CANCELLED)
    assert exc.value.current["status"] == CallStatus.CLEARED


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (CallStatus.PENDING, CallStatus.EN_ROUTE),
        (CallStatus.PENDING, CallStatus.ON_SCENE),
        (CallStatus.PENDING, CallStatus.CLEARED),
        (CallStatus.EN_ROUTE, CallStatus.PENDING),
        (CallStatus.ON_SCENE, CallStatus.EN_ROUTE),
        (CallStatus.DISPATCHED, CallStatus.CLOSED),
        (CallStatus.CLOSED, CallStatus.CANCELLED),
        (CallStatus.CLOSED, CallStatus.EN_ROUTE),
        (CallStatus.CANCELLED, CallStatus.ON_SCENE),
        (CallStatus.CANCELLED, CallStatus.CLEARED),
    ],
)
def test_invalid_transitions_are_refused_with_the_current_status(
    agency, dispatcher, from_status, to_status
):
    call, _ = call_in(from_status, agency, dispatcher)
    kwargs: dict[str, Any] = {}
    if to_status == CallStatus.CLOSED:
        kwargs["disposition"] = disposition()

    with pytest.raises(ConflictError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=to_status, **kwargs)

    assert "status" in exc.value.errors
    assert exc.value.current["status"] == from_status
    call.refresh_from_db()
    assert call.status == from_status


def test_setting_the_status_a_call_already_has_is_a_conflict(agency, dispatcher):
    call, (unit,) = call_in(CallStatus.EN_ROUTE, agency, dispatcher)
    with pytest.raises(ConflictError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.EN_ROUTE)
    call.refresh_from_db()
    assert exc.value.current == {
        "call_id": call.pk,
        "number": call.number,
        "status": CallStatus.EN_ROUTE,
        "version": call.version,
        "units": [unit.call_sign],
    }


def test_dispatched_comes_only_from_assigning_a_unit(agency, dispatcher):
    call = new_call(agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.DISPATCHED)
    assert "status" in exc.value.errors


def test_unknown_status_is_refused(agency, dispatcher):
    call = new_call(agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status="resolved")
    assert "status" in exc.value.errors


def test_unknown_call_is_refused(db, cast):
    with pytest.raises(DomainError) as exc:
        services.call_set_status(call_id=999_999, actor=cast["dispatcher"], status="cancelled")
    assert "call" in exc.value.errors


def test_closing_without_a_disposition_is_refused_naming_disposition(agency, dispatcher):
    call, _ = call_in(CallStatus.CLEARED, agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=CallStatus.CLOSED)
    assert "disposition" in exc.value.errors


def test_call_close_without_disposition_changes_nothing_on_a_working_call(agency, dispatcher):
    call, units = call_in(CallStatus.ON_SCENE, agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_close(call_id=call.pk, actor=dispatcher, disposition=None)  # type: ignore[arg-type]
    assert "disposition" in exc.value.errors
    call.refresh_from_db()
    assert call.status == CallStatus.ON_SCENE
    assert Unit.objects.get(pk=units[0].pk).status == UnitStatus.DISPATCHED


def test_a_retired_disposition_is_refused(agency, dispatcher):
    call, _ = call_in(CallStatus.CLEARED, agency, dispatcher)
    retired = Disposition.objects.create(code="OLD", name="Old code", active=False)
    with pytest.raises(DomainError) as exc:
        services.call_close(call_id=call.pk, actor=dispatcher, disposition=retired)
    assert "disposition" in exc.value.errors


def test_a_disposition_is_only_given_when_closing(agency, dispatcher):
    call, _ = call_in(CallStatus.DISPATCHED, agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_set_status(
            call_id=call.pk,
            actor=dispatcher,
            status=CallStatus.CANCELLED,
            disposition=disposition(),
        )
    assert "disposition" in exc.value.errors


def test_a_pending_call_handled_by_phone_closes_without_a_unit(agency, dispatcher):
    call = new_call(agency, dispatcher)
    services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition("ADVISED"))
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED and call.dispatched_at is None


def test_closing_a_call_units_are_still_on_clears_it_and_frees_them(agency, dispatcher):
    call, units = call_in(CallStatus.ON_SCENE, agency, dispatcher, units=2)
    services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition())
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED and call.cleared_at is not None
    assert {Unit.objects.get(pk=u.pk).status for u in units} == {UnitStatus.AVAILABLE}


def test_closing_a_closed_call_is_a_conflict(agency, dispatcher):
    call, _ = call_in(CallStatus.CLOSED, agency, dispatcher)
    with pytest.raises(ConflictError) as exc:
        services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition())
    assert exc.value.current["status"] == CallStatus.CLOSED


@pytest.mark.parametrize("operation", ["set_status", "close", "update"])
def test_a_stale_expected_version_is_a_409_carrying_the_current_version(
    agency, dispatcher, operation
):
    call, _ = call_in(CallStatus.DISPATCHED, agency, dispatcher)
    stale = call.version - 1
    with pytest.raises(ConflictError) as exc:
        if operation == "set_status":
            services.call_set_status(
                call_id=call.pk,
                actor=dispatcher,
                status=CallStatus.EN_ROUTE,
                expected_version=stale,
            )
        elif operation == "close":
            services.call_close(
                call_id=call.pk, actor=dispatcher, disposition=disposition(), expected_version=stale
            )
        else:
            services.call_update(
                call_id=call.pk, actor=dispatcher, changes={"priority": 1}, expected_version=stale
            )
    assert exc.value.status_code == 409
    assert "version" in exc.value.errors
    assert exc.value.current["version"] == call.version
    call.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED and call.priority == 3


def test_the_current_version_is_accepted(agency, dispatcher):
    call, _ = call_in(CallStatus.DISPATCHED, agency, dispatcher)
    services.call_set_status(
        call_id=call.pk,
        actor=dispatcher,
        status=CallStatus.EN_ROUTE,
        expected_version=call.version,
    )
    call.refresh_from_db()
    assert call.status == CallStatus.EN_ROUTE


# --- edits, notes, attachments -----------------------------------------------------------


def test_call_update_records_old_and_new_values_in_the_timeline(agency, dispatcher):
    call = new_call(agency, dispatcher, narrative="one bike")
    version = call.version

    services.call_update(
        call_id=call.pk,
        actor=dispatcher,
        changes={
            "priority": 1,
            "narrative": "two bikes",
            "call_type": CallType.objects.get(code="ROBBERY"),
        },
        expected_version=version,
    )

    call.refresh_from_db()
    assert (call.priority, call.narrative, call.call_type.code) == (1, "two bikes", "ROBBERY")
    assert call.version == version + 1
    edit = call.events.get(kind=CallEventKind.EDITED)
    assert edit.actor == dispatcher
    assert edit.data["changes"] == {
        "priority": {"old": 3, "new": 1},
        "narrative": {"old": "one bike", "new": "two bikes"},
        "call_type_id": {"old": "THEFT", "new": "ROBBERY"},
    }


def test_call_update_of_the_address_moves_the_call_to_the_new_location(agency, dispatcher):
    call = new_call(agency, dispatcher)
    old_location = call.location_id
    services.call_update(
        call_id=call.pk,
        actor=dispatcher,
        changes={"address": "900 Oak Ave", "latitude": 29.5, "longitude": -98.4},
    )
    call.refresh_from_db()
    assert call.location.address_key == "900 OAK AVE"
    assert (call.latitude, call.longitude) == (29.5, -98.4)
    changes = call.events.get(kind=CallEventKind.EDITED).data["changes"]
    assert changes["address_given"] == {"old": "123 Main Street", "new": "900 Oak Ave"}
    assert changes["location_id"] == {"old": old_location, "new": call.location_id}


def test_call_update_that_changes_nothing_leaves_no_trace(agency, dispatcher):
    call = new_call(agency, dispatcher)
    services.call_update(call_id=call.pk, actor=dispatcher, changes={"priority": call.priority})
    call.refresh_from_db()
    assert call.version == 1
    assert not call.events.filter(kind=CallEventKind.EDITED).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"number": "2020-000001"}, "number"),
        ({"priority": 0}, "priority"),
        ({"source": "rumour"}, "source"),
        ({"address": "", "latitude": None, "longitude": None}, "address"),
    ],
)
def test_call_update_refuses_bad_changes_naming_the_field(agency, dispatcher, changes, field):
    call = new_call(agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.call_update(call_id=call.pk, actor=dispatcher, changes=changes)
    assert field in exc.value.errors


def test_a_closed_call_cannot_be_edited(agency, dispatcher):
    call, _ = call_in(CallStatus.CLOSED, agency, dispatcher)
    with pytest.raises(ConflictError) as exc:
        services.call_update(call_id=call.pk, actor=dispatcher, changes={"priority": 1})
    assert exc.value.current["status"] == CallStatus.CLOSED
    assert exc.value.current["units"] == []


def test_notes_are_appended_to_the_timeline_and_blank_notes_refused(agency, dispatcher):
    call = new_call(agency, dispatcher)
    services.call_add_note(call_id=call.pk, actor=dispatcher, text="  caller calling back  ")
    assert call.events.get(kind=CallEventKind.NOTE).text == "caller calling back"
    with pytest.raises(DomainError) as exc:
        services.call_add_note(call_id=call.pk, actor=dispatcher, text="   ")
    assert "text" in exc.value.errors


def test_attaching_a_second_caller_to_an_open_call_and_not_to_a_closed_one(agency, dispatcher):
    call = new_call(agency, dispatcher)
    event = services.call_attach(
        call_id=call.pk, actor=dispatcher, text="neighbour saw it too", caller_phone="555-0100"
    )
    assert event.kind == CallEventKind.ATTACHED and event.data["caller_phone"] == "555-0100"

    closed, _ = call_in(CallStatus.CLOSED, agency, dispatcher)
    with pytest.raises(ConflictError):
        services.call_attach(call_id=closed.pk, actor=dispatcher, text="late info")
