"""Tables of the intelligence domain: analysis runs, the findings they propose, and their review.

Single-row invariants live here as constraints; state changes live in ``services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan

from dispatch.models import Call, FieldObservation, Location
from governance.models import Agency
from intelligence.choices import Decision, FindingKind, FindingStatus, RunStatus


class AnalysisRun(models.Model):
    """One execution of one analysis: what ran, on which data, with what result, so it can be redone."""

    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the run covered every agency.",
    )
    kind = models.CharField(max_length=24, choices=FindingKind.choices)
    method = models.CharField(max_length=64)
    method_version = models.CharField(max_length=16)
    parameters = models.JSONField(default=dict, blank=True)
    as_of = models.DateTimeField()
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    input_hash = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    # Who ran it: a run left "running" by a worker that died is found by these (a redelivered
    # task has the same id; a restarted worker has the same node name) and marked failed.
    task_id = models.CharField(max_length=64, blank=True, default="")
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["kind", "started_at"], name="analysisrun_kind_started")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.as_of:%Y-%m-%d %H:%M} ({self.status})"


class FindingQuerySet(models.QuerySet["Finding"]):
    def open(self) -> FindingQuerySet:
        return self.filter(status=FindingStatus.PROPOSED)


class Finding(models.Model):
    """A pattern an analysis (or a person) proposes, with its statistics, explanation and evidence."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="findings")
    kind = models.CharField(max_length=24, choices=FindingKind.choices)
    subject_key = models.CharField(
        max_length=200, help_text="Stable identity of the subject, so reruns find the same finding."
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="findings"
    )
    cells = models.JSONField(default=list, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    statistics = models.JSONField(default=dict, blank=True)
    explanation = models.TextField()
    status = models.CharField(
        max_length=16, choices=FindingStatus.choices, default=FindingStatus.PROPOSED
    )
    first_run = models.ForeignKey(
        AnalysisRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_run = models.ForeignKey(
        AnalysisRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set for a finding a person proposed; empty for an analysis run's finding.",
    )
    need_to_know = models.ManyToManyField(
        "governance.NeedToKnowGroup",
        blank=True,
        related_name="findings",
        help_text="When set, only members of these groups see the finding (on top of roles).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        constraints = [
            # One open finding per subject: what makes reruns update instead of duplicate.
            models.UniqueConstraint(
                fields=["agency", "kind", "subject_key"],
                condition=Q(status=FindingStatus.PROPOSED),
                name="finding_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("window_end")),
                name="finding_window_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "kind", "status"], name="finding_agency_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject_key} ({self.status})"


class FindingEvidence(models.Model):
    """One call or one observation a finding rests on (exactly one of the two)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence")
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    observation = models.ForeignKey(
        FieldObservation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(call__isnull=False, observation__isnull=True)
                    | Q(call__isnull=True, observation__isnull=False)
                ),
                name="evidence_one_record",
            ),
            models.UniqueConstraint(
                fields=["finding", "call"],
                condition=Q(call__isnull=False),
                name="evidence_unique_call",
            ),
            models.UniqueConstraint(
                fields=["finding", "observation"],
                condition=Q(observation__isnull=False),
                name="evidence_unique_observation",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.finding_id}: call {self.call_id}"
            if self.call_id
            else f"obs {self.observation_id}"
        )


class FindingDecision(models.Model):
    """A person's accept/dismiss decision on a finding, with the rationale they gave."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    rationale = models.TextField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The service strips and checks too; this catches writes that bypass it.
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("rationale")), 0),
                name="decision_rationale_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.decision} by {self.reviewer_id}"


class FindingOutcome(models.Model):
    """Did the calls fall? One before/after evaluation of a finding's place after a response.

    The target is the finding's subject (its location, or its H3 cells); the buffer is the ring
    of cells around it (where displaced calls would go); the control is the rest of the agency's
    calls. Before and after are equal-length periods either side of ``period_start``.
    """

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="outcomes")
    period_start = models.DateTimeField(help_text="When the response began (after starts here).")
    period_end = models.DateTimeField(help_text="End of the after period.")
    before_start = models.DateTimeField()
    target_before = models.PositiveIntegerField()
    target_after = models.PositiveIntegerField()
    buffer_before = models.PositiveIntegerField()
    buffer_after = models.PositiveIntegerField()
    control_before = models.PositiveIntegerField()
    control_after = models.PositiveIntegerField()
    statistics = models.JSONField(default=dict, blank=True)
    verdict = models.CharField(max_length=24)
    explanation = models.TextField()
    evaluated_at = models.DateTimeField()
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the scheduled evaluation.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(before_start__lt=models.F("period_start"))
                & Q(period_start__lt=models.F("period_end")),
                name="outcome_periods_ordered",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=["fell", "rose", "no clear change", "too few calls"]),
                name="outcome_verdict_known",
            ),
            # The schedule evaluates a period once; two workers racing on the same pass must
            # not both record it. A person may re-evaluate as often as they like.
            models.UniqueConstraint(
                fields=["finding", "period_start"],
                condition=Q(evaluated_by__isnull=True),
                name="outcome_scheduled_once_per_period",
            ),
        ]
        indexes = [models.Index(fields=["finding", "evaluated_at"], name="outcome_finding_time")]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.verdict} ({self.period_start:%Y-%m-%d})"
