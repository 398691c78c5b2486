"""Hostile websocket frames for every consumer (``config/routing.py`` has one route,
``/ws/dispatch/`` → ``dispatch.consumers.DispatchConsumer``): each bad frame gets an error
message naming the field, the socket stays open, and other clients keep being served. Frames over
the server's limit (``serve.WS_MAX_BYTES``) close that one connection with 1009.

Already in ``tests/dispatch/test_consumers.py``: oversized (4 KiB, also multi-byte), not JSON,
not an object, unknown type. Refusal codes 4401/4403 are there too.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from config.routing import websocket_urlpatterns
from dispatch.consumers import MAX_INBOUND_BYTES, DispatchConsumer
from dispatch.management.commands.serve import WS_MAX_BYTES
from tests.dispatch.test_consumers import sockets
from tests.test_embedded_server import _login, server

__all__ = ["server", "sockets"]

pytestmark = pytest.mark.django_db(transaction=True)

BAD_TEXT = {
    "nested-arrays": "[" * (MAX_INBOUND_BYTES // 2) + "]" * (MAX_INBOUND_BYTES // 2),
    "nested-objects": '{"a":' * 600 + "1" + "}" * 600,
    "blank": "   ",
    "nan": "NaN",
    "type-number": json.dumps({"type": 5}),
    "type-null": json.dumps({"type": None}),
    "type-list": json.dumps({"type": ["ping"]}),
    "type-object": json.dumps({"type": {"ping": True}}),
    "script": json.dumps({"type": "<script>alert(1)</script>"}),
    "lone-surrogate": '{"type": "\\ud800"}',
    "nul": '{"type": "ping\\u0000"}',
}


def test_every_websocket_route_is_the_consumer_tested_here() -> None:
    consumers = {route.callback.consumer_class for route in websocket_urlpatterns}
    assert consumers == {DispatchConsumer}, "a new consumer needs its hostile-frame cases here"


async def _answered_then_alive(comm, frame: dict[str, object]) -> dict[str, object]:
    await comm.send_to(**frame)
    error = await comm.receive_json_from(timeout=3)
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=3) == {"type": "pong"}
    return error


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
async def test_a_bad_text_frame_gets_an_error_and_the_socket_stays_open(cast, sockets, text):
    error = await _answered_then_alive(await sockets(cast["dispatcher"]), {"text_data": text})
    assert error["type"] == "error"
    assert error["field"] in ("message", "type")
    assert error["reason"]


async def test_a_binary_frame_is_refused_by_name(cast, sockets) -> None:
    comm = await sockets(cast["dispatcher"])
    error = await _answered_then_alive(comm, {"bytes_data": b'{"type": "ping"}'})
    assert error == {
        "type": "error",
        "field": "message",
        "reason": "binary frames are not accepted; send JSON text",
    }


async def test_an_oversized_binary_frame_is_refused(cast, sockets) -> None:
    comm = await sockets(cast["dispatcher"])
    error = await _answered_then_alive(comm, {"bytes_data": b"\x00" * (MAX_INBOUND_BYTES + 1)})
    assert error["reason"] == f"message larger than {MAX_INBOUND_BYTES} bytes"


async def test_other_clients_are_served_while_one_sends_garbage(cast, sockets) -> None:
    hostile = await sockets(cast["dispatcher"])
    bystander = await sockets(cast["supervisor"])
    for text in BAD_TEXT.values():
        await hostile.send_to(text_data=text)
    await hostile.send_to(bytes_data=b"\xff" * 10)
    await bystander.send_json_to({"type": "ping"})
    assert await bystander.receive_json_from(timeout=3) == {"type": "pong"}
    answers = [await hostile.receive_json_from(timeout=3) for _ in range(len(BAD_TEXT) + 1)]
    assert {a["type"] for a in answers} == {"error"}


@pytest.mark.slow
def test_a_frame_over_the_server_limit_closes_that_socket_with_1009(server) -> None:
    """Through the real server (uvicorn, as ``manage.py serve`` runs it)."""
    jar = _login(server["base"])
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    uri = f"ws://127.0.0.1:{server['port']}/ws/dispatch/"
    headers = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server['port']}"}

    async def scenario() -> tuple[int | None, dict[str, object]]:
        async with (
            websockets.connect(uri, additional_headers=headers, max_size=None) as hostile,
            websockets.connect(uri, additional_headers=headers) as bystander,
        ):
            for ws in (hostile, bystander):
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
            await hostile.send("x" * (WS_MAX_BYTES + 1))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(hostile.recv(), 5)
            await bystander.send(json.dumps({"type": "ping"}))
            return closed.value.rcvd.code if closed.value.rcvd else None, json.loads(
                await asyncio.wait_for(bystander.recv(), 5)
            )

    code, answer = asyncio.run(scenario())
    assert code == 1009
    assert answer == {"type": "pong"}
