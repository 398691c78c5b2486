"""Realtime events of the tasking domain: "an assignment changed", for devices and the board.

Only ``services`` call this, and only through ``publish_on_commit``. Events carry ids and status
only; a device or board that receives one re-reads through the access-checked API, and every
event is also a row ``assignments/pending/`` lists again, so a lost push loses nothing.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from beacon_core.realtime import publish_on_commit
from dispatch.realtime import board_group, unit_group, user_group
from governance import webhooks
from tasking.choices import AssignmentStatus
from tasking.models import Shift

AssignmentEventType = Literal[
    "assignment.created",
    "assignment.issued",
    "assignment.acknowledged",
    "assignment.started",
    "assignment.finished",
    "assignment.cancelled",
    "assignment.reported",
]


class AssignmentEventPayload(TypedDict):
    type: AssignmentEventType
    assignment_id: int
    agency_id: int
    status: str
    version: int
    unit_id: int | None
    user_id: int | None
    shift_id: int | None


def assignment_groups(assignment: Any) -> list[str]:
    """The agency's board, plus the assignee's devices once the assignment has left draft."""
    groups = [board_group(assignment.agency_id)]
    if assignment.status == AssignmentStatus.DRAFT:
        return groups  # a draft is the supervisor's business only
    if assignment.assignee_unit_id:
        groups.append(unit_group(assignment.assignee_unit_id))
    elif assignment.assignee_user_id:
        groups.append(user_group(assignment.assignee_user_id))
    elif assignment.assignee_shift_id:
        # The roster as it is now: members' own devices, and whoever is signed to its units.
        shift_id = assignment.assignee_shift_id
        members = Shift.members.through.objects.filter(shift_id=shift_id)
        units = Shift.units.through.objects.filter(shift_id=shift_id)
        groups.extend(user_group(pk) for pk in members.values_list("user_id", flat=True))
        groups.extend(unit_group(pk) for pk in units.values_list("unit_id", flat=True))
    return groups


def publish_assignment(kind: AssignmentEventType, assignment: Any) -> None:
    """Tell the board and the assignee's devices that an assignment changed (after commit)."""
    payload: AssignmentEventPayload = {
        "type": kind,
        "assignment_id": assignment.pk,
        "agency_id": assignment.agency_id,
        "status": assignment.status,
        "version": assignment.version,
        "unit_id": assignment.assignee_unit_id,
        "user_id": assignment.assignee_user_id,
        "shift_id": assignment.assignee_shift_id,
    }
    publish_on_commit(assignment_groups(assignment), payload)


def emit_assignment_webhook(
    event_type: Literal["assignment.issued", "assignment.completed"], assignment: Any
) -> None:
    """Queue an assignment webhook: ids, kind, status and times; never the objective, briefing,
    area or who the assignee is (the unit/user stay inside Beacon)."""
    webhooks.emit_on_commit(
        event_type, assignment.agency_id, lambda: _assignment_data(event_type, assignment)
    )


def _assignment_data(event_type: str, assignment: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "assignment": {
            "id": assignment.pk,
            "kind": assignment.kind,
            "status": assignment.status,
            "priority": assignment.priority,
            "finding_id": assignment.finding_id,
            "issued_at": assignment.issued_at.isoformat() if assignment.issued_at else None,
        }
    }
    if event_type == "assignment.completed":
        finished = assignment.finished_at
        data["assignment"]["finished_at"] = finished.isoformat() if finished else None
    return data
