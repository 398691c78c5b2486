"""seed_demo: the pure generator plants what it says it plants, and the command writes it once."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from dispatch import services
from dispatch.addressing import normalize_address
from dispatch.choices import CallStatus
from dispatch.demo.generator import (
    CHAIN_DAYS,
    CHAIN_RADIUS_M,
    LOCALITY,
    DemoPlan,
    distance_m,
    generate,
)
from dispatch.demo.writer import DEMO_PASSWORD
from dispatch.geo import haversine_m
from dispatch.models import (
    Call,
    CallAssignment,
    CallEvent,
    CallType,
    FieldObservation,
    Involvement,
    Location,
    Person,
    PremiseNote,
    Unit,
    UnitPosition,
    Vehicle,
)
from governance.access import user_roles
from governance.choices import Role
from governance.models import Agency, AgencyShare

TZ = "America/Chicago"
ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # generator tests only: any fixed instant
DAYS = 21


@pytest.fixture(scope="module")
def plan() -> DemoPlan:
    return generate(seed=7, days=DAYS, anchor=ANCHOR, time_zone=TZ)


def _local(when: dt.datetime) -> dt.datetime:
    return when.astimezone(ZoneInfo(TZ))


# --- the pure generator -------------------------------------------------------------------


def test_same_seed_same_plan_and_other_seed_differs(plan: DemoPlan) -> None:
    again = generate(seed=7, days=DAYS, anchor=ANCHOR, time_zone=TZ)
    assert again == plan
    other = generate(seed=8, days=DAYS, anchor=ANCHOR, time_zone=TZ)
    assert other.calls != plan.calls
    assert [c.received_at for c in other.calls] != [c.received_at for c in plan.calls]


def test_anchor_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        generate(seed=1, days=5, anchor=dt.datetime(2026, 3, 1))  # noqa: DTZ001


@pytest.mark.parametrize("days", [1, 3, 6, 9])
@pytest.mark.parametrize("hours", [0, 29, 77, 130])
def test_short_histories_at_any_hour_still_plant_chains(days: int, hours: int) -> None:
    anchor = ANCHOR + dt.timedelta(hours=hours)
    short = generate(seed=hours, days=days, anchor=anchor, calls_per_day=15)
    assert short.calls and len(short.burglary_chains) >= 2
    for chain in short.burglary_chains:
        first = short.calls[chain.calls[0]].received_at
        assert all(
            dt.timedelta(0) <= short.calls[k].received_at - first <= dt.timedelta(days=CHAIN_DAYS)
            for k in chain.calls
        )
    assert all(c.closed_at <= anchor for c in short.calls)
    assert all(r.calls or r.observations for r in short.recurring_persons)


def test_addresses_are_already_normalised(plan: DemoPlan) -> None:
    addresses = [loc.address for loc in plan.locations]
    assert len(set(addresses)) == len(addresses)
    for address in addresses:
        assert normalize_address(address).key == address
    kinds = Counter(loc.kind for loc in plan.locations)
    assert kinds["premise"] >= 300 and kinds["intersection"] >= 30 and kinds["block"] >= 10
    assert any("#" in a for a in addresses)  # apartments


def test_lifecycles_are_ordered_and_end_before_the_anchor(plan: DemoPlan) -> None:
    assert len(plan.calls) > 40 * DAYS
    for c in plan.calls:
        assert plan.start <= c.received_at < plan.anchor
        assert c.received_at.tzinfo is not None
        stamps = [
            t
            for t in (c.received_at, c.dispatched_at, c.en_route_at, c.on_scene_at, c.cleared_at)
            if t is not None
        ]
        assert stamps == sorted(stamps)
        assert stamps[-1] <= c.closed_at <= plan.anchor
        for leg in c.units:
            assert leg.assigned_at <= leg.cleared_at


def test_a_few_places_hold_a_large_share_of_calls(plan: DemoPlan) -> None:
    per_location = Counter(c.location for c in plan.calls)
    counts = sorted(per_location.values(), reverse=True)
    top = max(1, round(len(counts) * 0.05))
    assert sum(counts[:top]) / sum(counts) >= 0.30
    # The planted problem premises are the heaviest places.
    heaviest = {loc for loc, _n in per_location.most_common(8)}
    planted = {p.location for p in plan.problem_premises}
    assert len(heaviest & planted) >= 6


def test_the_bar_window_is_far_above_uniform(plan: DemoPlan) -> None:
    window = plan.time_windows[0]
    assert plan.locations[window.location].name == "THE ANCHOR BAR"
    calls = [
        c for c in plan.calls if c.location == window.location and c.call_type in window.call_types
    ]
    assert len(calls) >= 20
    inside = sum(window.contains(_local(c.received_at)) for c in calls) / len(calls)
    assert window.uniform_share == pytest.approx(8 / 168)
    assert inside >= 5 * window.uniform_share
    assert inside >= 0.5


def test_evening_and_weekend_peaks(plan: DemoPlan) -> None:
    local = [_local(c.received_at) for c in plan.calls]
    by_hour = Counter(t.hour for t in local)
    evening = sum(by_hour[h] for h in range(18, 24))
    small_hours = sum(by_hour[h] for h in range(3, 9))
    assert evening > 2 * small_hours
    nights = Counter(t.weekday() for t in local if t.hour >= 18)
    weekend_nights = (nights[4] + nights[5]) / 2
    weekday_nights = sum(nights[d] for d in range(4)) / 4
    assert weekend_nights > 1.2 * weekday_nights


def test_burglary_chains_are_near_repeats(plan: DemoPlan) -> None:
    assert len(plan.burglary_chains) >= 2
    for chain in plan.burglary_chains:
        assert chain.radius_m == CHAIN_RADIUS_M and chain.days == CHAIN_DAYS
        assert len(chain.calls) >= 3
        first = plan.calls[chain.calls[0]]
        origin = plan.locations[first.location]
        for index in chain.calls:
            call = plan.calls[index]
            place = plan.locations[call.location]
            assert call.call_type == "BURG-RES"
            assert call.stream == f"chain:{chain.chain_id}"
            assert (
                haversine_m(origin.latitude, origin.longitude, place.latitude, place.longitude)
                <= CHAIN_RADIUS_M
            )
            assert dt.timedelta(0) <= call.received_at - first.received_at <= dt.timedelta(days=7)


def test_hot_areas_are_compact_and_one_is_emerging(plan: DemoPlan) -> None:
    for area in plan.hot_areas:
        calls = [c for c in plan.calls if c.stream == f"hot:{area.name}"]
        assert len(calls) >= 10
        far = [
            c
            for c in calls
            if distance_m(
                area.latitude,
                area.longitude,
                plan.locations[c.location].latitude,
                plan.locations[c.location].longitude,
            )
            > 3 * area.sigma_m + 150
        ]
        assert len(far) <= 0.05 * len(calls)
    emerging = next(a for a in plan.hot_areas if a.trend == "emerging")
    calls = [c for c in plan.calls if c.stream == f"hot:{emerging.name}"]
    late = plan.anchor - dt.timedelta(days=DAYS / 3)
    assert sum(c.received_at >= late for c in calls) > 0.5 * len(calls)


def test_recurring_persons_and_vehicles(plan: DemoPlan) -> None:
    assert len(plan.recurring_persons) == 8 and len(plan.recurring_vehicles) == 5
    for entity in plan.recurring_persons:
        assert len(entity.calls) + len(entity.observations) >= 3, entity.label
    multi_role = [p for p in plan.recurring_persons if len(p.roles) >= 2]
    assert len(multi_role) >= 6
    for entity in plan.recurring_vehicles:
        assert len(entity.calls) + len(entity.observations) >= 2, entity.label
    # Every planted link is really in the involvement rows.
    for entity in plan.recurring_persons:
        linked = {
            i.call for i in plan.involvements if i.person == entity.index and i.call is not None
        }
        assert linked == set(entity.calls)
    # The couple share their domestic calls: a link for the analyses to find.
    salazar, cole = plan.recurring_persons[1], plan.recurring_persons[2]
    assert len(set(salazar.calls) & set(cole.calls)) >= 3
    # The burglary-chain car turns up at calls of the chains.
    civic = plan.recurring_vehicles[0]
    chain_calls = {k for chain in plan.burglary_chains for k in chain.calls}
    assert set(civic.calls) & chain_calls


def test_observations_and_notes(plan: DemoPlan) -> None:
    assert len(plan.observations) >= 2 * DAYS
    categories = Counter(o.category for o in plan.observations)
    assert len(categories) >= 5
    planted = {loc for p in plan.problem_premises for loc in (p.location, *p.sub_locations)}
    at_problem = [o for o in plan.observations if o.location in planted]
    assert len(at_problem) >= 0.2 * len(plan.observations)
    linked = [o for o in plan.observations if o.call is not None]
    for o in linked:
        call = plan.calls[o.call]
        assert call.location == o.location and call.received_at < o.observed_at
    kinds = Counter((n.kind, n.sensitivity) for n in plan.premise_notes)
    assert kinds[("hazard", 1)] >= 2 and any(level == 3 for _kind, level in kinds)


def test_open_calls_and_tracks(plan: DemoPlan) -> None:
    states = {status for oc in plan.open_calls for _sign, status in oc.units}
    assert {"dispatched", "en_route", "on_scene"} <= states
    assert any(not oc.units for oc in plan.open_calls)  # pending ones too
    signs = [sign for oc in plan.open_calls for sign, _status in oc.units]
    assert len(signs) == len(set(signs))
    on_duty = {u.call_sign for u in plan.units if u.status != "off_duty"}
    assert {t.call_sign for t in plan.tracks} == on_duty
    for track in plan.tracks:
        ages = [f.seconds_ago for f in track.fixes]
        assert ages == sorted(ages, reverse=True) and ages[-1] == 0


# --- the command ----------------------------------------------------------------------------


def _anchor() -> dt.datetime:
    """A recent whole hour in the past, so the command accepts it on any test day."""
    return (timezone.now() - dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _closed_digest() -> list[tuple[object, ...]]:
    return list(
        Call.objects.filter(status=CallStatus.CLOSED)
        .order_by("number")
        .values_list("number", "received_at", "call_type__code", "location__address_key")
    )


@pytest.mark.django_db
def test_seed_demo_writes_a_working_jurisdiction(reference_data: None) -> None:
    anchor = _anchor()
    output = _seed("--days", str(DAYS), "--seed", "7", "--anchor", anchor.isoformat())
    expected = generate(seed=7, days=DAYS, anchor=anchor, time_zone=TZ)

    # A login for every role, with the demo password; admin is a role, not a superuser.
    users = get_user_model().objects.filter(email__endswith="@harborcity.example")
    assert set(users.values_list("username", flat=True)) >= {*Role.values, "field2"}
    for role in Role.values:
        user = users.get(username=role)
        assert role in user_roles(user)
        assert Client().login(username=role, password=DEMO_PASSWORD)
    assert not users.get(username="admin").is_superuser
    assert "dispatcher" in output and DEMO_PASSWORD in output

    city = Agency.objects.get(code="default")
    campus = Agency.objects.get(code="hc-campus")
    assert city.name == "Harbor City Police Department"
    assert AgencyShare.objects.filter(owner=campus, viewer=city, category="call").exists()
    assert Unit.objects.filter(agency=city).count() == 15
    assert Unit.objects.filter(agency=campus).count() == 2
    assert Unit.objects.get(call_sign="1A11").users.filter(username="field").exists()
    assert UnitPosition.objects.count() == sum(len(t.fixes) for t in expected.tracks)
    assert Unit.objects.filter(status="out_of_service").count() == 1

    assert Location.objects.filter(locality=LOCALITY).count() == len(expected.locations)
    assert Call.objects.filter(status=CallStatus.CLOSED).count() == len(expected.calls)
    open_calls = Call.objects.open()
    assert open_calls.count() == len(expected.open_calls)
    assert set(open_calls.values_list("status", flat=True)) >= {
        "pending",
        "dispatched",
        "en_route",
        "on_scene",
    }
    assert CallAssignment.objects.filter(cleared_at__isnull=True).count() == sum(
        len(oc.units) for oc in expected.open_calls
    )
    assert FieldObservation.objects.count() == len(expected.observations)
    assert Person.objects.count() == len(expected.persons)
    assert Vehicle.objects.count() == len(expected.vehicles)
    assert Involvement.objects.count() >= len(expected.involvements)
    assert PremiseNote.objects.filter(kind="hazard").exists()
    # Tasking adds the demo's shifts (through the demo_seeded signal).
    from tasking.models import Shift

    nights = Shift.objects.get(agency=city, name="Nights")
    assert list(nights.members.values_list("username", flat=True)) == ["field2"]
    assert set(nights.units.values_list("call_sign", flat=True)) == {"1A22", "1A23", "1A31", "1A32"}
    assert Shift.objects.filter(agency=campus).count() == 1

    # History is closed with a disposition and a full timeline.
    closed = Call.objects.filter(status=CallStatus.CLOSED)
    assert not closed.filter(disposition__isnull=True).exists()
    assert not closed.filter(closed_at__isnull=True).exists()
    assert CallEvent.objects.filter(call__in=closed, kind="created").count() == closed.count()

    # The structure survives the trip through the database.
    per_location = sorted(
        closed.values("location").annotate(n=Count("id")).values_list("n", flat=True),
        reverse=True,
    )
    top = max(1, round(len(per_location) * 0.05))
    assert sum(per_location[:top]) / sum(per_location) >= 0.30
    reed = Person.objects.get(last_name="REED", first_name="MARCUS")
    assert reed.involvements.values("role").distinct().count() >= 2
    assert reed.involvements.filter(observation__isnull=False).exists()
    for loc in Location.objects.filter(locality=LOCALITY)[:50]:
        assert normalize_address(loc.display_address).key == loc.address_key
    # A dispatcher typing a demo address lands on the demo place, not a new one.
    bar = services.location_resolve(address="412 Front Street", locality="Harbor City")
    assert bar.calls.count() >= 20
    assert Location.objects.filter(address_key="412 FRONT ST").count() == 1


@pytest.mark.django_db
def test_second_run_does_nothing_and_reset_rebuilds_the_same(reference_data: None) -> None:
    anchor = _anchor().isoformat()
    args = ("--days", "7", "--seed", "3", "--calls-per-day", "25", "--anchor", anchor)
    _seed(*args)
    before = _closed_digest()
    counts = (Call.objects.count(), Person.objects.count(), CallEvent.objects.count())

    output = _seed(*args)
    assert "already present" in output
    assert (Call.objects.count(), Person.objects.count(), CallEvent.objects.count()) == counts

    # Someone tries the demo: a call typed at an address outside the demo's locality,
    # with a demo unit on it. The reset must take that along, not trip over the unit.
    dispatcher = get_user_model().objects.get(username="dispatcher")
    tried = services.call_create(
        agency=Agency.objects.get(code="default"),
        actor=dispatcher,
        call_type=CallType.objects.get(code="THEFT"),
        address="77 Nowhere Lane",
        latitude=29.43,
        longitude=-98.49,
    )
    services.unit_assign(
        call_id=tried.pk, unit_id=Unit.objects.get(call_sign="1A13").pk, actor=dispatcher
    )

    output = _seed(*args, "--reset")
    assert "Removed earlier demo data" in output
    assert not Call.objects.filter(pk=tried.pk).exists()
    assert _closed_digest() == before  # same numbers, times, types and places
    assert (Call.objects.count(), Person.objects.count(), CallEvent.objects.count()) == counts
    assert get_user_model().objects.filter(username="dispatcher").count() == 1


@pytest.mark.django_db
def test_existing_accounts_are_left_alone(reference_data: None) -> None:
    user_model = get_user_model()
    user_model.objects.create_user(username="admin", password="someone-elses-secret-1")
    _seed("--days", "3", "--calls-per-day", "10", "--anchor", _anchor().isoformat())
    admin = user_model.objects.get(username="admin")
    assert admin.check_password("someone-elses-secret-1")
    # A reset removes demo logins only, never an account the demo did not create.
    _seed("--days", "3", "--calls-per-day", "10", "--anchor", _anchor().isoformat(), "--reset")
    assert user_model.objects.filter(username="admin").exists()


@pytest.mark.django_db
def test_bad_arguments_are_refused_before_writing(reference_data: None) -> None:
    with pytest.raises(CommandError, match="Password refused"):
        _seed("--days", "3", "--password", "short")
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(CommandError, match="future"):
        _seed("--days", "3", "--anchor", future)
    with pytest.raises(CommandError, match="ISO"):
        _seed("--days", "3", "--anchor", "yesterday")
    with pytest.raises(CommandError, match="days"):
        _seed("--days", "0")
    assert not Location.objects.filter(locality=LOCALITY).exists()
    assert not get_user_model().objects.filter(username="dispatcher").exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_seed_demo_on_postgresql(reference_data: None) -> None:
    assert connection.vendor == "postgresql"
    _seed("--days", "7", "--seed", "11", "--anchor", _anchor().isoformat())
    assert Call.objects.filter(status=CallStatus.CLOSED).count() > 100
    assert Call.objects.open().filter(status="on_scene").exists()
    assert Client().login(username="supervisor", password=DEMO_PASSWORD)
