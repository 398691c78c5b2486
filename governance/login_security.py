"""Sign-in security: lockout after repeated failures, TOTP second factor, per-role requirement.

Lockout (CJIS 5.5.3: at most 5 consecutive failures, locked for at least 10 minutes). Failures
count against the username tried (lower case, whether or not the account exists, so the answer
never tells which) and, with a much higher threshold, against the client address (one address
trying many names). The counting happens in ``governance.auth_backends.LockoutBackend``, which
every password sign-in passes through (this page, the admin's, anything calling
``authenticate``), and in the second-factor step. A success resets the username's count; the
address's count only ages out, or one valid account would let its owner spray others.

Every write here takes a row lock (``select_for_update``; SQLite's BEGIN IMMEDIATE serialises
writers anyway), so parallel wrong guesses cannot all read "4 failures" and slip through.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from beacon_core.errors import DomainError, NotFoundError
from governance import audit, totp
from governance.access import can, user_roles
from governance.choices import Action, AuditAction, Category, Role
from governance.models import LoginThrottle, RoleLoginPolicy, TotpDevice

USER_PREFIX = "user:"
IP_PREFIX = "ip:"
MAX_USERNAME = 150
TOTP_ISSUER = "Beacon"


# --- settings ----------------------------------------------------------------------------------


def lockout_threshold() -> int:
    return int(settings.BEACON_LOCKOUT_THRESHOLD)


def lockout_ip_threshold() -> int:
    return int(settings.BEACON_LOCKOUT_IP_THRESHOLD)


def lockout_duration() -> dt.timedelta:
    return dt.timedelta(minutes=int(settings.BEACON_LOCKOUT_MINUTES))


def lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(settings.BEACON_LOCKOUT_WINDOW_MINUTES))


# --- lockout -----------------------------------------------------------------------------------


def username_key(username: str) -> str:
    return USER_PREFIX + str(username).strip().lower()[:MAX_USERNAME]


def ip_key(ip: str) -> str:
    return IP_PREFIX + ip


def _keys(username: str, ip: str) -> list[tuple[str, int]]:
    """(key, threshold) pairs a sign-in attempt counts against; a threshold of 0 turns one off."""
    pairs = [(username_key(username), lockout_threshold())]
    if ip:
        pairs.append((ip_key(ip), lockout_ip_threshold()))
    return [(key, threshold) for key, threshold in pairs if threshold > 0]


def locked_until(*, username: str, ip: str, now: dt.datetime) -> dt.datetime | None:
    """When the lock on this username or address ends, or None when neither is locked."""
    keys = [key for key, _ in _keys(username, ip)]
    ends = LoginThrottle.objects.filter(key__in=keys, locked_until__gt=now).values_list(
        "locked_until", flat=True
    )
    return max(ends, default=None)


def _throttle_for_update(key: str, now: dt.datetime) -> LoginThrottle:
    row = LoginThrottle.objects.select_for_update().filter(key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LoginThrottle.objects.create(key=key, failures=0, first_failure_at=now)
    except IntegrityError:  # a parallel attempt created it first: lock theirs
        return LoginThrottle.objects.select_for_update().get(key=key)


@transaction.atomic
def failure_register(
    *, username: str, ip: str, now: dt.datetime, factor: str = "password"
) -> dt.datetime | None:
    """Count one failed sign-in; start a lock (audited ``login_locked``) at the threshold.

    Returns when the resulting lock ends, or None when nothing is locked. Attempts made while
    already locked are not counted again: the lock is not stretched by someone knocking on it.
    """
    until: dt.datetime | None = None
    for key, threshold in _keys(username, ip):
        row = _throttle_for_update(key, now)
        if row.locked_until is not None and row.locked_until > now:
            until = max(until or row.locked_until, row.locked_until)
            continue
        if row.locked_until is not None or row.first_failure_at <= now - lockout_window():
            # An ended lock or an old run of failures: count afresh.
            row.failures, row.first_failure_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= threshold:
            row.locked_until = now + lockout_duration()
            until = max(until or row.locked_until, row.locked_until)
            _audit_lock(row, username=username, factor=factor)
        row.save(update_fields=["failures", "first_failure_at", "locked_until"])
    return until


def _audit_lock(row: LoginThrottle, *, username: str, factor: str) -> None:
    by_user = row.key.startswith(USER_PREFIX)
    audit.record(
        action=AuditAction.LOGIN_LOCKED,
        actor_username=username[:MAX_USERNAME] if by_user else "",
        object_type="governance.loginthrottle",
        object_id=row.pk,
        object_label=row.key,
        details={
            "scope": "username" if by_user else "address",
            "failures": row.failures,
            "locked_until": row.locked_until,
            "minutes": int(lockout_duration().total_seconds() // 60),
            "factor": factor,
        },
    )


def throttle_reset(*, username: str) -> None:
    """Forget a username's failures after a complete, successful sign-in."""
    LoginThrottle.objects.filter(key=username_key(username)).delete()


