"""Template context: the signed-in user's roles, for navigation only (never for access decisions)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from governance.access import user_roles


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    names = user_roles(user) if user is not None else frozenset()
    return {"user_roles": sorted(names), "is_superuser": bool(user and user.is_superuser)}
