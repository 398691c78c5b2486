"""The calls endpoints: list, create, retrieve, edit, timeline, status, close, attach, assign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import Call, CallAssignment, CallEvent, CallType
from governance.models import AgencyShare
from tests.factories import CallFactory, UnitFactory, UserFactory, disposition

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"


def detail(call) -> str:
    return f"{CALLS}{call.pk}/"


# --- list -------------------------------------------------------------------------------------


def test_dispatcher_lists_own_agency_calls_newest_first(client_for, make_call, other_call):
    older = make_call(received_at=timezone.now() - dt.timedelta(hours=2))
    newer = make_call()
    response = client_for("dispatcher").get(CALLS)
    assert response.status_code == 200
    numbers = [row["number"] for row in response.json()["results"]]
    assert numbers == [newer.number, older.number]  # the other agency's call is absent
    assert response.json()["count"] == 2


def test_call_list_filters_by_status_type_priority_open_and_time(client_for, make_call, cast):
    theft = make_call()
    noise = make_call(
        call_type=CallType.objects.get(code="NOISE"),
        received_at=timezone.now() - dt.timedelta(days=2),
    )
    closed = make_call(call_type=CallType.objects.get(code="NOISE"))
    services.call_close(call_id=closed.pk, actor=cast["dispatcher"], disposition=disposition())
    client = client_for("dispatcher")

    def numbers(query: str) -> set[str]:
        response = client.get(CALLS + query)
        assert response.status_code == 200, response.json()
        return {row["number"] for row in response.json()["results"]}

    assert numbers("?call_type=noise") == {noise.number, closed.number}
    assert numbers("?status=closed") == {closed.number}
    assert numbers("?open=true") == {theft.number, noise.number}
    assert numbers("?open=false") == {closed.number}
    assert numbers("?priority=4") == {noise.number, closed.number}
    since = (timezone.now() - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert numbers(f"?received_after={since}") == {theft.number, closed.number}
    assert numbers(f"?received_before={since}") == {noise.number}
    assert numbers(f"?number={theft.number}") == {theft.number}
    assert numbers(f"?location={theft.location_id}") == {theft.number, noise.number, closed.number}
    assert numbers("?source=phone") == {theft.number, noise.number, closed.number}


def test_call_list_orders_by_priority_when_asked(client_for, make_call):
    make_call(priority=4)
    make_call(priority=1)
    rows = client_for("dispatcher").get(CALLS + "?ordering=priority").json()["results"]
    assert [row["priority"] for row in rows] == [1, 4]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=sleeping", "status"),
        ("?priority=9", "priority"),
        ("?received_after=yesterday", "received_after"),
        ("?open=perhaps", "open"),
        ("?location=abc", "location"),
        ("?location=99999999999999999999999", "location"),
        ("?number=" + "9" * 300, "number"),
    ],
)
def test_call_list_bad_filter_is_400_naming_the_parameter(client_for, query, field):
    response = client_for("dispatcher").get(CALLS + query)
    assert response.status_code == 400
    assert field in response.json()


def test_call_list_requires_sign_in(anon, call):
    assert anon.get(CALLS).status_code in (401, 403)


def test_auditor_may_not_list_calls(client_for, call):
    assert client_for("auditor").get(CALLS).status_code == 403


def test_analyst_sees_calls_with_caller_identity_redacted(client_for, call):
    row = client_for("analyst").get(CALLS).json()["results"][0]
    assert row["number"] == call.number
    assert row["caller_name"] is None and row["caller_phone"] is None
    row = client_for("dispatcher").get(CALLS).json()["results"][0]
    assert row["caller_name"] == "Jane Roe"


def test_shared_agency_calls_are_listed_but_not_writable(client_for, other_call, agency):
    AgencyShare.objects.create(owner=other_call.agency, viewer=agency, category="call")
    client = client_for("dispatcher")
    assert [r["number"] for r in client.get(CALLS).json()["results"]] == [other_call.number]
    response = client.post(f"{detail(other_call)}notes/", {"text": "hello"}, format="json")
    assert response.status_code == 403
    assert not other_call.events.filter(kind="note").exists()


def test_call_list_query_count_does_not_grow_with_rows(
    client_for, make_call, cast, django_assert_max_num_queries
):
    client = client_for("dispatcher")
    for _ in range(3):
        call = make_call()
        services.unit_assign(
            call_id=call.pk, unit_id=UnitFactory(agency=call.agency).pk, actor=cast["dispatcher"]
        )
    client.get(CALLS)  # warm the per-user role/agency cache the same way a session would
    for _ in range(10):
        make_call()
    with django_assert_max_num_queries(5):
        response = client.get(CALLS)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 13
    assert sum(1 for row in response.json()["results"] if row["units"]) == 3


# --- create -----------------------------------------------------------------------------------


def test_dispatcher_creates_call_with_type_default_priority(client_for, agency):
    response = client_for("dispatcher").post(
        CALLS,
        {
            "call_type": "THEFT",
            "address": "123 n main st apt 4",
            "latitude": 29.42,
            "longitude": -98.49,
            "caller_name": "Jane Roe",
            "caller_phone": "210-555-0100",
            "narrative": "Bike gone",
            "external_id": "CAD-1",
            "received_at": "2025-01-31T22:15:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["priority"] == CallType.objects.get(code="THEFT").default_priority
    assert body["location"]["address_key"] == "123 N MAIN ST #4"
    assert body["status"] == "pending" and body["version"] == 1
    assert body["received_at"] == "2025-01-31T22:15:00Z"
    assert [e["kind"] for e in body["events"]] == ["created"]
    call = Call.objects.get(pk=body["id"])
    assert call.agency == agency and call.caller_name == "Jane Roe"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"address": "1 Main St"}, "call_type"),
        ({"call_type": "NOPE", "address": "1 Main St"}, "call_type"),
        ({"call_type": "THEFT"}, "address"),
        ({"call_type": "THEFT", "address": "1 Main St", "priority": 7}, "priority"),
        ({"call_type": "THEFT", "address": "1 Main St", "source": "pigeon"}, "source"),
        ({"call_type": "THEFT", "latitude": 29.4}, "longitude"),
        ({"call_type": "THEFT", "latitude": 129.4, "longitude": 1}, "latitude"),
        ({"call_type": "THEFT", "address": "1 Main St", "caller_phone": "5" * 41}, "caller_phone"),
        (
            {"call_type": "THEFT", "address": "1 Main St", "received_at": "2025-01-31T22:15:00"},
            "received_at",
        ),
        (
            {"call_type": "THEFT", "address": "1 Main St", "received_at": "2999-01-01T00:00:00Z"},
            "received_at",
        ),
        ({"call_type": "THEFT", "address": "1 Main St", "status": "closed"}, "status"),
    ],
)
def test_bad_call_input_is_400_naming_the_field_and_stores_nothing(client_for, payload, field):
    response = client_for("dispatcher").post(CALLS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Call.objects.exists()


def test_duplicate_external_id_is_409(client_for, make_call):
    make_call(external_id="CAD-7")
    response = client_for("dispatcher").post(
        CALLS, {"call_type": "THEFT", "address": "1 Main St", "external_id": "CAD-7"}, format="json"
    )
    assert response.status_code == 409
    assert "external_id" in response.json()


def test_field_staff_may_not_create_calls(client_for):
    response = client_for("field").post(
        CALLS, {"call_type": "THEFT", "address": "1 Main St"}, format="json"
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_user_without_agency_cannot_create_calls(reference_data):
    from rest_framework.test import APIClient

    loner = UserFactory(roles=["dispatcher"], agency=False)
    client = APIClient()
    client.force_authenticate(loner)
    response = client.post(CALLS, {"call_type": "THEFT", "address": "1 Main St"}, format="json")
    assert response.status_code == 403
    assert "agency" in response.json()["detail"]
    assert not Call.objects.exists()


def test_anonymous_may_not_create_calls(anon, reference_data):
    response = anon.post(CALLS, {"call_type": "THEFT", "address": "1 Main St"}, format="json")
    assert response.status_code in (401, 403)


# --- retrieve ---------------------------------------------------------------------------------


def test_call_detail_has_timeline_and_assignments(client_for, call, unit, cast):
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    body = client_for("dispatcher").get(detail(call)).json()
    assert [e["kind"] for e in body["events"]] == ["created", "unit_assigned", "status"]
    assert body["events"][1]["actor"] == "dispatcher1"
    assert body["assignments"][0]["unit_call_sign"] == "A11"
    assert body["units"] == ["A11"]
    assert body["status"] == "dispatched"


def test_other_agency_call_is_404(client_for, other_call):
    assert client_for("dispatcher").get(detail(other_call)).status_code == 404
    assert client_for("supervisor").get(detail(other_call)).status_code == 404


def test_missing_call_is_404(client_for, reference_data):
    assert client_for("dispatcher").get(f"{CALLS}999999/").status_code == 404


def test_call_detail_requires_sign_in(anon, call):
    assert anon.get(detail(call)).status_code in (401, 403)


def test_analyst_sees_no_caller_identity_in_detail_or_timeline(client_for, call, cast):
    services.call_attach(
        call_id=call.pk, actor=cast["dispatcher"], text="2nd caller", caller_name="Bob Doe"
    )
    services.call_update(
        call_id=call.pk, actor=cast["dispatcher"], changes={"caller_phone": "210-555-9999"}
    )
    text = client_for("analyst").get(detail(call)).content.decode()
    for secret in ("Jane Roe", "555 0100", "Bob Doe", "555-9999"):
        assert secret not in text
    text = client_for("dispatcher").get(detail(call)).content.decode()
    assert "Bob Doe" in text and "555-9999" in text


# --- partial update -------------------------------------------------------------------------


def test_dispatcher_edits_call_and_timeline_records_it(client_for, call):
    response = client_for("dispatcher").patch(
        detail(call), {"priority": 1, "narrative": "Armed", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["priority"] == 1 and body["version"] == 2
    assert body["events"][-1]["kind"] == "edited"
    assert body["events"][-1]["data"]["changes"]["priority"] == {"old": 3, "new": 1}


def test_stale_version_is_409_with_current_and_changes_nothing(client_for, call):
    client = client_for("dispatcher")
    assert (
        client.patch(detail(call), {"priority": 2, "version": 1}, format="json").status_code == 200
    )
    response = client.patch(detail(call), {"priority": 5, "version": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 2
    call.refresh_from_db()
    assert call.priority == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"priority": 0}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"call_type": "NOPE"}, "call_type"),
        ({"status": "closed"}, "status"),
        ({"version": "x"}, "version"),
        ({"latitude": 95, "longitude": 1}, "latitude"),
    ],
)
def test_bad_call_edit_is_400_naming_the_field(client_for, call, payload, field):
    response = client_for("dispatcher").patch(detail(call), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    call.refresh_from_db()
    assert call.version == 1


def test_analyst_may_not_edit_calls(client_for, call):
    assert (
        client_for("analyst").patch(detail(call), {"priority": 1}, format="json").status_code == 403
    )


def test_field_staff_may_edit_call_but_not_caller_identity(client_for, call):
    client = client_for("field")
    assert client.patch(detail(call), {"narrative": "more"}, format="json").status_code == 200
    response = client.patch(detail(call), {"caller_name": "Someone"}, format="json")
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.caller_name == "Jane Roe"


def test_editing_other_agency_call_is_404(client_for, other_call):
    response = client_for("dispatcher").patch(detail(other_call), {"priority": 1}, format="json")
    assert response.status_code == 404


def test_editing_closed_call_is_409(client_for, call, cast):
    services.call_close(call_id=call.pk, actor=cast["dispatcher"], disposition=disposition())
    response = client_for("dispatcher").patch(detail(call), {"priority": 1}, format="json")
    assert response.status_code == 409
    assert response.json()["current"]["status"] == "closed"


# --- notes and events ---------------------------------------------------------------------------


def test_note_is_appended_to_timeline(client_for, call):
    response = client_for("field").post(f"{detail(call)}notes/", {"text": "On it"}, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "note" and response.json()["actor"] == "field1"
    events = client_for("dispatcher").get(f"{detail(call)}events/").json()["results"]
    assert [e["kind"] for e in events] == ["created", "note"]


@pytest.mark.parametrize("payload", [{}, {"text": ""}, {"text": "   "}, {"text": None}])
def test_empty_note_is_400_on_text(client_for, call, payload):
    response = client_for("dispatcher").post(f"{detail(call)}notes/", payload, format="json")
    assert response.status_code == 400
    assert "text" in response.json()
    assert not CallEvent.objects.filter(call=call, kind="note").exists()


def test_notes_and_events_are_denied_or_hidden_appropriately(client_for, anon, call, other_call):
    assert anon.post(f"{detail(call)}notes/", {"text": "x"}, format="json").status_code in (
        401,
        403,
    )
    assert client_for("analyst").post(f"{detail(call)}notes/", {"text": "x"}).status_code == 403
    assert client_for("auditor").get(f"{detail(call)}events/").status_code == 403
    assert client_for("dispatcher").get(f"{detail(other_call)}events/").status_code == 404
    assert (
        client_for("dispatcher").post(f"{detail(other_call)}notes/", {"text": "x"}).status_code
        == 404
    )


# --- status and close -------------------------------------------------------------------------


def test_status_change_and_close_with_disposition(client_for, call, unit, cast):
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    client = client_for("dispatcher")
    response = client.post(f"{detail(call)}status/", {"status": "on_scene"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "on_scene"
    response = client.post(f"{detail(call)}status/", {"status": "cleared"}, format="json")
    assert response.json()["status"] == "cleared" and response.json()["units"] == []
    response = client.post(
        f"{detail(call)}status/", {"status": "closed", "disposition": "REPORT"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["disposition"] == "REPORT"
    assert response.json()["closed_at"]


@pytest.mark.parametrize("role", ["dispatcher", "supervisor"])
def test_write_answers_equal_what_reading_the_call_back_shows(client_for, unit, cast, role):
    """Create, status and close answer from the instance the service wrote (no re-read): the
    answer must be exactly the detail a GET returns right after, timeline, units and redaction
    included."""
    client = client_for(role)
    created = client.post(
        CALLS,
        {
            "call_type": "THEFT",
            "address": "9 Elm St",
            "latitude": 29.42,
            "longitude": -98.49,
            "caller_name": "Jane Roe",
            "caller_phone": "+1 210 555 0100",
            "narrative": "Window <b>broken</b>.",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    call = Call.objects.get(pk=created.json()["id"])
    assert created.json() == client.get(detail(call)).json()

    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    services.call_add_note(call_id=call.pk, actor=cast["dispatcher"], text="Gate code 1234")
    on_scene = client.post(f"{detail(call)}status/", {"status": "on_scene"}, format="json")
    assert on_scene.status_code == 200, on_scene.json()
    assert on_scene.json() == client.get(detail(call)).json()
    assert on_scene.json()["units"] == ["A11"]

    closed = client.post(f"{detail(call)}close/", {"disposition": "REPORT"}, format="json")
    assert closed.status_code == 200, closed.json()
    assert closed.json() == client.get(detail(call)).json()
    assert closed.json()["units"] == [] and closed.json()["assignments"][0]["cleared_at"]


def test_invalid_transition_is_409_with_current_status(client_for, call, cast):
    services.call_close(call_id=call.pk, actor=cast["dispatcher"], disposition=disposition())
    response = client_for("dispatcher").post(
        f"{detail(call)}status/", {"status": "on_scene"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"]["status"] == "closed"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "status"),
        ({"status": "asleep"}, "status"),
        ({"status": "closed"}, "disposition"),
        ({"status": "closed", "disposition": "NOPE"}, "disposition"),
        ({"status": "cancelled", "disposition": "REPORT"}, "disposition"),
        ({"status": "dispatched"}, "status"),
    ],
)
def test_bad_status_change_is_400_naming_the_field(client_for, call, payload, field):
    response = client_for("dispatcher").post(f"{detail(call)}status/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    call.refresh_from_db()
    assert call.status == "pending"


def test_stale_version_on_status_is_409(client_for, call):
    response = client_for("dispatcher").post(
        f"{detail(call)}status/", {"status": "cancelled", "version": 9}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 1


def test_close_clears_units_and_records_disposition(client_for, call, unit, cast):
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    response = client_for("supervisor").post(
        f"{detail(call)}close/", {"disposition": "ARREST", "note": "done"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"
    unit.refresh_from_db()
    assert unit.status == "available"


def test_close_needs_a_known_disposition(client_for, call):
    client = client_for("dispatcher")
    for payload in ({}, {"disposition": "NOPE"}, {"disposition": None}):
        response = client.post(f"{detail(call)}close/", payload, format="json")
        assert response.status_code == 400
        assert "disposition" in response.json()
    call.refresh_from_db()
    assert call.status == "pending"


def test_closing_twice_is_409(client_for, call):
    client = client_for("dispatcher")
    assert client.post(f"{detail(call)}close/", {"disposition": "REPORT"}).status_code == 200
    response = client.post(f"{detail(call)}close/", {"disposition": "REPORT"})
    assert response.status_code == 409
    assert response.json()["current"]["status"] == "closed"


def test_status_and_close_denied_to_analyst_and_hidden_across_agencies(
    client_for, call, other_call
):
    analyst = client_for("analyst")
    assert analyst.post(f"{detail(call)}status/", {"status": "cancelled"}).status_code == 403
    assert analyst.post(f"{detail(call)}close/", {"disposition": "REPORT"}).status_code == 403
    dispatcher = client_for("dispatcher")
    assert (
        dispatcher.post(f"{detail(other_call)}status/", {"status": "cancelled"}).status_code == 404
    )
    assert (
        dispatcher.post(f"{detail(other_call)}close/", {"disposition": "REPORT"}).status_code == 404
    )


# --- attach ----------------------------------------------------------------------------------


def test_attach_second_caller(client_for, call):
    response = client_for("dispatcher").post(
        f"{detail(call)}attach/",
        {"text": "Neighbour saw a van", "caller_name": "Bob", "caller_phone": "555"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["data"] == {"caller_name": "Bob", "caller_phone": "555"}


def test_attach_nothing_is_400_and_closed_call_is_409(client_for, call, cast):
    client = client_for("dispatcher")
    response = client.post(f"{detail(call)}attach/", {}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    services.call_close(call_id=call.pk, actor=cast["dispatcher"], disposition=disposition())
    response = client.post(f"{detail(call)}attach/", {"text": "late info"}, format="json")
    assert response.status_code == 409


def test_field_staff_may_not_attach_caller_identity(client_for, call):
    response = client_for("field").post(
        f"{detail(call)}attach/", {"text": "x", "caller_name": "Bob"}, format="json"
    )
    assert response.status_code == 403
    assert not call.events.filter(kind="attached").exists()


def test_attach_denied_anonymous_and_hidden_across_agencies(anon, client_for, call, other_call):
    assert anon.post(f"{detail(call)}attach/", {"text": "x"}).status_code in (401, 403)
    assert (
        client_for("dispatcher").post(f"{detail(other_call)}attach/", {"text": "x"}).status_code
        == 404
    )


# --- assign ----------------------------------------------------------------------------------


def test_assign_available_unit(client_for, call, unit):
    response = client_for("dispatcher").post(
        f"{detail(call)}assign/", {"unit": unit.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["unit_call_sign"] == "A11"
    unit.refresh_from_db()
    call.refresh_from_db()
    assert unit.status == "dispatched" and call.status == "dispatched"


def test_assigning_a_committed_unit_is_409_with_current(client_for, make_call, unit, cast):
    first, second = make_call(), make_call()
    services.unit_assign(call_id=first.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    response = client_for("dispatcher").post(
        f"{detail(second)}assign/", {"unit": unit.pk}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == {
        "unit_id": unit.pk,
        "unit": "A11",
        "status": "dispatched",
        "call_id": first.pk,
        "call": first.number,
    }
    assert "unit" in body
    assert not CallAssignment.objects.filter(call=second).exists()


@pytest.mark.parametrize("payload", [{}, {"unit": "abc"}, {"unit": -1}, {"unit": True}])
def test_assign_bad_unit_is_400(client_for, call, payload):
    response = client_for("dispatcher").post(f"{detail(call)}assign/", payload, format="json")
    assert response.status_code == 400
    assert "unit" in response.json()


def test_assigning_other_agency_unit_is_400_no_such_unit(client_for, call, other_unit):
    response = client_for("dispatcher").post(
        f"{detail(call)}assign/", {"unit": other_unit.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"unit": ["No such unit."]}
    other_unit.refresh_from_db()
    assert other_unit.status == "available"


def test_assign_denied_to_analyst_and_other_agency_call_404(client_for, call, other_call, unit):
    assert (
        client_for("analyst").post(f"{detail(call)}assign/", {"unit": unit.pk}).status_code == 403
    )
    response = client_for("dispatcher").post(f"{detail(other_call)}assign/", {"unit": unit.pk})
    assert response.status_code == 404


def test_assign_to_closed_call_is_409(client_for, call, unit, cast):
    services.call_close(call_id=call.pk, actor=cast["dispatcher"], disposition=disposition())
    response = client_for("dispatcher").post(f"{detail(call)}assign/", {"unit": unit.pk})
    assert response.status_code == 409
    assert response.json()["current"]["status"] == "closed"


def test_call_factory_rows_are_listed_like_service_rows(client_for, agency):
    CallFactory(agency=agency)
    assert client_for("supervisor").get(CALLS).json()["count"] == 1
