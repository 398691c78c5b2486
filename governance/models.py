"""Agencies and who belongs to which, the access rules admins keep (role and user grants,
need-to-know groups), and the audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from governance.choices import (
    Action,
    AgencyKind,
    AuditAction,
    Category,
    HoldObject,
    RetentionAction,
    RetentionCategory,
    Role,
    Sensitivity,
)


class Agency(models.Model):
    """An agency served by this dispatch centre; every operational record belongs to one."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AgencyKind.choices, default=AgencyKind.POLICE)
    time_zone = models.CharField(max_length=64, default="America/Chicago")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """The agency a user works for; a user without one sees no agency's records."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


class AgencyShare(models.Model):
    """Lets the staff of ``viewer`` see ``owner``'s records in one data category (read only)."""

    owner = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="shares_given")
    viewer = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="shares_received")
    category = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "viewer", "category"], name="agencyshare_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(owner=models.F("viewer")), name="agencyshare_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.viewer} may view {self.owner}'s {self.category}"


class AuditTrailImmutableError(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet):
    """Queries of the audit trail; bulk writes other than the account-deletion one are refused."""

    def update(self, **kwargs: Any) -> int:
        # Deleting a user account makes Django's collector run ``update(actor=None)``
        # (on_delete=SET_NULL); the username copy keeps who it was, and the hash does not
        # cover the foreign key, so that one update is allowed. Nothing else is.
        if kwargs != {"actor": None}:
            raise AuditTrailImmutableError("Audit events are never changed.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailImmutableError("Audit events are never deleted.")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        # Each event's hash depends on the one before it: only governance.audit.record appends.
        raise AuditTrailImmutableError("Append audit events with governance.audit.record().")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditTrailImmutableError("Audit events are never changed.")


class AuditEvent(models.Model):
    """One append-only, hash-chained entry of the audit trail; written only by governance.audit."""

    # Position in the chain, 1, 2, 3... with no holes: ids may skip (a rolled-back transaction
    # consumes a PostgreSQL sequence value), so only ``seq`` lets verify_audit tell a deleted row
    # from an aborted write. Unique, so two writers can never both append position n.
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    # SET_NULL, not DO_NOTHING without a constraint: the actor stays a real, joinable foreign key
    # while the account exists, and deleting an account still works. The database triggers
    # (migration 0003) allow exactly that one UPDATE (actor_id to NULL, nothing else changed);
    # the hash covers ``actor_username``, not the key, so the chain still verifies afterwards.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Copied so the trail still names the person after the account is deleted (the FK is then
    # cleared). For a failed sign-in it is the username that was tried.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    justification = models.TextField(blank=True)
    # Text, not an inet column: the hash covers the exact string, and PostgreSQL would
    # re-format some IPv6 addresses on the way back.
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    # PROTECT: agencies are deactivated, not deleted, and the trail must outlive them.
    agency = models.ForeignKey(
        "governance.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["at"], name="auditevent_at"),
            models.Index(fields=["actor", "at"], name="auditevent_actor_at"),
            # The auditor's "user" filter matches the copied name (it also finds failed sign-ins
            # and deleted accounts, which have no actor row).
            models.Index(fields=["actor_username", "at"], name="auditevent_username_at"),
            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
            models.Index(fields=["action", "at"], name="auditevent_action_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailImmutableError("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailImmutableError("Audit events are never deleted.")


# --- access rules ------------------------------------------------------------------------------


class RoleGrant(models.Model):
    """A role may do ``action`` to ``category`` records up to ``max_sensitivity``.

    No row, no right: ``governance.access`` denies anything not granted here. The defaults in
    ``governance.policy`` seed the table once (migration 0004); admins change it on the access
    rules page (``/governance/access/``), each change audited.
    """

    role = models.CharField(max_length=32, choices=Role.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    max_sensitivity = models.PositiveSmallIntegerField(choices=Sensitivity.choices)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["role", "category", "action"]
        constraints = [
            models.UniqueConstraint(fields=["role", "category", "action"], name="rolegrant_unique"),
            models.CheckConstraint(
                condition=models.Q(max_sensitivity__gte=1, max_sensitivity__lte=3),
                name="rolegrant_sensitivity_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} may {self.action} {self.category} (<= {self.max_sensitivity})"


class UserGrant(models.Model):
    """One person's extra right beyond their roles, usually for a while (``expires_at``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants"
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    action = models.CharField(max_length=16, choices=Action.choices)
    max_sensitivity = models.PositiveSmallIntegerField(choices=Sensitivity.choices)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until revoked.")
    reason = models.TextField()
    granted_at = models.DateTimeField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["user_id", "category", "action"]
        constraints = [
            models.UniqueConstraint(fields=["user", "category", "action"], name="usergrant_unique"),
            models.CheckConstraint(
                condition=models.Q(max_sensitivity__gte=1, max_sensitivity__lte=3),
                name="usergrant_sensitivity_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} may {self.action} {self.category} (<= {self.max_sensitivity})"


class AccessPolicyState(models.Model):
    """One row: when the default grants were written. Its absence (a new or flushed database)
    is what makes ``post_migrate`` seed them; an admin who revokes everything leaves it in place,
    so an empty grant table then really means "nobody may do anything"."""

    seeded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"access rules seeded {self.seeded_at:%Y-%m-%d}"


class NeedToKnowGroup(models.Model):
    """A named group of people; a person record or finding limited to groups is seen only by
    their members (on top of every other rule)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="need_to_know_groups")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="need_to_know_groups"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="needtoknow_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


# --- sign-in security --------------------------------------------------------------------------


class LoginThrottle(models.Model):
    """Failed sign-ins counted against one username or one client address, and its lock.

    ``key`` is ``"user:<username, lower case>"`` or ``"ip:<address>"``; the username need not
    exist, so an unknown name locks exactly like a real one and the answer tells nobody which.
    Written only by ``governance.login_security`` under a row lock.
    """

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["locked_until"], name="loginthrottle_locked")]

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} failure(s)"


class TotpDevice(models.Model):
    """A person's authenticator app (RFC 6238 TOTP); usable once ``confirmed_at`` is set."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    secret = models.CharField(max_length=64, help_text="Base32, as shown to the person once.")
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The 30-second step of the last code accepted: that code and any older one are refused,
    # so a code read over someone's shoulder cannot be used a second time.
    last_used_step = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "unconfirmed"
        return f"TOTP for {self.user_id} ({state})"


class RoleLoginPolicy(models.Model):
    """Whether holders of ``role`` must pass a second factor (TOTP) to sign in."""

    role = models.CharField(max_length=32, choices=Role.choices, unique=True)
    require_totp = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"{self.role}: {'TOTP required' if self.require_totp else 'password only'}"


# --- retention and legal hold ------------------------------------------------------------------


class RetentionPolicy(models.Model):
    """How long one category of records is kept and what happens after (``governance.retention``).

    Seeded with ``retention.DEFAULT_POLICIES`` (migration 0006 and ``post_migrate``); admins edit
    ``keep_days`` and ``action`` on the retention page, each change audited.
    """

    category = models.CharField(max_length=32, choices=RetentionCategory.choices, unique=True)
    keep_days = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=RetentionAction.choices)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["category"]
        constraints = [
            # The audit trail is kept at least a year (CJIS 5.4.7); the page refuses less too.
            models.CheckConstraint(
                condition=~models.Q(category="audit") | models.Q(keep_days__gte=365),
                name="retentionpolicy_audit_one_year",
            ),
            models.CheckConstraint(
                condition=models.Q(keep_days__gte=1), name="retentionpolicy_keep_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.keep_days} days, then {self.action}"


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def active(self) -> LegalHoldQuerySet:
        return self.filter(released_at__isnull=True)


class LegalHold(models.Model):
    """Keeps one record (and, for a call, its incident's records) out of the retention purge
    until released. Generic (type + id) so one table covers calls, persons, observations, units
    and findings without a foreign key into every domain app."""

    object_type = models.CharField(max_length=64, choices=HoldObject.choices)
    object_id = models.PositiveBigIntegerField()
    # The held record's agency: whose admins and supervisors see and release the hold.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(blank=True, default="")

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            # One active hold per record: a second would make "released" ambiguous.
            models.UniqueConstraint(
                fields=["object_type", "object_id"],
                condition=models.Q(released_at__isnull=True),
                name="legalhold_one_active_per_record",
            ),
        ]
        indexes = [models.Index(fields=["object_type", "released_at"], name="legalhold_active")]

    def __str__(self) -> str:
        return f"hold on {self.record_label}"

    @property
    def record_label(self) -> str:
        """ "Person #12": never the record's own text (an admin may not see persons' names)."""
        kind = HoldObject(self.object_type).label.split(" (")[0]
        return f"{kind} #{self.object_id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class Webhook(models.Model):
    """An outbound webhook an admin registered: which agency events are POSTed where, signed how.

    ``secret`` is stored in clear: HMAC signing needs the key itself (a hash would not do), so it
    is protected like the rest of the database, shown only to admins (on registration, rotation or
    an audited "show"), and never written to the audit trail or to a delivery.
    """

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    # A list of governance.webhooks.EVENT_TYPES keys.
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    # Set only by an admin, audited: lets the URL resolve to a private/loopback address.
    allow_private_network = models.BooleanField(default=False)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["agency", "active"], name="webhook_agency_active")]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event to send to one webhook, with its attempts so far; the delivery log is these rows."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (will retry)"
        GIVEN_UP = "given_up", "Given up"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    # Sent as X-Beacon-Delivery and in the body: receivers de-duplicate retries on it.
    event_id = models.UUIDField(unique=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due"),
            models.Index(fields=["webhook", "-created_at"], name="webhookdelivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook_id} ({self.status})"
