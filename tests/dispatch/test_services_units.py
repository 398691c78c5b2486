"""Unit services: assignment claims, unit status, several units on one call, and AVL batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError
from dispatch import services
from dispatch.choices import CallEventKind, CallStatus, UnitStatus
from dispatch.geo import h3_cells
from dispatch.models import Call, CallAssignment, CallType, Unit, UnitPosition
from governance.models import Agency
from tests.factories import UnitFactory, disposition

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(cast: dict[str, Any]) -> Any:
    return cast["dispatcher"]


def new_call(agency: Agency, actor: Any, address: str = "123 Main St") -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="DISTURB"),
        address=address,
        latitude=29.42,
        longitude=-98.49,
    )


def status_of(unit: Unit) -> str:
    return Unit.objects.values_list("status", flat=True).get(pk=unit.pk)


def call_status(call: Call) -> str:
    return Call.objects.values_list("status", flat=True).get(pk=call.pk)


# --- assignment --------------------------------------------------------------------------


def test_assigning_an_available_unit_commits_it_and_dispatches_the_call(agency, dispatcher):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency)

    assignment = services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)

    assert assignment.is_open and assignment.assigned_by == dispatcher
    assert status_of(unit) == UnitStatus.DISPATCHED
    call.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED and call.dispatched_at is not None
    event = call.events.get(kind=CallEventKind.UNIT_ASSIGNED)
    assert event.data == {"unit": unit.call_sign, "unit_id": unit.pk}


def test_assigning_a_unit_committed_elsewhere_is_a_conflict_naming_where_it_is(agency, dispatcher):
    first, second = new_call(agency, dispatcher), new_call(agency, dispatcher, "9 Elm St")
    unit = UnitFactory(agency=agency, call_sign="B12")
    services.unit_assign(call_id=first.pk, unit_id=unit.pk, actor=dispatcher)

    with pytest.raises(ConflictError) as exc:
        services.unit_assign(call_id=second.pk, unit_id=unit.pk, actor=dispatcher)

    assert exc.value.status_code == 409
    assert "unit" in exc.value.errors
    assert exc.value.current == {
        "unit_id": unit.pk,
        "unit": "B12",
        "status": UnitStatus.DISPATCHED,
        "call_id": first.pk,
        "call": first.number,
    }
    assert call_status(second) == CallStatus.PENDING
    assert list(CallAssignment.objects.filter(unit=unit).values_list("call_id", flat=True)) == [
        first.pk
    ]


def test_assigning_the_same_unit_twice_to_one_call_is_a_conflict(agency, dispatcher):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    with pytest.raises(ConflictError):
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    assert CallAssignment.objects.filter(call=call).count() == 1


@pytest.mark.parametrize("status", [UnitStatus.OUT_OF_SERVICE, UnitStatus.OFF_DUTY])
def test_out_of_service_and_off_duty_units_cannot_be_assigned(agency, dispatcher, status):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency, status=status)
    with pytest.raises(ConflictError) as exc:
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    assert exc.value.current["status"] == status
    assert status_of(unit) == status
    assert call_status(call) == CallStatus.PENDING


def test_an_inactive_unit_cannot_be_assigned(agency, dispatcher):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency, active=False)
    with pytest.raises(ConflictError) as exc:
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    assert "inactive" in str(exc.value)


def test_another_agencys_unit_is_refused_and_left_available(agency, other_agency, dispatcher):
    call, foreign = new_call(agency, dispatcher), UnitFactory(agency=other_agency)
    with pytest.raises(DomainError) as exc:
        services.unit_assign(call_id=call.pk, unit_id=foreign.pk, actor=dispatcher)
    assert "unit" in exc.value.errors and not isinstance(exc.value, ConflictError)
    assert status_of(foreign) == UnitStatus.AVAILABLE


def test_an_unknown_unit_is_refused(agency, dispatcher):
    call = new_call(agency, dispatcher)
    with pytest.raises(DomainError) as exc:
        services.unit_assign(call_id=call.pk, unit_id=987_654, actor=dispatcher)
    assert "unit" in exc.value.errors


@pytest.mark.parametrize("terminal", [CallStatus.CLOSED, CallStatus.CANCELLED])
def test_a_unit_cannot_be_assigned_to_a_finished_call(agency, dispatcher, terminal):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency)
    if terminal == CallStatus.CLOSED:
        services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition())
    else:
        services.call_set_status(call_id=call.pk, actor=dispatcher, status=terminal)
    with pytest.raises(ConflictError) as exc:
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    assert exc.value.current["status"] == terminal
    assert status_of(unit) == UnitStatus.AVAILABLE


def test_two_units_on_one_call_the_call_clears_only_when_the_last_one_clears(agency, dispatcher):
    call = new_call(agency, dispatcher)
    a, b = UnitFactory(agency=agency), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=a.pk, actor=dispatcher)
    services.unit_assign(call_id=call.pk, unit_id=b.pk, actor=dispatcher)
    assert call_status(call) == CallStatus.DISPATCHED

    services.unit_set_status(unit_id=a.pk, actor=dispatcher, status=UnitStatus.EN_ROUTE)
    assert call_status(call) == CallStatus.EN_ROUTE
    services.unit_set_status(unit_id=b.pk, actor=dispatcher, status=UnitStatus.ON_SCENE)
    assert call_status(call) == CallStatus.ON_SCENE
    # A later "en route" from the first unit must not move the call backwards.
    services.unit_set_status(unit_id=a.pk, actor=dispatcher, status=UnitStatus.ON_SCENE)
    assert call_status(call) == CallStatus.ON_SCENE

    services.unit_set_status(unit_id=a.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    assert call_status(call) == CallStatus.ON_SCENE
    assert status_of(a) == UnitStatus.AVAILABLE

    services.unit_set_status(unit_id=b.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    assert call_status(call) == CallStatus.CLEARED
    assert not CallAssignment.objects.filter(call=call, cleared_at__isnull=True).exists()


def test_the_assignment_keeps_each_units_own_times(agency, dispatcher):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.EN_ROUTE)
    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.ON_SCENE)
    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    a = CallAssignment.objects.get(call=call, unit=unit)
    assert a.assigned_at <= a.en_route_at <= a.on_scene_at <= a.cleared_at


def test_assigning_a_unit_to_a_cleared_call_dispatches_it_again(agency, dispatcher):
    call, first = new_call(agency, dispatcher), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=first.pk, actor=dispatcher)
    services.unit_set_status(unit_id=first.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    call.refresh_from_db()
    assert call.status == CallStatus.CLEARED
    first_dispatch = call.dispatched_at

    services.unit_assign(call_id=call.pk, unit_id=UnitFactory(agency=agency).pk, actor=dispatcher)
    call.refresh_from_db()
    assert call.status == CallStatus.DISPATCHED
    assert call.dispatched_at == first_dispatch  # the first dispatch time is the one reported


# --- unit status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (UnitStatus.AVAILABLE, UnitStatus.DISPATCHED),
        (UnitStatus.AVAILABLE, UnitStatus.EN_ROUTE),
        (UnitStatus.AVAILABLE, UnitStatus.ON_SCENE),
        (UnitStatus.OFF_DUTY, UnitStatus.ON_SCENE),
        (UnitStatus.OUT_OF_SERVICE, UnitStatus.DISPATCHED),
    ],
)
def test_a_unit_cannot_commit_itself_to_nothing(agency, dispatcher, start, target):
    unit = UnitFactory(agency=agency, status=start)
    with pytest.raises(ConflictError) as exc:
        services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=target)
    assert exc.value.current["status"] == start
    assert exc.value.current["call"] is None
    assert status_of(unit) == start


def test_a_committed_unit_cannot_go_out_of_service_without_clearing(agency, dispatcher):
    call, unit = new_call(agency, dispatcher), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    with pytest.raises(ConflictError):
        services.unit_set_status(
            unit_id=unit.pk, actor=dispatcher, status=UnitStatus.OUT_OF_SERVICE
        )


def test_out_of_service_and_back(agency, dispatcher):
    unit = UnitFactory(agency=agency)
    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.OUT_OF_SERVICE)
    assert status_of(unit) == UnitStatus.OUT_OF_SERVICE
    services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status=UnitStatus.AVAILABLE)
    assert status_of(unit) == UnitStatus.AVAILABLE


def test_expected_status_guards_against_a_stale_screen(agency, dispatcher):
    unit = UnitFactory(agency=agency, status=UnitStatus.OUT_OF_SERVICE)
    with pytest.raises(ConflictError) as exc:
        services.unit_set_status(
            unit_id=unit.pk,
            actor=dispatcher,
            status=UnitStatus.OFF_DUTY,
            expected_status=UnitStatus.AVAILABLE,
        )
    assert exc.value.current["status"] == UnitStatus.OUT_OF_SERVICE


def test_unknown_unit_status_and_unknown_unit_are_refused(agency, dispatcher):
    unit = UnitFactory(agency=agency)
    with pytest.raises(DomainError) as exc:
        services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status="lunch")
    assert "status" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.unit_set_status(unit_id=123_456, actor=dispatcher, status=UnitStatus.OFF_DUTY)
    assert "unit" in exc.value.errors


def test_unit_create_upper_cases_the_call_sign_and_refuses_duplicates(agency):
    unit = services.unit_create(agency=agency, call_sign=" b12 ")
    assert unit.call_sign == "B12"
    with pytest.raises(ConflictError) as exc:
        services.unit_create(agency=agency, call_sign="B12")
    assert "call_sign" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        services.unit_create(agency=agency, call_sign="  ")
    assert "call_sign" in exc.value.errors


# --- AVL ------------------------------------------------------------------------------


def fix(minutes_ago: float, lat: float = 29.43, lon: float = -98.49, **extra: Any) -> dict:
    return {
        "recorded_at": timezone.now() - dt.timedelta(minutes=minutes_ago),
        "latitude": lat,
        "longitude": lon,
        **extra,
    }


def test_a_batch_is_stored_and_the_newest_fix_moves_the_unit(agency):
    unit = UnitFactory(agency=agency)
    newest = fix(1, 29.5, -98.6, heading=90.0, speed=12.5)
    batch = [fix(3, 29.40, -98.40), newest, fix(2, 29.45, -98.45)]

    result = services.unit_positions_record(unit_id=unit.pk, positions=batch)

    assert result == {"stored": 3, "duplicates": 0}
    unit.refresh_from_db()
    assert (unit.latitude, unit.longitude) == (29.5, -98.6)
    assert (unit.heading, unit.speed) == (90.0, 12.5)
    assert unit.position_at == newest["recorded_at"]
    assert unit.h3_r9 == h3_cells(29.5, -98.6)["h3_r9"]
    assert UnitPosition.objects.filter(unit=unit).count() == 3


def test_resending_a_batch_is_idempotent(agency):
    unit = UnitFactory(agency=agency)
    batch = [fix(2), fix(1)]
    services.unit_positions_record(unit_id=unit.pk, positions=batch)

    again = services.unit_positions_record(unit_id=unit.pk, positions=[*batch, fix(0.5)])

    assert again == {"stored": 1, "duplicates": 2}
    assert UnitPosition.objects.filter(unit=unit).count() == 3


def test_a_late_batch_of_older_fixes_does_not_move_the_unit_back(agency):
    unit = UnitFactory(agency=agency)
    services.unit_positions_record(unit_id=unit.pk, positions=[fix(1, 29.5, -98.5)])
    services.unit_positions_record(unit_id=unit.pk, positions=[fix(10, 29.1, -98.1)])
    unit.refresh_from_db()
    assert (unit.latitude, unit.longitude) == (29.5, -98.5)
    assert UnitPosition.objects.filter(unit=unit).count() == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"latitude": 91.0},
        {"longitude": -181.0},
        {"latitude": 0.0, "longitude": 0.0},
        {"latitude": None},
        {"latitude": "north"},
        {"latitude": float("nan")},
        {"latitude": True},
        {"recorded_at": dt.datetime(2025, 1, 1, 12, 0)},  # noqa: DTZ001  naive on purpose
        {"recorded_at": "2025-01-01T12:00:00Z"},
        {"recorded_at": None},
        {"recorded_at": timezone.now() + dt.timedelta(hours=1)},
        {"speed": "fast"},
        {"heading": float("inf")},
    ],
)
def test_an_invalid_fix_refuses_the_whole_batch_naming_positions(agency, bad):
    unit = UnitFactory(agency=agency)
    batch = [fix(2), {**fix(1), **bad}]
    with pytest.raises(DomainError) as exc:
        services.unit_positions_record(unit_id=unit.pk, positions=batch)
    assert "positions" in exc.value.errors
    assert "Position 1" in str(exc.value)
    assert not UnitPosition.objects.filter(unit=unit).exists()


def test_a_batch_entry_that_is_not_an_object_is_refused(agency):
    unit = UnitFactory(agency=agency)
    with pytest.raises(DomainError) as exc:
        services.unit_positions_record(unit_id=unit.pk, positions=[[29.4, -98.4]])  # type: ignore[list-item]
    assert "positions" in exc.value.errors


def test_an_oversized_batch_is_refused(agency):
    unit = UnitFactory(agency=agency)
    now = timezone.now()
    batch = [
        {
            "recorded_at": now - dt.timedelta(seconds=i + 1),
            "latitude": 29.4,
            "longitude": -98.4,
        }
        for i in range(services.MAX_POSITIONS_PER_BATCH + 1)
    ]
    with pytest.raises(DomainError) as exc:
        services.unit_positions_record(unit_id=unit.pk, positions=batch)
    assert "positions" in exc.value.errors


def test_an_empty_batch_changes_nothing_and_an_unknown_unit_is_refused(agency):
    unit = UnitFactory(agency=agency)
    assert services.unit_positions_record(unit_id=unit.pk, positions=[]) == {
        "stored": 0,
        "duplicates": 0,
    }
    with pytest.raises(DomainError) as exc:
        services.unit_positions_record(unit_id=765_432, positions=[fix(1)])
    assert "unit" in exc.value.errors
