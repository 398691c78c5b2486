"""The invariants every fault test checks after the fault, read straight from the database."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.faults import harness


def call_body(ref: str) -> dict[str, Any]:
    """A call for intake; ``ref`` (the external id) tells the acknowledged ones apart."""
    return {
        "call_type": "THEFT",
        "address": "100 Main St",
        "latitude": 29.4241,
        "longitude": -98.4936,
        "narrative": f"fault test {ref}",
        "external_id": ref,
    }


def assert_calls_stored_once(stack: harness.Stack, acknowledged: list[str]) -> None:
    """Every call the API answered 201 for exists exactly once."""
    rows = stack.sql("SELECT external_id FROM dispatch_call WHERE external_id IS NOT NULL")
    stored = Counter(ref for (ref,) in rows)
    missing = [ref for ref in acknowledged if stored[ref] == 0]
    doubled = [ref for ref, count in stored.items() if count > 1]
    assert not missing, f"acknowledged but not stored: {missing}"
    assert not doubled, f"stored more than once: {doubled}"
    # Each stored call has its opening timeline entry: nothing half-written.
    orphans = stack.sql(
        "SELECT c.id FROM dispatch_call c WHERE NOT EXISTS "
        "(SELECT 1 FROM dispatch_callevent e WHERE e.call_id = c.id)"
    )
    assert not orphans, f"calls without a timeline: {orphans}"


def assert_audit_chain_verifies(stack: harness.Stack) -> None:
    out = stack.manage("verify_audit")
    assert out.startswith("OK:"), out


# Windows of a manual directed patrol: any valid schedule will do, delivery is what is tested.
WINDOWS = [
    {
        "kind": "weekly",
        "weekdays": [4, 5],
        "start": "19:00",
        "duration_minutes": 240,
        "first_date": "2026-03-06",
        "weeks": 4,
        "time_zone": "America/Chicago",
    }
]


def issue_assignment(sup: harness.ApiUser, ref: str, timeout: float = 15) -> harness.Reply:
    """The supervisor drafts and issues at once a manual assignment for unit F1."""
    (unit_id,) = sup.stack.sql("SELECT id FROM dispatch_unit WHERE call_sign = 'F1'")[0]
    body = {
        "kind": "directed_patrol",
        "objective": f"fault test {ref}",
        "area": {"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 250},
        "windows": WINDOWS,
        "assignee_unit": unit_id,
        "issue": True,
    }
    return sup.api("POST", "assignments/", body, timeout=timeout)


def received_assignments(device: harness.LiveClient) -> set[int]:
    """Assignment ids the device got: pushed, or read back by a resync (assignments/pending/)."""
    pushed = {e["assignment_id"] for e in device.events if e.get("type") == "assignment.issued"}
    resynced = {row["id"] for answer in device.resyncs for row in answer}
    return pushed | resynced


def received_calls(console: harness.LiveClient) -> set[int]:
    """Call ids a console got: pushed, or in a resync (console/snapshot.json)."""
    pushed = {e["call_id"] for e in console.events if e.get("call_id")}
    resynced = {row["id"] for answer in console.resyncs for row in answer["calls"]}
    return pushed | resynced


def assert_no_duplicate_findings(stack: harness.Stack) -> None:
    """At most one open finding per agency, kind and subject; each with its evidence."""
    doubled = stack.sql(
        "SELECT agency_id, kind, subject_key, count(*) FROM intelligence_finding "
        "WHERE status = 'proposed' GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    assert not doubled, f"duplicated findings: {doubled}"
    bare = stack.sql(
        "SELECT f.id FROM intelligence_finding f WHERE f.created_by_id IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM intelligence_findingevidence e WHERE e.finding_id = f.id)"
    )
    assert not bare, f"findings without evidence (half-written): {bare}"
