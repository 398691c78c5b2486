"""Every state change of the dispatch domain. Pages, API, consumers, tasks and commands call these.

Each function is keyword-only, validates its input (raising ``DomainError``
naming the field), runs in one transaction, and publishes realtime events only
after commit. Contested claims (assigning a unit, changing a call's status)
lock or conditionally update the row, never read-then-write.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError, NotFoundError
from dispatch import realtime
from dispatch.addressing import (
    AddressError,
    name_key,
    normalize_address,
    normalize_locality,
    normalize_plate,
    normalize_state,
)
from dispatch.choices import (
    CALL_STATUS_TIMESTAMP,
    CALL_TRANSITIONS,
    CALLER_FIELDS,
    COMMITTED_UNIT_STATUSES,
    OBSERVATION_REQUIRABLE_FIELDS,
    OPEN_CALL_STATUSES,
    TERMINAL_CALL_STATUSES,
    UNIT_TRANSITIONS,
    CallEventKind,
    CallSource,
    CallStatus,
    CriminalActivity,
    InvolvementRole,
    ObservationCategory,
    PremiseNoteKind,
    UnitStatus,
)
from dispatch.geo import h3_cells, valid_point
from dispatch.models import (
    MIN_JUSTIFICATION,
    Call,
    CallAssignment,
    CallEvent,
    CallNumberCounter,
    CallType,
    Disposition,
    FieldObservation,
    Involvement,
    Location,
    ObservationRequirement,
    Person,
    PremiseNote,
    Unit,
    UnitPosition,
    Vehicle,
)
from governance import audit
from governance.access import can, may_write_agency
from governance.access_rules import need_to_know_apply
from governance.choices import Action, AuditAction, Category, Sensitivity
from governance.models import Agency

MAX_NARRATIVE = 20_000
MAX_JUSTIFICATION = 5_000
MAX_POSITIONS_PER_BATCH = 1_000
# Call fields whose values an audit event names but does not copy (see call_update).
CALL_CONTENT_FIELDS = frozenset(
    {*CALLER_FIELDS, "narrative", "address_given", "latitude", "longitude"}
)
CALL_EDITABLE_FIELDS = (
    "call_type",
    "priority",
    "narrative",
    "caller_name",
    "caller_phone",
    "source",
)


# --- helpers -------------------------------------------------------------------------


def _check_point(latitude: Any, longitude: Any) -> tuple[float | None, float | None]:
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        missing = "longitude" if longitude is None else "latitude"
        raise DomainError("Give both latitude and longitude, or neither.", field=missing)
    if not valid_point(latitude, longitude):
        raise DomainError(
            "Not a valid WGS84 point (latitude -90..90, longitude -180..180, not 0,0).",
            field="latitude",
        )
    return float(latitude), float(longitude)


def _check_aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        raise DomainError("Time must include a UTC offset.", field=field)
    return value


def _check_priority(priority: Any) -> int:
    try:
        value = int(priority)
    except (TypeError, ValueError):
        raise DomainError(
            "Priority must be a whole number from 1 to 5.", field="priority"
        ) from None
    if not 1 <= value <= 5:
        raise DomainError("Priority must be a whole number from 1 to 5.", field="priority")
    return value


def _check_text(value: str, field: str, limit: int) -> str:
    value = value or ""
    if len(value) > limit:
        raise DomainError(f"At most {limit} characters.", field=field)
    return value


def _event(
    call: Call,
    kind: str,
    actor: Any,
    *,
    text: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> CallEvent:
    return CallEvent.objects.create(
        call=call,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        text=text,
        data=dict(data or {}),
        at=at or timezone.now(),
    )


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


# --- locations -----------------------------------------------------------------------


def location_resolve(
    *,
    address: str,
    latitude: float | None = None,
    longitude: float | None = None,
    locality: str = "",
    postal_code: str = "",
) -> Location:
    """Return the one ``Location`` for this address, creating it (with its point and H3 cells) if new."""
    try:
        normalized = normalize_address(address)
    except AddressError as exc:
        raise DomainError(str(exc), field="address") from None
    lat, lon = _check_point(latitude, longitude)
    loc_key = normalize_locality(locality)
    defaults = {
        "display_address": normalized.display[:255],
        "raw_address": address[:500],
        "kind": normalized.kind,
        "street_line": normalized.street_line[:255],
        "unit_designator": normalized.unit[:32],
        "postal_code": (postal_code or "")[:10],
        "latitude": lat,
        "longitude": lon,
        **h3_cells(lat, lon),
    }
    key = normalized.key[:255]
    if not loc_key:
        # A dispatcher who types "412 Front St" without naming the town means the one place
        # already known by that key; only when the key exists in several towns is it ambiguous
        # (then the town-less record is used, as before).
        known = list(Location.objects.filter(address_key=key).order_by("id")[:2])
        if len(known) == 1:
            loc_key = known[0].locality
    try:
        with transaction.atomic():
            location, created = Location.objects.get_or_create(
                address_key=key, locality=loc_key, defaults=defaults
            )
    except IntegrityError:
        # Another request created the same place between our read and insert.
        location, created = Location.objects.get(address_key=key, locality=loc_key), False
    if not created and location.latitude is None and lat is not None:
        Location.objects.filter(pk=location.pk, latitude__isnull=True).update(
            latitude=lat, longitude=lon, **h3_cells(lat, lon)
        )
        location.refresh_from_db()
    return location


def premise_note_create(
    *,
    location: Location,
    agency: Agency,
    actor: Any,
    text: str,
    kind: str = PremiseNoteKind.NOTE,
    sensitivity: int = Sensitivity.ROUTINE,
    expires_at: dt.datetime | None = None,
) -> PremiseNote:
    """Record a premise note or hazard about a location for an agency."""
    text = (text or "").strip()
    if not text:
        raise DomainError("A note needs text.", field="text")
    _check_text(text, "text", 5_000)
    if kind not in PremiseNoteKind.values:
        raise DomainError(
            f"Unknown kind; use one of {', '.join(PremiseNoteKind.values)}.", field="kind"
        )
    if sensitivity not in Sensitivity.values:
        raise DomainError("Unknown sensitivity level.", field="sensitivity")
    _check_aware(expires_at, "expires_at")
    with transaction.atomic():
        note = PremiseNote.objects.create(
            location=location,
            agency=agency,
            kind=kind,
            text=text,
            sensitivity=sensitivity,
            created_by=_actor(actor),
            expires_at=expires_at,
        )
        audit.record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=note,
            details={"location": location.pk, "kind": kind, "sensitivity": sensitivity},
        )
    return note


# --- call numbers --------------------------------------------------------------------


def call_numbers_allocate(*, year: int, count: int = 1) -> list[str]:
    """Hand out ``count`` consecutive call numbers ``YYYY-NNNNNN`` for ``year``; safe under concurrency.

    The counter row is updated with ``last = last + count`` inside the caller's
    transaction, which takes the row lock (PostgreSQL) or the write lock
    (SQLite IMMEDIATE) until commit, so two callers never get the same number.
    """
    if count < 1:
        return []
    # One statement and no savepoint: every call intake holds this row lock until it commits,
    # so each round trip taken after it lengthens the queue of intakes waiting for the next
    # number (the soak measured intake serialised at ~14 calls/s before this was trimmed).
    with transaction.atomic(savepoint=False):
        last = _counter_add(year, count)
        if last is None:
            try:
                with transaction.atomic():
                    CallNumberCounter.objects.create(year=year, last=count)
                last = count
            except IntegrityError:  # another first call of the year created the row meanwhile
                last = _counter_add(year, count)
    if last is None:  # pragma: no cover - the row exists by now
        raise RuntimeError(f"call number counter for {year} is missing")
    first = last - count + 1
    return [f"{year}-{n:06d}" for n in range(first, last + 1)]


def _counter_add(year: int, count: int) -> int | None:
    """``last += count`` for ``year``, returning the new ``last`` (None if there is no row)."""
    # Only the model's own table name is formatted in; the values are parameters.
    table = connection.ops.quote_name(CallNumberCounter._meta.db_table)
    sql = f'UPDATE {table} SET "last" = "last" + %s WHERE "year" = %s RETURNING "last"'  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, year])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _local_year(when: dt.datetime) -> int:
    from zoneinfo import ZoneInfo

    from django.conf import settings

    return when.astimezone(ZoneInfo(settings.BEACON_TIME_ZONE)).year


# --- calls ---------------------------------------------------------------------------


@transaction.atomic
def call_create(
    *,
    agency: Agency,
    actor: Any,
    call_type: CallType,
    priority: int | None = None,
    source: str = CallSource.PHONE,
    address: str = "",
    locality: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    narrative: str = "",
    received_at: dt.datetime | None = None,
    external_id: str | None = None,
    external_ref: str | None = None,
) -> Call:
    """Log a new call for service at an address and/or point, and tell the consoles."""
    if not call_type.active:
        raise DomainError("This call type is retired.", field="call_type")
    if source not in CallSource.values:
        raise DomainError(
            f"Unknown source; use one of {', '.join(CallSource.values)}.", field="source"
        )
    lat, lon = _check_point(latitude, longitude)
    address = (address or "").strip()
    if not address and lat is None:
        raise DomainError("Give an address or a point.", field="address")
    prio = _check_priority(call_type.default_priority if priority is None else priority)
    received = _check_aware(received_at, "received_at") or timezone.now()
    if received > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("Received time is in the future.", field="received_at")
    _check_text(narrative, "narrative", MAX_NARRATIVE)
    _check_text(caller_name, "caller_name", 200)
    _check_text(caller_phone, "caller_phone", 40)
    if external_id is not None:
        _check_text(external_id, "external_id", 64)
        if Call.objects.filter(agency=agency, external_id=external_id).exists():
            raise ConflictError("A call with this external id already exists.", field="external_id")
    if external_ref is not None:
        _check_text(external_ref, "external_ref", 255)
        if Call.objects.filter(agency=agency, external_ref=external_ref).exists():
            raise ConflictError(
                "A call with this external reference already exists.", field="external_ref"
            )

    location = None
    if address:
        location = location_resolve(address=address, latitude=lat, longitude=lon, locality=locality)
        if lat is None and location.latitude is not None:
            lat, lon = location.latitude, location.longitude
    number = call_numbers_allocate(year=_local_year(received))[0]
    try:
        # A savepoint only where a unique external id can collide (below): each one is two more
        # round trips while this intake holds the call number lock.
        with transaction.atomic(savepoint=external_id is not None or external_ref is not None):
            call = Call.objects.create(
                agency=agency,
                number=number,
                external_id=external_id,
                external_ref=external_ref,
                call_type=call_type,
                priority=prio,
                status=CallStatus.PENDING,
                source=source,
                caller_name=caller_name,
                caller_phone=caller_phone,
                narrative=narrative,
                location=location,
                address_given=address[:500],
                received_at=received,
                latitude=lat,
                longitude=lon,
                created_by=_actor(actor),
                **h3_cells(lat, lon),
            )
    except IntegrityError:
        # Two imports of the same external id (or transfers of one incident) raced past the
        # exists() checks above.
        if external_ref is not None and external_id is None:
            raise ConflictError(
                "A call with this external reference already exists.", field="external_ref"
            ) from None
        raise ConflictError(
            "A call with this external id already exists.", field="external_id"
        ) from None
    _event(call, CallEventKind.CREATED, actor, text=f"{call_type.code} P{prio}", at=received)
    # Pushes and webhooks go out after commit; prepared before the audit append, which holds the
    # chain lock every audited write waits for until this transaction ends (the webhook lookup
    # is a query).
    realtime.publish_call("call_created", call)
    realtime.emit_call_webhook("call.created", call)
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=call,
        details={
            "call_type": call_type.code,
            "priority": prio,
            "source": source,
            # Whether caller identity was collected; its values stay in the call (need-to-know).
            "caller_identity": [
                f for f, v in zip(CALLER_FIELDS, (caller_name, caller_phone), strict=True) if v
            ],
        },
    )
    return call


@transaction.atomic
def call_transfer_in(
    *,
    agency: Agency,
    actor: Any,
    incident_ref: str,
    call_type: CallType,
    origin_note: str,
    **fields: Any,
) -> tuple[Call, bool]:
    """Log a call transferred from another CAD, once per incident: (call, created).

    A second transfer of the same incident (``incident_ref``, the origin's identifier) returns
    the call the first one made, unchanged. The origin is kept as a note on the new timeline.
    """
    existing = Call.objects.filter(agency=agency, external_ref=incident_ref).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            call = call_create(
                agency=agency,
                actor=actor,
                call_type=call_type,
                source=CallSource.TRANSFER,
                external_ref=incident_ref,
                **fields,
            )
    except ConflictError as exc:
        if "external_ref" not in exc.errors:
            raise
        # A concurrent transfer of the same incident won the insert.
        return Call.objects.get(agency=agency, external_ref=incident_ref), False
    _event(call, CallEventKind.NOTE, actor, text=_check_text(origin_note, "note", MAX_NARRATIVE))
    return call, True


def call_disseminate(
    *,
    call: Call,
    actor: Any,
    fmt: str,
    purpose: str,
    recipient: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record that a call was sent outside Beacon (e.g. as an EIDO to another CAD): to whom, why.

    A ``disseminate`` event (the register of 28 CFR 23.20(e)/(f)): the recipient and purpose, and
    what the document held; the purpose is also the event's justification.
    """
    audit.record(
        action=AuditAction.DISSEMINATE,
        actor=actor,
        obj=call,
        details={
            "outcome": "allowed",
            "format": fmt,
            "recipient": recipient,
            "purpose": purpose,
            **dict(details or {}),
        },
        justification=purpose,
    )


def _lock_call(call_id: int) -> Call:
    # ``of=("self",)``: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join that select_related("disposition") needs; only the call row is locked.
    # ``no_key``: FOR NO KEY UPDATE still serialises writers of the call, but not the foreign-key
    # checks of rows that point at it (an analysis run's evidence, a timeline entry), which
    # FOR UPDATE made wait for the whole dispatch transaction. Same for the other row locks here.
    try:
        return (
            Call.objects.select_for_update(of=("self",), no_key=True)
            # location: the call event's queue row (realtime.publish_call) shows its address.
            .select_related("call_type", "disposition", "location")
            .get(pk=call_id)
        )
    except Call.DoesNotExist:
        raise DomainError("No such call.", field="call") from None


def call_state(call: Call) -> dict[str, Any]:
    """The call as a 409 answer carries it: who lost a race redraws from this, not a guess.

    Read inside the loser's transaction, after the lock, so it is what the winner committed.
    """
    units = sorted(
        call.assignments.filter(cleared_at__isnull=True).values_list("unit__call_sign", flat=True)
    )
    return {
        "call_id": call.pk,
        "number": call.number,
        "status": call.status,
        "version": call.version,
        "units": units,
    }


def unit_state(unit: Unit) -> dict[str, Any]:
    """The unit as a 409 answer carries it: its status and the call it is committed to, if any."""
    on_call = (
        CallAssignment.objects.filter(unit_id=unit.pk, cleared_at__isnull=True)
        .values_list("call_id", "call__number")
        .first()
    )
    return {
        "unit_id": unit.pk,
        "unit": unit.call_sign,
        "status": unit.status,
        "call_id": on_call[0] if on_call else None,
        "call": on_call[1] if on_call else None,
    }


def _bump(call: Call, fields: list[str]) -> None:
    call.version += 1
    call.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def call_update(
    *, call_id: int, actor: Any, changes: Mapping[str, Any], expected_version: int | None = None
) -> Call:
    """Edit a call's details; every change is kept in the timeline with old and new values."""
    call = _lock_call(call_id)
    if expected_version is not None and expected_version != call.version:
        raise ConflictError(
            "The call changed since you loaded it; reload and try again.",
            field="version",
            current=call_state(call),
        )
    if call.status in TERMINAL_CALL_STATUSES:
        raise ConflictError(
            f"The call is {call.status}; it cannot be edited.",
            field="status",
            current=call_state(call),
        )
    unknown = (
        set(changes) - set(CALL_EDITABLE_FIELDS) - {"address", "latitude", "longitude", "locality"}
    )
    if unknown:
        raise DomainError(f"Not editable: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    diff: dict[str, dict[str, Any]] = {}
    fields: list[str] = []

    def _set(field: str, value: Any, shown_old: Any, shown_new: Any) -> None:
        if getattr(call, field) != value:
            diff[field] = {"old": shown_old, "new": shown_new}
            setattr(call, field, value)
            fields.append(field)

    if "call_type" in changes:
        ct = changes["call_type"]
        if not isinstance(ct, CallType) or not ct.active:
            raise DomainError("Unknown or retired call type.", field="call_type")
        _set("call_type_id", ct.pk, call.call_type.code, ct.code)
    if "priority" in changes:
        prio = _check_priority(changes["priority"])
        _set("priority", prio, call.priority, prio)
    for field, limit in (("narrative", MAX_NARRATIVE), ("caller_name", 200), ("caller_phone", 40)):
        if field in changes:
            value = _check_text(changes[field], field, limit)
            _set(field, value, getattr(call, field), value)
    if "source" in changes:
        if changes["source"] not in CallSource.values:
            raise DomainError("Unknown source.", field="source")
        _set("source", changes["source"], call.source, changes["source"])
    if {"address", "latitude", "longitude"} & set(changes):
        address = (changes.get("address", call.address_given) or "").strip()
        lat, lon = _check_point(changes.get("latitude"), changes.get("longitude"))
        location = (
            location_resolve(
                address=address, latitude=lat, longitude=lon, locality=changes.get("locality", "")
            )
            if address
            else None
        )
        if lat is None and location is not None:
            lat, lon = location.latitude, location.longitude
        if lat is None and location is None:
            raise DomainError("Give an address or a point.", field="address")
        _set("address_given", address, call.address_given, address)
        _set(
            "location_id",
            location.pk if location else None,
            call.location_id,
            location.pk if location else None,
        )
        _set("latitude", lat, call.latitude, lat)
        _set("longitude", lon, call.longitude, lon)
        for name, cell in h3_cells(lat, lon).items():
            if getattr(call, name) != cell:
                setattr(call, name, cell)
                fields.append(name)
    if not diff:
        return call
    _bump(call, fields)
    _event(call, CallEventKind.EDITED, actor, data={"changes": diff})
    # Content (caller identity, free text, the place) is named but redacted: auditors read the
    # whole trail and their role may not read calls; the timeline event keeps the values.
    changes = audit.changed_fields(
        {name: change["old"] for name, change in diff.items()},
        {name: change["new"] for name, change in diff.items()},
        redact=CALL_CONTENT_FIELDS,
    )
    extra = {"caller_identity": True} if set(CALLER_FIELDS) & set(diff) else {}
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=call,
        details={"changes": changes, **extra},
    )
    realtime.publish_call("call_updated", call)
    return call


@transaction.atomic
def call_add_note(*, call_id: int, actor: Any, text: str) -> CallEvent:
    """Append a note to a call's timeline."""
    text = (text or "").strip()
    if not text:
        raise DomainError("A note needs text.", field="text")
    _check_text(text, "text", MAX_NARRATIVE)
    call = _lock_call(call_id)
    event = _event(call, CallEventKind.NOTE, actor, text=text)
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=call,
        details={"note_added": event.pk, "chars": len(text)},
    )
    _bump(call, [])
    realtime.publish_call("call_updated", call)
    return event


