"""The tasking loop in real Chromium (issue: tasking): a supervisor issues a directed patrol from
an accepted finding; the officer's phone receives it live with a visible and audible cue,
without a reload; the officer acknowledges; the supervisor's board shows it live."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, UnitFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 5_000  # ms: generous for a loaded CI machine; the journey checks behaviour, not speed

# Counts oscillators started, so the test can see the audible cue without hearing it.
COUNT_BEEPS = """
window.__beeps = 0;
const Ctx = window.AudioContext || window.webkitAudioContext;
if (Ctx) {
  const original = Ctx.prototype.createOscillator;
  Ctx.prototype.createOscillator = function () { window.__beeps += 1; return original.call(this); };
}
"""
WINDOWS = [
    {
        "kind": "weekly",
        "weekdays": [4, 5],
        "start": "19:00",
        "duration_minutes": 240,
        "first_date": "2026-03-06",
        "weeks": 4,
        "time_zone": "America/Chicago",
    }
]


def test_directed_patrol_reaches_the_phone_live_and_the_acknowledgement_reaches_the_board(
    new_page, cast, agency
):
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    finding = make_finding(agency)

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.add_init_script(COUNT_BEEPS)
    sign_in(phone, "field1", TEST_PASSWORD)
    phone.goto("/field/")
    phone.wait_for_selector("#conn[data-state=live]")
    phone.wait_for_selector("#no-assignments")
    phone.locator("#assignments-h").click()  # a tap unlocks audio, as on a real phone
    phone.evaluate("window.__sameDocument = true")

    desk = new_page(viewport={"width": 1400, "height": 900})
    sign_in(desk, "supervisor1", TEST_PASSWORD)
    desk.goto(f"/patterns/findings/{finding.pk}/")
    desk.click("#issue-assignment")
    desk.wait_for_selector("#assignment-form")
    assert desk.locator("#from-finding").is_visible()
    assert desk.input_value("#a-lat") == str(finding.latitude)
    assert desk.locator("#a-unit option:checked").inner_text() == "A11"
    desk.fill("#a-objective", "Be seen on the block, Fri-Sat evenings.")
    desk.fill("#a-windows", json.dumps(WINDOWS))
    desk.click("#save-assignment")
    desk.wait_for_url("**/tasking/?created=*")
    desk.wait_for_selector("#conn[data-state=live]")
    created = int(desk.url.rsplit("=", 1)[1])
    assert desk.locator(f"#assignment-row-status-{created}").inner_text() == "Issued"
    assert "not yet" in desk.locator(f"#assignment-row-ack-{created}").inner_text()

    # The phone: live, highlighted, with a sound, and without a reload.
    card = phone.locator(f"#assignment-{created}")
    card.wait_for(timeout=LIVE)
    alert = phone.locator("#assignment-alert")
    assert alert.is_visible() and "New assignment" in alert.inner_text()
    assert "new" in (card.get_attribute("class") or "")
    assert phone.evaluate("window.__sameDocument") is True
    assert phone.evaluate("window.__beeps") > 0
    assert "Be seen on the block" in card.inner_text()
    assert "Fri, Sat 19:00 for 240 min" in card.inner_text()
    button = phone.locator(f"#ack-{created}")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44  # thumb-sized

    button.tap()
    phone.wait_for_selector(f"#assignment-{created}[data-status=acknowledged]", timeout=LIVE)
    link = phone.locator(f"#assignment-page-{created}")
    assert link.get_attribute("href") == f"/tasking/{created}/"

    # The board: live, with who acknowledged.
    desk.wait_for_function(
        f"() => document.getElementById('assignment-row-status-{created}').textContent === 'Acknowledged'",
        timeout=LIVE,
    )
    assert "field1" in desk.locator(f"#assignment-row-ack-{created}").inner_text()


def test_an_assignment_issued_while_the_phone_was_offline_arrives_on_reconnect(
    new_page, cast, agency
):
    from tasking import services

    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "field1", TEST_PASSWORD)
    phone.goto("/field/")
    phone.wait_for_selector("#conn[data-state=live]")
    phone.wait_for_selector("#no-assignments")
    phone.context.set_offline(True)
    phone.evaluate("window.beaconField.socket.drop()")
    phone.wait_for_selector("#conn[data-state=reconnecting]")
    a = services.assignment_create(
        actor=cast["supervisor"],
        finding_id=make_finding(agency).pk,
        kind="premise_check",
        objective="Check the back doors.",
        area={"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 100},
        windows=WINDOWS,
        assignee_unit_id=unit.pk,
        issue=True,
    )
    phone.context.set_offline(False)
    phone.locator(f"#assignment-{a.pk}").wait_for(timeout=LIVE * 2)
    assert "Check the back doors." in phone.locator(f"#assignment-{a.pk}").inner_text()
