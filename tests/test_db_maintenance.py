"""SQLite gets planner statistics on request; other databases are left alone."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection

from beacon_core.db_maintenance import planner_statistics_refresh


@pytest.mark.django_db
def test_sqlite_gets_statistics_and_other_vendors_nothing() -> None:
    if connection.vendor == "sqlite":
        assert planner_statistics_refresh() is True
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 1
    else:
        assert planner_statistics_refresh() is False
    with (
        mock.patch.object(connection, "vendor", "postgresql"),
        mock.patch.object(connection, "cursor", side_effect=AssertionError("no query")),
    ):
        assert planner_statistics_refresh() is False
