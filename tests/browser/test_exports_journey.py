"""Exports (issue #7) in real Chromium: the Export box on the calls page, the patterns dashboard
and the tasking board downloads GeoJSON and CSV files that parse; a purpose left empty (or only
blank) is refused on the page, naming the field; each export shows on the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType
from governance.models import AuditEvent
from intelligence.choices import FindingKind
from intelligence.models import Finding
from tasking import services as tasking
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, UnitFactory
from tests.tasking.conftest import WINDOWS

pytestmark = pytest.mark.django_db(transaction=True)
PURPOSE = "Quarterly problem-oriented review with the city council"


def _page(new_page, username: str, nav: str):  # type: ignore[no-untyped-def]
    page = new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    sign_in(page, username, TEST_PASSWORD)
    page.click(f"header nav a:has-text('{nav}')")
    page.locator("#export-form summary").click()  # the box is folded until asked for
    return page


def _download(page, button: str, *, purpose: str = PURPOSE) -> Path:  # type: ignore[no-untyped-def]
    page.fill("#export-form input[name=purpose]", purpose)
    page.fill("#export-form input[name=recipient]", "City council")
    with page.expect_download() as info:
        page.click(f"#export-form button:has-text('{button}')")
    download = info.value
    assert download.failure() is None
    return Path(download.path())


def _geojson(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["features"], "the file holds no feature"
    return data["features"]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_exports_from_the_three_pages_download_parse_refuse_a_blank_purpose_and_are_audited(
    new_page, cast, agency
):
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="410 Elm Street",
        latitude=29.4301,
        longitude=-98.4902,
        caller_name="Jane Caller",
    )
    now = timezone.now()
    finding = Finding.objects.create(
        agency=agency,
        kind=FindingKind.REPEAT_LOCATION,
        subject_key=call.location.address_key,
        location=call.location,
        latitude=call.latitude,
        longitude=call.longitude,
        window_start=now - dt.timedelta(days=90),
        window_end=now,
        statistics={"count": 7, "expected": 1.2, "p": 0.001},
        explanation="Seven thefts at this address in 90 days, six times the expected.",
    )
    unit = UnitFactory(agency=agency, call_sign="A11")
    area = {"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 250}
    assignment = tasking.assignment_create(
        actor=cast["supervisor"],
        kind="directed_patrol",
        objective="Be seen on the block in the evening.",
        area=area,
        windows=WINDOWS,
        assignee_unit_id=unit.pk,
    )

    # Calls page (supervisor): an empty purpose never leaves the browser ...
    calls = _page(new_page, "supervisor1", "Calls")
    purpose = calls.locator("#export-form input[name=purpose]")
    calls.click("#export-form button:has-text('Calls (CSV)')")
    assert calls.url.endswith("/calls/")
    assert purpose.evaluate("el => !el.validity.valid && el.validity.valueMissing")
    # ... and a blank one is refused by the server on a page naming the field, not raw JSON.
    calls.fill("#export-form input[name=purpose]", "   ")
    calls.click("#export-form button:has-text('Calls (CSV)')")
    errors = calls.locator("#export-errors")
    errors.wait_for()
    assert errors.inner_text() == "Purpose: This field may not be blank."
    assert calls.locator("h1").inner_text() == "Export refused"
    assert calls.locator("#export-form[open] button").inner_text() == "Calls (CSV)"
    calls.click("#export-back")
    calls.wait_for_url("**/calls/")
    calls.locator("#export-form summary").click()

    rows = _csv(_download(calls, "Calls (CSV)"))
    assert [r["number"] for r in rows] == [call.number]
    assert rows[0]["caller_name"] == "Jane Caller"  # supervisors may see caller identity
    features = _geojson(_download(calls, "Calls (GeoJSON)"))
    assert features[0]["properties"]["number"] == call.number
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [-98.4902, 29.4301]}

    # Tasking board (supervisor): assignment areas, the circle as a polygon.
    board = _page(new_page, "supervisor1", "Tasking")
    features = _geojson(_download(board, "Assignment areas (GeoJSON)"))
    assert [f["id"] for f in features] == [assignment.pk]
    assert features[0]["geometry"]["type"] == "Polygon"

    # Patterns dashboard: findings are the analysts' to export (supervisors get no box there).
    dashboard = _page(new_page, "analyst1", "Patterns")
    rows = _csv(_download(dashboard, "Findings (CSV)"))
    assert list(rows[0])[:3] == ["id", "agency", "kind"] and rows[0]["id"] == str(finding.pk)
    features = _geojson(_download(dashboard, "Findings (GeoJSON)"))
    assert [f["id"] for f in features] == [finding.pk]

    # The auditor finds every export on the trail, with its purpose.
    assert AuditEvent.objects.filter(action="export").count() == 5
    audit = new_page(viewport={"width": 1400, "height": 900})
    sign_in(audit, "auditor1", TEST_PASSWORD)
    audit.click("header nav a:has-text('Audit')")
    audit.select_option("select[name=action]", "export")
    audit.click(".audit-filters button[type=submit]")
    table = audit.locator(".audit-table tbody")
    table.locator("tr").first.wait_for()
    assert table.locator("tr").count() == 5
    text = table.inner_text()
    for label in (
        "calls export (csv)",
        "calls export (geojson)",
        "assignment-areas export (geojson)",
        "findings export (csv)",
        "findings export (geojson)",
    ):
        assert label in text, label
    assert text.count(PURPOSE) == 5


def test_eido_export_of_a_call_refuses_a_blank_purpose_on_the_page_then_downloads(
    new_page, cast, agency
):  # type: ignore[no-untyped-def]
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="77 Transfer Road",
        latitude=29.43,
        longitude=-98.49,
    )
    page = new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    sign_in(page, "supervisor1", TEST_PASSWORD)
    page.goto(f"/calls/{call.pk}/")
    page.locator("summary:has-text('Export EIDO')").click()
    purpose = page.locator("input[name=purpose]")
    purpose.fill("   ")
    page.fill("input[name=recipient]", "County CAD")
    page.click("button:has-text('Export EIDO')")
    assert purpose.evaluate("(e) => e.validity.patternMismatch")
    assert page.url.endswith(f"/calls/{call.pk}/")  # still the page, not the API's JSON

    purpose.fill(PURPOSE)
    with page.expect_download() as info:
        page.click("button:has-text('Export EIDO')")
    document = json.loads(Path(info.value.path()).read_text())
    assert call.number in json.dumps(document)
