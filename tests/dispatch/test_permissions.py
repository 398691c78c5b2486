"""Per-model access functions: agency isolation, shares, sensitivity and write rights."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from beacon_core.errors import NotFoundError
from dispatch import permissions
from dispatch.models import FieldObservation, Person, PremiseNote
from governance.choices import Category, Sensitivity
from governance.models import AgencyShare
from tests.factories import CallFactory, LocationFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_call(agency):
    return CallFactory(agency=agency)


@pytest.fixture
def foreign_call(other_agency):
    return CallFactory(agency=other_agency)


def test_a_dispatcher_sees_own_agency_calls_only(cast, own_call, foreign_call):
    assert list(permissions.calls_visible_to(cast["dispatcher"])) == [own_call]


def test_another_agencys_call_looks_exactly_like_a_missing_one(cast, own_call, foreign_call):
    dispatcher = cast["dispatcher"]
    assert permissions.access_call(dispatcher, own_call.pk) == own_call
    with pytest.raises(NotFoundError) as hidden:
        permissions.access_call(dispatcher, foreign_call.pk)
    with pytest.raises(NotFoundError) as missing:
        permissions.access_call(dispatcher, 10**9)
    assert type(hidden.value) is type(missing.value)
    assert hidden.value.args == missing.value.args


@pytest.mark.parametrize("bad_id", ["abc", None, "1; DROP TABLE", 3.5j])
def test_malformed_ids_are_not_found(cast, own_call, bad_id):
    with pytest.raises(NotFoundError):
        permissions.access_call(cast["dispatcher"], bad_id)


def test_a_share_grants_view_but_not_write(cast, agency, other_agency, foreign_call):
    dispatcher = cast["dispatcher"]
    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.CALL)
    assert permissions.access_call(dispatcher, foreign_call.pk) == foreign_call
    with pytest.raises(PermissionDenied):
        permissions.access_call(dispatcher, foreign_call.pk, for_write=True)


def test_a_share_of_one_category_does_not_open_another(cast, agency, other_agency):
    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.PERSON)
    foreign = CallFactory(agency=other_agency)
    with pytest.raises(NotFoundError):
        permissions.access_call(cast["dispatcher"], foreign.pk)


@pytest.mark.parametrize(
    ("role", "visible", "writable"),
    [
        ("dispatcher", True, True),
        ("supervisor", True, True),
        ("field", True, True),
        ("analyst", True, False),
        ("admin", True, False),
        ("auditor", False, False),
    ],
)
def test_call_access_by_role(cast, own_call, role, visible, writable):
    user = cast[role]
    if not visible:
        with pytest.raises(NotFoundError):
            permissions.access_call(user, own_call.pk)
        assert not permissions.calls_visible_to(user).exists()
        return
    assert permissions.access_call(user, own_call.pk) == own_call
    if writable:
        assert permissions.access_call(user, own_call.pk, for_write=True) == own_call
    else:
        with pytest.raises(PermissionDenied):
            permissions.access_call(user, own_call.pk, for_write=True)


def test_a_superuser_sees_every_agency(agency, own_call, foreign_call):
    root = UserFactory(roles=[], agency=agency, is_superuser=True)
    assert set(permissions.calls_visible_to(root)) == {own_call, foreign_call}
    assert permissions.access_call(root, foreign_call.pk, for_write=True) == foreign_call


def test_a_disabled_dispatcher_sees_nothing(cast, own_call):
    user = cast["dispatcher"]
    user.is_active = False
    user.save()
    assert not permissions.calls_visible_to(user).exists()
    with pytest.raises(NotFoundError):
        permissions.access_call(user, own_call.pk)


def test_a_dispatcher_without_an_agency_sees_nothing(reference_data, own_call):
    loner = UserFactory(roles=["dispatcher"], agency=False)
    assert not permissions.calls_visible_to(loner).exists()


def test_units_are_isolated_by_agency(cast, agency, other_agency):
    mine, theirs = UnitFactory(agency=agency), UnitFactory(agency=other_agency)
    assert list(permissions.units_visible_to(cast["dispatcher"])) == [mine]
    with pytest.raises(NotFoundError):
        permissions.access_unit(cast["dispatcher"], theirs.pk)
    with pytest.raises(PermissionDenied):
        permissions.access_unit(cast["analyst"], mine.pk, for_write=True)


def _person(agency, level: int) -> Person:
    return Person.objects.create(
        agency=agency, last_name=f"L{level}", name_key=f"L{level}|", sensitivity=level
    )


@pytest.mark.parametrize(
    ("role", "levels"),
    [
        ("dispatcher", {Sensitivity.ROUTINE, Sensitivity.RESTRICTED}),
        ("field", {Sensitivity.ROUTINE, Sensitivity.RESTRICTED}),
        ("supervisor", {Sensitivity.ROUTINE, Sensitivity.RESTRICTED, Sensitivity.CONFIDENTIAL}),
        ("analyst", {Sensitivity.ROUTINE, Sensitivity.RESTRICTED, Sensitivity.CONFIDENTIAL}),
        ("admin", set()),
        ("auditor", set()),
    ],
)
def test_persons_above_a_roles_ceiling_do_not_exist_for_it(cast, agency, role, levels):
    people = {level: _person(agency, level) for level in Sensitivity.values}
    visible = set(permissions.persons_visible_to(cast[role]).values_list("sensitivity", flat=True))
    assert visible == levels
    if Sensitivity.CONFIDENTIAL not in levels:
        with pytest.raises(NotFoundError):
            permissions.access_person(cast[role], people[Sensitivity.CONFIDENTIAL].pk)


def test_observations_and_premise_notes_respect_ceilings(cast, agency):
    location = LocationFactory()
    for level in Sensitivity.values:
        FieldObservation.objects.create(
            agency=agency,
            observed_at="2025-01-01T00:00:00Z",
            category="other",
            latitude=29.4,
            longitude=-98.4,
            sensitivity=level,
        )
        PremiseNote.objects.create(
            location=location, agency=agency, text=f"note {level}", sensitivity=level
        )
    assert permissions.observations_visible_to(cast["field"]).count() == 2
    assert permissions.observations_visible_to(cast["supervisor"]).count() == 3
    assert permissions.premise_notes_visible_to(cast["dispatcher"]).count() == 2
    assert permissions.premise_notes_visible_to(cast["auditor"]).count() == 0


def test_locations_are_shared_between_agencies_but_not_with_every_role(cast):
    location = LocationFactory()
    assert permissions.access_location(cast["dispatcher"], location.pk) == location
    with pytest.raises(NotFoundError):
        permissions.access_location(cast["auditor"], location.pk)


def test_caller_identity_is_its_own_category(cast):
    assert permissions.can_see_caller_identity(cast["dispatcher"])
    assert permissions.can_see_caller_identity(cast["field"])
    assert not permissions.can_see_caller_identity(cast["analyst"])
    assert not permissions.can_see_caller_identity(cast["admin"])


def test_only_staff_signed_to_a_unit_post_its_positions(cast, agency):
    unit = UnitFactory(agency=agency)
    field_user = cast["field"]
    with pytest.raises(PermissionDenied):
        permissions.access_unit_position_write(field_user, unit.pk)
    unit.users.add(field_user)
    assert permissions.access_unit_position_write(field_user, unit.pk) == unit
    # Dispatchers see AVL but do not post it.
    unit.users.add(cast["dispatcher"])
    with pytest.raises(PermissionDenied):
        permissions.access_unit_position_write(cast["dispatcher"], unit.pk)
