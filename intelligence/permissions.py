"""One access function per protected intelligence model; every interface goes through these.

A finding the user may not see raises ``NotFoundError`` exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from beacon_core.errors import NotFoundError
from governance import audit
from governance.access import can, limit_need_to_know, may_write_agency, visible_agency_ids
from governance.choices import Action, Category
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import AnalysisRun, Finding


def findings_visible_to(user: Any) -> QuerySet[Finding]:
    """Findings of the agencies whose findings the user may view (none without the role).

    Entity findings are about persons and vehicles, so they also need person view rights in
    the finding's agency. A finding limited to need-to-know groups needs membership of one.
    """
    return limit_need_to_know(_findings_before_need_to_know(user), user)


def _findings_before_need_to_know(user: Any) -> QuerySet[Finding]:
    agencies = visible_agency_ids(user, Category.FINDING)
    qs = Finding.objects.all()
    if agencies is not None:
        if not agencies:
            return qs.none()
        qs = qs.filter(agency_id__in=agencies)
    persons = visible_agency_ids(user, Category.PERSON)
    if persons is None:
        return qs
    if not persons:
        return qs.exclude(kind=FindingKind.ENTITY)
    return qs.exclude(Q(kind=FindingKind.ENTITY) & ~Q(agency_id__in=persons))


def intake_findings(user: Any) -> QuerySet[Finding]:
    """Accepted findings whose plain-words flags (call intake, live map) the user may be shown.

    Stated in plain words to anyone who sees the agency's calls, not only to finding viewers;
    a finding limited to need-to-know groups stays with their members here too.
    """
    if not can(user, Action.VIEW, Category.CALL):
        return Finding.objects.none()
    qs = limit_need_to_know(Finding.objects.filter(status=FindingStatus.ACCEPTED), user)
    agencies = visible_agency_ids(user, Category.CALL)
    if agencies is None:
        return qs
    return qs.filter(agency_id__in=agencies)


def runs_visible_to(user: Any) -> QuerySet[AnalysisRun]:
    """Analysis runs: those of the user's visible agencies plus all-agency runs (no rows of data)."""
    agencies = visible_agency_ids(user, Category.FINDING)
    qs = AnalysisRun.objects.all()
    if agencies is None:
        return qs
    if not agencies:
        return qs.none()
    return qs.filter(agency_id__in=agencies) | qs.filter(agency__isnull=True)


def can_review_findings(user: Any) -> bool:
    """Reviewing (accepting or dismissing) is changing a finding."""
    return can(user, Action.CHANGE, Category.FINDING)


def can_propose_from_alert(user: Any) -> bool:
    """Turning a partner alert into a proposed finding: those who review findings (supervisors,
    analysts). The proposal is still accepted by someone else (four-eyes rule)."""
    return can_review_findings(user)


def access_finding(user: Any, finding_id: Any, *, for_write: bool = False) -> Finding:
    """The finding if the user may see it (and review it, with ``for_write``)."""
    try:
        finding = findings_visible_to(user).get(pk=int(finding_id))
    except (TypeError, ValueError, Finding.DoesNotExist):
        # Hidden only by need-to-know: still "not found", but the attempt is audited.
        audit.note_need_to_know_refusal(
            _findings_before_need_to_know(user), finding_id, category=Category.FINDING
        )
        raise NotFoundError from None
    if for_write and not (can_review_findings(user) and may_write_agency(user, finding.agency_id)):
        raise PermissionDenied("Not allowed to review this finding.")
    return finding
