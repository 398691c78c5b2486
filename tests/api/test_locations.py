"""The locations endpoints: address search, detail, history and premise notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import PremiseNote
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

LOCATIONS = "/api/v1/locations/"


@pytest.fixture
def place(agency):
    """A premise resolved the way intake resolves it."""
    return services.location_resolve(
        address="123 North Main Street Apt 4", latitude=29.42, longitude=-98.49
    )


def keys(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["address_key"] for row in response.json()["results"]]


# --- search ------------------------------------------------------------------------------------


def test_search_finds_a_place_however_it_is_spelled(client_for, place):
    LocationFactory(address_key="1234 N MAIN ST")
    LocationFactory(address_key="99 ELM ST")
    client = client_for("dispatcher")
    assert keys(client.get(LOCATIONS, {"q": "123 n main st apt 4"})) == ["123 N MAIN ST #4"]
    assert keys(client.get(LOCATIONS, {"q": "123 North Main Street, Unit 4"})) == [
        "123 N MAIN ST #4"
    ]


def test_search_matches_prefixes_with_exact_match_first(client_for, place):
    LocationFactory(address_key="123 N MAIN ST")
    LocationFactory(address_key="1234 N MAIN ST")
    LocationFactory(address_key="99 ELM ST")
    client = client_for("field")
    assert keys(client.get(LOCATIONS, {"q": "123 N MAIN ST"})) == [
        "123 N MAIN ST",
        "123 N MAIN ST #4",
    ]
    assert set(keys(client.get(LOCATIONS, {"q": "123"}))) == {
        "123 N MAIN ST",
        "123 N MAIN ST #4",
        "1234 N MAIN ST",
    }
    assert keys(client.get(LOCATIONS, {"q": "nowhere at all 77"})) == []


def test_search_query_too_long_is_400(client_for, place):
    response = client_for("dispatcher").get(LOCATIONS, {"q": "1" * 1000})
    assert response.status_code == 400 and "q" in response.json()


def test_locations_need_sign_in_and_a_role(anon, client_for, place):
    assert anon.get(LOCATIONS).status_code in (401, 403)
    assert client_for("auditor").get(LOCATIONS).status_code == 403
    assert client_for("auditor").get(f"{LOCATIONS}{place.pk}/").status_code == 403


def test_location_detail_and_missing_is_404(client_for, place):
    client = client_for("analyst")
    assert client.get(f"{LOCATIONS}{place.pk}/").json()["display_address"] == "123 N MAIN ST #4"
    assert client.get(f"{LOCATIONS}{place.pk + 1000}/").status_code == 404


# --- history ---------------------------------------------------------------------------------


def test_history_counts_visible_calls_and_shows_notes(
    client_for, make_call, other_agency, cast, place
):
    make_call()
    make_call(received_at=timezone.now() - dt.timedelta(days=3))
    services.call_create(  # the neighbour's call at the same place is not counted
        agency=other_agency,
        actor=None,
        call_type=make_call().call_type,
        address="123 N Main St #4",
    )
    services.premise_note_create(
        location=place, agency=place.calls.first().agency, actor=None, text="Dog", kind="hazard"
    )
    body = client_for("dispatcher").get(f"{LOCATIONS}{place.pk}/history/").json()
    assert body["counts"] == {"last_24h": 2, "last_7d": 3, "last_90d": 3}
    assert len(body["recent"]) == 3
    assert body["recent"][0]["caller_name"] == "Jane Roe"
    assert [n["text"] for n in body["notes"]] == ["Dog"]
    analyst_body = client_for("analyst").get(f"{LOCATIONS}{place.pk}/history/").json()
    assert analyst_body["recent"][0]["caller_name"] is None


def test_history_access(anon, client_for, place):
    assert anon.get(f"{LOCATIONS}{place.pk}/history/").status_code in (401, 403)
    assert client_for("auditor").get(f"{LOCATIONS}{place.pk}/history/").status_code == 403
    assert client_for("dispatcher").get(f"{LOCATIONS}999999/history/").status_code == 404


# --- premise notes ------------------------------------------------------------------------------


def test_dispatcher_records_and_lists_premise_notes(client_for, place, agency):
    client = client_for("dispatcher")
    response = client.post(
        f"{LOCATIONS}{place.pk}/notes/",
        {"text": "Gate code 1234", "kind": "note", "sensitivity": 2},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["agency"] == agency.pk
    assert response.json()["created_by"] == "dispatcher1"
    rows = client.get(f"{LOCATIONS}{place.pk}/notes/").json()["results"]
    assert [r["text"] for r in rows] == ["Gate code 1234"]


def test_expired_and_other_agency_notes_are_not_listed(client_for, place, agency, other_agency):
    services.premise_note_create(location=place, agency=agency, actor=None, text="current")
    services.premise_note_create(
        location=place,
        agency=agency,
        actor=None,
        text="stale",
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    services.premise_note_create(location=place, agency=other_agency, actor=None, text="theirs")
    rows = client_for("field").get(f"{LOCATIONS}{place.pk}/notes/").json()["results"]
    assert [r["text"] for r in rows] == ["current"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": "ok", "kind": "rumour"}, "kind"),
        ({"text": "ok", "sensitivity": 9}, "sensitivity"),
        ({"text": "ok", "sensitivity": 3}, "sensitivity"),  # above a dispatcher's level
        ({"text": "ok", "expires_at": "2025-01-01T00:00:00"}, "expires_at"),
    ],
)
def test_bad_premise_note_is_400_naming_the_field(client_for, place, payload, field):
    response = client_for("dispatcher").post(
        f"{LOCATIONS}{place.pk}/notes/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not PremiseNote.objects.exists()


def test_premise_note_write_denied_to_field_and_analyst(anon, client_for, place):
    for client in (client_for("field"), client_for("analyst"), anon):
        response = client.post(f"{LOCATIONS}{place.pk}/notes/", {"text": "x"}, format="json")
        assert response.status_code in (401, 403)
    assert client_for("auditor").get(f"{LOCATIONS}{place.pk}/notes/").status_code == 403
    assert not PremiseNote.objects.exists()


def test_premise_note_on_missing_location_is_404(client_for, agency):
    response = client_for("dispatcher").post(f"{LOCATIONS}424242/notes/", {"text": "x"})
    assert response.status_code == 404
