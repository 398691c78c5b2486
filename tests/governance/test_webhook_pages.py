"""The webhooks pages (admins only): register, show/rotate the secret, enable/disable, test event,
delivery log; bad input answers 400 naming the field; every change is audited."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from governance import tasks, webhooks
from governance.models import AuditEvent, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
PAGE = "/governance/webhooks/"


@pytest.fixture(autouse=True)
def inline_queue(settings) -> None:
    """Queue deliveries in the committing thread (embedded mode would use a background one)."""
    settings.BEACON_WEBHOOKS_IN_THREAD = False


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 1, 6, "", ("93.184.216.34", 443))]
    )
    seen: list[int] = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", seen.append)
    return seen


def browser(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def register(client: Client, **extra: object):
    data = {
        "name": "Partner",
        "url": "https://hooks.example.org/beacon",
        "events": ["call.created", "finding.accepted"],
    }
    data.update(extra)
    return client.post(f"{PAGE}new/", data)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("supervisor", 403),
        ("analyst", 403),
        ("dispatcher", 403),
        ("field", 403),
        ("auditor", 403),
    ],
)
def test_only_admins_open_and_register(cast, role: str, status: int) -> None:
    client = browser(cast[role])
    assert client.get(PAGE).status_code == status
    answer = register(client)
    assert answer.status_code == (201 if role == "admin" else 403)
    assert Webhook.objects.exists() is (role == "admin")
    access = browser(cast[role]).get("/governance/access/")
    if role == "admin":
        assert b'href="/governance/webhooks/"' in access.content


def test_register_shows_the_secret_once_and_audits(agency, cast) -> None:
    client = browser(cast["admin"])
    answer = register(client)
    webhook = Webhook.objects.get()
    assert webhook.secret.encode() in answer.content
    assert webhook.events == ["call.created", "finding.accepted"]
    assert webhook.agency == agency and webhook.created_by == cast["admin"]
    page = client.get(f"{PAGE}{webhook.pk}/")
    assert webhook.secret.encode() not in page.content
    assert webhook.secret.encode() not in client.get(PAGE).content
    event = AuditEvent.objects.get(object_type="governance.webhook", action="create")
    assert webhook.secret not in str(event.details)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://127.0.0.1:8000/"}, "url"),
        ({"url": "http://169.254.169.254/"}, "url"),
        ({"url": "ftp://hooks.example.org/"}, "url"),
        ({"url": "https://u:p@hooks.example.org/"}, "url"),
        ({"events": ["call.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_answers_400_naming_the_field(cast, data, field, monkeypatch) -> None:
    if data.get("url", "").startswith(("http://127", "http://169")):
        monkeypatch.setattr(
            socket, "getaddrinfo", lambda h, *a, **k: [(socket.AF_INET, 1, 6, "", (h, 80))]
        )
    answer = register(browser(cast["admin"]), **data)
    assert answer.status_code == 400
    assert f"<strong>{field}</strong>".encode() in answer.content
    assert not Webhook.objects.exists()


def test_private_network_checkbox_allows_loopback(cast, monkeypatch) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda h, *a, **k: [(socket.AF_INET, 1, 6, "", ("127.0.0.1", 80))]
    )
    answer = register(
        browser(cast["admin"]), url="http://127.0.0.1:8000/hook", allow_private_network="on"
    )
    assert answer.status_code == 201
    assert Webhook.objects.get().allow_private_network


@pytest.fixture
def webhook(agency, cast) -> Webhook:
    return webhooks.webhook_create(
        actor=cast["admin"],
        agency=agency,
        name="Partner",
        url="https://hooks.example.org/beacon",
        events=["call.created"],
    )


def test_show_and_rotate_secret(cast, webhook) -> None:
    client = browser(cast["admin"])
    shown = client.post(f"{PAGE}{webhook.pk}/secret/", {"action": "show"})
    assert shown.status_code == 200 and webhook.secret.encode() in shown.content
    old = webhook.secret
    rotated = client.post(f"{PAGE}{webhook.pk}/secret/", {"action": "rotate"})
    webhook.refresh_from_db()
    assert rotated.status_code == 200 and webhook.secret != old
    assert webhook.secret.encode() in rotated.content
    bad = client.post(f"{PAGE}{webhook.pk}/secret/", {"action": "steal"})
    assert bad.status_code == 400 and b"<strong>action</strong>" in bad.content
    actions = list(
        AuditEvent.objects.filter(object_type="governance.webhook")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "view", "change"]


def test_disable_enable_and_bad_value(cast, webhook) -> None:
    client = browser(cast["admin"])
    assert client.post(f"{PAGE}{webhook.pk}/active/", {"active": "0"}).status_code == 302
    webhook.refresh_from_db()
    assert not webhook.active and webhook.disabled_reason == "Disabled by an admin."
    assert b"off since" in client.get(f"{PAGE}{webhook.pk}/").content
    assert client.post(f"{PAGE}{webhook.pk}/active/", {"active": "1"}).status_code == 302
    webhook.refresh_from_db()
    assert webhook.active
    bad = client.post(f"{PAGE}{webhook.pk}/active/", {"active": "maybe"})
    assert bad.status_code == 400 and b"<strong>active</strong>" in bad.content
    changes = AuditEvent.objects.filter(object_type="governance.webhook", action="change")
    assert [e.details["changes"]["active"] for e in changes.order_by("seq")] == [
        [True, False],
        [False, True],
    ]


def test_send_test_event_and_delivery_log(cast, webhook, public_dns) -> None:
    client = browser(cast["admin"])
    answer = client.post(f"{PAGE}{webhook.pk}/test/")
    assert answer.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "webhook.test"
    webhooks.delivery_attempt(
        delivery_id=delivery.pk, send=lambda *a: webhooks.Response(418, "HTTP 418: teapot")
    )
    log = client.get(f"{PAGE}{webhook.pk}/").content.decode()
    assert str(delivery.event_id) in log
    assert "Failed (will retry)" in log and "418" in log and "teapot" in log


def test_other_agencys_webhook_is_hidden(cast, other_agency) -> None:
    theirs = webhooks.webhook_create(
        actor=None,
        agency=other_agency,
        name="Theirs",
        url="https://hooks.example.org/x",
        events=["call.created"],
    )
    client = browser(cast["admin"])
    assert client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/secret/", {"action": "show"}).status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/test/").status_code == 404
    assert b"Theirs" not in client.get(PAGE).content
