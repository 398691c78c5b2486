"""The units endpoints: board list, detail, status reports, AVL upload and history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import UnitPosition
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units/"


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def fixes(count: int, start: dt.datetime | None = None) -> list[dict]:
    start = start or timezone.now() - dt.timedelta(minutes=30)
    return [
        {
            "recorded_at": iso(start + dt.timedelta(seconds=10 * i)),
            "latitude": 29.42 + i * 1e-4,
            "longitude": -98.49,
            "heading": 90,
            "speed": 12.5,
            "accuracy": 5,
        }
        for i in range(count)
    ]


# --- list and retrieve --------------------------------------------------------------------


def test_unit_list_shows_status_and_current_call(client_for, unit, call, cast, other_unit):
    UnitFactory(agency=unit.agency, call_sign="B22", kind="ems")
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    rows = client_for("dispatcher").get(UNITS).json()["results"]
    assert [r["call_sign"] for r in rows] == ["A11", "B22"]  # not the neighbour's N1
    assert rows[0]["current_call"] == {"id": call.pk, "number": call.number}
    assert rows[0]["status"] == "dispatched" and rows[1]["current_call"] is None


def test_unit_list_filters_by_status_and_kind(client_for, unit):
    UnitFactory(agency=unit.agency, call_sign="M1", kind="ems", status="out_of_service")
    client = client_for("supervisor")
    assert [r["call_sign"] for r in client.get(UNITS + "?kind=ems").json()["results"]] == ["M1"]
    rows = client.get(UNITS + "?status=available").json()["results"]
    assert [r["call_sign"] for r in rows] == ["A11"]
    response = client.get(UNITS + "?status=flying")
    assert response.status_code == 400 and "status" in response.json()


def test_unit_detail_and_other_agency_unit_is_404(client_for, unit, other_unit):
    client = client_for("analyst")
    assert client.get(f"{UNITS}{unit.pk}/").json()["call_sign"] == "A11"
    assert client.get(f"{UNITS}{other_unit.pk}/").status_code == 404


def test_units_need_sign_in_and_a_role_that_sees_units(anon, client_for, unit):
    assert anon.get(UNITS).status_code in (401, 403)
    assert client_for("auditor").get(UNITS).status_code == 403
    assert client_for("auditor").get(f"{UNITS}{unit.pk}/").status_code == 403


# --- status -----------------------------------------------------------------------------------


def test_unit_status_moves_the_call_along(client_for, unit, call, cast):
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    client = client_for("field")
    response = client.post(f"{UNITS}{unit.pk}/status/", {"status": "on_scene"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "on_scene"
    call.refresh_from_db()
    assert call.status == "on_scene"


def test_unit_status_bad_input_is_400_naming_status(client_for, unit):
    client = client_for("dispatcher")
    for payload in ({}, {"status": "asleep"}, {"status": None}, {"status": "available", "x": 1}):
        response = client.post(f"{UNITS}{unit.pk}/status/", payload, format="json")
        assert response.status_code == 400
        assert set(response.json()) & {"status", "x"}


def test_unit_status_invalid_transition_is_409(client_for, unit):
    response = client_for("dispatcher").post(
        f"{UNITS}{unit.pk}/status/", {"status": "on_scene"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"] == {
        "unit_id": unit.pk,
        "unit": unit.call_sign,
        "status": "available",
        "call_id": None,
        "call": None,
    }
    unit.refresh_from_db()
    assert unit.status == "available"


def test_unit_status_expected_status_mismatch_is_409(client_for, unit):
    response = client_for("dispatcher").post(
        f"{UNITS}{unit.pk}/status/",
        {"status": "off_duty", "expected_status": "out_of_service"},
        format="json",
    )
    assert response.status_code == 409


def test_unit_status_denied_to_analyst_and_hidden_across_agencies(client_for, unit, other_unit):
    payload = {"status": "off_duty"}
    assert client_for("analyst").post(f"{UNITS}{unit.pk}/status/", payload).status_code == 403
    response = client_for("dispatcher").post(f"{UNITS}{other_unit.pk}/status/", payload)
    assert response.status_code == 404
    other_unit.refresh_from_db()
    assert other_unit.status == "available"


# --- AVL upload -----------------------------------------------------------------------------


def test_field_user_uploads_positions_for_own_unit(client_for, unit):
    response = client_for("field").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": fixes(5)}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"stored": 5, "duplicates": 0}
    unit.refresh_from_db()
    assert unit.position_at is not None and unit.latitude == pytest.approx(29.4204)


def test_avl_batch_is_idempotent(client_for, unit):
    client = client_for("field")
    batch = fixes(4)
    assert client.post(
        f"{UNITS}{unit.pk}/positions/", {"positions": batch}, format="json"
    ).json() == {
        "stored": 4,
        "duplicates": 0,
    }
    # The device lost the reply and re-sends, with two new fixes appended.
    again = batch + fixes(2, start=timezone.now() - dt.timedelta(minutes=5))
    response = client.post(f"{UNITS}{unit.pk}/positions/", again, format="json")  # a bare list
    assert response.json() == {"stored": 2, "duplicates": 4}
    assert UnitPosition.objects.filter(unit=unit).count() == 6


def test_field_user_may_not_post_positions_for_a_unit_they_are_not_signed_to(client_for, agency):
    stranger = UnitFactory(agency=agency, call_sign="Z9")
    response = client_for("field").post(
        f"{UNITS}{stranger.pk}/positions/", {"positions": fixes(1)}, format="json"
    )
    assert response.status_code == 403
    assert not UnitPosition.objects.exists()


def test_dispatcher_may_not_post_positions(client_for, unit):
    response = client_for("dispatcher").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": fixes(1)}, format="json"
    )
    assert response.status_code == 403


def test_positions_for_other_agency_unit_is_404_and_anonymous_refused(
    client_for, anon, other_unit, unit, cast
):
    other_unit.users.add(cast["field"])  # even signed to it: another agency's unit is not visible
    response = client_for("field").post(
        f"{UNITS}{other_unit.pk}/positions/", {"positions": fixes(1)}, format="json"
    )
    assert response.status_code == 404
    response = anon.post(f"{UNITS}{unit.pk}/positions/", {"positions": fixes(1)}, format="json")
    assert response.status_code in (401, 403)
    assert not UnitPosition.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"latitude": 95},
        {"longitude": "east"},
        {"recorded_at": "2025-01-01T10:00:00"},  # no offset
        {"recorded_at": "yesterday"},
        {"recorded_at": None},
        {"heading": 400},
        {"speed": True},
        {"accuracy": "NaN"},
        {"altitude": 12},
    ],
)
def test_bad_fix_is_400_naming_positions_and_stores_none_of_the_batch(client_for, unit, bad):
    batch = fixes(3)
    batch[1] = {**batch[1], **bad}
    response = client_for("field").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": batch}, format="json"
    )
    assert response.status_code == 400
    assert "positions" in response.json()
    assert "1" in response.json()["positions"]  # the index of the bad fix
    assert not UnitPosition.objects.exists()


def test_future_fix_is_400(client_for, unit):
    batch = fixes(1, start=timezone.now() + dt.timedelta(hours=2))
    response = client_for("field").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": batch}, format="json"
    )
    assert response.status_code == 400 and "positions" in response.json()


def test_batch_over_1000_is_400(client_for, unit):
    response = client_for("field").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": fixes(1001)}, format="json"
    )
    assert response.status_code == 400
    assert "positions" in response.json()
    assert not UnitPosition.objects.exists()


def test_batch_of_1000_is_stored(client_for, unit):
    start = timezone.now() - dt.timedelta(hours=4)
    response = client_for("field").post(
        f"{UNITS}{unit.pk}/positions/", {"positions": fixes(1000, start)}, format="json"
    )
    assert response.json() == {"stored": 1000, "duplicates": 0}


# --- AVL history -----------------------------------------------------------------------------


def test_position_history_since(client_for, unit):
    old = timezone.now() - dt.timedelta(hours=30)
    services.unit_positions_record(
        unit_id=unit.pk,
        positions=[
            {"recorded_at": old, "latitude": 29.4, "longitude": -98.4},
            {
                "recorded_at": timezone.now() - dt.timedelta(hours=1),
                "latitude": 29.5,
                "longitude": -98.5,
            },
        ],
    )
    client = client_for("analyst")
    recent = client.get(f"{UNITS}{unit.pk}/positions/").json()["results"]
    assert [p["latitude"] for p in recent] == [29.5]  # default window: the last 24 hours
    since = iso(old - dt.timedelta(minutes=1))
    rows = client.get(f"{UNITS}{unit.pk}/positions/", {"since": since}).json()["results"]
    assert [p["latitude"] for p in rows] == [29.4, 29.5]


def test_position_history_bad_since_is_400(client_for, unit):
    response = client_for("dispatcher").get(f"{UNITS}{unit.pk}/positions/?since=last-week")
    assert response.status_code == 400 and "since" in response.json()


def test_position_history_access(client_for, anon, unit, other_unit):
    assert anon.get(f"{UNITS}{unit.pk}/positions/").status_code in (401, 403)
    assert client_for("auditor").get(f"{UNITS}{unit.pk}/positions/").status_code == 403
    assert client_for("admin").get(f"{UNITS}{unit.pk}/positions/").status_code == 403  # no AVL
    assert client_for("dispatcher").get(f"{UNITS}{other_unit.pk}/positions/").status_code == 404


def test_unit_board_query_count_does_not_grow_with_units(
    client_for, agency, make_call, cast, django_assert_max_num_queries
):
    client = client_for("dispatcher")
    client.get(UNITS)  # warm the per-user role/agency cache the same way a session would
    for i in range(12):
        unit = UnitFactory(agency=agency, call_sign=f"Q{i}")
        if i % 3 == 0:
            services.unit_assign(call_id=make_call().pk, unit_id=unit.pk, actor=cast["dispatcher"])
    with django_assert_max_num_queries(5):
        response = client.get(UNITS)
    rows = response.json()["results"]
    assert len(rows) == 12
    assert sum(1 for row in rows if row["current_call"]) == 4


def test_field_staff_may_report_status_only_for_their_own_unit(client_for, cast, agency):
    """Field staff change their own unit's status; another unit of the same agency is refused."""
    from dispatch import services as svc
    from dispatch.models import CallType
    from tests.factories import UnitFactory

    mine = UnitFactory(agency=agency, call_sign="MINE")
    mine.users.add(cast["field"])
    other = UnitFactory(agency=agency, call_sign="OTHER")
    call = svc.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="1 Test Street",
    )
    svc.unit_assign(call_id=call.pk, unit_id=mine.pk, actor=cast["dispatcher"])
    field = client_for("field")
    assert (
        field.post(
            f"/api/v1/units/{mine.pk}/status/", {"status": "en_route"}, format="json"
        ).status_code
        == 200
    )
    assert (
        field.post(
            f"/api/v1/units/{other.pk}/status/", {"status": "out_of_service"}, format="json"
        ).status_code
        == 403
    )
    dispatcher = client_for("dispatcher")
    assert (
        dispatcher.post(
            f"/api/v1/units/{other.pk}/status/", {"status": "out_of_service"}, format="json"
        ).status_code
        == 200
    )
    assert (
        client_for("analyst")
        .post(f"/api/v1/units/{other.pk}/status/", {"status": "available"}, format="json")
        .status_code
        == 403
    )