@transaction.atomic
def call_attach(
    *, call_id: int, actor: Any, text: str, caller_name: str = "", caller_phone: str = ""
) -> CallEvent:
    """Attach new information (a second caller about the same incident) to an open call."""
    call = _lock_call(call_id)
    if call.status in TERMINAL_CALL_STATUSES:
        raise ConflictError(
            f"The call is {call.status}; information cannot be attached.",
            field="call",
            current=call_state(call),
        )
    text = _check_text((text or "").strip(), "text", MAX_NARRATIVE)
    _check_text(caller_name, "caller_name", 200)
    _check_text(caller_phone, "caller_phone", 40)
    if not (text or caller_name or caller_phone):
        raise DomainError("Nothing to attach.", field="text")
    event = _event(
        call,
        CallEventKind.ATTACHED,
        actor,
        text=text,
        data={"caller_name": caller_name, "caller_phone": caller_phone},
    )
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=call,
        details={
            "attached": event.pk,
            "caller_identity": [
                f for f, v in zip(CALLER_FIELDS, (caller_name, caller_phone), strict=True) if v
            ],
        },
    )
    _bump(call, [])
    realtime.publish_call("call_updated", call)
    return event


def _set_call_status(
    call: Call,
    status: str,
    actor: Any,
    *,
    note: str = "",
    disposition: Disposition | None = None,
    open_assignments: list[CallAssignment] | None = None,
) -> None:
    """Move a locked call to ``status`` if the lifecycle allows it (``open_assignments``: its
    open assignments, when the caller has just read them)."""
    if status == call.status:
        return
    if status not in CALL_TRANSITIONS.get(call.status, frozenset()):
        raise ConflictError(
            f"A {call.get_status_display().lower()} call cannot become {CallStatus(status).label.lower()}.",
            field="status",
            current=call_state(call),
        )
    old = call.status
    now = timezone.now()
    call.status = status
    fields = ["status"]
    stamp = CALL_STATUS_TIMESTAMP.get(status)
    # First arrival times (dispatched, en route, on scene) survive a re-dispatch;
    # the ending times always record the latest ending.
    if stamp and (
        getattr(call, stamp) is None or stamp in {"closed_at", "cancelled_at", "cleared_at"}
    ):
        setattr(call, stamp, now)
        fields.append(stamp)
    if disposition is not None:
        call.disposition = disposition
        fields.append("disposition")
    _bump(call, fields)
    _event(
        call,
        CallEventKind.STATUS,
        actor,
        text=note,
        data={
            "old": old,
            "new": status,
            **({"disposition": disposition.code} if disposition else {}),
        },
    )
    # Before the audit append, as in call_create: these read the database (open units, webhooks).
    realtime.publish_call(
        "call_closed" if status in TERMINAL_CALL_STATUSES else "call_updated",
        call,
        open_assignments,
    )
    if status == CallStatus.CLOSED:
        realtime.emit_call_webhook("call.closed", call)
    changes = {"status": [old, status]}
    if disposition is not None:
        changes["disposition"] = [None, disposition.code]
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=call,
        details={"changes": changes},
    )


