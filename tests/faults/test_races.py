"""Two dispatchers race over the REST API (issue #8, scenario 5).

Each iteration releases two requests at once through a barrier, each from its own thread with
its own database connection and its own signed-in client, and expects exactly one winner (2xx)
and one 409 whose ``current`` is what the winner committed, so the loser's console can redraw.
After the 100 iterations the database must be consistent: a unit on one call only, a call
closed once, no duplicated timeline entries, an audit chain that verifies.

The same scenarios run on PostgreSQL (row locks, conditional UPDATEs; marker ``postgres``) and
in embedded mode on SQLite, where IMMEDIATE transactions serialise writers: one winner there too.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dispatch import services
from dispatch.choices import CallEventKind, CallStatus, UnitStatus
from dispatch.models import Call, CallAssignment, CallEvent, CallType, Unit
from governance.audit import verify_chain
from governance.models import Agency
from tests.factories import UnitFactory, UserFactory, disposition

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ITERATIONS = 100
CALLS = "/api/v1/calls/"
UNITS = "/api/v1/units/"

on_postgres = pytest.mark.postgres
embedded_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the embedded variant runs in the embedded pass (no DATABASE_URL: SQLite)",
)

Request = tuple[Any, str, dict[str, Any]]  # (user, path, JSON body)


def race_pair(first: Request, second: Request) -> list[tuple[int, dict[str, Any]]]:
    """POST both requests at the same moment from two threads; return (status, body) of each."""
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def post(index: int, user: Any, path: str, body: dict[str, Any]) -> None:
        client = APIClient()
        client.force_authenticate(user=user)
        try:
            barrier.wait(timeout=10)
            response = client.post(path, body, format="json")
            answers[index] = (response.status_code, response.json())
        except Exception as exc:  # kept for the assertion message, not swallowed
            answers[index] = exc
        finally:
            # Each thread has its own connection; left open it blocks test-database teardown.
            connection.close()

    threads = [
        threading.Thread(target=post, args=(i, *request))
        for i, request in enumerate((first, second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request hung (deadlock?)"
    for answer in answers:
        assert isinstance(answer, tuple), answer
    return answers


def winner_and_loser(
    answers: list[tuple[int, dict[str, Any]]], ok: int
) -> tuple[int, dict[str, Any]]:
    """Exactly one ``ok`` and one 409; return (index of the winner, the loser's body)."""
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == sorted([ok, 409]), answers
    winner = statuses.index(ok)
    return winner, answers[1 - winner][1]


@pytest.fixture
def dispatchers(agency: Agency, cast: dict[str, Any]) -> tuple[Any, Any]:
    """Two dispatchers of the same agency at two consoles."""
    return cast["dispatcher"], UserFactory(
        username="dispatcher2", roles=["dispatcher"], agency=agency
    )


def new_call(agency: Agency, actor: Any) -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="DISTURB"),
        latitude=29.42,
        longitude=-98.49,
    )


def assert_audit_chain_verifies() -> None:
    report = verify_chain()
    assert report.first_break is None, report.first_break


# --- assigning the same unit ---------------------------------------------------------------


def assign_same_unit(agency: Agency, dispatchers: tuple[Any, Any]) -> None:
    """Odd iterations: both to the same call; even: each to their own call."""
    a, b = dispatchers
    for i in range(ITERATIONS):
        unit = UnitFactory(agency=agency, call_sign=f"R{i}")
        mine = new_call(agency, a)
        theirs = mine if i % 2 else new_call(agency, b)
        answers = race_pair(
            (a, f"{CALLS}{mine.pk}/assign/", {"unit": unit.pk}),
            (b, f"{CALLS}{theirs.pk}/assign/", {"unit": unit.pk}),
        )
        winner, loser = winner_and_loser(answers, 201)
        won_call = (mine, theirs)[winner]
        assert "unit" in loser, loser
        assert loser["current"] == {
            "unit_id": unit.pk,
            "unit": unit.call_sign,
            "status": UnitStatus.DISPATCHED,
            "call_id": won_call.pk,
            "call": won_call.number,
        }
        open_on = CallAssignment.objects.filter(unit=unit, cleared_at__isnull=True)
        assert list(open_on.values_list("call_id", flat=True)) == [won_call.pk]
        lost_call = (mine, theirs)[1 - winner]
        if lost_call.pk != won_call.pk:
            lost_call.refresh_from_db()
            assert lost_call.status == CallStatus.PENDING
            assert not lost_call.events.filter(kind=CallEventKind.UNIT_ASSIGNED).exists()

    assert Unit.objects.filter(status=UnitStatus.DISPATCHED).count() == ITERATIONS
    assigned = Counter(
        CallEvent.objects.filter(kind=CallEventKind.UNIT_ASSIGNED).values_list(
            "data__unit", flat=True
        )
    )
    assert len(assigned) == ITERATIONS and set(assigned.values()) == {1}
    dispatched = CallEvent.objects.filter(kind=CallEventKind.STATUS, data__new="dispatched")
    assert dispatched.count() == ITERATIONS
    assert Call.objects.filter(status=CallStatus.DISPATCHED).count() == ITERATIONS
    assert_audit_chain_verifies()


