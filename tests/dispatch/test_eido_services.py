"""Transfers in (``call_transfer_in``) are once per incident, also when two race; and the EIDO
importer's PIDF-LO reader refuses DTDs. No NENA files needed."""

from __future__ import annotations

from typing import Any

import pytest

from beacon_core.errors import DomainError
from dispatch import services
from dispatch.choices import CallEventKind, CallSource
from dispatch.eido.importer import parse_pidf
from dispatch.models import Call, CallType

pytestmark = pytest.mark.django_db
REF = "urn:emergency:uid:incidentid:abc:county.example"


def _transfer(agency: Any, actor: Any) -> tuple[Call, bool]:
    return services.call_transfer_in(
        agency=agency,
        actor=actor,
        incident_ref=REF,
        call_type=CallType.objects.get(code="OTHER"),
        origin_note="Transferred in from county.",
        address="42 W Cellular Street",
    )


def test_a_transfer_is_logged_once_with_its_origin_note(agency, cast) -> None:
    call, created = _transfer(agency, cast["dispatcher"])
    assert created and call.source == CallSource.TRANSFER and call.external_ref == REF
    assert call.events.filter(kind=CallEventKind.NOTE, text__contains="county").count() == 1
    again, created = _transfer(agency, cast["dispatcher"])
    assert (again.pk, created) == (call.pk, False)
    assert Call.objects.filter(external_ref=REF).count() == 1


def test_a_transfer_that_loses_the_race_returns_the_winners_call(agency, cast, monkeypatch) -> None:
    winner, _ = _transfer(agency, cast["dispatcher"])
    real = Call.objects
    seen = {"first": True}

    class Manager:
        """The first look-up misses the winner, as when it commits just after our check."""

        def filter(self, *args: Any, **kwargs: Any) -> Any:
            if seen.pop("first", False):
                return real.none()
            return real.filter(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    class RacingCall:
        objects = Manager()
        DoesNotExist = Call.DoesNotExist

    monkeypatch.setattr(services, "Call", RacingCall)
    call, created = _transfer(agency, cast["dispatcher"])
    assert (call.pk, created) == (winner.pk, False)
    assert real.filter(external_ref=REF).count() == 1


def test_pidf_reader_refuses_entity_declarations() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>'
    with pytest.raises(DomainError) as exc:
        parse_pidf(bomb, "$.x")
    assert "$.x" in exc.value.errors
