"""Scheduled tasking jobs: closing assignments whose windows are over, and outcome evaluations.

Both are sweeps (no ids to take): each run re-reads what is due, so a missed or repeated run
catches up and a rerun changes nothing. Each assignment goes through one service call in its
own transaction; an assignment that changed meanwhile (finished, cancelled, gone) is skipped,
and one that cannot be evaluated is logged, without stopping the others.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from beacon_core.errors import ConflictError, DomainError, NotFoundError
from beacon_core.tasks import beacon_task
from intelligence.choices import FindingStatus
from intelligence.models import Finding, FindingOutcome
from intelligence.services import outcome_evaluate
from tasking import execution, services
from tasking.choices import OUTCOME_STATUSES
from tasking.models import Assignment

logger = logging.getLogger(__name__)
BATCH = 100


@beacon_task(name="tasking.close_ended_assignments", queue="default")
def close_ended_assignments() -> int:
    """Record the dosage of open assignments whose last window has ended; mark missed if none
    met. Returns how many were marked missed."""
    now = timezone.now()
    due: list[Assignment] = []
    # Once recorded, an assignment left open (a window met, or unmeasured) is the supervisor's
    # to finish: not reloaded with its whole AVL history every 15 minutes.
    unrecorded = Assignment.objects.pending().filter(dosage_summary={})
    for a in unrecorded.order_by("id").iterator(chunk_size=500):
        intervals = execution.intervals_of(a)
        # Wait out the trailing margin too, so the last fixes of the last window are in.
        if intervals and max(i.end for i in intervals) + execution.MARGIN <= now:
            due.append(a)
    missed = 0
    for start in range(0, len(due), BATCH):
        batch = due[start : start + BATCH]
        summaries = execution.dosage_for(batch, now=now)  # one fix query per batch
        for a in batch:
            try:
                closed = services.assignment_schedule_close(
                    assignment_id=a.pk, summary=summaries[a.pk].as_dict()
                )
            except (ConflictError, NotFoundError):
                continue  # finished, cancelled or deleted meanwhile: theirs stands
            missed += closed.status == "missed"
    return missed


# An assignment finished longer ago than this has long had its evaluation (or never can:
# outcome periods are at most a year); bounding the sweep keeps each run small.
OUTCOME_LOOKBACK = dt.timedelta(days=400)


@beacon_task(name="tasking.evaluate_assignment_outcomes", queue="analysis")
def evaluate_assignment_outcomes() -> int:
    """For finished assignments from an accepted finding whose period [first window start, last
    window end) is over, evaluate the finding over that period, once per (finding, start).

    Returns how many evaluations were made. Cancelled work was never done, so it gets none.
    """
    now = timezone.now()
    candidates = list(
        Assignment.objects.filter(
            status__in=sorted(OUTCOME_STATUSES),
            finding__isnull=False,
            finding__status=FindingStatus.ACCEPTED,
            finished_at__gte=now - OUTCOME_LOOKBACK,
        ).order_by("id")
    )
    done = set(
        FindingOutcome.objects.filter(
            finding_id__in={a.finding_id for a in candidates}
        ).values_list("finding_id", "period_start")
    )
    made = 0
    for a in candidates:
        period = execution.period_of(a)
        if period is None or period[1] > now or (a.finding_id, period[0]) in done:
            continue
        try:
            outcome_evaluate(
                finding_id=a.finding_id, actor=None, period_start=period[0], period_end=period[1]
            )
        except (DomainError, Finding.DoesNotExist) as exc:
            # E.g. a period longer than evaluations allow, or a finding with no place.
            logger.info("no outcome for assignment %s: %s", a.pk, exc)
            continue
        done.add((a.finding_id, period[0]))
        made += 1
    return made
