"""A script payload in a premise hazard note, shown on the console's live map:
the tooltips show it as text and nothing runs (Leaflet renders string tooltips as HTML, so
``static/js/livemap.js`` hands it text nodes). The server-side pages are checked without a
browser in ``tests/hostile/test_html_escaping.py``.
"""

from __future__ import annotations

import pytest

from dispatch import services
from dispatch.models import CallType
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD = "<img src=x onerror=\"document.title='pwned'\">"


def test_map_tooltips_show_hostile_text_as_text(new_page, cast, agency) -> None:
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="NOISE"),
        address="400 Elm Street",
        latitude=29.4301,
        longitude=-98.4902,
    )
    services.premise_note_create(
        location=call.location,
        agency=agency,
        actor=cast["dispatcher"],
        text="Dog " + PAYLOAD,
        kind="hazard",
    )
    page = new_page(viewport={"width": 1600, "height": 900})
    sign_in(page, "dispatcher1", TEST_PASSWORD)
    page.goto("/console/")
    page.wait_for_selector("#conn[data-state=live]")
    page.locator(".hazard-icon").first.hover()
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert PAYLOAD in tooltip.inner_text()
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.title() != "pwned"
