"""The one place that decides who may do what. Every interface asks here; anything unknown is denied.

``can`` answers role questions (action x data category x sensitivity) from the grants admins
keep in the database (``RoleGrant`` for the user's roles, plus their unexpired ``UserGrant``s);
``visible_agency_ids`` answers which agencies' records a user may see in a category;
``limit_need_to_know`` hides records limited to need-to-know groups the user is not in.
Per-model ``access_*`` functions in each app combine them.

A user's grants are read once per user object (one request, one task, one websocket
connection) and cached on it; ``forget_cached_access`` drops the cache, which the websocket
consumer does when the access rules change, so a change applies at once everywhere.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.choices import Action, Role, Sensitivity

_ROLES_ATTR = "_beacon_roles"
_AGENCY_ATTR = "_beacon_agency_id"
_GRANTS_ATTR = "_beacon_grants"
_GROUPS_ATTR = "_beacon_need_to_know"


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
        cached = frozenset(name for name in names if name in Role.values)
        setattr(user, _ROLES_ATTR, cached)
    return cached


def forget_cached_access(user: Any) -> None:
    """Drop cached roles/agency so the next decision re-reads them (after a role change)."""
    for attr in (_ROLES_ATTR, _AGENCY_ATTR, _GRANTS_ATTR, _GROUPS_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def has_role(user: Any, *roles: str) -> bool:
    """True when the user holds any of ``roles``."""
    return bool(user_roles(user) & set(roles))


def user_grants(user: Any) -> dict[tuple[str, str], int]:
    """(category, action) -> the highest sensitivity the user may act on, from their roles'
    grants and their own unexpired grants; cached on the user object."""
    if not _active(user):
        return {}
    cached = getattr(user, _GRANTS_ATTR, None)
    if cached is None:
        from governance.models import RoleGrant, UserGrant

        cached = {}
        rows = list(
            RoleGrant.objects.filter(role__in=user_roles(user)).values_list(
                "category", "action", "max_sensitivity"
            )
        )
        rows += (
            UserGrant.objects.filter(user_id=user.pk)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .values_list("category", "action", "max_sensitivity")
        )
        for category, action, level in rows:
            key = (category, action)
            cached[key] = max(cached.get(key, 0), int(level))
        setattr(user, _GRANTS_ATTR, cached)
    return cached


def can(user: Any, action: str, category: str, *, sensitivity: int = Sensitivity.ROUTINE) -> bool:
    """True when the user's grants allow ``action`` on ``category`` at ``sensitivity``."""
    if not _active(user):
        return False
    if action not in Action.values:
        return False
    if user.is_superuser:
        return True
    return user_grants(user).get((category, action), 0) >= sensitivity


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
    return user_grants(user).get((category, action), 0)


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


def need_to_know_group_ids(user: Any) -> frozenset[int]:
    """The need-to-know groups the user belongs to (cached on the user object)."""
    if not _active(user):
        return frozenset()
    cached = getattr(user, _GROUPS_ATTR, None)
    if cached is None:
        from governance.models import NeedToKnowGroup

        cached = frozenset(
            NeedToKnowGroup.objects.filter(members=user.pk).values_list("pk", flat=True)
        )
        setattr(user, _GROUPS_ATTR, cached)
    return cached


def limit_need_to_know(qs: QuerySet[Any], user: Any, field: str = "need_to_know") -> QuerySet[Any]:
    """``qs`` without the records limited (through the many-to-many ``field``) to need-to-know
    groups of which the user is in none. Unlimited records are untouched; superusers see all.

    Written as an exclusion by id rather than a join, so a record in several groups is not
    repeated and the queryset stays usable with ``select_for_update`` and aggregates.
    """
    if _active(user) and user.is_superuser:
        return qs
    model = qs.model
    limited = model.objects.filter(**{f"{field}__isnull": False})
    mine = model.objects.filter(**{f"{field}__in": sorted(need_to_know_group_ids(user))})
    hidden = limited.exclude(pk__in=mine.values("pk")).values("pk")
    return qs.exclude(pk__in=hidden)
