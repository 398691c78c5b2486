"""Publishing realtime events after the transaction commits.

Services call :func:`publish_on_commit`; nothing is sent if the transaction
rolls back, and a broken channel layer (Redis down) never fails the write that
triggered it: every pushed item is also a row the client can list again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def publish_now(group: str, event: Mapping[str, Any]) -> bool:
    """Send ``event`` to a channels group immediately; return False if the layer failed."""
    # The group travels with the message so a consumer in several groups that
    # all receive one event (agency + unit) can forward it once.
    return _group_send(group, {"type": "beacon.event", "group": group, "event": dict(event)})


def _group_send(group: str, message: dict[str, Any]) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # the write already committed; clients resync from the database
        logger.warning("realtime publish to %s failed", group, exc_info=True)
        return False
    return True


def publish_on_commit(groups: list[str] | tuple[str, ...], event: Mapping[str, Any]) -> None:
    """Publish ``event`` to each group once the surrounding transaction commits."""
    payload = dict(event)

    def _send() -> None:
        for group in groups:
            publish_now(group, payload)

    transaction.on_commit(_send)


def publish_batch_now(group: str, events: list[Mapping[str, Any]]) -> bool:
    """Send several events to a group in one channel-layer message (see ``GroupBatcher``)."""
    if len(events) == 1:
        return publish_now(group, events[0])
    message = {"type": "beacon.event", "group": group, "events": [dict(e) for e in events]}
    return _group_send(group, message)


class _BackgroundFlusher:
    """A per-process thread that publishes what its owner buffered (see the subclasses)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._owner_pid = 0

    def flush(self) -> int:
        raise NotImplementedError

    def _pause(self) -> None:
        """Wait before a flush, so what arrives meanwhile rides the same batch."""
        raise NotImplementedError

    def _kick(self) -> None:
        """Called with an item just buffered: make sure the thread runs and will flush it."""
        with self._lock:
            self._ensure_thread()
        self._wake.set()

    def _ensure_thread(self) -> None:
        # A forked child (prefork workers, uvicorn workers) inherits the object but not the
        # thread, so the owner is checked by pid.
        if self._thread is not None and self._owner_pid == os.getpid() and self._thread.is_alive():
            return
        self._owner_pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name=f"flush-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self._pause()
            try:
                self.flush()
            except Exception:  # never let the flusher die: the next batch must still go
                logger.exception("batched publish of %s failed", self.name)


class Coalescer(_BackgroundFlusher):
    """Collects frequent, superseding items and publishes each group's batch once per interval.

    For events that only ever say "this is where X is now" (AVL moves): 200 devices posting every
    5 s made 40 agency-wide events a second, each delivered to every console; the soak measured
    that fan-out as the server's largest CPU share (docs/benchmarks.md). Batched, a console gets
    one frame a second listing every unit that moved, and a later item for the same key replaces
    an earlier one not yet sent.

    Per process: a background thread flushes. An item still buffered when the process dies is
    lost; that is acceptable only for items the database also holds and clients re-read (every
    page re-reads its snapshot on reconnect and each minute). Items are added after the writer's
    commit (``add_on_commit``), so a rolled-back write sends nothing.
    """

    def __init__(
        self,
        event_type: str,
        *,
        interval_s: float,
        envelope: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(event_type)
        self.event_type = event_type
        self.interval_s = interval_s
        # Fields every batch for a group carries besides ``items`` (e.g. the agency id the
        # consumer checks access against), derived from the group name.
        self.envelope = envelope or (lambda group: {})
        self._pending: dict[str, dict[Any, Mapping[str, Any]]] = {}

    def add_on_commit(self, group: str, key: Any, item: Mapping[str, Any]) -> None:
        """Queue ``item`` for ``group`` (replacing the one for ``key``) once the transaction commits."""
        payload = dict(item)
        transaction.on_commit(lambda: self.add(group, key, payload))

    def add(self, group: str, key: Any, item: Mapping[str, Any]) -> None:
        with self._lock:
            self._pending.setdefault(group, {})[key] = item
        self._kick()

    def flush(self) -> int:
        """Publish everything buffered now; returns how many batches went out."""
        with self._lock:
            batches, self._pending = self._pending, {}
        for group, items in batches.items():
            event = {**self.envelope(group), "type": self.event_type, "items": list(items.values())}
            publish_now(group, event)
        return len(batches)

    def _pause(self) -> None:
        time.sleep(self.interval_s)


class GroupBatcher(_BackgroundFlusher):
    """Publishes events to busy groups in order, several to a channel-layer message.

    For groups with a large audience that hear many events (an agency's consoles hear every call
    change): each event used to be one message per console, and receiving them was the largest
    share of the server's websocket work in the soak. The first event after a quiet spell goes
    at once; events that follow within ``interval_s()`` of the last send wait for the rest of
    it and go together, in the order they were added. Nothing is merged or dropped: the consumer
    checks and forwards each event of a batch as before. ``interval_s()`` of 0 publishes each
    event from the caller's thread, unbatched.

    Same caveat as ``Coalescer``: events still buffered when the process dies are lost, which is
    acceptable only because every page re-reads its snapshot on reconnect and each minute.
    """

    def __init__(self, name: str, *, interval_s: Callable[[], float]) -> None:
        super().__init__(name)
        self.interval_s = interval_s
        self._pending: dict[str, list[Mapping[str, Any]]] = {}
        self._last_flush = 0.0

    def add(self, group: str, event: Mapping[str, Any]) -> None:
        if self.interval_s() <= 0:
            publish_now(group, event)
            return
        with self._lock:
            self._pending.setdefault(group, []).append(event)
        self._kick()

    def flush(self) -> int:
        """Publish everything buffered now; returns how many messages went out."""
        with self._lock:
            batches, self._pending = self._pending, {}
        for group, events in batches.items():
            publish_batch_now(group, events)
        return len(batches)

    def _pause(self) -> None:
        wait = self._last_flush + self.interval_s() - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_flush = time.monotonic()
