"""The shift briefing page: default shift, picking one, what each role and agency may see
(assignments by the assignment rule, priorities and outcomes only with the finding right,
persons in briefings at the reader's level, other agencies never), and the print stylesheet."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.choices import InvolvementRole
from dispatch.models import Involvement, Person
from intelligence.models import FindingEvidence, FindingOutcome
from tasking import services, shift
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db
CHICAGO = "America/Chicago"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def in_shift() -> list[dict]:
    """A one-hour window starting now (so it lies in the current default shift)."""
    now = timezone.now().replace(microsecond=0)
    return [
        {"kind": "once", "start": now.isoformat(), "end": (now + dt.timedelta(hours=1)).isoformat()}
    ]


@pytest.mark.parametrize(
    ("local", "start", "end"),
    [
        ("2026-03-06 08:00", "2026-03-06 07:00", "2026-03-06 19:00"),
        ("2026-03-06 20:00", "2026-03-06 19:00", "2026-03-07 07:00"),
        ("2026-03-07 03:00", "2026-03-06 19:00", "2026-03-07 07:00"),
    ],
)
def test_default_shift_is_the_current_12_hour_shift(local, start, end):
    tz = ZoneInfo(CHICAGO)
    now = dt.datetime.fromisoformat(local).replace(tzinfo=tz)
    s = shift.default_shift(now, CHICAGO)
    assert s.start == dt.datetime.fromisoformat(start).replace(tzinfo=tz)
    assert s.end == dt.datetime.fromisoformat(end).replace(tzinfo=tz)


def test_asked_shift_crossing_midnight_and_bad_input():
    now = dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC)
    s = shift.parse_shift(
        {"date": "2026-03-10", "start": "22:00", "end": "06:00"}, now=now, time_zone=CHICAGO
    )
    assert (s.end - s.start) == dt.timedelta(hours=8)
    from beacon_core.errors import DomainError

    with pytest.raises(DomainError):
        shift.parse_shift({"start": "25:00"}, now=now, time_zone=CHICAGO)


def test_supervisor_sees_assignment_priority_and_outcome(cast, agency, draft, finding):
    a = services.assignment_issue(
        assignment_id=draft(windows=in_shift()).pk, actor=cast["supervisor"]
    )
    later = draft(
        windows=[
            {
                "kind": "once",
                "start": "2030-01-01T00:00:00+00:00",
                "end": "2030-01-01T01:00:00+00:00",
            }
        ]
    )
    services.assignment_issue(assignment_id=later.pk, actor=cast["supervisor"])
    make_finding(
        agency,
        kind="time_windows",
        status="proposed",
        statistics={"parent": finding.subject_key, "label": "Fri-Sat 19:00-23:00"},
    )
    now = timezone.now()
    FindingOutcome.objects.create(
        finding=finding,
        period_start=now - dt.timedelta(days=10),
        period_end=now - dt.timedelta(days=1),
        before_start=now - dt.timedelta(days=19),
        target_before=9,
        target_after=2,
        buffer_before=0,
        buffer_after=0,
        control_before=100,
        control_after=100,
        verdict="fell",
        explanation="x",
        evaluated_at=now,
    )
    page = signed_in(cast["supervisor"]).get("/tasking/briefing/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="briefing-assignment-{a.pk}"' in html and "Be seen on the block" in html
    assert f'id="briefing-assignment-{later.pk}"' not in html
    assert f'id="priority-{finding.pk}"' in html and "Fri-Sat 19:00-23:00" in html
    assert "repeat demand <b>fell</b>" in html


def test_field_sees_own_assignments_but_no_priorities(cast, draft, other_unit, finding):
    mine = services.assignment_issue(
        assignment_id=draft(windows=in_shift()).pk, actor=cast["supervisor"]
    )
    theirs = draft(windows=in_shift(), assignee_unit_id=other_unit.pk)
    services.assignment_issue(assignment_id=theirs.pk, actor=cast["supervisor"])
    html = signed_in(cast["field"]).get("/tasking/briefing/").content.decode()
    assert f'id="briefing-assignment-{mine.pk}"' in html
    assert f'id="briefing-assignment-{theirs.pk}"' not in html
    assert 'id="no-priorities"' in html and f'id="priority-{finding.pk}"' not in html
    for role in ("dispatcher", "auditor"):
        assert signed_in(cast[role]).get("/tasking/briefing/").status_code == 403


def test_other_agency_never_appears(cast, other_agency, reference_data):
    boss = UserFactory(roles=["supervisor"], agency=other_agency)
    theirs_finding = make_finding(other_agency)
    unit = UnitFactory(agency=other_agency, call_sign="N1")
    foreign = services.assignment_create(
        actor=boss,
        finding_id=theirs_finding.pk,
        kind="premise_check",
        objective="Neighbour's work",
        area={"type": "circle", "latitude": 29.4, "longitude": -98.4, "radius_m": 100},
        windows=in_shift(),
        assignee_unit_id=unit.pk,
        issue=True,
    )
    html = signed_in(cast["supervisor"]).get("/tasking/briefing/").content.decode()
    assert "Neighbour's work" not in html and f"briefing-assignment-{foreign.pk}" not in html
    assert f'id="priority-{theirs_finding.pk}"' not in html


def test_persons_in_the_briefing_follow_the_readers_level(cast, agency, draft, finding):
    """A confidential person on an evidence call: the supervisor (confidential) reads the name,
    the field officer (restricted) does not, though both read the same assignment."""
    call = FindingEvidence.objects.filter(finding=finding).first().call
    secret = Person.objects.create(
        agency=agency,
        last_name="Hidden",
        first_name="Harry",
        name_key="HIDDEN|HARRY",
        sensitivity=3,
    )
    Involvement.objects.create(call=call, person=secret, role=InvolvementRole.SUSPECT)
    services.assignment_issue(assignment_id=draft(windows=in_shift()).pk, actor=cast["supervisor"])
    assert "Hidden" in signed_in(cast["supervisor"]).get("/tasking/briefing/").content.decode()
    assert "Hidden" not in signed_in(cast["field"]).get("/tasking/briefing/").content.decode()


def test_bad_shift_falls_back_with_a_named_error(cast):
    page = signed_in(cast["supervisor"]).get("/tasking/briefing/?date=yesterday")
    assert page.status_code == 400 and "Date: Give a date" in page.content.decode()


def test_board_links_to_the_briefing(cast):
    assert b'id="briefing-link"' in signed_in(cast["supervisor"]).get("/tasking/").content
