"""The records the authorization matrix requests: one of each protected kind in the cast's agency,
and the same kinds where a role may not see them (another agency's, above a role's sensitivity,
another unit's assignment), all made through the services where one exists.

``build_world`` runs once per test module (see ``test_authorization_matrix.world``) inside an
outer transaction that is rolled back at the end of the module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from dispatch import services as dispatch_services
from dispatch.models import CallType, DispatchSettings, Location
from dispatch.reference_data import load_defaults
from governance import audit
from governance.choices import AuditAction, Category, Sensitivity
from governance.models import AgencyShare
from governance.services import roles_ensure
from intelligence.choices import Decision, FindingKind, FindingStatus
from intelligence.models import AnalysisRun, Finding, FindingDecision, FindingOutcome
from tasking import services as tasking_services
from tests.factories import AgencyFactory, LocationFactory, UnitFactory, UserFactory

ROLES = ("dispatcher", "field", "supervisor", "analyst", "admin", "auditor")
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


# Text of records above, and the roles that may see it; every other role's pages must not show it.
_SUPERVISION = frozenset({"supervisor", "analyst"})
SENTINELS: dict[str, frozenset[str]] = {
    # caller identity is its own category (analysts and admins see calls without it)
    "Jane Roe": frozenset({"dispatcher", "field", "supervisor"}),
    "555 0142": frozenset({"dispatcher", "field", "supervisor"}),
    # confidential records of the cast's own agency
    "ZZ-SECRET-NOTE": _SUPERVISION,
    "ZZ-SECRET-OBS": _SUPERVISION,
    "Zzsecretperson": _SUPERVISION,
    "SEC999": _SUPERVISION,
    # another unit's assignment: not for the field user
    "ZZ-OTHER-UNIT-ASSIGNMENT": _SUPERVISION,
    # the neighbouring agency's records: nobody in the cast
    "Zzneighbourcaller": frozenset(),
    "ZZ-NEIGHBOUR-CALL": frozenset(),
    "ZZ-NEIGHBOUR-NOTE": frozenset(),
    "ZZ-NEIGHBOUR-OBS": frozenset(),
    "Zzneighbourperson": frozenset(),
    "NNN111": frozenset(),
    "ZZ-NEIGHBOUR-FINDING": frozenset(),
    "ZZ-NEIGHBOUR-ASSIGNMENT": frozenset(),
    "ZNEIGH1": frozenset(),
    "ZZ-NEIGHBOUR-ALERT": frozenset(),
    "ZZ-NEIGHBOUR-GROUP": frozenset(),
    # a finding limited to a need-to-know group nobody in the cast is in
    "ZZ-NEED-TO-KNOW-FINDING": frozenset(),
}


@dataclass
class World:
    users: dict[str, Any]
    # kind -> id of the record in the cast's own agency (what "ok" answers are about)
    own: dict[str, int]
    # kind -> {variant: id} of records that exist but that some roles may not see
    hidden: dict[str, dict[str, int]] = field(default_factory=dict)
    # "app_model" -> id of an instance, for the admin's object pages
    admin_objects: dict[str, int] = field(default_factory=dict)
    # role -> session key of a signed-in session (made once; see the test module's ``world``)
    sessions: dict[str, str] = field(default_factory=dict)
    sentinels: dict[str, frozenset[str]] = field(default_factory=dict)


def _finding(
    agency: Any, location: Location, key: str, explanation: str = "Seven burglaries."
) -> Finding:
    now = timezone.now()
    finding = Finding.objects.create(
        agency=agency,
        kind=FindingKind.REPEAT_LOCATION,
        subject_key=f"{location.address_key}|{key}",
        location=location,
        latitude=location.latitude,
        longitude=location.longitude,
        window_start=now - dt.timedelta(days=90),
        window_end=now,
        statistics={"count": 7, "expected": 1.2, "p": 0.001},
        explanation=explanation,
        status=FindingStatus.ACCEPTED,
    )
    # The acceptance tasking checks for (a reviewer and a rationale), as finding_decide leaves it.
    FindingDecision.objects.create(
        finding=finding,
        decision=Decision.ACCEPT,
        rationale="Matrix world: accepted.",
        reviewer=_reviewer(agency),
        decided_at=now,
    )
    return finding


def _reviewer(agency: Any) -> Any:
    user, _ = get_user_model().objects.get_or_create(username=f"matrix-reviewer-{agency.pk}")
    return user


def _run(agency: Any) -> AnalysisRun:
    now = timezone.now()
    return AnalysisRun.objects.create(
        agency=agency,
        kind=FindingKind.REPEAT_LOCATION,
        method="matrix",
        method_version="1",
        as_of=now,
        status="succeeded",
        started_at=now,
        finished_at=now,
        duration_ms=1,
    )


def _assignment(actor: Any, finding: Finding, unit: Any, objective: str = "Be seen.") -> Any:
    draft = tasking_services.assignment_create(
        actor=actor,
        finding_id=finding.pk,
        kind="directed_patrol",
        objective=objective,
        area=CIRCLE,
        windows=WINDOWS,
        dosage={"minutes_per_visit": 15, "visits_per_window": 2},
        assignee_unit_id=unit.pk,
    )
    return tasking_services.assignment_issue(assignment_id=draft.pk, actor=actor)


def build_world() -> World:
    """Create the cast and one record of every kind (own, and hidden variants)."""
    load_defaults()
    roles_ensure()
    agency = AgencyFactory(code="default")
    neighbour = AgencyFactory(code="neighbour", name="Neighbouring agency")
    third = AgencyFactory(code="third", name="Third agency")
    users = {role: UserFactory(username=f"{role}1", roles=[role], agency=agency) for role in ROLES}
    n_super = UserFactory(username="n-supervisor", roles=["supervisor"], agency=neighbour)
    n_disp = UserFactory(username="n-dispatcher", roles=["dispatcher"], agency=neighbour)
    # A share that concerns neither the cast's agency nor the neighbour's records it sees.
    share = AgencyShare.objects.create(owner=third, viewer=neighbour, category=Category.CALL)

    theft = CallType.objects.get(code="THEFT")
    location = LocationFactory()
    call = dispatch_services.call_create(
        agency=agency,
        actor=users["dispatcher"],
        call_type=theft,
        address="123 North Main Street",
        latitude=29.42,
        longitude=-98.49,
        caller_name="Jane Roe",
        caller_phone="+1 210 555 0142",
        narrative="Bicycle taken from porch.",
    )
    # Places are shared: the neighbour's call is at the same address.
    n_call = dispatch_services.call_create(
        agency=neighbour,
        actor=n_disp,
        call_type=theft,
        address="123 North Main Street",
        latitude=29.42,
        longitude=-98.49,
        caller_name="Zzneighbourcaller",
        narrative="ZZ-NEIGHBOUR-CALL",
    )
    location = call.location or location
    # Caller identity also travels in the timeline: a second caller, and an edit of the name.
    dispatch_services.call_attach(
        call_id=call.pk, actor=users["dispatcher"], text="Second caller.", caller_name="Jane Roe"
    )
    dispatch_services.call_update(
        call_id=call.pk, actor=users["dispatcher"], changes={"caller_phone": "+1 210 555 0142 x1"}
    )
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(users["field"])
    other_unit = UnitFactory(agency=agency, call_sign="B22")
    # The field user's unit is on the call, so the phone page shows it (timeline, people, hazards).
    dispatch_services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=users["dispatcher"])
    n_unit = UnitFactory(agency=neighbour, call_sign="ZNEIGH1")
    note = dispatch_services.premise_note_create(
        location=location, agency=agency, actor=users["dispatcher"], text="Dog in yard."
    )
    secret_note = dispatch_services.premise_note_create(
        location=location,
        agency=agency,
        actor=users["supervisor"],
        text="ZZ-SECRET-NOTE",
        sensitivity=Sensitivity.CONFIDENTIAL,
    )
    n_note = dispatch_services.premise_note_create(
        location=location, agency=neighbour, actor=n_disp, text="ZZ-NEIGHBOUR-NOTE"
    )

    def observation(
        ag: Any, actor: Any, sensitivity: int = Sensitivity.ROUTINE, text: str = "Seen."
    ) -> Any:
        return dispatch_services.observation_create(
            agency=ag,
            actor=actor,
            category="suspicious_vehicle",
            narrative=text,
            latitude=29.42,
            longitude=-98.49,
            sensitivity=sensitivity,
        )

    obs = observation(agency, users["field"])
    n_obs = observation(neighbour, n_disp, text="ZZ-NEIGHBOUR-OBS")
    secret_obs = observation(
        agency, users["supervisor"], Sensitivity.CONFIDENTIAL, text="ZZ-SECRET-OBS"
    )
    person = dispatch_services.person_create(agency=agency, last_name="Doe", first_name="John")
    n_person = dispatch_services.person_create(agency=neighbour, last_name="Zzneighbourperson")
    secret_person = dispatch_services.person_create(
        agency=agency, last_name="Zzsecretperson", sensitivity=Sensitivity.CONFIDENTIAL
    )
    vehicle, _ = dispatch_services.vehicle_get_or_create(agency=agency, plate="ABC123")
    n_vehicle, _ = dispatch_services.vehicle_get_or_create(agency=neighbour, plate="NNN111")
    secret_vehicle, _ = dispatch_services.vehicle_get_or_create(
        agency=agency, plate="SEC999", sensitivity=Sensitivity.CONFIDENTIAL
    )

    for linked in (
        {"person": person},
        {"person": secret_person},
        {"vehicle": vehicle},
        {"vehicle": secret_vehicle},
    ):
        dispatch_services.involvement_create(
            actor=users["supervisor"], role="subject", call=call, **linked
        )
    for linked in ({"person": n_person}, {"vehicle": n_vehicle}):
        dispatch_services.involvement_create(actor=n_disp, role="subject", call=n_call, **linked)
    dispatch_services.involvement_create(
        actor=users["supervisor"], role="subject", observation=obs, person=secret_person
    )

    finding = _finding(agency, location, "own")
    n_finding = _finding(neighbour, LocationFactory(), "neighbour", "ZZ-NEIGHBOUR-FINDING")
    run, n_run = _run(agency), _run(neighbour)
    assignment = _assignment(users["supervisor"], finding, unit)
    other_assignment = _assignment(
        users["supervisor"], finding, other_unit, "ZZ-OTHER-UNIT-ASSIGNMENT"
    )
    n_assignment = _assignment(n_super, n_finding, n_unit, "ZZ-NEIGHBOUR-ASSIGNMENT")
    report = tasking_services.assignment_report(
        assignment_id=other_assignment.pk, actor=users["supervisor"], notes="Walked the block."
    )
    now = timezone.now()
    outcome = FindingOutcome.objects.create(
        finding=finding,
        period_start=now - dt.timedelta(days=60),
        period_end=now - dt.timedelta(days=30),
        before_start=now - dt.timedelta(days=90),
        target_before=7,
        target_after=2,
        buffer_before=1,
        buffer_after=1,
        control_before=3,
        control_after=3,
        verdict="fell",
        explanation="Fewer calls after.",
        evaluated_at=now,
        evaluated_by=users["supervisor"],
    )
    crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    interval = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    periodic = PeriodicTask.objects.create(
        name="matrix-task", task="beacon.matrix", interval=interval, enabled=False
    )
    # pk=1 explicitly (the singleton's constraint): on PostgreSQL the id sequence is not rolled
    # back with an earlier module's world, so a plain create() would draw id 2.
    settings_row = DispatchSettings.objects.order_by(
        "pk"
    ).first() or DispatchSettings.objects.create(pk=1)

    audit_event = audit.record(
        action=AuditAction.VIEW, actor=users["dispatcher"], object_type="matrix", object_id=1
    )

    world = World(
        users=users,
        own={
            "call": call.pk,
            "unit": unit.pk,
            "location": location.pk,
            "observation": obs.pk,
            "person": person.pk,
            "vehicle": vehicle.pk,
            "finding": finding.pk,
            "run": run.pk,
            "assignment": assignment.pk,
            "user": users["dispatcher"].pk,
            "audit_event": audit_event.pk,
        },
        hidden={
            "call": {"other_agency": n_call.pk},
            "unit": {"other_agency": n_unit.pk},
            "observation": {"other_agency": n_obs.pk, "confidential": secret_obs.pk},
            "person": {"other_agency": n_person.pk, "confidential": secret_person.pk},
            "vehicle": {"other_agency": n_vehicle.pk, "confidential": secret_vehicle.pk},
            "finding": {"other_agency": n_finding.pk},
            "run": {"other_agency": n_run.pk},
            "assignment": {"other_agency": n_assignment.pk, "other_unit": other_assignment.pk},
            "admin:dispatch_unit": {"other_agency": n_unit.pk},
            "admin:dispatch_premisenote": {
                "other_agency": n_note.pk,
                "confidential": secret_note.pk,
            },
        },
    )
    objects = {
        "auth_user": users["dispatcher"].pk,
        "auth_group": Group.objects.get(name="dispatcher").pk,
        "governance_agency": agency.pk,
        "governance_agencyshare": share.pk,
        "dispatch_calltype": theft.pk,
        "dispatch_disposition": apps.get_model("dispatch", "Disposition").objects.first().pk,
        "dispatch_unit": unit.pk,
        "dispatch_location": location.pk,
        "dispatch_premisenote": note.pk,
        "dispatch_dispatchsettings": settings_row.pk,
        "dispatch_observationrequirement": apps.get_model("dispatch", "ObservationRequirement")
        .objects.create(category="suspicious_vehicle", required_fields=["vehicles"])
        .pk,
        "intelligence_finding": finding.pk,
        "intelligence_findingoutcome": outcome.pk,
        "intelligence_analysisrun": run.pk,
        "tasking_assignment": assignment.pk,
        "tasking_assignmentevent": assignment.events.first().pk,
        "tasking_assignmentreport": report.pk,
        "governance_auditevent": audit_event.pk,
        "django_celery_beat_periodictask": periodic.pk,
        "django_celery_beat_crontabschedule": crontab.pk,
        "django_celery_beat_intervalschedule": interval.pk,
    }
    world.admin_objects = objects
    _newer_records(world, agency, neighbour, unit, n_disp, location)
    world.sentinels = SENTINELS

    return world


def _model(label: str) -> Any:
    """A model of work that may not have landed yet in this checkout (None if absent)."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _newer_records(
    world: World, agency: Any, neighbour: Any, unit: Any, n_disp: Any, location: Location
) -> None:
    """Shifts, need-to-know groups and personal grants: recent models, made only where they exist (their routes'
    matrix entries are skipped, and reported stale, where they do not)."""
    shift_model = _model("tasking.Shift")
    if shift_model is not None:
        # Rosters are kept in the admin, so they are made directly.
        shift = shift_model.objects.create(
            agency=agency, name="Nights", starts_at=dt.time(22), ends_at=dt.time(6)
        )
        shift.units.add(unit)
        n_shift = shift_model.objects.create(
            agency=neighbour, name="Nights", starts_at=dt.time(22), ends_at=dt.time(6)
        )
        world.own["shift"] = shift.pk
        world.hidden["shift"] = {"other_agency": n_shift.pk}
        world.hidden["admin:tasking_shift"] = {"other_agency": n_shift.pk}
        world.admin_objects["tasking_shift"] = shift.pk
    group_model = _model("governance.NeedToKnowGroup")
    if group_model is not None:
        group = group_model.objects.create(agency=agency, name="Matrix group")
        n_group = group_model.objects.create(agency=neighbour, name="ZZ-NEIGHBOUR-GROUP")
        world.admin_objects["governance_needtoknowgroup"] = group.pk
        world.hidden["admin:governance_needtoknowgroup"] = {"other_agency": n_group.pk}
        # A finding at the call's place limited to a group nobody in the cast is in.
        limited = _finding(agency, location, "limited", "ZZ-NEED-TO-KNOW-FINDING")
        limited.need_to_know.add(group)
    grant_model = _model("governance.UserGrant")
    if grant_model is not None:

        def grant(user: Any) -> Any:
            return grant_model.objects.create(
                user=user,
                category=Category.CALL,
                action="export",
                max_sensitivity=Sensitivity.ROUTINE,
                reason="Matrix.",
                granted_at=timezone.now(),
            )

        world.own["grant"] = grant(world.users["dispatcher"]).pk
        world.hidden["grant"] = {"other_agency": grant(n_disp).pk}
    throttle_model = _model("governance.LoginThrottle")
    if throttle_model is not None:

        def lock(user: Any) -> Any:
            return throttle_model.objects.create(
                key=f"user:{user.username}",
                failures=5,
                first_failure_at=timezone.now(),
                locked_until=timezone.now() + dt.timedelta(minutes=10),
            )

        world.own["lock"] = lock(world.users["dispatcher"]).pk
        world.hidden["lock"] = {"other_agency": lock(n_disp).pk}
    device_model = _model("governance.TotpDevice")
    if device_model is not None:

        def device(user: Any) -> Any:
            now = timezone.now()
            return device_model.objects.create(
                user=user, secret="JBSWY3DPEHPK3PXP", created_at=now, confirmed_at=now
            )

        world.own["totp_user"] = device(world.users["dispatcher"]).user_id
        world.hidden["totp_user"] = {"other_agency": device(n_disp).user_id}

    hold_model = _model("governance.LegalHold")
    if hold_model is not None:

        def hold(on_agency: Any, unit_id: int) -> Any:
            return hold_model.objects.create(
                object_type="dispatch.unit",
                object_id=unit_id,
                agency=on_agency,
                reason="Matrix.",
                placed_at=timezone.now(),
            )

        world.own["hold"] = hold(agency, unit.pk).pk
        world.hidden["hold"] = {"other_agency": hold(neighbour, unit.pk + 1_000_000).pk}
    webhook_model = _model("governance.Webhook")
    if webhook_model is not None:

        def webhook(on_agency: Any) -> Any:
            return webhook_model.objects.create(
                agency=on_agency,
                name=f"Matrix hook {on_agency.code}",
                url="https://hooks.example.org/beacon",
                secret="whsec_matrix",
                events=["call.created"],
            )

        world.own["webhook"] = webhook(agency).pk
        world.hidden["webhook"] = {"other_agency": webhook(neighbour).pk}

    alert_model = _model("dispatch.PartnerAlert")
    if alert_model is not None:
        from dispatch.alerts.services import alert_receive
        from dispatch.models import AlertFeed

        def alert(on_agency: Any, headline: str) -> Any:
            now = timezone.now()
            sent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
            expires = (now + dt.timedelta(days=2)).isoformat(timespec="seconds")
            xml = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>matrix-{on_agency.pk}</identifier><sender>partner@example.org</sender>
<sent>{sent}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><category>Safety</category><event>Gas leak</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Observed</certainty><expires>{expires}</expires>
<headline>{headline}</headline><area><areaDesc>Matrix block</areaDesc>
<polygon>29.40,-98.50 29.40,-98.48 29.44,-98.48 29.44,-98.50 29.40,-98.50</polygon>
</area></info></alert>"""
            return alert_receive(agency_id=on_agency.pk, data=xml).alert

        world.own["alert"] = alert(agency, "Matrix partner alert").pk
        world.hidden["alert"] = {"other_agency": alert(neighbour, "ZZ-NEIGHBOUR-ALERT").pk}
        feed = AlertFeed.objects.create(agency=agency, name="Feed", url="http://127.0.0.1:9/")
        n_feed = AlertFeed.objects.create(agency=neighbour, name="N", url="http://127.0.0.1:9/")
        world.admin_objects["dispatch_alertfeed"] = feed.pk
        world.hidden["admin:dispatch_alertfeed"] = {"other_agency": n_feed.pk}
