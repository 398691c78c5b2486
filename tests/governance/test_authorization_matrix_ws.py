"""The authorization matrix's websocket rows: each role connecting to each websocket route.

Separate from ``test_authorization_matrix.py`` because the socket's consumer reads the database
from its own thread, which needs committed rows (a transactional test), while the HTTP matrix
shares one rolled-back transaction for the whole module.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client

from config.asgi import application
from tests.governance.authorization_matrix import ROLES, WEBSOCKETS

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")


async def in_sync_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` (database access) in a plain thread, off the test's event loop."""
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


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def answer(path: str, user: Any | None) -> str:
    """``accept`` (the hello frame) or the close code the consumer refused with."""
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await in_sync_thread(lambda: session_cookie(user))))
    comm = WebsocketCommunicator(application, "/" + path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    assert connected, "refusals are sent as a close code after the handshake"
    message = await comm.receive_output(timeout=5)
    await comm.disconnect()
    return str(message["code"]) if message["type"] == "websocket.close" else "accept"


CASES = [
    pytest.param(path, role, expected, id=f"{path}|{role}")
    for path, row in sorted(WEBSOCKETS.items())
    for role, expected in zip(ROLES, row.split(), strict=True)
]


@pytest.mark.parametrize(("path", "role", "expected"), CASES)
async def test_websocket_answers_role(
    path: str, role: str, expected: str, cast: dict[str, Any]
) -> None:
    user = None if role == "anonymous" else cast[role]
    assert await answer(path, user) == expected
