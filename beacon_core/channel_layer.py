"""An in-process channel layer that is safe to publish to from any thread.

Channels' ``InMemoryChannelLayer`` keeps asyncio queues bound to the server's
event loop. A publish from another thread (the embedded beat, a sync view run
through ``async_to_sync``) lands on the queue without waking that loop, so
delivery was measured hundreds of milliseconds late or never. This layer
remembers the loop that consumers receive on and marshals every send onto it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    """In-memory layer whose sends run on the consumers' event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    async def receive(self, channel: str) -> dict[str, Any]:
        with self._lock:
            self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def _on_home_loop(self, coro_factory: Any) -> Any:
        home = self._home_loop
        current = asyncio.get_running_loop()
        if home is None or home is current or home.is_closed() or not home.is_running():
            return await coro_factory()
        future = asyncio.run_coroutine_threadsafe(coro_factory(), home)
        return await asyncio.wrap_future(future)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        parent_send = super().send
        await self._on_home_loop(lambda: parent_send(channel, message))

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        parent_group_send = super().group_send
        await self._on_home_loop(lambda: parent_group_send(group, message))