def _open_assignments(call: Call) -> list[CallAssignment]:
    return list(call.assignments.select_related("unit").filter(cleared_at__isnull=True))


def _release_units(call: Call, actor: Any, assignments: list[CallAssignment] | None = None) -> None:
    """Clear every open assignment of a call (or ``assignments``, read earlier in this
    transaction) and make those units available."""
    now = timezone.now()
    for assignment in _open_assignments(call) if assignments is None else assignments:
        assignment.cleared_at = now
        assignment.save(update_fields=["cleared_at"])
        unit = assignment.unit
        Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.AVAILABLE, status_changed_at=now)
        audit.record(
            action=AuditAction.CHANGE,
            actor=actor,
            obj=unit,
            details={
                "changes": {"status": [unit.status, UnitStatus.AVAILABLE]},
                "call": call.number,
            },
        )
        unit.status = UnitStatus.AVAILABLE
        _event(
            call,
            CallEventKind.UNIT_STATUS,
            actor,
            data={"unit": unit.call_sign, "status": "cleared"},
        )
        realtime.publish_unit("unit_status_changed", unit)


@transaction.atomic
def call_set_status(
    *,
    call_id: int,
    actor: Any,
    status: str,
    disposition: Disposition | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Call:
    """Move a call through its lifecycle; closing needs a disposition; clearing frees its units."""
    if status not in CallStatus.values:
        raise DomainError(
            f"Unknown status; use one of {', '.join(CallStatus.values)}.", field="status"
        )
    call = _lock_call(call_id)
    if expected_version is not None and expected_version != call.version:
        raise ConflictError(
            "The call changed since you loaded it; reload and try again.",
            field="version",
            current=call_state(call),
        )
    _move_locked_call(call, actor, status, disposition, note)
    return call


def _move_locked_call(
    call: Call, actor: Any, status: str, disposition: Disposition | None, note: str
) -> None:
    """``call_set_status`` on a call this transaction has locked and version-checked."""
    if status == CallStatus.CLOSED:
        if disposition is None:
            raise DomainError("Closing a call needs a disposition.", field="disposition")
        if not disposition.active:
            raise DomainError("This disposition is retired.", field="disposition")
    elif disposition is not None:
        raise DomainError("A disposition is only given when closing.", field="disposition")
    if status == CallStatus.DISPATCHED:
        raise DomainError("A call becomes dispatched by assigning a unit.", field="status")
    _check_text(note, "note", MAX_NARRATIVE)
    if call.status == status:
        raise ConflictError(
            f"The call is already {call.get_status_display().lower()}.",
            field="status",
            current=call_state(call),
        )
    ending = status in (CallStatus.CLEARED, CallStatus.CANCELLED, CallStatus.CLOSED)
    # Read before the status change: its audit append takes the chain lock, and a query after it
    # keeps every other audited write waiting longer (the call is locked, so nothing changes).
    assignments = _open_assignments(call) if ending else None
    # Closing a pending call (advice by phone, a duplicate) is allowed by the lifecycle.
    _set_call_status(
        call, status, actor, note=note, disposition=disposition, open_assignments=assignments
    )
    if assignments is not None:
        _release_units(call, actor, assignments)


def call_close(
    *,
    call_id: int,
    actor: Any,
    disposition: Disposition,
    note: str = "",
    expected_version: int | None = None,
) -> Call:
    """Close a call with its disposition (from cleared, or from pending when handled without a unit)."""
    with transaction.atomic():
        call = _lock_call(call_id)
        if call.status == CallStatus.CLOSED:
            # Said before the version check: "already closed" is what the second closer needs.
            raise ConflictError(
                "The call is already closed.", field="status", current=call_state(call)
            )
        if expected_version is not None and expected_version != call.version:
            raise ConflictError(
                "The call changed since you loaded it; reload and try again.",
                field="version",
                current=call_state(call),
            )
        if disposition is None:
            # Checked before any clearing so a refused close changes nothing.
            raise DomainError("Closing a call needs a disposition.", field="disposition")
        if call.status in (CallStatus.DISPATCHED, CallStatus.EN_ROUTE, CallStatus.ON_SCENE):
            # Closing a call units are still on clears it first, as a dispatcher expects.
            _set_call_status(call, CallStatus.CLEARED, actor)
            _release_units(call, actor)
        # On the call already locked: no savepoint and second lock of a nested call_set_status.
        _move_locked_call(call, actor, CallStatus.CLOSED, disposition, note)
        return call


# --- units ---------------------------------------------------------------------------


@transaction.atomic
def unit_assign(*, call_id: int, unit_id: int, actor: Any) -> CallAssignment:
    """Commit an available unit to an open call; a unit already committed elsewhere is a conflict."""
    # Lock order everywhere: the call, then its units (see unit_set_status).
    call = _lock_call(call_id)
    if call.status in TERMINAL_CALL_STATUSES:
        raise ConflictError(
            f"The call is {call.status}.",
            field="call",
            current=call_state(call),
        )
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("No such unit.", field="unit")
    if unit.agency_id != call.agency_id:
        raise DomainError("The unit belongs to another agency.", field="unit")
    now = timezone.now()
    # The claim: only a row still available flips; the loser sees 0 rows updated.
    claimed = Unit.objects.filter(
        pk=unit_id, agency_id=call.agency_id, active=True, status=UnitStatus.AVAILABLE
    ).update(status=UnitStatus.DISPATCHED, status_changed_at=now)
    if not claimed:
        unit.refresh_from_db()
        current = unit_state(unit)
        state = unit.get_status_display().lower() if unit.active else "inactive"
        on_call = f" on call {current['call']}." if current["call"] else "."
        raise ConflictError(
            f"Unit {unit.call_sign} is {state}{on_call}", field="unit", current=current
        )
    unit.status, unit.status_changed_at = UnitStatus.DISPATCHED, now
    try:
        with transaction.atomic():
            assignment = CallAssignment.objects.create(
                call=call, unit=unit, assigned_at=now, assigned_by=_actor(actor)
            )
    except IntegrityError:
        # The partial unique index backs up the claim if a status was edited by hand.
        raise ConflictError(
            f"Unit {unit.call_sign} is already committed.",
            field="unit",
            current=unit_state(unit),
        ) from None
    _event(
        call, CallEventKind.UNIT_ASSIGNED, actor, data={"unit": unit.call_sign, "unit_id": unit.pk}
    )
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=unit,
        details={
            "changes": {"status": [UnitStatus.AVAILABLE, UnitStatus.DISPATCHED]},
            "call": call.number,
        },
    )
    if call.status in (CallStatus.PENDING, CallStatus.CLEARED):
        _set_call_status(call, CallStatus.DISPATCHED, actor)
    else:
        _bump(call, [])
        realtime.publish_call("call_updated", call)
    realtime.publish_unit("unit_assigned", unit, call_id=call.pk)
    return assignment