@on_postgres
def test_two_dispatchers_assign_one_unit_on_postgres(agency, dispatchers):
    assign_same_unit(agency, dispatchers)


@embedded_only
def test_two_dispatchers_assign_one_unit_embedded(agency, dispatchers):
    assign_same_unit(agency, dispatchers)


# --- closing the same call -----------------------------------------------------------------


def close_same_call(agency: Agency, dispatchers: tuple[Any, Any]) -> None:
    """A dispatched call: both close it (with different dispositions); it closes once."""
    a, b = dispatchers
    calls = []
    for i in range(ITERATIONS):
        call = new_call(agency, a)
        unit = UnitFactory(agency=agency, call_sign=f"C{i}")
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=a)
        answers = race_pair(
            (a, f"{CALLS}{call.pk}/close/", {"disposition": disposition().code}),
            (b, f"{CALLS}{call.pk}/close/", {"disposition": disposition("ARREST").code}),
        )
        _, loser = winner_and_loser(answers, 200)
        assert "status" in loser, loser
        call.refresh_from_db()
        assert loser["current"] == {
            "call_id": call.pk,
            "number": call.number,
            "status": CallStatus.CLOSED,
            "version": call.version,
            "units": [],
        }
        calls.append(call)

    for call in calls:
        kinds = Counter(
            (e.kind, e.data.get("new") or e.data.get("status")) for e in call.events.all()
        )
        # created, unit assigned, dispatched, unit cleared, cleared, closed: once each.
        assert kinds == {
            (CallEventKind.CREATED, None): 1,
            (CallEventKind.UNIT_ASSIGNED, None): 1,
            (CallEventKind.STATUS, "dispatched"): 1,
            (CallEventKind.UNIT_STATUS, "cleared"): 1,
            (CallEventKind.STATUS, "cleared"): 1,
            (CallEventKind.STATUS, "closed"): 1,
        }, call.number
        assert call.status == CallStatus.CLOSED and call.disposition is not None
    assert not CallAssignment.objects.filter(cleared_at__isnull=True).exists()
    assert set(Unit.objects.values_list("status", flat=True)) == {UnitStatus.AVAILABLE}
    assert_audit_chain_verifies()


@on_postgres
def test_two_dispatchers_close_one_call_on_postgres(agency, dispatchers):
    close_same_call(agency, dispatchers)


@embedded_only
def test_two_dispatchers_close_one_call_embedded(agency, dispatchers):
    close_same_call(agency, dispatchers)


# --- changing the same unit's status -------------------------------------------------------


def change_same_unit_status(agency: Agency, dispatchers: tuple[Any, Any]) -> None:
    """Both saw the unit dispatched; one reports it en route, the other on scene."""
    a, b = dispatchers
    for i in range(ITERATIONS):
        call = new_call(agency, a)
        unit = UnitFactory(agency=agency, call_sign=f"S{i}")
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=a)
        wanted = (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE)
        answers = race_pair(
            *(
                (who, f"{UNITS}{unit.pk}/status/", {"status": s, "expected_status": "dispatched"})
                for who, s in zip((a, b), wanted, strict=True)
            )
        )
        winner, loser = winner_and_loser(answers, 200)
        assert "status" in loser, loser
        assert loser["current"] == {
            "unit_id": unit.pk,
            "unit": unit.call_sign,
            "status": wanted[winner],
            "call_id": call.pk,
            "call": call.number,
        }
        reported = call.events.filter(kind=CallEventKind.UNIT_STATUS)
        assert list(reported.values_list("data__status", flat=True)) == [wanted[winner]]
        call.refresh_from_db()
        assert call.status == wanted[winner]
        assert Unit.objects.get(pk=unit.pk).status == wanted[winner]
    assert_audit_chain_verifies()


@on_postgres
def test_two_dispatchers_change_one_unit_status_on_postgres(agency, dispatchers):
    change_same_unit_status(agency, dispatchers)


@embedded_only
def test_two_dispatchers_change_one_unit_status_embedded(agency, dispatchers):
    change_same_unit_status(agency, dispatchers)
