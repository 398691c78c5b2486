"""The audit trail: hash-chained appends, refused changes (ORM and database), sign-in hooks, and
deleting a user account still working."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent, AuditTrailImmutableError
from tests.factories import TEST_PASSWORD, UserFactory
from tests.governance.audit_support import raw_delete, raw_update

pytestmark = pytest.mark.django_db


def _event(**kwargs: object) -> AuditEvent:
    return audit.record(action=kwargs.pop("action", AuditAction.CREATE), **kwargs)  # type: ignore[arg-type]


# --- the chain ------------------------------------------------------------------------------


def test_events_chain_each_to_the_one_before(cast) -> None:  # type: ignore[no-untyped-def]
    first = _event(actor=cast["analyst"], object_type="dispatch.call", object_id=7)
    second = _event(actor=cast["supervisor"], action=AuditAction.CHANGE)
    assert (first.seq, first.prev_hash) == (1, audit.GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    stored = AuditEvent.objects.get(pk=first.pk)
    payload = audit.canonical_bytes(**audit.stored_hash_input(stored))
    assert hashlib.sha256(payload).hexdigest() == stored.hash
    # The canonical form: sorted keys, no spaces, the version, the previous hash.
    assert payload.startswith(b'{"action":"create","actor":"analyst1","agency":')
    assert b'"prev":"' + audit.GENESIS_HASH.encode() + b'"' in payload and b'"v":1' in payload
    assert audit.verify_chain().intact


def test_an_object_fills_type_id_label_and_agency(cast, agency) -> None:  # type: ignore[no-untyped-def]
    event = audit.record(action=AuditAction.VIEW, actor=cast["admin"], obj=agency)
    assert (event.object_type, event.object_id, event.object_label, event.agency_id) == (
        "governance.agency",
        str(agency.pk),
        f"agency #{agency.pk}",  # a neutral label by default, never str(obj) (content)
        agency.pk,
    )
    assert event.actor_username == "admin1" and event.actor_id == cast["admin"].pk


def test_details_survive_the_database_round_trip_unchanged(cast) -> None:  # type: ignore[no-untyped-def]
    event = _event(
        actor=cast["analyst"],
        details={
            "floats": [0.1, 1e20, 1e-7, float("nan")],
            "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "nul": "a\x00b",
            "surrogate": "x\ud800y",
            "tags": {"b", "a"},
            "nested": {"z": 1, "a": [True, None]},
        },
        object_label="label\x00with nul",
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details["floats"] == [0.1, 10**20, 1e-7, "nan"]
    assert stored.details["nul"] == "ab" and stored.details["tags"] == ["a", "b"]
    assert stored.object_label == "labelwith nul"
    assert audit.event_hash(**audit.stored_hash_input(stored)) == stored.hash
    assert audit.verify_chain().intact


def test_unknown_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit.record(action="tamper")


def test_the_event_rolls_back_with_the_callers_transaction(cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), transaction.atomic():
        _event(actor=cast["analyst"])
        raise RuntimeError("the change it describes failed")
    assert not AuditEvent.objects.exists()
    assert _event(actor=cast["analyst"]).seq == 1  # no hole: seq follows what committed


def test_changed_fields_lists_only_what_changed() -> None:
    before = {"status": "open", "priority": 2, "note": "x", "gone": 1}
    after = {"status": "closed", "priority": 2, "note": "x", "new": dt.date(2026, 1, 1)}
    assert audit.changed_fields(before, after) == {
        "gone": [1, None],
        "new": [None, "2026-01-01"],
        "status": ["open", "closed"],
    }


# --- request facts ---------------------------------------------------------------------------


def test_ip_is_remote_addr_unless_the_proxy_is_trusted(cast, settings) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        HTTP_USER_AGENT="U" * 1000,
    )
    settings.BEACON_TRUST_X_FORWARDED_FOR = False
    event = audit.record(action=AuditAction.VIEW, actor=cast["auditor"], request=request)
    assert event.ip == "10.0.0.5" and len(event.user_agent) == audit.MAX_USER_AGENT
    settings.BEACON_TRUST_X_FORWARDED_FOR = True
    # The last entry is what our proxy saw; the first is whatever the client claimed.
    assert audit.client_ip(request) == "203.0.113.9"
    request.META["HTTP_X_FORWARDED_FOR"] = "not-an-address"
    assert audit.client_ip(request) == "10.0.0.5"


def test_a_service_called_from_a_view_gets_the_request_through_the_middleware(cast) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="phone")
    with audit.bound_request(request):
        event = _event(actor=cast["analyst"])
    assert (event.ip, event.user_agent) == ("192.0.2.44", "phone")
    assert _event(actor=cast["analyst"]).ip == ""  # outside the request again


# --- append-only -----------------------------------------------------------------------------


def test_the_orm_refuses_changes_and_deletes(cast) -> None:  # type: ignore[no-untyped-def]
    event = _event(actor=cast["analyst"])
    event.object_label = "rewritten"
    with pytest.raises(AuditTrailImmutableError):
        event.save()
    with pytest.raises(AuditTrailImmutableError):
        event.delete()
    with pytest.raises(AuditTrailImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(object_label="rewritten")
    with pytest.raises(AuditTrailImmutableError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditTrailImmutableError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=99, at=event.at, hash="x", prev_hash="y")])


def test_the_database_refuses_update(cast) -> None:  # type: ignore[no-untyped-def]
    event = _event(actor=cast["analyst"])
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_update(event.pk, object_label="rewritten")
    # Clearing the actor is allowed only alone: not with another change, not to another user.
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_update(event.pk, actor_id=None, object_label="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_update(event.pk, actor_id=cast["supervisor"].pk)
    assert AuditEvent.objects.get(pk=event.pk).object_label == ""


@pytest.mark.postgres
def test_postgresql_refuses_delete(cast) -> None:  # type: ignore[no-untyped-def]
    event = _event(actor=cast["analyst"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw_delete(event.pk)
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_migration_installed_the_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'governance_auditevent'::regclass "
                "AND NOT tgisinternal"
            )
            assert [row[0] for row in cursor.fetchall()] == ["governance_auditevent_append_only"]
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'governance_auditevent'"
            )
            assert [row[0] for row in cursor.fetchall()] == ["governance_auditevent_no_update"]


def test_deleting_a_user_account_still_works_and_the_trail_keeps_the_name(agency) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory(username="leaver", roles=["analyst"], agency=agency)
    event = _event(actor=user, object_type="dispatch.call", object_id="3")
    user.delete()
    assert not get_user_model().objects.filter(username="leaver").exists()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_username) == (None, "leaver")
    assert audit.verify_chain().intact


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain(agency) -> None:  # type: ignore[no-untyped-def]
    """Each thread has its own connection and commits per event; the lock keeps one line."""
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for k in range(15):
                with transaction.atomic():
                    audit.record(action=AuditAction.VIEW, object_id=f"{n}-{k}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit.verify_chain(batch_size=7)
    assert report.intact and report.checked == 60 == report.head_seq


# --- sign-in hooks ----------------------------------------------------------------------------


def test_sign_in_sign_out_and_failed_sign_in_are_recorded(cast) -> None:  # type: ignore[no-untyped-def]
    client = Client(HTTP_USER_AGENT="pytest-browser")
    bad = client.post("/login/", {"username": "analyst1", "password": "wrong-password-123"})
    assert bad.status_code == 200  # the form again, with an error
    ok = client.post("/login/", {"username": "analyst1", "password": TEST_PASSWORD})
    assert ok.status_code == 302
    client.post("/logout/")
    events = list(AuditEvent.objects.order_by("seq"))
    assert [(e.action, e.actor_username) for e in events] == [
        (AuditAction.LOGIN_FAILED, "analyst1"),
        (AuditAction.LOGIN, "analyst1"),
        (AuditAction.LOGOUT, "analyst1"),
    ]
    failed, login, logout = events
    assert failed.actor_id is None and login.actor_id == logout.actor_id == cast["analyst"].pk
    assert login.agency_id == cast["analyst"].membership.agency_id
    assert all(e.ip == "127.0.0.1" and e.user_agent == "pytest-browser" for e in events)
    # The password tried is nowhere in the event, not even masked.
    for e in events:
        stored = audit.canonical_bytes(**audit.stored_hash_input(e)).decode()
        assert "wrong-password" not in stored and TEST_PASSWORD not in stored
        assert "password" not in stored
    assert audit.verify_chain().intact


def test_a_failed_sign_in_with_an_unknown_or_huge_username_is_recorded(db) -> None:  # type: ignore[no-untyped-def]
    Client().post("/login/", {"username": "nobody" * 100, "password": "x"})
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.LOGIN_FAILED
    assert event.actor_username == ("nobody" * 100)[: audit.MAX_USERNAME]
