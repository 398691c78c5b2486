"""Database upkeep the application does itself: SQLite's planner statistics.

PostgreSQL's autovacuum keeps its statistics current; SQLite gathers none until told to. Without
them its planner guesses, and guessed wrong for the analyses (a scan of the whole window per
hotspot instead of the cell index). ``planner_statistics_refresh`` runs ``ANALYZE`` on SQLite
(about a second per million calls) and does nothing on other databases; it is called after a
bulk import and before the nightly analyses.
"""

from __future__ import annotations

import logging
import time

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)


def planner_statistics_refresh(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Refresh SQLite's planner statistics (``ANALYZE``); True if it ran, False elsewhere."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    logger.info("sqlite ANALYZE took %.1f s", time.perf_counter() - started)
    return True
