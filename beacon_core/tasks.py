"""The one way Beacon declares a Celery task: stable name, queue and retry policy.

House rule 6: tasks take IDs, re-fetch, tolerate deleted rows, call one service and are
idempotent. This decorator supplies the declarative half so no task forgets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError

from config.celery import app

# Transient failures worth another try: the database went away or was locked (SQLite
# "database is locked" is an OperationalError), or a socket to the broker/DB dropped.
# Anything else (a DomainError, a bug) fails at once so it shows up instead of looping.
RETRY_ON: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError)
MAX_RETRIES = 5
RETRY_BACKOFF_MAX_S = 600


def beacon_task(*, name: str, queue: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``@beacon_task(name="intelligence.run_analysis", queue="analysis")``.

    Every task gets ``acks_late`` (a worker lost mid-task lets another redo it, which is safe
    because tasks are idempotent) and exponential backoff with jitter on transient errors.
    """
    policy: dict[str, Any] = {
        "name": name,
        "queue": queue,
        "acks_late": True,
        "autoretry_for": RETRY_ON,
        "max_retries": MAX_RETRIES,
        "retry_backoff": True,
        "retry_backoff_max": RETRY_BACKOFF_MAX_S,
        "retry_jitter": True,
    }
    policy.update(options)
    return app.task(**policy)
