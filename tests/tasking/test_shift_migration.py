"""Migrations 0003-0005: assignments made to a shift by free-text label before shifts were rows
keep their assignee, as a Shift of their agency named by the label (one per agency and label)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import AgencyFactory, UserFactory

BEFORE = [("tasking", "0002_assignment_dosage_summary")]
AFTER = [("tasking", "0005_assignment_shift_fk_only")]


def _migrate(target: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_shift_labels_become_shifts_of_their_agency() -> None:
    agency, other = AgencyFactory(), AgencyFactory()
    boss = UserFactory(roles=["supervisor"], agency=agency)
    try:
        old = _migrate(BEFORE)
        old_assignments = old.get_model("tasking", "Assignment").objects
        common = {
            "manual": True,
            "kind": "premise_check",
            "objective": "Check the doors.",
            "area": {"type": "circle", "latitude": 29.4, "longitude": -98.4, "radius_m": 100},
            "windows": [],
            "created_by_id": boss.pk,
            "created_at": timezone.now(),
        }
        ids = [
            old_assignments.create(agency_id=a.pk, assignee_shift=label, **common).pk
            for a, label in ((agency, "Nights"), (agency, "Nights"), (other, "Nights"))
        ]
        new = _migrate(AFTER)
        assignments = new.get_model("tasking", "Assignment").objects
        shifts = new.get_model("tasking", "Shift").objects
        rows = {a.pk: a for a in assignments.filter(pk__in=ids)}
        assert rows[ids[0]].assignee_shift_id == rows[ids[1]].assignee_shift_id
        assert rows[ids[0]].assignee_shift_id != rows[ids[2]].assignee_shift_id
        assert sorted(shifts.values_list("agency_id", "name")) == sorted(
            [(agency.pk, "Nights"), (other.pk, "Nights")]
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
