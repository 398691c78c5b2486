"""The DRF permission class every API view uses: per-action, fails closed."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from governance.access import can
from governance.choices import Action

# DRF viewset actions -> access actions. An action not listed here is denied.
DEFAULT_ACTION_MAP: dict[str, str] = {
    "list": Action.VIEW,
    "retrieve": Action.VIEW,
    "create": Action.CREATE,
    "update": Action.CHANGE,
    "partial_update": Action.CHANGE,
}
METHOD_ACTION_MAP: dict[str, str] = {
    "GET": Action.VIEW,
    "HEAD": Action.VIEW,
    "OPTIONS": Action.VIEW,
}


class RolePermission(BasePermission):
    """Allow a request only when the view names its data category and the user's role grants the action.

    Views declare ``access_category`` and may extend ``access_actions`` (a map
    of extra viewset actions, e.g. ``{"close": "change"}``). A view that
    declares nothing, or an action missing from both maps, is refused.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        category = getattr(view, "access_category", None)
        if category is None:
            return False
        action = self._action_for(request, view)
        if action is None:
            return False
        return can(user, action, category)

    @staticmethod
    def _action_for(request: Request, view: Any) -> str | None:
        extra: dict[str, str] = getattr(view, "access_actions", {})
        drf_action = getattr(view, "action", None)
        if drf_action is not None:
            return extra.get(drf_action) or DEFAULT_ACTION_MAP.get(drf_action)
        method = request.method or ""
        return extra.get(method) or METHOD_ACTION_MAP.get(method)


class IsAuthenticatedAnyRole(BasePermission):
    """For endpoints about the caller themselves (``/me``): any signed-in, active user."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)
