"""Exports: GeoJSON (RFC 7946) and CSV files, through the access rules, each one audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import h3
import pytest
from django.utils import timezone
from shapely.geometry import shape

from governance.access import forget_cached_access
from governance.choices import AuditAction
from governance.models import AuditEvent, NeedToKnowGroup
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from tasking import services as tasking_services
from tests.factories import LocationFactory, UnitFactory
from tests.governance.matrix_world import WINDOWS as WEEKLY
from tests.tasking.conftest import make_finding

PURPOSE = "monthly problem-oriented review with city council"
LAT, LON = 29.4241, -98.4936
HOT = h3.latlng_to_cell(LAT, LON, 9)
CELLS = [HOT, *h3.grid_ring(HOT, 1)[:2]]

pytestmark = pytest.mark.django_db


def _url(name: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"purpose": PURPOSE, **params}.items())
    return f"/api/v1/exports/{name}?{query}"


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _geojson(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].startswith('attachment; filename="beacon-')
    data = json.loads(_body(response))
    assert data["type"] == "FeatureCollection"
    assert "crs" not in data
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        geom = feature["geometry"]
        if geom is None:
            continue
        geometry = shape(geom)
        assert geometry.is_valid
        for lon, lat in _coords(geom):
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
        polygons = {"Polygon": [geom["coordinates"]], "MultiPolygon": geom["coordinates"]}.get(
            geom["type"], []
        )
        for rings in polygons:
            exterior = rings[0]
            assert exterior[0] == exterior[-1], "rings are closed"
            assert shape({"type": "Polygon", "coordinates": [exterior]}).exterior.is_ccw
    return data


def _coords(geom: dict[str, Any]) -> list[tuple[float, float]]:
    def walk(value: Any) -> Any:
        if isinstance(value[0], (int, float)):
            yield (value[0], value[1])
        else:
            for v in value:
                yield from walk(v)

    return list(walk(geom["coordinates"]))


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(_body(response).decode("utf-8"))))


def _exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("seq"))


def _hotspot(agency: Any, **extra: Any) -> Finding:
    now = timezone.now()
    values: dict[str, Any] = {
        "agency": agency,
        "kind": FindingKind.HOTSPOT,
        "subject_key": f"hot|{Finding.objects.count()}",
        "cells": CELLS,
        "latitude": LAT,
        "longitude": LON,
        "window_start": now - dt.timedelta(days=30),
        "window_end": now,
        "statistics": {"z": 3.1},
        "explanation": "Three cells hot.",
        "status": FindingStatus.PROPOSED,
    }
    values.update(extra)
    return Finding.objects.create(**values)


# --- calls ---------------------------------------------------------------------------------


def test_calls_geojson_has_points_in_lon_lat_order(client_for, make_call, other_call) -> None:
    call = make_call(latitude=LAT, longitude=LON)
    data = _geojson(client_for("supervisor").get(_url("calls.geojson")))
    (feature,) = [f for f in data["features"] if f["id"] == call.pk]
    assert feature["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert feature["properties"]["number"] == call.number
    assert other_call.pk not in {f["id"] for f in data["features"]}, "other agency excluded"
    assert "narrative" not in feature["properties"]


def test_calls_csv_has_caller_columns_only_for_caller_identity(client_for, make_call) -> None:
    make_call(caller_name='=HYPERLINK("http://evil")')
    sup = _csv(client_for("supervisor").get(_url("calls.csv")))
    assert sup[0]["caller_name"] == '\'=HYPERLINK("http://evil")', "formula defused"
    body = _body(client_for("analyst").get(_url("calls.csv"))).decode()
    header = body.splitlines()[0].split(",")
    assert "caller_name" not in header and "caller_phone" not in header
    assert "HYPERLINK" not in body and "210 555 0100" not in body


def test_calls_filters_by_type_status_and_days(client_for, make_call) -> None:
    theft = make_call()
    from dispatch.models import CallType

    noise = make_call(call_type=CallType.objects.get(code="NOISE"))
    rows = _csv(client_for("analyst").get(_url("calls.csv", type="NOISE")))
    assert [r["id"] for r in rows] == [str(noise.pk)]
    rows = _csv(client_for("analyst").get(_url("calls.csv", status="pending")))
    assert {r["id"] for r in rows} == {str(theft.pk), str(noise.pk)}
    rows = _csv(
        client_for("analyst").get(_url("calls.csv", **{"from": "2001-01-01", "to": "2001-01-02"}))
    )
    assert rows == []


# --- findings and hotspots -----------------------------------------------------------------


def test_findings_geojson_points_and_cell_polygons(client_for, agency) -> None:
    place = make_finding(agency)
    area = _hotspot(agency)
    data = _geojson(client_for("analyst").get(_url("findings.geojson")))
    by_id = {f["id"]: f for f in data["features"]}
    assert by_id[place.pk]["geometry"]["type"] == "Point"
    geom = by_id[area.pk]["geometry"]
    assert geom["type"] in {"Polygon", "MultiPolygon"}
    # The hot cell's centre (a known point) lies inside the exported outline.
    from shapely.geometry import Point

    lat, lon = h3.cell_to_latlng(HOT)
    assert shape(geom).contains(Point(lon, lat))


def test_hotspots_geojson_holds_hotspots_only(client_for, agency) -> None:
    make_finding(agency)
    hot = _hotspot(agency)
    data = _geojson(client_for("analyst").get(_url("hotspots.geojson")))
    assert [f["id"] for f in data["features"]] == [hot.pk]


def test_findings_csv_defuses_formulas_and_leaves_out_entities(client_for, agency) -> None:
    make_finding(agency, explanation="+SUM(A1:A9) calls")
    _hotspot(agency, kind=FindingKind.ENTITY, subject_key="person:1", cells=[])
    rows = _csv(client_for("analyst").get(_url("findings.csv")))
    assert [r["explanation"] for r in rows] == ["'+SUM(A1:A9) calls"]


def test_need_to_know_and_other_agency_findings_are_left_out(
    client_for, agency, other_agency, cast
) -> None:
    mine = _hotspot(agency)
    limited = _hotspot(agency)
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    limited.need_to_know.set([group])
    theirs = _hotspot(other_agency)
    data = _geojson(client_for("analyst").get(_url("findings.geojson")))
    assert {f["id"] for f in data["features"]} == {mine.pk}
    group.members.add(cast["analyst"])
    forget_cached_access(cast["analyst"])  # the test reuses one user object across requests
    data = _geojson(client_for("analyst").get(_url("findings.geojson")))
    assert {f["id"] for f in data["features"]} == {mine.pk, limited.pk}
    assert theirs.pk not in {f["id"] for f in data["features"]}


# --- locations and assignment areas --------------------------------------------------------


def test_locations_geojson(client_for) -> None:
    place = LocationFactory(latitude=LAT, longitude=LON)
    data = _geojson(client_for("supervisor").get(_url("locations.geojson")))
    feature = next(f for f in data["features"] if f["id"] == place.pk)
    assert feature["geometry"]["coordinates"] == [LON, LAT]
    assert set(feature["properties"]) == {"id", "address", "locality", "kind", "h3_r9"}


@pytest.mark.parametrize(
    "area",
    [
        {"type": "circle", "latitude": LAT, "longitude": LON, "radius_m": 250},
        {"type": "cells", "cells": CELLS},
        # Given clockwise on purpose: the export turns the exterior counter-clockwise.
        {"type": "polygon", "points": [[29.42, -98.50], [29.43, -98.49], [29.42, -98.48]]},
    ],
)
def test_assignment_areas_geojson(client_for, agency, cast, area) -> None:
    unit = UnitFactory(agency=agency, call_sign="A11")
    assignment = tasking_services.assignment_create(
        actor=cast["supervisor"],
        finding_id=make_finding(agency).pk,
        kind="directed_patrol",
        objective="Be seen.",
        area=area,
        windows=WEEKLY,
        assignee_unit_id=unit.pk,
    )
    data = _geojson(client_for("supervisor").get(_url("assignment-areas.geojson")))
    (feature,) = data["features"]
    assert feature["id"] == assignment.pk
    assert feature["properties"]["assignee"] == "A11"
    assert feature["properties"]["status"] == "draft"
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    if area["type"] == "circle":
        from exports.geometry import CIRCLE_VERTICES

        ring = feature["geometry"]["coordinates"][0]
        assert len(ring) == CIRCLE_VERTICES + 1
        from shapely.geometry import Point

        assert shape(feature["geometry"]).contains(Point(LON, LAT))


# --- access --------------------------------------------------------------------------------

EXPECTED = {
    # dataset: roles that may export it (all others 403)
    "calls.geojson": {"supervisor", "analyst"},
    "calls.csv": {"supervisor", "analyst"},
    "locations.geojson": {"supervisor", "analyst"},
    "findings.geojson": {"analyst"},
    "findings.csv": {"analyst"},
    "hotspots.geojson": {"analyst"},
    "assignment-areas.geojson": {"supervisor"},
}


@pytest.mark.parametrize("dataset", sorted(EXPECTED))
def test_who_may_export_what(client_for, anon, dataset) -> None:
    for role in ("dispatcher", "field", "supervisor", "analyst", "admin", "auditor"):
        response = client_for(role).get(_url(dataset))
        expected = 200 if role in EXPECTED[dataset] else 403
        assert response.status_code == expected, (role, dataset)
    assert anon.get(_url(dataset)).status_code in {401, 403}


# --- audit and bad input -------------------------------------------------------------------


def test_one_export_event_with_purpose_recipient_count(client_for, make_call, cast) -> None:
    make_call()
    make_call()
    response = client_for("analyst").get(
        _url("calls.csv", recipient="City council", status="pending")
    )
    _csv(response)
    (event,) = _exports()
    assert event.actor == cast["analyst"]
    assert event.object_type == "dispatch.call"
    assert event.justification == PURPOSE
    assert event.details["purpose"] == PURPOSE
    assert event.details["recipient"] == "City council"
    assert event.details["count"] == 2
    assert event.details["format"] == "csv"
    assert event.details["dataset"] == "calls"
    assert event.details["filters"] == {"status": ["pending"]}
    assert "caller_name" not in event.details["columns"]


def test_refused_export_is_not_an_export_event(client_for) -> None:
    assert client_for("dispatcher").get(_url("calls.csv")).status_code == 403
    assert _exports() == []


@pytest.mark.parametrize(
    ("dataset", "query", "field"),
    [
        ("calls.csv", "", "purpose"),
        ("calls.csv", "purpose=%20%20", "purpose"),
        ("calls.csv", "purpose=x&from=yesterday", "from"),
        ("calls.csv", "purpose=x&from=2026-02-01&to=2026-01-01", "to"),
        ("calls.geojson", "purpose=x&type=NOPE", "type"),
        ("calls.geojson", "purpose=x&status=nope", "status"),
        ("findings.csv", "purpose=x&kind=entities", "kind"),
        ("assignment-areas.geojson", "purpose=x&status=nope", "status"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, dataset, query, field) -> None:
    role = "supervisor" if dataset.startswith(("calls", "assignment")) else "analyst"
    response = client_for(role).get(f"/api/v1/exports/{dataset}?{query}")
    assert response.status_code == 400
    assert field in response.json()
    assert _exports() == []


def test_too_many_rows_is_a_400_not_a_cut_file(client_for, make_call, settings) -> None:
    settings.BEACON_EXPORT_MAX_ROWS = 1
    make_call()
    make_call()
    response = client_for("analyst").get(_url("calls.geojson"))
    assert response.status_code == 400
    assert "at most 1" in response.json()["non_field_errors"][0]
    assert _exports() == []


def test_a_client_asking_for_geo_json_gets_it(client_for, make_call) -> None:
    make_call()
    response = client_for("analyst").get(_url("calls.geojson"), HTTP_ACCEPT="application/geo+json")
    assert len(_geojson(response)["features"]) == 1
    refused = client_for("analyst").get("/api/v1/exports/calls.geojson", HTTP_ACCEPT=GEO)
    assert refused.status_code == 400
    assert "purpose" in refused.json()


GEO = "application/geo+json"
