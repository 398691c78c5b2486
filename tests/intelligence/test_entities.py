"""Recurring entities per role and incident-entity link groups (pure functions)."""

from __future__ import annotations

import pytest

from intelligence.analysis.entities import link_groups, recurring_entities


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
