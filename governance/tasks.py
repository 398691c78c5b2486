"""Scheduled governance jobs: the daily retention purge, webhook deliveries and their sweeper."""

from __future__ import annotations

from beacon_core.tasks import beacon_task
from governance import retention, webhooks


@beacon_task(name="governance.purge_expired", queue="default")
def purge_expired() -> dict[str, int]:
    """Delete or anonymise what the retention policies say has expired; returns counts.

    A sweep (no ids): each run re-reads what is due, so a missed run catches up and an
    interrupted one is finished by the next. Counts go to the audit trail per category.
    """
    results = retention.run_purge(trigger="schedule")
    return {r.category: r.processed for r in results}


# No Celery retries of its own: the delivery row carries the backoff (next_attempt_at) and the
# sweeper re-queues it, so a retry survives a worker restart and a broker outage.
@beacon_task(name="governance.deliver_webhook", queue="default", max_retries=0)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one webhook delivery (a no-op unless it is due); returns its status."""
    delivery = webhooks.delivery_attempt(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "skipped"


@beacon_task(name="governance.sweep_webhook_deliveries", queue="default")
def sweep_webhook_deliveries() -> int:
    """Queue every delivery whose next attempt is due; returns how many were queued."""
    ids = webhooks.due_delivery_ids()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
