"""Scheduled governance jobs: the daily retention purge."""

from __future__ import annotations

from beacon_core.tasks import beacon_task
from governance import retention


@beacon_task(name="governance.purge_expired", queue="default")
def purge_expired() -> dict[str, int]:
    """Delete or anonymise what the retention policies say has expired; returns counts.

    A sweep (no ids): each run re-reads what is due, so a missed run catches up and an
    interrupted one is finished by the next. Counts go to the audit trail per category.
    """
    results = retention.run_purge(trigger="schedule")
    return {r.category: r.processed for r in results}
