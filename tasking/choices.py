"""Kinds of assignment, their lifecycle, and which timestamp each status stamps."""

from django.db import models


class AssignmentKind(models.TextChoices):
    DIRECTED_PATROL = "directed_patrol", "Directed patrol"
    PREMISE_CHECK = "premise_check", "Premise check"
    FIXED_POST = "fixed_post", "Fixed post"
    OUTREACH = "outreach", "Outreach / problem-solving visit"
    FOLLOW_UP = "follow_up", "Investigative follow-up"


class AssignmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    PARTIALLY_COMPLETED = "partially_completed", "Partially completed"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


S = AssignmentStatus

# What the assignee's devices must hold: a reconnecting phone fetches every one of these.
PENDING_STATUSES = frozenset({S.ISSUED, S.ACKNOWLEDGED, S.IN_PROGRESS})
OUTCOME_STATUSES = frozenset({S.COMPLETED, S.PARTIALLY_COMPLETED, S.MISSED})
TERMINAL_STATUSES = OUTCOME_STATUSES | {S.CANCELLED}

# Allowed "from" statuses per transition; each service claims the row with
# UPDATE ... WHERE status IN (these), so two racing transitions cannot both win.
ISSUE_FROM = (S.DRAFT,)
ACKNOWLEDGE_FROM = (S.ISSUED,)
START_FROM = (S.ISSUED, S.ACKNOWLEDGED)  # starting without a tap on Acknowledge acknowledges
FINISH_FROM = (S.ISSUED, S.ACKNOWLEDGED, S.IN_PROGRESS)
CANCEL_FROM = (S.DRAFT, S.ISSUED, S.ACKNOWLEDGED, S.IN_PROGRESS)
REPORT_ON = PENDING_STATUSES | OUTCOME_STATUSES

# status -> (timestamp field, attribution field). The three outcomes share finished_at/by.
STATUS_STAMP: dict[str, tuple[str, str]] = {
    S.ISSUED: ("issued_at", "issued_by"),
    S.ACKNOWLEDGED: ("acknowledged_at", "acknowledged_by"),
    S.IN_PROGRESS: ("started_at", "started_by"),
    S.COMPLETED: ("finished_at", "finished_by"),
    S.PARTIALLY_COMPLETED: ("finished_at", "finished_by"),
    S.MISSED: ("finished_at", "finished_by"),
    S.CANCELLED: ("cancelled_at", "cancelled_by"),
}


class AreaType(models.TextChoices):
    CIRCLE = "circle", "Point and radius"
    CELLS = "cells", "H3 cells"
    POLYGON = "polygon", "Polygon"
