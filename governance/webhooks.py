"""Outbound webhooks: registration, emission on commit, signed delivery with retries, SSRF guard.

Domain services call :func:`emit_on_commit` inside their transaction. It writes one
``WebhookDelivery`` per matching active webhook *in that transaction* (a rolled-back change
leaves no delivery) and queues the delivery task on commit. If the broker is down the row stays
``pending`` and the periodic sweeper (``governance.sweep_webhook_deliveries``) queues it later,
so nothing is lost. See docs/webhooks.md for the events, payloads and signature recipe.

governance imports no domain app: the domain apps build their payloads (ids and codes only)
and pass them in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from beacon_core.errors import DomainError, NotFoundError
from governance import audit
from governance.choices import AuditAction
from governance.models import Agency, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

# event type -> what it means (shown on the admin page). Payloads: docs/webhooks.md.
EVENT_TYPES: dict[str, str] = {
    "call.created": "A call for service was created",
    "call.closed": "A call was closed with a disposition",
    "finding.accepted": "A supervisor accepted an intelligence finding",
    "assignment.issued": "A directed assignment was issued to its assignee",
    "assignment.completed": "An assignment was finished (completed, partially completed or missed)",
    # Emitted by dispatch.alerts.services.alert_receive for each new partner alert.
    "alert.received": "A partner alert (CAP) was received",
}
TEST_EVENT = "webhook.test"

TIMEOUT_S = 5.0
# Attempt n (1-based) failing waits BACKOFF_BASE_MIN * 2**(n-1) minutes: 1, 2, 4, 8, 16.
BACKOFF_BASE_MIN = 1
MAX_ATTEMPTS = 6
# Failed attempts in a row (any delivery) after which the webhook is switched off.
DISABLE_AFTER_FAILURES = 15
# A claimed delivery is not re-claimed by the sweeper for this long (timeout + slack).
CLAIM_LEASE = dt.timedelta(minutes=2)
SWEEP_BATCH = 500
MAX_NAME = 100
MAX_URL = 500
MAX_ERROR = 500
USER_AGENT = "Beacon-Webhooks/1"

Status = WebhookDelivery.Status
DUE_STATUSES = (Status.PENDING, Status.FAILED)


# --- signing ---------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, URL-safe text prefixed so it is recognisable."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``"<timestamp>.<body>"``)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent: compact, key-sorted JSON, identical on every retry."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- the SSRF guard --------------------------------------------------------------------------


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and friends: judge the IPv4 address inside.
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None and _blocked(mapped):
            return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def check_url(url: Any, *, allow_private_network: bool) -> str:
    """Return the cleaned URL, or raise ``DomainError`` on field ``url``.

    http/https only, no credentials, and unless ``allow_private_network`` every address the host
    resolves to must be public (called at registration and again before every attempt, so a
    name that later resolves to an internal address is refused then: DNS rebinding).
    """
    text = str(url or "").strip()
    if not text:
        raise DomainError("Give the URL to send events to.", field="url")
    if len(text) > MAX_URL:
        raise DomainError(f"At most {MAX_URL} characters.", field="url")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DomainError(f"Not a valid URL: {exc}.", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise DomainError("Only http:// and https:// URLs are allowed.", field="url")
    if parts.username is not None or parts.password is not None:
        raise DomainError("Credentials in the URL are not allowed; use the secret.", field="url")
    host = parts.hostname
    if not host:
        raise DomainError("The URL has no host.", field="url")
    if allow_private_network:
        return text
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise DomainError(f"The host {host} does not resolve ({exc}).", field="url") from None
    if not addresses:
        raise DomainError(f"The host {host} does not resolve.", field="url")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if _blocked(ip):
            raise DomainError(
                f"The host {host} resolves to {address}, a private, loopback, link-local or "
                "reserved address. For an internal receiver, tick 'Allow a private, loopback "
                "or link-local address'.",
                field="url",
            )
    return text


# --- validation ------------------------------------------------------------------------------


def _clean_events(events: Any) -> list[str]:
    if isinstance(events, str):
        events = [events]
    chosen = [str(e) for e in (events or [])]
    unknown = sorted(set(chosen) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(
            f"Unknown event type(s) {', '.join(unknown)}; use {', '.join(EVENT_TYPES)}.",
            field="events",
        )
    if not chosen:
        raise DomainError("Choose at least one event.", field="events")
    return [e for e in EVENT_TYPES if e in chosen]


def _clean_name(name: Any) -> str:
    text = str(name or "").strip()
    if not text:
        raise DomainError("Give the webhook a name.", field="name")
    if len(text) > MAX_NAME:
        raise DomainError(f"At most {MAX_NAME} characters.", field="name")
    return text


def _get(webhook_id: Any, agency_id: int | None, *, lock: bool = False) -> Webhook:
    qs = Webhook.objects.filter(agency_id=agency_id)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(webhook_id))
    except (Webhook.DoesNotExist, TypeError, ValueError):
        raise NotFoundError from None


def webhooks_for(agency_id: int | None) -> list[Webhook]:
    """The agency's webhooks, for the admin page."""
    return list(Webhook.objects.filter(agency_id=agency_id).select_related("created_by"))