_CALL_PROGRESS = {
    UnitStatus.EN_ROUTE: (CallStatus.EN_ROUTE, (CallStatus.DISPATCHED,)),
    UnitStatus.ON_SCENE: (CallStatus.ON_SCENE, (CallStatus.DISPATCHED, CallStatus.EN_ROUTE)),
}


@transaction.atomic
def unit_set_status(
    *, unit_id: int, actor: Any, status: str, expected_status: str | None = None
) -> Unit:
    """Record a unit's status; on a call this moves the call forward, and 'available' clears the unit."""
    if status not in UnitStatus.values:
        raise DomainError(
            f"Unknown status; use one of {', '.join(UnitStatus.values)}.", field="status"
        )
    # Lock the unit's call before the unit, the same order as unit_assign and
    # call_set_status (call, then units); the opposite order deadlocks on
    # PostgreSQL when a dispatcher cancels a call while its unit reports a status.
    open_call_id = (
        CallAssignment.objects.filter(unit_id=unit_id, cleared_at__isnull=True)
        .values_list("call_id", flat=True)
        .first()
    )
    locked_call = _lock_call(open_call_id) if open_call_id is not None else None
    try:
        unit = Unit.objects.select_for_update(no_key=True).get(pk=unit_id)
    except Unit.DoesNotExist:
        raise DomainError("No such unit.", field="unit") from None
    if expected_status is not None and unit.status != expected_status:
        raise ConflictError(
            f"Unit {unit.call_sign} is now {unit.get_status_display().lower()}.",
            field="status",
            current=unit_state(unit),
        )
    if status == unit.status:
        return unit
    if status not in UNIT_TRANSITIONS.get(unit.status, frozenset()):
        raise ConflictError(
            f"Unit {unit.call_sign} cannot go from {unit.get_status_display().lower()} to "
            f"{UnitStatus(status).label.lower()}.",
            field="status",
            current=unit_state(unit),
        )
    now = timezone.now()
    assignment = CallAssignment.objects.filter(unit=unit, cleared_at__isnull=True).first()
    if (assignment.call_id if assignment else None) != open_call_id:
        # The unit was assigned or released between our read and the locks.
        raise ConflictError(
            f"Unit {unit.call_sign} changed calls meanwhile; reload and try again.",
            field="status",
            current=unit_state(unit),
        )
    if assignment is not None and locked_call is not None:
        call = locked_call
        if status == UnitStatus.AVAILABLE:
            assignment.cleared_at = now
            assignment.save(update_fields=["cleared_at"])
            _event(
                call,
                CallEventKind.UNIT_STATUS,
                actor,
                data={"unit": unit.call_sign, "status": "cleared"},
            )
            others_open = call.assignments.filter(cleared_at__isnull=True).exists()
            if not others_open and call.status in (
                CallStatus.DISPATCHED,
                CallStatus.EN_ROUTE,
                CallStatus.ON_SCENE,
            ):
                _set_call_status(call, CallStatus.CLEARED, actor)
            else:
                _bump(call, [])
                realtime.publish_call("call_updated", call)
        else:
            stamp = "en_route_at" if status == UnitStatus.EN_ROUTE else "on_scene_at"
            setattr(assignment, stamp, now)
            assignment.save(update_fields=[stamp])
            _event(
                call,
                CallEventKind.UNIT_STATUS,
                actor,
                data={"unit": unit.call_sign, "status": status},
            )
            target, from_statuses = _CALL_PROGRESS[status]
            if call.status in from_statuses:
                _set_call_status(call, target, actor)
            else:
                _bump(call, [])
                realtime.publish_call("call_updated", call)
    elif status in COMMITTED_UNIT_STATUSES:
        raise ConflictError(
            f"Unit {unit.call_sign} has no call to be {UnitStatus(status).label.lower()} to.",
            field="status",
            current=unit_state(unit),
        )
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=unit,
        details={
            "changes": {"status": [unit.status, status]},
            **({"call": locked_call.number} if locked_call is not None else {}),
        },
    )
    unit.status = status
    unit.status_changed_at = now
    unit.save(update_fields=["status", "status_changed_at"])
    realtime.publish_unit(
        "unit_status_changed", unit, call_id=assignment.call_id if assignment else None
    )
    return unit


