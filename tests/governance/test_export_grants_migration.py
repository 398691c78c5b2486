"""Migration governance/0008: an already-seeded database gains location export for supervisors
and analysts, and no other grant row changes (an admin's edits stay as they are)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("governance", "0007_merge_login_security_and_retention")]
AFTER = [("governance", "0008_export_grants")]


def _migrate(target: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_location_export_is_added_and_nothing_else_changes() -> None:
    try:
        old = _migrate(BEFORE)
        grants = old.get_model("governance", "RoleGrant").objects
        # As an installation seeded before 0008 looks, with one cell an admin lowered.
        grants.filter(category="location", action="export").delete()
        grants.filter(role="analyst", category="call", action="view").update(max_sensitivity=1)
        before = set(grants.values_list("role", "category", "action", "max_sensitivity"))
        assert old.get_model("governance", "AccessPolicyState").objects.exists()
        new = _migrate(AFTER)
        after = set(
            new.get_model("governance", "RoleGrant").objects.values_list(
                "role", "category", "action", "max_sensitivity"
            )
        )
        assert after - before == {
            ("supervisor", "location", "export", 3),
            ("analyst", "location", "export", 3),
        }
        assert before <= after, "no row removed or changed"
        assert ("analyst", "call", "view", 1) in after
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
