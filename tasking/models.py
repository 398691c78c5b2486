"""Tables of the tasking domain: assignments made from findings, their timeline and report-backs.

Single-row invariants live here as constraints; state changes live in ``services``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan

from dispatch.models import FieldObservation, Unit
from governance.models import Agency
from intelligence.models import Finding
from tasking.choices import (
    OUTCOME_STATUSES,
    AssignmentKind,
    AssignmentStatus,
)

S = AssignmentStatus
_USER = settings.AUTH_USER_MODEL


def _by(name: str) -> models.ForeignKey:
    """An attribution column: who moved the assignment to a status (kept if the account goes)."""
    return models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=name
    )


class Shift(models.Model):
    """A named team that works the same hours (e.g. "Nights"): an assignee made of people and units.

    An assignment to a shift reaches every member's devices and the devices of everyone signed to
    its units, and the team's units' AVL measures its dosage. The hours are the team's regular
    ones in agency time, offered as a quick pick on the shift briefing.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="shifts")
    name = models.CharField(max_length=64)
    starts_at = models.TimeField(help_text="Regular start, agency time.")
    ends_at = models.TimeField(help_text="Regular end, agency time (at or before start: next day).")
    members = models.ManyToManyField(_USER, blank=True, related_name="tasking_shifts")
    units = models.ManyToManyField(Unit, blank=True, related_name="tasking_shifts")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="shift_unique_name"),
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("name")), 0), name="shift_name_required"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def hours_label(self) -> str:
        return f"{self.starts_at:%H:%M}-{self.ends_at:%H:%M}"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def pending(self) -> AssignmentQuerySet:
        return self.filter(status__in=[S.ISSUED, S.ACKNOWLEDGED, S.IN_PROGRESS])


class Assignment(models.Model):
    """Directed work for a unit, a person or a shift, usually made from an accepted finding."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="assignments")
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    manual = models.BooleanField(
        default=False, help_text="Made by a supervisor without a finding (always without one)."
    )
    kind = models.CharField(max_length=24, choices=AssignmentKind.choices)
    objective = models.TextField()
    area = models.JSONField(help_text="{type: circle|cells|polygon, ...}; checked by the service.")
    windows = models.JSONField(help_text="List of time-window specs (one-off or recurring).")
    dosage = models.JSONField(
        default=dict, blank=True, help_text="{minutes_per_visit, visits_per_window}"
    )
    assignee_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="tasking_assignments"
    )
    assignee_user = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.PROTECT, related_name="tasking_assignments"
    )
    assignee_shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    priority = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    status = models.CharField(max_length=24, choices=S.choices, default=S.DRAFT)
    briefing = models.TextField(blank=True, default="")
    dosage_summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="Windows past/met from AVL, recorded by the schedule after the last window.",
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = _by("issued by")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = _by("acknowledged by")
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = _by("started by")
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = _by("finished by")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = _by("cancelled by")
    created_by = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(finding__isnull=True, manual=True)
                | Q(finding__isnull=False, manual=False),
                name="assignment_manual_iff_no_finding",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        assignee_unit__isnull=False,
                        assignee_user__isnull=True,
                        assignee_shift__isnull=True,
                    )
                    | Q(
                        assignee_unit__isnull=True,
                        assignee_user__isnull=False,
                        assignee_shift__isnull=True,
                    )
                    | Q(
                        assignee_unit__isnull=True,
                        assignee_user__isnull=True,
                        assignee_shift__isnull=False,
                    )
                ),
                name="assignment_one_assignee",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="assignment_priority_1_5"
            ),
            models.CheckConstraint(
                condition=Q(status__in=S.values), name="assignment_status_known"
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("objective")), 0),
                name="assignment_objective_required",
            ),
            # Each status the row is in has its timestamp: the lifecycle is never unattributed.
            models.CheckConstraint(
                condition=Q(status=S.DRAFT) | Q(status=S.CANCELLED) | Q(issued_at__isnull=False),
                name="assignment_issued_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[S.ACKNOWLEDGED, S.IN_PROGRESS])
                | Q(acknowledged_at__isnull=False),
                name="assignment_acknowledged_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(status=S.IN_PROGRESS) | Q(started_at__isnull=False),
                name="assignment_started_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=sorted(OUTCOME_STATUSES)) | Q(finished_at__isnull=False),
                name="assignment_finished_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(status=S.CANCELLED) | Q(cancelled_at__isnull=False),
                name="assignment_cancelled_stamped",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status"], name="assignment_agency_status"),
            models.Index(fields=["assignee_unit", "status"], name="assignment_unit_status"),
            models.Index(fields=["assignee_user", "status"], name="assignment_user_status"),
            models.Index(fields=["assignee_shift", "status"], name="assignment_shift_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def assignee_label(self) -> str:
        """The assignee as people say it: a call sign, a name, or "shift: Nights"."""
        if self.assignee_unit_id:
            return str(self.assignee_unit)
        if self.assignee_user_id:
            user = self.assignee_user
            return user.get_full_name() or user.get_username()
        return f"shift: {self.assignee_shift.name}"


class AssignmentEvent(models.Model):
    """One append-only, attributed lifecycle step of an assignment (created, issued, ...)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=24, blank=True, default="")
    to_status = models.CharField(max_length=24, choices=S.choices)
    actor = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["assignment", "at"], name="assignmentevent_time")]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.from_status or '-'} -> {self.to_status}"


class AssignmentReport(models.Model):
    """A report-back from the field: what was done, whom they spoke to, observations filed."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reports")
    author = models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    notes = models.TextField()
    contacts_made = models.PositiveIntegerField(default=0)
    observations = models.ManyToManyField(FieldObservation, blank=True, related_name="+")
    client_ref = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Device-chosen id so a report re-sent after a lost reply is stored once.",
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "client_ref"],
                condition=~Q(client_ref=""),
                name="assignmentreport_unique_client_ref",
            ),
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("notes")), 0),
                name="assignmentreport_notes_required",
            ),
        ]

    def __str__(self) -> str:
        return f"report on {self.assignment_id} by {self.author_id}"
