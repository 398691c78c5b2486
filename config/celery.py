"""The Celery app and the one central beat schedule.

Every periodic job is declared in :data:`BEAT_SCHEDULE`; ``sync_beat_schedule``
copies it into django-celery-beat's tables so admins can edit intervals in the
browser. Each entry's ``expires`` is shorter than its period, so a backlog after
an outage never runs the same job twice in a row.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("beacon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# name -> (task, seconds between runs, queue)
BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
