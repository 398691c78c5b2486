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
