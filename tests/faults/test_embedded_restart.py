"""Embedded mode killed under load and started again (issue #8, scenario 6).

``manage.py serve`` runs as `make run` runs it (SQLite in WAL mode under a temporary
``BEACON_VAR_DIR``, beat in a thread of the server). Two dispatch clients log a few calls a
second over the REST API; the server is SIGKILLed mid-load and started again. Then:

* every call answered 201 is on disk exactly once, no attempt is there twice, SQLite's
  ``PRAGMA integrity_check`` is ok and ``verify_audit`` verifies the chain;
* the restarted server serves those calls and logs new ones;
* scheduled jobs resume (a job enabled while the server was down runs after the restart), and
  no job runs twice for one period because of the restart. The probe jobs are hourly analysis
  runs, due at the first start: the first is recorded by django-celery-beat's first sync, the
  second one only in memory until its next batch sync (minutes later) unless each run is
  recorded before it starts (beacon_core/beat_scheduler.py). Without that, the kill made the
  second one due again and it ran twice.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from beacon_core.beat_scheduler import DurableDatabaseScheduler
from config.celery import app
from tests.faults._embedded import (
    EmbeddedServer,
    embedded_env,
    manage,
    sqlite_rows,
    wait_for,
)

ANALYSIS = "intelligence.run_all_analyses"
# (name, analysis kind, enabled at the first start)
PROBES = (
    ("fault probe: hotspots", "hotspots", True),
    ("fault probe: repeat locations", "repeat_locations", True),
    ("fault probe: time windows, enabled while down", "time_windows", False),
)
SETUP = """
import datetime as dt, json
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from rest_framework.authtoken.models import Token
from governance.services import agency_get_or_create_default, user_create

call_command("migrate", "--noinput", verbosity=0)
user = user_create(username="disp", password="restart-test-password-42", roles=["dispatcher"],
                   agency=agency_get_or_create_default())
# The built-in analysis entries could fire during the test and blur the probes' counts.
PeriodicTask.objects.filter(task=ANALYSIS).update(enabled=False)
hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
for name, kind, enabled in PROBES:
    # A start time in the past makes an entry due at once (django-celery-beat backdates it).
    PeriodicTask.objects.create(
        name=name, task=ANALYSIS, interval=hourly, kwargs=json.dumps({"kinds": [kind]}),
        start_time=timezone.now() - dt.timedelta(minutes=1), enabled=enabled,
    )
