"""The audit trail is complete for the Governance issue's list: create, change (changed fields with
before/after), delete, export, dissemination (recipient and purpose), assignment issue and views of
sensitive records, each written by the service or view that does it, in its transaction; bulk
paths (CSV import, analysis runs) write one summary event, AVL posts none."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from dispatch import services as dispatch_services
from dispatch.demo import writer as demo_writer
from dispatch.models import Call, CallType, Person
from governance import audit
from governance.choices import AuditAction, Sensitivity
from governance.models import AuditEvent
from intelligence.choices import FindingKind
from intelligence.models import Finding
from tasking import services as tasking_services
from tests.dispatch.test_import_calls import BEACON_CSV, run_import
from tests.factories import UnitFactory, disposition
from tests.intelligence.test_dashboard_support import analyse, plant
from tests.tasking.conftest import CIRCLE, make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_view_window() -> None:
    # The console's repeat window lives in the cache; tests must not see each other's.
    cache.clear()


def events(action: str | None = None, **filters: Any) -> list[AuditEvent]:
    qs = AuditEvent.objects.order_by("seq")
    if action:
        qs = qs.filter(action=action)
    return list(qs.filter(**filters))


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_call(agency: Any, actor: Any, **extra: Any) -> Call:
    values: dict[str, Any] = {
        "agency": agency,
        "actor": actor,
        "call_type": CallType.objects.get(code="THEFT"),
        "address": "123 North Main Street",
        "latitude": 29.42,
        "longitude": -98.49,
        "caller_name": "Jane Roe",
        "caller_phone": "+1 210 555 0100",
        "narrative": "Bicycle taken from porch.",
    }
    values.update(extra)
    return dispatch_services.call_create(**values)


# --- create -------------------------------------------------------------------------------------


def test_records_created_through_the_api_are_audited_without_their_content(
    cast, client_for
) -> None:  # type: ignore[no-untyped-def]
    response = client_for("dispatcher").post(
        "/api/v1/calls/",
        {
            "call_type": "THEFT",
            "address": "5 Oak St",
            "latitude": 29.41,
            "longitude": -98.5,
            "caller_name": "Jane Roe",
            "caller_phone": "+1 210 555 0100",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    (created,) = events(AuditAction.CREATE, object_type="dispatch.call")
    call = Call.objects.get()
    assert (created.actor_username, created.object_id) == ("dispatcher1", str(call.pk))
    assert created.object_label == f"call {call.number}"
    assert created.details["caller_identity"] == ["caller_name", "caller_phone"]
    person = client_for("dispatcher").post(
        "/api/v1/persons/", {"last_name": "Zzperson"}, format="json"
    )
    assert person.status_code == 201
    (person_event,) = events(AuditAction.CREATE, object_type="dispatch.person")
    assert person_event.actor_username == "dispatcher1"
    assert person_event.details == {
        "sensitivity": Sensitivity.RESTRICTED,
        "intelligence_subject": False,
        "criminal_activity": "",
        "views_recorded": False,
    }
    # Names, phone numbers and plates stay in the records: auditors may not read those.
    text = repr([(e.object_label, e.details) for e in events()])
    assert "Jane Roe" not in text and "555 0100" not in text and "Zzperson" not in text


def test_notes_observations_vehicles_involvements_and_units_are_created_with_events(
    agency, cast
) -> None:  # type: ignore[no-untyped-def]
    dispatcher = cast["dispatcher"]
    call = new_call(agency, dispatcher)
    note = dispatch_services.premise_note_create(
        location=call.location, agency=agency, actor=dispatcher, text="Dog on premises"
    )
    observation = dispatch_services.observation_create(
        agency=agency, actor=cast["field"], category="nuisance", latitude=29.4, longitude=-98.5
    )
    vehicle, created = dispatch_services.vehicle_get_or_create(
        agency=agency, plate="ABC123", actor=dispatcher
    )
    again, created_again = dispatch_services.vehicle_get_or_create(
        agency=agency, plate="abc 123", actor=dispatcher
    )
    involvement = dispatch_services.involvement_create(
        actor=dispatcher, role="suspect", vehicle=vehicle, call=call
    )
    unit = dispatch_services.unit_create(agency=agency, call_sign="z9", actor=cast["admin"])
    assert created and not created_again and again.pk == vehicle.pk
    made = {
        (e.object_type, e.object_id)
        for e in events(AuditAction.CREATE)
        if e.object_type != "dispatch.call"
    }
    assert made == {
        ("dispatch.premisenote", str(note.pk)),
        ("dispatch.fieldobservation", str(observation.pk)),
        ("dispatch.vehicle", str(vehicle.pk)),  # once: finding it again changes nothing
        ("dispatch.involvement", str(involvement.pk)),
        ("dispatch.unit", str(unit.pk)),
    }
    (link,) = events(AuditAction.CREATE, object_type="dispatch.involvement")
    assert link.details["combination"] is True
    assert link.details["vehicle"] == vehicle.pk and link.details["call"] == call.pk
    assert events(object_type="dispatch.unit")[0].object_label == f"unit #{unit.pk}"


# --- change -------------------------------------------------------------------------------------


def test_a_call_edit_records_changed_fields_before_and_after(agency, cast, client_for) -> None:  # type: ignore[no-untyped-def]
    call = new_call(agency, cast["dispatcher"], priority=3)
    response = client_for("dispatcher").patch(
        f"/api/v1/calls/{call.pk}/",
        {"priority": 1, "caller_phone": "+1 210 555 0199", "narrative": call.narrative},
        format="json",
    )
    assert response.status_code == 200, response.content
    (change,) = events(AuditAction.CHANGE, object_type="dispatch.call")
    # Only what changed; caller identity named but not copied (the timeline keeps the values).
    assert change.details == {
        "changes": {"priority": [3, 1], "caller_phone": ["[redacted]", "[redacted]"]},
        "caller_identity": True,
    }
    assert change.actor_username == "dispatcher1"


def test_status_changes_assignments_and_close_record_status_before_and_after(agency, cast) -> None:  # type: ignore[no-untyped-def]
    dispatcher = cast["dispatcher"]
    call = new_call(agency, dispatcher)
    unit = UnitFactory(agency=agency, call_sign="A11")
    dispatch_services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    dispatch_services.unit_set_status(unit_id=unit.pk, actor=dispatcher, status="on_scene")
    dispatch_services.call_close(
        call_id=call.pk, actor=dispatcher, disposition=disposition("REPORT")
    )
    call_changes = [
        e.details["changes"] for e in events(AuditAction.CHANGE, object_type="dispatch.call")
    ]
    assert call_changes == [
        {"status": ["pending", "dispatched"]},
        {"status": ["dispatched", "on_scene"]},
        {"status": ["on_scene", "cleared"]},
        {"status": ["cleared", "closed"], "disposition": [None, "REPORT"]},
    ]
    unit_changes = [
        e.details["changes"]["status"]
        for e in events(AuditAction.CHANGE, object_type="dispatch.unit")
    ]
    assert unit_changes == [
        ["available", "dispatched"],
        ["dispatched", "on_scene"],
        ["on_scene", "available"],
    ]


# --- delete -------------------------------------------------------------------------------------


def test_erasing_the_demo_data_is_one_delete_event_with_counts(agency, cast) -> None:  # type: ignore[no-untyped-def]
    new_call(agency, cast["dispatcher"])
    plan = mock.Mock(users=[], agencies=[], units=[])
    removed = demo_writer.demo_remove(plan)
    (deleted,) = events(AuditAction.DELETE)
    assert deleted.details == {"removed": removed}
    assert deleted.actor_username == "system:seed_demo"


# --- export -------------------------------------------------------------------------------------


def test_the_audit_csv_export_is_itself_an_export_event(cast) -> None:  # type: ignore[no-untyped-def]
    # The one export path there is (no calls, findings or observations export exists yet).
    response = signed_in(cast["auditor"]).get("/governance/audit/export.csv")
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)  # the event is written as the file is produced
    (export,) = events(AuditAction.EXPORT)
    assert export.actor_username == "auditor1"


# --- assignment issue and dissemination ---------------------------------------------------------


def _unit_with_crew(agency: Any, cast: Any) -> Any:
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    return unit


def _assignment(agency: Any, cast: Any, windows: list[dict[str, Any]] | None = None) -> Any:
    finding = make_finding(agency)
    unit = _unit_with_crew(agency, cast)
    now = timezone.now().replace(microsecond=0)
    return tasking_services.assignment_create(
        actor=cast["supervisor"],
        finding_id=finding.pk,
        kind="directed_patrol",
        objective="ZZ-OBJECTIVE be seen on the block.",
        area=CIRCLE,
        windows=windows
        or [
            {
                "kind": "once",
                "start": now.isoformat(),
                "end": (now + dt.timedelta(hours=1)).isoformat(),
            }
        ],
        assignee_unit_id=unit.pk,
    )


def test_issuing_is_an_assignment_issue_and_a_dissemination_to_the_crew(agency, cast) -> None:  # type: ignore[no-untyped-def]
    draft = _assignment(agency, cast)
    (created,) = events(AuditAction.CREATE, object_type="tasking.assignment")
    assert created.details["assignee"] == f"unit #{draft.assignee_unit_id}"
    tasking_services.assignment_issue(assignment_id=draft.pk, actor=cast["supervisor"])
    (issue,) = events(AuditAction.ASSIGNMENT_ISSUE)
    assert issue.object_id == str(draft.pk) and issue.actor_username == "supervisor1"
    assert issue.details["changes"] == {"status": ["draft", "issued"]}
    assert issue.details["assignee_type"] == "unit"
    assert issue.details["assignee_id"] == draft.assignee_unit_id
    (sent,) = events(AuditAction.DISSEMINATE)
    assert sent.details["purpose"] == "assignment"
    assert sent.details["recipient"] == f"unit #{draft.assignee_unit_id}"
    assert sent.details["recipient_users"] == ["field1"]
    assert sent.details["finding"] == draft.finding_id
    tasking_services.assignment_cancel(
        assignment_id=draft.pk, actor=cast["supervisor"], reason="Called off"
    )
    (cancel,) = [e for e in events(AuditAction.CHANGE) if e.object_type == "tasking.assignment"]
    assert cancel.details["changes"] == {"status": ["issued", "cancelled"]}
    assert cancel.justification == "Called off"
    assert "ZZ-OBJECTIVE" not in repr([e.details for e in events()])


def test_finishing_records_the_outcome_as_a_status_change(agency, cast) -> None:  # type: ignore[no-untyped-def]
    draft = _assignment(agency, cast)
    tasking_services.assignment_issue(assignment_id=draft.pk, actor=cast["supervisor"])
    tasking_services.assignment_start(assignment_id=draft.pk, actor=cast["field"])
    tasking_services.assignment_finish(
        assignment_id=draft.pk, actor=cast["field"], outcome="completed"
    )
    steps = [
        e.details["changes"]["status"]
        for e in events(AuditAction.CHANGE, object_type="tasking.assignment")
    ]
    assert steps == [["issued", "in_progress"], ["in_progress", "completed"]]


def test_the_shift_briefing_is_one_dissemination_per_render(agency, cast) -> None:  # type: ignore[no-untyped-def]
    draft = _assignment(agency, cast)
    tasking_services.assignment_issue(assignment_id=draft.pk, actor=cast["supervisor"])
    before = len(events(AuditAction.DISSEMINATE))
    page = signed_in(cast["field"]).get("/tasking/briefing/")
    assert page.status_code == 200
    shown = events(AuditAction.DISSEMINATE)[before:]
    assert len(shown) == 1
    (briefing,) = shown
    assert briefing.details["recipient"] == "field1"
    assert briefing.details["purpose"] == "shift briefing"
    assert briefing.details["assignments"] == [draft.pk]
    assert draft.finding_id in briefing.details["findings"]
    assert set(briefing.details["shift"]) == {"start", "end", "time_zone"}


# --- views of sensitive records -----------------------------------------------------------------


def test_reading_a_person_is_logged_and_a_list_is_not(agency, cast, client_for) -> None:  # type: ignore[no-untyped-def]
    person = dispatch_services.person_create(agency=agency, last_name="Doe")
    client = client_for("dispatcher")
    assert client.get("/api/v1/persons/").status_code == 200
    assert events(AuditAction.VIEW) == []
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    (view,) = events(AuditAction.VIEW)
    assert (view.object_type, view.object_id) == ("dispatch.person", str(person.pk))
    assert view.object_label == f"person #{person.pk}"
    assert view.details == {"category": "person", "sensitivity": Sensitivity.RESTRICTED}
    # A refused read (another agency's, or missing) logs no consultation.
    assert client.get("/api/v1/persons/999999/").status_code == 404
    assert len(events(AuditAction.VIEW)) == 1


def test_vehicle_reads_are_logged_from_restricted_up(agency, client_for) -> None:  # type: ignore[no-untyped-def]
    routine, _ = dispatch_services.vehicle_get_or_create(
        agency=agency, plate="RTN1", sensitivity=Sensitivity.ROUTINE
    )
    restricted, _ = dispatch_services.vehicle_get_or_create(agency=agency, plate="RST1")
    client = client_for("dispatcher")
    assert client.get(f"/api/v1/vehicles/{routine.pk}/").status_code == 200
    assert client.get(f"/api/v1/vehicles/{restricted.pk}/").status_code == 200
    assert [e.object_id for e in events(AuditAction.VIEW)] == [str(restricted.pk)]


def test_caller_identity_reads_are_logged_only_when_shown(agency, cast, client_for) -> None:  # type: ignore[no-untyped-def]
    call = new_call(agency, cast["dispatcher"])
    quiet = new_call(agency, cast["dispatcher"], caller_name="", caller_phone="")
    assert client_for("analyst").get(f"/api/v1/calls/{call.pk}/").status_code == 200
    assert client_for("dispatcher").get(f"/api/v1/calls/{quiet.pk}/").status_code == 200
    assert events(AuditAction.VIEW) == []  # redacted for analysts; nothing to see on the other
    assert client_for("dispatcher").get(f"/api/v1/calls/{call.pk}/").status_code == 200
    (view,) = events(AuditAction.VIEW)
    assert view.details == {
        "category": "caller_identity",
        "fields": ["caller_name", "caller_phone"],
    }
    page = signed_in(cast["supervisor"]).get(f"/calls/{call.pk}/")
    assert page.status_code == 200
    assert len(events(AuditAction.VIEW)) == 2


def test_the_console_panel_logs_a_caller_read_once_per_window(agency, cast) -> None:  # type: ignore[no-untyped-def]
    call = new_call(agency, cast["dispatcher"])
    client = signed_in(cast["dispatcher"])
    for _ in range(3):  # the panel re-reads after every live update
        assert client.get(f"/console/calls/{call.pk}.json").status_code == 200
    assert len(events(AuditAction.VIEW)) == 1


def test_reading_an_entity_finding_is_logged_and_a_place_finding_is_not(
    agency, cast, client_for
) -> None:  # type: ignore[no-untyped-def]
    place = make_finding(agency)
    entity = make_finding(
        agency, kind=FindingKind.ENTITY, subject_key="entity:person:7:suspect", location=None
    )
    client = client_for("analyst")
    assert client.get(f"/api/v1/findings/{place.pk}/").status_code == 200
    assert events(AuditAction.VIEW) == []
    assert client.get(f"/api/v1/findings/{entity.pk}/").status_code == 200
    assert signed_in(cast["analyst"]).get(f"/patterns/findings/{entity.pk}/").status_code == 200
    views = events(AuditAction.VIEW)
    assert [(e.object_id, e.details["category"]) for e in views] == [
        (str(entity.pk), "finding")
    ] * 2
    assert "person:7" not in views[0].object_label


# --- bulk paths ---------------------------------------------------------------------------------


def test_an_analysis_run_writes_one_summary_event(agency) -> None:  # type: ignore[no-untyped-def]
    plant(agency)
    plant(agency, base=(29.60, -98.30), prefix="east")
    run = analyse(FindingKind.REPEAT_LOCATION, agency)
    made = Finding.objects.filter(first_run=run).count()
    assert made > 1
    (summary,) = events(object_type="intelligence.analysisrun")
    assert summary.action == AuditAction.CREATE
    assert summary.object_id == str(run.pk) and summary.actor_username == "system:analysis"
    assert summary.details["counts"]["created"] == made
    assert not events(object_type="intelligence.finding")


def test_a_csv_import_writes_one_summary_event(agency, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BEACON_TIME_ZONE = "America/Chicago"
    path = tmp_path / "calls.csv"
    shutil.copy(BEACON_CSV, path)
    calls_before = len(events(object_type="dispatch.call"))
    run_import(path)
    imported = events(object_type="dispatch.call")[calls_before:]
    assert len(imported) == 1
    (summary,) = imported
    assert summary.details["import"] is True and summary.details["source"] == "calls.csv"
    assert summary.details["imported"] == Call.objects.count() > 1


def test_avl_posts_are_not_audited(agency, cast, client_for) -> None:  # type: ignore[no-untyped-def]
    unit = _unit_with_crew(agency, cast)
    now = timezone.now()
    fixes = [
        {
            "latitude": 29.4,
            "longitude": -98.5 + i / 1000,
            "recorded_at": (now - dt.timedelta(seconds=10 * i)).isoformat(),
        }
        for i in range(5)
    ]
    before = AuditEvent.objects.count()
    response = client_for("field").post(
        f"/api/v1/units/{unit.pk}/positions/", {"positions": fixes}, format="json"
    )
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.count() == before


# --- the chain and transactions -----------------------------------------------------------------


def test_a_rolled_back_service_call_leaves_no_event(agency, cast) -> None:  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.count()
    # The event is written, then the push after it fails: the whole service rolls back.
    with (
        mock.patch("dispatch.services.realtime.publish_call", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        new_call(agency, cast["dispatcher"])
    assert AuditEvent.objects.count() == before
    assert not Call.objects.exists()
    with (
        pytest.raises(RuntimeError),
        mock.patch("dispatch.services.audit.record", side_effect=RuntimeError("trail unavailable")),
    ):
        dispatch_services.person_create(agency=agency, last_name="Doe")
    # The other way round too: no audit event, no record.
    assert not Person.objects.exists()


def test_the_chain_holds_after_a_mixed_sequence(agency, cast, client_for) -> None:  # type: ignore[no-untyped-def]
    dispatcher = cast["dispatcher"]
    call = new_call(agency, dispatcher)
    dispatch_services.call_update(call_id=call.pk, actor=dispatcher, changes={"priority": 1})
    dispatch_services.call_add_note(call_id=call.pk, actor=dispatcher, text="Caller rang back")
    person = dispatch_services.person_create(agency=agency, last_name="Doe", actor=dispatcher)
    dispatch_services.involvement_create(actor=dispatcher, role="witness", person=person, call=call)
    client_for("dispatcher").get(f"/api/v1/persons/{person.pk}/")
    draft = _assignment(agency, cast)
    tasking_services.assignment_issue(assignment_id=draft.pk, actor=cast["supervisor"])
    signed_in(cast["field"]).get("/tasking/briefing/")
    dispatch_services.call_set_status(
        call_id=call.pk, actor=dispatcher, status="closed", disposition=disposition("REPORT")
    )
    actions = {e.action for e in events()}
    assert {
        AuditAction.CREATE,
        AuditAction.CHANGE,
        AuditAction.VIEW,
        AuditAction.ASSIGNMENT_ISSUE,
        AuditAction.DISSEMINATE,
    } <= actions
    report = audit.verify_chain()
    assert report.intact and report.checked == AuditEvent.objects.count()
