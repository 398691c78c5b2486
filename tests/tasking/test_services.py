"""The tasking services: creation rules, the lifecycle (one event per transition, 409 with the
current state when contested), idempotent acknowledgement, report-backs and briefings."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from beacon_core.errors import ConflictError, DomainError
from dispatch.models import FieldObservation, Involvement, Person, PremiseNote
from governance.choices import Sensitivity
from intelligence.choices import FindingStatus
from tasking import services
from tasking.models import AssignmentEvent, AssignmentReport, Shift
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import CIRCLE, WINDOWS, make_finding

pytestmark = pytest.mark.django_db


def events(assignment) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return list(
        AssignmentEvent.objects.filter(assignment=assignment).values_list(
            "from_status", "to_status"
        )
    )


# --- create ------------------------------------------------------------------------------


def test_create_from_an_accepted_finding_makes_a_draft_with_a_briefing(draft, finding, cast):
    a = draft()
    assert (a.status, a.manual, a.finding_id, a.version) == ("draft", False, finding.pk, 1)
    assert "Seven burglaries" in a.briefing and "Recent calls:" in a.briefing
    assert a.created_by == cast["supervisor"]
    assert events(a) == [("", "draft")]


@pytest.mark.parametrize("status", [FindingStatus.PROPOSED, FindingStatus.DISMISSED])
def test_a_finding_not_accepted_is_refused_naming_the_field(draft, agency, status):
    other = make_finding(agency, status=status)
    with pytest.raises(DomainError) as err:
        draft(finding_id=other.pk)
    assert "finding" in err.value.errors and status in err.value.errors["finding"][0]


def test_another_agencys_finding_is_no_such_finding(draft, other_agency, reference_data):
    foreign = make_finding(other_agency)
    with pytest.raises(DomainError) as err:
        draft(finding_id=foreign.pk)
    assert err.value.errors == {"finding": ["No such finding."]}


def test_manual_assignment_is_marked_and_needs_a_supervisor(draft, cast):
    a = draft(finding_id=None)
    assert a.manual and a.finding_id is None and a.briefing.startswith("Manual assignment")
    for role in ("field", "analyst", "dispatcher"):
        with pytest.raises(PermissionDenied):
            draft(finding_id=None, actor=cast[role])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "stakeout"}, "kind"),
        ({"objective": "  "}, "objective"),
        ({"area": {"type": "circle", "latitude": 29.4, "longitude": -98.4}}, "area"),
        ({"area": {"type": "circle", "latitude": 29.4, "longitude": -98.4, "radius_m": 1}}, "area"),
        ({"area": {"type": "cells", "cells": ["nope"]}}, "area"),
        ({"area": {"type": "polygon", "points": [[29.4, -98.4], [29.5, -98.4]]}}, "area"),
        ({"area": {"type": "square"}}, "area"),
        ({"area": "here"}, "area"),
        ({"windows": []}, "windows"),
        ({"windows": ["fri 19-23"]}, "windows"),
        ({"windows": {"kind": "once"}}, "windows"),
        ({"windows": [{"kind": "weekly", "weekdays": [9]}]}, "windows"),
        ({"dosage": {"minutes_per_visit": 15}}, "dosage"),
        ({"dosage": {"minutes_per_visit": 0, "visits_per_window": 2}}, "dosage"),
        ({"dosage": {"minutes_per_visit": True, "visits_per_window": 2}}, "dosage"),
        ({"priority": 9}, "priority"),
        ({"assignee_unit_id": None}, "assignee"),
        ({"assignee_shift_id": 1}, "assignee"),
    ],
)
def test_bad_input_names_the_field(draft, overrides, field):
    with pytest.raises(DomainError) as err:
        draft(**overrides)
    assert field in err.value.errors, err.value.errors


def test_assignee_must_be_of_the_agency_and_able_to_receive(draft, cast, other_agency, agency):
    outsider = UserFactory(roles=["field"], agency=other_agency)
    with pytest.raises(DomainError) as err:
        draft(assignee_unit_id=None, assignee_user_id=outsider.pk)
    assert "assignee_user" in err.value.errors
    with pytest.raises(DomainError) as err:
        draft(assignee_unit_id=None, assignee_user_id=cast["dispatcher"].pk)
    assert "assignee_user" in err.value.errors


def test_other_area_kinds_and_assignees_are_accepted(draft, cast, shift):
    a = draft(
        area={"type": "polygon", "points": [[29.42, -98.49], [29.43, -98.49], [29.43, -98.48]]},
        assignee_unit_id=None,
        assignee_user_id=cast["field"].pk,
        dosage=None,
    )
    assert a.assignee_user == cast["field"] and a.dosage == {}
    b = draft(
        area={"type": "cells", "cells": ["8948e2b2a2bffff", "8948e2b2a2bffff"]},
        assignee_unit_id=None,
        assignee_shift_id=shift.pk,
    )
    assert b.area == {"type": "cells", "cells": ["8948e2b2a2bffff"]} and b.assignee_shift == shift
    assert b.assignee_label == "shift: Nights"


def test_a_shift_must_be_active_of_the_agency_and_have_someone_to_receive(
    draft, agency, other_agency, shift
):
    elsewhere = Shift.objects.create(
        agency=other_agency, name="Nights", starts_at="19:00", ends_at="07:00"
    )
    empty = Shift.objects.create(agency=agency, name="Empty", starts_at="07:00", ends_at="19:00")
    empty.units.add(UnitFactory(agency=agency, call_sign="Z9"))  # a unit nobody is signed to
    empty.members.add(UserFactory(roles=["auditor"], agency=agency))  # cannot receive work
    retired = Shift.objects.create(
        agency=agency, name="Old", starts_at="07:00", ends_at="19:00", active=False
    )
    retired.members.add(*shift.members.all())
    for bad in (elsewhere, empty, retired):
        with pytest.raises(DomainError) as err:
            draft(assignee_unit_id=None, assignee_shift_id=bad.pk)
        assert "assignee_shift" in err.value.errors, bad.name


# --- lifecycle -----------------------------------------------------------------------------


def test_full_lifecycle_stamps_and_attributes_each_step(issued, cast):
    field = cast["field"]
    assert issued.status == "issued" and issued.issued_by == cast["supervisor"] and issued.issued_at
    a = services.assignment_acknowledge(assignment_id=issued.pk, actor=field)
    assert (a.status, a.acknowledged_by) == ("acknowledged", field)
    a = services.assignment_start(assignment_id=a.pk, actor=field)
    assert (a.status, a.started_by) == ("in_progress", field)
    a = services.assignment_finish(
        assignment_id=a.pk, actor=field, outcome="partially_completed", note="Called away."
    )
    assert (a.status, a.finished_by, a.version) == ("partially_completed", field, 5)
    assert events(a) == [
        ("", "draft"),
        ("draft", "issued"),
        ("issued", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "partially_completed"),
    ]
    assert AssignmentEvent.objects.filter(assignment=a).last().note == "Called away."


def test_acknowledge_is_idempotent(issued, cast):
    first = services.assignment_acknowledge(assignment_id=issued.pk, actor=cast["field"])
    again = services.assignment_acknowledge(assignment_id=issued.pk, actor=cast["supervisor"])
    assert (again.status, again.version, again.acknowledged_at) == (
        first.status,
        first.version,
        first.acknowledged_at,
    )
    assert again.acknowledged_by == cast["field"]
    assert events(issued).count(("issued", "acknowledged")) == 1


def test_start_without_acknowledging_acknowledges(issued, cast):
    a = services.assignment_start(assignment_id=issued.pk, actor=cast["field"])
    assert a.acknowledged_at == a.started_at and a.acknowledged_by == cast["field"]
    # Acknowledging afterwards (the phone's queued tap arriving late) is still fine.
    assert (
        services.assignment_acknowledge(assignment_id=a.pk, actor=cast["field"]).status
        == "in_progress"
    )


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda a, u: services.assignment_acknowledge(assignment_id=a, actor=u), "draft"),
        (lambda a, u: services.assignment_start(assignment_id=a, actor=u), "draft"),
        (
            lambda a, u: services.assignment_finish(assignment_id=a, actor=u, outcome="completed"),
            "draft",
        ),
    ],
)
def test_a_draft_cannot_be_worked_on(draft, cast, call, status):
    a = draft()
    with pytest.raises(ConflictError) as err:
        call(a.pk, cast["field"])
    assert err.value.current == {"status": status, "version": 1}


def test_contested_transitions_are_409_with_current(issued, cast):
    sup = cast["supervisor"]
    with pytest.raises(ConflictError) as err:
        services.assignment_issue(assignment_id=issued.pk, actor=sup)
    assert err.value.current == {"status": "issued", "version": 2}
    assert "status" in err.value.errors
    services.assignment_cancel(assignment_id=issued.pk, actor=sup, reason="Event cancelled")
    for attempt in (
        lambda: services.assignment_acknowledge(assignment_id=issued.pk, actor=cast["field"]),
        lambda: services.assignment_start(assignment_id=issued.pk, actor=cast["field"]),
        lambda: services.assignment_finish(
            assignment_id=issued.pk, actor=cast["field"], outcome="missed"
        ),
        lambda: services.assignment_cancel(assignment_id=issued.pk, actor=sup),
    ):
        with pytest.raises(ConflictError) as err:
            attempt()
        assert err.value.current == {"status": "cancelled", "version": 3}
    assert events(issued)[-1] == ("issued", "cancelled")
    assert len(events(issued)) == 3


def test_a_claim_lost_between_read_and_write_is_a_409(issued, cast, monkeypatch):
    """Simulate the race: another device finishes the assignment right after we read it."""
    from tasking.models import Assignment

    real_filter = Assignment.objects.filter
    raced = {"done": False}

    def racing_filter(*args, **kwargs):  # type: ignore[no-untyped-def]
        if "version" in kwargs and not raced["done"]:
            raced["done"] = True
            real_filter(pk=issued.pk).update(
                status="missed", finished_at=issued.issued_at, version=9
            )
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Assignment.objects, "filter", racing_filter)
    with pytest.raises(ConflictError) as err:
        services.assignment_start(assignment_id=issued.pk, actor=cast["field"])
    assert err.value.current == {"status": "missed", "version": 9}


def test_finish_needs_a_known_outcome(issued, cast):
    with pytest.raises(DomainError) as err:
        services.assignment_finish(assignment_id=issued.pk, actor=cast["field"], outcome="done")
    assert "outcome" in err.value.errors


def test_only_supervisors_issue_and_cancel(draft, cast):
    a = draft()
    with pytest.raises(PermissionDenied):
        services.assignment_issue(assignment_id=a.pk, actor=cast["field"])
    with pytest.raises(PermissionDenied):
        services.assignment_cancel(assignment_id=a.pk, actor=cast["field"])


def test_create_and_issue_in_one_step(draft):
    a = draft(issue=True)
    assert a.status == "issued" and events(a) == [("", "draft"), ("draft", "issued")]


# --- report-back ---------------------------------------------------------------------------


def test_report_with_observations_and_a_retry_is_stored_once(issued, cast, agency):
    obs = FieldObservation.objects.create(
        agency=agency,
        observed_at=issued.issued_at,
        category="suspicious_person",
        reported_by=cast["field"],
    )
    kwargs = {
        "assignment_id": issued.pk,
        "actor": cast["field"],
        "notes": "Spoke to the manager; lights fixed.",
        "contacts_made": 2,
        "observation_ids": [obs.pk],
        "client_ref": "phone-1-abc",
    }
    first = services.assignment_report(**kwargs)
    again = services.assignment_report(**kwargs)
    assert first.pk == again.pk and AssignmentReport.objects.count() == 1
    assert list(first.observations.all()) == [obs]
    # The observation joins the finding's evidence, once.
    from intelligence.models import FindingEvidence

    evidence = FindingEvidence.objects.filter(finding_id=issued.finding_id, observation=obs)
    assert evidence.count() == 1


def test_report_refuses_another_agencys_observation(issued, cast, other_agency):
    foreign = FieldObservation.objects.create(
        agency=other_agency, observed_at=issued.issued_at, category="suspicious_person"
    )
    with pytest.raises(DomainError) as err:
        services.assignment_report(
            assignment_id=issued.pk, actor=cast["field"], notes="x", observation_ids=[foreign.pk]
        )
    assert "observation_ids" in err.value.errors


def test_report_needs_notes_and_a_live_assignment(issued, draft, cast):
    with pytest.raises(DomainError) as err:
        services.assignment_report(assignment_id=issued.pk, actor=cast["field"], notes=" ")
    assert "notes" in err.value.errors
    with pytest.raises(ConflictError) as cerr:
        services.assignment_report(assignment_id=draft().pk, actor=cast["field"], notes="x")
    assert cerr.value.current["status"] == "draft"


# --- briefing ------------------------------------------------------------------------------


def test_briefing_has_hazards_and_persons_only_for_readers_cleared_for_them(
    draft, finding, cast, agency, unit
):
    PremiseNote.objects.create(
        location=finding.location, agency=agency, kind="hazard", text="Dog in yard"
    )
    call = finding.evidence.first().call
    person = Person.objects.create(
        agency=agency,
        last_name="Doe",
        first_name="John",
        name_key="DOE|JOHN",
        sensitivity=Sensitivity.RESTRICTED,
    )
    Involvement.objects.create(role="suspect", person=person, call=call)
    secret = Person.objects.create(
        agency=agency, last_name="Hidden", name_key="HIDDEN|", sensitivity=Sensitivity.CONFIDENTIAL
    )
    Involvement.objects.create(role="witness", person=secret, call=call)

    to_unit = draft()
    assert "Dog in yard" in to_unit.briefing
    assert "Doe, John" in to_unit.briefing  # field staff may see restricted persons
    assert "Hidden" not in to_unit.briefing  # ...but not confidential ones
    nights = Shift.objects.create(
        agency=to_unit.agency, name="Nights", starts_at="19:00", ends_at="07:00"
    )
    nights.members.add(cast["field"])
    to_shift = draft(assignee_unit_id=None, assignee_shift_id=nights.pk)
    assert "Dog in yard" in to_shift.briefing and "Doe, John" in to_shift.briefing
    # A member who cannot receive assignments never reads it, so does not narrow the briefing.
    nights.members.add(UserFactory(roles=["auditor"], agency=to_unit.agency))
    mixed = draft(assignee_unit_id=None, assignee_shift_id=nights.pk)
    assert "Dog in yard" in mixed.briefing and "Doe, John" in mixed.briefing


def test_a_bad_window_is_named_by_position(draft):
    bad = [WINDOWS[0], {**WINDOWS[0], "weekdays": [7]}]
    with pytest.raises(DomainError) as err:
        draft(windows=bad)
    assert err.value.errors["windows"][0].startswith("windows[1].weekdays")


def test_windows_and_area_are_stored_as_given(draft):
    a = draft()
    assert a.windows == WINDOWS and a.area == {**CIRCLE, "radius_m": 250.0}