print(Token.objects.create(user=user).key)
"""


def runs_by_kind(db: Path) -> dict[str, list[str]]:
    rows = sqlite_rows(db, "SELECT kind, status FROM intelligence_analysisrun ORDER BY id")
    out: dict[str, list[str]] = {}
    for kind, status in rows:
        out.setdefault(kind, []).append(status)
    return out


def probes_done(db: Path, kinds: list[str]) -> bool:
    runs = runs_by_kind(db)
    return all(runs.get(kind) and "running" not in runs[kind] for kind in kinds)


class CallLoad:
    """Two clients each logging a call about every 0.4 s until stopped; every answer kept."""

    def __init__(self, server: EmbeddedServer, token: str) -> None:
        self.server, self.token = server, token
        self.answers: dict[str, tuple[int, Any] | None] = {}  # external_id -> answer (None: none)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(2)]

    def _client(self, n: int) -> None:
        for i in itertools.count():
            if self.stop.is_set():
                return
            external_id = f"fault-{n}-{i}"
            body = {
                "call_type": "NOISE",
                "latitude": 29.42 + i / 10_000,
                "longitude": -98.49,
                "external_id": external_id,
            }
            try:
                self.answers[external_id] = self.server.api(self.token, "/api/v1/calls/", body)
            except OSError:
                self.answers[external_id] = None  # killed mid-request: committed or not
            self.stop.wait(0.4)

    def created(self) -> dict[str, dict[str, Any]]:
        return {k: a[1] for k, a in list(self.answers.items()) if a is not None and a[0] == 201}


@pytest.mark.faults
@pytest.mark.slow
def test_sigkill_under_load_loses_nothing_and_repeats_no_scheduled_run(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    db = var_dir / "beacon.sqlite3"
    env = embedded_env(var_dir)
    setup = f"ANALYSIS = {ANALYSIS!r}\nPROBES = {PROBES!r}\n{SETUP}"
    token = manage(env, "shell", "-c", setup).strip().splitlines()[-1]
    server = EmbeddedServer(env, tmp_path)
    server.start()
    try:
        wait_for(
            lambda: probes_done(db, ["hotspots", "repeat_locations"]),
            timeout=60,
            what="the two probe jobs due at start to run",
        )

        load = CallLoad(server, token)
        for thread in load.threads:
            thread.start()
        wait_for(lambda: len(load.created()) >= 10, timeout=60, what="10 calls logged")
        server.kill()
        load.stop.set()
        for thread in load.threads:
            thread.join(timeout=20)
        created = load.created()
        others = [
            k for k, answer in load.answers.items() if answer is not None and k not in created
        ]
        assert not others, {k: load.answers[k] for k in others}  # 201, or no answer at all

        # The files as the kill left them.
        assert sqlite_rows(db, "PRAGMA integrity_check") == [("ok",)]
        stored = dict(
            sqlite_rows(
                db,
                "SELECT external_id, count(*) FROM dispatch_call "
                "WHERE external_id LIKE 'fault-%' GROUP BY external_id",
            )
        )
        assert set(created) <= set(stored), "a call answered 201 is missing"
        assert set(stored.values()) == {1}, "an attempt was stored twice"
        assert set(stored) <= set(load.answers)
        numbers = dict(sqlite_rows(db, "SELECT number, count(*) FROM dispatch_call GROUP BY 1"))
        assert all(numbers[body["number"]] == 1 for body in created.values())

        # An operator enables a job while the server is down (what the admin's toggle writes).
        db_write = sqlite3.connect(db)
        with db_write:
            db_write.execute(
                "UPDATE django_celery_beat_periodictask SET enabled = 1 WHERE name = ?",
                (PROBES[2][0],),
            )
        db_write.close()

        server.start()
        for external_id, body in created.items():
            status, again = server.api(token, f"/api/v1/calls/{body['id']}/")
            assert status == 200 and again["number"] == body["number"], external_id
        status, body = server.api(
            token, "/api/v1/calls/", {"call_type": "NOISE", "latitude": 29.5, "longitude": -98.5}
        )
        assert status == 201, body
        wait_for(
            lambda: probes_done(db, ["time_windows"]),
            timeout=60,
            what="the job enabled while the server was down to run after the restart",
        )
        # Beat runs every due entry back to back at start: a repeated probe would be here by now.
        # Watch one more beat interval (DatabaseScheduler wakes at least every 5 s) to be sure.
        threading.Event().wait(6)
        runs = runs_by_kind(db)
        assert {kind: runs.get(kind) for _, kind, _ in PROBES} == {
            "hotspots": ["succeeded"],
            "repeat_locations": ["succeeded"],
            "time_windows": ["succeeded"],
        }, server.log()[-3000:]
    finally:
        server.stop()

    assert manage(env, "verify_audit").startswith("OK:")
    assert sqlite_rows(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_a_run_is_recorded_before_it_starts_so_a_kill_cannot_forget_it() -> None:
    """The mechanism the restart test relies on, in-process: reserving an entry (which beat does
    just before sending or, in embedded mode, running it) writes it to the database at once.
    Upstream's scheduler keeps it in memory until a later batch sync."""
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    started = timezone.now() - dt.timedelta(minutes=1)
    for name in ("upstream", "durable"):
        PeriodicTask.objects.create(
            name=name, task=ANALYSIS, interval=hourly, kwargs="{}", start_time=started
        )

    def reserve(scheduler_cls: type[DatabaseScheduler], name: str) -> PeriodicTask:
        scheduler = scheduler_cls(app=app, lazy=True)
        scheduler.reserve(scheduler.schedule[name])
        # Nothing left for its exit hook to write after the test database is gone.
        scheduler._dirty.clear()
        scheduler._finalize.cancel()
        return PeriodicTask.objects.get(name=name)

    upstream = reserve(DatabaseScheduler, "upstream")
    assert (upstream.last_run_at, upstream.total_run_count) == (None, 0)
    durable = reserve(DurableDatabaseScheduler, "durable")
    assert durable.total_run_count == 1
    assert durable.last_run_at is not None and durable.last_run_at >= started
