"""Dispatch's scheduled jobs (Celery autodiscovery reads this module)."""

from dispatch.alerts.tasks import poll_alert_feeds

__all__ = ["poll_alert_feeds"]
