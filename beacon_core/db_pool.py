"""A PostgreSQL connection pool for the web server's processes (Django's psycopg pool).

Under ASGI each request runs in a thread of its own and Django cannot keep a connection across
requests there (``DB_CONN_MAX_AGE`` must stay 0, settings.py), so every request connected to
PostgreSQL afresh: TCP, start-up, authentication and a time-zone query, about 5 % of the server's
time in the soak's profile. A pool hands each request a connection already open.

Opt-in (``BEACON_DB_POOL=1``), and only for the web server (``manage.py serve``): Celery's prefork
workers fork after their parent may have touched the database, and a pool (its sockets and its
threads) does not survive a fork. Not on by default because the PostgreSQL-restart fault test
(tests/faults/test_postgres_restart.py) found that after the database comes back, requests kept
answering 503 for longer than a server connecting per request does: the pool reconnects with a
back-off. Making it the default needs that recovery tuned and the fault test run with it.
"""

from __future__ import annotations

import os
from typing import Any

ENV = "BEACON_DB_POOL"  # the operator's opt-in
# Set by ``serve`` for itself and the worker processes it starts: settings.py pools only where
# this is set, so an opt-in exported to every service (Celery workers too) pools only the server.
ACTIVE_ENV = "BEACON_DB_POOL_ACTIVE"


def pool_options(http_concurrency: int) -> dict[str, Any]:
    """Pool sizes for one server process: a connection for each request Django runs at once
    (``BEACON_HTTP_CONCURRENCY``) and a few for websocket consumers' checks; a request finding
    none free within ``timeout`` seconds fails (a 503 while the database is away)."""
    extra = int(os.environ.get("BEACON_DB_POOL_EXTRA", "8"))
    # While PostgreSQL is down a request waits this long for the pool to reconnect, then answers
    # 503: no longer than a direct connection attempt would take (tests/faults).
    wait = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    return {"min_size": 2, "max_size": max(http_concurrency, 1) + extra, "timeout": wait}


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}


def active() -> bool:
    """Whether this process is a web server asked to pool (read by settings.py)."""
    return _truthy(ACTIVE_ENV)


def enable_for_server() -> bool:
    """Called by ``serve`` before it serves: pool when the operator asked for it (``BEACON_DB_POOL=1``)
    and the database is PostgreSQL.

    Server workers started as new interpreters read ``ACTIVE_ENV`` from the environment in
    settings.py; this process (a one-worker server) gets the pool in its live settings.
    """
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or not _truthy(ENV):
        return False
    os.environ[ACTIVE_ENV] = "1"
    if not db["OPTIONS"].get("pool"):
        connections.close_all()  # anything the command opened before serving
        db["OPTIONS"]["pool"] = pool_options(settings.BEACON_HTTP_CONCURRENCY)
    return True
