"""The console and field endpoints: what each role gets, and that boards keep a fixed query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType, FieldObservation
from tests.factories import AgencyFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def _call(agency, actor, address="400 Elm Street", code="NOISE", lat=29.4301, lon=-98.4902, **kw):
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code=code),
        address=address,
        latitude=lat,
        longitude=lon,
        **kw,
    )


def _snapshot_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/console/snapshot.json").status_code == 200
    return len(ctx.captured_queries)


def test_snapshot_query_count_does_not_grow_with_calls_and_units(client, cast, agency):
    client.force_login(cast["dispatcher"])
    _snapshot_queries(client)  # the first request of a session stamps its last activity
    for i in range(3):
        call = _call(agency, cast["dispatcher"], address=f"{100 + i} Elm Street")
        unit = UnitFactory(agency=agency)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    small = _snapshot_queries(client)
    for i in range(12):
        call = _call(agency, cast["dispatcher"], address=f"{300 + i} Oak Street")
        unit = UnitFactory(agency=agency)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    assert _snapshot_queries(client) == small


def test_snapshot_lists_open_calls_by_priority_then_age_and_units(client, cast, agency):
    low = _call(agency, cast["dispatcher"], code="NOISE")
    urgent = _call(agency, cast["dispatcher"], code="SHOTS", address="9 Pier Road")
    UnitFactory(agency=agency, call_sign="1A11")
    client.force_login(cast["dispatcher"])
    data = client.get("/console/snapshot.json").json()
    assert [c["id"] for c in data["calls"]] == [urgent.pk, low.pk]
    assert [u["call_sign"] for u in data["units"]] == ["1A11"]


def test_snapshot_hides_other_agencies(client, cast, agency):
    other = AgencyFactory(code="neighbour")
    outsider = UserFactory(username="out", roles=["dispatcher"], agency=other)
    _call(other, outsider)
    client.force_login(cast["dispatcher"])
    assert client.get("/console/snapshot.json").json()["calls"] == []


def test_context_counts_prior_calls_and_warns_of_duplicates(client, cast, agency):
    old = _call(agency, cast["dispatcher"], received_at=timezone.now() - dt.timedelta(days=10))
    recent = _call(agency, cast["dispatcher"])
    client.force_login(cast["dispatcher"])
    data = client.get(
        "/console/context.json", {"address": "400 elm st", "call_type": "DISTURB"}
    ).json()
    assert data["location"]["address"] == "400 ELM ST"
    assert data["counts"] == {"last_24h": 1, "last_7d": 1, "last_90d": 2}
    assert [c["id"] for c in data["recent"]] == [recent.pk, old.pk]
    assert [d["id"] for d in data["duplicates"]] == [
        recent.pk
    ]  # same category (disorder), open, 30 min


def test_context_does_not_call_an_unrelated_type_a_duplicate(client, cast, agency):
    _call(agency, cast["dispatcher"], code="NOISE")
    client.force_login(cast["dispatcher"])
    data = client.get(
        "/console/context.json", {"address": "400 Elm St", "call_type": "MEDICAL"}
    ).json()
    assert data["duplicates"] == []


def test_context_shows_persons_only_to_roles_that_may_see_them(client, cast, agency):
    call = _call(agency, cast["dispatcher"])
    person = services.person_create(agency=agency, last_name="Doe", first_name="John")
    services.involvement_create(actor=cast["dispatcher"], role="suspect", person=person, call=call)
    client.force_login(cast["dispatcher"])
    assert (
        client.get("/console/context.json", {"address": "400 Elm St"}).json()["persons"][0]["name"]
        == "Doe, John"
    )
    analyst_view = UserFactory(username="an2", roles=["analyst"], agency=agency)
    client.force_login(analyst_view)
    # analysts may read persons; an auditor may not even open the context
    assert client.get("/console/context.json", {"address": "400 Elm St"}).status_code == 200
    client.force_login(cast["auditor"])
    assert client.get("/console/context.json", {"address": "400 Elm St"}).status_code == 403


def test_context_rejects_non_numeric_coordinates_naming_the_field(client, cast):
    client.force_login(cast["dispatcher"])
    resp = client.get("/console/context.json", {"lat": "north", "lon": "-98.4"})
    assert resp.status_code == 400
    assert "lat" in resp.json()


def test_suggest_finds_a_location_from_a_differently_spelled_address(client, cast, agency):
    _call(agency, cast["dispatcher"], address="123 N Main St #4")
    client.force_login(cast["dispatcher"])
    results = client.get("/console/suggest.json", {"q": "123 n main st apt 4"}).json()["results"]
    assert results[0]["address"] == "123 N MAIN ST #4"


def test_closest_available_unit_comes_first(client, cast, agency):
    UnitFactory(
        agency=agency, call_sign="FAR", latitude=29.6, longitude=-98.7, position_at=timezone.now()
    )
    UnitFactory(
        agency=agency,
        call_sign="NEAR",
        latitude=29.4305,
        longitude=-98.4905,
        position_at=timezone.now(),
    )
    client.force_login(cast["dispatcher"])
    units = client.get("/console/context.json", {"lat": "29.4301", "lon": "-98.4902"}).json()[
        "closest_units"
    ]
    assert [u["call_sign"] for u in units] == ["NEAR", "FAR"]
    assert units[0]["distance_m"] < 100


def test_console_page_roles(client, cast):
    client.force_login(cast["dispatcher"])
    assert client.get("/console/").status_code == 200
    client.force_login(cast["field"])
    assert client.get("/console/")["Location"] == "/field/"
    client.force_login(cast["auditor"])
    assert client.get("/console/").status_code == 403


def test_console_call_json_is_404_for_another_agency(client, cast):
    other = AgencyFactory(code="neighbour")
    outsider = UserFactory(username="out", roles=["dispatcher"], agency=other)
    foreign = _call(other, outsider)
    client.force_login(cast["dispatcher"])
    assert client.get(f"/console/calls/{foreign.pk}.json").status_code == 404


def test_console_call_json_redacts_caller_for_roles_without_caller_identity(client, cast, agency):
    call = _call(agency, cast["dispatcher"], caller_name="Jane Roe", caller_phone="555-0100")
    client.force_login(cast["dispatcher"])
    assert client.get(f"/console/calls/{call.pk}.json").json()["caller_name"] == "Jane Roe"
    client.force_login(cast["analyst"])
    assert client.get(f"/console/calls/{call.pk}.json").json()["caller_name"] is None


def test_field_snapshot_shows_my_units_current_call_and_hazards(client, cast, agency):
    unit = UnitFactory(agency=agency, call_sign="1A11")
    unit.users.add(cast["field"])
    call = _call(agency, cast["dispatcher"])
    services.premise_note_create(
        location=call.location,
        agency=agency,
        actor=cast["dispatcher"],
        text="Dog on premises",
        kind="hazard",
    )
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    client.force_login(cast["field"])
    data = client.get("/field/snapshot.json").json()["units"][0]
    assert data["unit"]["status"] == "dispatched"
    assert data["call"]["id"] == call.pk
    assert data["hazards"] == [{"kind": "hazard", "text": "Dog on premises"}]


def test_observation_form_reports_field_errors_and_writes_nothing(client, cast):
    client.force_login(cast["field"])
    resp = client.post("/field/observe/", {"category": "ufo", "address": ""})
    assert resp.status_code == 400
    assert b"Unknown category" in resp.content
    assert FieldObservation.objects.count() == 0


def test_observation_form_files_a_card_with_the_vehicle_seen(client, cast):
    client.force_login(cast["field"])
    resp = client.post(
        "/field/observe/",
        {
            "category": "suspicious_vehicle",
            "address": "77 Dock St",
            "narrative": "<b>van</b>",
            "plate": "abc-123",
            "plate_state": "tx",
            "vehicle_description": "white van",
        },
    )
    assert resp.status_code == 302
    obs = FieldObservation.objects.get()
    assert obs.location.address_key == "77 DOCK ST"
    involvement = obs.involvements.get()
    assert (involvement.role, involvement.vehicle.plate, involvement.vehicle.plate_state) == (
        "subject",
        "ABC123",
        "TX",
    )


def test_observation_with_a_bad_plate_state_stores_nothing(client, cast):
    client.force_login(cast["field"])
    resp = client.post(
        "/field/observe/",
        {
            "category": "suspicious_vehicle",
            "address": "77 Dock St",
            "plate": "ABC123",
            "plate_state": "Texas!",
        },
    )
    assert resp.status_code == 400
    assert b"two-letter" in resp.content
    assert FieldObservation.objects.count() == 0  # the card rolled back with the vehicle
