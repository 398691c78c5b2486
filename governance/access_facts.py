"""What the access decisions need to know about a user, read once and shared between requests.

``governance.access`` decides; this module only supplies the facts it decides from: the user's
roles, their roles' grants and their own grants (with expiry), their agency, the agencies that
shared each category with it, and their need-to-know groups. Read from the database, that is six
queries; every API request needs some of them, and under the soak's load they were about a tenth
of the server's time.

In production mode the facts are kept in the shared cache (Redis), labelled with the current
*access generation*: a random token that every change to the rules replaces (signals on the
models below, once at the change and again after its commit). Facts labelled with an older
token are never used, so a change applies to the next request everywhere, as before. Two bounds
cover what signals cannot see (a bulk ``update()``, SQL typed into the database, a cache that
missed a new token while Redis was down): every entry expires after ``BEACON_ACCESS_CACHE_S``
seconds (default 60), and ``migrate`` replaces the token. With that setting at 0, in embedded
mode (whose cache is per process, so another process's change would not reach it) and while the
cache is unreachable, the facts are read from the database for each user object.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

GENERATION_KEY = "access:generation"


@dataclass(frozen=True)
class AccessFacts:
    roles: frozenset[str]
    # (category, action, max sensitivity) of the user's roles.
    role_grants: tuple[tuple[str, str, int], ...]
    # (category, action, max sensitivity, expires as a Unix time or None) of the user's own.
    user_grants: tuple[tuple[str, str, int, float | None], ...]
    agency_id: int | None
    # Category -> agencies that shared it with the user's agency.
    shares: Mapping[str, frozenset[int]]
    need_to_know: frozenset[int]

    def grants(self, now: float) -> dict[tuple[str, str], int]:
        """(category, action) -> the highest sensitivity allowed, own grants unexpired at ``now``."""
        levels: dict[tuple[str, str], int] = {}
        live = (g[:3] for g in self.user_grants if g[3] is None or g[3] > now)
        for category, action, level in (*self.role_grants, *live):
            key = (category, action)
            levels[key] = max(levels.get(key, 0), int(level))
        return levels


def read_facts(user: Any) -> AccessFacts:
    """The user's facts from the database (six small queries)."""
    from governance.choices import Role
    from governance.models import AgencyShare, Membership, NeedToKnowGroup, RoleGrant, UserGrant

    names = set(user.groups.values_list("name", flat=True))
    roles = frozenset(name for name in names if name in Role.values)
    role_grants = tuple(
        (c, a, int(lvl))
        for c, a, lvl in RoleGrant.objects.filter(role__in=roles).values_list(
            "category", "action", "max_sensitivity"
        )
    )
    user_grants = tuple(
        (c, a, int(lvl), expires.timestamp() if expires else None)
        for c, a, lvl, expires in UserGrant.objects.filter(user_id=user.pk)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .values_list("category", "action", "max_sensitivity", "expires_at")
    )
    agency_id = (
        Membership.objects.filter(user_id=user.pk).values_list("agency_id", flat=True).first()
    )
    shares: dict[str, set[int]] = {}
    if agency_id is not None:
        for category, owner in AgencyShare.objects.filter(viewer_id=agency_id).values_list(
            "category", "owner_id"
        ):
            shares.setdefault(category, set()).add(owner)
    need_to_know = frozenset(
        NeedToKnowGroup.objects.filter(members=user.pk).values_list("pk", flat=True)
    )
    return AccessFacts(
        roles=roles,
        role_grants=role_grants,
        user_grants=user_grants,
        agency_id=agency_id,
        shares={c: frozenset(owners) for c, owners in shares.items()},
        need_to_know=need_to_know,
    )


def _lifetime() -> int:
    if settings.EMBEDDED:
        return 0
    return max(0, int(getattr(settings, "BEACON_ACCESS_CACHE_S", 60)))


def _key(user: Any) -> str:
    # The join time as well as the id: a restored or re-created database may give an id again.
    joined = user.date_joined.timestamp() if getattr(user, "date_joined", None) else ""
    return f"access:user:{user.pk}:{joined}"


def load_facts(user: Any) -> AccessFacts:
    """The user's facts: from the shared cache when its copy has the current generation."""
    lifetime = _lifetime()
    if not lifetime:
        return read_facts(user)
    key = _key(user)
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        # First use, or Redis lost its data: start a generation (add: the first writer wins).
        cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=None)
        generation = cache.get(GENERATION_KEY)
    stored = found.get(key)
    if generation is not None and isinstance(stored, tuple) and stored[0] == generation:
        return stored[1]
    facts = read_facts(user)
    if generation is not None:  # None: the cache is unreachable; nothing to share
        cache.set(key, (generation, facts), timeout=lifetime)
    return facts


def forget_shared_facts(user: Any) -> None:
    """Drop the shared copy of one user's facts (the next request reads the database)."""
    if _lifetime():
        cache.delete(_key(user))


# Changes this process made, for copies kept on user objects it holds (``local_changes``).
_local_changes = 0


def local_changes() -> int:
    """How many times this process saw the rules change: a copy of the facts loaded at an
    earlier count is stale (a service that changes a rule and then decides in one request)."""
    return _local_changes


def new_generation() -> None:
    """Make every stored copy of every user's facts stale."""
    global _local_changes
    _local_changes += 1
    cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=None)


def rules_changed(**_: Any) -> None:
    """Signal receiver: an access fact changed (or may have). Stale now, and again after commit.

    Now, so this transaction's own later checks (and a test's, which never commits) see it; after
    the commit, because a request that read the old rows between the two stored them under the
    first new generation.
    """
    new_generation()
    transaction.on_commit(new_generation)


def connect_signals() -> None:
    """Replace the generation whenever a model the facts come from changes."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

    from governance.models import AgencyShare, Membership, NeedToKnowGroup, RoleGrant, UserGrant

    for model in (RoleGrant, UserGrant, Membership, AgencyShare, NeedToKnowGroup, Group):
        uid = f"beacon_access_facts_{model._meta.label_lower}"
        post_save.connect(rules_changed, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(rules_changed, sender=model, dispatch_uid=f"{uid}_delete")
    for through in (get_user_model().groups.through, NeedToKnowGroup.members.through):
        m2m_changed.connect(
            rules_changed,
            sender=through,
            dispatch_uid=f"beacon_access_facts_{through._meta.label_lower}",
        )
    post_migrate.connect(rules_changed, dispatch_uid="beacon_access_facts_migrate")
