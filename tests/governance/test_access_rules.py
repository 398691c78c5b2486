"""Access rules admins keep in the database: grants by role and by person (with expiry), the
page that edits them, their audit events, lock-out protection, and immediate effect, including
for open websockets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from beacon_core.errors import DomainError, NotFoundError
from governance import access_rules
from governance.access import can, forget_cached_access, max_sensitivity
from governance.choices import Action, AuditAction, Category, Role, Sensitivity
from governance.models import AccessPolicyState, AuditEvent, RoleGrant, UserGrant
from governance.policy import default_grant_rows, seed_default_grants
from tests.dispatch.test_consumers import communicator, in_sync_thread
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
V, C, U, E = Action.VIEW, Action.CREATE, Action.CHANGE, Action.EXPORT


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_defaults_are_seeded_once_and_an_emptied_table_stays_empty() -> None:
    assert RoleGrant.objects.count() == len(default_grant_rows())
    RoleGrant.objects.all().delete()
    assert not seed_default_grants(RoleGrant, AccessPolicyState, timezone.now())
    assert RoleGrant.objects.count() == 0  # revoking everything means nothing is allowed
    AccessPolicyState.objects.all().delete()  # a new (or flushed) database
    assert seed_default_grants(RoleGrant, AccessPolicyState, timezone.now())
    assert RoleGrant.objects.count() == len(default_grant_rows())


def test_decisions_follow_the_table_at_once(cast) -> None:
    dispatcher = cast["dispatcher"]
    assert can(dispatcher, V, Category.PERSON)
    assert max_sensitivity(dispatcher, Category.PERSON) == Sensitivity.RESTRICTED
    access_rules.role_grant_set(
        actor=cast["admin"],
        role=Role.DISPATCHER,
        category=Category.PERSON,
        action=V,
        max_sensitivity=Sensitivity.ROUTINE,
    )
    forget_cached_access(dispatcher)  # what a new request or the websocket consumer does
    assert max_sensitivity(dispatcher, Category.PERSON) == Sensitivity.ROUTINE
    access_rules.role_grant_set(
        actor=cast["admin"],
        role=Role.DISPATCHER,
        category=Category.PERSON,
        action=V,
        max_sensitivity=None,
    )
    forget_cached_access(dispatcher)
    assert not can(dispatcher, V, Category.PERSON)
    event = AuditEvent.objects.filter(action=AuditAction.PERMISSION_CHANGE).order_by("-seq")[0]
    assert event.object_id == "dispatcher/person/view" and event.actor == cast["admin"]
    assert event.details["max_sensitivity"] == [1, None]


def test_personal_grants_expire(cast) -> None:
    analyst = cast["analyst"]
    assert not can(analyst, E, Category.PERSON)
    grant = access_rules.user_grant_set(
        actor=cast["admin"],
        user_id=analyst.pk,
        category=Category.PERSON,
        action=E,
        max_sensitivity=Sensitivity.RESTRICTED,
        expires_at=timezone.now() + dt.timedelta(hours=1),
        reason="Case 2026-118 disclosure",
    )
    forget_cached_access(analyst)
    assert can(analyst, E, Category.PERSON, sensitivity=Sensitivity.RESTRICTED)
    assert not can(analyst, E, Category.PERSON, sensitivity=Sensitivity.CONFIDENTIAL)
    UserGrant.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    forget_cached_access(analyst)
    assert not can(analyst, E, Category.PERSON)
    access_rules.user_grant_revoke(actor=cast["admin"], grant_id=grant.pk)
    assert not UserGrant.objects.exists()
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.PERMISSION_CHANGE, object_type="governance.usergrant"
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "chief"}, "role"),
        ({"category": "secrets"}, "category"),
        ({"action": "delete"}, "action"),
        ({"max_sensitivity": 7}, "max_sensitivity"),
        ({"max_sensitivity": "high"}, "max_sensitivity"),
        ({"max_sensitivity": True}, "max_sensitivity"),
        ({"justification": "x" * 2001}, "justification"),
    ],
)
def test_bad_role_grant_input_names_the_field(cast, kwargs, field) -> None:
    values = {"role": Role.FIELD, "category": Category.CALL, "action": V, "max_sensitivity": 1}
    with pytest.raises(DomainError) as err:
        access_rules.role_grant_set(actor=cast["admin"], **{**values, **kwargs})
    assert field in err.value.errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"user_id": "nobody"}, "user"),
        ({"reason": "  "}, "reason"),
        ({"max_sensitivity": None}, "max_sensitivity"),
        ({"expires_at": timezone.now() - dt.timedelta(days=1)}, "expires_at"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "expires_at"),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_bad_personal_grant_input_names_the_field(cast, kwargs, field) -> None:
    values = {
        "user_id": cast["field"].pk,
        "category": Category.CALL,
        "action": E,
        "max_sensitivity": 1,
        "expires_at": None,
        "reason": "Audit sample",
    }
    with pytest.raises(DomainError) as err:
        access_rules.user_grant_set(actor=cast["admin"], **{**values, **kwargs})
    assert field in err.value.errors


def test_only_administrators_change_rules_and_other_agencies_are_out_of_reach(
    cast, other_agency
) -> None:
    for role in ("dispatcher", "supervisor", "analyst", "auditor", "field"):
        with pytest.raises(PermissionDenied):
            access_rules.role_grant_set(
                actor=cast[role],
                role=Role.FIELD,
                category=Category.CALL,
                action=E,
                max_sensitivity=1,
            )
    stranger = UserFactory(roles=["field"], agency=other_agency)
    with pytest.raises(DomainError) as err:
        access_rules.user_grant_set(
            actor=cast["admin"],
            user_id=stranger.pk,
            category=Category.CALL,
            action=V,
            max_sensitivity=1,
            expires_at=None,
            reason="x",
        )
    assert "user" in err.value.errors
    with pytest.raises(NotFoundError):
        access_rules.user_grant_revoke(actor=cast["admin"], grant_id=10**9)


def test_the_last_way_to_change_the_rules_cannot_be_revoked(cast) -> None:
    with pytest.raises(DomainError) as err:
        access_rules.role_grant_set(
            actor=cast["admin"],
            role=Role.ADMIN,
            category=Category.ACCESS_POLICY,
            action=U,
            max_sensitivity=None,
        )
    assert "max_sensitivity" in err.value.errors
    assert can(cast["admin"], U, Category.ACCESS_POLICY)


def test_the_page_shows_and_saves_the_matrix_in_one_transaction(cast) -> None:
    admin = signed_in(cast["admin"])
    page = admin.get("/governance/access/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="g:dispatcher:person:view"' in html and 'id="grant-form"' in html
    assert 'href="/governance/access/">Access</a>' in html
    saved = admin.post(
        "/governance/access/roles/",
        {"g:dispatcher:person:view": "", "g:field:call:export": "1", "justification": "T-1"},
    )
    assert saved.status_code == 302 and "saved=2" in saved["Location"]
    assert not RoleGrant.objects.filter(
        role="dispatcher", category="person", action="view"
    ).exists()
    assert (
        RoleGrant.objects.get(role="field", category="call", action="export").max_sensitivity == 1
    )
    # One bad cell: nothing of the batch is written, and the error names the cell.
    bad = admin.post(
        "/governance/access/roles/",
        {"g:field:call:export": "", "g:admin:access_policy:change": "", "justification": "T-2"},
    )
    assert bad.status_code == 400 and "admin / access_policy / change" in bad.content.decode()
    assert RoleGrant.objects.filter(role="field", category="call", action="export").exists()


def test_the_page_adds_and_revokes_personal_grants_and_shows_effective_rights(cast) -> None:
    admin = signed_in(cast["admin"])
    added = admin.post(
        "/governance/access/grants/",
        {
            "user": cast["analyst"].pk,
            "action": "export",
            "category": "person",
            "max_sensitivity": "2",
            "expires_at": "2099-01-01T12:00",
            "reason": "Case 7",
        },
    )
    assert added.status_code == 302
    grant = UserGrant.objects.get()
    assert grant.expires_at.year == 2099
    page = admin.get(f"/governance/access/?user={cast['analyst'].pk}").content.decode()
    assert "export (up to Restricted, personal)" in page
    bad = admin.post("/governance/access/grants/", {"user": cast["analyst"].pk, "action": "x"})
    assert bad.status_code == 400 and "action" in bad.content.decode()
    revoked = admin.post(f"/governance/access/grants/{grant.pk}/revoke/")
    assert revoked.status_code == 302 and not UserGrant.objects.exists()
    assert admin.post("/governance/access/grants/999999/revoke/").status_code == 404


@pytest.mark.parametrize("role", ["dispatcher", "field", "supervisor", "analyst", "auditor"])
def test_other_roles_may_not_open_or_post(cast, role) -> None:
    client = signed_in(cast[role])
    assert client.get("/governance/access/").status_code == 403
    assert client.post("/governance/access/roles/", {"g:field:call:export": "1"}).status_code == 403
    assert not RoleGrant.objects.filter(role="field", category="call", action="export").exists()


@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_is_told_and_re_authorised(agency) -> None:
    def setup():  # type: ignore[no-untyped-def]
        return (
            UserFactory(roles=["analyst"], agency=agency),
            UserFactory(roles=["admin"], agency=agency),
        )

    analyst, admin = await in_sync_thread(setup)
    comm = await communicator(analyst)
    connected, _ = await comm.connect(timeout=5)
    assert connected and (await comm.receive_json_from(timeout=5))["type"] == "hello"

    def revoke(category: str) -> None:
        for action in (V,):
            access_rules.role_grant_set(
                actor=admin,
                role=Role.ANALYST,
                category=category,
                action=action,
                max_sensitivity=None,
            )

    await in_sync_thread(lambda: revoke(Category.PERSON))
    assert (await comm.receive_json_from(timeout=5)) == {"type": "access.changed"}
    # Everything it could receive taken away: the socket closes as "not allowed".
    await in_sync_thread(
        lambda: [revoke(c) for c in (Category.CALL, Category.FINDING, Category.ASSIGNMENT)]
    )
    output = await comm.receive_output(timeout=5)
    while output.get("type") == "websocket.send":
        output = await comm.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4403}
    await comm.disconnect()


def test_one_announcement_per_transaction_however_many_cells(
    cast, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from governance import access_rules as rules

    sent: list[str] = []
    monkeypatch.setattr(rules, "publish_now", lambda group, event: sent.append(group))
    client = signed_in(cast["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(
            "/governance/access/roles/",
            {
                "g:field:call:export": "1",
                "g:field:person:export": "1",
                "g:analyst:unit:change": "1",
            },
        )
    assert saved.status_code == 302 and "saved=3" in saved["Location"]
    assert sent == [rules.ACCESS_GROUP]
