"""A bound on how many HTTP requests one server process runs inside Django at once.

Django runs each request's views in a thread of its own. Under load every waiting request was
a runnable thread competing for the GIL, and a request holding a database lock that every
intake needs (the call number counter, the audit chain) waited behind all of them after each
round trip: the soak measured eight intakes queued on that lock on average and intake capped at
16 calls/s with the server's CPU not even full. Requests beyond the bound wait on the event
loop, where waiting costs nothing, and the few threads inside get the GIL back quickly.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HttpConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests inside ``app`` at once (0 = no bound).

    Websockets are not counted: a console's socket lives for hours and waits on the channel
    layer, not on a thread.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "http" or self.limit <= 0:
            return await self.app(scope, receive, send)
        if self._slots is None:  # made on the server's loop, at the first request
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            return await self.app(scope, receive, send)
