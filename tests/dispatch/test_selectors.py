"""Board and list reads: what they contain, their order, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dispatch import selectors, services
from dispatch.choices import CallStatus
from dispatch.models import PremiseNote
from governance.choices import Sensitivity
from tests.factories import CallFactory, LocationFactory, UnitFactory, disposition

pytestmark = pytest.mark.django_db


def fresh(user: Any) -> Any:
    """The same user without cached roles/agency, as a new request would see it."""
    return get_user_model().objects.get(pk=user.pk)


def test_call_queue_lists_open_calls_by_priority_then_age(cast, agency, other_agency):
    now = timezone.now()
    old_p3 = CallFactory(agency=agency, priority=3, received_at=now - dt.timedelta(minutes=30))
    new_p1 = CallFactory(agency=agency, priority=1, received_at=now - dt.timedelta(minutes=1))
    new_p3 = CallFactory(agency=agency, priority=3, received_at=now - dt.timedelta(minutes=5))
    CallFactory(agency=agency, status=CallStatus.CLOSED)
    CallFactory(agency=agency, status=CallStatus.CANCELLED)
    CallFactory(agency=other_agency, priority=1)

    queue = list(selectors.call_queue(user=cast["dispatcher"]))

    assert queue == [new_p1, old_p3, new_p3]


def test_call_queue_carries_only_open_assignments(cast, agency):
    d = cast["dispatcher"]
    call = CallFactory(agency=agency)
    gone, staying = UnitFactory(agency=agency), UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=gone.pk, actor=d)
    services.unit_assign(call_id=call.pk, unit_id=staying.pk, actor=d)
    services.unit_set_status(unit_id=gone.pk, actor=d, status="available")

    (row,) = selectors.call_queue(user=d)

    assert [a.unit.call_sign for a in row.open_assignments] == [staying.call_sign]


def test_unit_board_shows_active_units_with_their_current_call(cast, agency, other_agency):
    d = cast["dispatcher"]
    busy = UnitFactory(agency=agency, call_sign="A1")
    idle = UnitFactory(agency=agency, call_sign="A2")
    UnitFactory(agency=agency, call_sign="A3", active=False)
    UnitFactory(agency=other_agency, call_sign="Z9")
    call = CallFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=busy.pk, actor=d)

    board = list(selectors.unit_board(user=d))

    assert [u.call_sign for u in board] == ["A1", "A2"]
    assert [a.call.number for a in board[0].open_assignments] == [call.number]
    assert board[1].open_assignments == []
    assert idle.pk == board[1].pk


def test_boards_are_empty_for_roles_without_access(cast, agency):
    CallFactory(agency=agency)
    UnitFactory(agency=agency)
    assert list(selectors.call_queue(user=cast["auditor"])) == []
    assert list(selectors.unit_board(user=cast["auditor"])) == []


def test_call_list_is_newest_first_and_agency_scoped(cast, agency, other_agency):
    now = timezone.now()
    older = CallFactory(agency=agency, received_at=now - dt.timedelta(hours=2))
    newer = CallFactory(agency=agency, received_at=now - dt.timedelta(hours=1))
    CallFactory(agency=other_agency)
    assert list(selectors.call_list(user=cast["analyst"])) == [newer, older]


def test_location_history_counts_windows_and_hides_expired_and_secret_notes(cast, agency):
    now = timezone.now()
    here = LocationFactory()
    for hours in (1, 30, 24 * 30, 24 * 200):
        CallFactory(agency=agency, location=here, received_at=now - dt.timedelta(hours=hours))
    CallFactory(agency=agency)  # elsewhere
    PremiseNote.objects.create(location=here, agency=agency, text="dog", kind="hazard")
    PremiseNote.objects.create(
        location=here, agency=agency, text="old gate code", expires_at=now - dt.timedelta(days=1)
    )
    PremiseNote.objects.create(
        location=here, agency=agency, text="informant", sensitivity=Sensitivity.CONFIDENTIAL
    )

    history = selectors.location_history(user=cast["dispatcher"], location=here, now=now)

    assert history["counts"] == {"last_24h": 1, "last_7d": 2, "last_90d": 3}
    assert len(history["recent"]) == 4
    assert [n.text for n in history["notes"]] == ["dog"]


def test_call_detail_has_the_timeline_in_order(cast, agency):
    d = cast["dispatcher"]
    call = CallFactory(agency=agency)
    services.call_add_note(call_id=call.pk, actor=d, text="first")
    services.call_add_note(call_id=call.pk, actor=d, text="second")
    services.call_close(call_id=call.pk, actor=d, disposition=disposition())
    detail = selectors.call_detail(user=d, call_id=call.pk)
    assert [e.text for e in detail.events.all()][:2] == ["first", "second"]


# --- query counts -------------------------------------------------------------------------


def count_queries(read: Callable[[], None]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        read()
    return len(ctx.captured_queries)


def read_queue(user: Any) -> None:
    for call in selectors.call_queue(user=fresh(user)):
        _ = (call.call_type.code, call.location.display_address)
        _ = [a.unit.call_sign for a in call.open_assignments]


def read_board(user: Any) -> None:
    for unit in selectors.unit_board(user=fresh(user)):
        _ = [(a.call.number, a.call.status) for a in unit.open_assignments]


def add_busy_rows(agency: Any, actor: Any, n: int) -> None:
    for _ in range(n):
        call = CallFactory(agency=agency)
        unit = UnitFactory(agency=agency)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=actor)
        UnitFactory(agency=agency)  # and an idle one


@pytest.mark.parametrize("read", [read_queue, read_board], ids=["call_queue", "unit_board"])
def test_board_queries_do_not_grow_with_rows(cast, agency, read):
    d = cast["dispatcher"]
    add_busy_rows(agency, d, 2)
    read(d)  # production shares the access facts between requests: count both reads warm
    small = count_queries(lambda: read(d))

    add_busy_rows(agency, d, 15)
    read(d)
    large = count_queries(lambda: read(d))

    assert large == small
    # the access facts (six queries; none when the cache shares them), rows, prefetch
    assert small <= 9