def _visible_throttles(actor: Any) -> QuerySet[LoginThrottle]:
    """Locks an admin may see and lift: usernames of their agency's people. Address locks and
    names with no account in the agency only a superuser sees, since the names are whatever
    strangers typed and could belong to another agency's staff."""
    rows = LoginThrottle.objects.all()
    if actor.is_superuser:
        return rows
    from governance.access_matrix import agency_users

    names = [username_key(name) for name in agency_users(actor).values_list("username", flat=True)]
    return rows.filter(key__in=names)


@dataclass(frozen=True)
class Lock:
    """One current lock, as the login policy page lists it."""

    id: int
    key: str
    scope: str
    name: str
    failures: int
    locked_until: dt.datetime


def current_locks(*, actor: Any, now: dt.datetime) -> list[Lock]:
    """Locks in force that ``actor`` may lift, soonest to end first."""
    if not can(actor, Action.VIEW, Category.ACCESS_POLICY):
        return []
    rows = _visible_throttles(actor).filter(locked_until__gt=now).order_by("locked_until")
    return [
        Lock(
            id=row.pk,
            key=row.key,
            scope="username" if row.key.startswith(USER_PREFIX) else "address",
            name=row.key.split(":", 1)[1],
            failures=row.failures,
            locked_until=row.locked_until,  # type: ignore[arg-type]
        )
        for row in rows
    ]


