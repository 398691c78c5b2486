"""The default access policy: which role may do what to which data category, and how far up
the sensitivity levels.

This is data, not logic. It seeds the admin-managed ``RoleGrant`` table once (migration 0004,
and ``post_migrate`` on a new or flushed database, see ``seed_default_grants``); from then on the
table is the policy and :mod:`governance.access` reads only the table. Anything absent is denied.
"""

from __future__ import annotations

from typing import Any

from governance.choices import Action, Category, Role, Sensitivity

V, C, U, E = Action.VIEW, Action.CREATE, Action.CHANGE, Action.EXPORT
ALL = frozenset({V, C, U, E})

DEFAULT_POLICY: dict[str, dict[str, frozenset[str]]] = {
    Role.DISPATCHER: {
        Category.CALL: frozenset({V, C, U}),
        Category.CALLER_IDENTITY: frozenset({V, C, U}),
        Category.LOCATION: frozenset({V, C, U}),
        Category.PREMISE_NOTE: frozenset({V, C, U}),
        Category.FIELD_OBSERVATION: frozenset({V, C}),
        Category.PERSON: frozenset({V, C, U}),
        Category.VEHICLE: frozenset({V, C, U}),
        Category.UNIT: frozenset({V, U}),
        Category.AVL: frozenset({V}),
        Category.REFERENCE_DATA: frozenset({V}),
    },
    Role.FIELD: {
        Category.CALL: frozenset({V, U}),
        Category.CALLER_IDENTITY: frozenset({V}),
        Category.LOCATION: frozenset({V, C}),
        Category.PREMISE_NOTE: frozenset({V}),
        Category.FIELD_OBSERVATION: frozenset({V, C}),
        Category.PERSON: frozenset({V, C}),
        Category.VEHICLE: frozenset({V, C}),
        Category.UNIT: frozenset({V}),
        # Field staff report status only for the units they are signed to.
        Category.OWN_UNIT: frozenset({V, U}),
        Category.AVL: frozenset({V, C}),
        Category.REFERENCE_DATA: frozenset({V}),
        Category.ASSIGNMENT: frozenset({V, U}),
    },
    Role.SUPERVISOR: {
        Category.CALL: ALL,
        Category.CALLER_IDENTITY: frozenset({V, C, U}),
        # Export of places (the locations GeoJSON) since governance/0008; never premise notes.
        Category.LOCATION: ALL,
        Category.PREMISE_NOTE: frozenset({V, C, U}),
        Category.FIELD_OBSERVATION: frozenset({V, C, U}),
        Category.PERSON: frozenset({V, C, U}),
        Category.VEHICLE: frozenset({V, C, U}),
        Category.UNIT: frozenset({V, C, U}),
        Category.AVL: frozenset({V}),
        Category.REFERENCE_DATA: frozenset({V}),
        Category.FINDING: frozenset({V, U}),
        Category.ASSIGNMENT: ALL,
    },
    Role.ANALYST: {
        # Analysts work on patterns, so caller identity is left out (data minimisation).
        Category.CALL: frozenset({V, E}),
        # Export of places (the locations GeoJSON) since governance/0008.
        Category.LOCATION: frozenset({V, E}),
        Category.PREMISE_NOTE: frozenset({V}),
        Category.FIELD_OBSERVATION: frozenset({V, E}),
        Category.PERSON: frozenset({V}),
        Category.VEHICLE: frozenset({V}),
        Category.UNIT: frozenset({V}),
        Category.AVL: frozenset({V}),
        Category.REFERENCE_DATA: frozenset({V}),
        Category.FINDING: frozenset({V, C, U, E}),
        Category.ASSIGNMENT: frozenset({V}),
    },
    Role.ADMIN: {
        # Admins keep the access rules themselves (the access rules page).
        Category.ACCESS_POLICY: ALL,
        Category.CALL: frozenset({V}),
        Category.LOCATION: frozenset({V, C, U}),
        Category.PREMISE_NOTE: frozenset({V, C, U}),
        Category.UNIT: ALL,
        Category.REFERENCE_DATA: ALL,
        Category.USER: ALL,
    },
    Role.AUDITOR: {
        Category.AUDIT: frozenset({V, E}),
        Category.USER: frozenset({V}),
    },
}

# The most sensitive level each role may read. Records above it do not exist for that role.
MAX_SENSITIVITY: dict[str, int] = {
    Role.DISPATCHER: Sensitivity.RESTRICTED,
    Role.FIELD: Sensitivity.RESTRICTED,
    Role.SUPERVISOR: Sensitivity.CONFIDENTIAL,
    Role.ANALYST: Sensitivity.CONFIDENTIAL,
    Role.ADMIN: Sensitivity.RESTRICTED,
    Role.AUDITOR: Sensitivity.ROUTINE,
}


def default_grant_rows() -> list[tuple[str, str, str, int]]:
    """(role, category, action, max sensitivity) for every default grant."""
    return [
        (role, category, action, int(MAX_SENSITIVITY[role]))
        for role, categories in DEFAULT_POLICY.items()
        for category, actions in categories.items()
        for action in sorted(actions)
    ]


def seed_default_grants(role_grant_model: Any, state_model: Any, now: Any) -> bool:
    """Write the default grants unless they were written before; True when it wrote them.

    Takes the models as arguments so migrations can pass their historical ones.
    """
    if state_model.objects.exists():
        return False
    role_grant_model.objects.bulk_create(
        [
            role_grant_model(role=r, category=c, action=a, max_sensitivity=level)
            for r, c, a, level in default_grant_rows()
        ],
        ignore_conflicts=True,
    )
    state_model.objects.create(seeded_at=now)
    return True
