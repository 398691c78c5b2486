"""Webhooks: signatures, the SSRF guard, emission only after commit, retries with backoff,
giving up, automatic disable, and one end-to-end delivery to a real local HTTP receiver."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from beacon_core.errors import DomainError
from governance import tasks, webhooks
from governance.models import AuditEvent, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
S = WebhookDelivery.Status
REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443))]


@pytest.fixture(autouse=True)
def inline_queue(settings) -> None:
    """Queue deliveries in the committing thread (embedded mode would use a background one)."""
    settings.BEACON_WEBHOOKS_IN_THREAD = False


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names resolve to a public address unless a test says otherwise (no real DNS in tests)."""
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: PUBLIC)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Delivery ids the on-commit hook queued (never a real broker from here)."""
    seen: list[int] = []
    monkeypatch.setattr(
        tasks.deliver_webhook, "delay", lambda delivery_id: seen.append(delivery_id)
    )
    return seen


class Receiver:
    """A fake receiver answering each attempt with the next status (None: connection error)."""

    def __init__(self, *codes: int | None) -> None:
        self.codes = list(codes)
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> webhooks.Response:
        self.calls.append((url, body, headers))
        code = self.codes.pop(0) if self.codes else 200
        if code is None:
            return webhooks.Response(None, "ConnectionError: refused")
        return webhooks.Response(code, "" if 200 <= code < 300 else f"HTTP {code}")


def hook(agency: Any, admin: Any, **extra: Any) -> Webhook:
    values = {
        "actor": admin,
        "agency": agency,
        "name": "Partner",
        "url": "https://hooks.example.org/beacon",
        "events": ["call.created", "call.closed"],
    }
    values.update(extra)
    return webhooks.webhook_create(**values)


def delivery(webhook: Webhook, event_type: str = "call.created") -> WebhookDelivery:
    webhooks.emit_on_commit(event_type, webhook.agency_id, {"call": {"id": 1}})
    return WebhookDelivery.objects.filter(webhook=webhook).latest("id")


# --- signing ---------------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    receiver = Receiver(200)
    webhooks.delivery_attempt(delivery_id=d.pk, send=receiver)
    url, body, headers = receiver.calls[0]
    assert url == webhook.url
    expected = hmac.new(
        webhook.secret.encode(),
        headers["X-Beacon-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Beacon-Signature"] == f"sha256={expected}"
    assert headers["X-Beacon-Event"] == "call.created"
    assert headers["X-Beacon-Delivery"] == str(d.event_id)
    assert headers["Content-Type"] == "application/json"
    envelope = json.loads(body)
    assert envelope == {
        "id": str(d.event_id),
        "type": "call.created",
        "created_at": envelope["created_at"],
        "agency": agency.code,
        "data": {"call": {"id": 1}},
    }
    assert envelope["created_at"].endswith("Z")


def test_retries_send_the_same_bytes_and_a_fresh_timestamp(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    receiver = Receiver(500, 200)
    now = timezone.now()
    webhooks.delivery_attempt(delivery_id=d.pk, now=now, send=receiver)
    webhooks.delivery_attempt(delivery_id=d.pk, now=now + dt.timedelta(minutes=1), send=receiver)
    (_, body1, h1), (_, body2, h2) = receiver.calls
    assert body1 == body2
    assert int(h2["X-Beacon-Timestamp"]) - int(h1["X-Beacon-Timestamp"]) == 60
    assert h1["X-Beacon-Delivery"] == h2["X-Beacon-Delivery"]


def test_secret_is_generated_and_rotation_changes_it_audited(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    assert webhook.secret.startswith("whsec_") and len(webhook.secret) > 40
    old = webhook.secret
    rotated = webhooks.webhook_rotate_secret(
        actor=cast["admin"], webhook_id=webhook.pk, agency_id=agency.pk
    )
    assert rotated.secret != old
    events = AuditEvent.objects.filter(object_type="governance.webhook", object_id=str(webhook.pk))
    assert events.count() == 2
    assert not any(old in json.dumps(e.details) for e in events)


# --- the SSRF guard --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_guard_refuses_private_addresses(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # literal addresses: real getaddrinfo, no DNS involved
    with pytest.raises(DomainError) as err:
        webhooks.check_url(url, allow_private_network=False)
    assert "url" in err.value.errors


def test_guard_refuses_a_name_resolving_to_a_private_address(monkeypatch) -> None:
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [*PUBLIC, (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))],
    )
    with pytest.raises(DomainError) as err:
        webhooks.check_url("https://sneaky.example.org/", allow_private_network=False)
    assert "10.0.0.5" in err.value.errors["url"][0]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example.org/", "http"),
        ("file:///etc/passwd", "http"),
        ("https://user:pw@hooks.example.org/", "Credentials"),
        ("https:///nohost", "no host"),
        ("", "Give"),
    ],
)
def test_guard_refuses_bad_urls(url: str, why: str) -> None:
    with pytest.raises(DomainError) as err:
        webhooks.check_url(url, allow_private_network=True)
    assert why in err.value.errors["url"][0]


def test_private_address_allowed_when_flagged_and_audited(agency, cast, monkeypatch) -> None:
    monkeypatch.undo()
    assert webhooks.check_url("http://127.0.0.1:9/x", allow_private_network=True)
    webhook = hook(agency, cast["admin"], url="http://127.0.0.1:9/x", allow_private_network=True)
    event = AuditEvent.objects.get(object_type="governance.webhook", action="create")
    assert event.details["allow_private_network"] is True
    assert webhook.allow_private_network


def test_registration_refuses_private_and_names_fields(agency, cast, monkeypatch) -> None:
    monkeypatch.undo()
    with pytest.raises(DomainError) as err:
        webhooks.webhook_create(
            actor=cast["admin"], agency=agency, name="", url="http://127.0.0.1/", events=["nope"]
        )
    assert set(err.value.errors) == {"name", "url", "events"}
    assert not Webhook.objects.exists()


def test_delivery_rechecks_the_guard_dns_rebinding(agency, cast, monkeypatch) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("127.0.0.1", 443))]
    )
    receiver = Receiver(200)
    d = webhooks.delivery_attempt(delivery_id=d.pk, send=receiver)
    assert receiver.calls == []
    assert d.status == S.FAILED and d.last_error.startswith("Refused")


# --- emission only after commit --------------------------------------------------------------


def test_emission_writes_rows_and_queues_on_commit(
    agency, other_agency, cast, queued, django_capture_on_commit_callbacks
) -> None:
    webhook = hook(agency, cast["admin"])
    hook(agency, cast["admin"], name="Closed only", events=["call.closed"])
    hook(other_agency, cast["admin"], name="Other agency")
    off = hook(agency, cast["admin"], name="Off")
    Webhook.objects.filter(pk=off.pk).update(active=False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert webhooks.emit_on_commit("call.created", agency.pk, {"call": {"id": 7}}) == 1
        assert queued == []  # nothing before commit
    rows = list(WebhookDelivery.objects.all())
    assert [r.webhook_id for r in rows] == [webhook.pk]
    assert queued == [rows[0].pk]
    assert rows[0].status == S.PENDING and rows[0].next_attempt_at is not None


def test_rolled_back_change_leaves_no_delivery_and_sends_nothing(
    agency, cast, queued, django_capture_on_commit_callbacks
) -> None:
    hook(agency, cast["admin"])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhooks.emit_on_commit("call.created", agency.pk, {"call": {"id": 7}})
        raise RuntimeError("the service failed after emitting")
    assert not WebhookDelivery.objects.exists()
    assert queued == [] and callbacks == []


def test_broker_down_leaves_pending_row_that_the_sweeper_queues(
    agency, cast, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    hook(agency, cast["admin"])

    def down(delivery_id: int) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_webhook, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit_on_commit("call.created", agency.pk, {"call": {"id": 7}})
    d = WebhookDelivery.objects.get()
    assert d.status == S.PENDING
    swept: list[int] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", swept.append)
    assert tasks.sweep_webhook_deliveries() == 1
    assert swept == [d.pk]


def test_embedded_mode_queues_from_a_background_thread(
    agency, cast, settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    settings.BEACON_WEBHOOKS_IN_THREAD = True
    hook(agency, cast["admin"])
    done = threading.Event()
    seen: list[tuple[int, str]] = []

    def delay(delivery_id: int) -> None:
        seen.append((delivery_id, threading.current_thread().name))
        done.set()

    monkeypatch.setattr(tasks.deliver_webhook, "delay", delay)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit_on_commit("call.created", agency.pk, {"call": {"id": 7}})
    assert done.wait(5)
    assert seen == [(WebhookDelivery.objects.get().pk, "webhooks")]


def test_unknown_event_type_is_a_bug() -> None:
    with pytest.raises(ValueError):
        webhooks.emit_on_commit("call.exploded", 1, {})


# --- retries, giving up, disabling -----------------------------------------------------------


def test_backoff_schedule() -> None:
    waits = [webhooks.backoff(n).total_seconds() / 60 for n in range(1, webhooks.MAX_ATTEMPTS)]
    assert waits == [1, 2, 4, 8, 16]


def test_failing_receiver_retries_with_backoff_then_gives_up(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    receiver = Receiver(*([503] * webhooks.MAX_ATTEMPTS))
    now = timezone.now()
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        # Not yet due: a second before the scheduled time nothing is sent.
        if attempt > 1:
            early = d.next_attempt_at - dt.timedelta(seconds=1)
            assert webhooks.delivery_attempt(delivery_id=d.pk, now=early, send=receiver) is None
            now = d.next_attempt_at
        d = webhooks.delivery_attempt(delivery_id=d.pk, now=now, send=receiver)
        assert d.attempts == attempt and d.last_status_code == 503
        if attempt < webhooks.MAX_ATTEMPTS:
            assert d.status == S.FAILED
            assert d.next_attempt_at == now + dt.timedelta(minutes=2 ** (attempt - 1))
            assert d.pk in webhooks.due_delivery_ids(now=d.next_attempt_at)
            assert d.pk not in webhooks.due_delivery_ids(now=now)
    assert d.status == S.GIVEN_UP and d.next_attempt_at is None
    assert len(receiver.calls) == webhooks.MAX_ATTEMPTS
    assert webhooks.delivery_attempt(delivery_id=d.pk, now=now + dt.timedelta(days=1)) is None
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == webhooks.MAX_ATTEMPTS and webhook.active


def test_success_records_and_resets_the_failure_count(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    now = timezone.now()
    d = webhooks.delivery_attempt(delivery_id=d.pk, now=now, send=Receiver(None))
    assert d.status == S.FAILED and d.last_error.startswith("ConnectionError")
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 1
    d = webhooks.delivery_attempt(delivery_id=d.pk, now=d.next_attempt_at, send=Receiver(204))
    assert d.status == S.SUCCEEDED and d.delivered_at is not None and d.attempts == 2
    assert d.last_status_code == 204 and d.last_error == ""
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0


def test_claim_is_atomic_a_delivery_is_sent_once(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    d = delivery(webhook)
    now = timezone.now()
    assert webhooks._claim(d.pk, now)
    assert not webhooks._claim(d.pk, now)  # a second worker finds it leased


def test_auto_disable_after_consecutive_failures_is_audited(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    now = timezone.now() + dt.timedelta(minutes=1)  # after the rows' creation
    for _ in range(webhooks.DISABLE_AFTER_FAILURES):
        d = delivery(webhook)
        webhooks.delivery_attempt(delivery_id=d.pk, now=now, send=Receiver(500))
    webhook.refresh_from_db()
    assert not webhook.active and webhook.disabled_at == now
    assert "failed attempts in a row" in webhook.disabled_reason
    event = AuditEvent.objects.filter(object_type="governance.webhook", action="change").latest(
        "seq"
    )
    assert event.details["reason"] == "consecutive_failures"
    assert event.actor_username == "system"
    # No more deliveries for a disabled webhook; queued ones are given up, not sent.
    assert webhooks.emit_on_commit("call.created", agency.pk, {"call": {"id": 2}}) == 0
    pending = WebhookDelivery.objects.filter(status=S.FAILED).first()
    receiver = Receiver(200)
    d = webhooks.delivery_attempt(
        delivery_id=pending.pk, now=pending.next_attempt_at, send=receiver
    )
    assert d.status == S.GIVEN_UP and receiver.calls == []
    # An admin enables it again: the count starts over.
    webhooks.webhook_set_active(
        actor=cast["admin"], webhook_id=webhook.pk, agency_id=agency.pk, active="1"
    )
    webhook.refresh_from_db()
    assert webhook.active and webhook.consecutive_failures == 0 and webhook.disabled_reason == ""


def test_failures_below_the_limit_then_success_do_not_disable(agency, cast) -> None:
    webhook = hook(agency, cast["admin"])
    now = timezone.now() + dt.timedelta(minutes=1)  # after the rows' creation
    for _ in range(webhooks.DISABLE_AFTER_FAILURES - 1):
        webhooks.delivery_attempt(delivery_id=delivery(webhook).pk, now=now, send=Receiver(500))
    webhooks.delivery_attempt(delivery_id=delivery(webhook).pk, now=now, send=Receiver(200))
    for _ in range(webhooks.DISABLE_AFTER_FAILURES - 1):
        webhooks.delivery_attempt(delivery_id=delivery(webhook).pk, now=now, send=Receiver(500))
    webhook.refresh_from_db()
    assert webhook.active and webhook.consecutive_failures == webhooks.DISABLE_AFTER_FAILURES - 1


def test_deleted_delivery_is_tolerated() -> None:
    assert webhooks.delivery_attempt(delivery_id=987654, send=Receiver(200)) is None
    assert tasks.deliver_webhook(987654) == "skipped"


# --- a real receiver -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers.items()), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver_url():
    _Handler.received = []
    _Handler.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int, window: int = 300):
    """The receivers' recipe from docs/webhooks.md."""
    timestamp = headers["X-Beacon-Timestamp"]
    if abs(now - int(timestamp)) > window:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Beacon-Signature"])


