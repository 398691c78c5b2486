"""The dispatch websocket through the real ASGI app: auth, push after commit, isolation, framing.

Pushes are made the way production makes them: a service commits in a plain
sync thread, ``on_commit`` publishes through the channel layer, and the socket
served on the test's event loop receives it. With Channels' stock in-memory
layer that cross-thread publish is never delivered inside a communicator test
(stack notes, item 3); ``ThreadSafeInMemoryChannelLayer`` is what makes it work.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client

from beacon_core.channel_layer import ThreadSafeInMemoryChannelLayer
from config.asgi import application
from dispatch import services
from dispatch.consumers import MAX_INBOUND_BYTES
from dispatch.models import Call, CallType
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
PATH = "/ws/dispatch/"


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def communicator(
    user: Any | None = None, origin: tuple[bytes, bytes] = ORIGIN, path: str = PATH
) -> Any:
    headers = [origin]
    if user is not None:
        # Signing in touches the database, which Django refuses on the event loop thread.
        headers.append((b"cookie", await in_sync_thread(lambda: session_cookie(user))))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.fixture
async def sockets() -> AsyncIterator[Callable[..., Any]]:
    """Open sockets through ``await sockets(user)``; all are disconnected at the end."""
    opened: list[Any] = []

    async def _open(user: Any, origin: tuple[bytes, bytes] = ORIGIN, path: str = PATH) -> Any:
        comm = await communicator(user, origin, path)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        hello = await comm.receive_json_from(timeout=5)
        assert hello["type"] == "hello"
        opened.append(comm)
        return comm

    yield _open
    for comm in opened:
        await comm.disconnect()


async def in_sync_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a new plain thread, like the embedded beat thread or a sync worker.

    Not ``asyncio.to_thread``: that copies the loop's context into the worker,
    and asgiref then runs ``async_to_sync`` back on the test's own loop, which
    would hide exactly the cross-thread delivery problem under test.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting test
            loop.call_soon_threadsafe(done.set_exception, exc)
        else:
            loop.call_soon_threadsafe(done.set_result, result)
        finally:
            connection.close()

    threading.Thread(target=run, daemon=True).start()
    return await asyncio.wait_for(done, timeout=30)


class SyncWriter:
    """A service call running in its own plain thread that nothing on the test's loop waits for.

    The socket is read while the writer runs; only afterwards is the thread
    joined. So the loop sleeps in its selector when the publish arrives, as the
    server's loop does when the embedded beat thread publishes, and only a
    layer that wakes the loop delivers within the receive timeout.
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # re-raised in the test by outcome()
            self._error = exc
        finally:
            connection.close()

    async def outcome(self) -> Any:
        await asyncio.to_thread(self._thread.join, 30)
        if self._error is not None:
            raise self._error
        return self._result


def create_call(agency: Any, actor: Any) -> Call:
    return services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="NOISE"),
        address="500 Elm Street Apt 2",
        latitude=29.42,
        longitude=-98.49,
    )


async def close_code(comm: Any) -> int:
    """The code a refused socket is closed with (the consumer accepts, then closes)."""
    connected, _ = await comm.connect(timeout=5)
    assert connected, "refusals are sent as a close code the browser can read"
    message = await comm.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


# --- connecting ----------------------------------------------------------------------


async def test_an_anonymous_socket_is_closed_with_4401(db):
    assert await close_code(await communicator(None)) == 4401


async def test_a_role_that_may_not_see_calls_is_closed_with_4403(cast):
    assert await close_code(await communicator(cast["auditor"])) == 4403


async def test_a_disabled_account_is_treated_as_signed_out(cast):
    user = cast["dispatcher"]
    cookie = await in_sync_thread(lambda: session_cookie(user))
    user.is_active = False
    await in_sync_thread(user.save)
    comm = WebsocketCommunicator(application, PATH, headers=[ORIGIN, (b"cookie", cookie)])
    assert await close_code(comm) == 4401


