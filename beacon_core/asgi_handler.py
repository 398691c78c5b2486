"""Django's ASGI handler, with each request's middleware and view run in one trip to a thread.

Beacon's middleware and views are synchronous. Django's own handler adapts the middleware chain
piece by piece: a request went from the event loop to a thread for the outer middleware, back to
the loop for the ones that can run async, to a thread again for each of their ``process_*``
methods and for the view, and back, about eight trips per request, each in a new thread that
Django starts for the request (``ThreadSensitiveContext``). Under the soak that machinery was a
visible share of the server's time (docs/benchmarks.md).

Here the whole chain is loaded synchronously, as under WSGI, and runs in one trip to a thread of
a fixed pool (as many as ``BEACON_HTTP_CONCURRENCY`` lets in). Django's request signals still
fire on the loop's side, so this thread's database connection is closed (returned to the pool)
around each request here: the same clean-up, in the thread that holds the connection.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections


class OneTripASGIHandler(ASGIHandler):
    """``ASGIHandler`` running the synchronous middleware chain and view in one pooled thread."""

    def __init__(self, threads: int) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=max(threads, 1), thread_name_prefix="django-request"
        )
        self._signals_executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="django-request-signals"
        )
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain = self._middleware_chain

        def run(request: Any) -> Any:
            close_old_connections()
            try:
                return chain(request)
            finally:
                close_old_connections()

        self._middleware_chain = SyncToAsync(run, thread_sensitive=False, executor=self._executor)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # What Django still runs "thread-sensitively" around the chain (the request signals'
        # receivers, closing the response) goes to one thread kept for it, not to a new thread
        # per request as Django's own context makes, nor to the thread websocket consumers share.
        async with ThreadSensitiveContext(executor=self._signals_executor):
            await self.handle(scope, receive, send)

    def shutdown(self) -> None:
        """Stop the handler's threads (a server process ends with them; tests call this)."""
        self._executor.shutdown(wait=True)
        self._signals_executor.shutdown(wait=True)
