"""Websocket transport for dispatch consoles: authenticate, authorise groups, forward events.

Events carry ids and status only; a console that needs detail fetches it over
the API, which applies access rules. Each event is re-checked against the
user's visible agencies before it is forwarded.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from dispatch.realtime import (
    FIELD_FEED,
    agency_copy_group,
    agency_group,
    board_group,
    event_category,
    receives_agency_copy,
    unit_group,
    user_group,
)
from governance.access import can, forget_cached_access, visible_agency_ids
from governance.access_rules import ACCESS_GROUP
from governance.choices import Action, Category
from governance.session_security import session_is_live

MAX_INBOUND_BYTES = 4_096
# The frame that carries several events (static/js/beacon.js unpacks it).
BATCH_FRAME = "batch"


class DispatchConsumer(AsyncWebsocketConsumer):
    """Live feed of call and unit changes for consoles and field devices, of finished
    analysis runs for the patterns dashboard, and of assignments for the assignee's devices
    (unit and user groups) and the supervisors' execution board (agency group)."""

    groups_joined: list[str]
    # Per data category (call, finding): the agencies whose events this user may receive;
    # None means every agency. A category missing here receives nothing.
    visible: dict[str, set[int] | None]
    # Categories whose agency-group copies this connection may receive (see receives_agency_copy);
    # field staff receive assignments only through their own unit and user groups.
    agency_copies: set[str]
    # A field page's feed: its units' and user's groups only (FIELD_FEED). Asked for by the page,
    # not granted: it only ever narrows what the rules allow.
    field_feed: bool

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(4401)
            return
        visible, unit_ids, agency_copies = await self._authorise(user)
        if not visible:
            await self._refuse(4403)
            return
        self.visible = visible
        self.agency_copies = agency_copies
        query = self.scope.get("query_string", b"").decode("latin-1")
        self.field_feed = FIELD_FEED in query.split("&")
        self.groups_joined = await self._groups_for(user, visible, unit_ids, agency_copies)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "groups": len(self.groups_joined)}))

    async def _groups_for(
        self,
        user: Any,
        visible: dict[str, set[int] | None],
        unit_ids: list[int],
        agency_copies: set[str],
    ) -> list[str]:
        """The groups this connection listens on, given what the user may receive."""
        if getattr(self, "field_feed", False):
            groups = [unit_group(u) for u in unit_ids]
            if Category.ASSIGNMENT in visible:
                groups.append(user_group(user.pk))
            return [*groups, ACCESS_GROUP]
        every = any(agencies is None for agencies in visible.values())
        union = set().union(*(a for a in visible.values() if a is not None))
        groups = [agency_group(a) for a in sorted(union)]
        if every:
            from governance.models import Agency

            ids = await database_sync_to_async(
                lambda: list(Agency.objects.values_list("id", flat=True))
            )()
            groups = [agency_group(a) for a in ids]
        if Category.ASSIGNMENT in agency_copies and Category.ASSIGNMENT in visible:
            boards = visible[Category.ASSIGNMENT]
            if boards is None:
                boards = {int(g.rsplit(".", 1)[1]) for g in groups}
            groups += [board_group(a) for a in sorted(boards)]
        groups += [unit_group(u) for u in unit_ids]
        if Category.ASSIGNMENT in visible:
            groups.append(user_group(user.pk))
        # Everyone hears that the access rules changed (the event carries no data).
        groups.append(ACCESS_GROUP)
        return groups

    async def _reauthorise(self) -> None:
        """The access rules changed: re-decide what this connection may receive, now.

        Refused altogether, it closes with 4403; otherwise it moves to the groups the new rules
        allow and tells the page, which re-reads what it shows through the API.
        """
        user = self.scope.get("user")
        await database_sync_to_async(forget_cached_access)(user)
        visible, unit_ids, agency_copies = await self._authorise(user)
        if not visible:
            await self.close(code=4403)
            return
        groups = await self._groups_for(user, visible, unit_ids, agency_copies)
        for group in set(self.groups_joined) - set(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined, self.visible, self.agency_copies = groups, visible, agency_copies
        await self.send(text_data=json.dumps({"type": "access.changed"}))

    async def _refuse(self, code: int) -> None:
        """Accept, then close with ``code``.

        Closing before accepting rejects the HTTP handshake, and a browser then
        sees only 1006 and cannot tell "sign in again" (4401) or "not allowed"
        (4403) from a network failure worth retrying.
        """
        self.groups_joined, self.visible, self.agency_copies = [], {}, set()
        await self.accept()
        await self.close(code=code)

    @database_sync_to_async
    def _authorise(self, user: Any) -> tuple[dict[str, set[int] | None], list[int], set[str]]:
        """The categories (calls, findings, assignments) whose events the user may receive, their
        units, and the categories whose agency-wide copies they may receive.

        Someone who may view findings but not calls (an analyst-only role) connects for the
        finished-run events alone; someone who may view none of them is refused.
        """
        visible: dict[str, set[int] | None] = {}
        for category in (Category.CALL, Category.FINDING, Category.ASSIGNMENT):
            if can(user, Action.VIEW, category):
                visible[category] = visible_agency_ids(user, category)
        own_units = Category.CALL in visible or Category.ASSIGNMENT in visible
        unit_ids = list(user.units.values_list("id", flat=True)) if own_units else []
        agency_copies = {c for c in visible if receives_agency_copy(user, c)}
        return visible, unit_ids, agency_copies

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Measured in bytes on the wire: a character count lets multi-byte text through.
        size = len((text_data or "").encode("utf-8")) + len(bytes_data or b"")
        if size > MAX_INBOUND_BYTES:
            await self._error("message", f"message larger than {MAX_INBOUND_BYTES} bytes")
            return
        if text_data is None:
            await self._error("message", "binary frames are not accepted; send JSON text")
            return
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            # RecursionError: a few kilobytes of "[[[[" exceed the decoder's nesting limit; it
            # used to escape and end the connection with 1011 instead of an answer.
            await self._error("message", "not JSON")
            return
        if not isinstance(message, dict) or message.get("type") != "ping":
            await self._error("type", "only 'ping' is accepted")
            return
        if not await self._session_live():
            # Signed out elsewhere, or idle past the timeout: the page must sign in again.
            await self.close(code=4401)
            return
        await self.send(text_data=json.dumps({"type": "pong"}))

    async def _error(self, field: str, reason: str) -> None:
        """Answer a frame the consumer cannot use; the socket stays open."""
        await self.send(text_data=json.dumps({"type": "error", "field": field, "reason": reason}))

    async def _session_live(self) -> bool:
        session = self.scope.get("session")
        if session is None:
            return True  # a test scope without sessions; browsers always come with one
        return await database_sync_to_async(session_is_live)(session.session_key)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand a message to its handler; group events skip Channels' connection clean-up.

        Channels runs ``close_old_connections`` in a worker thread before every message. A
        console hears every call change of its agency, so under load that thread hop per event
        per socket was about 8 % of a server process's time (the soak's profile). Forwarding an
        event reads no database, and what does (re-deciding access) goes through
        ``database_sync_to_async``, which closes stale connections around itself.
        """
        if message.get("type") == "beacon.event":
            await self.beacon_event(message)
        else:
            await super().dispatch(message)

    async def beacon_event(self, message: dict[str, Any]) -> None:
        if message.get("group") == ACCESS_GROUP:
            if message.get("event", {}).get("type") == "access.changed":
                await self._reauthorise()
            return
        # A busy group's events may come several to a message (beacon_core.realtime.GroupBatcher).
        # Each is checked on its own; those this connection may receive go out in order, in one
        # frame when there are several (``{"type": "batch", "events": [...]}``): at the soak's
        # peak one frame per event per console was a large share of the server's websocket work.
        events = message.get("events")
        group = message.get("group", "")
        batch = events if isinstance(events, list) else [message.get("event", {})]
        allowed = [e for e in batch if isinstance(e, dict) and self._may_forward(group, e)]
        if len(allowed) == 1:
            await self.send(text_data=json.dumps(allowed[0]))
        elif allowed:
            await self.send(text_data=json.dumps({"type": BATCH_FRAME, "events": allowed}))

    def _may_forward(self, group: str, event: dict[str, Any]) -> bool:
        """Whether this connection may receive the event from ``group``, and only once."""
        agency_id = event.get("agency_id")
        category = event_category(event)
        if category not in self.visible:
            return False
        allowed = self.visible[category]
        if allowed is not None and agency_id not in allowed:
            return False
        own_agency_copy = (
            isinstance(agency_id, int)
            and agency_copy_group(category, agency_id) in self.groups_joined
            and category in self.agency_copies
        )
        if group.startswith(("dispatch.agency.", "board.agency.")):
            # e.g. a field device: other units' assignments are not its business
            return category in self.agency_copies
        # Unit/user events go to the agency group and the unit or user group; a device in both
        # gets the agency copy, so this one would be a duplicate.
        return not own_agency_copy