@transaction.atomic
def throttle_unlock(
    *, actor: Any, throttle_id: int, now: dt.datetime, justification: str = ""
) -> None:
    """Lift a lock before it ends (audited ``login_unlocked``); the failure count goes too."""
    if not can(actor, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied("Only administrators lift sign-in locks.")
    row = _visible_throttles(actor).select_for_update().filter(pk=throttle_id).first()
    if row is None:
        raise NotFoundError("No such lock.")
    audit.record(
        action=AuditAction.LOGIN_UNLOCKED,
        actor=actor,
        object_type="governance.loginthrottle",
        object_id=row.pk,
        object_label=row.key,
        justification=justification[:2_000],
        details={
            "failures": row.failures,
            "locked_until": row.locked_until,
            "was_locked": bool(row.locked_until and row.locked_until > now),
        },
    )
    row.delete()


# --- second factor -----------------------------------------------------------------------------


def confirmed_device(user: Any) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()


def roles_requiring_totp() -> set[str]:
    return set(RoleLoginPolicy.objects.filter(require_totp=True).values_list("role", flat=True))


def totp_required_by_role(user: Any) -> bool:
    """True when one of the user's roles must sign in with a second factor."""
    return bool(user_roles(user) & roles_requiring_totp())


def second_factor_needed(user: Any) -> bool:
    """A person with an authenticator always uses it; a role may make it compulsory."""
    return confirmed_device(user) is not None or totp_required_by_role(user)


@transaction.atomic
def totp_enrol_start(*, user: Any, now: dt.datetime) -> TotpDevice:
    """The user's unconfirmed device (a new secret the first time); refused once confirmed."""
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None:
        device = TotpDevice.objects.create(user=user, secret=totp.random_secret(), created_at=now)
    elif device.confirmed_at is not None:
        raise DomainError("Two-factor sign-in is already set up.", field="code")
    return device


def provisioning_uri(device: TotpDevice) -> str:
    return totp.otpauth_uri(device.secret, account=device.user.get_username(), issuer=TOTP_ISSUER)


def _accept(device: TotpDevice, code: str, now: dt.datetime) -> bool:
    """Check a code against a row-locked device and burn its step (no replay)."""
    step = totp.matching_step(
        totp.secret_bytes(device.secret), code, now.timestamp(), after=device.last_used_step
    )
    if step is None:
        return False
    device.last_used_step = step
    device.save(update_fields=["last_used_step"])
    return True


@transaction.atomic
def totp_enrol_confirm(*, user: Any, code: str, now: dt.datetime) -> bool:
    """Confirm the device with a code from the app (audited); False when the code is wrong."""
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None or device.confirmed_at is not None:
        return False
    if not _accept(device, code, now):
        return False
    device.confirmed_at = now
    device.save(update_fields=["confirmed_at"])
    audit.record(
        action=AuditAction.TWO_FACTOR_CHANGE,
        actor=user,
        obj=device,
        object_label=f"TOTP for {user.get_username()}",
        details={"change": "enrolled", "factor": "totp"},
    )
    return True


@transaction.atomic
def totp_verify(*, user: Any, code: str, now: dt.datetime) -> bool:
    """True when ``code`` is the user's current code and was not used before."""
    device = (
        TotpDevice.objects.select_for_update()
        .filter(user_id=user.pk, confirmed_at__isnull=False)
        .first()
    )
    return device is not None and _accept(device, code, now)


@transaction.atomic
def totp_remove(*, actor: Any, user: Any, code: str = "", now: dt.datetime) -> None:
    """Take a device away (audited). The owner proves it with a current code and may not while a
    role requires it; an administrator resets someone else's (a lost phone) without a code."""
    device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
    if device is None:
        raise NotFoundError("No two-factor device.")
    if actor.pk == user.pk:
        if totp_required_by_role(user):
            raise DomainError("Your role requires two-factor sign-in.", field="code")
        if device.confirmed_at is not None and not _accept(device, code, now):
            raise DomainError("That code is not right; try the current one.", field="code")
    elif not can(actor, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied("Only administrators reset someone's two-factor sign-in.")
    else:
        from governance.access_matrix import agency_users

        if not agency_users(actor).filter(pk=user.pk).exists():
            raise NotFoundError("No two-factor device.")
    audit.record(
        action=AuditAction.TWO_FACTOR_CHANGE,
        actor=actor,
        obj=device,
        object_label=f"TOTP for {user.get_username()}",
        details={"change": "removed" if actor.pk == user.pk else "reset", "factor": "totp"},
    )
    device.delete()


def two_factor_people(*, actor: Any) -> list[tuple[Any, bool]]:
    """(user, has a confirmed authenticator) for the people whose sign-in the actor manages."""
    if not can(actor, Action.VIEW, Category.ACCESS_POLICY):
        return []
    from governance.access_matrix import agency_users

    users = list(agency_users(actor))
    enrolled = set(
        TotpDevice.objects.filter(
            user_id__in=[u.pk for u in users], confirmed_at__isnull=False
        ).values_list("user_id", flat=True)
    )
    return [(user, user.pk in enrolled) for user in users]


def role_policies() -> list[tuple[str, str, bool]]:
    """(role, label, require_totp) for every role, missing rows meaning "password only"."""
    required = roles_requiring_totp()
    return [(value, label, value in required) for value, label in Role.choices]


@transaction.atomic
def role_login_policy_set(
    *, actor: Any, role: str, require_totp: bool, justification: str = ""
) -> bool:
    """Require (or stop requiring) TOTP for a role; audited as a permission change. Returns
    whether anything changed. People already signed in are asked at their next sign-in."""
    if not can(actor, Action.CHANGE, Category.ACCESS_POLICY):
        raise PermissionDenied("Only administrators change sign-in rules.")
    if role not in Role.values:
        raise DomainError(f"Choose one of: {', '.join(Role.values)}.", field="role")
    row = RoleLoginPolicy.objects.select_for_update().filter(role=role).first()
    before = bool(row and row.require_totp)
    if before == bool(require_totp):
        return False
    if row is None:
        row = RoleLoginPolicy(role=role)
    row.require_totp = bool(require_totp)
    row.updated_by = actor
    row.save()
    audit.record(
        action=AuditAction.PERMISSION_CHANGE,
        actor=actor,
        obj=row,
        justification=justification[:2_000],
        details={"require_totp": [before, bool(require_totp)]},
    )
    return True
