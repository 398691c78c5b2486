"""The access core: role answers, sensitivity ceilings, agencies, and failing closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied

from governance import access
from governance.choices import Action, Category, Role, Sensitivity
from governance.models import AgencyShare
from governance.policy import DEFAULT_POLICY, MAX_SENSITIVITY
from governance.services import user_set_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

V, C, U, E = Action.VIEW, Action.CREATE, Action.CHANGE, Action.EXPORT


@pytest.mark.parametrize(
    ("role", "action", "category", "allowed"),
    [
        ("dispatcher", C, Category.CALL, True),
        ("dispatcher", U, Category.CALL, True),
        ("dispatcher", V, Category.CALLER_IDENTITY, True),
        ("dispatcher", E, Category.CALL, False),
        ("dispatcher", V, Category.FINDING, False),
        ("dispatcher", V, Category.AUDIT, False),
        ("field", C, Category.CALL, False),
        ("field", U, Category.CALL, True),
        ("field", C, Category.FIELD_OBSERVATION, True),
        ("field", C, Category.AVL, True),
        ("field", V, Category.ASSIGNMENT, True),
        ("supervisor", E, Category.CALL, True),
        ("supervisor", C, Category.ASSIGNMENT, True),
        ("analyst", V, Category.CALL, True),
        ("analyst", V, Category.CALLER_IDENTITY, False),
        ("analyst", U, Category.CALL, False),
        ("analyst", C, Category.FINDING, True),
        ("admin", C, Category.USER, True),
        ("admin", U, Category.REFERENCE_DATA, True),
        ("admin", C, Category.CALL, False),
        ("admin", V, Category.CALLER_IDENTITY, False),
        ("auditor", V, Category.CALL, False),
        ("auditor", V, Category.AUDIT, True),
        ("auditor", E, Category.AUDIT, True),
        ("auditor", U, Category.AUDIT, False),
    ],
)
def test_each_role_answers_for_key_categories(cast, role, action, category, allowed):
    assert access.can(cast[role], action, category) is allowed


@pytest.mark.parametrize(
    ("role", "category", "ceiling"),
    [
        ("dispatcher", Category.PERSON, Sensitivity.RESTRICTED),
        ("field", Category.FIELD_OBSERVATION, Sensitivity.RESTRICTED),
        ("supervisor", Category.PERSON, Sensitivity.CONFIDENTIAL),
        ("analyst", Category.FIELD_OBSERVATION, Sensitivity.CONFIDENTIAL),
        ("auditor", Category.AUDIT, Sensitivity.ROUTINE),
    ],
)
def test_sensitivity_ceilings(cast, role, category, ceiling):
    user = cast[role]
    assert access.max_sensitivity(user, category) == ceiling
    assert access.can(user, V, category, sensitivity=ceiling)
    if ceiling < Sensitivity.CONFIDENTIAL:
        assert not access.can(user, V, category, sensitivity=ceiling + 1)


def test_max_sensitivity_is_zero_for_a_category_the_role_cannot_see(cast):
    assert access.max_sensitivity(cast["auditor"], Category.PERSON) == 0
    assert access.max_sensitivity(cast["analyst"], Category.CALLER_IDENTITY) == 0


def test_roles_add_up(agency):
    both = UserFactory(roles=["dispatcher", "analyst"], agency=agency)
    assert access.can(both, C, Category.CALL)  # from dispatcher
    assert access.can(both, C, Category.FINDING)  # from analyst
    # The higher ceiling comes from the role that grants the action.
    assert access.max_sensitivity(both, Category.PERSON) == Sensitivity.CONFIDENTIAL
    assert access.max_sensitivity(both, Category.PERSON, Action.CHANGE) == Sensitivity.RESTRICTED


def _every_question() -> list[tuple[str, str]]:
    return [(a, c) for a in Action.values for c in Category.values]


def _no_role_user(agency: Any) -> Any:
    return UserFactory(roles=[], agency=agency)


def _inactive_dispatcher(agency: Any) -> Any:
    user = UserFactory(roles=["dispatcher"], agency=agency)
    user.is_active = False
    user.save()
    return user


def _inactive_superuser(agency: Any) -> Any:
    user = UserFactory(roles=[], agency=agency, is_superuser=True)
    user.is_active = False
    user.save()
    return user


@pytest.mark.parametrize(
    "make_user",
    [
        lambda agency: None,
        lambda agency: AnonymousUser(),
        _no_role_user,
        _inactive_dispatcher,
        _inactive_superuser,
    ],
    ids=["none", "anonymous", "no-role", "inactive", "inactive-superuser"],
)
def test_access_fails_closed_everywhere(agency, make_user):
    user = make_user(agency)
    for action, category in _every_question():
        assert not access.can(user, action, category), (action, category)
        with pytest.raises(PermissionDenied):
            access.require(user, action, category)
    for category in Category.values:
        assert access.max_sensitivity(user, category) == 0
        assert access.visible_agency_ids(user, category) == set()
    assert not access.may_write_agency(user, agency.pk)
    assert access.user_roles(user) == frozenset()


def test_a_disabled_account_has_no_agency(agency):
    user = _inactive_dispatcher(agency)
    assert access.user_agency_id(user) is None


def test_groups_that_are_not_roles_grant_nothing(agency):
    user = UserFactory(roles=[], agency=agency)
    user.groups.add(Group.objects.create(name="night shift"))
    assert access.user_roles(user) == frozenset()
    assert not access.can(user, V, Category.CALL)


def test_unknown_actions_and_categories_are_denied_even_to_superusers(agency):
    root = UserFactory(roles=[], agency=agency, is_superuser=True)
    assert not access.can(root, "delete", Category.CALL)
    assert not access.can(UserFactory(roles=["supervisor"], agency=agency), V, "secret_files")


def test_a_superuser_may_do_everything_and_sees_every_agency(agency, other_agency):
    root = UserFactory(roles=[], agency=agency, is_superuser=True)
    assert all(access.can(root, a, c) for a, c in _every_question())
    assert access.visible_agency_ids(root, Category.CALL) is None
    assert access.may_write_agency(root, other_agency.pk)
    assert access.max_sensitivity(root, Category.PERSON) == Sensitivity.CONFIDENTIAL


def test_agency_isolation_and_shares_are_per_category(cast, agency, other_agency):
    dispatcher = cast["dispatcher"]
    assert access.visible_agency_ids(dispatcher, Category.CALL) == {agency.pk}

    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.CALL)
    assert access.visible_agency_ids(dispatcher, Category.CALL) == {agency.pk, other_agency.pk}
    assert access.visible_agency_ids(dispatcher, Category.PERSON) == {agency.pk}
    # Sharing is one way.
    neighbour = UserFactory(roles=["dispatcher"], agency=other_agency)
    assert access.visible_agency_ids(neighbour, Category.CALL) == {other_agency.pk}


def test_writes_stay_in_the_users_own_agency(cast, agency, other_agency):
    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.CALL)
    dispatcher = cast["dispatcher"]
    assert access.may_write_agency(dispatcher, agency.pk)
    assert not access.may_write_agency(dispatcher, other_agency.pk)  # shared is read only
    assert not access.may_write_agency(dispatcher, None)


def test_a_user_without_an_agency_sees_no_agency(reference_data):
    loner = UserFactory(roles=["dispatcher"], agency=False)
    assert access.user_agency_id(loner) is None
    assert access.visible_agency_ids(loner, Category.CALL) == set()
    assert not access.may_write_agency(loner, None)


def test_changing_roles_takes_effect_at_once(cast):
    user = cast["auditor"]
    assert not access.can(user, V, Category.CALL)
    user_set_roles(user=user, roles=["dispatcher"])
    assert access.can(user, V, Category.CALL)
    assert not access.can(user, V, Category.AUDIT)


def test_the_policy_speaks_only_known_roles_categories_and_actions():
    assert set(DEFAULT_POLICY) == set(Role.values) == set(MAX_SENSITIVITY)
    for grants in DEFAULT_POLICY.values():
        assert set(grants) <= set(Category.values)
        for actions in grants.values():
            assert set(actions) <= set(Action.values)
    # Data minimisation: caller identity is never exported, and only the audit role reads audit.
    assert not any(E in g.get(Category.CALLER_IDENTITY, ()) for g in DEFAULT_POLICY.values())
    assert [r for r, g in DEFAULT_POLICY.items() if Category.AUDIT in g] == [Role.AUDITOR]
