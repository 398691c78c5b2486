"""The one place that decides who may do what. Every interface asks here; anything unknown is denied.

``can`` answers role questions (action x data category x sensitivity);
``visible_agency_ids`` answers which agencies' records a user may see in a
category. Per-model ``access_*`` functions in each app combine the two.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from governance.choices import Action, Sensitivity
from governance.policy import DEFAULT_POLICY, MAX_SENSITIVITY

_ROLES_ATTR = "_beacon_roles"
_AGENCY_ATTR = "_beacon_agency_id"


def _active(user: Any) -> bool:
    """A signed-in, enabled account: every decision starts here and fails closed otherwise."""
    return (
        user is not None
        and bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
    )


def user_roles(user: Any) -> frozenset[str]:
    """Return the user's role names (their groups that name a role), cached on the user object."""
    if not _active(user):
        return frozenset()
    cached = getattr(user, _ROLES_ATTR, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(name for name in names if name in DEFAULT_POLICY)
        setattr(user, _ROLES_ATTR, cached)
    return cached


def forget_cached_access(user: Any) -> None:
    """Drop cached roles/agency so the next decision re-reads them (after a role change)."""
    for attr in (_ROLES_ATTR, _AGENCY_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def has_role(user: Any, *roles: str) -> bool:
    """True when the user holds any of ``roles``."""
    return bool(user_roles(user) & set(roles))


def can(user: Any, action: str, category: str, *, sensitivity: int = Sensitivity.ROUTINE) -> bool:
    """True when one of the user's roles grants ``action`` on ``category`` at ``sensitivity``."""
    if not _active(user):
        return False
    if action not in Action.values:
        return False
    if user.is_superuser:
        return True
    for role in user_roles(user):
        grants = DEFAULT_POLICY.get(role, {}).get(category, frozenset())
        if action in grants and sensitivity <= MAX_SENSITIVITY.get(role, 0):
            return True
    return False


def require(
    user: Any, action: str, category: str, *, sensitivity: int = Sensitivity.ROUTINE
) -> None:
    """Raise ``PermissionDenied`` unless :func:`can` allows it."""
    if not can(user, action, category, sensitivity=sensitivity):
        raise PermissionDenied(f"Not allowed to {action} {category}.")


def max_sensitivity(user: Any, category: str, action: str = Action.VIEW) -> int:
    """The highest sensitivity level the user may ``action`` in ``category`` (0: none)."""
    if not _active(user):
        return 0
    if user.is_superuser:
        return int(Sensitivity.CONFIDENTIAL)
    best = 0
    for role in user_roles(user):
        if action in DEFAULT_POLICY.get(role, {}).get(category, frozenset()):
            best = max(best, MAX_SENSITIVITY.get(role, 0))
    return best


def user_agency_id(user: Any) -> int | None:
    """The id of the agency the user works for, or None (always None for a disabled account)."""
    if not _active(user):
        return None
    if not hasattr(user, _AGENCY_ATTR):
        from governance.models import Membership

        agency_id = (
            Membership.objects.filter(user_id=user.pk).values_list("agency_id", flat=True).first()
        )
        setattr(user, _AGENCY_ATTR, agency_id)
    return getattr(user, _AGENCY_ATTR)


def visible_agency_ids(user: Any, category: str) -> set[int] | None:
    """Agencies whose ``category`` records the user may view; None means every agency.

    Superusers see every agency. Everyone else sees their own agency plus those
    that shared this category with it; a user with no agency sees none.
    """
    if not can(user, Action.VIEW, category):
        return set()
    if user.is_superuser:
        return None
    own = user_agency_id(user)
    if own is None:
        return set()
    from governance.models import AgencyShare

    shared = AgencyShare.objects.filter(viewer_id=own, category=category).values_list(
        "owner_id", flat=True
    )
    return {own, *shared}


def may_write_agency(user: Any, agency_id: int | None) -> bool:
    """Writes are limited to the user's own agency (superusers: any); disabled accounts write nowhere."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    if not user_roles(user):
        return False  # an account with no role writes nowhere, whatever its agency
    return agency_id is not None and agency_id == user_agency_id(user)
