"""Outcomes of assignments: once a finished assignment's period is over, its finding is
evaluated over that period (once); cancelled, unfinished or still-running work gets none; the
assignment page shows the outcome to those who may see the finding."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from intelligence.models import FindingOutcome
from tasking import services, tasks
from tests.tasking.test_execution import once

pytestmark = pytest.mark.django_db


def finished(draft, cast, start, hours, outcome="completed"):  # type: ignore[no-untyped-def]
    a = draft(windows=[once(start, hours)])
    services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"])
    if outcome == "cancelled":
        return services.assignment_cancel(assignment_id=a.pk, actor=cast["supervisor"])
    if outcome is None:
        return a
    return services.assignment_finish(assignment_id=a.pk, actor=cast["field"], outcome=outcome)


def test_finished_assignment_gets_one_outcome_over_its_period(draft, cast, finding):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=20)
    a = finished(draft, cast, start, 8 * 24)
    assert tasks.evaluate_assignment_outcomes() == 1
    outcome = FindingOutcome.objects.get()
    assert (outcome.finding, outcome.period_start) == (finding, start)
    assert outcome.period_end == start + dt.timedelta(days=8)
    assert outcome.evaluated_by is None
    assert tasks.evaluate_assignment_outcomes() == 0  # once per (finding, period start)
    for role in ("supervisor", "analyst"):
        client = Client()
        client.force_login(cast[role])
        html = client.get(f"/tasking/{a.pk}/").content.decode()
        assert 'id="outcome-verdict"' in html and "Repeat demand" in html
    client = Client()
    client.force_login(cast["field"])  # may not see findings: no outcome on the page
    assert 'id="outcome-verdict"' not in client.get(f"/tasking/{a.pk}/").content.decode()


def test_missed_by_schedule_counts_as_ended(draft, cast):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    a = finished(draft, cast, start, 1, outcome=None)
    tasks.close_ended_assignments()
    a.refresh_from_db()
    assert a.status == "missed"
    assert tasks.evaluate_assignment_outcomes() == 1


def test_no_outcome_for_cancelled_unfinished_or_running_work(draft, cast):
    past = timezone.now().replace(microsecond=0) - dt.timedelta(days=5)
    finished(draft, cast, past, 2, outcome="cancelled")
    finished(draft, cast, past - dt.timedelta(hours=5), 2, outcome=None)
    # Finished early, but its last window is still to come: wait for the period to end.
    running = draft(windows=[once(past, 2), once(timezone.now() + dt.timedelta(days=1))])
    services.assignment_issue(assignment_id=running.pk, actor=cast["supervisor"])
    services.assignment_finish(assignment_id=running.pk, actor=cast["field"], outcome="completed")
    assert tasks.evaluate_assignment_outcomes() == 0
    assert not FindingOutcome.objects.exists()


def test_manual_assignments_have_no_finding_to_evaluate(draft, cast):
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    a = draft(windows=[once(start)], finding_id=None)
    services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"])
    services.assignment_finish(assignment_id=a.pk, actor=cast["field"], outcome="completed")
    assert tasks.evaluate_assignment_outcomes() == 0
