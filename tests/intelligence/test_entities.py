"""Recurring entities per role and incident-entity link groups (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.demo.generator import DemoPlan, generate
from dispatch.demo.writer import seed_write
from dispatch.models import Person, Vehicle
from governance.access import forget_cached_access
from governance.choices import Category, Role
from governance.models import Agency
from intelligence import services
from intelligence.analysis.entities import link_groups, recurring_entities
from intelligence.choices import FindingKind, RunStatus
from intelligence.models import Finding
from intelligence.permissions import findings_visible_to
from tests.factories import UserFactory
from tests.grants import set_grants


def test_roles_are_counted_separately_never_merged():
    ents = [1, 1, 1, 1, 2]
    roles = ["victim", "victim", "victim", "suspect", "victim"]
    incs = [10, 11, 12, 13, 10]
    out = {(r.entity_id, r.role): r for r in recurring_entities(ents, roles, incs, 3)}
    assert out[(1, "victim")].flagged and out[(1, "victim")].n_incidents == 3
    assert not out[(1, "suspect")].flagged
    assert not out[(2, "victim")].flagged


def test_same_incident_counts_once():
    out = recurring_entities([5, 5, 5], ["subject"] * 3, [1, 1, 2], 2)
    assert out[0].incident_ids == (1, 2) and out[0].flagged


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        recurring_entities([1], ["a", "b"], [1])


def test_link_groups_components():
    # incidents 0,1,2 linked through entities 0 and 1; incident 3 alone with entity 2.
    inc = [0, 1, 1, 2, 3]
    ent = [0, 0, 1, 1, 2]
    groups = link_groups(inc, ent, n_incidents=5, n_entities=3, min_incidents=3)
    assert len(groups) == 1
    assert groups[0].incidents == (0, 1, 2)
    assert groups[0].entities == (0, 1)


def test_link_groups_needs_two_entities_and_min_incidents():
    # three incidents sharing one entity: only one entity -> no group
    assert link_groups([0, 1, 2], [0, 0, 0], 3, 1, 3) == []
    assert link_groups([0, 1], [0, 1], 2, 2, 3) == []
    assert link_groups([], [], 0, 0) == []


# --- the runner on Harbor City's demo data ------------------------------------------------

ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
ENTITY = FindingKind.ENTITY


@pytest.fixture
def demo(reference_data: None) -> DemoPlan:
    plan = generate(seed=7, days=90, anchor=ANCHOR, time_zone="America/Chicago")
    seed_write(plan, now=ANCHOR)
    return plan


def _run():  # type: ignore[no-untyped-def]
    run = services.analysis_execute(kind=ENTITY, as_of=ANCHOR)
    assert run.status == RunStatus.SUCCEEDED
    return run


def _expected(plan: DemoPlan, kind: str, index: int) -> dict[str, int]:
    """Planted distinct incidents per role for one recurring person or vehicle."""
    per_role: dict[str, set[tuple[str, int]]] = {}
    for inv in plan.involvements:
        if (inv.person if kind == "person" else inv.vehicle) != index:
            continue
        key = ("c", inv.call) if inv.call is not None else ("o", inv.observation)
        per_role.setdefault(inv.role, set()).add(key)  # type: ignore[arg-type]
    return {role: len(keys) for role, keys in per_role.items()}


def _person_pk(plan: DemoPlan, index: int) -> int:
    spec = plan.persons[index]
    return Person.objects.get(last_name=spec.last_name, first_name=spec.first_name).pk


def _vehicle_pk(plan: DemoPlan, index: int) -> int:
    spec = plan.vehicles[index]
    return Vehicle.objects.get(plate=spec.plate, plate_state=spec.plate_state).pk


@pytest.mark.django_db
def test_recurring_cast_found_per_role(demo: DemoPlan) -> None:
    _run()
    keys = set(Finding.objects.filter(kind=ENTITY).values_list("subject_key", flat=True))
    checked = 0
    for truth in (*demo.recurring_persons, *demo.recurring_vehicles):
        pk = (_person_pk if truth.kind == "person" else _vehicle_pk)(demo, truth.index)
        for role, n in _expected(demo, truth.kind, truth.index).items():
            key = f"entity:{truth.kind}:{pk}:{role}"
            assert (key in keys) == (n >= 3), (truth.label, role, n)
            checked += n >= 3
    assert checked >= 3
    finding = Finding.objects.filter(subject_key__startswith="entity:person:").first()
    assert finding is not None
    assert (
        " appears as " in finding.explanation
        and " reports in the last 180 days" in finding.explanation
    )
    assert "score" not in finding.statistics


@pytest.mark.django_db
def test_domestic_couple_in_one_link_group(demo: DemoPlan) -> None:
    _run()
    names = {p.last_name: k for k, p in enumerate(demo.persons)}
    salazar = _person_pk(demo, names["SALAZAR"])
    cole = _person_pk(demo, names["COLE"])
    groups = [
        f
        for f in Finding.objects.filter(kind=ENTITY, subject_key__startswith="links:")
        if salazar in f.statistics["person_ids"]
    ]
    assert len(groups) == 1
    assert cole in groups[0].statistics["person_ids"]
    assert groups[0].statistics["incidents"] >= 3
    assert " reports linked through " in groups[0].explanation


@pytest.mark.django_db
def test_rerun_is_idempotent(demo: DemoPlan) -> None:
    _run()
    first = sorted(Finding.objects.filter(kind=ENTITY).values_list("subject_key", flat=True))
    _run()
    again = sorted(Finding.objects.filter(kind=ENTITY).values_list("subject_key", flat=True))
    assert first == again and first


@pytest.mark.django_db
def test_entity_findings_need_person_view(demo: DemoPlan) -> None:  # type: ignore[no-untyped-def]
    _run()
    agency = Agency.objects.get(pk=Finding.objects.filter(kind=ENTITY).first().agency_id)
    analyst = UserFactory(username="a1", roles=[Role.ANALYST], agency=agency)
    assert findings_visible_to(analyst).filter(kind=ENTITY).exists()
    # No default role sees findings but not persons; take person view away from analysts.
    set_grants(Role.ANALYST, Category.PERSON, set())
    forget_cached_access(analyst)
    assert not findings_visible_to(analyst).filter(kind=ENTITY).exists()
    auditor = UserFactory(username="au1", roles=[Role.AUDITOR], agency=agency)
    assert not findings_visible_to(auditor).exists()
