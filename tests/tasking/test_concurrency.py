"""Contested assignment transitions under real concurrency (PostgreSQL, one connection per
thread): one winner, a 409 with the current state for the others, one event per transition,
and acknowledgements from several devices at once collapse into one."""

from __future__ import annotations

import pytest

from beacon_core.errors import ConflictError
from tasking import services
from tasking.models import Assignment, AssignmentEvent
from tests.dispatch.test_services_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_many_devices_acknowledging_at_once_make_one_event(issued, cast):
    results = race(
        [
            lambda: services.assignment_acknowledge(assignment_id=issued.pk, actor=cast["field"])
            for _ in range(6)
        ]
    )
    assert all(kind == "ok" for kind, _ in results), results
    assert {r.status for _, r in results} == {"acknowledged"}
    assert AssignmentEvent.objects.filter(assignment=issued, to_status="acknowledged").count() == 1


def test_start_against_cancel_has_one_winner(issued, cast):
    results = race(
        [
            lambda: services.assignment_start(assignment_id=issued.pk, actor=cast["field"]),
            lambda: services.assignment_cancel(assignment_id=issued.pk, actor=cast["supervisor"]),
        ]
    )
    final = Assignment.objects.get(pk=issued.pk)
    winners = [r for kind, r in results if kind == "ok"]
    losers = [r for kind, r in results if kind == "error"]
    if len(winners) == 2:
        # Serialised: start won first, then cancel (allowed from in progress).
        assert final.status == "cancelled"
    else:
        assert len(winners) == 1 and len(losers) == 1
        assert isinstance(losers[0], ConflictError)
        assert losers[0].current["status"] == final.status
    transitions = AssignmentEvent.objects.filter(assignment=issued).exclude(
        to_status__in=["draft", "issued"]
    )
    assert transitions.count() == len(winners)


def test_two_outcomes_at_once_record_exactly_one(issued, cast):
    results = race(
        [
            lambda: services.assignment_finish(
                assignment_id=issued.pk, actor=cast["field"], outcome="completed"
            ),
            lambda: services.assignment_finish(
                assignment_id=issued.pk, actor=cast["supervisor"], outcome="missed"
            ),
        ]
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    final = Assignment.objects.get(pk=issued.pk)
    loser = next(r for kind, r in results if kind == "error")
    assert isinstance(loser, ConflictError) and loser.current["status"] == final.status
    assert (
        AssignmentEvent.objects.filter(
            assignment=issued, to_status__in=["completed", "missed"]
        ).count()
        == 1
    )