@transaction.atomic
def unit_create(
    *,
    agency: Agency,
    call_sign: str,
    kind: str = "patrol",
    home_area: str = "",
    users: Iterable[Any] = (),
    actor: Any = None,
) -> Unit:
    """Create a unit for an agency."""
    call_sign = (call_sign or "").strip().upper()
    if not call_sign:
        raise DomainError("A unit needs a call sign.", field="call_sign")
    if Unit.objects.filter(agency=agency, call_sign=call_sign).exists():
        raise ConflictError(f"Call sign {call_sign} is taken.", field="call_sign")
    unit = Unit.objects.create(
        agency=agency,
        call_sign=call_sign[:32],
        kind=kind,
        home_area=home_area[:64],
        status_changed_at=timezone.now(),
    )
    users = list(users)
    if users:
        unit.users.add(*users)
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=unit,
        details={"kind": kind, "users": sorted(u.pk for u in users)},
    )
    return unit


def _optional_number(value: Any, index: int, name: str) -> float | None:
    """A finite float or None; anything else is refused naming the batch field."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise DomainError(f"Position {index}: {name} must be a number.", field="positions")
    return number


def _insert_skipping_duplicates(model: Any, objs: Sequence[Any], batch: int = 500) -> int:
    """Insert ``objs``, skipping any a unique constraint already holds; how many were inserted.

    ``bulk_create(ignore_conflicts=True)`` does the same but does not say how many rows it
    wrote; the database's row count of ``INSERT ... ON CONFLICT DO NOTHING`` does (PostgreSQL
    and SQLite alike).
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = [
                f.get_db_prep_save(f.pre_save(obj, add=True), connection)
                for obj in chunk
                for f in fields
            ]
            # Only the model's own table and column names are formatted in; values are parameters.
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608  # nosec B608
                f"{', '.join([row_sql] * len(chunk))} ON CONFLICT DO NOTHING"
            )
            cursor.execute(sql, params)
            inserted += max(cursor.rowcount, 0)
    return inserted


