"""Fixtures for the tasking tests: findings in each review state, units, and a draft maker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from dispatch.models import CallType, Unit
from governance.models import Agency
from intelligence.choices import Decision, FindingKind, FindingStatus
from intelligence.models import Finding, FindingDecision, FindingEvidence
from tasking import services
from tasking.models import Assignment, Shift
from tests.factories import CallFactory, LocationFactory, UnitFactory, UserFactory

CIRCLE = {"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 250}
WINDOWS = [
    {
        "kind": "weekly",
        "weekdays": [4, 5],
        "start": "19:00",
        "duration_minutes": 240,
        "first_date": "2026-03-06",
        "weeks": 4,
        "time_zone": "America/Chicago",
    }
]
DOSAGE = {"minutes_per_visit": 15, "visits_per_window": 2}


def accept_as_reviewer(finding: Finding, reviewer: Any = None) -> FindingDecision:
    """The accepting decision of a reviewer (a new supervisor unless given) on ``finding``."""
    reviewer = reviewer or UserFactory(roles=["supervisor"], agency=finding.agency)
    return FindingDecision.objects.create(
        finding=finding,
        decision=Decision.ACCEPT,
        rationale="Reviewed the evidence calls; the pattern is real.",
        reviewer=reviewer,
        decided_at=timezone.now(),
    )


def make_finding(agency: Agency, status: str = FindingStatus.ACCEPTED, **extra: Any) -> Finding:
    """A repeat-location finding with two evidence calls at one place."""
    now = timezone.now()
    location = LocationFactory()
    values: dict[str, Any] = {
        "agency": agency,
        "kind": FindingKind.REPEAT_LOCATION,
        "subject_key": f"{location.address_key}|{status}|{Finding.objects.count()}",
        "location": location,
        "latitude": location.latitude,
        "longitude": location.longitude,
        "window_start": now - dt.timedelta(days=90),
        "window_end": now,
        "statistics": {"count": 7, "expected": 1.2, "p": 0.001},
        "explanation": "Seven burglaries at this address in 90 days, six times the expected.",
        "status": status,
    }
    values.update(extra)
    finding = Finding.objects.create(**values)
    if status == FindingStatus.ACCEPTED:
        # What finding_decide leaves behind: tasking checks the acceptance, not only the status.
        accept_as_reviewer(finding)
    for days in (3, 10):
        call = CallFactory(
            agency=agency,
            location=location,
            call_type=CallType.objects.get(code="THEFT"),
            received_at=now - dt.timedelta(days=days),
        )
        FindingEvidence.objects.create(finding=finding, call=call)
    return finding


@pytest.fixture
def finding(agency: Agency) -> Finding:
    return make_finding(agency)


@pytest.fixture
def unit(agency: Agency, cast: dict[str, Any]) -> Unit:
    """A unit of the default agency with the field user signed to it."""
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    return unit


@pytest.fixture
def other_unit(agency: Agency) -> Unit:
    """Another unit of the same agency (nobody from the cast signed to it)."""
    return UnitFactory(agency=agency, call_sign="B22")


@pytest.fixture
def night_member(agency: Agency) -> Any:
    """A field user on the night shift only (signed to no unit)."""
    return UserFactory(username="nights1", roles=["field"], agency=agency)


@pytest.fixture
def shift(agency: Agency, night_member: Any, other_unit: Unit) -> Shift:
    """The "Nights" shift: one member by name, and unit B22 (whose crew also gets its work)."""
    nights = Shift.objects.create(
        agency=agency, name="Nights", starts_at=dt.time(19), ends_at=dt.time(7)
    )
    nights.members.add(night_member)
    nights.units.add(other_unit)
    return nights


@pytest.fixture
def draft(cast: dict[str, Any], finding: Finding, unit: Unit):
    """``draft(**overrides)``: a directed patrol for the field user's unit, made by the supervisor."""

    def _make(**overrides: Any) -> Assignment:
        values: dict[str, Any] = {
            "actor": cast["supervisor"],
            "finding_id": finding.pk,
            "kind": "directed_patrol",
            "objective": "Be seen on the block in the evening.",
            "area": CIRCLE,
            "windows": WINDOWS,
            "dosage": DOSAGE,
            "assignee_unit_id": unit.pk,
        }
        values.update(overrides)
        return services.assignment_create(**values)

    return _make


@pytest.fixture
def issued(draft, cast: dict[str, Any]) -> Assignment:
    return services.assignment_issue(assignment_id=draft().pk, actor=cast["supervisor"])
