"""One access function per protected dispatch model; every interface goes through these.

Visibility is decided by :mod:`governance.access` (role x category x
sensitivity, and which agencies' records the user may see). A record the user
may not see raises ``NotFoundError`` exactly like a missing one, so nobody
learns that it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, QuerySet

from beacon_core.errors import NotFoundError
from dispatch.choices import CALLER_FIELDS, CallEventKind
from dispatch.models import (
    Call,
    CallEvent,
    FieldObservation,
    Location,
    Person,
    PremiseNote,
    Unit,
    Vehicle,
)
from governance import audit
from governance.access import (
    can,
    limit_need_to_know,
    max_sensitivity,
    may_write_agency,
    visible_agency_ids,
)
from governance.choices import Action, Category


def _by_agency(qs: QuerySet[Any], user: Any, category: str) -> QuerySet[Any]:
    agencies = visible_agency_ids(user, category)
    if agencies is None:
        return qs
    if not agencies:
        return qs.none()
    return qs.filter(agency_id__in=agencies)


def _by_sensitivity(qs: QuerySet[Any], user: Any, category: str) -> QuerySet[Any]:
    return qs.filter(sensitivity__lte=max_sensitivity(user, category))


def calls_visible_to(user: Any) -> QuerySet[Call]:
    return _by_agency(Call.objects.all(), user, Category.CALL)


def units_visible_to(user: Any) -> QuerySet[Unit]:
    return _by_agency(Unit.objects.all(), user, Category.UNIT)


def observations_visible_to(user: Any) -> QuerySet[FieldObservation]:
    qs = _by_agency(FieldObservation.objects.all(), user, Category.FIELD_OBSERVATION)
    return _by_sensitivity(qs, user, Category.FIELD_OBSERVATION)


def _persons_before_need_to_know(user: Any) -> QuerySet[Person]:
    return _by_sensitivity(
        _by_agency(Person.objects.all(), user, Category.PERSON), user, Category.PERSON
    )


def persons_visible_to(user: Any) -> QuerySet[Person]:
    """Persons of visible agencies, at the user's level, and not limited to need-to-know groups
    the user is outside of."""
    return limit_need_to_know(_persons_before_need_to_know(user), user)


def vehicles_visible_to(user: Any) -> QuerySet[Vehicle]:
    return _by_sensitivity(
        _by_agency(Vehicle.objects.all(), user, Category.VEHICLE), user, Category.VEHICLE
    )


def premise_notes_visible_to(user: Any) -> QuerySet[PremiseNote]:
    qs = _by_agency(PremiseNote.objects.all(), user, Category.PREMISE_NOTE)
    return _by_sensitivity(qs, user, Category.PREMISE_NOTE)


def locations_visible_to(user: Any) -> QuerySet[Location]:
    # Places are physical and shared between agencies; only the role decides.
    return (
        Location.objects.all()
        if can(user, Action.VIEW, Category.LOCATION)
        else Location.objects.none()
    )


def _access(qs: QuerySet[Any], pk: Any, user: Any, category: str, for_write: bool) -> Any:
    try:
        obj: Model = qs.get(pk=int(pk))
    except (TypeError, ValueError, qs.model.DoesNotExist):
        raise NotFoundError from None
    if for_write:
        agency_id = getattr(obj, "agency_id", None)
        if not can(user, Action.CHANGE, category) or (
            agency_id is not None and not may_write_agency(user, agency_id)
        ):
            raise PermissionDenied(f"Not allowed to change this {category.replace('_', ' ')}.")
    return obj


def access_call(user: Any, call_id: Any, *, for_write: bool = False) -> Call:
    """The call if the user may see it (and change it, with ``for_write``)."""
    return _access(
        calls_visible_to(user).select_related("call_type", "location", "disposition"),
        call_id,
        user,
        Category.CALL,
        for_write,
    )


def access_unit(user: Any, unit_id: Any, *, for_write: bool = False) -> Unit:
    """The unit if the user may see it (and change it, with ``for_write``)."""
    return _access(units_visible_to(user), unit_id, user, Category.UNIT, for_write)


def access_unit_status_write(user: Any, unit_id: Any) -> Unit:
    """The unit whose status the user may report: any unit of their agency for dispatchers and
    supervisors, only their own units for field staff (category ``own_unit``)."""
    unit = _access(units_visible_to(user), unit_id, user, Category.UNIT, False)
    if not may_write_agency(user, unit.agency_id):
        raise PermissionDenied("Not allowed to change this unit.")
    if can(user, Action.CHANGE, Category.UNIT):
        return unit
    if can(user, Action.CHANGE, Category.OWN_UNIT) and unit.users.filter(pk=user.pk).exists():
        return unit
    raise PermissionDenied("You are not signed to this unit.")


def access_unit_position_write(user: Any, unit_id: Any) -> Unit:
    """The unit whose AVL the user may post: field staff only for units they are assigned to."""
    # Whether the user is signed to it comes with the unit (a device posts every few seconds).
    signed = Unit.users.through.objects.filter(unit_id=OuterRef("pk"), user_id=user.pk)
    units = units_visible_to(user).annotate(user_is_signed=Exists(signed))
    unit = _access(units, unit_id, user, Category.UNIT, False)
    if not can(user, Action.CREATE, Category.AVL):
        raise PermissionDenied("Not allowed to post positions.")
    if not user.is_superuser and not unit.user_is_signed:
        raise PermissionDenied("You are not signed to this unit.")
    return unit


def access_observation(
    user: Any, observation_id: Any, *, for_write: bool = False
) -> FieldObservation:
    """The observation if the user may see it."""
    return _access(
        observations_visible_to(user).select_related("location"),
        observation_id,
        user,
        Category.FIELD_OBSERVATION,
        for_write,
    )


def access_person(user: Any, person_id: Any, *, for_write: bool = False) -> Person:
    """The person if the user may see them.

    A person hidden only by need-to-know answers like a missing one, and the refused attempt is
    audited once the answer is sent (28 CFR 23.20(d), CJIS 5.4.1.1).
    """
    try:
        return _access(persons_visible_to(user), person_id, user, Category.PERSON, for_write)
    except NotFoundError:
        audit.note_need_to_know_refusal(
            _persons_before_need_to_know(user), person_id, category=Category.PERSON
        )
        raise


def access_vehicle(user: Any, vehicle_id: Any, *, for_write: bool = False) -> Vehicle:
    """The vehicle if the user may see it."""
    return _access(vehicles_visible_to(user), vehicle_id, user, Category.VEHICLE, for_write)


def access_location(user: Any, location_id: Any, *, for_write: bool = False) -> Location:
    """The location if the user's role may see locations."""
    return _access(locations_visible_to(user), location_id, user, Category.LOCATION, for_write)


