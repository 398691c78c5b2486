"""Realtime events of the dispatch domain: typed payloads and the groups they go to.

Only services call these; everything is sent after the writer's transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

from django.db import transaction

from beacon_core import realtime as core_realtime
from beacon_core.realtime import Coalescer, GroupBatcher
from governance import webhooks
from governance.choices import Category

DISPATCH_GROUP = "dispatch"

# Events the intelligence app sends through the same agency groups. A console that may see an
# agency's calls must not receive its finding events unless it may also see its findings, so
# the consumer checks each event against the category named here (anything else is a call event).
RUN_FINISHED = "analysis_run_finished"
FINDING_EVENT_TYPES = frozenset({RUN_FINISHED})


# Tasking events ("assignment.issued", ...) travel through the same groups; the consumer sends the
# agency copy only to those who may see the agency's assignments, the unit/user copy to assignees.
ASSIGNMENT_EVENT_PREFIX = "assignment."


def event_category(event: dict[str, Any]) -> str:
    """The data category whose view rights decide who may receive ``event``."""
    kind = str(event.get("type", ""))
    if kind.startswith(ASSIGNMENT_EVENT_PREFIX):
        return Category.ASSIGNMENT
    return Category.FINDING if kind in FINDING_EVENT_TYPES else Category.CALL


# Who receives the agency-wide copy of a category's events. The app owning a category registers
# its rule (tasking: only those who may see the whole agency's assignments), so dispatch imports
# no later app. Calls and findings go to everyone who may view them; any other category without
# a rule goes to nobody (fail closed).
_agency_audience: dict[str, Callable[[Any], bool]] = {}


def register_agency_audience(category: str, rule: Callable[[Any], bool]) -> None:
    """Let the owner of ``category`` decide who gets its events through the agency group."""
    _agency_audience[category] = rule


def receives_agency_copy(user: Any, category: str) -> bool:
    """Whether ``user``'s connections get ``category`` events sent to their agencies' group."""
    rule = _agency_audience.get(category)
    if rule is None:
        return category in (Category.CALL, Category.FINDING)
    return rule(user)


def agency_group(agency_id: int) -> str:
    """The consoles of one agency."""
    return f"dispatch.agency.{agency_id}"


_AGENCY_GROUP_PREFIX = "dispatch.agency."


def _agency_events_interval() -> float:
    from django.conf import settings

    return float(getattr(settings, "BEACON_AGENCY_EVENTS_EVERY_S", 0.25))


# Agency groups hear every call and unit change and reach every console of the agency: their
# events go out through a batcher (several to a channel-layer message when they come fast).
_agency_events = GroupBatcher("agency-events", interval_s=_agency_events_interval)


def _publish(groups: list[str], event: Any) -> None:
    """After commit: agency groups through the batcher, unit groups (a phone or two each) at once."""
    payload = dict(event)

    def send() -> None:
        for group in groups:
            if group.startswith(_AGENCY_GROUP_PREFIX):
                _agency_events.add(group, payload)
            else:
                core_realtime.publish_now(group, payload)

    transaction.on_commit(send)


def board_group(agency_id: int) -> str:
    """The agency-wide audience of assignment events (supervisors' execution boards).

    Not the agency group: every field device is in that one for call events, and sending each
    assignment there made 200 devices receive and drop every issue (measured by
    scripts/bench_push.py: p95 delivery 0.2-1.6 s instead of ~15 ms).
    """
    return f"board.agency.{agency_id}"


def agency_copy_group(category: str, agency_id: int) -> str:
    """The group that carries the agency-wide copy of ``category``'s events."""
    return board_group(agency_id) if category == Category.ASSIGNMENT else agency_group(agency_id)


# The query string a phone's field page connects with: it listens on its units' and user's groups
# only, not on the agency group that carries every call and every unit's AVL fix. Its page shows
# its own units and their calls; with 200 devices in the agency group each event was delivered
# 200 times more than any page needed (measured by the soak, docs/benchmarks.md).
FIELD_FEED = "feed=field"


def unit_group(unit_id: int) -> str:
    """The devices signed in for one unit."""
    return f"unit.{unit_id}"


def user_group(user_id: int) -> str:
    """Every device one person is signed in on (assignments made to them by name)."""
    return f"user.{user_id}"


class CallEventPayload(TypedDict):
    type: Literal["call_created", "call_updated", "call_closed"]
    call_id: int
    agency_id: int
    number: str
    status: str
    version: int
    # The call's queue row as the console snapshot shows it (dispatch.board.call_row): a console
    # applies it in place instead of re-reading the whole board. The consumer forwards the event
    # only to those who may view the agency's calls, and calls are filtered by agency alone, so
    # the row holds nothing the receiver's own snapshot would not (no caller identity, no
    # narrative). Before this, 50 consoles re-read the board after each burst of events: the
    # soak's largest request share (docs/benchmarks.md).
    row: dict[str, Any]


def publish_call(
    kind: Literal["call_created", "call_updated", "call_closed"],
    call: Any,
    open_assignments: list[Any] | None = None,
) -> None:
    """Tell consoles a call changed, with its queue row; detail they fetch through the API.

    ``open_assignments``: the call's open assignments (units loaded), when the writer has just
    read them on the locked call; otherwise they are read here.
    """
    from dispatch.board import call_row

    # Read inside the writer's transaction, so a unit just assigned is included and one just
    # cleared is not (it hears of that as a unit event).
    if kind == "call_created":
        units = []
    elif open_assignments is not None:
        ordered = sorted(open_assignments, key=lambda a: (a.assigned_at, a.pk))
        units = [(a.unit_id, a.unit.call_sign) for a in ordered]
    else:
        units = _open_units(call)
    payload: CallEventPayload = {
        "type": kind,
        "call_id": call.pk,
        "agency_id": call.agency_id,
        "number": call.number,
        "status": call.status,
        "version": call.version,
        "row": call_row(call, call_signs=[sign for _, sign in units]),
    }
    # Field devices do not listen to the agency-wide stream (see FIELD_FEED): the units on the
    # call hear of it through their own group. A console in both gets the agency copy only.
    groups = [agency_group(call.agency_id), *(unit_group(u) for u, _ in units)]
    _publish(groups, payload)


def _open_units(call: Any) -> list[tuple[int, str]]:
    """(id, call sign) of the units on the call now, in the order they were assigned."""
    from dispatch.models import CallAssignment

    return list(
        CallAssignment.objects.filter(call_id=call.pk, cleared_at__isnull=True)
        .order_by("assigned_at", "id")
        .values_list("unit_id", "unit__call_sign")
    )


class AlertEventPayload(TypedDict):
    type: Literal["partner_alert_received"]
    alert_id: int
    agency_id: int


def publish_alert(alert: Any) -> None:
    """Tell consoles a partner alert arrived (or changed others): they re-read the live map.

    Rides the agency group with the call category's audience: alerts are read like calls.
    """
    payload: AlertEventPayload = {
        "type": "partner_alert_received",
        "alert_id": alert.pk,
        "agency_id": alert.agency_id,
    }
    _publish([agency_group(alert.agency_id)], payload)


class UnitEventPayload(TypedDict):
    type: Literal["unit_status_changed", "unit_assigned"]
    unit_id: int
    agency_id: int
    status: str
    call_id: int | None
    latitude: float | None
    longitude: float | None


def publish_unit(
    kind: Literal["unit_status_changed", "unit_assigned"],
    unit: Any,
    *,
    call_id: int | None = None,
) -> None:
    """Tell consoles and the unit's own devices that a unit's status or call changed."""
    payload: UnitEventPayload = {
        "type": kind,
        "unit_id": unit.pk,
        "agency_id": unit.agency_id,
        "status": unit.status,
        "call_id": call_id,
        "latitude": unit.latitude,
        "longitude": unit.longitude,
    }
    _publish([agency_group(unit.agency_id), unit_group(unit.pk)], payload)


# AVL moves go out batched: one ``units_moved`` event per agency and second, listing each unit
# that moved with its newest fix (see Coalescer). Only to the agency group: a unit's own devices
# sent the fix, and a phone re-read its page on every event it heard (its own moves included).
UNITS_MOVED = "units_moved"


def _agency_of_group(group: str) -> dict[str, Any]:
    return {"agency_id": int(group.rsplit(".", 1)[1])}


def _moves_interval() -> float:
    from django.conf import settings

    return float(getattr(settings, "BEACON_UNIT_MOVES_EVERY_S", 1.0))


_unit_moves: Coalescer | None = None


def unit_moves() -> Coalescer:
    """The process's batcher of unit moves (created on first use, so settings are read then)."""
    global _unit_moves
    if _unit_moves is None:
        _unit_moves = Coalescer(
            UNITS_MOVED, interval_s=_moves_interval(), envelope=_agency_of_group
        )
    return _unit_moves


class UnitMovePayload(TypedDict):
    # Position only: status changes travel as their own events (unit_status_changed), and the
    # AVL post that moves a unit does not lock or re-read it.
    unit_id: int
    latitude: float | None
    longitude: float | None
    heading: float | None
    position_at: str | None


def publish_unit_moved(unit: Any) -> None:
    """Queue the unit's new position for its agency's next ``units_moved`` batch."""
    item: UnitMovePayload = {
        "unit_id": unit.pk,
        "latitude": unit.latitude,
        "longitude": unit.longitude,
        "heading": unit.heading,
        "position_at": _iso(unit.position_at),
    }
    unit_moves().add_on_commit(agency_group(unit.agency_id), unit.pk, item)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def emit_call_webhook(event_type: Literal["call.created", "call.closed"], call: Any) -> None:
    """Queue the outbound webhook for a call: ids and codes only, never caller, narrative,
    address or coordinates (receivers outside the agency get what a public log would show)."""

    def data() -> dict[str, Any]:
        return _call_data(event_type, call)

    webhooks.emit_on_commit(event_type, call.agency_id, data)


def emit_alert_webhook(alert: Any, first_info: Any) -> None:
    """Queue ``alert.received``: the alert's public CAP header only (no areas, no free text)."""

    def data() -> dict[str, Any]:
        return {
            "alert": {
                "id": alert.pk,
                "identifier": alert.identifier,
                "sender": alert.sender,
                "sent": _iso(alert.sent),
                "msg_type": alert.msg_type,
                "event": first_info.event if first_info else "",
                "severity": first_info.severity if first_info else "",
                "urgency": first_info.urgency if first_info else "",
            }
        }

    webhooks.emit_on_commit("alert.received", alert.agency_id, data)


def _call_data(event_type: str, call: Any) -> dict[str, Any]:
    data = {
        "call": {
            "id": call.pk,
            "number": call.number,
            "call_type": call.call_type.code,
            "priority": call.priority,
            "status": call.status,
            "source": call.source,
            "received_at": _iso(call.received_at),
        }
    }
    if event_type == "call.closed":
        data["call"]["disposition"] = call.disposition.code if call.disposition_id else None
        data["call"]["closed_at"] = _iso(call.closed_at)
    return data
