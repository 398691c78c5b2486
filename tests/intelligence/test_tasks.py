"""Analysis tasks: declared policy, one service call per task, tolerance of deleted agencies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import InterfaceError, OperationalError

from config.celery import app
from governance.models import Agency
from intelligence import runners
from intelligence.choices import RunStatus
from intelligence.models import AnalysisRun
from intelligence.tasks import run_all_analyses, run_analysis
from tests.factories import AgencyFactory

AS_OF = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def eager() -> Iterator[None]:
    """Run child tasks in-process even when the suite runs with a Redis broker."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.mark.parametrize(
    ("task", "name", "queue"),
    [
        (run_analysis, "intelligence.run_analysis", "analysis"),
        (run_all_analyses, "intelligence.run_all_analyses", "default"),
    ],
)
def test_tasks_declare_stable_name_queue_and_retry_policy(task, name: str, queue: str) -> None:
    assert task.name == name and app.tasks[name].queue == queue
    assert task.queue == queue
    assert task.acks_late is True
    assert task.max_retries == 5
    assert task.retry_backoff is True and task.retry_jitter is True
    assert {OperationalError, InterfaceError, ConnectionError} <= set(task.autoretry_for)


@pytest.mark.django_db
def test_run_analysis_calls_the_service_and_records_a_run(agency: Agency) -> None:
    kind = next(iter(runners.RUNNERS))
    run_id = run_analysis.apply(
        kwargs={"kind": kind, "agency_id": agency.pk, "as_of_iso": AS_OF.isoformat()}
    ).get()
    run = AnalysisRun.objects.get(pk=run_id)
    assert (run.kind, run.agency_id, run.as_of, run.status) == (
        kind,
        agency.pk,
        AS_OF,
        RunStatus.SUCCEEDED,
    )


@pytest.mark.django_db
def test_run_analysis_is_repeatable(agency: Agency) -> None:
    kwargs = {"kind": "hotspots", "agency_id": agency.pk, "as_of_iso": AS_OF.isoformat()}
    first = run_analysis.apply(kwargs=kwargs).get()
    second = run_analysis.apply(kwargs=kwargs).get()
    runs = AnalysisRun.objects.filter(pk__in=[first, second])
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2
    assert len({r.input_hash for r in runs}) == 1


@pytest.mark.django_db
def test_run_analysis_tolerates_a_deleted_agency(agency: Agency) -> None:
    gone = AgencyFactory(code="gone")
    gone_id = gone.pk
    gone.delete()
    result = run_analysis.apply(kwargs={"kind": "hotspots", "agency_id": gone_id})
    assert result.successful() and result.get() is None
    assert not AnalysisRun.objects.exists()


@pytest.mark.django_db
def test_run_all_analyses_fans_out_one_task_per_active_agency_and_kind(
    agency: Agency, other_agency: Agency, eager: None
) -> None:
    AgencyFactory(code="closed", active=False)
    sent = run_all_analyses.apply(kwargs={"as_of_iso": AS_OF.isoformat()}).get()
    expected = {(a.pk, k) for a in (agency, other_agency) for k in runners.RUNNERS}
    assert sent == len(expected)
    runs = AnalysisRun.objects.all()
    assert {(r.agency_id, r.kind) for r in runs} == expected
    assert {r.as_of for r in runs} == {AS_OF}


@pytest.mark.django_db
def test_run_all_analyses_limits_kinds_and_skips_unimplemented_ones(
    agency: Agency, eager: None
) -> None:
    sent = run_all_analyses.apply(kwargs={"kinds": ["hotspots", "no_such_kind"]}).get()
    assert sent == 1
    assert list(AnalysisRun.objects.values_list("kind", flat=True)) == ["hotspots"]


@pytest.mark.django_db
def test_one_failing_run_does_not_stop_the_others_in_embedded_mode(
    agency: Agency, other_agency: Agency, eager: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runners.RUNNERS["hotspots"]

    def flaky(*, agency_id: int | None, **kwargs: object) -> object:
        if agency_id == agency.pk:
            raise RuntimeError("boom")
        return real(agency_id=agency_id, **kwargs)

    monkeypatch.setitem(runners.RUNNERS, "hotspots", flaky)
    run_all_analyses.apply(kwargs={"kinds": ["hotspots"]}).get()
    statuses = dict(AnalysisRun.objects.values_list("agency_id", "status"))
    assert statuses == {agency.pk: RunStatus.FAILED, other_agency.pk: RunStatus.SUCCEEDED}