async def test_a_foreign_origin_is_rejected_before_the_handshake(cast):
    comm = await communicator(cast["dispatcher"], origin=(b"origin", b"http://evil.example"))
    connected, _ = await comm.connect(timeout=5)
    assert not connected


async def test_a_dispatcher_connects_and_is_greeted(cast):
    comm = await communicator(cast["dispatcher"])
    connected, _ = await comm.connect(timeout=5)
    assert connected
    # its agency, and the access-rules group every connection joins
    assert await comm.receive_json_from(timeout=5) == {"type": "hello", "groups": 2}
    await comm.disconnect()


# --- pushes --------------------------------------------------------------------------


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="production mode uses Redis")
def test_embedded_mode_uses_the_thread_safe_layer():
    """The push tests below prove cross-thread delivery only if this is the layer under test."""
    assert isinstance(get_channel_layer(), ThreadSafeInMemoryChannelLayer)


async def test_a_call_created_in_a_sync_thread_reaches_the_agency_console_only(
    cast, agency, other_agency, sockets
):
    mine = await sockets(cast["dispatcher"])
    neighbour = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["dispatcher"], agency=other_agency))
    )

    writer = SyncWriter(lambda: create_call(agency, cast["dispatcher"]))

    event = await mine.receive_json_from(timeout=2)
    call = await writer.outcome()
    row = event.pop("row")
    assert event == {
        "type": "call_created",
        "call_id": call.pk,
        "agency_id": agency.pk,
        "number": call.number,
        "status": "pending",
        "version": 1,
    }
    assert (row["id"], row["number"], row["units"]) == (call.pk, call.number, [])
    assert await neighbour.receive_nothing(timeout=0.3)


async def test_group_events_skip_channels_connection_clean_up_but_page_frames_keep_it(
    cast, agency, sockets, monkeypatch
):
    """Channels hops to a thread to close stale connections before every message; a console
    hears every call change, so the consumer forwards group events without that hop."""
    import channels.consumer

    hops: list[str] = []
    real = channels.consumer.aclose_old_connections

    async def counted() -> None:
        hops.append("hop")
        await real()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    console = await sockets(cast["dispatcher"])
    hops.clear()

    writer = SyncWriter(lambda: create_call(agency, cast["dispatcher"]))
    assert (await console.receive_json_from(timeout=2))["type"] == "call_created"
    await writer.outcome()
    assert hops == []

    await console.send_json_to({"type": "ping"})
    assert await console.receive_json_from(timeout=3) == {"type": "pong"}
    assert hops == ["hop"]


async def test_a_batch_of_events_is_checked_each_and_forwarded_in_one_frame_in_order(
    cast, agency, other_agency, sockets
):
    from dispatch.realtime import agency_group

    console = await sockets(cast["dispatcher"])
    mine = [{"type": "call_updated", "call_id": n, "agency_id": agency.pk} for n in (1, 2)]
    foreign = {"type": "call_updated", "call_id": 3, "agency_id": other_agency.pk}

    async def send(events: list[dict[str, Any]]) -> None:
        message = {"type": "beacon.event", "group": agency_group(agency.pk), "events": events}
        await get_channel_layer().group_send(agency_group(agency.pk), message)

    await send([mine[0], foreign, mine[1]])
    assert await console.receive_json_from(timeout=2) == {"type": "batch", "events": mine}
    assert await console.receive_nothing(timeout=0.3)
    # One event left after the checks goes as a plain frame; none left sends nothing.
    await send([foreign, mine[1]])
    assert await console.receive_json_from(timeout=2) == mine[1]
    await send([foreign])
    assert await console.receive_nothing(timeout=0.3)


async def test_nothing_is_pushed_for_a_write_that_rolls_back(cast, agency, sockets):
    console = await sockets(cast["dispatcher"])

    def refused() -> None:
        with contextlib.suppress(services.DomainError):
            services.call_create(
                agency=agency,
                actor=cast["dispatcher"],
                call_type=CallType.objects.get(code="NOISE"),
                address="",
            )

    await in_sync_thread(refused)
    assert await console.receive_nothing(timeout=0.3)