def test_end_to_end_delivery_to_a_real_http_receiver(
    agency, cast, receiver_url, monkeypatch
) -> None:
    monkeypatch.undo()  # real name resolution for 127.0.0.1
    webhook = hook(agency, cast["admin"], url=receiver_url, allow_private_network=True)
    d = webhooks.webhook_send_test(actor=cast["admin"], webhook_id=webhook.pk, agency_id=agency.pk)
    d = webhooks.delivery_attempt(delivery_id=d.pk)  # the real requests-based sender
    assert d.status == S.SUCCEEDED and d.last_status_code == 200
    [(headers, body)] = _Handler.received
    assert headers["X-Beacon-Event"] == "webhook.test"
    assert headers["X-Beacon-Delivery"] == str(d.event_id)
    now = int(timezone.now().timestamp())
    assert verify(webhook.secret, headers, body, now=now)
    assert not verify("whsec_wrong", headers, body, now=now)
    assert not verify(webhook.secret, headers, body + b" ", now=now)
    assert not verify(webhook.secret, headers, body, now=now + 3600)  # replayed too late
    assert json.loads(body)["data"] == {"webhook": {"id": webhook.pk, "name": "Partner"}}


def test_real_receiver_errors_and_redirects_are_failures(
    agency, cast, receiver_url, monkeypatch
) -> None:
    monkeypatch.undo()
    webhook = hook(agency, cast["admin"], url=receiver_url, allow_private_network=True)
    _Handler.status = 302
    d = webhooks.delivery_attempt(delivery_id=delivery(webhook).pk)
    assert d.status == S.FAILED and d.last_status_code == 302
    assert "Redirect not followed" in d.last_error
    _Handler.status = 500
    d = webhooks.delivery_attempt(delivery_id=delivery(webhook).pk)
    assert d.status == S.FAILED and d.last_status_code == 500
    # Nobody listening: a connection error, recorded without a status code.
    port = int(receiver_url.rsplit(":", 1)[1].split("/")[0])
    Webhook.objects.filter(pk=webhook.pk).update(url=f"http://127.0.0.1:{port + 1}/none")
    d = webhooks.delivery_attempt(delivery_id=delivery(webhook).pk)
    assert d.status == S.FAILED and d.last_status_code is None and d.last_error


