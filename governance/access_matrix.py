"""Reads for the access rules page: the role matrix, one person's effective rights, personal
grants and need-to-know groups. The page's own access is checked by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils import timezone

from governance.access import user_agency_id, user_grants, user_roles
from governance.choices import Action, Category, Role, Sensitivity
from governance.models import Membership, NeedToKnowGroup, RoleGrant, UserGrant

LEVEL_SHORT = {1: "R", 2: "Rs", 3: "C"}


@dataclass
class MatrixRow:
    category: str
    category_label: str
    action: str
    # role -> level (None: not granted), in Role order
    cells: list[tuple[str, int | None]] = field(default_factory=list)


def role_matrix() -> list[MatrixRow]:
    """Every category x action, with each role's level (the table admins edit)."""
    grants = {
        (g.role, g.category, g.action): g.max_sensitivity
        for g in RoleGrant.objects.all().only("role", "category", "action", "max_sensitivity")
    }
    rows = []
    for category, label in Category.choices:
        for action in Action.values:
            rows.append(
                MatrixRow(
                    category,
                    str(label),
                    action,
                    [(role, grants.get((role, category, action))) for role in Role.values],
                )
            )
    return rows


def agency_users(actor: Any) -> QuerySet[Any]:
    """People whose rights the actor may look at and grant to: their agency's (all: superuser)."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    if actor.is_superuser:
        return users
    members = Membership.objects.filter(agency_id=user_agency_id(actor)).values("user")
    return users.filter(pk__in=members)


def effective_rights(user: Any) -> list[dict[str, Any]]:
    """What one person may do now: their roles' grants plus unexpired personal grants."""
    grants = user_grants(user)
    personal = {
        (g.category, g.action)
        for g in UserGrant.objects.filter(user=user)
        if g.expires_at is None or g.expires_at > timezone.now()
    }
    out = []
    for category, label in Category.choices:
        actions = []
        for action in Action.values:
            level = grants.get((category, action))
            if level:
                actions.append(
                    {
                        "action": action,
                        "level": level,
                        "level_label": Sensitivity(level).label,
                        "personal": (category, action) in personal,
                    }
                )
        if actions:
            out.append({"category": category, "label": str(label), "actions": actions})
    return out


def personal_grants(actor: Any) -> list[UserGrant]:
    users = agency_users(actor).values("pk")
    return list(
        UserGrant.objects.filter(user__in=users)
        .select_related("user", "granted_by")
        .order_by("user__username", "category", "action")
    )


def need_to_know_groups(actor: Any) -> list[NeedToKnowGroup]:
    groups = NeedToKnowGroup.objects.annotate(member_count=Count("members"))
    if not actor.is_superuser:
        groups = groups.filter(agency_id=user_agency_id(actor))
    return list(groups.prefetch_related("members").order_by("name"))


def roles_of(user: Any) -> list[str]:
    return sorted(user_roles(user))
