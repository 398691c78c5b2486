"""The patterns dashboard and finding review, driven as a supervisor uses them (issue #4).

Real Chromium against a real `serve` process: the dashboard draws its map, table and charts
from data.json, and a run an analyst starts on the server reaches the supervisor's open
dashboard through the websocket and channel layer, without a reload.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD
from tests.intelligence.test_dashboard_support import analyse, plant

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 10_000  # ms: a run plus a refresh on a loaded CI machine; the journey checks behaviour
# Set to a directory (e.g. docs/img) to keep screenshots of the pages the journey passes.
SHOTS = os.environ.get("PATTERNS_SCREENSHOT_DIR")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"patterns-{name}.png"))


def _dashboard(new_page, username: str):  # type: ignore[no-untyped-def]
    page = new_page(viewport={"width": 1600, "height": 1000})
    sign_in(page, username, TEST_PASSWORD)
    page.click("header nav a:has-text('Patterns')")
    page.wait_for_url("**/patterns/**")
    page.wait_for_selector("#conn[data-state=live]")
    return page


@pytest.mark.usefixtures("analysis_worker")
def test_supervisor_reads_the_dashboard_sees_a_run_live_and_reviews_a_finding(
    new_page, cast, agency
):
    bar = plant(agency)
    analyse(FindingKind.REPEAT_LOCATION, agency)
    analyse(FindingKind.HOTSPOT, agency)
    page = _dashboard(new_page, "supervisor1")

    # (a) hex map with legend and markers, (b) table with sparklines, (c) heatmap, (d) curve.
    page.wait_for_selector("#pmap path.hex")
    assert page.locator("#pmap path.hex").count() > 10
    assert page.locator("#pmap path.hotspot-outline").count() >= 1
    assert page.locator("#pmap path.repeat-marker").count() == 1
    assert "Gi* z-score" in page.locator("#zlegend").inner_text()
    row = page.locator("#repeat-table tbody tr").first
    assert bar.display_address in row.inner_text()
    page.wait_for_selector("#repeat-table canvas.spark[data-drawn='12']")
    page.wait_for_selector("#heatmap[data-drawn='168']")
    page.wait_for_selector("#curve[data-drawn='101']")
    assert "of locations produce" in page.locator("#curve-summary").inner_text()
    # (f) findings, proposed first, each linking to its page.
    assert page.locator("#findings li.status-proposed").count() == 2
    _shot(page, "dashboard")

    # (e) a filter narrows everything; bad input never reaches the page as a crash.
    page.select_option("#f-category", "property")
    page.wait_for_function(
        "() => document.querySelector('#call-count').textContent.startsWith('0 calls')"
    )
    page.select_option("#f-category", "")
    page.wait_for_function(
        "() => document.querySelector('#call-count').textContent.startsWith('48 calls')"
    )

    # Live: an analyst runs hotspots on the server; the supervisor's dashboard updates itself.
    analyst = _dashboard(new_page, "analyst1")
    analyst.select_option("#run-kind", "hotspots")
    analyst.click("#run-button")
    status = page.locator("#run-status")
    status.filter(has_text="Updated — run #").wait_for(timeout=LIVE)
    assert "hotspots finished" in status.inner_text()
    run_id = int(status.get_attribute("data-run"))
    # The analyst sees the same run, from the POST's answer or from the event (whichever is last).
    analyst.wait_for_function(
        f"() => document.querySelector('#run-status').textContent.toLowerCase().includes('run #{run_id} hotspots')"
    )

    # Keyboard to the first finding (the repeat location is proposed and newest of its kind).
    repeat = Finding.objects.get(kind=FindingKind.REPEAT_LOCATION)
    page.keyboard.press("Alt+f")
    link = page.locator(f"#findings a[href='/patterns/findings/{repeat.pk}/']")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/patterns/findings/{repeat.pk}/")
    page.wait_for_selector("#weekly[data-drawn]")
    page.wait_for_selector("#fheat[data-drawn='168']")
    page.wait_for_selector("#fmap path.subject-marker")
    assert repeat.explanation in page.locator(".explanation").inner_text()
    assert page.locator("#evidence-calls tbody a").count() == repeat.evidence.count()
    _shot(page, "finding")

    # Dismiss without a reason: the form comes back naming the field.
    page.click("#dismiss-button")
    error = page.locator("#rationale-dismiss-error")
    error.wait_for()
    assert "Rationale: Give the reason for this decision." in error.inner_text()
    assert Finding.objects.get(pk=repeat.pk).status == FindingStatus.PROPOSED

    # Accept with a reason: the status and the history change.
    page.fill("#rationale-accept", "Known problem bar; the beat officer confirms weekend fights.")
    page.click("#accept-button")
    page.locator("#finding-status:has-text('Accepted')").wait_for()
    assert "beat officer confirms" in page.locator("#decisions").inner_text()
    assert page.locator("#decisions tbody tr").count() == 1
    assert Finding.objects.get(pk=repeat.pk).status == FindingStatus.ACCEPTED
