"""Changing the access rules inside a test: the grants live in ``RoleGrant`` rows (rolled back
with the test), so a test that needs a role the shipped policy does not have rewrites them here
instead of patching a dictionary."""

from __future__ import annotations

from collections.abc import Iterable

from governance.models import RoleGrant
from governance.policy import MAX_SENSITIVITY


def set_grants(role: str, category: str, actions: Iterable[str], level: int | None = None) -> None:
    """Make ``role``'s rights on ``category`` exactly ``actions`` (at ``level``, default the
    role's usual ceiling). Users already holding cached grants need ``forget_cached_access``."""
    RoleGrant.objects.filter(role=role, category=category).delete()
    RoleGrant.objects.bulk_create(
        RoleGrant(
            role=role,
            category=category,
            action=action,
            max_sensitivity=level or int(MAX_SENSITIVITY[role]),
        )
        for action in sorted(set(actions))
    )
