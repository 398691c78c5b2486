"""Closing by schedule: after the last window the dosage is recorded; no window met -> missed
(by no user, with a note); some met, unmeasurable, or already finished -> left alone."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from beacon_core.errors import ConflictError
from tasking import services, tasks
from tasking.models import Assignment
from tests.tasking.test_execution import INSIDE, once, track

pytestmark = pytest.mark.django_db


def ended(draft, cast, **extra):  # type: ignore[no-untyped-def]
    """An issued assignment whose one window closed two hours ago."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    a = draft(
        windows=[once(start)], dosage={"minutes_per_visit": 15, "visits_per_window": 1}, **extra
    )
    return services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"]), start


def test_unmet_is_marked_missed_by_no_one_with_a_note(draft, cast):
    a, _ = ended(draft, cast)
    assert tasks.close_ended_assignments() == 1
    a.refresh_from_db()
    assert a.status == "missed" and a.finished_by is None and a.finished_at
    assert a.dosage_summary == {
        "total": 1,
        "past": 1,
        "met": 0,
        "measured": True,
        "next_start": None,
    }
    event = a.events.last()
    assert (event.from_status, event.to_status, event.actor) == ("issued", "missed", None)
    assert "no window met" in event.note
    assert tasks.close_ended_assignments() == 0  # idempotent


def test_met_is_left_for_the_supervisor_with_its_dosage_recorded(draft, cast, unit):
    a, start = ended(draft, cast)
    track(unit, start + dt.timedelta(minutes=5), 20, where=INSIDE)
    assert tasks.close_ended_assignments() == 0
    a.refresh_from_db()
    assert a.status == "issued" and a.dosage_summary["met"] == 1
    # Recorded once: later sweeps leave it alone (no reload of its track, no rewrite).
    with mock.patch.object(tasks.execution, "dosage_for", side_effect=AssertionError) as fixes:
        assert tasks.close_ended_assignments() == 0
    assert not fixes.called
    assert Assignment.objects.get(pk=a.pk).updated_at == a.updated_at
    row = services.assignment_finish(
        assignment_id=a.pk, actor=cast["supervisor"], outcome="completed"
    )
    assert row.status == "completed"


def test_unmeasurable_and_future_and_finished_are_untouched(draft, cast, shift):
    shift.units.clear()  # a shift of people only: no AVL to measure it by
    shift, _ = ended(draft, cast, assignee_unit_id=None, assignee_shift_id=shift.pk)
    done, _ = ended(draft, cast)
    services.assignment_finish(
        assignment_id=done.pk, actor=cast["field"], outcome="partially_completed"
    )
    soon = timezone.now() + dt.timedelta(hours=1)
    future = services.assignment_issue(
        assignment_id=draft(windows=[once(soon)]).pk, actor=cast["supervisor"]
    )
    assert tasks.close_ended_assignments() == 0
    statuses = dict(Assignment.objects.values_list("pk", "status"))
    assert statuses == {shift.pk: "issued", done.pk: "partially_completed", future.pk: "issued"}
    assert Assignment.objects.get(pk=shift.pk).dosage_summary["measured"] is False
    assert Assignment.objects.get(pk=done.pk).finished_by == cast["field"]


def test_service_refuses_a_finished_assignment(draft, cast):
    a, _ = ended(draft, cast)
    services.assignment_finish(assignment_id=a.pk, actor=cast["supervisor"], outcome="completed")
    summary = {"total": 1, "past": 1, "met": 0, "measured": True, "next_start": None}
    with pytest.raises(ConflictError):
        services.assignment_schedule_close(assignment_id=a.pk, summary=summary)
    assert Assignment.objects.get(pk=a.pk).status == "completed"


def test_board_shows_the_recorded_dosage_of_closed_work(draft, cast):
    from django.test import Client

    a, _ = ended(draft, cast)
    tasks.close_ended_assignments()
    client = Client()
    client.force_login(cast["supervisor"])
    (row,) = client.get("/tasking/board.json").json()["rows"]
    assert row["id"] == a.pk and row["dosage"]["past"] == 1 and row["dosage"]["met"] == 0
