"""Requests go to a fixed pool of threads in one trip, and each thread tidies its own connection."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from beacon_core import asgi_handler
from beacon_core.asgi_handler import OneTripASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


def http_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def get(app: Any, path: str) -> int:
    sent: list[dict[str, Any]] = []
    body_read = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not body_read.is_set():
            body_read.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(http_scope(path), receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def test_requests_run_in_the_pools_threads_which_tidy_their_connections(monkeypatch):
    """Twelve requests at once through a pool of three: each runs in a ``django-request`` thread
    (not a new thread per request), and each of those threads closes its own connection before
    and after the request (the signals that used to do it run on the loop's side)."""
    tidied: list[str] = []
    real = asgi_handler.close_old_connections

    def recording() -> None:
        tidied.append(threading.current_thread().name)
        real()

    monkeypatch.setattr(asgi_handler, "close_old_connections", recording)
    app = OneTripASGIHandler(threads=3)
    try:
        statuses = await asyncio.gather(*(get(app, "/healthz") for _ in range(12)))
    finally:
        app.shutdown()

    assert statuses == [200] * 12
    assert len(tidied) == 24
    assert {name.rsplit("_", 1)[0] for name in tidied} == {"django-request"}
    assert len(set(tidied)) <= 3


def test_only_http_is_handled():
    app = OneTripASGIHandler(threads=1)
    with pytest.raises(ValueError, match="websocket"):
        asyncio.run(app({"type": "websocket"}, None, None))
