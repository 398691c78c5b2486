"""Services publish typed events only after commit, and a broken layer never fails a write."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from beacon_core import realtime as core_realtime
from dispatch import services
from dispatch.models import Call, CallType
from dispatch.realtime import agency_group, unit_group
from tests.factories import UnitFactory, disposition

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch, settings) -> list[tuple[str, dict[str, Any]]]:
    # Unbatched: each event is published from the committing thread, so it is here at once.
    settings.BEACON_AGENCY_EVENTS_EVERY_S = 0
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        core_realtime, "publish_now", lambda group, event: sent.append((group, dict(event))) or True
    )
    return sent


def create(agency: Any, actor: Any) -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="NOISE"),
        address="1 Loud Ln",
        latitude=29.4,
        longitude=-98.4,
    )


def test_events_wait_for_the_commit(cast, agency, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        call = create(agency, cast["dispatcher"])
    assert published == []  # nothing sent inside the transaction
    for callback in pending:
        callback()
    assert published == [
        (
            agency_group(agency.pk),
            {
                "type": "call_created",
                "call_id": call.pk,
                "agency_id": agency.pk,
                "number": call.number,
                "status": "pending",
                "version": 1,
                "row": published[0][1]["row"],  # compared with the snapshot's row below
            },
        )
    ]


def test_call_events_carry_the_row_the_console_snapshot_shows(
    cast, agency, client, published, django_capture_on_commit_callbacks
):
    """console.js applies the pushed row in place of re-reading the board, so it must be the
    snapshot's row exactly: at creation, with a unit on the call, and when the call closes."""
    dispatcher = cast["dispatcher"]
    client.force_login(dispatcher)
    unit = UnitFactory(agency=agency)

    def snapshot_row(call_id: int) -> dict[str, Any] | None:
        calls = client.get(reverse("console-snapshot")).json()["calls"]
        return next((c for c in calls if c["id"] == call_id), None)

    def last_call_event() -> dict[str, Any]:
        return [e for g, e in published if e["type"].startswith("call_")][-1]

    with django_capture_on_commit_callbacks(execute=True):
        call = create(agency, dispatcher)
    assert last_call_event()["row"] == snapshot_row(call.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    pushed = last_call_event()["row"]
    assert pushed == snapshot_row(call.pk)
    assert pushed["units"] == [unit.call_sign]
    assert pushed["status"] == "dispatched"
    with django_capture_on_commit_callbacks(execute=True):
        services.call_close(call_id=call.pk, actor=dispatcher, disposition=disposition("REPORT"))
    closed = last_call_event()
    assert closed["type"] == "call_closed"
    assert closed["row"]["status"] == "closed" and closed["row"]["version"] > pushed["version"]
    assert snapshot_row(call.pk) is None  # gone from the board, as the console removes it


def test_a_rolled_back_write_publishes_nothing(
    cast, agency, published, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        create(agency, cast["dispatcher"])
        raise RuntimeError("rolled back after the service returned")
    assert published == []
    assert not Call.objects.exists()


def test_unit_events_go_to_the_agency_and_the_unit(
    cast, agency, published, django_capture_on_commit_callbacks
):
    unit = UnitFactory(agency=agency)
    with django_capture_on_commit_callbacks(execute=True):
        services.unit_set_status(unit_id=unit.pk, actor=cast["dispatcher"], status="off_duty")
    assert [(g, e["type"]) for g, e in published] == [
        (agency_group(agency.pk), "unit_status_changed"),
        (unit_group(unit.pk), "unit_status_changed"),
    ]


def test_a_broken_channel_layer_does_not_fail_the_write(
    cast, agency, monkeypatch, django_capture_on_commit_callbacks
):
    class Broken:
        async def group_send(self, group: str, message: dict) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setattr(core_realtime, "get_channel_layer", lambda: Broken())
    with django_capture_on_commit_callbacks(execute=True):
        call = create(agency, cast["dispatcher"])
    assert Call.objects.filter(pk=call.pk).exists()
    assert core_realtime.publish_now("any", {"type": "x"}) is False


def test_cancelling_a_call_tells_the_units_on_it_from_one_read_of_its_assignments(
    cast, agency, published, django_capture_on_commit_callbacks
):
    """The units the cancel releases are read once on the locked call: the release and the
    event (its row and its unit groups) use that read, in the order the units were assigned."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dispatcher = cast["dispatcher"]
    first, second = UnitFactory(agency=agency), UnitFactory(agency=agency)
    call = create(agency, dispatcher)
    for unit in (first, second):
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    published.clear()
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        services.call_set_status(call_id=call.pk, actor=dispatcher, status="cancelled")
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "dispatch_callassignment"' in q["sql"]
    ]
    assert len(reads) == 1, reads
    closed = [(g, e) for g, e in published if e["type"] == "call_closed"]
    assert [g for g, _ in closed] == [
        agency_group(agency.pk),
        unit_group(first.pk),
        unit_group(second.pk),
    ]
    assert closed[0][1]["row"]["units"] == [first.call_sign, second.call_sign]
