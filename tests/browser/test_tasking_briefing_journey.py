"""Issue #5 journey 3 in real Chromium: a supervisor's issued assignment is listed, with its
objective, on the shift briefing for the shift covering its window, and the printed briefing
has no navigation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tasking import services
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, UnitFactory
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_briefing_page_lists_the_assignment_and_prints_without_nav(new_page, cast, agency):
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    finding = make_finding(agency)
    # Tomorrow 10:00-12:00 local: inside tomorrow's day shift, whatever the time now.
    tomorrow = timezone.localtime(
        timezone.now(), timezone=ZoneInfo(agency.time_zone)
    ).date() + dt.timedelta(days=1)
    assignment = services.assignment_create(
        actor=cast["supervisor"],
        finding_id=finding.pk,
        kind="directed_patrol",
        objective="Park and walk the block, 15 minutes each hour.",
        area={"type": "circle", "latitude": 29.4241, "longitude": -98.4936, "radius_m": 250},
        windows=[
            {
                "kind": "weekly",
                "weekdays": [tomorrow.weekday()],
                "start": "10:00",
                "duration_minutes": 120,
                "first_date": tomorrow.isoformat(),
                "weeks": 1,
                "time_zone": agency.time_zone,
            }
        ],
        dosage={"minutes_per_visit": 15, "visits_per_window": 2},
        assignee_unit_id=unit.pk,
        issue=True,
    )

    desk = new_page(viewport={"width": 1280, "height": 900})
    sign_in(desk, "supervisor1", TEST_PASSWORD)
    desk.goto("/tasking/")
    # The board's dosage column: no window closed yet, the next one named.
    dosage = desk.locator(f"#assignment-row-dosage-{assignment.pk}")
    dosage.wait_for()
    assert "no window closed yet" in dosage.inner_text() and "next" in dosage.inner_text()
    desk.click("#briefing-link")
    desk.wait_for_url("**/tasking/briefing/")
    desk.fill("#shift-date", tomorrow.isoformat())
    desk.fill("#shift-start", "07:00")
    desk.fill("#shift-end", "19:00")
    desk.click("#shift-form button[type=submit]")
    card = desk.locator(f"#briefing-assignment-{assignment.pk}")
    card.wait_for()
    assert "Park and walk the block" in card.inner_text()
    assert desk.locator(f"#amap-{assignment.pk}").get_attribute("data-layers") == "1"

    nav = desk.locator("header.topbar")
    assert nav.evaluate("e => getComputedStyle(e).display") != "none"
    desk.emulate_media(media="print")
    assert nav.evaluate("e => getComputedStyle(e).display") == "none"
    assert desk.locator("#shift-form").evaluate("e => getComputedStyle(e).display") == "none"
    assert card.evaluate("e => getComputedStyle(e).breakBefore") == "page"
    assert "Within 250 m of" in card.inner_text()

    # The assignment's own page: the area drawn, the window upcoming.
    desk.emulate_media(media="screen")
    desk.goto(f"/tasking/{assignment.pk}/")
    desk.wait_for_selector(f"#amap-{assignment.pk}[data-layers='1']")
    assert "upcoming" in desk.locator("#window-rows").inner_text()
