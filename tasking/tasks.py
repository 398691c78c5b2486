"""Scheduled tasking jobs: closing assignments whose windows are over, and outcome evaluations.

Both are sweeps (no ids to take): each run re-reads what is due, so a missed or repeated run
catches up and a rerun changes nothing. Each assignment goes through one service call in its
own transaction; one failure is logged and does not stop the others.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from beacon_core.errors import ConflictError, NotFoundError
from beacon_core.tasks import beacon_task
from tasking import execution, services
from tasking.models import Assignment

logger = logging.getLogger(__name__)
BATCH = 100


@beacon_task(name="tasking.close_ended_assignments", queue="default")
def close_ended_assignments() -> int:
    """Record the dosage of open assignments whose last window has ended; mark missed if none
    met. Returns how many were marked missed."""
    now = timezone.now()
    due: list[Assignment] = []
    for a in Assignment.objects.pending().order_by("id").iterator(chunk_size=500):
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
