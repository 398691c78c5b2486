"""Accepted findings reach the dispatcher at intake; unreviewed ones and other agencies' do not."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

LAT, LON = 29.4301, -98.4902


def _finding(
    agency, *, kind, status, location=None, cells=(), text="14 calls in 28 days; expected 2.1"
):
    now = timezone.now()
    return Finding.objects.create(
        agency=agency,
        kind=kind,
        subject_key=f"{kind}:{location.pk if location else cells[0]}",
        location=location,
        cells=list(cells),
        latitude=LAT,
        longitude=LON,
        window_start=now - dt.timedelta(days=28),
        window_end=now,
        statistics={},
        explanation=text,
        status=status,
    )


def _context(client, **params):
    return client.get("/console/context.json", params).json()


def test_an_accepted_problem_location_is_flagged_at_intake(client, cast, agency):
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="NOISE"),
        address="412 Front St",
        latitude=LAT,
        longitude=LON,
    )
    _finding(
        agency,
        kind=FindingKind.REPEAT_LOCATION,
        status=FindingStatus.ACCEPTED,
        location=call.location,
    )
    client.force_login(cast["dispatcher"])
    flags = _context(client, address="412 front street")["flags"]
    assert [f["label"] for f in flags] == ["Flagged problem location"]
    assert "14 calls in 28 days" in flags[0]["detail"]
    assert flags[0]["url"] == ""  # dispatchers may not open findings themselves


def test_a_point_inside_an_accepted_hotspot_is_flagged(client, cast, agency):
    cell = h3.latlng_to_cell(LAT, LON, 9)
    _finding(agency, kind=FindingKind.HOTSPOT, status=FindingStatus.ACCEPTED, cells=[cell])
    client.force_login(cast["dispatcher"])
    assert [f["kind"] for f in _context(client, lat=LAT, lon=LON)["flags"]] == ["hotspot"]
    far = _context(client, lat=LAT + 0.05, lon=LON)["flags"]
    assert far == []


def test_proposed_findings_are_not_shown_until_a_person_accepts_them(client, cast, agency):
    cell = h3.latlng_to_cell(LAT, LON, 9)
    _finding(agency, kind=FindingKind.HOTSPOT, status=FindingStatus.PROPOSED, cells=[cell])
    client.force_login(cast["dispatcher"])
    assert _context(client, lat=LAT, lon=LON)["flags"] == []


def test_another_agencys_findings_stay_with_that_agency(client, cast):
    other = AgencyFactory(code="neighbour")
    cell = h3.latlng_to_cell(LAT, LON, 9)
    _finding(other, kind=FindingKind.HOTSPOT, status=FindingStatus.ACCEPTED, cells=[cell])
    client.force_login(cast["dispatcher"])
    assert _context(client, lat=LAT, lon=LON)["flags"] == []


def test_accepted_hotspots_are_drawn_on_the_live_map_and_proposed_ones_are_not(
    client, cast, agency
):
    centre = h3.latlng_to_cell(LAT, LON, 9)
    _finding(
        agency,
        kind=FindingKind.HOTSPOT,
        status=FindingStatus.ACCEPTED,
        cells=list(h3.grid_disk(centre, 1)),
    )
    far = h3.latlng_to_cell(LAT + 0.1, LON, 9)
    _finding(agency, kind=FindingKind.HOTSPOT, status=FindingStatus.PROPOSED, cells=[far])
    client.force_login(cast["dispatcher"])
    areas = client.get("/console/snapshot.json").json()["areas"]
    assert len(areas) == 1
    ring = areas[0]["rings"][0]
    assert len(ring) >= 6  # seven merged hexagons outline one ring
    lats = [p[0] for p in ring]
    assert min(lats) < LAT < max(lats)
