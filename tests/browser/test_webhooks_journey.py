"""Webhooks (issue #7) in real Chromium: an admin registers a webhook for a receiver on this
machine (refused until private addresses are allowed), a dispatcher creates a call on the
console, the receiver gets a `call.created` message whose HMAC signature verifies with the secret
the page showed once, and the webhook's delivery log shows it delivered.

The receiver is a real `http.server` on 127.0.0.1; the delivery is made by the `serve` process
(embedded mode) or by a Celery worker (PostgreSQL + Redis mode), as in production.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType, Disposition
from governance.models import Webhook
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 10_000  # ms: a delivery through the task queue on a loaded CI machine
REPLAY_WINDOW_S = 300


def verify_beacon(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as docs/webhooks.md gives it."""
    timestamp = headers.get("X-Beacon-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_WINDOW_S:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), headers.get("X-Beacon-Signature", ""))


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver_url() -> Iterator[str]:
    _Receiver.received = []
    _Receiver.arrived = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/beacon-hook"
    server.shutdown()
    server.server_close()


@pytest.mark.usefixtures("analysis_worker")
def test_admin_registers_a_webhook_a_new_call_is_delivered_signed_and_logged(
    new_page, cast, agency, receiver_url
):
    # A known address, so the dispatcher's intake picks it (before any webhook exists).
    earlier = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="NOISE"),
        address="400 Elm Street",
        latitude=29.4301,
        longitude=-98.4902,
        received_at=timezone.now() - dt.timedelta(days=3),
    )
    services.call_close(
        call_id=earlier.pk,
        actor=cast["dispatcher"],
        disposition=Disposition.objects.get(code="ADVISED"),
    )

    admin = new_page(viewport={"width": 1400, "height": 900})
    sign_in(admin, "admin1", TEST_PASSWORD)
    admin.click("header nav a:has-text('Access')")
    admin.click("#webhooks-link a")
    admin.wait_for_url("**/governance/webhooks/")
    admin.fill("#webhook-name", "County EOC")
    admin.fill("#webhook-url", receiver_url)
    admin.check("#webhook-events input[value='call.created']")

    # Loopback without the explicit allowance: refused on the page, the form kept as typed.
    admin.click("#webhook-create")
    errors = admin.locator("#webhook-errors")
    errors.wait_for()
    assert errors.inner_text().startswith("url: The host 127.0.0.1 resolves to 127.0.0.1")
    assert "Allow a private, loopback or link-local address" in errors.inner_text()
    assert admin.input_value("#webhook-url") == receiver_url
    assert admin.is_checked("#webhook-events input[value='call.created']")
    assert Webhook.objects.count() == 0

    admin.check("#webhook-private")
    admin.click("#webhook-create")
    admin.wait_for_selector("#webhook-created")
    secret = admin.locator("#webhook-secret-value").inner_text()
    assert secret.startswith("whsec_")
    webhook = Webhook.objects.get()
    assert webhook.allow_private_network and webhook.events == ["call.created"]
    assert admin.locator("#no-deliveries").is_visible()

    # A dispatcher takes a call on the console.
    console = new_page(viewport={"width": 1600, "height": 900})
    sign_in(console, "dispatcher1", TEST_PASSWORD)
    console.goto("/console/")
    console.wait_for_selector("#conn[data-state=live]")
    console.select_option("#f-type", "THEFT")
    console.fill("#f-address", "400 elm st")
    console.wait_for_selector("#suggest li")
    console.keyboard.press("ArrowDown")
    console.keyboard.press("Enter")
    console.fill("#f-narrative", "bicycle taken from the porch")
    console.keyboard.press("Control+Enter")
    console.wait_for_selector("#detail h2:has-text('Theft')")
    number = console.locator("#detail h2").inner_text().split(" ")[0]

    # The receiver gets one signed message about it.
    assert _Receiver.arrived.wait(LIVE / 1000), "no delivery reached the receiver"
    [(headers, body)] = _Receiver.received
    assert headers["X-Beacon-Event"] == "call.created"
    assert verify_beacon(secret, headers, body)
    assert not verify_beacon("whsec_someone-else", headers, body)
    message = json.loads(body)
    assert message["type"] == "call.created" and message["agency"] == agency.code
    assert message["data"]["call"]["number"] == number
    assert "bicycle" not in body.decode()  # ids and codes only, never the narrative

    # The delivery log says so (the status is written just after the receiver answers).
    admin.goto(f"/governance/webhooks/{webhook.pk}/")
    row = admin.locator("#delivery-log tr.delivery").first
    deadline = time.monotonic() + LIVE / 1000
    while row.get_attribute("data-status") != "succeeded" and time.monotonic() < deadline:
        admin.wait_for_timeout(200)
        admin.reload()
    assert row.get_attribute("data-status") == "succeeded"
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "call.created" and cells[2] == headers["X-Beacon-Delivery"]
    assert cells[3] == "Succeeded" and cells[4] == "1" and cells[5] == "200"
