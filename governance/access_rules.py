"""Every change to the access rules: role grants, personal grants, need-to-know membership.

Each function checks the actor (``change`` on the ``access_policy`` category), validates its
input (``DomainError`` naming the field), writes in one transaction with its audit event
(``permission_change``, before and after), and after commit tells every open websocket that the
rules changed, so consoles re-check what they may show without anyone signing out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from beacon_core.errors import DomainError, NotFoundError
from beacon_core.realtime import publish_now
from governance import audit
from governance.access import can, forget_cached_access, user_agency_id
from governance.choices import Action, AuditAction, Category, Role, Sensitivity
from governance.models import Membership, NeedToKnowGroup, RoleGrant, UserGrant

# Every websocket connection joins this group (dispatch.consumers); the event carries no data.
ACCESS_GROUP = "access"
MAX_REASON = 2_000
MAX_JUSTIFICATION = 2_000


def _require_admin(actor: Any) -> None:
    if not can(actor, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied("Only administrators change access rules.")


def _choice(value: Any, choices: Any, field: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise DomainError(f"Choose one of: {', '.join(choices.values)}.", field=field)
    return value


def _level(value: Any, field: str = "max_sensitivity", *, allow_none: bool) -> int | None:
    """A sensitivity level 1-3; None (or 0) means "no right" where that is allowed."""
    if value in (None, 0, "", "0") and allow_none:
        return None
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = -1
    if isinstance(value, bool) or level not in Sensitivity.values:
        names = ", ".join(f"{v} ({label})" for v, label in Sensitivity.choices)
        raise DomainError(f"Give a sensitivity level: {names}.", field=field)
    return level


def _text(value: Any, field: str, limit: int, *, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise DomainError("Give text.", field=field)
    text = (value or "").strip()
    if required and not text:
        raise DomainError("This is required.", field=field)
    if len(text) > limit:
        raise DomainError(f"At most {limit} characters.", field=field)
    return text


def _send_access_changed() -> None:
    publish_now(ACCESS_GROUP, {"type": "access.changed"})


def announce_access_changed() -> None:
    """After commit, tell every open websocket the rules changed, once per transaction: a matrix
    save touching twenty cells makes each connection re-authorise once, not twenty times."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _send_access_changed for _sids, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_send_access_changed)


def _keeps_an_administrator(role: str, category: str, action: str, level: int | None) -> bool:
    """False when the change would leave no role able to change the access rules (a lock-out
    only a database superuser could undo)."""
    if category != Category.ACCESS_POLICY or action != Action.CHANGE or level is not None:
        return True
    return (
        RoleGrant.objects.filter(category=Category.ACCESS_POLICY, action=Action.CHANGE)
        .exclude(role=role)
        .exists()
    )


@transaction.atomic
def role_grant_set(
    *,
    actor: Any,
    role: Any,
    category: Any,
    action: Any,
    max_sensitivity: Any,
    justification: str = "",
) -> RoleGrant | None:
    """Grant ``role`` the ``action`` on ``category`` up to a level, change the level, or revoke
    it (``max_sensitivity`` None or 0). Returns the grant, or None once revoked."""
    _require_admin(actor)
    role = _choice(role, Role, "role")
    category = _choice(category, Category, "category")
    action = _choice(action, Action, "action")
    level = _level(max_sensitivity, allow_none=True)
    justification = _text(justification, "justification", MAX_JUSTIFICATION, required=False)
    if not _keeps_an_administrator(role, category, action, level):
        raise DomainError(
            "No other role may change the access rules; grant that first.", field="max_sensitivity"
        )
    current = (
        RoleGrant.objects.select_for_update()
        .filter(role=role, category=category, action=action)
        .first()
    )
    before = current.max_sensitivity if current else None
    if before == level:
        return current
    grant: RoleGrant | None = None
    if current is not None and level is None:
        current.delete()
    elif current is None:
        grant = RoleGrant.objects.create(
            role=role, category=category, action=action, max_sensitivity=level, updated_by=actor
        )
    else:
        current.max_sensitivity, current.updated_by = level, actor
        current.save(update_fields=["max_sensitivity", "updated_by", "updated_at"])
        grant = current
    audit.record(
        action=AuditAction.PERMISSION_CHANGE,
        actor=actor,
        object_type="governance.rolegrant",
        object_id=f"{role}/{category}/{action}",
        object_label=f"{role}: {action} {category}",
        justification=justification,
        details={
            "scope": "role",
            "role": role,
            "category": category,
            "action": action,
            "max_sensitivity": [before, level],
        },
    )
    forget_cached_access(actor)
    announce_access_changed()
    return grant