async def test_a_unit_event_reaches_the_units_device_once(cast, agency, sockets):
    field_user = cast["field"]

    def setup() -> tuple[Any, Call]:
        unit = UnitFactory(agency=agency)
        unit.users.add(field_user)
        return unit, create_call(agency, cast["dispatcher"])

    unit, call = await in_sync_thread(setup)
    device = await sockets(field_user)

    writer = SyncWriter(
        lambda: services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    )

    received = unpack(await device.receive_json_from(timeout=2))
    await writer.outcome()
    received += await drain(device)
    kinds = [e["type"] for e in received]
    assert kinds.count("unit_assigned") == 1, kinds
    assert "call_updated" in kinds
    assigned = next(e for e in received if e["type"] == "unit_assigned")
    assert (assigned["unit_id"], assigned["call_id"]) == (unit.pk, call.pk)


def unpack(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """The events in one frame: a batch frame carries several (static/js/beacon.js)."""
    return frame["events"] if frame.get("type") == "batch" else [frame]


async def drain(comm: Any) -> list[dict[str, Any]]:
    """Every event received until the socket falls quiet, batch frames unpacked."""
    received = []
    while not await comm.receive_nothing(timeout=0.3):
        received += unpack(await comm.receive_json_from())
    return received


async def test_a_phone_on_the_field_feed_hears_only_its_units_and_their_calls(
    cast, agency, sockets
):
    """field.js connects with ?feed=field: not the agency-wide stream of every call and every
    unit's AVL fix (the soak measured 200 phones receiving and dropping all of it)."""
    field_user = cast["field"]

    def setup() -> tuple[Any, Any, Call]:
        mine, other = UnitFactory(agency=agency), UnitFactory(agency=agency)
        mine.users.add(field_user)
        call = create_call(agency, cast["dispatcher"])
        services.unit_assign(call_id=call.pk, unit_id=mine.pk, actor=cast["dispatcher"])
        return mine, other, call

    _mine, other, call = await in_sync_thread(setup)
    await asyncio.sleep(0.3)  # the set-up's agency events, batched, go out before the console joins
    phone = await sockets(field_user, path=f"{PATH}?feed=field")
    console = await sockets(cast["dispatcher"])

    def elsewhere() -> None:
        create_call(agency, cast["dispatcher"])  # a call no unit of the phone is on
        services.unit_positions_record(
            unit_id=other.pk,
            positions=[
                {"recorded_at": dt.datetime.now(dt.UTC), "latitude": 29.4, "longitude": -98.5}
            ],
        )

    await in_sync_thread(elsewhere)
    assert await phone.receive_nothing(timeout=0.5)
    assert {e["type"] for e in await drain(console)} == {"call_created", "units_moved"}

    await in_sync_thread(
        lambda: services.call_add_note(
            call_id=call.pk, actor=cast["dispatcher"], text="Gate code 1234"
        )
    )
    heard = await drain(phone)
    assert [(e["type"], e["call_id"]) for e in heard] == [("call_updated", call.pk)]
    assert [e["type"] for e in await drain(console)] == ["call_updated"]  # the agency copy only


def _fix(lat: float, lon: float, seconds_ago: float = 0) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)
    return {"recorded_at": at, "latitude": lat, "longitude": lon, "heading": 90.0}