def unit_positions_record(
    *, unit_id: int, positions: Iterable[Mapping[str, Any]], unit: Unit | None = None
) -> dict[str, int]:
    """Store a batch of AVL fixes (idempotent per fix time) and move the unit to the newest one.

    Returns counts of fixes ``stored`` and ``duplicates`` (already stored). ``unit``: the unit
    as the caller has just read it (its agency addresses the move event), to save reading it
    again.
    """
    # Not audited, on purpose: every signed-in device posts a batch every few seconds, so even
    # one event per batch would outnumber all other events and hold the chain lock (serialising
    # every audited write) at that rate. The fixes themselves are the record: attributed to the
    # unit, timestamped, append-only per fix time, and readable only under the AVL category.
    rows: list[UnitPosition] = []
    for i, fix in enumerate(positions):
        if i >= MAX_POSITIONS_PER_BATCH:
            raise DomainError(
                f"At most {MAX_POSITIONS_PER_BATCH} positions per batch.", field="positions"
            )
        if not isinstance(fix, Mapping):
            raise DomainError(f"Position {i}: expected an object.", field="positions")
        lat, lon = fix.get("latitude"), fix.get("longitude")
        if isinstance(lat, bool) or isinstance(lon, bool) or not valid_point(lat, lon):
            raise DomainError(f"Position {i}: not a valid WGS84 point.", field="positions")
        recorded = fix.get("recorded_at")
        if not isinstance(recorded, dt.datetime) or timezone.is_naive(recorded):
            raise DomainError(
                f"Position {i}: recorded_at must be a time with a UTC offset.", field="positions"
            )
        if recorded > timezone.now() + dt.timedelta(minutes=5):
            raise DomainError(f"Position {i}: recorded_at is in the future.", field="positions")
        extras = {
            name: _optional_number(fix.get(name), i, name)
            for name in ("heading", "speed", "accuracy")
        }
        rows.append(
            UnitPosition(
                unit_id=unit_id,
                recorded_at=recorded,
                latitude=float(lat),
                longitude=float(lon),
                **extras,
                h3_r9=h3_cells(lat, lon)["h3_r9"],
            )
        )
    if not rows:
        return {"stored": 0, "duplicates": 0}
    newest = max(rows, key=lambda r: r.recorded_at)
    moved = {
        "latitude": newest.latitude,
        "longitude": newest.longitude,
        "heading": newest.heading,
        "speed": newest.speed,
        "position_at": newest.recorded_at,
        **h3_cells(newest.latitude, newest.longitude),
    }
    # No row lock: the insert counts what it stored itself (a fix already stored for its time is
    # skipped by the unique index), and the unit moves only if this batch's newest fix is newer
    # than the one it shows, in one conditional update. Every device posts every few seconds,
    # and the lock, count and re-read this replaces were three round trips of each post.
    if unit is None:
        unit = Unit.objects.only("agency_id").filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("No such unit.", field="unit")
    try:
        with transaction.atomic():
            # In time order: two overlapping batches then take the unique index's row locks in
            # the same order and cannot deadlock each other.
            rows.sort(key=lambda r: r.recorded_at)
            stored = _insert_skipping_duplicates(UnitPosition, rows)
            newer = Q(position_at__isnull=True) | Q(position_at__lt=newest.recorded_at)
            if Unit.objects.filter(newer, pk=unit_id).update(**moved):
                for name, value in moved.items():
                    setattr(unit, name, value)
                realtime.publish_unit_moved(unit)
    except IntegrityError:  # the unit was deleted since it was read
        raise DomainError("No such unit.", field="unit") from None
    return {"stored": stored, "duplicates": len(rows) - stored}


# --- observations, persons, vehicles ----------------------------------------------------


def observation_requirements_check(
    *,
    category: str,
    address: str = "",
    narrative: str = "",
    persons: int = 0,
    vehicles: int = 0,
) -> None:
    """Refuse a card missing what the admins require for its category, naming each field.

    Read fresh on every filing, so a changed requirement applies to the next card.
    """
    requirement = ObservationRequirement.objects.filter(category=category).first()
    if requirement is None:
        return
    label = ObservationCategory(category).label.lower()
    present = {
        "address": bool((address or "").strip()),
        "narrative": bool((narrative or "").strip()),
        "persons": persons > 0,
        "vehicles": vehicles > 0,
    }
    errors: dict[str, list[str]] = {}
    for field in requirement.required_fields:
        if field in OBSERVATION_REQUIRABLE_FIELDS and not present.get(field, False):
            errors[field] = [f"Required for category '{label}'."]
    minimum = requirement.narrative_min_length
    if minimum and "narrative" not in errors and len((narrative or "").strip()) < minimum:
        errors["narrative"] = [f"At least {minimum} characters for category '{label}'."]
    if errors:
        raise DomainError(errors)


@transaction.atomic
def observation_create(
    *,
    agency: Agency,
    actor: Any,
    category: str,
    observed_at: dt.datetime | None = None,
    narrative: str = "",
    address: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    call_id: int | None = None,
    sensitivity: int = Sensitivity.ROUTINE,
    persons: Sequence[Person] = (),
    vehicles: Sequence[Vehicle] = (),
    views_or_associations: str = "",
) -> FieldObservation:
    """File a structured field observation card, with the persons and vehicles seen (as subjects).

    The category's admin-set requirements (``ObservationRequirement``) are checked before
    anything is written; API and phone form both come through here.
    """
    if category not in ObservationCategory.values:
        raise DomainError(
            f"Unknown category; use one of {', '.join(ObservationCategory.values)}.",
            field="category",
        )
    if (views_or_associations or "").strip():
        # A card has no place to justify such data; it belongs on the person, with the reason.
        raise DomainError(
            "Political, religious or social views or associations are not recorded on an "
            "observation (28 CFR 23.20(b)); record them on the person, only if directly related "
            "to criminal conduct, with a justification.",
            field="views_or_associations",
        )
    if sensitivity not in Sensitivity.values:
        raise DomainError("Unknown sensitivity level.", field="sensitivity")
    lat, lon = _check_point(latitude, longitude)
    address = (address or "").strip()
    if not address and lat is None:
        raise DomainError("Give an address or a point (GPS or map).", field="address")
    observed = _check_aware(observed_at, "observed_at") or timezone.now()
    if observed > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError("Observed time is in the future.", field="observed_at")
    _check_text(narrative, "narrative", MAX_NARRATIVE)
    call = None
    if call_id is not None:
        call = Call.objects.filter(pk=call_id, agency=agency).first()
        if call is None:
            raise DomainError("No such call.", field="call")
    for field, records in (("persons", persons), ("vehicles", vehicles)):
        if any(r.agency_id != agency.pk for r in records):
            raise DomainError("A record of another agency.", field=field)
    observation_requirements_check(
        category=category,
        address=address,
        narrative=narrative,
        persons=len(persons),
        vehicles=len(vehicles),
    )
    location = location_resolve(address=address, latitude=lat, longitude=lon) if address else None
    if lat is None and location is not None:
        lat, lon = location.latitude, location.longitude
    observation = FieldObservation.objects.create(
        agency=agency,
        observed_at=observed,
        location=location,
        category=category,
        narrative=narrative,
        reported_by=_actor(actor),
        call=call,
        sensitivity=sensitivity,
        latitude=lat,
        longitude=lon,
        **h3_cells(lat, lon),
    )
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=observation,
        details={
            "category": category,
            "sensitivity": sensitivity,
            **({"call": call.number} if call is not None else {}),
        },
    )
    for vehicle in dict.fromkeys(vehicles):
        involvement_create(
            actor=actor, role=InvolvementRole.SUBJECT, vehicle=vehicle, observation=observation
        )
    for person in dict.fromkeys(persons):
        involvement_create(
            actor=actor, role=InvolvementRole.SUBJECT, person=person, observation=observation
        )
    return observation


@transaction.atomic
def observation_requirement_set(
    *, actor: Any, category: str, required_fields: Sequence[str], narrative_min_length: int = 0
) -> ObservationRequirement:
    """Set what a category's observation cards must carry (admins); audited."""
    if category not in ObservationCategory.values:
        raise DomainError("Unknown category.", field="category")
    unknown = sorted(set(required_fields) - set(OBSERVATION_REQUIRABLE_FIELDS))
    if unknown:
        raise DomainError(
            f"Unknown field(s): {', '.join(unknown)}; use {', '.join(OBSERVATION_REQUIRABLE_FIELDS)}.",
            field="required_fields",
        )
    try:
        minimum = int(narrative_min_length)
    except (TypeError, ValueError):
        minimum = -1
    if not 0 <= minimum <= 2_000:
        raise DomainError("A whole number from 0 to 2000.", field="narrative_min_length")
    fields = [f for f in OBSERVATION_REQUIRABLE_FIELDS if f in set(required_fields)]
    requirement, _ = ObservationRequirement.objects.select_for_update().get_or_create(
        category=category
    )
    before = {
        "required_fields": requirement.required_fields,
        "narrative_min_length": requirement.narrative_min_length,
    }
    requirement.required_fields = fields
    requirement.narrative_min_length = minimum
    requirement.save()
    audit.record(
        action=AuditAction.CHANGE,
        actor=_actor(actor),
        obj=requirement,
        details={
            "changed_fields": audit.changed_fields(
                before, {"required_fields": fields, "narrative_min_length": minimum}
            )
        },
    )
    return requirement


