"""Template context for navigation only: the signed-in user's roles and which areas the policy
lets them open (the pages themselves check again, through the same access function)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from governance.access import can, user_roles
from governance.choices import Action, Category


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    names = user_roles(user) if user is not None else frozenset()
    return {
        "user_roles": sorted(names),
        "is_superuser": bool(user and user.is_superuser),
        # Asked of the policy, not of role names, so a custom role sees the links it may use.
        "may_view_findings": bool(user is not None and can(user, Action.VIEW, Category.FINDING)),
    }
