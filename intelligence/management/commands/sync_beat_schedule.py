"""Copy ``config.celery.BEAT_SCHEDULE`` into django-celery-beat's tables.

``python manage.py sync_beat_schedule [--reset NAME ...]``. Runs automatically after every
``migrate`` (post_migrate receiver in ``IntelligenceConfig.ready``), so every deployment has
the schedule.

Idempotent and respectful of admins: an entry is created only when no PeriodicTask of that
name exists. An existing entry is left exactly as it is (an admin may have disabled it, moved
it to another time, or changed its kwargs in /admin/); ``--reset NAME`` puts one back to the
code's definition. Entries an admin added, and entries dropped from ``BEAT_SCHEDULE`` in a
later release, are never deleted here; they are listed so a person can decide.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from config.celery import BEAT_SCHEDULE

BEAT_TABLE = "django_celery_beat_periodictask"


def _crontab(entry_schedule: Any, *, using: str) -> Any:
    from django_celery_beat.models import CrontabSchedule

    spec = {
        "minute": entry_schedule._orig_minute,
        "hour": entry_schedule._orig_hour,
        "day_of_week": entry_schedule._orig_day_of_week,
        "day_of_month": entry_schedule._orig_day_of_month,
        "month_of_year": entry_schedule._orig_month_of_year,
        "timezone": settings.BEACON_TIME_ZONE,
    }
    # CrontabSchedule has no unique constraint (admins may have made duplicates): reuse any.
    existing = CrontabSchedule.objects.using(using).filter(**spec).order_by("pk").first()
    return existing or CrontabSchedule.objects.using(using).create(**spec)


def _fields(name: str, entry: dict[str, Any], *, using: str) -> dict[str, Any]:
    options = dict(entry.get("options") or {})
    return {
        "task": entry["task"],
        "crontab": _crontab(entry["schedule"], using=using),
        "interval": None,
        "args": json.dumps(list(entry.get("args") or [])),
        "kwargs": json.dumps(dict(entry.get("kwargs") or {})),
        "queue": options.get("queue"),
        "expire_seconds": options.get("expires"),
        "enabled": True,
        "description": f"Declared in config/celery.py BEAT_SCHEDULE ({name!r}).",
    }


def beat_schedule_sync(
    *, using: str = DEFAULT_DB_ALIAS, reset: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Create missing schedule entries (and reset named ones); return names by outcome."""
    from django_celery_beat.models import PeriodicTask

    unknown = sorted(set(reset) - set(BEAT_SCHEDULE))
    if unknown:
        raise ValueError(f"not in BEAT_SCHEDULE: {', '.join(unknown)}")
    result: dict[str, list[str]] = {"created": [], "reset": [], "kept": [], "not_declared": []}
    with transaction.atomic(using=using):
        tasks = PeriodicTask.objects.using(using)
        for name, entry in BEAT_SCHEDULE.items():
            current = tasks.select_for_update().filter(name=name).first()
            if current is None:
                tasks.create(name=name, **_fields(name, entry, using=using))
                result["created"].append(name)
            elif name in reset:
                for field, value in _fields(name, entry, using=using).items():
                    setattr(current, field, value)
                current.save(using=using)
                result["reset"].append(name)
            else:
                result["kept"].append(name)
        result["not_declared"] = sorted(
            tasks.exclude(name__in=BEAT_SCHEDULE)
            .exclude(task__startswith="celery.")
            .values_list("name", flat=True)
        )
    return result


def beat_tables_exist(using: str = DEFAULT_DB_ALIAS) -> bool:
    """False while migrating backwards or before django_celery_beat's tables exist."""
    return BEAT_TABLE in connections[using].introspection.table_names()


class Command(BaseCommand):
    help = "Create missing entries of the central beat schedule; never overwrite admin edits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            nargs="+",
            default=[],
            metavar="NAME",
            help="Put these entries back to their definition in config/celery.py.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = beat_schedule_sync(using=options["database"], reset=tuple(options["reset"]))
        except ValueError as error:
            raise CommandError(str(error)) from None
        for outcome in ("created", "reset", "kept"):
            for name in result[outcome]:
                self.stdout.write(f"{outcome}: {name}")
        for name in result["not_declared"]:
            self.stdout.write(f"not in BEAT_SCHEDULE (left alone): {name}")
