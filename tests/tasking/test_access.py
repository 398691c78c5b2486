"""Who sees which assignment: supervisors and analysts their agency's, field staff only their
own (by unit or by name), nobody another agency's; and what a reconnecting device fetches."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from beacon_core.errors import NotFoundError
from tasking import selectors, services
from tasking.permissions import access_assignment, assignments_visible_to
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import WINDOWS, make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_agency, reference_data):  # type: ignore[no-untyped-def]
    """An issued assignment of the neighbouring agency."""
    boss = UserFactory(roles=["supervisor"], agency=other_agency)
    unit = UnitFactory(agency=other_agency, call_sign="N1")
    return services.assignment_create(
        actor=boss,
        finding_id=make_finding(other_agency).pk,
        kind="premise_check",
        objective="Check",
        area={"type": "circle", "latitude": 29.4, "longitude": -98.4, "radius_m": 100},
        windows=WINDOWS,
        assignee_unit_id=unit.pk,
        issue=True,
    )


def test_supervisor_and_analyst_see_the_agency_not_the_neighbour(
    issued, draft, other_unit, foreign, cast
):
    theirs = draft(assignee_unit_id=other_unit.pk)
    for role in ("supervisor", "analyst"):
        visible = set(assignments_visible_to(cast[role]))
        assert visible == {issued, theirs}, role
        with pytest.raises(NotFoundError):
            access_assignment(cast[role], foreign.pk)


def test_field_user_sees_only_own_unit_and_own_name(issued, draft, other_unit, cast):
    other = draft(assignee_unit_id=other_unit.pk)
    by_name = draft(assignee_unit_id=None, assignee_user_id=cast["field"].pk)
    assert set(assignments_visible_to(cast["field"])) == {issued, by_name}
    with pytest.raises(NotFoundError):
        access_assignment(cast["field"], other.pk)
    assert access_assignment(cast["field"], issued.pk, for_write=True) == issued


def test_roles_without_assignments_see_nothing(issued, cast):
    for role in ("dispatcher", "admin", "auditor"):
        assert not assignments_visible_to(cast[role]).exists()
        with pytest.raises(NotFoundError):
            access_assignment(cast[role], issued.pk)


def test_analyst_may_view_but_not_write(issued, cast):
    with pytest.raises(PermissionDenied):
        access_assignment(cast["analyst"], issued.pk, for_write=True)


@pytest.mark.parametrize("bad", ["x", None, 10**30, -1])
def test_garbage_ids_are_not_found(cast, bad):
    with pytest.raises(NotFoundError):
        access_assignment(cast["supervisor"], bad)


def test_unit_signed_to_twice_does_not_repeat_rows(issued, cast, unit):
    unit.users.add(UserFactory(roles=["field"]))
    assert list(assignments_visible_to(cast["field"])) == [issued]


def test_pending_for_device_is_every_open_assignment_of_mine(draft, issued, other_unit, cast):
    sup = cast["supervisor"]
    field = cast["field"]
    draft()  # a draft is not sent yet
    by_name = services.assignment_issue(
        assignment_id=draft(assignee_unit_id=None, assignee_user_id=field.pk).pk, actor=sup
    )
    services.assignment_issue(assignment_id=draft(assignee_unit_id=other_unit.pk).pk, actor=sup)
    acked = services.assignment_issue(assignment_id=draft().pk, actor=sup)
    services.assignment_acknowledge(assignment_id=acked.pk, actor=field)
    done = services.assignment_issue(assignment_id=draft().pk, actor=sup)
    services.assignment_finish(assignment_id=done.pk, actor=field, outcome="completed")
    pending = list(selectors.assignments_pending_for_device(user=field))
    assert pending == [issued, by_name, acked]
    # A supervisor's own device holds only what is assigned to them (nothing here).
    assert list(selectors.assignments_pending_for_device(user=sup)) == []


def test_board_query_count_does_not_grow_with_rows(draft, cast, django_assert_max_num_queries):
    for _ in range(5):
        draft()
    with django_assert_max_num_queries(6):
        rows = list(selectors.assignment_board(user=cast["supervisor"]))
        for a in rows:
            _ = (a.assignee_label, [e.actor for e in a.events.all()], a.finding)
    assert len(rows) == 5


def test_prefill_from_a_time_window_finding(agency):
    f = make_finding(
        agency,
        kind="time_windows",
        cells=["8948e2b2a2bffff"],
        statistics={
            "days": [4, 5],
            "start_hour": 19,
            "end_hour": 23,
            "n_hours": 4,
            "time_zone": "America/Chicago",
        },
    )
    prefill = selectors.assignment_prefill(f)
    assert prefill["area"] == {"type": "cells", "cells": ["8948e2b2a2bffff"]}
    (window,) = prefill["windows"]
    assert window["weekdays"] == [4, 5] and window["start"] == "19:00"
    assert window["duration_minutes"] == 240 and window["weeks"] == 4
    point = selectors.assignment_prefill(make_finding(agency))
    assert point["area"]["type"] == "circle" and point["windows"] == []