def test_connection_rebinding_after_the_check_is_refused(
    agency, cast, receiver_url, monkeypatch
) -> None:
    """The name resolves public for the check, then to loopback when connecting: refused."""
    port = int(receiver_url.rsplit(":", 1)[1].split("/")[0])
    answers = iter(
        [
            [(socket.AF_INET, 1, 6, "", ("93.184.216.34", port))],  # check_url
            [(socket.AF_INET, 1, 6, "", ("127.0.0.1", port))],  # the connection
        ]
    )
    webhook = hook(agency, cast["admin"], url=f"http://rebind.test:{port}/hook")
    d = delivery(webhook)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: next(answers))
    d = webhooks.delivery_attempt(delivery_id=d.pk)
    assert d.status == S.FAILED and "Refused" in d.last_error
    assert _Handler.received == []


def test_guarded_connection_goes_to_the_checked_address(
    agency, cast, receiver_url, monkeypatch
) -> None:
    """With the loopback receiver let through, a name that resolves nowhere for real is reached
    at the address the guard checked, and the Host header keeps the name."""
    port = int(receiver_url.rsplit(":", 1)[1].split("/")[0])
    webhook = hook(agency, cast["admin"], url=f"http://receiver.test:{port}/hook")
    d = delivery(webhook)
    real = REAL_GETADDRINFO
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "receiver.test" else host, *a, **k),
    )
    monkeypatch.setattr(webhooks, "_blocked", lambda ip: False)
    d = webhooks.delivery_attempt(delivery_id=d.pk)
    assert d.status == S.SUCCEEDED, d.last_error
    [(headers, _)] = _Handler.received
    assert headers["Host"] == f"receiver.test:{port}"
