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
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
WARN_EVERY_S = 30.0
# Outage errors: Redis refusing or dropping the connection, or not answering in time.
OUTAGE_ERRORS = (RedisError, OSError)


class OutageTolerantRedisCache(RedisCache):
    """``RedisCache`` whose operations survive Redis being unreachable (see module docstring)."""

    _last_warning = 0.0

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