@transaction.atomic
def person_need_to_know_set(*, actor: Any, person: Person, group_ids: Any) -> Person:
    """Limit a person record to need-to-know groups, or lift the limit with ``[]``.

    The caller has fetched ``person`` through ``access_person(..., for_write=True)``.
    """
    need_to_know_apply(actor=actor, record=person, group_ids=group_ids)
    return person


# --- collection standards (28 CFR 23.20(a) and (b)) ------------------------------------------

VIEWS_REFUSAL = (
    "Political, religious or social views, associations or activities are not recorded unless "
    "they are directly related to criminal conduct (28 CFR 23.20(b)): set "
    "views_related_to_criminal_conduct and give views_justification."
)


def _justification(value: Any, field: str, what: str) -> tuple[str, list[str]]:
    """The stripped text, or the reasons it is not a usable justification."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) < MIN_JUSTIFICATION:
        return text, [f"{what} (at least {MIN_JUSTIFICATION} characters, not only spaces)."]
    if len(text) > MAX_JUSTIFICATION:
        return text, [f"At most {MAX_JUSTIFICATION} characters."]
    return text, []


def _check_subject(
    *, intelligence_subject: bool, criminal_activity: str, suspicion_justification: str
) -> tuple[str, str]:
    """Category and justification of an intelligence subject, or DomainError naming what is missing."""
    errors: dict[str, list[str]] = {}
    activity = (criminal_activity or "").strip()
    if activity and activity not in CriminalActivity.values:
        errors["criminal_activity"] = [
            f"Unknown category; use one of {', '.join(CriminalActivity.values)}."
        ]
    if not intelligence_subject:
        if activity or (suspicion_justification or "").strip():
            errors.setdefault("intelligence_subject", []).append(
                "A criminal-activity category and a suspicion justification belong to an "
                "intelligence subject; set intelligence_subject, or leave them out."
            )
        if errors:
            raise DomainError(errors)
        return "", ""
    if not activity:
        errors["criminal_activity"] = [
            "An intelligence subject needs the criminal activity they are reasonably suspected "
            "of (28 CFR 23.20(a))."
        ]
    text, problems = _justification(
        suspicion_justification,
        "suspicion_justification",
        "An intelligence subject needs a written reasonable-suspicion justification "
        "(28 CFR 23.20(a))",
    )
    if problems:
        errors["suspicion_justification"] = problems
    if errors:
        raise DomainError(errors)
    return activity, text


def _check_views(
    *, views_or_associations: str, views_related_to_criminal_conduct: bool, views_justification: str
) -> tuple[str, bool, str]:
    """Views/associations only with a stated link to criminal conduct (28 CFR 23.20(b))."""
    views = (views_or_associations or "").strip()
    if not views:
        return "", False, ""
    _check_text(views, "views_or_associations", 5_000)
    text, problems = _justification(
        views_justification,
        "views_justification",
        "Say how these views or associations relate directly to criminal conduct",
    )
    if not views_related_to_criminal_conduct or problems:
        errors = {"views_or_associations": [VIEWS_REFUSAL]}
        if problems and views_related_to_criminal_conduct:
            errors["views_justification"] = problems
        raise DomainError(errors)
    return views, True, text


@transaction.atomic
def person_validate(*, actor: Any, person_id: Any, rationale: Any) -> Person:
    """Record a retention review that keeps the person: reviewer, time and why (28 CFR 23).

    Restarts the person's retention clock (governance.retention); nothing else does, editing
    identifying fields included. Audited, in the same transaction.
    """
    if not may_validate_person(actor):
        raise PermissionDenied("Only supervisors and analysts review intelligence records.")
    text = rationale.strip().replace("\x00", "") if isinstance(rationale, str) else ""
    if not text:
        raise DomainError(
            "Say why the person is still reasonably suspected of current criminal activity.",
            field="rationale",
        )
    _check_text(text, "rationale", 5_000)
    try:
        person = Person.objects.select_for_update(no_key=True).get(pk=int(person_id))
    except (TypeError, ValueError, Person.DoesNotExist):
        raise NotFoundError from None
    if not may_write_agency(actor, person.agency_id):
        raise PermissionDenied("Not allowed to change this person.")
    if person.anonymised_at is not None:
        raise DomainError("This person was anonymised by retention.", field="person")
    before = {"validated_at": person.validated_at, "validated_by": person.validated_by_id}
    person.validated_at = timezone.now()
    person.validated_by = _actor(actor)
    person.validation_rationale = text
    person.save(update_fields=["validated_at", "validated_by", "validation_rationale"])
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=person,
        justification=text,
        details={
            "retention_review": "validated",
            "changed": audit.changed_fields(
                before,
                {"validated_at": person.validated_at, "validated_by": person.validated_by_id},
            ),
        },
    )
    return person


def may_validate_person(user: Any) -> bool:
    """A retention review is an intelligence judgement (is the subject still reasonably
    suspected?), so it takes the right to decide on findings as well as to see persons:
    supervisors and analysts by default, not dispatchers, who edit persons."""
    return can(user, Action.VIEW, Category.PERSON) and can(user, Action.CHANGE, Category.FINDING)


@transaction.atomic
def person_create(
    *,
    agency: Agency,
    last_name: str,
    first_name: str = "",
    middle_name: str = "",
    date_of_birth: dt.date | None = None,
    sex: str = "",
    description: str = "",
    sensitivity: int = Sensitivity.RESTRICTED,
    actor: Any = None,
    intelligence_subject: bool = False,
    criminal_activity: str = "",
    suspicion_justification: str = "",
    views_or_associations: str = "",
    views_related_to_criminal_conduct: bool = False,
    views_justification: str = "",
) -> Person:
    """Record a person known to an agency, holding the collection standards for subjects and views."""
    last_name = (last_name or "").strip()
    if not last_name:
        raise DomainError(
            "A person needs a last name (use UNKNOWN if not known).", field="last_name"
        )
    for field, value in (
        ("last_name", last_name),
        ("first_name", first_name),
        ("middle_name", middle_name),
    ):
        _check_text(value, field, 100)
    if sex and sex not in {"F", "M", "X"}:
        raise DomainError("Use F, M or X.", field="sex")
    if date_of_birth is not None and date_of_birth > timezone.now().date():
        raise DomainError("Date of birth is in the future.", field="date_of_birth")
    if sensitivity not in Sensitivity.values:
        raise DomainError("Unknown sensitivity level.", field="sensitivity")
    activity, suspicion = _check_subject(
        intelligence_subject=bool(intelligence_subject),
        criminal_activity=criminal_activity,
        suspicion_justification=suspicion_justification,
    )
    views, views_flag, views_reason = _check_views(
        views_or_associations=views_or_associations,
        views_related_to_criminal_conduct=bool(views_related_to_criminal_conduct),
        views_justification=views_justification,
    )
    subject = bool(intelligence_subject)
    person = Person.objects.create(
        agency=agency,
        last_name=last_name,
        first_name=(first_name or "").strip(),
        middle_name=(middle_name or "").strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        name_key=name_key(last_name, first_name),
        description=_check_text(description, "description", 5_000),
        sensitivity=sensitivity,
        intelligence_subject=subject,
        criminal_activity=activity,
        suspicion_justification=suspicion,
        subject_recorded_by=_actor(actor) if subject else None,
        subject_recorded_at=timezone.now() if subject else None,
        views_or_associations=views,
        views_related_to_criminal_conduct=views_flag,
        views_justification=views_reason,
    )
    # Every person recorded is a collection (DPA s.62); a subject's or views' justification
    # goes with it.
    audit.record(
        action=AuditAction.CREATE,
        actor=_actor(actor),
        obj=person,
        justification="\n".join(t for t in (suspicion, views_reason) if t),
        details={
            "sensitivity": sensitivity,
            "intelligence_subject": subject,
            "criminal_activity": activity,
            "views_recorded": bool(views),
        },
    )
    return person


@transaction.atomic
def person_mark_subject(
    *,
    actor: Any,
    person: Person,
    intelligence_subject: bool = True,
    criminal_activity: str = "",
    suspicion_justification: str = "",
) -> Person:
    """Make a person an intelligence subject (category + reasonable suspicion), or stop it.

    The caller has fetched ``person`` through ``access_person(..., for_write=True)``. Ending it
    clears the category and justification; the audit event keeps what they were.
    """
    subject = bool(intelligence_subject)
    if subject:
        activity, text = _check_subject(
            intelligence_subject=True,
            criminal_activity=criminal_activity,
            suspicion_justification=suspicion_justification,
        )
    else:
        activity, text = "", ""
    locked = Person.objects.select_for_update(no_key=True).get(pk=person.pk)
    before = {
        "intelligence_subject": locked.intelligence_subject,
        "criminal_activity": locked.criminal_activity,
        "suspicion_justification": locked.suspicion_justification,
    }
    locked.intelligence_subject = subject
    locked.criminal_activity = activity
    locked.suspicion_justification = text
    locked.subject_recorded_by = _actor(actor)
    locked.subject_recorded_at = timezone.now()
    locked.save(
        update_fields=[
            "intelligence_subject",
            "criminal_activity",
            "suspicion_justification",
            "subject_recorded_by",
            "subject_recorded_at",
        ]
    )
    after = {
        "intelligence_subject": subject,
        "criminal_activity": activity,
        "suspicion_justification": text,
    }
    audit.record(
        action=AuditAction.CHANGE,
        actor=_actor(actor),
        obj=locked,
        justification=text or (suspicion_justification or "").strip(),
        details={"changed_fields": audit.changed_fields(before, after)},
    )
    for field in ("intelligence_subject", "criminal_activity", "suspicion_justification"):
        setattr(person, field, getattr(locked, field))
    person.subject_recorded_by = locked.subject_recorded_by
    person.subject_recorded_at = locked.subject_recorded_at
    return person


@transaction.atomic
def vehicle_get_or_create(
    *,
    agency: Agency,
    plate: str = "",
    plate_state: str = "",
    make: str = "",
    model: str = "",
    color: str = "",
    year: int | None = None,
    description: str = "",
    sensitivity: int = Sensitivity.RESTRICTED,
    actor: Any = None,
    visible_up_to: int | None = None,
) -> tuple[Vehicle, bool]:
    """Return the agency's vehicle with this plate and state (normalised), creating it if new.

    ``visible_up_to`` is the caller's clearance for vehicles: a record of the plate above it is
    not "found" (that would tell the caller a confidential record exists); the caller gets a
    record of their own level instead, exactly as if the plate were new. The plate is unique per
    agency and sensitivity level, so the confidential record stays as it was, and its readers see
    both.
    """
    norm_plate, norm_state = normalize_plate(plate), normalize_state(plate_state)
    if plate and not norm_plate:
        raise DomainError("A plate needs letters or digits.", field="plate")
    if plate_state and not norm_state:
        raise DomainError("Use the two-letter state or province code.", field="plate_state")
    if not norm_plate and not (make or model or description):
        raise DomainError("Give a plate, or a make/model/description.", field="plate")
    if year is not None:
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise DomainError("The model year must be a number.", field="year") from None
        if not 1900 <= year <= timezone.now().year + 1:
            raise DomainError("Not a plausible model year.", field="year")
    if sensitivity not in Sensitivity.values:
        raise DomainError("Unknown sensitivity level.", field="sensitivity")
    fields = {
        "make": make[:40],
        "model": model[:40],
        "color": color[:30],
        "year": year,
        "description": description[:5000],
        "sensitivity": sensitivity,
    }
    if norm_plate:
        same = Vehicle.objects.filter(agency=agency, plate=norm_plate, plate_state=norm_state)
        if visible_up_to is not None:
            same = same.filter(sensitivity__lte=visible_up_to)
        found = same.order_by("-sensitivity", "pk").first()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                vehicle, created = (
                    Vehicle.objects.create(
                        agency=agency, plate=norm_plate, plate_state=norm_state, **fields
                    ),
                    True,
                )
        except IntegrityError:  # recorded a moment ago by someone else, at this level
            return Vehicle.objects.get(
                agency=agency,
                plate=norm_plate,
                plate_state=norm_state,
                sensitivity=fields["sensitivity"],
            ), False
    else:
        vehicle, created = Vehicle.objects.create(agency=agency, **fields), True
    if created:
        # Finding one already on record changes nothing, so only a new record is an event.
        audit.record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=vehicle,
            details={"sensitivity": sensitivity},
        )
    return vehicle, created


@transaction.atomic
def involvement_create(
    *,
    actor: Any,
    role: str,
    person: Person | None = None,
    vehicle: Vehicle | None = None,
    call: Call | None = None,
    observation: FieldObservation | None = None,
    notes: str = "",
) -> Involvement:
    """Link a person or vehicle to a call or observation in a role (victim, suspect, driver, ...)."""
    if role not in InvolvementRole.values:
        raise DomainError(
            f"Unknown role; use one of {', '.join(InvolvementRole.values)}.", field="role"
        )
    if (person is None) == (vehicle is None):
        raise DomainError("Give exactly one of person or vehicle.", field="person")
    if (call is None) == (observation is None):
        raise DomainError("Give exactly one of call or observation.", field="call")
    entity_agency = (person or vehicle).agency_id  # type: ignore[union-attr]
    incident_agency = (call or observation).agency_id  # type: ignore[union-attr]
    if entity_agency != incident_agency:
        raise DomainError(
            "Person/vehicle and incident belong to different agencies.", field="person"
        )
    involvement = Involvement.objects.create(
        role=role,
        person=person,
        vehicle=vehicle,
        call=call,
        observation=observation,
        notes=_check_text(notes, "notes", 500),
        created_by=_actor(actor),
    )
    if call is not None:
        call = _lock_call(call.pk)
        label = str(person) if person else str(vehicle)
        _event(
            call,
            CallEventKind.INVOLVEMENT,
            actor,
            text=f"{role}: {label}",
            data={
                "role": role,
                "person_id": person.pk if person else None,
                "vehicle_id": vehicle.pk if vehicle else None,
            },
        )
        _bump(call, [])
        realtime.publish_call("call_updated", call)
    # Linking a person or vehicle to an incident is a combination (DPA 2018 s.62(1)(e)).
    # After the call lock, as in call_update: row locks first, then the chain lock, never the
    # reverse (two writers taking them in opposite orders would deadlock on PostgreSQL).
    audit.record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=involvement,
        agency_id=incident_agency,
        details={
            "combination": True,
            "role": role,
            "person": person.pk if person else None,
            "vehicle": vehicle.pk if vehicle else None,
            "call": call.pk if call else None,
            "observation": observation.pk if observation else None,
        },
    )
    return involvement


OPEN_STATUSES = OPEN_CALL_STATUSES  # re-exported for interfaces that filter open calls
