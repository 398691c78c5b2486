"""JSON shapes for the dispatcher console and field view: queue rows, unit rows, call detail, context.

Pure shaping over objects the selectors already loaded (no queries here except
where stated), so board endpoints keep a fixed query count.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from dispatch.context import IntakeContext
from dispatch.models import Call, Unit


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def call_row(call: Call, *, call_signs: list[str] | None = None) -> dict[str, Any]:
    """One pending-queue / map row (needs call_type, location and ``open_assignments`` loaded,
    or the open units' ``call_signs`` given)."""
    units = (
        [a.unit.call_sign for a in getattr(call, "open_assignments", [])]
        if call_signs is None
        else call_signs
    )
    return {
        "id": call.pk,
        "number": call.number,
        "type_code": call.call_type.code,
        "type_name": call.call_type.name,
        "category": call.call_type.category,
        "priority": call.priority,
        "status": call.status,
        "status_label": call.get_status_display(),
        "address": call.location.display_address if call.location else call.address_given,
        "latitude": call.latitude,
        "longitude": call.longitude,
        "received_at": _iso(call.received_at),
        "units": units,
        "version": call.version,
    }


def unit_row(unit: Unit, *, now: Any = None) -> dict[str, Any]:
    """One unit-board / map row (needs ``open_assignments`` with their call loaded)."""
    now = now or timezone.now()
    assignment = next(iter(getattr(unit, "open_assignments", [])), None)
    fix_age = (now - unit.position_at).total_seconds() if unit.position_at else None
    return {
        "id": unit.pk,
        "call_sign": unit.call_sign,
        "kind": unit.kind,
        "home_area": unit.home_area,
        "status": unit.status,
        "status_label": unit.get_status_display(),
        "status_changed_at": _iso(unit.status_changed_at),
        "latitude": unit.latitude,
        "longitude": unit.longitude,
        "heading": unit.heading,
        "position_at": _iso(unit.position_at),
        "fix_age_s": round(fix_age) if fix_age is not None else None,
        "call_id": assignment.call_id if assignment else None,
        "call_number": assignment.call.number if assignment else None,
    }


def call_detail(call: Call, *, show_caller: bool, involvements: list[Any]) -> dict[str, Any]:
    """The call panel: facts, timeline, units and involved persons/vehicles the user may see."""
    return {
        **{k: v for k, v in call_row(call).items() if k != "units"},
        "source": call.source,
        "narrative": call.narrative,
        "caller_name": call.caller_name if show_caller else None,
        "caller_phone": call.caller_phone if show_caller else None,
        "disposition": call.disposition.name if call.disposition else None,
        "location_id": call.location_id,
        "timestamps": {
            name: _iso(getattr(call, f"{name}_at"))
            for name in (
                "received",
                "dispatched",
                "en_route",
                "on_scene",
                "cleared",
                "closed",
                "cancelled",
            )
        },
        "events": [
            {
                "at": _iso(e.at),
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "text": e.text,
                "data": e.data,
                "actor": e.actor.get_username() if e.actor else "system",
            }
            for e in call.events.all()
        ],
        "assignments": [
            {
                "unit_id": a.unit_id,
                "call_sign": a.unit.call_sign,
                "assigned_at": _iso(a.assigned_at),
                "en_route_at": _iso(a.en_route_at),
                "on_scene_at": _iso(a.on_scene_at),
                "cleared_at": _iso(a.cleared_at),
                "open": a.cleared_at is None,
            }
            for a in call.assignments.all()
        ],
        "involvements": involvements,
    }


def _brief_call(call: Call) -> dict[str, Any]:
    return {
        "id": call.pk,
        "number": call.number,
        "type_code": call.call_type.code,
        "type_name": call.call_type.name,
        "status": call.status,
        "disposition": call.disposition.name if call.disposition else None,
        "received_at": _iso(call.received_at),
        "address": call.location.display_address if call.location else call.address_given,
    }


def context_json(ctx: IntakeContext) -> dict[str, Any]:
    """The intake context panel."""
    loc = ctx.location
    return {
        "location": (
            {
                "id": loc.pk,
                "address": loc.display_address,
                "kind": loc.kind,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
            }
            if loc
            else None
        ),
        "latitude": ctx.latitude,
        "longitude": ctx.longitude,
        "radius_m": ctx.radius_m,
        "counts": ctx.counts,
        "recent": [_brief_call(c) for c in ctx.recent],
        "nearby_counts": ctx.nearby_counts,
        "nearby_recent": [_brief_call(c) for c in ctx.nearby_recent],
        "notes": [
            {"id": n.pk, "kind": n.kind, "text": n.text, "sensitivity": n.get_sensitivity_display()}
            for n in ctx.notes
        ],
        "observations": [
            {
                "id": o.pk,
                "category": o.get_category_display(),
                "observed_at": _iso(o.observed_at),
                "narrative": o.narrative[:300],
                "by": o.reported_by.get_username() if o.reported_by else "",
            }
            for o in ctx.observations
        ],
        "persons": ctx.persons,
        "vehicles": ctx.vehicles,
        "flags": [
            {"kind": f.kind, "label": f.label, "detail": f.detail, "url": f.url} for f in ctx.flags
        ],
        "duplicates": [_brief_call(c) for c in ctx.duplicates],
    }