def can_see_caller_identity(user: Any) -> bool:
    """Caller name and phone are their own category; others see them redacted."""
    return can(user, Action.VIEW, Category.CALLER_IDENTITY)


def redact_call_events(user: Any, events: Iterable[CallEvent]) -> None:
    """Blank, in place, what a call's timeline says about records the user may not see.

    The timeline is part of the call, but its entries quote other categories: an involvement
    names the person or vehicle linked (which may be above the user's sensitivity level, or in a
    category their role lacks), and attached information and edits carry caller identity. Those
    entries stay, without the name or the record's id, so the record's existence is not told.
    """
    events = list(events)
    linked = [e for e in events if e.kind == CallEventKind.INVOLVEMENT and e.data]
    person_ids = {e.data.get("person_id") for e in linked} - {None}
    vehicle_ids = {e.data.get("vehicle_id") for e in linked} - {None}
    seen_persons = (
        set(persons_visible_to(user).filter(pk__in=person_ids).values_list("pk", flat=True))
        if person_ids
        else set()
    )
    seen_vehicles = (
        set(vehicles_visible_to(user).filter(pk__in=vehicle_ids).values_list("pk", flat=True))
        if vehicle_ids
        else set()
    )
    for event in linked:
        person_id, vehicle_id = event.data.get("person_id"), event.data.get("vehicle_id")
        if (person_id is not None and person_id not in seen_persons) or (
            vehicle_id is not None and vehicle_id not in seen_vehicles
        ):
            kind = "person" if person_id is not None else "vehicle"
            event.data = {**event.data, "person_id": None, "vehicle_id": None}
            event.text = f"{event.data.get('role', 'involved')}: a {kind} not shown to you"
    if can_see_caller_identity(user):
        return
    for event in events:
        data = dict(event.data or {})
        if not any(field in data for field in CALLER_FIELDS) and not isinstance(
            data.get("changes"), dict
        ):
            continue
        for field in CALLER_FIELDS:
            if field in data:
                data[field] = None
        changes = data.get("changes")
        if isinstance(changes, dict):
            data["changes"] = {
                name: ({"old": None, "new": None} if name in CALLER_FIELDS else change)
                for name, change in changes.items()
            }
        event.data = data
