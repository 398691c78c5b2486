"""The Celery app and the one central beat schedule.

Every periodic job is declared in :data:`BEAT_SCHEDULE`. ``manage.py sync_beat_schedule``
(run automatically after every ``migrate``) copies it into django-celery-beat's tables, where
admins can edit it in the browser (/admin/django_celery_beat/periodictask/). Beat reads only
those tables (DatabaseScheduler), in embedded and production mode alike.

``BEAT_SCHEDULE`` is deliberately *not* assigned to ``app.conf.beat_schedule``: the
DatabaseScheduler would then ``update_or_create`` every entry at each beat start and silently
undo admins' edits. The sync creates missing entries and leaves existing ones alone.

Crontab times are in the agency time zone (``settings.BEACON_TIME_ZONE``). Each entry's
``expires`` is shorter than its period, so a backlog after an outage never runs the same job
twice in a row.
"""

from __future__ import annotations

import os

# One BLAS thread per worker process, before any task module imports numpy: OpenBLAS threads
# busy-wait on a loaded 2-core box and made the analyses' matrix products ~15x slower (see the
# same lines in manage.py). setdefault: an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("beacon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HOUR = 3600

# name -> Celery beat entry (task, schedule, kwargs, options).
BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # 30 2 * * *  (02:30 local, daily): every implemented analysis, for every active agency.
    # Expires after 5 h, i.e. before the 08:30 refresh, and long before the next night.
    "analysis: nightly, every kind": {
        "task": "intelligence.run_all_analyses",
        "schedule": crontab(minute="30", hour="2"),
        "kwargs": {},
        "options": {"expires": 5 * HOUR, "queue": "default"},
    },
    # 30 8,14,20 * * *  (08:30, 14:30, 20:30 local): with the 02:30 nightly run, hotspots and
    # repeat locations refresh every 6 hours. Expires after 2 h (period 6 h).
    "analysis: hotspots and repeat locations, every 6 hours": {
        "task": "intelligence.run_all_analyses",
        "schedule": crontab(minute="30", hour="8,14,20"),
        "kwargs": {"kinds": ["hotspots", "repeat_locations"]},
        "options": {"expires": 2 * HOUR, "queue": "default"},
    },
    # 0 4 * * *  (04:00 local, daily, after the nightly analyses): did the calls fall at the
    # places accepted 28+ days ago? Expires after 20 h (period 24 h).
    "outcomes: accepted findings due for evaluation, daily": {
        "task": "intelligence.evaluate_due_outcomes",
        "schedule": crontab(minute="0", hour="4"),
        "kwargs": {},
        "options": {"expires": 20 * HOUR, "queue": "analysis"},
    },
    # * * * * *  (every minute): partner CAP feeds whose own interval_minutes has passed are
    # polled (conditional GET). Expires after 50 s, before the next sweep.
    "dispatch: poll partner alert feeds that are due, every minute": {
        "task": "dispatch.poll_alert_feeds",
        "schedule": crontab(minute="*"),
        "kwargs": {},
        "options": {"expires": 50, "queue": "default"},
    },
    # */15 * * * *  (every 15 minutes): assignments whose last window ended get their dosage
    # recorded, and are marked missed if no window met it. Expires after 10 min (period 15).
    "tasking: close assignments whose windows ended, every 15 minutes": {
        "task": "tasking.close_ended_assignments",
        "schedule": crontab(minute="*/15"),
        "kwargs": {},
        "options": {"expires": 10 * 60, "queue": "default"},
    },
    # 30 4 * * *  (04:30 local, daily, after the findings' own evaluations): finished
    # assignments whose period is over get an outcome over that period. Expires after 20 h.
    "tasking: outcomes of finished assignments, daily": {
        "task": "tasking.evaluate_assignment_outcomes",
        "schedule": crontab(minute="30", hour="4"),
        "kwargs": {},
        "options": {"expires": 20 * HOUR, "queue": "analysis"},
    },
    # 15 3 * * *  (03:15 local, daily, a quiet hour between the nightly analyses and the
    # outcome evaluations): delete or anonymise what the retention policies say has expired,
    # sparing legal holds. Expires after 20 h (period 24 h); a missed night catches up.
    "governance: retention purge, daily": {
        "task": "governance.purge_expired",
        "schedule": crontab(minute="15", hour="3"),
        "kwargs": {},
        "options": {"expires": 20 * HOUR, "queue": "default"},
    },
    # * * * * *  (every minute): webhook deliveries whose retry time has come, and any the
    # broker lost (queued on commit while it was down). Expires after 50 s (period 60 s).
    "governance: webhook delivery retries, every minute": {
        "task": "governance.sweep_webhook_deliveries",
        "schedule": crontab(minute="*"),
        "kwargs": {},
        "options": {"expires": 50, "queue": "default"},
    },
}
