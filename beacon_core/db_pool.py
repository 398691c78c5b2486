"""A PostgreSQL connection pool for the web server's processes (Django's psycopg pool).

Under ASGI each request runs in a thread of its own and Django cannot keep a connection across
requests there (``DB_CONN_MAX_AGE`` must stay 0, settings.py), so every request connected to
PostgreSQL afresh: TCP, start-up, authentication and a time-zone query, about 5 % of the server's
time in the soak's profile. A pool hands each request a connection already open.

Only the web server uses it (``manage.py serve`` turns it on): Celery's prefork workers fork
after their parent may have touched the database, and a pool (its sockets and its threads) does
not survive a fork.
"""

from __future__ import annotations

import os
from typing import Any

ENV = "BEACON_DB_POOL"


def pool_options(http_concurrency: int) -> dict[str, Any]:
    """Pool sizes for one server process: a connection for each request Django runs at once
    (``BEACON_HTTP_CONCURRENCY``) and a few for websocket consumers' checks; a request finding
    none free within ``timeout`` seconds fails (a 503 while the database is away)."""
    extra = int(os.environ.get("BEACON_DB_POOL_EXTRA", "8"))
    return {"min_size": 2, "max_size": max(http_concurrency, 1) + extra, "timeout": 10}


def wanted() -> bool:
    """Whether this process was asked to pool (``serve`` sets the variable for its workers)."""
    return os.environ.get(ENV, "").lower() in {"1", "true", "yes", "on"}


def enable_for_server() -> bool:
    """Ask for the pool in this process and the server workers it starts; False if not PostgreSQL.

    Workers started as new interpreters read it from the environment (settings.py); this process
    (a one-worker server) gets it in its live settings before it serves anything.
    """
    from django.conf import settings
    from django.db import connections

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql" or os.environ.get(ENV) == "0":
        return False
    os.environ[ENV] = "1"
    if not db["OPTIONS"].get("pool"):
        connections.close_all()  # anything the command opened before serving
        db["OPTIONS"]["pool"] = pool_options(settings.BEACON_HTTP_CONCURRENCY)
    return True