def webhook_get(*, webhook_id: Any, agency_id: int | None) -> Webhook:
    """One of the agency's webhooks; another agency's answers like a missing one."""
    return _get(webhook_id, agency_id)


def deliveries_for(webhook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    """The webhook's delivery log, newest first."""
    return list(webhook.deliveries.all()[:limit])


# --- services (admin) ------------------------------------------------------------------------


def webhook_create(
    *,
    actor: Any,
    agency: Agency,
    name: Any,
    url: Any,
    events: Any,
    allow_private_network: bool = False,
) -> Webhook:
    """Register a webhook with a new secret (the caller shows ``webhook.secret`` once)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, check in (
        ("name", lambda: _clean_name(name)),
        ("url", lambda: check_url(url, allow_private_network=allow_private_network)),
        ("events", lambda: _clean_events(events)),
    ):
        try:
            cleaned[field] = check()
        except DomainError as exc:
            errors.update(exc.errors)
    if errors:
        raise DomainError(errors)
    # The checks (a DNS lookup among them) ran before the transaction: a slow resolver must not
    # hold the database's write lock.
    with transaction.atomic():
        webhook = Webhook.objects.create(
            agency=agency,
            name=cleaned["name"],
            url=cleaned["url"],
            events=cleaned["events"],
            secret=new_secret(),
            allow_private_network=bool(allow_private_network),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=webhook,
            object_label=f"webhook {webhook.name}",
            details={
                "url": webhook.url,
                "events": webhook.events,
                "allow_private_network": webhook.allow_private_network,
            },
        )
    return webhook


@transaction.atomic
def webhook_rotate_secret(*, actor: Any, webhook_id: Any, agency_id: int | None) -> Webhook:
    """Replace the signing secret; deliveries from now on are signed with the new one."""
    webhook = _get(webhook_id, agency_id, lock=True)
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=webhook,
        object_label=f"webhook {webhook.name}",
        details={"changes": {"secret": ["(rotated)", "(rotated)"]}},
    )
    return webhook


@transaction.atomic
def webhook_reveal_secret(*, actor: Any, webhook_id: Any, agency_id: int | None) -> str:
    """The secret, for an admin who asked to see it; the showing is audited (never the value)."""
    webhook = _get(webhook_id, agency_id)
    audit.record(
        action=AuditAction.VIEW,
        actor=actor,
        obj=webhook,
        object_label=f"webhook {webhook.name}",
        details={"shown": "secret"},
    )
    return webhook.secret


def webhook_set_active(
    *, actor: Any, webhook_id: Any, agency_id: int | None, active: Any
) -> Webhook:
    """Enable or disable; enabling clears the failure count and the automatic-disable note."""
    if str(active) not in ("0", "1", "True", "False", "true", "false"):
        raise DomainError("Say whether the webhook is active (1 or 0).", field="active")
    on = str(active) in ("1", "True", "true")
    if on:
        # The guard again (the name may resolve elsewhere since it was registered), before the
        # row lock: a slow resolver must not hold it.
        current = _get(webhook_id, agency_id)
        check_url(current.url, allow_private_network=current.allow_private_network)
    with transaction.atomic():
        return _set_active(actor=actor, webhook_id=webhook_id, agency_id=agency_id, on=on)


def _set_active(*, actor: Any, webhook_id: Any, agency_id: int | None, on: bool) -> Webhook:
    webhook = _get(webhook_id, agency_id, lock=True)
    if on == webhook.active:
        return webhook
    before = webhook.active
    webhook.active = on
    webhook.consecutive_failures = 0 if on else webhook.consecutive_failures
    webhook.disabled_at = None if on else timezone.now()
    webhook.disabled_reason = "" if on else "Disabled by an admin."
    webhook.save(update_fields=["active", "consecutive_failures", "disabled_at", "disabled_reason"])
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=webhook,
        object_label=f"webhook {webhook.name}",
        details={"changes": {"active": [before, on]}},
    )
    return webhook


@transaction.atomic
def webhook_send_test(*, actor: Any, webhook_id: Any, agency_id: int | None) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this webhook only (even if it is disabled)."""
    webhook = _get(webhook_id, agency_id)
    delivery = _delivery(webhook, TEST_EVENT, {"webhook": {"id": webhook.pk, "name": webhook.name}})
    audit.record(
        action=AuditAction.CHANGE,
        actor=actor,
        obj=webhook,
        object_label=f"webhook {webhook.name}",
        details={"test_event": str(delivery.event_id)},
    )
    _queue_on_commit([delivery.pk])
    return delivery


# --- emission --------------------------------------------------------------------------------


def _delivery(
    webhook: Webhook, event_type: str, data: Mapping[str, Any], now: dt.datetime | None = None
) -> WebhookDelivery:
    now = now or timezone.now()
    event_id = uuid.uuid4()
    envelope = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "agency": webhook.agency.code,
        "data": dict(data),
    }
    return WebhookDelivery.objects.create(
        webhook=webhook,
        event_type=event_type,
        event_id=event_id,
        payload=envelope,
        status=Status.PENDING,
        next_attempt_at=now,
        created_at=now,
    )


