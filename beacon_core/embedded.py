"""Embedded-mode job runner: Celery beat in a thread of the server process.

Only one process may run this (embedded mode serves from one ASGI process).
Tasks run eagerly in the beat thread because the broker is ``memory://``.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_embedded_beat() -> bool:
    """Start the beat thread once; return True when this call started it."""
    if not settings.EMBEDDED or not settings.BEACON_EMBEDDED_BEAT or _started.is_set():
        return False
    from celery.beat import EmbeddedService

    from config.celery import app

    # Beat only runs a task eagerly when it is registered in app.tasks; otherwise
    # it publishes to the memory broker where nothing consumes it.
    app.loader.import_default_modules()
    # EmbeddedService defaults to the shelve-file PersistentScheduler; the schedule lives in
    # django-celery-beat's tables (editable in /admin/), so name the configured scheduler.
    service = EmbeddedService(
        app,
        thread=True,
        schedule_filename=str(settings.VAR_DIR / "beat-schedule"),
        scheduler_cls=app.conf.beat_scheduler,
    )
    original_stop = service.stop

    def _stop(*args: object, **kwargs: object) -> None:
        original_stop(*args, **kwargs)
        connections.close_all()

    service.stop = _stop  # type: ignore[method-assign]
    service.start()
    _started.set()
    logger.info("embedded beat started")
    return True
