"""Agencies and who belongs to which: the organisational facts access decisions rest on."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.choices import AgencyKind


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
