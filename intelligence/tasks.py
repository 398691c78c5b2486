"""Analyses as Celery tasks: one task per (kind, agency) run, and the scheduled fan-out.

Both are thin: they take IDs and ISO strings (JSON-safe), re-fetch, and call
``services.analysis_execute`` once. A rerun is harmless because runs upsert findings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from celery.signals import worker_ready
from django.conf import settings
from django.utils import timezone

from beacon_core.db_maintenance import planner_statistics_refresh
from beacon_core.tasks import beacon_task
from governance.models import Agency
from intelligence import runners, services

logger = logging.getLogger(__name__)
# The worker name of runs made by embedded mode's one process (its beat thread, or "Run now" in a
# request): only one such process serves a database, so at its start any run under this name
# still "running" died with the previous process (``fail_runs_lost_by_embedded_process``).
EMBEDDED_WORKER = "embedded"


def _parse_as_of(as_of_iso: str | None) -> dt.datetime:
    if not as_of_iso:
        return timezone.now()
    parsed = dt.datetime.fromisoformat(as_of_iso)
    if timezone.is_naive(parsed):
        raise ValueError(f"as_of_iso {as_of_iso!r} has no UTC offset")
    return parsed


@beacon_task(name="intelligence.run_analysis", queue="analysis", bind=True)
def run_analysis(
    self: Any, kind: str, agency_id: int | None = None, as_of_iso: str | None = None
) -> int | None:
    """Run one analysis for one agency (or all agencies when ``agency_id`` is None).

    Returns the AnalysisRun id, or None when the agency no longer exists. The run records the
    task id and worker so a run its worker died in is marked failed (docs/operations.md).
    """
    agency = None
    if agency_id is not None:
        agency = Agency.objects.filter(pk=agency_id).first()
        if agency is None:
            logger.info("run_analysis %s: agency %s is gone; nothing to do", kind, agency_id)
            return None
    run = services.analysis_execute(
        kind=kind,
        as_of=_parse_as_of(as_of_iso),
        agency=agency,
        task_id=self.request.id or "",
        worker=_worker_name(self.request),
    )
    return run.pk


def _worker_name(request: Any) -> str:
    if request.is_eager:
        return EMBEDDED_WORKER if settings.EMBEDDED else ""
    return request.hostname or ""


def fail_runs_lost_by_embedded_process() -> int:
    """Embedded mode starting: fail the runs its killed predecessor left "running"."""
    return services.analysis_runs_fail_lost(worker=EMBEDDED_WORKER)


@worker_ready.connect
def _fail_runs_lost_by_previous_process(sender: Any = None, **_: Any) -> None:
    """A worker node starting again: the runs its killed predecessor left "running" are failed."""
    hostname = getattr(sender, "hostname", "") or ""
    try:
        services.analysis_runs_fail_lost(worker=hostname)
    except Exception:  # the database may be down at start; redelivery still fails the run
        logger.exception("could not check for runs lost by %s", hostname)


@beacon_task(name="intelligence.run_all_analyses", queue="default")
def run_all_analyses(kinds: Sequence[str] | None = None, as_of_iso: str | None = None) -> int:
    """Enqueue one ``run_analysis`` per active agency and kind; return how many were enqueued.

    ``kinds`` None means every implemented kind at the time the fan-out runs, so a newly
    implemented analysis joins the nightly set without a schedule change. All children share
    one ``as_of`` so the night's runs describe the same data window.
    """
    wanted = list(runners.RUNNERS) if kinds is None else [k for k in kinds if k in runners.RUNNERS]
    unknown = sorted(set(kinds or ()) - set(runners.RUNNERS))
    if unknown:
        logger.warning("run_all_analyses: skipping unimplemented kinds %s", ", ".join(unknown))
    as_of = as_of_iso or timezone.now().isoformat()
    # SQLite plans the analyses' queries from statistics only ANALYZE gathers (no-op elsewhere).
    planner_statistics_refresh()
    eager = bool(run_analysis.app.conf.task_always_eager)
    sent = 0
    # Eager (embedded) children run right here and may share intermediate results, e.g. the
    # repeat-location run's premises as the time-window run's parents; a worker shares nothing.
    with runners.shared_results():
        for agency_id in Agency.objects.filter(active=True).values_list("pk", flat=True):
            for kind in wanted:
                try:
                    run_analysis.apply_async(
                        kwargs={"kind": kind, "agency_id": agency_id, "as_of_iso": as_of}
                    )
                except Exception:
                    # In embedded (eager) mode the child runs here: one agency's failed run is
                    # recorded as a failed AnalysisRun and must not stop the others. In production
                    # an exception here is a publish failure, left to the retry policy.
                    if not eager:
                        raise
                    logger.exception("run_analysis %s for agency %s failed", kind, agency_id)
                sent += 1
    return sent


@beacon_task(name="intelligence.evaluate_due_outcomes", queue="analysis")
def evaluate_due_outcomes() -> int:
    """Evaluate every accepted finding whose 28 days after acceptance are over (once each)."""
    return len(services.outcomes_evaluate_due())
