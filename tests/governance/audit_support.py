"""Helpers of the audit-trail tests: tamper with stored events the way an intruder with database
access would, past the ORM guard and the database triggers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

TABLE = "governance_auditevent"
SQLITE_TRIGGER = "governance_auditevent_no_update"


@contextmanager
def triggers_off() -> Iterator[None]:
    """Switch the append-only triggers off for the rest of the test's transaction.

    PostgreSQL: ``session_replication_role = replica`` skips ordinary triggers (superuser only,
    which an intruder with owner rights would have). SQLite: drop the trigger; the DDL is part
    of the test transaction and is rolled back with it.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TRIGGER}")
    yield


def raw_update(event_id: int, **columns: Any) -> None:
    """UPDATE one stored event with raw SQL (column names are the test's own, not user input)."""
    sets = ", ".join(f"{name} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET {sets} WHERE id = %s",  # noqa: S608
            [*columns.values(), event_id],
        )


def raw_delete(event_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [event_id])  # noqa: S608