async def test_unit_moves_reach_consoles_batched_and_not_the_units_own_devices(
    cast, agency, other_agency, sockets
):
    """AVL fixes from many units within the batching interval arrive as one ``units_moved``
    event per agency, each unit with its newest position; the unit's own phone (which sent the
    fix) and consoles of other agencies hear nothing."""
    field_user = cast["field"]

    def setup() -> tuple[Any, Any]:
        mine, other = UnitFactory(agency=agency), UnitFactory(agency=agency)
        mine.users.add(field_user)
        return mine, other

    mine, other = await in_sync_thread(setup)
    console = await sockets(cast["dispatcher"])
    phone = await sockets(field_user, path=f"{PATH}?feed=field")
    elsewhere = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["dispatcher"], agency=other_agency))
    )

    def move() -> None:
        services.unit_positions_record(unit_id=mine.pk, positions=[_fix(29.40, -98.50, 2)])
        services.unit_positions_record(unit_id=other.pk, positions=[_fix(29.41, -98.51)])
        services.unit_positions_record(unit_id=mine.pk, positions=[_fix(29.42, -98.52)])

    await in_sync_thread(move)
    events = await drain(console)
    items = [i for e in events for i in e["items"]]
    assert {e["type"] for e in events} == {"units_moved"}
    assert {e["agency_id"] for e in events} == {agency.pk}
    assert len(events) < 3  # batched (the interval may split the three fixes in two at most)
    newest = {i["unit_id"]: (i["latitude"], i["longitude"]) for i in items}
    assert newest == {mine.pk: (29.42, -98.52), other.pk: (29.41, -98.51)}
    assert all(i["heading"] == 90.0 and i["position_at"] for i in items)
    assert await phone.receive_nothing(timeout=0.3)
    assert await elsewhere.receive_nothing(timeout=0.1)


async def test_a_move_in_a_rolled_back_transaction_is_not_sent(cast, agency, sockets):
    unit = await in_sync_thread(lambda: UnitFactory(agency=agency))
    console = await sockets(cast["dispatcher"])

    def move_then_fail() -> None:
        from django.db import transaction

        with contextlib.suppress(RuntimeError), transaction.atomic():
            services.unit_positions_record(unit_id=unit.pk, positions=[_fix(29.4, -98.5)])
            raise RuntimeError("the surrounding write failed")

    await in_sync_thread(move_then_fail)
    assert await console.receive_nothing(timeout=0.4)


async def test_a_superuser_console_receives_every_agency(agency, other_agency, cast, sockets):
    root = await in_sync_thread(lambda: UserFactory(roles=[], agency=agency, is_superuser=True))
    console = await sockets(root)
    writer = SyncWriter(lambda: create_call(other_agency, cast["dispatcher"]))
    assert (await console.receive_json_from(timeout=2))["agency_id"] == other_agency.pk
    await writer.outcome()


# --- framing -------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(cast, sockets):
    comm = await sockets(cast["dispatcher"])
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=3) == {"type": "pong"}


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ("x" * (MAX_INBOUND_BYTES + 1), "message"),
        ("é" * (MAX_INBOUND_BYTES // 2 + 1), "message"),  # few characters, too many bytes
        ("{not json", "message"),
        (json.dumps(["ping"]), "type"),
        (json.dumps({"type": "subscribe", "group": "dispatch.agency.2"}), "type"),
    ],
    ids=["oversized", "oversized-multibyte", "not-json", "not-an-object", "unknown-type"],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(cast, sockets, frame, field):
    comm = await sockets(cast["dispatcher"])
    await comm.send_to(text_data=frame)
    error = await comm.receive_json_from(timeout=3)
    assert error["type"] == "error" and error["field"] == field
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=3) == {"type": "pong"}


# --- Redis --------------------------------------------------------------------------------


@pytest.mark.redis
async def test_a_push_travels_through_redis(cast, agency, other_agency, settings, sockets):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [os.environ["REDIS_URL"]],
                "prefix": f"beacon-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    mine = await sockets(cast["dispatcher"])
    neighbour = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["dispatcher"], agency=other_agency))
    )

    writer = SyncWriter(lambda: create_call(agency, cast["dispatcher"]))

    event = await mine.receive_json_from(timeout=5)
    call = await writer.outcome()
    assert (event["type"], event["call_id"]) == ("call_created", call.pk)
    assert await neighbour.receive_nothing(timeout=0.5)
