"""A partner alert reaches open consoles of its agency live (they redraw the map), never another
agency's, through the real websocket and the channel layer."""

from __future__ import annotations

import pytest

from dispatch.alerts.services import alert_receive
from tests.dispatch.test_alerts_services import _cap
from tests.dispatch.test_consumers import SyncWriter, in_sync_thread, sockets  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_new_alert_is_pushed_to_its_agencys_consoles_only(
    cast,
    agency,
    other_agency,
    sockets,  # noqa: F811
):
    neighbour = await in_sync_thread(lambda: UserFactory(roles=["dispatcher"], agency=other_agency))
    console, other = await sockets(cast["dispatcher"]), await sockets(neighbour)
    xml = _cap(
        "live-1",
        sent="2026-11-24T10:00:00-00:00",
        polygon="29.4,-98.5 29.4,-98.4 29.5,-98.4 29.4,-98.5",
    )
    writer = SyncWriter(lambda: alert_receive(agency_id=agency.pk, data=xml).alert)
    event = await console.receive_json_from(timeout=2)
    alert = await writer.outcome()
    assert event == {"type": "partner_alert_received", "alert_id": alert.pk, "agency_id": agency.pk}
    assert await other.receive_nothing(timeout=0.3)
