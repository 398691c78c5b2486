"""Fault 3: PostgreSQL stopped and started again during steady intake.

While the database is down, intake answers 503 at once with a JSON reason (no hang, no 500, no
traceback); once it is back the same requests succeed; every call answered 201 is stored
exactly once; /healthz says "degraded" during the gap; the audit chain still verifies.
"""

from __future__ import annotations

import time

import pytest

from tests.faults import harness
from tests.faults.conftest import user
from tests.faults.invariants import (
    assert_audit_chain_verifies,
    assert_calls_stored_once,
    call_body,
)

pytestmark = pytest.mark.faults
FAST_S = harness.FAST_S


def test_intake_fails_fast_with_503_while_postgres_is_down_and_loses_nothing(make_stack):
    stack = make_stack()
    stack.start_web()
    disp = user(stack, "disp", login=True)
    acknowledged: list[str] = []
    refused: list[harness.Reply] = []
    outage = harness.outage_seconds()

    def intake(ref: str) -> harness.Reply:
        reply = disp.api("POST", "calls/", call_body(ref), timeout=30)
        if reply.status == 201:
            acknowledged.append(ref)
        return reply

    for n in range(5):
        assert intake(f"pg-before-{n}").status == 201

    stack.pg.stop("fast")
    down_since = time.monotonic()
    n = 0
    while time.monotonic() - down_since < outage:
        reply = intake(f"pg-during-{n}")
        n += 1
        if reply.status != 201:
            refused.append(reply)
        # What a console does meanwhile: its resync read, and a page load.
        refused.append(disp.page_json("/console/snapshot.json"))
        refused.append(harness.request(f"{stack.base}/console/", headers={"Cookie": disp.cookie}))
        health = harness.request(f"{stack.base}/healthz", timeout=10)
        assert health.status == 503 and health.body["database"] == "unavailable"
        time.sleep(0.2)
    stack.pg.start()

    # Every request in the gap was answered, quickly, with a clear 503 and no traceback.
    assert refused, "no request reached the web process while the database was down"
    for reply in refused:
        assert reply.status == 503, (reply.status, reply.text[:500])
        assert reply.seconds < FAST_S, f"a refusal took {reply.seconds:.1f} s"
        if reply.content_type.startswith("application/json"):
            assert "database" in reply.body["detail"].lower(), reply.body
        else:  # a page: a short HTML explanation
            assert reply.content_type.startswith("text/html"), reply.content_type
            assert "database" in reply.text.lower(), reply.text[:500]
        assert "Traceback" not in reply.text and "psycopg" not in reply.text

    # Back: the first request after the restart succeeds (stale pooled connections are
    # replaced, not handed to a request), and so do the next ones.
    for n in range(5):
        reply = intake(f"pg-after-{n}")
        assert reply.status == 201, (reply.status, reply.text[:500])
    assert harness.http_status(f"{stack.base}/healthz") == 200
    assert disp.page_json("/console/snapshot.json").status == 200

    assert_calls_stored_once(stack, acknowledged)
    assert_audit_chain_verifies(stack)
