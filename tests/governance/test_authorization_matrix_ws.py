"""The authorization matrix's websocket rows: each role connecting to each websocket route.

Separate from ``test_authorization_matrix.py`` because the socket's consumer reads the database
from its own thread, which needs committed rows (a transactional test), while the HTTP matrix
shares one rolled-back transaction for the whole module.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.dispatch.test_consumers import ORIGIN, in_sync_thread, session_cookie
from tests.governance.authorization_matrix import ROLES, WEBSOCKETS

pytestmark = pytest.mark.django_db(transaction=True)


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
