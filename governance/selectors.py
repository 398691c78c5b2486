"""Reads about users, roles and agencies."""

from __future__ import annotations

from typing import Any

from governance.access import user_agency_id, user_roles
from governance.models import Agency


def user_summary(user: Any) -> dict[str, Any]:
    """What a client needs to know about the signed-in user."""
    agency_id = user_agency_id(user)
    agency = Agency.objects.filter(pk=agency_id).first() if agency_id else None
    units = []
    if hasattr(user, "units"):
        units = list(user.units.values("id", "call_sign"))
    return {
        "id": user.pk,
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "roles": sorted(user_roles(user)),
        "is_superuser": user.is_superuser,
        "agency": {"id": agency.pk, "code": agency.code, "name": agency.name} if agency else None,
        "units": units,
    }
