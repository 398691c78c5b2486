"""Fault 4: the web (ASGI) process killed with SIGKILL and started again.

A dispatcher's console and a field device are connected over real websockets and behave like
static/js/beacon.js: reconnect with backoff, then re-read console/snapshot.json or
assignments/pending/. Calls and assignments acknowledged before the kill and right after the
restart (while the clients are still reconnecting) all reach them, and are stored once.
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
    issue_assignment,
    received_assignments,
    received_calls,
)

pytestmark = pytest.mark.faults


def test_clients_reconnect_and_resync_after_the_web_process_is_killed(make_stack):
    stack = make_stack()
    web = stack.start_web()
    disp, sup = user(stack, "disp", login=True), user(stack, "sup")
    fld = user(stack, "fld", login=True)
    calls: dict[str, int] = {}
    assignments: list[int] = []

    def intake(ref: str) -> None:
        reply = disp.api("POST", "calls/", call_body(ref))
        if reply.status == 201:
            calls[ref] = reply.body["id"]

    def issue(ref: str) -> None:
        reply = issue_assignment(sup, ref)
        if reply.status == 201:
            assignments.append(reply.body["id"])

    with (
        harness.running(harness.LiveClient(disp, "/console/snapshot.json")) as console,
        harness.running(
            harness.LiveClient(fld, "/api/v1/assignments/pending/", "?feed=field")
        ) as device,
    ):
        for n in range(3):
            intake(f"web-before-{n}")
            issue(f"web-before-{n}")
        harness.wait_until(
            lambda: set(assignments) <= received_assignments(device), timeout=10, what="pushes"
        )

        marks = (len(console.states), len(device.states))
        web.kill()
        harness.wait_until(
            lambda: console.lost_since(marks[0]) and device.lost_since(marks[1]),
            timeout=45,
            what="both clients to notice the lost connection",
        )
        resyncs_before = (len(console.resyncs), len(device.resyncs))
        assert harness.request(f"{stack.base}/healthz", timeout=2).status is None
        time.sleep(min(harness.outage_seconds(), 5))

        stack.start_web()
        # Straight after the restart, before the clients' backoff brings them back.
        for n in range(3):
            intake(f"web-after-{n}")
            issue(f"web-after-{n}")

        harness.wait_until(
            lambda: (
                len(console.resyncs) > resyncs_before[0] and len(device.resyncs) > resyncs_before[1]
            ),
            timeout=45,
            what="both clients to reconnect and resync",
        )
        assert console.state == device.state == "live"
        harness.wait_until(
            lambda: (
                set(assignments) <= received_assignments(device)
                and set(calls.values()) <= received_calls(console)
            ),
            timeout=10,
            what="every acknowledged call and assignment at the clients",
        )

    assert len(calls) == 6 and len(assignments) == 6
    assert "reconnecting" in console.states and "reconnecting" in device.states
    assert_calls_stored_once(stack, list(calls))
    rows = stack.sql("SELECT count(*) FROM tasking_assignment WHERE status = 'issued'")
    assert rows == [(6,)]
    assert_audit_chain_verifies(stack)
