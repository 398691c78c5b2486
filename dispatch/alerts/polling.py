"""Polling one partner feed: a CAP document, or an Atom / RSS 2.0 index of them.

The task (``tasks.poll_feed``) calls ``feed_poll``; every write goes through ``services``
(``alert_receive`` per alert, ``feed_record_poll`` for the feed's status). One bad entry of an
index is noted and the others go on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from beacon_core.errors import DomainError
from dispatch.alerts import feed_index, feeds, services
from dispatch.alerts.errors import CapError
from dispatch.models import AlertFeed

logger = logging.getLogger(__name__)

# Linked CAP documents fetched per poll at most; the rest wait for the next poll (the index's
# validators are not stored then, so the next poll reads the index again).
MAX_FETCHES_PER_POLL = 50
MAX_PROBLEMS_NOTED = 3


@dataclass
class _Tally:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)  # entry keys not to fetch again
    retry: bool = False  # something failed for now (network, over the cap): read it again

    def problem(self, entry: feed_index.Entry, what: str, reason: str) -> None:
        self.counts[what] += 1
        where = entry.link or entry.title or "entry"
        self.problems.append(f"{where[:120]}: {reason}")


def _note(
    feed: AlertFeed,
    status: str,
    now: dt.datetime,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    seen: list[str] | None = None,
) -> str:
    """Record the poll; validators given (even "") replace the stored ones, None keeps them."""
    services.feed_record_poll(
        feed_id=feed.pk,
        status=status,
        etag=etag,
        last_modified=last_modified,
        now=now,
        seen_entries=seen,
    )
    return status


def _receive(feed: AlertFeed, data: bytes, now: dt.datetime) -> services.Receipt:
    """Store one alert of the feed (idempotent). Raises ``DomainError`` if refused."""
    return services.alert_receive(
        agency_id=feed.agency_id, data=data, via=f"feed:{feed.pk}", now=now
    )


def _entry(feed: AlertFeed, entry: feed_index.Entry, tally: _Tally, now: dt.datetime) -> None:
    data = entry.embedded
    if data is None:
        if not entry.link:
            tally.problem(entry, "refused", "neither an embedded CAP alert nor a link")
            tally.handled.append(entry.key)
            return
        if tally.counts["fetched"] >= MAX_FETCHES_PER_POLL:
            tally.counts["deferred"] += 1
            tally.retry = True
            return
        tally.counts["fetched"] += 1
        try:
            data = feeds.fetch(entry.link, allow_private_network=feed.allow_private_network).body
        except feeds.FeedError as exc:
            tally.problem(entry, "failed", str(exc))
            if exc.retry:
                tally.retry = True
            else:
                tally.handled.append(entry.key)
            return
    try:
        tally.counts["new" if _receive(feed, data, now).created else "known"] += 1
    except DomainError as exc:
        tally.problem(entry, "refused", str(exc))
    tally.handled.append(entry.key)


def _poll_index(
    feed: AlertFeed, served: feed_index.Feed, got: feeds.Fetch, now: dt.datetime
) -> str:
    seen = set(feed.seen_entries or [])
    tally = _Tally()
    for entry in served.entries:
        if entry.key in seen:
            tally.counts["unchanged"] += 1
            tally.handled.append(entry.key)
            continue
        try:
            _entry(feed, entry, tally, now)
        except Exception:  # a bug on one entry is logged and noted; the others go on
            logger.exception("alert feed %s: entry %s failed", feed.pk, entry.link or entry.key)
            tally.problem(entry, "failed", "internal error (logged)")
            tally.retry = True
    c = tally.counts
    status = (
        f"200 {served.kind} index: {len(served.entries)} entries, {c['new']} new, "
        f"{c['known']} known, {c['unchanged']} unchanged, {c['refused']} refused, "
        f"{c['failed']} failed, {c['deferred']} left for the next poll"
    )
    if tally.problems:
        status += "; " + "; ".join(tally.problems[:MAX_PROBLEMS_NOTED])
    # Only entries still in the index are remembered: that keeps the memory as small as the index.
    handled = tally.handled[-AlertFeed.MAX_SEEN_ENTRIES :]
    if tally.retry:  # keep the old validators: the next poll must read this index again
        return _note(feed, status, now, seen=handled)
    return _note(
        feed, status, now, etag=got.etag or "", last_modified=got.last_modified or "", seen=handled
    )


def feed_poll(feed_id: int, *, now: dt.datetime) -> str:
    """Fetch one feed (conditional GET) and receive what it serves; returns the status noted."""
    feed = AlertFeed.objects.filter(pk=feed_id, active=True).first()
    if feed is None:
        return "gone"
    try:
        got = feeds.fetch(
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            allow_private_network=feed.allow_private_network,
        )
    except feeds.FeedError as exc:
        return _note(feed, f"error: {exc}", now)
    if got.status == 304:
        return _note(feed, "304 not modified", now)
    try:
        served = feed_index.read_feed(got.body, base_url=feed.url)
    except CapError as exc:
        # Keep the old validators: the same refused document is re-checked next time.
        return _note(feed, f"refused: {exc.field}: {exc}", now)
    if served.kind != "cap":
        return _poll_index(feed, served, got, now)
    try:
        receipt = _receive(feed, got.body, now)
    except DomainError as exc:
        return _note(feed, f"refused: {exc}", now)
    status = f"200 {'new' if receipt.created else 'known'} alert #{receipt.alert.pk}"
    return _note(feed, status, now, etag=got.etag or "", last_modified=got.last_modified or "")
