"""Publishing realtime events after the transaction commits.

Services call :func:`publish_on_commit`; nothing is sent if the transaction
rolls back, and a broken channel layer (Redis down) never fails the write that
triggered it: every pushed item is also a row the client can list again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def publish_now(group: str, event: Mapping[str, Any]) -> bool:
    """Send ``event`` to a channels group immediately; return False if the layer failed."""
    layer = get_channel_layer()
    if layer is None:
        return False
    # The group travels with the message so a consumer in several groups that
    # all receive one event (agency + unit) can forward it once.
    message = {"type": "beacon.event", "group": group, "event": dict(event)}
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