def _agency_user(actor: Any, user_id: Any) -> Any:
    """A user of the actor's agency (any agency for a superuser); others are 'no such user'."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        raise DomainError("No such user.", field="user") from None
    users = get_user_model().objects.filter(pk=pk)
    if not actor.is_superuser:
        agency_id = user_agency_id(actor)
        users = users.filter(pk__in=Membership.objects.filter(agency_id=agency_id).values("user"))
    user = users.first()
    if user is None:
        raise DomainError("No such user.", field="user")
    return user


@transaction.atomic
def user_grant_set(
    *,
    actor: Any,
    user_id: Any,
    category: Any,
    action: Any,
    max_sensitivity: Any,
    expires_at: dt.datetime | None,
    reason: Any,
) -> UserGrant:
    """Give one person a right their roles lack, until ``expires_at`` (None: until revoked)."""
    _require_admin(actor)
    user = _agency_user(actor, user_id)
    category = _choice(category, Category, "category")
    action = _choice(action, Action, "action")
    level = _level(max_sensitivity, allow_none=False)
    reason = _text(reason, "reason", MAX_REASON, required=True)
    now = timezone.now()
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise DomainError("Give an aware date/time.", field="expires_at")
        if expires_at <= now:
            raise DomainError("Must be in the future.", field="expires_at")
    current = (
        UserGrant.objects.select_for_update()
        .filter(user=user, category=category, action=action)
        .first()
    )
    before = (
        {"max_sensitivity": current.max_sensitivity, "expires_at": current.expires_at}
        if current
        else None
    )
    grant, _ = UserGrant.objects.update_or_create(
        user=user,
        category=category,
        action=action,
        defaults={
            "max_sensitivity": level,
            "expires_at": expires_at,
            "reason": reason,
            "granted_at": now,
            "granted_by": actor,
        },
    )
    audit.record(
        action=AuditAction.PERMISSION_CHANGE,
        actor=actor,
        object_type="governance.usergrant",
        object_id=grant.pk,
        object_label=f"{user.get_username()}: {action} {category}",
        justification=reason,
        details={
            "scope": "user",
            "user": user.get_username(),
            "category": category,
            "action": action,
            "before": before,
            "after": {"max_sensitivity": level, "expires_at": expires_at},
        },
    )
    announce_access_changed()
    return grant


@transaction.atomic
def user_grant_revoke(*, actor: Any, grant_id: Any, justification: str = "") -> None:
    """Take a personal grant back before it expires."""
    _require_admin(actor)
    try:
        grant = UserGrant.objects.select_for_update().select_related("user").get(pk=int(grant_id))
    except (TypeError, ValueError, UserGrant.DoesNotExist):
        raise NotFoundError from None
    try:
        _agency_user(actor, grant.user_id)
    except DomainError:
        raise NotFoundError from None  # another agency's grant looks like a missing one
    audit.record(
        action=AuditAction.PERMISSION_CHANGE,
        actor=actor,
        object_type="governance.usergrant",
        object_id=grant.pk,
        object_label=f"{grant.user.get_username()}: {grant.action} {grant.category}",
        justification=_text(justification, "justification", MAX_JUSTIFICATION, required=False),
        details={
            "scope": "user",
            "user": grant.user.get_username(),
            "category": grant.category,
            "action": grant.action,
            "before": {"max_sensitivity": grant.max_sensitivity, "expires_at": grant.expires_at},
            "after": None,
        },
    )
    grant.delete()
    announce_access_changed()


def need_to_know_apply(*, actor: Any, record: Any, group_ids: Any) -> list[NeedToKnowGroup]:
    """Limit ``record`` (a person or finding: anything with ``agency_id`` and a ``need_to_know``
    many-to-many) to need-to-know groups of its agency; an empty list lifts the limit.

    The caller (the domain service) has already checked the actor may change the record. The
    actor must be in one of the chosen groups, or they would hide the record from themselves.
    Runs in the caller's transaction; audited as a change with the groups before and after.
    """
    if not isinstance(group_ids, list | tuple) or len(group_ids) > 50:
        raise DomainError("Give a list of at most 50 group ids.", field="groups")
    try:
        wanted = {int(pk) for pk in group_ids}
    except (TypeError, ValueError):
        raise DomainError("Give group ids as whole numbers.", field="groups") from None
    groups = list(NeedToKnowGroup.objects.filter(pk__in=wanted, agency_id=record.agency_id))
    if len(groups) != len(wanted):
        raise DomainError("No such need-to-know group in the record's agency.", field="groups")
    if (
        groups
        and not actor.is_superuser
        and not any(g.members.filter(pk=actor.pk).exists() for g in groups)
    ):
        raise DomainError("You must be in one of the groups you limit a record to.", field="groups")
    before = sorted(record.need_to_know.values_list("name", flat=True))
    record.need_to_know.set(groups)
    after = sorted(g.name for g in groups)
    if before != after:
        audit.record(
            action=AuditAction.CHANGE,
            actor=actor,
            obj=record,
            details={"changed": {"need_to_know": [before, after]}},
        )
        announce_access_changed()
    return groups
