"""The production cache: Redis, but an outage of it degrades to "nothing cached", never an error.

The cache holds only conveniences: API rate-limit counters and the audit trail's repeat window for
self-refreshing views. When Redis is down (the fault suite stops it for 30 s during intake), a
raised ``ConnectionError`` used to turn every API request into a 500 through the rate limiter;
call intake must keep answering. So reads miss, writes are dropped, and ``add`` reports "added"
(the audit trail then records a consultation again rather than skipping one). Rate limits are
not enforced while Redis is away; that is logged, at most every 30 s per process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
WARN_EVERY_S = 30.0
# Outage errors: Redis refusing or dropping the connection, or not answering in time.
OUTAGE_ERRORS = (RedisError, OSError)


class SharedPoolRedisCacheClient(RedisCacheClient):
    """Django's Redis client with one connection pool per server and process, not per client.

    Django keeps a cache object per thread, and under ASGI each request runs in a thread of its
    own: every request built a new pool and opened a new Redis connection for its rate-limit
    counter (a soak profile showed connecting to Redis as 5 % of the server's time).
    """

    _shared: dict[tuple[int, str], Any] = {}
    _shared_lock = threading.Lock()

    def _get_connection_pool(self, write: bool) -> Any:
        server = self._servers[self._get_connection_pool_index(write)]
        key = (os.getpid(), server)  # a forked child must not share its parent's sockets
        pool = self._shared.get(key)
        if pool is None:
            with self._shared_lock:
                pool = self._shared.get(key)
                if pool is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    self._shared[key] = pool
        return pool


class OutageTolerantRedisCache(RedisCache):
    """``RedisCache`` whose operations survive Redis being unreachable (see module docstring)."""

    _last_warning = 0.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient

    def _outage(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - OutageTolerantRedisCache._last_warning >= WARN_EVERY_S:
            OutageTolerantRedisCache._last_warning = now
            logger.warning(
                "cache unavailable (%s: %s): rate limits not enforced, nothing cached until it is back",
                operation,
                exc,
            )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except OUTAGE_ERRORS as exc:
            self._outage("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except OUTAGE_ERRORS as exc:
            self._outage("get_many", exc)
            return {}

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("set", exc)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("add", exc)
            return True

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except OUTAGE_ERRORS as exc:
            self._outage("delete", exc)
            return False
