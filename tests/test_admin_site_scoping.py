"""The admin site shows an agency's admin only what the access policy lets them see: their
agency's units and premise notes up to their sensitivity level, like every other interface."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dispatch import services
from governance.choices import Sensitivity
from tests.factories import LocationFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(cast: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(cast["admin"])
    return client


def test_another_agencys_unit_is_not_listed_nor_opened(admin_client, agency, other_agency):
    UnitFactory(agency=agency, call_sign="OWN1")
    theirs = UnitFactory(agency=other_agency, call_sign="THEIRS9")
    listing = admin_client.get("/admin/dispatch/unit/").content.decode()
    assert "OWN1" in listing
    assert "THEIRS9" not in listing
    opened = admin_client.get(f"/admin/dispatch/unit/{theirs.pk}/change/")
    missing = admin_client.get("/admin/dispatch/unit/987654/change/")
    assert opened.status_code == missing.status_code == 302  # "does not exist"


def test_the_unit_form_offers_only_the_admins_agency(admin_client, agency, other_agency):
    form = admin_client.get("/admin/dispatch/unit/add/").content.decode()
    assert agency.name in form
    assert other_agency.name not in form


def test_a_note_above_the_admins_level_is_not_opened(admin_client, agency, cast):
    note = services.premise_note_create(
        location=LocationFactory(),
        agency=agency,
        actor=cast["supervisor"],
        text="Informant lives here.",
        sensitivity=Sensitivity.CONFIDENTIAL,
    )
    assert admin_client.get(f"/admin/dispatch/premisenote/{note.pk}/change/").status_code == 302


def test_a_superuser_still_sees_every_agency(other_agency):
    UnitFactory(agency=other_agency, call_sign="THEIRS9")
    root = UserFactory(username="root", is_superuser=True, is_staff=True, agency=False)
    client = Client()
    client.force_login(root)
    assert "THEIRS9" in client.get("/admin/dispatch/unit/").content.decode()
