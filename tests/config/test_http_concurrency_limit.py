"""HttpConcurrencyLimit: at most N HTTP requests inside Django per process; websockets pass."""

from __future__ import annotations

import asyncio
from typing import Any

from beacon_core.asgi_limits import HttpConcurrencyLimit


class SlowApp:
    """An ASGI app that records how many calls are inside it at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        await asyncio.sleep(0.02)
        self.inside -= 1


def _run(limit: int, kind: str, n: int = 10) -> SlowApp:
    app = SlowApp()
    limited = HttpConcurrencyLimit(app, limit)

    async def main() -> None:
        await asyncio.gather(*(limited({"type": kind}, None, None) for _ in range(n)))

    asyncio.run(main())
    return app


def test_http_requests_beyond_the_bound_wait_and_all_are_served():
    app = _run(3, "http")
    assert app.most == 3
    assert app.inside == 0


def test_websockets_and_a_zero_bound_are_not_limited():
    assert _run(3, "websocket").most == 10
    assert _run(0, "http").most == 10
