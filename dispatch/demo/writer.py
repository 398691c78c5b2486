"""Write a :class:`~dispatch.demo.generator.DemoPlan` into the database, or remove it again.

History (closed calls, their timelines and assignments, observations, persons,
vehicles, involvements) goes in with ``bulk_create``: the rows are the ones the
services would write, and thousands of them must load in seconds. Everything
that is live - users, units, premise notes, open calls with their units, unit
statuses and AVL - goes through the services, so the console sees exactly what
it would see in operation.

Demo data is recognised by its locality (``HARBOR CITY``) on locations, by the
calls and observations at those locations, by the demo call signs, and by the
``@harborcity.example`` address of the demo logins; ``--reset`` removes only
those.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from tqdm import tqdm

from dispatch import services
from dispatch.addressing import name_key, normalize_address
from dispatch.choices import CallEventKind, CallStatus, UnitStatus
from dispatch.demo.generator import CAMPUS_AGENCY, CITY_AGENCY, CITY_NAME, LOCALITY, DemoPlan
from dispatch.demo.signals import demo_seeded
from dispatch.geo import h3_cells
from dispatch.models import (
    Call,
    CallAssignment,
    CallEvent,
    CallNumberCounter,
    CallType,
    Disposition,
    FieldObservation,
    Involvement,
    Location,
    Person,
    Unit,
    Vehicle,
)
from governance import audit
from governance.choices import AuditAction, Category
from governance.models import Agency, AgencyShare
from governance.services import agency_get_or_create_default, roles_ensure, user_create

DEMO_PASSWORD = "beacon-demo-2026"  # noqa: S105  printed on screen; demo logins only
DEMO_EMAIL_DOMAIN = "harborcity.example"  # reserved for examples (RFC 2606); marks demo logins
BATCH = 500

M = TypeVar("M", bound=models.Model)


class DemoError(Exception):
    """The demo data cannot be written (weak password, missing reference data, blocked reset)."""


@dataclass
class SeedResult:
    """What a seed run wrote."""

    counts: dict[str, int]
    logins: list[tuple[str, str, str]]  # username, roles, password ("(unchanged)" if it existed)
    skipped_users: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_present() -> bool:
    """True if Harbor City demo data is in the database (one indexed query)."""
    return Location.objects.filter(locality=LOCALITY).exists()


def demo_email(username: str) -> str:
    """The e-mail address that marks a login as a demo login."""
    return f"{username}@{DEMO_EMAIL_DOMAIN}"


def password_check(plan: DemoPlan, password: str) -> None:
    """Refuse a password the site's validators would refuse for any of the demo logins."""
    user_model = get_user_model()
    for spec in plan.users:
        probe = user_model(
            username=spec.username,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=demo_email(spec.username),
        )
        try:
            validate_password(password, user=probe)
        except ValidationError as exc:
            raise DemoError(
                f"Password refused for demo user {spec.username}: {' '.join(exc.messages)}"
            ) from None


def _bar(total: int, desc: str, enabled: bool) -> tqdm:
    return tqdm(total=total, desc=desc, unit="row", leave=False, disable=not enabled)


