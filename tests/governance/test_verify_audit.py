"""``manage.py verify_audit``: an intact chain passes with its count; a changed, re-hashed or
deleted event is reported at the right event, with a non-zero exit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent
from tests.governance.audit_support import raw_delete, raw_update, triggers_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(cast) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return [
        audit.record(
            action=AuditAction.VIEW,
            actor=cast["analyst"],
            object_type="dispatch.call",
            object_id=str(n),
            details={"n": n},
        )
        for n in range(1, 13)
    ]


def _verify(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_an_intact_chain_verifies_with_its_count_and_head(chain: list[AuditEvent]) -> None:
    code, out, err = _verify("--batch-size", "5")
    assert code == 0
    assert out.startswith("OK: 12 audit events verified; head seq 12")
    assert chain[-1].hash in out
    # More than one batch: progress on stderr, after each batch.
    assert err.splitlines() == [
        "checked 5 of 12 events",
        "checked 10 of 12 events",
        "checked 12 of 12 events",
    ]


def test_an_empty_trail_verifies(db) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = _verify()
    assert code == 0 and out.startswith("OK: 0 audit events verified")


def test_a_changed_event_is_reported_at_its_id(chain: list[AuditEvent]) -> None:
    target = chain[6]
    # First prove the database refuses the change; then do it the way an intruder with owner
    # rights would, with the triggers off.
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_update(target.pk, justification="nothing to see")
    with triggers_off():
        raw_update(target.pk, justification="nothing to see")
    code, out, _ = _verify()
    assert code == 1
    assert out.startswith(f"BROKEN at event id {target.pk} (seq 7, hash_mismatch)")
    assert "6 events before it verified" in out
    report = audit.verify_chain()
    assert report.first_break is not None and report.first_break.event_id == target.pk


def test_a_changed_and_rehashed_event_breaks_the_next_link(chain: list[AuditEvent]) -> None:
    target, following = chain[3], chain[4]
    forged = {**audit.stored_hash_input(target), "actor_username": "someone-else"}
    with triggers_off():
        raw_update(target.pk, actor_username="someone-else", hash=audit.event_hash(**forged))
    code, out, _ = _verify()
    assert code == 1
    assert out.startswith(f"BROKEN at event id {following.pk} (seq 5, broken_link)")


def test_a_deleted_event_is_reported_as_a_gap(chain: list[AuditEvent]) -> None:
    gone, after = chain[8], chain[9]
    with triggers_off():
        raw_delete(gone.pk)
    assert not AuditEvent.objects.filter(pk=gone.pk).exists()
    code, out, _ = _verify("--batch-size", "4")
    assert code == 1
    assert out.startswith(f"BROKEN at event id {after.pk} (seq 10, gap)")
    assert "seq 9 missing" in out


def test_deleting_the_first_events_is_a_gap_too(chain: list[AuditEvent]) -> None:
    with triggers_off():
        raw_delete(chain[0].pk)
        raw_delete(chain[1].pk)
    code, out, _ = _verify()
    assert code == 1 and f"event id {chain[2].pk} (seq 3, gap)" in out and "seq 1-2" in out
