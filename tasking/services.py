"""Every state change of the tasking domain. API views, pages and tasks all call these.

Each function is keyword-only, validates its input (``DomainError`` naming the field), is its own
transaction boundary, and publishes ``assignment.*`` events only after commit. Every transition
claims the row with a conditional UPDATE on the status (and version) it read, so two people
racing on one assignment cannot both win; the loser gets a 409 ``ConflictError`` with ``current``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import h3
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError, NotFoundError
from dispatch.geo import valid_point
from dispatch.models import FieldObservation, Unit
from dispatch.permissions import observations_visible_to
from governance import audit
from governance.access import can, may_write_agency, user_agency_id
from governance.choices import Action, AuditAction, Category
from governance.models import Agency, Membership
from intelligence import services as intelligence_services
from intelligence.choices import Decision, FindingStatus
from intelligence.models import Finding
from intelligence.permissions import access_finding
from tasking import briefing, realtime, selectors
from tasking.analysis import schedule
from tasking.choices import (
    ACKNOWLEDGE_FROM,
    CANCEL_FROM,
    FINISH_FROM,
    ISSUE_FROM,
    OUTCOME_STATUSES,
    REPORT_ON,
    START_FROM,
    STATUS_STAMP,
    AreaType,
    AssignmentKind,
    AssignmentStatus,
)
from tasking.models import Assignment, AssignmentEvent, AssignmentReport, Shift
from tasking.permissions import can_task

S = AssignmentStatus
MAX_OBJECTIVE = 5_000
MAX_NOTE = 5_000
MAX_WINDOWS = 100
MAX_CELLS = 500
MAX_POLYGON_POINTS = 200
RADIUS_M = (10, 5_000)
MAX_MINUTES_PER_VISIT = 12 * 60
MAX_VISITS_PER_WINDOW = 50
MAX_OBSERVATIONS_PER_REPORT = 50
CLAIM_ATTEMPTS = 3


# --- input checks --------------------------------------------------------------------------


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DomainError("Give a number.", field=field)
    return float(value)


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError(f"Give a whole number from {low} to {high}.", field=field)
    return value


def _validate_area(area: Any) -> dict[str, Any]:
    """A circle (point + radius), a set of H3 cells, or a polygon of [lat, lon] points."""
    if not isinstance(area, Mapping):
        raise DomainError("Give an object with a type: circle, cells or polygon.", field="area")
    kind = area.get("type")
    if kind == AreaType.CIRCLE:
        lat, lon = _number(area.get("latitude"), "area"), _number(area.get("longitude"), "area")
        if not valid_point(lat, lon):
            raise DomainError("Not a valid WGS84 point.", field="area")
        radius = _number(area.get("radius_m"), "area")
        if not RADIUS_M[0] <= radius <= RADIUS_M[1]:
            raise DomainError(
                f"radius_m must be {RADIUS_M[0]} to {RADIUS_M[1]} metres.", field="area"
            )
        return {"type": kind, "latitude": lat, "longitude": lon, "radius_m": radius}
    if kind == AreaType.CELLS:
        cells = area.get("cells")
        if not isinstance(cells, list) or not 1 <= len(cells) <= MAX_CELLS:
            raise DomainError(f"Give 1 to {MAX_CELLS} H3 cells.", field="area")
        if not all(isinstance(c, str) and len(c) <= 16 and h3.is_valid_cell(c) for c in cells):
            raise DomainError("Every cell must be an H3 cell id.", field="area")
        return {"type": kind, "cells": sorted(set(cells))}
    if kind == AreaType.POLYGON:
        points = area.get("points")
        if not isinstance(points, list) or not 3 <= len(points) <= MAX_POLYGON_POINTS:
            raise DomainError(
                f"A polygon needs 3 to {MAX_POLYGON_POINTS} [latitude, longitude] points.",
                field="area",
            )
        clean = []
        for point in points:
            if not isinstance(point, list | tuple) or len(point) != 2:
                raise DomainError("Each point is [latitude, longitude].", field="area")
            lat, lon = _number(point[0], "area"), _number(point[1], "area")
            if not valid_point(lat, lon):
                raise DomainError("Not a valid WGS84 point.", field="area")
            clean.append([lat, lon])
        return {"type": kind, "points": clean}
    raise DomainError("type must be circle, cells or polygon.", field="area")


def _validate_windows(windows: Any) -> list[dict[str, Any]]:
    """At least one window, each a spec ``tasking.analysis.schedule`` can parse; stored as given.

    The parser's errors start with the offending item (``windows[1].weekdays: ...``), so the
    message already says which window is wrong.
    """
    if not isinstance(windows, list) or not 1 <= len(windows) <= MAX_WINDOWS:
        raise DomainError(f"Give 1 to {MAX_WINDOWS} time windows.", field="windows")
    try:
        schedule.parse_windows(windows)
    except ValueError as exc:
        raise DomainError(str(exc), field="windows") from None
    return [dict(w) for w in windows]


def _validate_dosage(dosage: Any) -> dict[str, int]:
    """Empty (not applicable, e.g. a follow-up) or both minutes per visit and visits per window."""
    if dosage is None or dosage == {}:
        return {}
    if not isinstance(dosage, Mapping) or set(dosage) != {"minutes_per_visit", "visits_per_window"}:
        raise DomainError(
            "Give minutes_per_visit and visits_per_window (or nothing).", field="dosage"
        )
    return {
        "minutes_per_visit": _whole(
            dosage["minutes_per_visit"], "dosage", 1, MAX_MINUTES_PER_VISIT
        ),
        "visits_per_window": _whole(
            dosage["visits_per_window"], "dosage", 1, MAX_VISITS_PER_WINDOW
        ),
    }


def _text(value: Any, field: str, limit: int, *, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise DomainError("Give text.", field=field)
    if required and not text:
        raise DomainError("This is required.", field=field)
    if len(text) > limit:
        raise DomainError(f"At most {limit} characters.", field=field)
    return text


def _assignee(
    agency: Agency, unit_id: int | None, user_id: int | None, shift_id: int | None
) -> tuple[Unit | None, Any, Shift | None, list[Any]]:
    """Exactly one of unit, user or shift, of this agency; plus who will read the briefing."""
    given = [x for x in (unit_id, user_id, shift_id) if x is not None]
    if len(given) != 1:
        raise DomainError("Assign to exactly one of a unit, a user or a shift.", field="assignee")
    if unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id, agency=agency, active=True).first()
        if unit is None:
            raise DomainError("No such active unit in your agency.", field="assignee_unit")
        return unit, None, None, list(unit.users.filter(is_active=True))
    if user_id is not None:
        user = (
            get_user_model()
            .objects.filter(
                pk=user_id,
                is_active=True,
                pk__in=Membership.objects.filter(agency=agency).values("user_id"),
            )
            .first()
        )
        if user is None:
            raise DomainError("No such active user in your agency.", field="assignee_user")
        if not can(user, Action.VIEW, Category.ASSIGNMENT):
            # They would never see it: refuse now rather than issue into the void.
            raise DomainError("This user's role cannot receive assignments.", field="assignee_user")
        return None, user, None, [user]
    shift = Shift.objects.filter(pk=shift_id, agency=agency, active=True).first()
    if shift is None:
        raise DomainError("No such active shift in your agency.", field="assignee_shift")
    # Only those who may see assignments read it, so only they bound what the briefing says.
    audience = [
        u for u in selectors.shift_readers(shift) if can(u, Action.VIEW, Category.ASSIGNMENT)
    ]
    if not audience:
        # An empty roster would hold the assignment where no device ever shows it.
        raise DomainError(
            "Nobody on this shift (members, or people signed to its units) can receive "
            "assignments.",
            field="assignee_shift",
        )
    return None, None, shift, audience


def _finding(actor: Any, agency: Agency, finding_id: Any) -> Finding:
    try:
        finding = access_finding(actor, finding_id)
    except NotFoundError:
        raise DomainError("No such finding.", field="finding") from None
    if finding.agency_id != agency.pk:
        raise DomainError("The finding belongs to another agency.", field="finding")
    if finding.status != FindingStatus.ACCEPTED:
        raise DomainError(
            f"Only an accepted finding can be tasked; this one is {finding.status}.",
            field="finding",
        )
    # Human review, checked again here (the status alone could be set around finding_decide):
    # the latest decision is an acceptance by a named reviewer with a rationale, and for a
    # person's finding that reviewer is not its author.
    decision = finding.decisions.order_by("-decided_at", "-id").first()
    if (
        decision is None
        or decision.decision != Decision.ACCEPT
        or not decision.rationale.strip()
        or (finding.created_by_id is not None and decision.reviewer_id == finding.created_by_id)
    ):
        raise DomainError(
            "This finding has no acceptance by a reviewer other than its author, with a "
            "rationale; it cannot be tasked.",
            field="finding",
        )
    return finding


# --- lifecycle core ------------------------------------------------------------------------


def _current(assignment_id: int) -> dict[str, Any]:
    row = Assignment.objects.filter(pk=assignment_id).values("status", "version").first()
    return dict(row) if row else {}


def _transition(
    *,
    assignment_id: int,
    actor: Any,
    to: str,
    allowed_from: Iterable[str],
    note: str = "",
    verb: str,
) -> Assignment:
    """Claim the assignment from the exact status/version we read; one event per transition.

    Filtering on the status *and* version read (not just "status in allowed") records the true
    ``from`` status; if someone else moved the row meanwhile we re-read and retry while the new
    status is still allowed, and answer 409 with the current state once it is not.
    """
    allowed = set(allowed_from)
    for _ in range(CLAIM_ATTEMPTS):
        seen = Assignment.objects.filter(pk=assignment_id).values("status", "version").first()
        if seen is None:
            raise NotFoundError
        if seen["status"] not in allowed:
            break
        now = timezone.now()
        stamp, by = STATUS_STAMP[to]
        values: dict[str, Any] = {
            "status": to,
            stamp: now,
            by: _actor(actor),
            "version": F("version") + 1,
            "updated_at": now,
        }
        if to == S.IN_PROGRESS and seen["status"] == S.ISSUED:
            # Starting is also acknowledging: the board must not show "not acknowledged" for work
            # that is under way.
            values.update(acknowledged_at=now, acknowledged_by=_actor(actor))
        claimed = Assignment.objects.filter(
            pk=assignment_id, status=seen["status"], version=seen["version"]
        ).update(**values)
        if claimed:
            AssignmentEvent.objects.create(
                assignment_id=assignment_id,
                from_status=seen["status"],
                to_status=to,
                actor=_actor(actor),
                at=now,
                note=note,
            )
            assignment = Assignment.objects.select_related(
                "assignee_unit", "assignee_user", "assignee_shift"
            ).get(pk=assignment_id)
            issuing = to == S.ISSUED
            audit.record(
                action=AuditAction.ASSIGNMENT_ISSUE if issuing else AuditAction.CHANGE,
                actor=actor,
                actor_username="" if _actor(actor) else "system:tasking",
                obj=assignment,
                justification=note,
                details={
                    "changes": {"status": [seen["status"], to]},
                    **_assignee_details(assignment),
                },
            )
            return assignment
    current = _current(assignment_id)
    label = S(current["status"]).label.lower() if current else "gone"
    raise ConflictError(
        f"Cannot {verb}: the assignment is {label}.", field="status", current=current
    )


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _assignee_details(assignment: Assignment) -> dict[str, Any]:
    """Who the assignment goes to, for its audit events.

    A user is named by username (auditors may read user accounts); a unit or shift by id, since
    call signs and shift names belong to categories the auditor's role may not read.
    """
    if assignment.assignee_user_id:
        kind, label = "user", assignment.assignee_user.get_username()
    else:
        kind = "unit" if assignment.assignee_unit_id else "shift"
        label = f"{kind} #{getattr(assignment, f'assignee_{kind}_id')}"
    return {
        "assignee": label,
        "assignee_type": kind,
        "assignee_id": getattr(assignment, f"assignee_{kind}_id"),
        "finding": assignment.finding_id,
    }


def _recipients(assignment: Assignment) -> list[str]:
    """Usernames of the people whose devices receive the assignment (who was given the data)."""
    if assignment.assignee_user_id:
        return [assignment.assignee_user.get_username()]
    if assignment.assignee_unit_id:
        readers = assignment.assignee_unit.users.filter(is_active=True)
    else:
        readers = selectors.shift_readers(assignment.assignee_shift)
    return sorted(readers.values_list(get_user_model().USERNAME_FIELD, flat=True))


def _require_tasker(actor: Any, agency_id: int) -> None:
    if not (can_task(actor) and may_write_agency(actor, agency_id)):
        raise PermissionDenied("Only a supervisor of this agency may do this.")


# --- services ------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *,
    actor: Any,
    kind: str,
    objective: str,
    area: Any,
    windows: Any,
    dosage: Any = None,
    finding_id: int | None = None,
    assignee_unit_id: int | None = None,
    assignee_user_id: int | None = None,
    assignee_shift_id: int | None = None,
    priority: int = 3,
    issue: bool = False,
) -> Assignment:
    """Draft an assignment from an accepted finding (or a manual one), optionally issuing it at once."""
    if not can_task(actor):
        raise PermissionDenied("Only supervisors create assignments.")
    agency_id = user_agency_id(actor)
    if agency_id is None or not may_write_agency(actor, agency_id):
        raise PermissionDenied("Your account belongs to no agency.")
    agency = Agency.objects.get(pk=agency_id)
    if kind not in AssignmentKind.values:
        raise DomainError(f"Choose one of: {', '.join(AssignmentKind.values)}.", field="kind")
    objective = _text(objective, "objective", MAX_OBJECTIVE, required=True)
    finding = _finding(actor, agency, finding_id) if finding_id is not None else None
    clean_area = _validate_area(area)
    clean_windows = _validate_windows(windows)
    clean_dosage = _validate_dosage(dosage)
    priority = _whole(priority, "priority", 1, 5)
    unit, user, shift, audience = _assignee(
        agency, assignee_unit_id, assignee_user_id, assignee_shift_id
    )
    text = (
        briefing.finding_briefing(finding=finding, audience=audience, time_zone=agency.time_zone)
        if finding is not None
        else briefing.manual_briefing(objective=objective)
    )
    assignment = Assignment.objects.create(
        agency=agency,
        finding=finding,
        manual=finding is None,
        kind=kind,
        objective=objective,
        area=clean_area,
        windows=clean_windows,
        dosage=clean_dosage,
        assignee_unit=unit,
        assignee_user=user,
        assignee_shift=shift,
        priority=priority,
        briefing=text,
        created_by=actor,
    )
    AssignmentEvent.objects.create(
        assignment=assignment,
        to_status=S.DRAFT,
        actor=actor,
        at=timezone.now(),
        note="manual" if finding is None else f"from finding {finding.pk}",
    )
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=assignment,
        details={"kind": kind, "priority": priority, **_assignee_details(assignment)},
    )
    realtime.publish_assignment("assignment.created", assignment)
    if issue:
        return assignment_issue(assignment_id=assignment.pk, actor=actor)
    return assignment


@transaction.atomic
def assignment_issue(*, assignment_id: int, actor: Any) -> Assignment:
    """Send a draft to its assignee: from now on their devices hold it until it is finished."""
    _require_tasker(actor, _agency_of(assignment_id))
    assignment = _transition(
        assignment_id=assignment_id, actor=actor, to=S.ISSUED, allowed_from=ISSUE_FROM, verb="issue"
    )
    # Issuing delivers the briefing (intelligence from the finding) to the assignee's devices:
    # a dissemination, logged once per issue with its recipient and purpose (28 CFR 23.20(f)).
    audit.record(
        action=AuditAction.DISSEMINATE,
        actor=actor,
        obj=assignment,
        details={
            "purpose": "assignment",
            **_assignee_details(assignment),
            "recipient": _assignee_details(assignment)["assignee"],
            "recipient_users": _recipients(assignment),
        },
    )
    realtime.publish_assignment("assignment.issued", assignment)
    realtime.emit_assignment_webhook("assignment.issued", assignment)
    return assignment


@transaction.atomic
def assignment_acknowledge(*, assignment_id: int, actor: Any) -> Assignment:
    """The assignee has seen it. Idempotent: a repeat (a retried tap, a second device) changes nothing."""
    row = Assignment.objects.filter(pk=assignment_id).values("status", "acknowledged_at").first()
    if row is None:
        raise NotFoundError
    if row["acknowledged_at"] is not None and row["status"] != S.CANCELLED:
        return Assignment.objects.get(pk=assignment_id)
    try:
        assignment = _transition(
            assignment_id=assignment_id,
            actor=actor,
            to=S.ACKNOWLEDGED,
            allowed_from=ACKNOWLEDGE_FROM,
            verb="acknowledge",
        )
    except ConflictError:
        # Lost a race to another device's acknowledgement (or a start): same outcome, no error.
        again = Assignment.objects.get(pk=assignment_id)
        if again.acknowledged_at is not None and again.status != S.CANCELLED:
            return again
        raise
    realtime.publish_assignment("assignment.acknowledged", assignment)
    return assignment


@transaction.atomic
def assignment_start(*, assignment_id: int, actor: Any) -> Assignment:
    """Work has begun (acknowledging too, if nobody had)."""
    assignment = _transition(
        assignment_id=assignment_id,
        actor=actor,
        to=S.IN_PROGRESS,
        allowed_from=START_FROM,
        verb="start",
    )
    realtime.publish_assignment("assignment.started", assignment)
    return assignment


@transaction.atomic
def assignment_finish(
    *, assignment_id: int, actor: Any, outcome: str, note: str = ""
) -> Assignment:
    """Close with an outcome: completed, partially completed or missed."""
    if outcome not in OUTCOME_STATUSES:
        raise DomainError(f"Choose one of: {', '.join(sorted(OUTCOME_STATUSES))}.", field="outcome")
    note = _text(note, "note", MAX_NOTE, required=False)
    assignment = _transition(
        assignment_id=assignment_id,
        actor=actor,
        to=outcome,
        allowed_from=FINISH_FROM,
        note=note,
        verb="finish",
    )
    realtime.publish_assignment("assignment.finished", assignment)
    realtime.emit_assignment_webhook("assignment.completed", assignment)
    return assignment


@transaction.atomic
def assignment_cancel(*, assignment_id: int, actor: Any, reason: str = "") -> Assignment:
    """Withdraw an assignment (a supervisor's decision); the devices drop it."""
    _require_tasker(actor, _agency_of(assignment_id))
    reason = _text(reason, "reason", MAX_NOTE, required=False)
    assignment = _transition(
        assignment_id=assignment_id,
        actor=actor,
        to=S.CANCELLED,
        allowed_from=CANCEL_FROM,
        note=reason,
        verb="cancel",
    )
    realtime.publish_assignment("assignment.cancelled", assignment)
    return assignment


@transaction.atomic
def assignment_report(
    *,
    assignment_id: int,
    actor: Any,
    notes: str,
    contacts_made: int = 0,
    observation_ids: Iterable[int] = (),
    client_ref: str = "",
) -> AssignmentReport:
    """File a report-back from the field; re-sending the same ``client_ref`` stores it once."""
    notes = _text(notes, "notes", MAX_NOTE, required=True)
    contacts_made = _whole(contacts_made, "contacts_made", 0, 10_000)
    client_ref = _text(client_ref, "client_ref", 64, required=False)
    ids = list(dict.fromkeys(observation_ids))
    if len(ids) > MAX_OBSERVATIONS_PER_REPORT:
        raise DomainError(
            f"At most {MAX_OBSERVATIONS_PER_REPORT} observations.", field="observation_ids"
        )
    assignment = Assignment.objects.select_for_update(no_key=True).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFoundError
    if assignment.status not in REPORT_ON:
        raise ConflictError(
            f"Cannot report on a {assignment.get_status_display().lower()} assignment.",
            field="status",
            current={"status": assignment.status, "version": assignment.version},
        )
    if client_ref:
        existing = AssignmentReport.objects.filter(
            assignment=assignment, client_ref=client_ref
        ).first()
        if existing is not None:
            return existing
    observations: list[FieldObservation] = []
    if ids:
        # Only the reporter's own agency's observations, and only ones they may see.
        observations = list(
            observations_visible_to(actor).filter(pk__in=ids, agency_id=user_agency_id(actor))
        )
        if len(observations) != len(ids):
            raise DomainError("No such observation in your agency.", field="observation_ids")
    try:
        with transaction.atomic():
            report = AssignmentReport.objects.create(
                assignment=assignment,
                author=actor,
                at=timezone.now(),
                notes=notes,
                contacts_made=contacts_made,
                client_ref=client_ref,
            )
            if observations:
                # With the report, in one transaction: a report never half-attached.
                report.observations.set(observations)
                if assignment.finding_id is not None:
                    # What the officer saw while working the finding is its evidence too.
                    intelligence_services.finding_evidence_add(
                        finding_id=assignment.finding_id,
                        observation_ids=[o.pk for o in observations],
                    )
            audit.record(
                action=AuditAction.CREATE,
                actor=actor,
                obj=report,
                agency_id=assignment.agency_id,
                details={
                    "assignment": assignment.pk,
                    "contacts_made": contacts_made,
                    "observations": [o.pk for o in observations],
                    # Observations added to the finding's evidence: a combination.
                    **({"finding": assignment.finding_id} if observations else {}),
                },
            )
    except IntegrityError:
        # A concurrent retry of the same report won the unique client_ref: return that one.
        return AssignmentReport.objects.get(assignment=assignment, client_ref=client_ref)
    realtime.publish_assignment("assignment.reported", assignment)
    return report


SUMMARY_KEYS = ("total", "past", "met", "measured", "next_start")


@transaction.atomic
def assignment_schedule_close(*, assignment_id: int, summary: Mapping[str, Any]) -> Assignment:
    """After the last window: record the measured dosage; mark missed if no window met it.

    A system transition (attributed to no user, with a note saying why). Only an issued,
    acknowledged or in-progress assignment is touched: one somebody finished keeps their
    outcome (``ConflictError``, like any race). Assignments with some window met, or whose
    dosage cannot be measured (a shift, no dosage), are left for the supervisor to finish.
    """
    clean = {k: summary[k] for k in SUMMARY_KEYS}
    now = timezone.now()
    recorded = Assignment.objects.filter(pk=assignment_id, status__in=FINISH_FROM).update(
        dosage_summary=clean, updated_at=now
    )
    if not recorded:
        current = _current(assignment_id)
        if not current:
            raise NotFoundError
        raise ConflictError(
            f"Cannot close by schedule: the assignment is {S(current['status']).label.lower()}.",
            field="status",
            current=current,
        )
    if not (clean["measured"] and clean["past"] > 0 and clean["met"] == 0):
        return Assignment.objects.get(pk=assignment_id)
    assignment = _transition(
        assignment_id=assignment_id,
        actor=None,
        to=S.MISSED,
        allowed_from=FINISH_FROM,
        note=(
            f"Marked missed by the schedule: no window met its dosage "
            f"(0 of {clean['past']}, from AVL)."
        ),
        verb="mark missed",
    )
    realtime.publish_assignment("assignment.finished", assignment)
    realtime.emit_assignment_webhook("assignment.completed", assignment)
    return assignment


def _agency_of(assignment_id: int) -> int:
    agency_id = (
        Assignment.objects.filter(pk=assignment_id).values_list("agency_id", flat=True).first()
    )
    if agency_id is None:
        raise NotFoundError
    return agency_id
