"""Reads of findings and runs for lists, dashboards and the ``analyze`` command's output."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dispatch.permissions import calls_visible_to, observations_visible_to
from governance import audit
from governance.choices import Category
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import (
    AnalysisRun,
    Finding,
    FindingDecision,
    FindingEvidence,
    FindingOutcome,
)
from intelligence.permissions import findings_visible_to, runs_visible_to


def finding_list(
    *, user: Any, kind: str | None = None, status: str | None = FindingStatus.PROPOSED
) -> QuerySet[Finding]:
    """Findings the user may see, newest first, optionally of one kind and status."""
    qs = findings_visible_to(user).select_related("location", "agency")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-updated_at", "-pk")


def run_findings(*, run: AnalysisRun) -> QuerySet[Finding]:
    """The findings a run created or updated (those whose last run it is)."""
    return Finding.objects.filter(last_run=run).select_related("location").order_by("pk")


def finding_subject(finding: Finding) -> dict[str, Any]:
    """What a finding is about: the normalised address for a location, cells + centroid for an area."""
    subject: dict[str, Any] = {"key": finding.subject_key}
    if finding.location_id is not None:
        loc = finding.location
        subject.update(
            type="location",
            location_id=loc.pk,
            address=loc.address_key,
            display_address=loc.display_address,
            latitude=loc.latitude,
            longitude=loc.longitude,
        )
    elif finding.cells:
        subject.update(
            type="area",
            cells=list(finding.cells),
            latitude=finding.latitude,
            longitude=finding.longitude,
        )
    return subject


def finding_as_dict(finding: Finding) -> dict[str, Any]:
    """A finding as plain JSON-ready data (the shape the command and the API print)."""
    return {
        "id": finding.pk,
        "kind": finding.kind,
        "agency_id": finding.agency_id,
        "status": finding.status,
        "subject": finding_subject(finding),
        "window_start": finding.window_start.isoformat(),
        "window_end": finding.window_end.isoformat(),
        "statistics": finding.statistics,
        "explanation": finding.explanation,
        "first_run_id": finding.first_run_id,
        "last_run_id": finding.last_run_id,
    }


def run_as_dict(run: AnalysisRun) -> dict[str, Any]:
    """A run's provenance as plain JSON-ready data."""
    return {
        "id": run.pk,
        "kind": run.kind,
        "agency_id": run.agency_id,
        "method": run.method,
        "method_version": run.method_version,
        "parameters": run.parameters,
        "as_of": run.as_of.isoformat(),
        "window_start": run.window_start.isoformat() if run.window_start else None,
        "window_end": run.window_end.isoformat() if run.window_end else None,
        "input_hash": run.input_hash,
        "status": run.status,
        "counts": run.counts,
        "duration_ms": run.duration_ms,
        "error": run.error,
    }


def finding_queryset(*, user: Any) -> QuerySet[Finding]:
    """Every finding the user may see (any status), with what a row shows; callers filter/order."""
    return findings_visible_to(user).select_related("location", "agency")


def finding_decisions(*, finding: Finding) -> QuerySet[FindingDecision]:
    """A finding's review history, oldest first, with the reviewer."""
    return finding.decisions.select_related("reviewer").order_by("decided_at", "pk")


def finding_evidence_ids(*, user: Any, finding: Finding) -> dict[str, list[int]]:
    """Ids of the calls and observations a finding rests on that the user may also open."""
    evidence = FindingEvidence.objects.filter(finding=finding)
    calls = evidence.filter(call__in=calls_visible_to(user)).values_list("call_id", flat=True)
    observations = evidence.filter(observation__in=observations_visible_to(user)).values_list(
        "observation_id", flat=True
    )
    return {"calls": sorted(calls), "observations": sorted(observations)}


def decision_as_dict(decision: FindingDecision) -> dict[str, Any]:
    """One review decision as JSON-ready data (who, when, what, why)."""
    reviewer = decision.reviewer
    return {
        "decision": decision.decision,
        "rationale": decision.rationale,
        "reviewer": reviewer.get_username(),
        "reviewer_name": reviewer.get_full_name() or reviewer.get_username(),
        "decided_at": decision.decided_at.isoformat(),
    }


def finding_detail_dict(*, user: Any, finding: Finding) -> dict[str, Any]:
    """A finding with the evidence ids the user may open and its decision history (the API shape)."""
    return {
        **finding_as_dict(finding),
        "kind_label": finding.get_kind_display(),
        "updated_at": finding.updated_at.isoformat(),
        "evidence": finding_evidence_ids(user=user, finding=finding),
        "decisions": [decision_as_dict(d) for d in finding_decisions(finding=finding)],
        "need_to_know": [
            {"id": g.pk, "name": g.name} for g in finding.need_to_know.order_by("name")
        ],
    }


def run_queryset(*, user: Any) -> QuerySet[AnalysisRun]:
    """Analysis runs the user may see, newest first."""
    return runs_visible_to(user).order_by("-started_at", "-pk")


def finding_outcomes(*, finding: Finding) -> QuerySet[FindingOutcome]:
    """A finding's outcome evaluations, newest first (the caller has checked the finding)."""
    return finding.outcomes.select_related("evaluated_by").order_by("-evaluated_at", "-pk")


def record_finding_view(user: Any, finding: Finding) -> None:
    """Log a read of a finding about a person or vehicle (entity findings); places are not logged.

    A recurring-entity finding names who or what recurs, so opening one consults a personal
    record (DPA 2018 s.62); hotspots, trends and other place or time patterns do not.
    """
    if finding.kind == FindingKind.ENTITY:
        audit.record_view(
            user,
            finding,
            category=Category.FINDING,
            details={"kind": finding.kind},
        )
