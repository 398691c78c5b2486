"""Runs left "running" by a worker that died are marked failed: when the broker hands the same
task out again, and when the same worker node starts again (tests/faults proves it end to end)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Agency
from intelligence import services
from intelligence.choices import RunStatus
from intelligence.models import AnalysisRun
from intelligence.tasks import (
    EMBEDDED_WORKER,
    _fail_runs_lost_by_previous_process,
    fail_runs_lost_by_embedded_process,
    run_analysis,
)

pytestmark = pytest.mark.django_db
AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _running(agency: Agency, **fields: str) -> AnalysisRun:
    """What a SIGKILLed worker leaves behind: a run that never finished."""
    return AnalysisRun.objects.create(
        agency=agency,
        kind="hotspots",
        method="hotspots",
        method_version="",
        as_of=AS_OF,
        started_at=timezone.now(),
        status=RunStatus.RUNNING,
        **fields,
    )


def test_a_redelivered_task_fails_its_dead_attempt_and_runs_again(agency: Agency) -> None:
    dead = _running(agency, task_id="task-1", worker="w1@host")
    other = _running(agency, task_id="task-2", worker="w1@host")
    run = services.analysis_execute(kind="hotspots", as_of=AS_OF, agency=agency, task_id="task-1")
    dead.refresh_from_db()
    other.refresh_from_db()
    assert (dead.status, dead.error) == (RunStatus.FAILED, services.LOST_ON_REDELIVERY)
    assert dead.finished_at is not None
    assert other.status == RunStatus.RUNNING  # another task's run is not this one's business
    assert run.status == RunStatus.SUCCEEDED and run.task_id == "task-1"


def test_a_restarted_worker_fails_only_its_own_running_runs(agency: Agency) -> None:
    mine = _running(agency, task_id="t1", worker="w1@host")
    theirs = _running(agency, task_id="t2", worker="w2@host")
    finished = _running(agency, task_id="t3", worker="w1@host")
    AnalysisRun.objects.filter(pk=finished.pk).update(status=RunStatus.SUCCEEDED)

    class Consumer:  # what celery's worker_ready signal passes as its sender
        hostname = "w1@host"

    _fail_runs_lost_by_previous_process(sender=Consumer())
    statuses = dict(AnalysisRun.objects.values_list("pk", "status"))
    assert statuses == {
        mine.pk: RunStatus.FAILED,
        theirs.pk: RunStatus.RUNNING,
        finished.pk: RunStatus.SUCCEEDED,
    }
    assert AnalysisRun.objects.get(pk=mine.pk).error == services.LOST_ON_RESTART
    assert services.analysis_runs_fail_lost(worker="") == 0


def test_the_task_records_its_id_and_no_worker_when_run_in_process(
    agency: Agency, settings
) -> None:
    settings.EMBEDDED = False  # production, a command running the task in its own process
    result = run_analysis.apply(
        kwargs={"kind": "hotspots", "agency_id": agency.pk, "as_of_iso": AS_OF.isoformat()},
        task_id="in-process-1",
    )
    run = AnalysisRun.objects.get(pk=result.get())
    assert (run.task_id, run.worker) == ("in-process-1", "")


def test_embedded_mode_names_its_runs_and_fails_those_its_last_process_left(
    agency: Agency, settings
) -> None:
    settings.EMBEDDED = True
    result = run_analysis.apply(
        kwargs={"kind": "hotspots", "agency_id": agency.pk, "as_of_iso": AS_OF.isoformat()}
    )
    assert AnalysisRun.objects.get(pk=result.get()).worker == EMBEDDED_WORKER
    killed = _running(agency, worker=EMBEDDED_WORKER)
    celery_run = _running(agency, worker="w1@host")
    assert fail_runs_lost_by_embedded_process() == 1
    killed.refresh_from_db()
    celery_run.refresh_from_db()
    assert (killed.status, killed.error) == (RunStatus.FAILED, services.LOST_ON_RESTART)
    assert celery_run.status == RunStatus.RUNNING