def _chunks(rows: Sequence[M], size: int = BATCH) -> Iterator[Sequence[M]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(model: type[M], rows: Sequence[M], desc: str, progress: bool) -> list[M]:
    """Insert rows in batches with a progress bar; the rows come back with their keys."""
    with _bar(len(rows), desc, progress) as bar:
        for chunk in _chunks(rows):
            model.objects.bulk_create(chunk)
            bar.update(len(chunk))
    if rows and rows[0].pk is None:  # pragma: no cover - every supported backend returns keys
        raise DemoError(f"The database did not return keys for {model.__name__} rows.")
    return list(rows)


class _Writer:
    """One seed run; keeps the maps from plan indices to database rows."""

    def __init__(self, plan: DemoPlan, *, password: str, now: dt.datetime, progress: bool) -> None:
        self.plan, self.password, self.now, self.progress = plan, password, now, progress
        self.counts: dict[str, int] = {}
        self.logins: list[tuple[str, str, str]] = []
        self.skipped: list[str] = []

    # --- reference data, agencies, users -------------------------------------------------

    def reference(self) -> None:
        plan = self.plan
        wanted_types = {c.call_type for c in plan.calls} | {c.call_type for c in plan.open_calls}
        self.types = {ct.code: ct for ct in CallType.objects.filter(code__in=wanted_types)}
        wanted_dispos = {c.disposition for c in plan.calls}
        self.dispositions = {d.code: d for d in Disposition.objects.filter(code__in=wanted_dispos)}
        missing = sorted(wanted_types - set(self.types)) + sorted(
            wanted_dispos - set(self.dispositions)
        )
        if missing:
            raise DemoError(
                "Reference data is missing (run `manage.py migrate`): " + ", ".join(missing)
            )
        roles_ensure()

    def agencies(self) -> None:
        self.agency: dict[str, Agency] = {}
        for spec in self.plan.agencies:
            if spec.key == CITY_AGENCY:
                agency = agency_get_or_create_default()
                if agency.name == "Default agency":
                    # Only the untouched default is renamed; a real installation keeps its name.
                    Agency.objects.filter(pk=agency.pk).update(name=spec.name)
                    agency.name = spec.name
            else:
                agency, _ = Agency.objects.get_or_create(
                    code=spec.code, defaults={"name": spec.name, "kind": spec.kind}
                )
            self.agency[spec.key] = agency
        if CAMPUS_AGENCY in self.agency:
            # A combined dispatch centre: the city sees the campus's calls and units.
            for category in (Category.CALL, Category.UNIT):
                AgencyShare.objects.get_or_create(
                    owner=self.agency[CAMPUS_AGENCY],
                    viewer=self.agency[CITY_AGENCY],
                    category=category,
                )

    def users(self) -> None:
        user_model = get_user_model()
        self.user: dict[str, Any] = {}
        existing = {
            u.username: u for u in user_model.objects.filter(username__in=self._usernames())
        }
        for spec in self.plan.users:
            roles = ", ".join(spec.roles)
            if spec.username in existing:
                # Never overwrite someone's account: keep it, and say the password is theirs.
                self.user[spec.username] = existing[spec.username]
                self.skipped.append(spec.username)
                self.logins.append((spec.username, roles, "(existing account, unchanged)"))
                continue
            self.user[spec.username] = user_create(
                username=spec.username,
                password=self.password,
                roles=list(spec.roles),
                agency=self.agency[spec.agency],
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=demo_email(spec.username),
            )
            self.logins.append((spec.username, roles, self.password))
        self.dispatcher = self.user.get("dispatcher")
        self.counts["users"] = len(self.plan.users) - len(self.skipped)

    def _desk_id(self, agency_key: str) -> int | None:
        desk = self._desk(agency_key)
        return desk.pk if desk is not None else None

    def _usernames(self) -> list[str]:
        return [u.username for u in self.plan.users]

    def _desk(self, agency_key: str) -> Any:
        """Who logs calls for an agency (the campus login for campus calls)."""
        if agency_key == CAMPUS_AGENCY and "campus" in self.user:
            return self.user["campus"]
        return self.dispatcher

    # --- places, notes, units --------------------------------------------------------------

    def locations(self) -> None:
        specs = self.plan.locations
        norms = [normalize_address(spec.address) for spec in specs]
        keys = [n.key[:255] for n in norms]
        have = dict(
            Location.objects.filter(locality=LOCALITY, address_key__in=keys).values_list(
                "address_key", "pk"
            )
        )
        self.cells = [h3_cells(s.latitude, s.longitude) for s in specs]
        rows = [
            Location(
                address_key=key,
                locality=LOCALITY,
                display_address=norm.display[:255],
                raw_address=spec.address,
                kind=norm.kind,
                street_line=norm.street_line[:255],
                unit_designator=norm.unit[:32],
                latitude=spec.latitude,
                longitude=spec.longitude,
                **cells,
            )
            for spec, norm, key, cells in zip(specs, norms, keys, self.cells, strict=True)
            if key not in have
        ]
        _bulk(Location, rows, "locations", self.progress)
        have = dict(
            Location.objects.filter(locality=LOCALITY, address_key__in=keys).values_list(
                "address_key", "pk"
            )
        )
        self.location_ids = [have[key] for key in keys]
        self.counts["locations"] = len(rows)

    def premise_notes(self) -> None:
        wanted = {n.location for n in self.plan.premise_notes}
        objs = Location.objects.in_bulk([self.location_ids[i] for i in wanted])
        for note in self.plan.premise_notes:
            services.premise_note_create(
                location=objs[self.location_ids[note.location]],
                agency=self.agency[note.agency],
                actor=self.user.get("supervisor") or self.dispatcher,
                text=note.text,
                kind=note.kind,
                sensitivity=note.sensitivity,
            )
        self.counts["premise_notes"] = len(self.plan.premise_notes)

    def units(self) -> None:
        self.unit: dict[str, Unit] = {}
        created = 0
        for spec in self.plan.units:
            agency = self.agency[spec.agency]
            unit = Unit.objects.filter(agency=agency, call_sign=spec.call_sign).first()
            if unit is None:
                unit = services.unit_create(
                    agency=agency,
                    call_sign=spec.call_sign,
                    kind=spec.kind,
                    home_area=spec.home_area,
                    users=[self.user[name] for name in spec.users if name in self.user],
                )
                created += 1
            self.unit[spec.call_sign] = unit
        self.counts["units"] = created

    # --- people ---------------------------------------------------------------------------

    def people(self) -> None:
        persons = [
            Person(
                agency=self.agency[p.agency],
                last_name=p.last_name,
                first_name=p.first_name,
                middle_name=p.middle_name,
                date_of_birth=p.date_of_birth,
                sex=p.sex,
                name_key=name_key(p.last_name, p.first_name),
                description=p.description,
                sensitivity=p.sensitivity,
            )
            for p in self.plan.persons
        ]
        self.persons = _bulk(Person, persons, "persons", self.progress)
        self.counts["persons"] = len(persons)
        # A plate already known to the agency is the same car: reuse it (unique per agency).
        known: dict[tuple[int, str, str], Vehicle] = {}
        for agency in self.agency.values():
            for v in Vehicle.objects.filter(
                agency=agency, plate__in=[s.plate for s in self.plan.vehicles]
            ):
                known[(agency.pk, v.plate, v.plate_state)] = v
        self.vehicles: list[Vehicle] = []
        new: list[Vehicle] = []
        for s in self.plan.vehicles:
            agency = self.agency[s.agency]
            vehicle = known.get((agency.pk, s.plate, s.plate_state))
            if vehicle is None:
                vehicle = Vehicle(
                    agency=agency,
                    plate=s.plate,
                    plate_state=s.plate_state,
                    make=s.make,
                    model=s.model,
                    color=s.color,
                    year=s.year,
                    description=s.description,
                )
                known[(agency.pk, s.plate, s.plate_state)] = vehicle
                new.append(vehicle)
            self.vehicles.append(vehicle)
        _bulk(Vehicle, new, "vehicles", self.progress)
        self.counts["vehicles"] = len(new)

    # --- history ----------------------------------------------------------------------------

    def calls(self) -> None:
        plan = self.plan
        tz = ZoneInfo(settings.BEACON_TIME_ZONE)
        by_year: dict[int, list[int]] = {}
        for k, c in enumerate(plan.calls):
            by_year.setdefault(c.received_at.astimezone(tz).year, []).append(k)
        numbers: list[str] = [""] * len(plan.calls)
        for year in sorted(by_year):
            indices = by_year[year]
            for k, number in zip(
                indices,
                services.call_numbers_allocate(year=year, count=len(indices)),
                strict=True,
            ):
                numbers[k] = number
        rows = []
        for k, c in enumerate(plan.calls):
            loc = plan.locations[c.location]
            rows.append(
                Call(
                    agency_id=self.agency[c.agency].pk,
                    number=numbers[k],
                    call_type_id=self.types[c.call_type].pk,
                    priority=c.priority,
                    status=CallStatus.CLOSED,
                    source=c.source,
                    caller_name=c.caller_name,
                    caller_phone=c.caller_phone,
                    narrative=c.narrative,
                    disposition_id=self.dispositions[c.disposition].pk,
                    location_id=self.location_ids[c.location],
                    address_given=loc.address,
                    received_at=c.received_at,
                    dispatched_at=c.dispatched_at,
                    en_route_at=c.en_route_at,
                    on_scene_at=c.on_scene_at,
                    cleared_at=c.cleared_at,
                    closed_at=c.closed_at,
                    created_by_id=self._desk_id(c.agency),
                    latitude=loc.latitude,
                    longitude=loc.longitude,
                    **self.cells[c.location],
                )
            )
        self.calls_rows = _bulk(Call, rows, "calls", self.progress)
        self.counts["calls"] = len(rows)

    def timelines(self) -> None:
        """Assignments and the timeline each closed call would have had."""
        assignments: list[CallAssignment] = []
        events: list[CallEvent] = []
        for spec, call in zip(self.plan.calls, self.calls_rows, strict=True):
            desk = self._desk_id(spec.agency)
            call_id = call.pk
            events.append(
                CallEvent(
                    call_id=call_id,
                    at=spec.received_at,
                    kind=CallEventKind.CREATED,
                    actor_id=desk,
                    text=f"{spec.call_type} P{spec.priority}",
                )
            )
            previous = CallStatus.PENDING
            for status, at in (
                (CallStatus.DISPATCHED, spec.dispatched_at),
                (CallStatus.EN_ROUTE, spec.en_route_at),
                (CallStatus.ON_SCENE, spec.on_scene_at),
                (CallStatus.CLEARED, spec.cleared_at),
            ):
                if at is None:
                    continue
                events.append(
                    CallEvent(
                        call_id=call_id,
                        at=at,
                        kind=CallEventKind.STATUS,
                        actor_id=desk,
                        data={"old": previous, "new": status},
                    )
                )
                previous = status
            events.append(
                CallEvent(
                    call_id=call_id,
                    at=spec.closed_at,
                    kind=CallEventKind.STATUS,
                    actor_id=desk,
                    data={
                        "old": previous,
                        "new": CallStatus.CLOSED,
                        "disposition": spec.disposition,
                    },
                )
            )
            for leg in spec.units:
                unit_id = self.unit[leg.call_sign].pk
                assignments.append(
                    CallAssignment(
                        call_id=call_id,
                        unit_id=unit_id,
                        assigned_at=leg.assigned_at,
                        assigned_by_id=desk,
                        en_route_at=leg.en_route_at,
                        on_scene_at=leg.on_scene_at,
                        cleared_at=leg.cleared_at,
                    )
                )
                events.append(
                    CallEvent(
                        call_id=call_id,
                        at=leg.assigned_at,
                        kind=CallEventKind.UNIT_ASSIGNED,
                        actor_id=desk,
                        data={"unit": leg.call_sign, "unit_id": unit_id},
                    )
                )
                for status, at in (("on_scene", leg.on_scene_at), ("cleared", leg.cleared_at)):
                    if at is not None:
                        events.append(
                            CallEvent(
                                call_id=call_id,
                                at=at,
                                kind=CallEventKind.UNIT_STATUS,
                                data={"unit": leg.call_sign, "status": status},
                            )
                        )
        _bulk(CallAssignment, assignments, "assignments", self.progress)
        _bulk(CallEvent, events, "timeline", self.progress)
        self.counts["call_events"] = len(events)

    def observations(self) -> None:
        plan = self.plan
        rows = []
        for o in plan.observations:
            loc = plan.locations[o.location]
            rows.append(
                FieldObservation(
                    agency=self.agency[o.agency],
                    observed_at=o.observed_at,
                    location_id=self.location_ids[o.location],
                    category=o.category,
                    narrative=o.narrative,
                    reported_by=self.user.get(o.reported_by),
                    call=None if o.call is None else self.calls_rows[o.call],
                    sensitivity=o.sensitivity,
                    latitude=loc.latitude,
                    longitude=loc.longitude,
                    **self.cells[o.location],
                )
            )
        self.observation_rows = _bulk(FieldObservation, rows, "observations", self.progress)
        self.counts["observations"] = len(rows)

    def involvements(self) -> None:
        plan = self.plan
        rows: list[Involvement] = []
        events: list[CallEvent] = []
        for inv in plan.involvements:
            person = None if inv.person is None else self.persons[inv.person]
            vehicle = None if inv.vehicle is None else self.vehicles[inv.vehicle]
            call = None if inv.call is None else self.calls_rows[inv.call]
            obs = None if inv.observation is None else self.observation_rows[inv.observation]
            agency_key = (
                plan.calls[inv.call].agency
                if inv.call is not None
                else plan.observations[inv.observation].agency  # type: ignore[index]
            )
            rows.append(
                Involvement(
                    role=inv.role,
                    person=person,
                    vehicle=vehicle,
                    call=call,
                    observation=obs,
                    notes=inv.notes,
                    created_by=self._desk(agency_key),
                )
            )
            if call is not None and inv.call is not None:
                spec = plan.calls[inv.call]
                label = (
                    f"{person.last_name}, {person.first_name}"
                    if person is not None
                    else f"{vehicle.plate_state} {vehicle.plate}"  # type: ignore[union-attr]
                )
                events.append(
                    CallEvent(
                        call=call,
                        at=spec.on_scene_at or spec.closed_at,
                        kind=CallEventKind.INVOLVEMENT,
                        actor=self._desk(agency_key),
                        text=f"{inv.role}: {label}",
                        data={
                            "role": inv.role,
                            "person_id": person.pk if person else None,
                            "vehicle_id": vehicle.pk if vehicle else None,
                        },
                    )
                )
        _bulk(Involvement, rows, "involvements", self.progress)
        _bulk(CallEvent, events, "involvement events", self.progress)
        self.counts["involvements"] = len(rows)
        self.counts["call_events"] = self.counts.get("call_events", 0) + len(events)

    # --- live state -------------------------------------------------------------------------

    def tracks(self) -> None:
        fixes = 0
        with _bar(sum(len(t.fixes) for t in self.plan.tracks), "avl", self.progress) as bar:
            for track in self.plan.tracks:
                result = services.unit_positions_record(
                    unit_id=self.unit[track.call_sign].pk,
                    positions=[
                        {
                            "recorded_at": self.now - dt.timedelta(seconds=f.seconds_ago),
                            "latitude": f.latitude,
                            "longitude": f.longitude,
                            "heading": f.heading,
                            "speed": f.speed,
                            "accuracy": 5.0,
                        }
                        for f in track.fixes
                    ],
                )
                fixes += result["stored"]
                bar.update(len(track.fixes))
        self.counts["avl_fixes"] = fixes

    def open_calls(self) -> None:
        plan = self.plan
        count = 0
        # Oldest first, so call numbers follow the order the calls came in.
        for spec in sorted(plan.open_calls, key=lambda oc: -oc.minutes_ago):
            loc = plan.locations[spec.location]
            desk = self._desk(spec.agency)
            received = self.now - dt.timedelta(minutes=spec.minutes_ago)
            call = services.call_create(
                agency=self.agency[spec.agency],
                actor=desk,
                call_type=self.types[spec.call_type],
                priority=spec.priority,
                source=spec.source,
                address=loc.address,
                locality=CITY_NAME,
                latitude=loc.latitude,
                longitude=loc.longitude,
                caller_name=spec.caller_name,
                caller_phone=spec.caller_phone,
                narrative=spec.narrative,
                received_at=received,
            )
            for sign, status in spec.units:
                unit = self.unit[sign]
                services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=desk)
                crew = unit.users.first() or desk
                steps = {"en_route": ["en_route"], "on_scene": ["en_route", "on_scene"]}
                for step in steps.get(status, []):
                    services.unit_set_status(unit_id=unit.pk, actor=crew, status=step)
            for role, index in spec.persons:
                services.involvement_create(
                    actor=desk, role=role, person=self.persons[index], call=call
                )
            self._backdate(call, received, len(spec.units) > 0)
            count += 1
        self.counts["open_calls"] = count

    def _backdate(self, call: Call, received: dt.datetime, dispatched: bool) -> None:
        """Spread an open call's progress over the minutes since it came in.

        The services stamp every step with the moment of seeding; a call received
        18 minutes ago would otherwise have been dispatched, driven to and reached
        in the same second. Only rows written a moment ago in this transaction change.
        """
        if not dispatched:
            return
        elapsed = (self.now - received).total_seconds()
        stamps = {
            "dispatched": received + dt.timedelta(seconds=min(90, elapsed * 0.1)),
            "en_route": received + dt.timedelta(seconds=min(150, elapsed * 0.2)),
            "on_scene": received + dt.timedelta(seconds=min(480, elapsed * 0.5)),
        }
        call.refresh_from_db()
        changed = []
        for name in ("dispatched", "en_route", "on_scene"):
            if getattr(call, f"{name}_at") is not None:
                setattr(call, f"{name}_at", stamps[name])
                changed.append(f"{name}_at")
        if changed:
            Call.objects.filter(pk=call.pk).update(**{f: getattr(call, f) for f in changed})
        for assignment in call.assignments.all():
            assignment.assigned_at = stamps["dispatched"]
            if assignment.en_route_at is not None:
                assignment.en_route_at = stamps["en_route"]
            if assignment.on_scene_at is not None:
                assignment.on_scene_at = stamps["on_scene"]
            assignment.save(update_fields=["assigned_at", "en_route_at", "on_scene_at"])
            Unit.objects.filter(pk=assignment.unit_id).update(
                status_changed_at=assignment.on_scene_at
                or assignment.en_route_at
                or assignment.assigned_at
            )
        events = list(call.events.exclude(kind=CallEventKind.CREATED))
        for event in events:
            step = event.data.get("new") or event.data.get("status")
            if event.kind == CallEventKind.UNIT_ASSIGNED:
                step = "dispatched"
            if step in stamps:
                event.at = stamps[step]
        CallEvent.objects.bulk_update(events, ["at"])

    def unit_statuses(self) -> None:
        for spec in self.plan.units:
            if spec.status != UnitStatus.AVAILABLE:
                services.unit_set_status(
                    unit_id=self.unit[spec.call_sign].pk, actor=self.dispatcher, status=spec.status
                )


