"""The one place that decides who may do what. Every interface asks here; anything unknown is denied.

``can`` answers role questions (action x data category x sensitivity) from the grants admins
keep in the database (``RoleGrant`` for the user's roles, plus their unexpired ``UserGrant``s);
``visible_agency_ids`` answers which agencies' records a user may see in a category;
``limit_need_to_know`` hides records limited to need-to-know groups the user is not in.
Per-model ``access_*`` functions in each app combine them.

What a decision needs to know about a user (``governance.access_facts``: roles, grants, agency,
shares, need-to-know groups) is loaded once per user object (one request, one task, one
websocket connection) and kept on it; production shares it between requests through the cache,
made stale by every change to the rules. ``forget_cached_access`` drops the copy on the object,
which the websocket consumer does when the access rules change, so a change applies at once
everywhere.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from governance.access_facts import AccessFacts, forget_shared_facts, load_facts, local_changes
from governance.choices import Action, Sensitivity

_FACTS_ATTR = "_beacon_access_facts"


def _active(user: Any) -> bool:
    """A signed-in, enabled account: every decision starts here and fails closed otherwise."""
    return (
        user is not None
        and bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
    )


def _facts(user: Any) -> AccessFacts:
    """The user's access facts, loaded on first use and kept on the user object until this
    process sees a rule change (other processes' changes reach the next request or socket)."""
    kept = getattr(user, _FACTS_ATTR, None)
    changes = local_changes()
    if kept is None or kept[0] != changes:
        kept = (changes, load_facts(user))
        setattr(user, _FACTS_ATTR, kept)
    return kept[1]


def user_roles(user: Any) -> frozenset[str]:
    """Return the user's role names (their groups that name a role)."""
    if not _active(user):
        return frozenset()
    return _facts(user).roles


def forget_cached_access(user: Any) -> None:
    """Make the next decision about ``user`` read their facts from the database again: drop the
    copy kept on the object and the one shared between requests."""
    if hasattr(user, _FACTS_ATTR):
        delattr(user, _FACTS_ATTR)
    if getattr(user, "pk", None) is not None:
        forget_shared_facts(user)


def has_role(user: Any, *roles: str) -> bool:
    """True when the user holds any of ``roles``."""
    return bool(user_roles(user) & set(roles))


def user_grants(user: Any) -> dict[tuple[str, str], int]:
    """(category, action) -> the highest sensitivity the user may act on, from their roles'
    grants and their own unexpired grants."""
    if not _active(user):
        return {}
    return _facts(user).grants(time.time())


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
    return _facts(user).agency_id


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
    return {own, *_facts(user).shares.get(category, ())}


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
    """The need-to-know groups the user belongs to."""
    if not _active(user):
        return frozenset()
    return _facts(user).need_to_know


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
