"""Reads about users, roles and agencies, and the audit trail as the auditor searches it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from beacon_core.errors import DomainError
from governance.access import can, user_agency_id, user_roles
from governance.choices import Action, AuditAction, Category
from governance.models import Agency, AuditEvent


def user_summary(user: Any) -> dict[str, Any]:
    """What a client needs to know about the signed-in user."""
    agency_id = user_agency_id(user)
    agency = Agency.objects.filter(pk=agency_id).first() if agency_id else None
    units = []
    if hasattr(user, "units"):
        units = list(user.units.values("id", "call_sign"))
    return {
        "id": user.pk,
        "username": user.get_username(),
        "full_name": user.get_full_name(),
        "roles": sorted(user_roles(user)),
        "is_superuser": user.is_superuser,
        "agency": {"id": agency.pk, "code": agency.code, "name": agency.name} if agency else None,
        "units": units,
    }


# --- the audit trail ---------------------------------------------------------------------------

AUDIT_OBJECT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
AUDIT_OBJECT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
AUDIT_FILTER_FIELDS = ("user", "object_type", "object_id", "action", "date_from", "date_to")


@dataclass(frozen=True)
class AuditFilters:
    """The auditor's filters, parsed; dates are whole days in ``zone`` (the agency's time zone)."""

    zone: ZoneInfo
    user: str = ""
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_params(self) -> dict[str, str]:
        """The filters that are set, as query parameters (for pager links and audit details)."""
        values = {
            "user": self.user,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "action": self.action,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {key: value for key, value in values.items() if value}

    def start(self) -> dt.datetime | None:
        """Midnight at the start of ``date_from`` in the agency's zone, as an aware datetime."""
        if self.date_from is None:
            return None
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.zone)

    def end(self) -> dt.datetime | None:
        """Midnight after ``date_to`` in the agency's zone (exclusive), so the whole day counts."""
        if self.date_to is None:
            return None
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, self.zone)


def audit_zone(user: Any) -> ZoneInfo:
    """The zone the auditor reads times in: their agency's, else the installation's."""
    agency_id = user_agency_id(user)
    name = (
        Agency.objects.filter(pk=agency_id).values_list("time_zone", flat=True).first()
        if agency_id
        else None
    )
    try:
        return ZoneInfo(name or settings.BEACON_TIME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(settings.BEACON_TIME_ZONE)


def _clean_param(params: Mapping[str, Any], name: str, limit: int, errors: dict) -> str:
    raw = params.get(name) or ""
    value = str(raw).strip()
    if len(value) > limit:
        errors[name] = [f"At most {limit} characters."]
        return ""
    # Control characters (NUL in particular, which PostgreSQL refuses in a query) match nothing.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        errors[name] = ["Contains control characters."]
        return ""
    return value


def _date_param(params: Mapping[str, Any], name: str, errors: dict) -> dt.date | None:
    value = _clean_param(params, name, 10, errors)
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = [f"{value!r} is not a date; use YYYY-MM-DD."]
        return None
    if not 1900 <= day.year <= 2999:
        errors[name] = ["Give a year between 1900 and 2999."]
        return None
    return day


def parse_audit_filters(params: Mapping[str, Any], *, zone: ZoneInfo) -> AuditFilters:
    """Read the auditor's filters from a query string; raise ``DomainError`` naming each bad one."""
    errors: dict[str, list[str]] = {}
    user = _clean_param(params, "user", 150, errors)
    object_type = _clean_param(params, "object_type", 64, errors).lower()
    if object_type and not AUDIT_OBJECT_TYPE_RE.match(object_type):
        errors["object_type"] = ["Use app_label.model, e.g. intelligence.finding."]
    object_id = _clean_param(params, "object_id", 64, errors)
    if object_id and not AUDIT_OBJECT_ID_RE.match(object_id):
        errors["object_id"] = ["Letters, digits and . _ : - only."]
    action = _clean_param(params, "action", 32, errors)
    if action and action not in AuditAction.values:
        errors["action"] = [f"Choose one of: {', '.join(AuditAction.values)}."]
    date_from = _date_param(params, "date_from", errors)
    date_to = _date_param(params, "date_to", errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = ["Must be on or after the start date."]
    if errors:
        raise DomainError(errors)
    return AuditFilters(
        zone=zone,
        user=user,
        object_type=object_type,
        object_id=object_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
    )


def audit_events(*, user: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit events matching ``filters``, newest first; none unless the user may view the trail.

    The trail is one chain for the whole installation (failed sign-ins have no agency), so an
    auditor reads all of it rather than one agency's part.
    """
    if not can(user, Action.VIEW, Category.AUDIT):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.select_related("agency").order_by("-seq")
    if filters.user:
        qs = qs.filter(actor_username=filters.user)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.action:
        qs = qs.filter(action=filters.action)
    start, end = filters.start(), filters.end()
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lt=end)
    return qs


# --- retention ---------------------------------------------------------------------------------


def legal_holds_for(user: Any, *, released_limit: int = 50) -> list[Any]:
    """Active holds on the user's agency's records, then the most recently released ones
    (superusers: every agency's)."""
    from governance.models import LegalHold

    qs = LegalHold.objects.select_related("placed_by", "released_by")
    if not user.is_superuser:
        qs = qs.filter(agency_id=user_agency_id(user))
    active = list(qs.filter(released_at__isnull=True).order_by("-placed_at", "-id"))
    released = list(qs.filter(released_at__isnull=False).order_by("-released_at")[:released_limit])
    return active + released


def last_purge_results() -> dict[str, AuditEvent]:
    """The newest ``retention_purge`` event per category: what the last run did.

    Only these events are read (counts, cutoff, policy; no personal data), so the admins'
    retention page can show them without opening the rest of the trail, which stays the
    auditors'.
    """
    from governance.choices import RetentionCategory

    latest: dict[str, AuditEvent] = {}
    for category in RetentionCategory.values:
        event = (
            AuditEvent.objects.filter(
                action=AuditAction.RETENTION_PURGE,
                object_type="governance.retentionpolicy",
                object_id=category,
            )
            .order_by("-seq")
            .first()
        )
        if event is not None:
            latest[category] = event
    return latest
