"""Contested work under real concurrency: threads with their own PostgreSQL connections.

Each test releases its threads together through a barrier so the transactions
overlap, and checks the outcome the house rules promise: one winner, clear
conflicts for the others, no duplicates and no deadlocks.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from beacon_core.errors import ConflictError
from dispatch import services
from dispatch.choices import CallStatus, UnitStatus
from dispatch.models import Call, CallAssignment, CallEvent, CallType, Location, Unit
from governance.models import Agency
from tests.factories import UnitFactory, disposition

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run ``workers`` at once; return ("ok", result) or ("error", exception) per worker, in order."""
    barrier = threading.Barrier(len(workers))
    results: list[tuple[str, Any]] = [("missing", None)] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", work())
        except Exception as exc:  # collected for the assertions, not swallowed
            results[index] = ("error", exc)
        finally:
            # Each thread has its own connection; leaving it open blocks test-db teardown.
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung (deadlock?)"
    return results


def new_call(agency: Agency, actor: Any, n: int = 0) -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="DISTURB"),
        address=f"{100 + n} Main St",
        latitude=29.42,
        longitude=-98.49,
    )


def test_call_numbers_are_unique_when_allocated_from_many_threads(db):
    def allocate_25() -> list[str]:
        return [services.call_numbers_allocate(year=2040)[0] for _ in range(25)]

    results = race([allocate_25] * 4)

    assert [kind for kind, _ in results] == ["ok"] * 4
    numbers = [n for _, batch in results for n in batch]
    assert len(numbers) == 100
    assert sorted(numbers) == [f"2040-{i:06d}" for i in range(1, 101)]


def test_calls_created_in_parallel_get_distinct_numbers(agency, cast):
    dispatcher = cast["dispatcher"]
    results = race([lambda n=n: new_call(agency, dispatcher, n).number for n in range(8)])
    assert [kind for kind, _ in results] == ["ok"] * 8
    assert len({number for _, number in results}) == 8


def test_only_one_of_many_dispatchers_claims_a_unit(agency, cast):
    dispatcher = cast["dispatcher"]
    calls = [new_call(agency, dispatcher, n) for n in range(6)]
    unit = UnitFactory(agency=agency)

    results = race(
        [
            lambda c=c: services.unit_assign(call_id=c.pk, unit_id=unit.pk, actor=dispatcher)
            for c in calls
        ]
    )

    winners = [i for i, (kind, _) in enumerate(results) if kind == "ok"]
    losers = [value for kind, value in results if kind == "error"]
    assert len(winners) == 1
    assert len(losers) == 5 and all(isinstance(e, ConflictError) for e in losers), losers
    assert all(e.current["unit"] == unit.call_sign for e in losers)
    won = calls[winners[0]]
    assert list(CallAssignment.objects.filter(unit=unit).values_list("call_id", flat=True)) == [
        won.pk
    ]
    statuses = dict(Call.objects.filter(pk__in=[c.pk for c in calls]).values_list("pk", "status"))
    assert statuses.pop(won.pk) == CallStatus.DISPATCHED
    assert set(statuses.values()) == {CallStatus.PENDING}


def test_only_one_of_two_dispatchers_closes_a_call(agency, cast):
    dispatcher, supervisor = cast["dispatcher"], cast["supervisor"]
    call = new_call(agency, dispatcher)
    services.unit_assign(call_id=call.pk, unit_id=UnitFactory(agency=agency).pk, actor=dispatcher)

    results = race(
        [
            lambda: services.call_close(
                call_id=call.pk, actor=dispatcher, disposition=disposition()
            ),
            lambda: services.call_close(
                call_id=call.pk, actor=supervisor, disposition=disposition("ARREST")
            ),
        ]
    )

    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    loser = next(value for kind, value in results if kind == "error")
    assert isinstance(loser, ConflictError) and loser.current["status"] == CallStatus.CLOSED
    call.refresh_from_db()
    assert call.status == CallStatus.CLOSED
    assert call.events.filter(data__new="closed").count() == 1


def test_location_resolve_from_many_threads_makes_one_location(db):
    spellings = ["55 North Oak Street", "55 N OAK ST", "55 n. oak st.", "55 North Oak St"] * 2
    results = race([lambda s=s: services.location_resolve(address=s).pk for s in spellings])
    assert [kind for kind, _ in results] == ["ok"] * len(spellings), results
    assert len({pk for _, pk in results}) == 1
    assert Location.objects.count() == 1


