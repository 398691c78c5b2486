"""The webhook events the domain services emit, and exactly what each payload carries.

Payloads hold ids, codes and times: never caller identity, narratives, persons, addresses,
coordinates, objectives or assignees (docs/webhooks.md lists each field).
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from django.db import transaction

from dispatch import services as dispatch_services
from dispatch.models import CallType
from governance import tasks, webhooks
from governance.models import WebhookDelivery
from intelligence import services as intelligence_services
from intelligence.choices import FindingStatus
from tasking import services as tasking_services
from tests.factories import UnitFactory, disposition
from tests.tasking.conftest import CIRCLE, DOSAGE, WINDOWS, make_finding

pytestmark = pytest.mark.django_db
ALL = list(webhooks.EVENT_TYPES)
SECRETS = ("Jane Roe", "555 0142", "Bicycle", "Main Street", "29.42", "-98.49")


@pytest.fixture(autouse=True)
def inline_queue(settings) -> None:
    """Queue deliveries in the committing thread (embedded mode would use a background one)."""
    settings.BEACON_WEBHOOKS_IN_THREAD = False


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("93.184.216.34", 443))]
    )
    seen: list[int] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", seen.append)
    return seen


@pytest.fixture
def subscribed(agency, cast):
    return webhooks.webhook_create(
        actor=cast["admin"],
        agency=agency,
        name="All",
        url="https://hooks.example.org/x",
        events=ALL,
    )


def sent(event_type: str) -> list[dict[str, Any]]:
    rows = WebhookDelivery.objects.filter(event_type=event_type).order_by("id")
    return [r.payload for r in rows]


def new_call(agency, cast):
    return dispatch_services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="123 North Main Street",
        latitude=29.42,
        longitude=-98.49,
        caller_name="Jane Roe",
        caller_phone="+1 210 555 0142",
        narrative="Bicycle taken from porch.",
    )


def test_call_created_and_closed(agency, cast, subscribed) -> None:
    call = new_call(agency, cast)
    [created] = sent("call.created")
    assert created["type"] == "call.created" and created["agency"] == "default"
    assert created["data"] == {
        "call": {
            "id": call.pk,
            "number": call.number,
            "call_type": "THEFT",
            "priority": call.priority,
            "status": "pending",
            "source": "phone",
            "received_at": call.received_at.isoformat(),
        }
    }
    dispatch_services.call_close(
        call_id=call.pk, actor=cast["dispatcher"], disposition=disposition()
    )
    [closed] = sent("call.closed")
    call.refresh_from_db()
    assert closed["data"]["call"]["status"] == "closed"
    assert closed["data"]["call"]["disposition"] == "REPORT"
    assert closed["data"]["call"]["closed_at"] == call.closed_at.isoformat()
    assert set(closed["data"]["call"]) == {
        "id",
        "number",
        "call_type",
        "priority",
        "status",
        "source",
        "received_at",
        "disposition",
        "closed_at",
    }
    text = json.dumps(sent("call.created") + sent("call.closed"))
    assert not any(s in text for s in SECRETS)


def test_cancelled_call_is_not_a_closed_event(agency, cast, subscribed) -> None:
    call = new_call(agency, cast)
    dispatch_services.call_set_status(call_id=call.pk, actor=cast["dispatcher"], status="cancelled")
    assert sent("call.closed") == []


def test_failed_call_create_leaves_no_delivery(agency, cast, subscribed) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        new_call(agency, cast)
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()


def test_finding_accepted_only(agency, cast, subscribed) -> None:
    finding = make_finding(agency, status=FindingStatus.PROPOSED)
    dismissed = make_finding(agency, status=FindingStatus.PROPOSED)
    intelligence_services.finding_decide(
        finding_id=dismissed.pk, reviewer=cast["supervisor"], decision="dismiss", rationale="No."
    )
    assert sent("finding.accepted") == []
    intelligence_services.finding_decide(
        finding_id=finding.pk, reviewer=cast["supervisor"], decision="accept", rationale="Real."
    )
    [accepted] = sent("finding.accepted")
    data = accepted["data"]["finding"]
    assert set(data) == {"id", "kind", "status", "window_start", "window_end", "decided_at"}
    assert data["id"] == finding.pk and data["kind"] == "repeat_locations"
    assert data["status"] == "accepted"
    assert "burglaries" not in json.dumps(accepted)


def test_assignment_issued_and_completed(agency, cast, subscribed) -> None:
    finding = make_finding(agency)
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    draft = tasking_services.assignment_create(
        actor=cast["supervisor"],
        finding_id=finding.pk,
        kind="directed_patrol",
        objective="Be seen on the block in the evening.",
        area=CIRCLE,
        windows=WINDOWS,
        dosage=DOSAGE,
        assignee_unit_id=unit.pk,
    )
    assert sent("assignment.issued") == []  # a draft is not news
    tasking_services.assignment_issue(assignment_id=draft.pk, actor=cast["supervisor"])
    [issued] = sent("assignment.issued")
    data = issued["data"]["assignment"]
    assert set(data) == {"id", "kind", "status", "priority", "finding_id", "issued_at"}
    assert data["id"] == draft.pk and data["status"] == "issued"
    assert data["finding_id"] == finding.pk and data["issued_at"]
    tasking_services.assignment_finish(
        assignment_id=draft.pk, actor=cast["supervisor"], outcome="completed"
    )
    [done] = sent("assignment.completed")
    assert done["data"]["assignment"]["status"] == "completed"
    assert done["data"]["assignment"]["finished_at"]
    text = json.dumps(issued) + json.dumps(done)
    assert "Be seen" not in text and "A11" not in text and "field1" not in text


def test_alert_received_shape(agency, subscribed) -> None:
    from dispatch.alerts.services import alert_receive
    from tests.dispatch.test_alerts_services import _cap

    xml = _cap("NWS-123", sent="2026-11-24T12:00:00-00:00", event="Flood Warning")
    stored = alert_receive(agency_id=agency.pk, data=xml).alert
    [alert] = sent("alert.received")
    assert alert["data"]["alert"]["identifier"] == "NWS-123"
    assert alert["data"]["alert"]["sent"] == stored.sent.isoformat()
    assert alert["data"]["alert"]["event"] == "Flood Warning"


def test_no_webhooks_costs_one_query(agency, cast, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        webhooks.emit_on_commit("call.created", agency.pk, lambda: 1 / 0)  # never built


def test_alert_received_on_a_new_partner_alert_only(agency, cast, subscribed) -> None:
    from dispatch.alerts.services import alert_receive
    from tests.dispatch.test_alerts_services import _cap

    xml = _cap(
        "hook-1",
        sent="2026-11-24T10:00:00-00:00",
        polygon="29.4,-98.5 29.4,-98.4 29.5,-98.4 29.4,-98.5",
    )
    first = alert_receive(agency_id=agency.pk, data=xml).alert
    alert_receive(agency_id=agency.pk, data=xml)  # the same alert again: no second event
    (payload,) = sent("alert.received")
    assert payload["data"]["alert"]["id"] == first.pk
    assert (payload["data"]["alert"]["event"], payload["data"]["alert"]["severity"]) == (
        "Flood",
        "Severe",
    )
    assert "polygon" not in str(payload) and "River district" not in str(payload)
