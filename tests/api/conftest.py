"""Fixtures for the REST API tests: calls and units made through the services, anonymous client."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from dispatch import services
from dispatch.models import Call, CallType, Unit
from governance.models import Agency
from tests.factories import UnitFactory


@pytest.fixture
def anon() -> APIClient:
    """A client that has not signed in."""
    return APIClient()


@pytest.fixture
def make_call(agency: Agency, cast: dict[str, Any]):
    """``make_call(**overrides)``: a call logged through ``call_create`` by the dispatcher."""

    def _make(**overrides: Any) -> Call:
        values: dict[str, Any] = {
            "agency": agency,
            "actor": cast["dispatcher"],
            "call_type": CallType.objects.get(code="THEFT"),
            "address": "123 North Main Street Apt 4",
            "latitude": 29.42,
            "longitude": -98.49,
            "caller_name": "Jane Roe",
            "caller_phone": "+1 210 555 0100",
            "narrative": "Bicycle taken from porch.",
        }
        values.update(overrides)
        return services.call_create(**values)

    return _make


@pytest.fixture
def call(make_call) -> Call:
    """One pending call in the default agency."""
    return make_call()


@pytest.fixture
def unit(agency: Agency, cast: dict[str, Any]) -> Unit:
    """An available unit of the default agency, with the field user signed to it."""
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    return unit


@pytest.fixture
def other_call(other_agency: Agency, reference_data: None, cast: dict[str, Any]) -> Call:
    """A call of the neighbouring agency (logged by the default dispatcher, bypassing the API)."""
    return services.call_create(
        agency=other_agency,
        actor=None,
        call_type=CallType.objects.get(code="NOISE"),
        address="9 Elm St",
        caller_name="Neighbour",
    )


@pytest.fixture
def other_unit(other_agency: Agency) -> Unit:
    """A unit of the neighbouring agency."""
    return UnitFactory(agency=other_agency, call_sign="N1")
