"""Governance services: role groups, the default agency and creating users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from beacon_core.errors import DomainError
from governance import access, services
from governance.choices import Category, Role
from governance.models import Membership

pytestmark = pytest.mark.django_db


def test_roles_ensure_makes_one_group_per_role_and_is_idempotent(db):
    services.roles_ensure()
    services.roles_ensure()
    assert set(Group.objects.filter(name__in=Role.values).values_list("name", flat=True)) == set(
        Role.values
    )
    assert Group.objects.filter(name="dispatcher").count() == 1


def test_the_default_agency_is_created_once(db):
    first = services.agency_get_or_create_default()
    assert services.agency_get_or_create_default().pk == first.pk
    assert first.code == services.DEFAULT_AGENCY_CODE


def test_user_create_gives_roles_and_an_agency(agency):
    user = services.user_create(
        username="dana", password="a-long-enough-password", roles=["dispatcher"], agency=agency
    )
    assert user.check_password("a-long-enough-password")
    assert access.user_roles(user) == {"dispatcher"}
    assert Membership.objects.get(user=user).agency == agency
    assert access.can(user, "create", Category.CALL)


def test_user_create_refuses_unknown_roles_and_creates_nothing(agency):
    with pytest.raises(DomainError) as exc:
        services.user_create(
            username="eve", password="a-long-enough-password", roles=["root"], agency=agency
        )
    assert "roles" in exc.value.errors
    assert not Membership.objects.filter(user__username="eve").exists()


def test_user_set_roles_replaces_roles_but_keeps_other_groups(cast):
    user = cast["dispatcher"]
    user.groups.add(Group.objects.create(name="night shift"))
    services.user_set_roles(user=user, roles=["analyst"])
    assert set(user.groups.values_list("name", flat=True)) == {"analyst", "night shift"}
    assert access.user_roles(user) == {"analyst"}
