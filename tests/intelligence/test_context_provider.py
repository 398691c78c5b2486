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


# --- live near-repeat risk zones --------------------------------------------------------------


def _burglary(agency, actor, *, lat, lon, received_at=None):
    call = services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="BURG-RES"),
        address="300 Birch St",
        latitude=lat,
        longitude=lon,
    )
    if received_at is not None:
        type(call).objects.filter(pk=call.pk).update(received_at=received_at)
    return call


def _near_repeat(agency, *, status=FindingStatus.ACCEPTED):
    finding = _finding(
        agency,
        kind=FindingKind.NEAR_REPEAT,
        status=status,
        cells=["nearrepeat"],
        text="Burglary pairs within 200 m and 7 days: Knox ratio 3.1.",
    )
    finding.statistics = {
        "category": "burglary",
        "call_types": ["BURG-COM", "BURG-RES"],
        "zone_radius_m": 200.0,
        "zone_days": 14.0,
    }
    finding.save(update_fields=["statistics"])
    return finding


def test_a_new_burglary_raises_a_zone_at_once_under_an_accepted_pattern(client, cast, agency):
    pattern = _near_repeat(agency)
    call = _burglary(agency, cast["dispatcher"], lat=LAT, lon=LON)
    client.force_login(cast["supervisor"])
    # 111 m north: inside the 200 m zone; 1.1 km north: outside.
    (flag,) = _context(client, lat=LAT + 0.001, lon=LON)["flags"]
    assert flag["kind"] == "near_repeat" and flag["label"] == "Near-repeat risk (burglary)"
    assert call.number in flag["detail"] and "200 m" in flag["detail"]
    assert flag["url"] == f"/patterns/findings/{pattern.pk}/"
    assert _context(client, lat=LAT + 0.01, lon=LON)["flags"] == []
    (area,) = client.get("/console/snapshot.json").json()["areas"]
    assert area["kind"] == "near_repeat" and call.number in area["detail"]
    ring = area["rings"][0]
    assert ring[0] == ring[-1] and len(ring) == 25
    lats = [p[0] for p in ring]
    assert max(lats) - LAT == pytest.approx(200 / 111_320, rel=1e-3)


def test_no_zone_without_an_accepted_pattern_after_the_lifetime_or_for_another_agency(
    client, cast, agency
):
    client.force_login(cast["dispatcher"])
    _burglary(agency, cast["dispatcher"], lat=LAT, lon=LON)
    proposed = _near_repeat(agency, status=FindingStatus.PROPOSED)
    assert _context(client, lat=LAT, lon=LON)["flags"] == []
    Finding.objects.filter(pk=proposed.pk).update(status=FindingStatus.ACCEPTED)
    assert [f["kind"] for f in _context(client, lat=LAT, lon=LON)["flags"]] == ["near_repeat"]
    type(proposed).objects.filter(pk=proposed.pk).update(agency=AgencyFactory(code="neighbour"))
    assert _context(client, lat=LAT, lon=LON)["flags"] == []
    Finding.objects.filter(pk=proposed.pk).update(agency=agency)
    from dispatch.models import Call

    Call.objects.update(received_at=timezone.now() - dt.timedelta(days=15))
    assert _context(client, lat=LAT, lon=LON)["flags"] == []
    assert client.get("/console/snapshot.json").json()["areas"] == []
