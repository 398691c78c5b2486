"""Polling partner CAP feeds: a beat sweep picks the feeds that are due, each polled alone."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from beacon_core.tasks import beacon_task
from dispatch.alerts import polling
from dispatch.models import AlertFeed

logger = logging.getLogger(__name__)


def due_feed_ids(now: dt.datetime) -> list[int]:
    """Active feeds never polled, or polled at least ``interval_minutes`` ago."""
    due = []
    for feed in AlertFeed.objects.filter(active=True).only(
        "pk", "interval_minutes", "last_polled_at"
    ):
        if feed.last_polled_at is None or (
            feed.last_polled_at + dt.timedelta(minutes=feed.interval_minutes) <= now
        ):
            due.append(feed.pk)
    return due


def poll_feed(feed_id: int, *, now: dt.datetime | None = None) -> str:
    """Poll one feed (a CAP document or an Atom/RSS index); returns the status noted on it."""
    return polling.feed_poll(feed_id, now=now or timezone.now())


@beacon_task(name="dispatch.poll_alert_feeds", queue="default")
def poll_alert_feeds() -> int:
    """Poll every due feed; one failing feed is noted on it and does not stop the others."""
    now = timezone.now()
    polled = 0
    for feed_id in due_feed_ids(now):
        try:
            poll_feed(feed_id, now=now)
        except Exception:  # logged, noted next run; the other feeds go on
            logger.exception("polling alert feed %s failed", feed_id)
        polled += 1
    return polled
