"""Polling partner CAP feeds: a beat sweep picks the feeds that are due, each polled alone."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from beacon_core.errors import DomainError
from beacon_core.tasks import beacon_task
from dispatch.alerts import feeds, services
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
    """Fetch one feed (conditional GET) and receive what it serves; returns the status noted."""
    now = now or timezone.now()
    feed = AlertFeed.objects.filter(pk=feed_id, active=True).first()
    if feed is None:
        return "gone"
    try:
        got = feeds.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    except feeds.FeedError as exc:
        status = f"error: {exc}"
        services.feed_record_poll(
            feed_id=feed.pk, status=status, etag=None, last_modified=None, now=now
        )
        return status
    if got.status == 304:
        services.feed_record_poll(
            feed_id=feed.pk, status="304 not modified", etag=None, last_modified=None, now=now
        )
        return "304 not modified"
    try:
        receipt = services.alert_receive(
            agency_id=feed.agency_id, data=got.body, via=f"feed:{feed.pk}", now=now
        )
        status = f"200 {'new' if receipt.created else 'known'} alert #{receipt.alert.pk}"
    except DomainError as exc:
        # Keep the old validators: the same refused document is re-checked next time.
        status = f"refused: {exc}"
        services.feed_record_poll(
            feed_id=feed.pk, status=status, etag=None, last_modified=None, now=now
        )
        return status
    services.feed_record_poll(
        feed_id=feed.pk,
        status=status,
        etag=got.etag or "",
        last_modified=got.last_modified or "",
        now=now,
    )
    return status


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
