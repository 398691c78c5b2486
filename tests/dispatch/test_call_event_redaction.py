"""A call's timeline quotes other categories: an involvement names the person or vehicle, attached
information and edits carry caller identity. Each reader sees only what their role may see, on
every interface that shows the timeline (API detail and events, console panel, call page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dispatch import services
from dispatch.models import CallType
from governance.choices import Sensitivity

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(agency: Any, cast: dict[str, Any]) -> Any:
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="12 Oak St",
        caller_name="Jane Roe",
    )
    secret = services.person_create(
        agency=agency, last_name="Zzsecretperson", sensitivity=Sensitivity.CONFIDENTIAL
    )
    plate, _ = services.vehicle_get_or_create(
        agency=agency, plate="SEC999", sensitivity=Sensitivity.CONFIDENTIAL
    )
    for linked in ({"person": secret}, {"vehicle": plate}):
        services.involvement_create(actor=cast["supervisor"], role="subject", call=call, **linked)
    services.call_attach(
        call_id=call.pk, actor=cast["dispatcher"], text="Second caller.", caller_name="Rita Poe"
    )
    services.call_update(
        call_id=call.pk, actor=cast["dispatcher"], changes={"caller_phone": "+1 210 555 0199"}
    )
    return call


def _bodies(user: Any, call_id: int) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    urls = {
        "api": f"/api/v1/calls/{call_id}/",
        "events": f"/api/v1/calls/{call_id}/events/",
        "console": f"/console/calls/{call_id}.json",
        "page": f"/calls/{call_id}/",
    }
    out = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        out[name] = response.content.decode()
    return out


@pytest.mark.parametrize("role", ["dispatcher", "field"])
def test_involvement_of_a_record_above_the_role_is_not_named(cast, call, role):
    for name, body in _bodies(cast[role], call.pk).items():
        assert "Zzsecretperson" not in body, name
        assert "SEC999" not in body, name


def test_the_supervisor_sees_whom_the_call_involves(cast, call):
    for name, body in _bodies(cast["supervisor"], call.pk).items():
        if name != "page":  # the page's timeline shows the entry text only
            assert "SEC999" in body, name
        assert "Zzsecretperson" in body, name


def test_caller_identity_in_the_timeline_is_redacted_for_the_analyst(cast, call):
    for name, body in _bodies(cast["analyst"], call.pk).items():
        assert "Rita Poe" not in body, name
        assert "555 0199" not in body, name
        assert "Jane Roe" not in body, name


def test_the_dispatcher_still_sees_caller_identity_in_the_timeline(cast, call):
    bodies = _bodies(cast["dispatcher"], call.pk)
    assert "Rita Poe" in bodies["console"]
    assert "555 0199" in bodies["events"]
