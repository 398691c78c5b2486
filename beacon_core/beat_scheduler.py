"""The beat scheduler: django-celery-beat's, with each run's reservation written before the run.

django-celery-beat keeps an entry's ``last_run_at`` in memory when it sends the task and writes
it to the database later, in a batch every ``beat_sync_every`` tasks or three minutes. A beat
process killed in between (SIGKILL, OOM, power loss: no exit hook runs) forgets those runs, and
on restart the jobs look due again and run a second time for the same period. In embedded mode
the task runs eagerly in the beat thread, so the repeat is a real second run (a second analysis
run of the same kind, a second sweep), not only a second message.

Here the reservation is committed on its own before the task is sent or run: a restart after it
never repeats that period. A run cut short by the kill is not repeated either; the job's next
period runs it again (each job recomputes from the data, docs/reliability.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, InterfaceError
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)


class DurableDatabaseScheduler(DatabaseScheduler):
    """``DatabaseScheduler`` whose reservations survive a kill (one UPDATE per scheduled run)."""

    def reserve(self, entry: Any) -> Any:
        new_entry = super().reserve(entry)
        try:
            # ``no_changes`` is set by the entry, so this save does not mark the schedule as
            # edited (which would make beat reload every entry on its next tick).
            new_entry.save()
        except (DatabaseError, InterfaceError):
            # Left in the dirty set: the regular batch sync retries it, as upstream would.
            logger.exception("beat: could not record the run of %s before sending it", entry.name)
        else:
            self._dirty.discard(new_entry.name)
        return new_entry
