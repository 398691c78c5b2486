"""Partner alerts (CAP 1.2, issue #7) in real Chromium: an admin uploads an alert on the Alerts
page while a dispatcher's console is open; the alert's polygon reaches the console's live map by
websocket (no reload) with a popup, intake inside the polygon is flagged, and a supervisor turns
the alert into a proposed finding.

The CAP document is built here, so the journey needs no shared sample data.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType, Disposition, PartnerAlert
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 5_000  # ms: generous for a loaded CI machine; the journey checks behaviour, not speed

ADDRESS = "400 Elm Street"
POINT = (29.4301, -98.4902)
# A box around the address (lat,lon pairs, closed), off-centre so its middle is open map.
POLYGON = "29.425,-98.500 29.425,-98.470 29.445,-98.470 29.445,-98.500 29.425,-98.500"


def cap_alert(identifier: str, headline: str) -> bytes:
    """A minimal valid CAP 1.2 alert, in force for the next six hours."""
    now = timezone.now()
    sent = (now - dt.timedelta(minutes=5)).isoformat(timespec="seconds")
    expires = (now + dt.timedelta(hours=6)).isoformat(timespec="seconds")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>fire@city.example.org</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Fire</category>
    <event>Gas leak</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <expires>{expires}</expires>
    <senderName>City Fire Department</senderName>
    <headline>{headline}</headline>
    <description>Ruptured main; crews on scene.</description>
    <instruction>Avoid the area.</instruction>
    <area>
      <areaDesc>Elm Street between 3rd and 5th</areaDesc>
      <polygon>{POLYGON}</polygon>
    </area>
  </info>
</alert>
""".encode()


def _known_address(agency, actor) -> None:
    """A closed call at the address, so intake's suggestions know the place and its point."""
    call = services.call_create(
        agency=agency,
        actor=actor,
        call_type=CallType.objects.get(code="NOISE"),
        address=ADDRESS,
        latitude=POINT[0],
        longitude=POINT[1],
        received_at=timezone.now() - dt.timedelta(days=3),
    )
    services.call_close(
        call_id=call.pk, actor=actor, disposition=Disposition.objects.get(code="ADVISED")
    )


def test_uploaded_alert_reaches_the_open_console_live_flags_intake_and_becomes_a_finding(
    new_page, cast, agency
):
    _known_address(agency, cast["dispatcher"])
    console = new_page(viewport={"width": 1600, "height": 900})
    sign_in(console, "dispatcher1", TEST_PASSWORD)
    console.goto("/console/")
    console.wait_for_selector("#conn[data-state=live]")
    assert console.locator("#map path.area-partner_alert").count() == 0
    console.evaluate("window.__sameDocument = true")

    # An admin receives the partner's alert through the Alerts page (file upload).
    admin = new_page(viewport={"width": 1400, "height": 900})
    sign_in(admin, "admin1", TEST_PASSWORD)
    admin.click("header nav a:has-text('Alerts')")
    admin.wait_for_url("**/alerts/")
    admin.click(".upload-alert button[type=submit]")  # nothing chosen: refused, saying what
    assert "Choose a CAP 1.2 XML file" in admin.locator(".upload-alert [role=alert]").inner_text()
    admin.set_input_files(
        ".upload-alert input[type=file]",
        files=[
            {
                "name": "gas-leak.xml",
                "mimeType": "application/xml",
                "buffer": cap_alert("FD-2026-0042", "Gas leak: evacuate Elm St"),
            }
        ],
    )
    admin.click(".upload-alert button[type=submit]")
    admin.wait_for_url("**/alerts/*/")
    alert = PartnerAlert.objects.get(identifier="FD-2026-0042")
    assert admin.url.endswith(f"/alerts/{alert.pk}/")
    assert "Elm Street between 3rd and 5th" in admin.locator("main").inner_text()
    admin.click("main a:has-text('Partner alerts')")
    row = admin.locator("#active-alerts tbody tr", has_text="Gas leak: evacuate Elm St")
    assert row.count() == 1 and "Extreme" in row.inner_text()

    # The dispatcher's map draws it live (websocket push, no reload); the popup tells what it is.
    area = console.locator("#map path.area-partner_alert")
    area.wait_for(timeout=LIVE)
    assert console.evaluate("window.__sameDocument") is True
    area.click()
    popup = console.locator(".leaflet-popup-content .alert-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "Gas leak: evacuate Elm St" in text and "Gas leak (Extreme)" in text
    assert popup.locator("a").get_attribute("href") == f"/alerts/{alert.pk}/"

    # Taking a call at an address inside the polygon: the intake panel flags the alert.
    console.select_option("#f-type", "DISTURB")
    console.fill("#f-address", "400 elm st")
    console.wait_for_selector("#suggest li")
    console.keyboard.press("ArrowDown")
    console.keyboard.press("Enter")
    flag = console.locator("#context .flag-partner_alert")
    flag.wait_for(timeout=LIVE)
    assert flag.inner_text().startswith("Inside partner alert: Gas leak (Extreme), until ")
    assert flag.locator("a").get_attribute("href") == f"/alerts/{alert.pk}/"

    # A supervisor proposes a finding from the alert; it opens as proposed.
    desk = new_page(viewport={"width": 1400, "height": 900})
    sign_in(desk, "supervisor1", TEST_PASSWORD)
    desk.goto(f"/alerts/{alert.pk}/")
    desk.click("main .actions button:has-text('Propose a finding')")
    desk.wait_for_url("**/patterns/findings/*/")
    finding = Finding.objects.get(kind=FindingKind.PARTNER_ALERT)
    assert desk.url.endswith(f"/patterns/findings/{finding.pk}/")
    assert "Proposed" in desk.locator("#finding-status").inner_text()
    assert finding.status == FindingStatus.PROPOSED and finding.created_by == cast["supervisor"]
    assert "Gas leak: evacuate Elm St" in desk.locator("main").inner_text()
