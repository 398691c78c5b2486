"""The default access policy: which role may do what to which data category.

This is data, not logic; :mod:`governance.access` is the only reader. Anything
absent is denied. The governance issue moves these grants into admin-managed
tables; this table stays as the seed for them.
"""

from __future__ import annotations

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
        Category.LOCATION: frozenset({V, C, U}),
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
        Category.LOCATION: frozenset({V}),
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
