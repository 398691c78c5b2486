"""Kinds of analysis, finding statuses, review decisions and run statuses."""

from django.db import models


class FindingKind(models.TextChoices):
    REPEAT_LOCATION = "repeat_locations", "Repeat location"
    HOTSPOT = "hotspots", "Hotspot"
    TIME_WINDOW = "time_windows", "Time window"
    TREND = "trends", "Trend"
    NEAR_REPEAT = "near_repeat", "Near-repeat chain"
    ENTITY = "entities", "Recurring entity"
    # Proposed by a person from a partner's CAP alert (dispatch.PartnerAlert), never by a run.
    PARTNER_ALERT = "partner_alert", "Partner alert"


class FindingStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    EXPIRED = "expired", "Expired"


class Decision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    DISMISS = "dismiss", "Dismiss"


# What each decision moves a proposed finding to.
DECISION_STATUS: dict[str, str] = {
    Decision.ACCEPT: FindingStatus.ACCEPTED,
    Decision.DISMISS: FindingStatus.DISMISSED,
}


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
