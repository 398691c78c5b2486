"""Fault 2: the Celery worker SIGKILLed (with its pool) in the middle of an analysis run and of a
retention purge, then started again under the same node name.

Tasks are acknowledged late, so the broker hands the killed task out again after the visibility
timeout (shortened here with ``BEACON_BROKER_VISIBILITY_TIMEOUT``). The analysis run the worker
died in is marked failed as soon as the node is back; the redelivered run writes the same
findings as a clean run, once each. The purge resumes where the last whole batch ended and
finishes; nothing that should stay is removed.
"""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from tests.faults import harness
from tests.faults.invariants import assert_audit_chain_verifies, assert_no_duplicate_findings

pytestmark = pytest.mark.faults

VISIBILITY_S = 12
AS_OF = "2026-07-01T00:00:00+00:00"


def _enqueue(stack: harness.Stack, code: str) -> str:
    """Send a task from another process, as beat or a web request would; returns its id."""
    return stack.shell(f"{code}\nprint(result.id)").strip().splitlines()[-1]


def _runs(stack: harness.Stack) -> list[tuple[int, str, str, str]]:
    return stack.sql("SELECT id, status, task_id, error FROM intelligence_analysisrun ORDER BY id")


def _open_findings(stack: harness.Stack) -> list[str]:
    rows = stack.sql(
        "SELECT subject_key FROM intelligence_finding WHERE status = 'proposed' "
        "AND kind = 'repeat_locations' ORDER BY subject_key"
    )
    return [key for (key,) in rows]


def test_worker_killed_during_an_analysis_run(make_stack):
    stack = make_stack(BEACON_BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_S))
    clock = harness.Clock()
    # A year of synthetic calls: enough that a run takes a second or more on this machine.
    harness.subprocess.run(
        [sys.executable, "scripts/synthetic_calls.py", "--calls", "20000", "--end", AS_OF,
         "--no-progress", "--agency", "default"],
        cwd=harness.ROOT, env=stack.env(), check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    clock.mark("synthetic calls loaded")
    worker = stack.start_worker()
    task = (
        "from intelligence.tasks import run_analysis; from governance.models import Agency\n"
        "result = run_analysis.apply_async(kwargs={'kind': 'repeat_locations', "
        f"'agency_id': Agency.objects.get(code='default').pk, 'as_of_iso': {AS_OF!r}}})"
    )

    # A clean run first: the findings any rerun must reproduce.
    _enqueue(stack, task)
    harness.wait_until(
        lambda: [r for r in _runs(stack) if r[1] == "succeeded"], timeout=120, what="clean run"
    )
    clock.mark("clean run done")
    clean = _open_findings(stack)
    assert clean, "the clean run found nothing; the data is too thin to test with"

    # The same run again; kill the worker while it is on it.
    killed_task = _enqueue(stack, task)
    harness.wait_until(
        lambda: any(r[1] == "running" and r[2] == killed_task for r in _runs(stack)),
        timeout=60,
        every=0.02,
        what="the second run to start",
    )
    worker.kill()
    clock.mark("worker killed during the run")
    (killed,) = [r for r in _runs(stack) if r[2] == killed_task]
    assert killed[1] == "running", "the run finished before the kill; nothing was tested"

    # Back under the same node name: the run its predecessor died in is marked failed.
    stack.start_worker()
    harness.wait_until(
        lambda: {r[0]: r[1] for r in _runs(stack)}[killed[0]] == "failed",
        timeout=60,
        what="the killed run to be marked failed",
    )
    clock.mark("worker restarted, killed run marked failed")
    # The broker hands the task out again; the retry succeeds.
    retried = harness.wait_until(
        lambda: [
            r
            for r in _runs(stack)
            if r[2] == killed_task and r[0] != killed[0] and r[1] != "running"
        ],
        timeout=VISIBILITY_S + 90,
        what="the killed task to be redelivered and run",
    )
    clock.mark("task redelivered and run")
    assert [r[1] for r in retried] == ["succeeded"], retried
    assert "worker was lost" in {r[0]: r[3] for r in _runs(stack)}[killed[0]]

    # Same findings as the clean run, each once, each with its evidence.
    assert _open_findings(stack) == clean
    assert_no_duplicate_findings(stack)
    assert [r[1] for r in _runs(stack)] == ["succeeded", "failed", "succeeded"]
    assert_audit_chain_verifies(stack)


def test_worker_killed_during_a_retention_purge(make_stack):
    stack = make_stack(BEACON_BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY_S))
    clock = harness.Clock()
    (unit_id,) = stack.sql("SELECT id FROM dispatch_unit WHERE call_sign = 'F1'")[0]
    # 150,000 AVL fixes two years old (expired) and 1,000 from the last hour (kept).
    now = dt.datetime.now(dt.UTC)
    for start, count in (
        (now - dt.timedelta(days=730), 150_000),
        (now - dt.timedelta(hours=1), 1_000),
    ):
        stack.sql(
            "INSERT INTO dispatch_unitposition (unit_id, recorded_at, received_at, latitude, "
            "longitude, h3_r9) SELECT %s, %s + s * interval '1 second', now(), 29.42, -98.49, '' "
            "FROM generate_series(1, %s) AS s",
            (unit_id, start, count),
        )
    cutoff = now - dt.timedelta(days=365)

    def expired() -> int:
        query = "SELECT count(*) FROM dispatch_unitposition WHERE recorded_at < %s"
        return stack.sql(query, (cutoff,))[0][0]

    clock.mark("AVL fixes inserted")
    worker = stack.start_worker()
    _enqueue(stack, "from governance.tasks import purge_expired\nresult = purge_expired.delay()")
    harness.wait_until(
        lambda: 0 < expired() < 150_000, timeout=60, every=0.02, what="the purge to be under way"
    )
    worker.kill()
    clock.mark("worker killed during the purge")
    left = expired()
    assert left > 0, "the purge finished before the kill; nothing was tested"
    # Whole batches only: each batch is its own transaction.
    assert (150_000 - left) % 5_000 == 0, f"{150_000 - left} rows deleted: a partial batch"

    stack.start_worker()
    harness.wait_until(
        lambda: expired() == 0,
        timeout=VISIBILITY_S + 90,
        what="the redelivered purge to finish",
    )
    clock.mark("purge redelivered and finished")
    assert stack.sql("SELECT count(*) FROM dispatch_unitposition") == [(1_000,)]
    done = stack.sql(
        "SELECT details FROM governance_auditevent WHERE action = 'retention_purge' "
        "AND object_id = 'avl'"
    )
    assert any(d.get("completed") for (d,) in done), done
    assert_audit_chain_verifies(stack)