def _in_thread() -> bool:
    """Embedded mode runs Celery tasks inline: deliver from a background thread instead, so a
    slow receiver (up to the 5 s timeout per webhook) never holds up the dispatcher's request.
    ``BEACON_WEBHOOKS_IN_THREAD`` overrides (tests set it False)."""
    chosen = getattr(settings, "BEACON_WEBHOOKS_IN_THREAD", None)
    if chosen is None:
        return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
    return bool(chosen)


def _queue(delivery_ids: list[int]) -> None:
    from governance.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception:  # broker down: the row stays pending, the sweeper queues it
            logger.warning("webhook delivery %s not queued", delivery_id, exc_info=True)


def _queue_in_thread(delivery_ids: list[int]) -> None:
    try:
        _queue(delivery_ids)
    finally:
        connections.close_all()  # this thread's own connections only


def _queue_on_commit(delivery_ids: list[int]) -> None:
    def _send() -> None:
        if _in_thread():
            # A lost thread (process exit) loses nothing: the rows stay due for the sweeper.
            threading.Thread(
                target=_queue_in_thread, args=(delivery_ids,), name="webhooks", daemon=True
            ).start()
        else:
            _queue(delivery_ids)

    transaction.on_commit(_send)


def emit_on_commit(
    event_type: str,
    agency_id: int,
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
) -> int:
    """Record ``event_type`` for the agency's matching active webhooks; send after commit.

    Call it inside the service's transaction. ``payload`` may be a function building it, so
    an agency without webhooks pays one query and nothing else. Returns how many deliveries
    were written.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event {event_type!r}.")
    hooks = [
        h
        for h in Webhook.objects.filter(agency_id=agency_id, active=True).select_related("agency")
        if event_type in (h.events or [])
    ]
    if not hooks:
        return 0
    data = payload() if callable(payload) else payload
    now = timezone.now()
    ids = [_delivery(h, event_type, data, now).pk for h in hooks]
    _queue_on_commit(ids)
    return len(ids)


# --- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str = ""


Sender = Callable[[str, bytes, dict[str, str]], Response]


def _guarded_session() -> Any:
    """A ``requests`` session whose connections resolve the host, refuse it if any address is
    blocked, and connect only to the addresses just checked: the check and the connection use
    one resolution, so a rebinding DNS answer between them cannot slip in. TLS still verifies
    (and sends SNI for) the host name, because only the socket is made here."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util import connection as urllib3_connection

    class Guarded:
        def _new_conn(self: Any) -> socket.socket:
            try:
                addresses = resolve(self._dns_host, self.port)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            for address in addresses:
                if _blocked(ipaddress.ip_address(address.split("%", 1)[0])):
                    raise NewConnectionError(
                        self, f"Refused: {self.host} resolves to {address}, a private address"
                    )
            last: OSError | None = None
            for address in addresses:
                try:
                    return urllib3_connection.create_connection(
                        (address, self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except TimeoutError as exc:
                    raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
                except OSError as exc:
                    last = exc
            raise NewConnectionError(self, f"Failed to establish a new connection: {last}")

    class GuardedHTTP(Guarded, HTTPConnection):
        pass

    class GuardedHTTPS(Guarded, HTTPSConnection):
        pass

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

    session = requests.Session()
    # No proxies from the environment: a proxy would make the connection, past the guard.
    session.trust_env = False
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    return session


def http_session(*, allow_private_network: bool = False) -> Any:
    """A ``requests`` session that ignores proxy settings and, unless ``allow_private_network``,
    connects only to public addresses (the guard above). Webhook delivery uses it, and so does
    partner alert feed polling (dispatch/alerts/feeds.py): both send requests to URLs that
    outsiders choose."""
    import requests

    session = requests.Session() if allow_private_network else _guarded_session()
    session.trust_env = False
    return session


def http_post(
    url: str, body: bytes, headers: dict[str, str], *, allow_private_network: bool = False
) -> Response:
    """POST with ``requests``; redirects are never followed (a 3xx is a failed attempt)."""
    import requests

    session = http_session(allow_private_network=allow_private_network)
    try:
        with session:
            r = session.post(
                url, data=body, headers=headers, timeout=TIMEOUT_S, allow_redirects=False
            )
    except requests.RequestException as exc:
        return Response(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    if 300 <= r.status_code < 400:
        where = r.headers.get("Location", "")
        return Response(r.status_code, f"Redirect not followed (Location: {where})"[:MAX_ERROR])
    if not 200 <= r.status_code < 300:
        return Response(r.status_code, f"HTTP {r.status_code}: {r.text[:200]}"[:MAX_ERROR])
    return Response(r.status_code)


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed attempt: 1, 2, 4, 8, 16 minutes."""
    return dt.timedelta(minutes=BACKOFF_BASE_MIN * 2 ** max(attempts - 1, 0))


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take the delivery for one attempt: a conditional UPDATE, so two workers never both send."""
    return bool(
        WebhookDelivery.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            pk=delivery_id,
            status__in=DUE_STATUSES,
        ).update(next_attempt_at=now + CLAIM_LEASE)
    )


def delivery_attempt(
    *, delivery_id: int, now: dt.datetime | None = None, send: Sender | None = None
) -> WebhookDelivery | None:
    """Make one attempt at a due delivery; record the result; back off, give up or disable.

    Returns ``None`` when there is nothing to do (deleted, not due, already delivered).
    """
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("webhook__agency").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.active and delivery.event_type != TEST_EVENT:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.GIVEN_UP, last_error="The webhook is disabled.", next_attempt_at=None
        )
        delivery.refresh_from_db()
        return delivery
    body = body_bytes(delivery.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Beacon-Event": delivery.event_type,
        "X-Beacon-Delivery": str(delivery.event_id),
        "X-Beacon-Timestamp": timestamp,
        "X-Beacon-Signature": signature(webhook.secret, timestamp, body),
    }
    try:
        check_url(webhook.url, allow_private_network=webhook.allow_private_network)
    except DomainError as exc:
        result = Response(None, "Refused: " + " ".join(exc.errors.get("url", [])))
    else:
        if send is None:
            private = webhook.allow_private_network
            result = http_post(webhook.url, body, headers, allow_private_network=private)
        else:
            result = send(webhook.url, body, headers)
    ok = result.status_code is not None and 200 <= result.status_code < 300 and not result.error
    return _record(delivery, result, ok, now)


@transaction.atomic
def _record(
    delivery: WebhookDelivery, result: Response, ok: bool, now: dt.datetime
) -> WebhookDelivery:
    webhook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
    delivery.attempts += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error[:MAX_ERROR]
    if ok:
        delivery.status = Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if webhook.consecutive_failures:
            webhook.consecutive_failures = 0
            webhook.save(update_fields=["consecutive_failures"])
    else:
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Status.GIVEN_UP
            delivery.next_attempt_at = None
        else:
            delivery.status = Status.FAILED
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        webhook.consecutive_failures += 1
        fields = ["consecutive_failures"]
        if webhook.active and webhook.consecutive_failures >= DISABLE_AFTER_FAILURES:
            webhook.active = False
            webhook.disabled_at = now
            webhook.disabled_reason = (
                f"Disabled automatically after {webhook.consecutive_failures} failed attempts "
                f"in a row (last: {delivery.last_error or result.status_code})."
            )[:300]
            fields += ["active", "disabled_at", "disabled_reason"]
            audit.record(
                action=AuditAction.CHANGE,
                actor=None,
                actor_username="system",
                obj=webhook,
                object_label=f"webhook {webhook.name}",
                details={
                    "changes": {"active": [True, False]},
                    "reason": "consecutive_failures",
                    "consecutive_failures": webhook.consecutive_failures,
                },
            )
        webhook.save(update_fields=fields)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delivery


def due_delivery_ids(now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Deliveries waiting for an attempt whose time has come (pending ones the broker lost too)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def event_types(chosen: Iterable[str]) -> list[tuple[str, str, bool]]:
    """(type, description, chosen) for the registration form."""
    picked = set(chosen)
    return [(k, v, k in picked) for k, v in EVENT_TYPES.items()]
