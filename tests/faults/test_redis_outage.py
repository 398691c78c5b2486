"""Fault 1: Redis (broker and channel layer) stopped during steady intake and pushes.

Web, worker and beat run against a private Redis, a console and a field device are connected,
and a partner webhook listens for ``call.created``. Redis stops for ``BEACON_FAULTS_OUTAGE_S``
(30 s by default) while calls and assignments keep coming. Intake answers 201 throughout; the
clients show "reconnecting" and resync when Redis is back; the webhook deliveries written during
the outage are sent once Redis returns (the beat sweeper queues them), each exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.faults import harness
from tests.faults.conftest import user
from tests.faults.invariants import (
    assert_audit_chain_verifies,
    assert_calls_stored_once,
    call_body,
    issue_assignment,
    received_assignments,
    received_calls,
)

pytestmark = pytest.mark.faults
FAST_S = harness.FAST_S


class Receiver:
    """A partner's webhook endpoint on loopback: records every delivery it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def call_ids(self) -> list[int]:
        return [d["data"]["call"]["id"] for d in self.received if d["type"] == "call.created"]


def test_intake_and_pushes_survive_a_redis_outage(make_stack):
    receiver = Receiver()
    stack = make_stack()
    stack.shell(
        "from governance.webhooks import webhook_create; from governance.models import Agency;"
        "webhook_create(actor=None, agency=Agency.objects.get(code='default'), name='partner',"
        f" url={receiver.url!r}, events=['call.created'], allow_private_network=True)"
    )
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    disp, sup, fld = (
        user(stack, "disp", login=True),
        user(stack, "sup"),
        user(stack, "fld", login=True),
    )
    calls: dict[str, int] = {}
    assignments: list[int] = []
    during: list[harness.Reply] = []
    outage = threading.Event()
    stop = threading.Event()

    def steady_intake() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            reply = disp.api("POST", "calls/", call_body(f"redis-{n}"), timeout=30)
            if reply.status == 201:
                calls[f"redis-{n}"] = reply.body["id"]
            issued = issue_assignment(sup, f"redis-{n}", timeout=30) if n % 3 == 0 else None
            if issued is not None and issued.status == 201:
                assignments.append(issued.body["id"])
            if outage.is_set():
                during.extend([reply] + ([issued] if issued is not None else []))
            time.sleep(0.3)

    with (
        harness.running(harness.LiveClient(disp, "/console/snapshot.json")) as console,
        harness.running(
            harness.LiveClient(fld, "/api/v1/assignments/pending/", "?feed=field")
        ) as device,
    ):
        worker = threading.Thread(target=steady_intake, daemon=True)
        worker.start()
        harness.wait_until(lambda: len(assignments) >= 2, timeout=30, what="steady intake")

        marks = (len(console.states), len(device.states))
        stack.redis.stop()
        outage.set()
        harness.wait_until(
            lambda: console.lost_since(marks[0]) and device.lost_since(marks[1]),
            timeout=45,
            what="the clients to show 'reconnecting'",
        )
        time.sleep(harness.outage_seconds())
        # However short the outage, enough intake must have happened during it to tell.
        harness.wait_until(lambda: len(during) >= 5, timeout=60, what="intake during the outage")
        outage.clear()
        resyncs = (len(console.resyncs), len(device.resyncs))
        stack.redis.start()

        harness.wait_until(
            lambda: len(console.resyncs) > resyncs[0] and len(device.resyncs) > resyncs[1],
            timeout=30,
            what="both clients to reconnect and resync",
        )
        time.sleep(2)
        stop.set()
        worker.join(timeout=60)
        harness.wait_until(
            lambda: (
                set(assignments) <= received_assignments(device)
                and set(calls.values()) <= received_calls(console)
            ),
            timeout=30,
            what="every acknowledged call and assignment at the clients",
        )

    # Intake never noticed: every request during the outage was answered 201, promptly.
    for reply in during:
        assert reply.status == 201, (reply.status, reply.text[:500])
        assert reply.seconds < FAST_S, f"a request took {reply.seconds:.1f} s during the outage"

    print(
        f"\nduring the outage: {len(during)} requests, slowest "
        f"{max(r.seconds for r in during):.2f} s; console states {console.states}, closes "
        f"{console.closes}; device states {device.states}"
    )
    # Queued jobs run after Redis returns: every call's webhook is delivered, once.
    waited = time.monotonic()
    harness.wait_until(
        lambda: set(calls.values()) <= set(receiver.call_ids()),
        timeout=90,
        what="the webhook deliveries written during the outage",
    )
    print(
        f"webhooks of the outage delivered {time.monotonic() - waited:.0f} s after the clients resynced"
    )
    delivered = receiver.call_ids()
    assert len(delivered) == len(set(delivered)), "a webhook was delivered twice"
    receiver.server.shutdown()

    assert_calls_stored_once(stack, list(calls))
    assert_audit_chain_verifies(stack)
