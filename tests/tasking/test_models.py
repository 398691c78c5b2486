"""Database constraints back up what the services check: a row cannot break the invariants."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tasking.models import Assignment, AssignmentReport, Shift
from tests.tasking.conftest import CIRCLE, WINDOWS

pytestmark = pytest.mark.django_db


def row(agency, cast, shift=None, **overrides):  # type: ignore[no-untyped-def]
    if shift is None:
        shift = Shift.objects.get_or_create(
            agency=agency, name="Nights", defaults={"starts_at": "19:00", "ends_at": "07:00"}
        )[0]
    values = {
        "agency": agency,
        "manual": True,
        "kind": "premise_check",
        "objective": "Check the doors.",
        "area": CIRCLE,
        "windows": WINDOWS,
        "assignee_shift": shift,
        "created_by": cast["supervisor"],
    }
    values.update(overrides)
    return Assignment(**values)


def refused(obj) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()


def test_a_valid_row_saves(agency, cast):
    row(agency, cast).save()


def test_manual_flag_must_match_the_missing_finding(agency, cast, finding):
    refused(row(agency, cast, manual=False))
    refused(row(agency, cast, manual=True, finding=finding))


def test_exactly_one_assignee(agency, cast, unit):
    refused(row(agency, cast, assignee_shift=None))
    refused(row(agency, cast, assignee_unit=unit))
    refused(row(agency, cast, assignee_shift=None, assignee_unit=unit, assignee_user=cast["field"]))


def test_shift_names_are_unique_per_agency_and_not_blank(agency, other_agency):
    Shift.objects.create(agency=agency, name="Days", starts_at="07:00", ends_at="19:00")
    Shift.objects.create(agency=other_agency, name="Days", starts_at="07:00", ends_at="19:00")
    refused(Shift(agency=agency, name="Days", starts_at="07:00", ends_at="19:00"))
    refused(Shift(agency=agency, name="  ", starts_at="07:00", ends_at="19:00"))


def test_priority_objective_and_status(agency, cast):
    refused(row(agency, cast, priority=0))
    refused(row(agency, cast, priority=6))
    refused(row(agency, cast, objective="   "))
    refused(row(agency, cast, status="lost"))


def test_every_status_reached_carries_its_timestamp(agency, cast):
    refused(row(agency, cast, status="issued"))
    now = timezone.now()
    refused(row(agency, cast, status="acknowledged", issued_at=now))
    refused(row(agency, cast, status="in_progress", issued_at=now, acknowledged_at=now))
    refused(row(agency, cast, status="completed", issued_at=now))
    refused(row(agency, cast, status="cancelled"))
    row(agency, cast, status="cancelled", cancelled_at=now).save()


def test_report_notes_required_and_client_ref_unique(agency, cast):
    a = row(agency, cast)
    a.save()
    now = timezone.now()
    refused(AssignmentReport(assignment=a, author=cast["field"], at=now, notes=" "))
    AssignmentReport.objects.create(
        assignment=a, author=cast["field"], at=now, notes="x", client_ref="r1"
    )
    refused(
        AssignmentReport(assignment=a, author=cast["field"], at=now, notes="y", client_ref="r1")
    )
    # Reports without a client ref are never collapsed.
    AssignmentReport.objects.create(assignment=a, author=cast["field"], at=now, notes="a")
    AssignmentReport.objects.create(assignment=a, author=cast["field"], at=now, notes="b")
