"""The central beat schedule: expiries shorter than periods, idempotent sync, admin access."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.celery import BEAT_SCHEDULE, app
from intelligence import runners
from intelligence.management.commands.sync_beat_schedule import beat_schedule_sync

CHANGELIST = "/admin/django_celery_beat/periodictask/"

# A worker registers every app's tasks when it starts (autodiscovery); a test process only knows
# the tasks of modules something imported already, which depends on the tests run before.
app.loader.import_default_modules()


def _shortest_gap(schedule: crontab) -> dt.timedelta:
    """The shortest time between two consecutive firings over two weeks, minute by minute."""
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday; wall-clock minutes
    fires = []
    for minute in range(14 * 24 * 60):
        t = start + dt.timedelta(minutes=minute)
        if (
            t.minute in schedule.minute
            and t.hour in schedule.hour
            and t.isoweekday() % 7 in schedule.day_of_week
            and t.day in schedule.day_of_month
            and t.month in schedule.month_of_year
        ):
            fires.append(t)
    assert len(fires) >= 2
    return min(b - a for a, b in itertools.pairwise(fires))


def _snapshot() -> list[tuple[object, ...]]:
    return sorted(
        PeriodicTask.objects.filter(name__in=BEAT_SCHEDULE).values_list(
            "pk", "name", "task", "enabled", "crontab_id", "kwargs", "queue", "expire_seconds"
        )
    )


@pytest.mark.parametrize("name", list(BEAT_SCHEDULE))
def test_every_entry_expires_before_its_next_run(name: str) -> None:
    entry = BEAT_SCHEDULE[name]
    assert isinstance(entry["schedule"], crontab)
    assert entry["task"] in app.tasks
    expires = entry["options"]["expires"]
    assert 0 < expires < _shortest_gap(entry["schedule"]).total_seconds()


def test_nightly_set_covers_every_implemented_kind() -> None:
    nightly = [e for e in BEAT_SCHEDULE.values() if e["task"] == "intelligence.run_all_analyses"]
    assert any(e["kwargs"].get("kinds") is None for e in nightly)  # None: every implemented kind
    for entry in nightly:
        assert set(entry["kwargs"].get("kinds") or runners.RUNNERS) <= set(runners.RUNNERS)


@pytest.mark.django_db
def test_migrate_installed_the_schedule_in_the_agency_time_zone() -> None:
    beat_schedule_sync()  # a transactional test before this one may have flushed the tables
    tasks = PeriodicTask.objects.filter(name__in=BEAT_SCHEDULE).select_related("crontab")
    assert {t.name for t in tasks} == set(BEAT_SCHEDULE)
    for t in tasks:
        entry = BEAT_SCHEDULE[t.name]
        assert t.enabled and t.task == entry["task"]
        assert json.loads(t.kwargs) == entry["kwargs"]
        assert t.expire_seconds == entry["options"]["expires"]
        assert str(t.crontab.timezone) == settings.BEACON_TIME_ZONE
        assert (t.crontab.minute, t.crontab.hour) == (
            entry["schedule"]._orig_minute,
            entry["schedule"]._orig_hour,
        )


@pytest.mark.django_db
def test_sync_is_idempotent() -> None:
    PeriodicTask.objects.all().delete()
    CrontabSchedule.objects.all().delete()
    first = beat_schedule_sync()
    assert sorted(first["created"]) == sorted(BEAT_SCHEDULE)
    rows, crontabs = _snapshot(), CrontabSchedule.objects.count()
    second = beat_schedule_sync()
    assert second["created"] == [] and sorted(second["kept"]) == sorted(BEAT_SCHEDULE)
    assert _snapshot() == rows and CrontabSchedule.objects.count() == crontabs


@pytest.mark.django_db
def test_sync_leaves_admin_edits_alone_until_reset() -> None:
    beat_schedule_sync()
    name = next(iter(BEAT_SCHEDULE))
    edited = PeriodicTask.objects.get(name=name)
    moved = CrontabSchedule.objects.create(minute="15", hour="4", timezone="UTC")
    edited.enabled = False
    edited.crontab = moved
    edited.save()
    PeriodicTask.objects.create(
        name="admin's own job", task="intelligence.run_all_analyses", crontab=moved
    )

    out = io.StringIO()
    call_command("sync_beat_schedule", stdout=out)
    edited.refresh_from_db()
    assert (edited.enabled, edited.crontab_id) == (False, moved.pk)
    assert "not in BEAT_SCHEDULE (left alone): admin's own job" in out.getvalue()
    assert PeriodicTask.objects.filter(name="admin's own job").exists()

    call_command("sync_beat_schedule", "--reset", name, stdout=io.StringIO())
    edited.refresh_from_db()
    assert edited.enabled and edited.crontab.hour == BEAT_SCHEDULE[name]["schedule"]._orig_hour


@pytest.mark.django_db
def test_admin_sees_and_edits_the_schedule_dispatcher_does_not(client, cast) -> None:
    beat_schedule_sync()
    entry = PeriodicTask.objects.get(name=next(iter(BEAT_SCHEDULE)))

    client.force_login(cast["dispatcher"])
    assert client.get(CHANGELIST).status_code == 302  # to the admin's own sign-in

    client.force_login(cast["admin"])
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert entry.name in listing.content.decode()
    assert client.get(f"{CHANGELIST}{entry.pk}/change/").status_code == 200
    assert client.get("/admin/django_celery_beat/crontabschedule/").status_code == 200
    assert client.get("/admin/django_celery_beat/intervalschedule/").status_code == 200

    response = client.post(
        CHANGELIST,
        {"action": "disable_tasks", "_selected_action": [entry.pk]},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.enabled is False