def test_cancelling_a_call_while_its_unit_reports_status_does_not_deadlock(agency, cast):
    """Both paths lock the call before the unit; the opposite order deadlocked on PostgreSQL."""
    dispatcher, field_user = cast["dispatcher"], cast["field"]
    for n in range(8):
        call = new_call(agency, dispatcher, n)
        unit = UnitFactory(agency=agency)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)

        results = race(
            [
                lambda c=call: services.call_set_status(
                    call_id=c.pk, actor=dispatcher, status=CallStatus.CANCELLED
                ),
                lambda u=unit: services.unit_set_status(
                    unit_id=u.pk, actor=field_user, status=UnitStatus.ON_SCENE
                ),
            ]
        )

        for kind, value in results:
            assert kind == "ok" or isinstance(value, ConflictError), value
            assert not isinstance(value, OperationalError), value
        call.refresh_from_db()
        assert call.status == CallStatus.CANCELLED
        assert Unit.objects.get(pk=unit.pk).status == UnitStatus.AVAILABLE


def _lock_call_for_update(call_id: int) -> None:
    """A plain FOR UPDATE row lock, as code outside the dispatch services may still take."""
    Call.objects.select_for_update().get(pk=call_id)


@pytest.mark.parametrize(
    "lock_call",
    [services._lock_call, _lock_call_for_update],
    ids=["dispatch-row-lock", "plain-for-update"],
)
def test_a_writer_holding_a_call_and_one_pointing_at_it_both_append_to_the_audit_chain(
    agency, cast, lock_call
):
    """The soak's deadlock: an analysis run appended its audit event (taking the chain lock)
    with evidence rows pointing at a call whose foreign-key checks Django defers to COMMIT; a
    close held that call's row lock and asked for the chain. COMMIT's check waited for the row,
    the close for the chain. Neither the dispatch row lock (FOR NO KEY UPDATE) nor, for any
    other row lock, the chain (pending checks run before it is taken) may close that circle."""
    from governance import audit
    from governance.choices import AuditAction

    dispatcher = cast["dispatcher"]
    call = new_call(agency, dispatcher)
    row_locked = threading.Event()
    pointer_has_chain = threading.Event()

    def hold_the_call() -> str:
        with transaction.atomic():
            lock_call(call.pk)
            row_locked.set()
            # The pointer takes the chain first when it can; when the fix makes it wait for
            # this row before the chain instead, this side goes on after a short wait.
            pointer_has_chain.wait(timeout=2)
            audit.record(action=AuditAction.CHANGE, obj=call, actor=dispatcher)
        return "closed"

    def point_at_the_call() -> str:
        assert row_locked.wait(timeout=10)
        with transaction.atomic():
            CallEvent.objects.create(call_id=call.pk, at=timezone.now(), kind="note", text="x")
            audit.record(action=AuditAction.CREATE, obj=call, actor_username="system:analysis")
            pointer_has_chain.set()
        return "pointed"

    results = race([hold_the_call, point_at_the_call])

    assert results == [("ok", "closed"), ("ok", "pointed")]
    assert audit.verify_chain().intact


def test_a_batch_posted_twice_at_once_is_stored_once_and_the_unit_shows_the_newest_fix(agency):
    """A device re-sending a batch while the first post is still running (a lost reply): the
    counts add up exactly and the unit ends at the newest fix, with no lock to serialise them."""
    unit = UnitFactory(agency=agency)
    start = timezone.now() - dt.timedelta(minutes=5)
    batch = [
        {
            "recorded_at": start + dt.timedelta(seconds=i),
            "latitude": 29.4 + i / 1000,
            "longitude": -98.5,
            "heading": None,
        }
        for i in range(50)
    ]
    results = race([lambda: services.unit_positions_record(unit_id=unit.pk, positions=batch)] * 4)
    assert [r[0] for r in results] == ["ok"] * 4, results
    assert sum(r[1]["stored"] for r in results) == 50
    assert sum(r[1]["duplicates"] for r in results) == 150
    unit.refresh_from_db()
    assert unit.position_at == batch[-1]["recorded_at"]
    assert unit.latitude == batch[-1]["latitude"]
