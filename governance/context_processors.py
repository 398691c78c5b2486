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
        # Calls and partner alerts share the call category's view right (dispatch.alerts.permissions);
        # admins have it too and receive alerts, so the links follow the right, not role names.
        "may_view_calls": bool(user is not None and can(user, Action.VIEW, Category.CALL)),
        "may_view_findings": bool(user is not None and can(user, Action.VIEW, Category.FINDING)),
        # The execution board is for those who see the whole agency's assignments: who task, or
        # who work on findings. Mirrors tasking.permissions.sees_agency_assignments (governance
        # imports no domain app; tests/tasking/test_pages.py checks the two agree for every role).
        "may_view_tasking": can(user, Action.CREATE, Category.ASSIGNMENT)
        or (
            can(user, Action.VIEW, Category.ASSIGNMENT) and can(user, Action.VIEW, Category.FINDING)
        ),
        "may_task": can(user, Action.CREATE, Category.ASSIGNMENT),
        # The shift briefing is for everyone who may view assignments (field staff see their own;
        # they reach it from the phone page, whose top bar has no room for another link).
        "may_view_briefing": bool(user is not None and can(user, Action.VIEW, Category.ASSIGNMENT)),
        "may_view_audit": can(user, Action.VIEW, Category.AUDIT),
        "may_view_access_rules": can(user, Action.VIEW, Category.ACCESS_POLICY),
        # The retention page is the access-rule keepers' (admins') too.
        "may_view_retention": can(user, Action.VIEW, Category.ACCESS_POLICY),
    }