def seed_write(
    plan: DemoPlan,
    *,
    password: str = DEMO_PASSWORD,
    reset: bool = False,
    now: dt.datetime | None = None,
    progress: bool = False,
) -> SeedResult:
    """Write the plan in one transaction (after removing earlier demo data when ``reset``)."""
    started = time.perf_counter()
    password_check(plan, password)
    moment = (now or timezone.now()).replace(microsecond=0)
    writer = _Writer(plan, password=password, now=moment, progress=progress)
    with transaction.atomic():
        removed = demo_remove(plan) if reset else {}
        writer.reference()
        writer.agencies()
        writer.users()
        writer.locations()
        writer.premise_notes()
        writer.units()
        writer.people()
        writer.calls()
        writer.timelines()
        writer.observations()
        writer.involvements()
        writer.tracks()
        writer.unit_statuses()
        writer.open_calls()
        demo_seeded.send(
            sender=seed_write, agencies=writer.agency, users=writer.user, units=writer.unit
        )
    return SeedResult(
        counts=writer.counts,
        logins=writer.logins,
        skipped_users=writer.skipped,
        removed=removed,
        seconds=time.perf_counter() - started,
    )


def _ids(rows: Iterable[int | None]) -> set[int]:
    return {r for r in rows if r is not None}


@transaction.atomic
def demo_remove(plan: DemoPlan) -> dict[str, int]:
    """Delete the demo data (and only it); resets call-number counters to the highest number left.

    Demo data: locations in Harbor City, calls and cards there or made by the demo
    logins, persons and vehicles that figure in nothing else, the demo units, the
    demo logins (marked by their e-mail domain) and the campus agency once empty.
    """
    locations = Location.objects.filter(locality=LOCALITY)
    demo_users = get_user_model().objects.filter(
        username__in=[u.username for u in plan.users],
        email__endswith=f"@{DEMO_EMAIL_DOMAIN}",
    )
    # What people did while trying the demo (a call typed at any address, a card
    # filed from the phone) is demo data too; otherwise its demo units block the reset.
    calls = Call.objects.filter(Q(location__in=locations) | Q(created_by__in=demo_users))
    observations = FieldObservation.objects.filter(
        Q(location__in=locations) | Q(call__in=calls) | Q(reported_by__in=demo_users)
    )
    involvements = Involvement.objects.filter(Q(call__in=calls) | Q(observation__in=observations))
    person_ids = _ids(involvements.values_list("person_id", flat=True))
    vehicle_ids = _ids(involvements.values_list("vehicle_id", flat=True))
    removed = {
        "calls": calls.count(),
        "observations": observations.count(),
        "locations": locations.count(),
    }
    try:
        involvements.delete()
        observations.delete()
        calls.delete()
        # People and cars that figure in nothing else were demo people and cars.
        removed["persons"] = Person.objects.filter(
            pk__in=person_ids, involvements__isnull=True
        ).delete()[0]
        removed["vehicles"] = Vehicle.objects.filter(
            pk__in=vehicle_ids, involvements__isnull=True
        ).delete()[0]
        agencies = {a.key: Agency.objects.filter(code=a.code).first() for a in plan.agencies}
        unit_q = Q(pk__in=[])
        for spec in plan.units:
            agency = agencies.get(spec.agency)
            if agency is not None:
                unit_q |= Q(agency=agency, call_sign=spec.call_sign)
        removed["units"] = Unit.objects.filter(unit_q).count()
        Unit.objects.filter(unit_q).delete()
        locations.delete()
        removed["users"] = demo_users.count()
        demo_users.delete()
    except ProtectedError as exc:
        blockers = sorted({type(obj).__name__ for obj in exc.protected_objects})
        raise DemoError(
            "Demo data is referenced by other records and was left in place: " + ", ".join(blockers)
        ) from None
    for spec in plan.agencies:
        if spec.key == CITY_AGENCY:
            continue  # the installation's default agency stays
        try:
            with transaction.atomic():
                Agency.objects.filter(code=spec.code).delete()
        except ProtectedError:
            pass  # still has records of its own: keep it
    for counter in CallNumberCounter.objects.select_for_update():
        # Numbers of deleted demo calls are handed out again, so a reseed numbers alike.
        top = (
            Call.objects.filter(number__startswith=f"{counter.year}-")
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        counter.last = int(top.split("-", 1)[1]) if top else 0
        counter.save(update_fields=["last"])
    # Erasure is logged (DPA 2018 s.62): one summary event with the counts, not one per row.
    audit.record(
        action=AuditAction.DELETE,
        actor_username="system:seed_demo",
        object_type="dispatch.demo",
        object_label="Demo data reset",
        details={"removed": removed},
    )
    return removed
