"""Access facts shared between requests (production): used while current, stale after any change.

Each decision here is made on a *fresh* user object, as the next request (or another server
process) would make it: nothing kept on the object can hide a stale shared copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import access, access_facts, access_rules
from governance.choices import Action, Category, Sensitivity
from governance.models import AgencyShare, Membership, NeedToKnowGroup, UserGrant
from governance.services import user_set_roles
from tests.factories import AgencyFactory


@pytest.fixture
def shared(settings: Any) -> None:
    """Production's sharing, whichever mode the suite runs in (the test cache is per process)."""
    settings.EMBEDDED = False
    settings.BEACON_ACCESS_CACHE_S = 60


def fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


def queries(decide: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        decide()
    return len(ctx.captured_queries)


def test_the_next_request_decides_without_reading_the_rules_again(shared, cast):
    dispatcher = cast["dispatcher"]
    access.can(fresh(dispatcher), Action.VIEW, Category.CALL)

    again = fresh(dispatcher)
    assert queries(lambda: access.visible_agency_ids(again, Category.CALL)) == 0
    assert access.can(again, Action.VIEW, Category.CALL)


def test_embedded_mode_reads_the_rules_for_each_request(settings, cast):
    settings.EMBEDDED = True  # its cache is per process: another process's change would not reach
    dispatcher = cast["dispatcher"]
    access.can(fresh(dispatcher), Action.VIEW, Category.CALL)
    assert queries(lambda: access.can(fresh(dispatcher), Action.VIEW, Category.CALL)) > 1


def _warm(user: Any, decide: Callable[[Any], Any]) -> Any:
    """Decide once on a fresh object, so the shared copy exists before the change."""
    return decide(fresh(user))


def test_a_role_change_applies_to_the_next_request(shared, cast):
    analyst = cast["analyst"]
    view_calls = lambda u: access.can(u, Action.VIEW, Category.CALL)  # noqa: E731
    before = _warm(analyst, view_calls)
    user_set_roles(user=fresh(analyst), roles=[])
    assert before and not view_calls(fresh(analyst))


def test_a_role_grant_change_applies_to_the_next_request(shared, cast):
    supervisor, admin = cast["supervisor"], cast["admin"]
    export_persons = lambda u: access.can(u, Action.EXPORT, Category.PERSON)  # noqa: E731
    assert not _warm(supervisor, export_persons)
    access_rules.role_grant_set(
        actor=admin,
        role="supervisor",
        category=Category.PERSON,
        action=Action.EXPORT,
        max_sensitivity=Sensitivity.ROUTINE,
        justification="Case file hand-over",
    )
    assert export_persons(fresh(supervisor))


def test_a_personal_grant_and_its_revocation_apply_to_the_next_request(shared, cast):
    analyst, admin = cast["analyst"], cast["admin"]
    export_persons = lambda u: access.can(u, Action.EXPORT, Category.PERSON)  # noqa: E731
    assert not _warm(analyst, export_persons)
    grant = access_rules.user_grant_set(
        actor=admin,
        user_id=analyst.pk,
        category=Category.PERSON,
        action=Action.EXPORT,
        max_sensitivity=Sensitivity.ROUTINE,
        expires_at=None,
        reason="Disclosure request 118",
    )
    assert export_persons(fresh(analyst))
    access_rules.user_grant_revoke(actor=admin, grant_id=grant.pk)
    assert not export_persons(fresh(analyst))


def test_a_personal_grant_stops_counting_when_it_expires_without_any_change(
    shared, cast, monkeypatch
):
    analyst = cast["analyst"]
    expires = timezone.now() + dt.timedelta(seconds=10)  # well inside the shared lifetime
    UserGrant.objects.create(
        user=analyst,
        category=Category.PERSON,
        action=Action.EXPORT,
        max_sensitivity=Sensitivity.ROUTINE,
        expires_at=expires,
        reason="Disclosure request 119",
        granted_at=timezone.now(),
        granted_by=cast["admin"],
    )
    assert _warm(analyst, lambda u: access.can(u, Action.EXPORT, Category.PERSON))

    later = (expires + dt.timedelta(seconds=1)).timestamp()
    monkeypatch.setattr(access.time, "time", lambda: later)
    again = fresh(analyst)
    assert queries(lambda: access.can(again, Action.EXPORT, Category.PERSON)) == 0  # shared copy
    assert not access.can(again, Action.EXPORT, Category.PERSON)


def test_moving_agency_and_shares_apply_to_the_next_request(shared, cast, agency):
    dispatcher = cast["dispatcher"]
    neighbour = AgencyFactory(code="neighbour")
    calls_of = lambda u: access.visible_agency_ids(u, Category.CALL)  # noqa: E731
    assert _warm(dispatcher, calls_of) == {agency.pk}

    share = AgencyShare.objects.create(owner=neighbour, viewer=agency, category=Category.CALL)
    assert calls_of(fresh(dispatcher)) == {agency.pk, neighbour.pk}
    share.delete()
    assert calls_of(fresh(dispatcher)) == {agency.pk}

    Membership.objects.filter(user=dispatcher).get().delete()
    Membership.objects.create(user=dispatcher, agency=neighbour)
    assert calls_of(fresh(dispatcher)) == {neighbour.pk}


def test_joining_a_need_to_know_group_applies_to_the_next_request(shared, cast, agency):
    analyst = cast["analyst"]
    group = NeedToKnowGroup.objects.create(agency=agency, name="Op Lantern")
    assert _warm(analyst, access.need_to_know_group_ids) == frozenset()
    group.members.add(analyst)
    assert access.need_to_know_group_ids(fresh(analyst)) == {group.pk}


def test_a_change_inside_a_request_applies_to_the_user_object_it_already_holds(shared, cast):
    """The copy kept on an object is dropped when this process changes a rule."""
    analyst = cast["analyst"]
    held = fresh(analyst)
    assert access.can(held, Action.VIEW, Category.CALL)
    user_set_roles(user=fresh(analyst), roles=[])
    assert not access.can(held, Action.VIEW, Category.CALL)


def test_while_the_cache_is_unreachable_decisions_read_the_database(shared, cast, monkeypatch):
    """The production cache answers nothing during a Redis outage (beacon_core/cache.py)."""
    from django.core.cache import cache

    dispatcher = cast["dispatcher"]
    monkeypatch.setattr(cache, "get_many", lambda keys, version=None: {})
    monkeypatch.setattr(cache, "get", lambda key, default=None, version=None: default)
    stored: list[str] = []
    monkeypatch.setattr(cache, "set", lambda key, *a, **k: stored.append(key))
    assert access.can(fresh(dispatcher), Action.VIEW, Category.CALL)
    assert queries(lambda: access.can(fresh(dispatcher), Action.VIEW, Category.CALL)) > 1
    assert not [key for key in stored if key.startswith("access:user:")]


def test_shared_copies_expire_after_the_configured_lifetime(shared, settings, cast, monkeypatch):
    """The bound on what no signal sees (a bulk update, SQL typed into the database)."""
    from django.core.cache import cache

    settings.BEACON_ACCESS_CACHE_S = 17
    lifetimes: dict[str, Any] = {}
    real_set = cache.set

    def recording_set(key: str, value: Any, timeout: Any = None, version: Any = None) -> None:
        lifetimes[key] = timeout
        real_set(key, value, timeout)

    monkeypatch.setattr(cache, "set", recording_set)
    access.can(fresh(cast["dispatcher"]), Action.VIEW, Category.CALL)
    user_keys = [k for k in lifetimes if k.startswith("access:user:")]
    assert user_keys and all(lifetimes[k] == 17 for k in user_keys)


def test_a_stale_copy_is_never_used_after_the_generation_changes(shared, cast):
    dispatcher = cast["dispatcher"]
    access.can(fresh(dispatcher), Action.VIEW, Category.CALL)
    access_facts.new_generation()
    assert queries(lambda: access.can(fresh(dispatcher), Action.VIEW, Category.CALL)) > 1
