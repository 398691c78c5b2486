"""Idle session timeout (CJIS 5.5.5): 30 minutes without use ends the session; background
refreshes do not count as use, AVL position posts do; open websockets close with 4401."""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from governance.session_security import LAST_ACTIVITY_KEY, is_idle, session_is_live
from tests.dispatch.test_consumers import communicator, in_sync_thread
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def backdate(client: Client, minutes: float) -> None:
    """Pretend the last use was ``minutes`` ago."""
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time() - minutes * 60)
    session.save()


def stamp(client: Client) -> int | None:
    store = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
    return store.get(LAST_ACTIVITY_KEY)


def test_a_page_after_the_timeout_goes_to_sign_in_with_a_note(cast) -> None:
    client = signed_in(cast["dispatcher"])
    assert client.get("/console/").status_code == 200
    backdate(client, 31)
    response = client.get("/console/?x=1")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?") and "idle=1" in response["Location"]
    assert "next=%2Fconsole%2F%3Fx%3D1" in response["Location"]
    assert "_auth_user_id" not in client.session  # really signed out
    assert "signed out because the session was idle" in client.get(response["Location"]).text
    assert client.get("/api/v1/calls/").status_code in (401, 403)


def test_use_within_the_timeout_keeps_the_session(cast) -> None:
    client = signed_in(cast["dispatcher"])
    backdate(client, 29)
    assert client.get("/console/").status_code == 200
    assert time.time() - stamp(client) < 5  # the stamp moved forward
    backdate(client, 29)
    assert client.get("/console/").status_code == 200


def test_background_refreshes_do_not_count_as_use(cast) -> None:
    client = signed_in(cast["dispatcher"])
    backdate(client, 20)
    before = stamp(client)
    assert client.get("/api/v1/calls/", HTTP_X_BEACON_BACKGROUND="1").status_code == 200
    assert stamp(client) == before
    backdate(client, 31)
    assert client.get("/api/v1/calls/", HTTP_X_BEACON_BACKGROUND="1").status_code in (401, 403)


def test_a_phone_sharing_its_location_stays_signed_in(cast, agency) -> None:
    from tests.factories import UnitFactory

    unit = UnitFactory(agency=agency, call_sign="P1")
    unit.users.add(cast["field"])
    client = signed_in(cast["field"])
    backdate(client, 20)
    fix = {
        "positions": [{"recorded_at": "2026-11-24T10:00:00Z", "latitude": 29.4, "longitude": -98.4}]
    }
    posted = client.post(
        f"/api/v1/units/{unit.pk}/positions/",
        fix,
        content_type="application/json",
        HTTP_X_BEACON_BACKGROUND="1",
    )
    assert posted.status_code in (200, 201), posted.content
    assert time.time() - stamp(client) < 5


def test_the_timeout_is_a_setting(cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BEACON_IDLE_TIMEOUT_MINUTES = 5
    client = signed_in(cast["dispatcher"])
    backdate(client, 6)
    assert client.get("/console/").status_code == 302


def test_odd_stamps_are_not_idle() -> None:
    now = time.time()
    assert not is_idle(None, now) and not is_idle("yesterday", now) and not is_idle(True, now)
    assert is_idle(now - 31 * 60, now) and not is_idle(now - 60, now)


def test_session_liveness_for_sockets(cast) -> None:
    client = signed_in(cast["field"])
    key = client.session.session_key
    assert session_is_live(key)
    backdate(client, 31)
    assert not session_is_live(key)
    assert not session_is_live("no-such-session") and not session_is_live(None)


@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_closes_with_4401_once_idle(agency) -> None:
    user = await in_sync_thread(lambda: UserFactory(roles=["dispatcher"], agency=agency))
    comm = await communicator(user)
    connected, _ = await comm.connect(timeout=5)
    assert connected and (await comm.receive_json_from(timeout=5))["type"] == "hello"
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "pong"

    def go_idle() -> None:
        from django.contrib.sessions.models import Session

        store = import_module(settings.SESSION_ENGINE).SessionStore
        for row in Session.objects.all():
            s = store(row.session_key)
            s[LAST_ACTIVITY_KEY] = int(time.time() - 3600)
            s.save()

    await in_sync_thread(go_idle)
    await comm.send_json_to({"type": "ping"})
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4401}
    await comm.disconnect()
