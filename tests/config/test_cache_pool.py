"""The production cache shares one Redis connection pool per process across its per-thread objects."""

from __future__ import annotations

import threading

from beacon_core.cache import OutageTolerantRedisCache


def _pool_in_new_thread(location: str) -> object:
    found: list[object] = []

    def run() -> None:
        cache = OutageTolerantRedisCache(location, {"OPTIONS": {"socket_timeout": 1}})
        found.append(cache._cache.get_client().connection_pool)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found[0]


def test_cache_objects_of_different_threads_share_one_pool_per_server():
    """Django makes a cache object per thread and ASGI a thread per request: without sharing,
    each request opened a Redis connection. Building a client connects nothing, so no Redis is
    needed here."""
    first = _pool_in_new_thread("redis://127.0.0.1:6399/5")
    second = _pool_in_new_thread("redis://127.0.0.1:6399/5")
    other = _pool_in_new_thread("redis://127.0.0.1:6399/6")
    assert first is second
    assert other is not first
