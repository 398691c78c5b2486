"""Writes about users, roles and agencies."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from governance.access import forget_cached_access
from governance.choices import AgencyKind, Role
from governance.models import Agency, Membership

DEFAULT_AGENCY_CODE = "default"


def roles_ensure() -> None:
    """Create one auth group per role (idempotent)."""
    for role in Role.values:
        Group.objects.get_or_create(name=role)


def agency_get_or_create_default() -> Agency:
    """Return the embedded-mode default agency, creating it if needed."""
    agency, _ = Agency.objects.get_or_create(
        code=DEFAULT_AGENCY_CODE, defaults={"name": "Default agency", "kind": AgencyKind.POLICE}
    )
    return agency


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    roles: list[str],
    agency: Agency,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> Any:
    """Create a user with roles and an agency; unknown roles are refused."""
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        from beacon_core.errors import DomainError

        raise DomainError(f"Unknown role(s): {', '.join(unknown)}.", field="roles")
    user_model = get_user_model()
    user = user_model.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user_set_roles(user=user, roles=roles)
    Membership.objects.create(user=user, agency=agency)
    return user


def user_set_roles(*, user: Any, roles: list[str]) -> None:
    """Replace the user's role groups with ``roles``."""
    roles_ensure()
    groups = list(Group.objects.filter(name__in=roles))
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups)
    user.groups.add(*groups)
    forget_cached_access(user)
