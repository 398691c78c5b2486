"""Drawing an assignment's area on the map (issue: tasking — "a polygon drawn on the map")."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_tasking_journeys import WINDOWS
from tests.factories import TEST_PASSWORD, UnitFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_supervisor_draws_a_polygon_area_by_clicking_the_map(new_page, cast, agency):
    UnitFactory(agency=agency, call_sign="A11")
    desk = new_page(viewport={"width": 1400, "height": 1000})
    sign_in(desk, "supervisor1", TEST_PASSWORD)
    desk.goto("/tasking/new/")
    desk.wait_for_selector("#manual-note")
    desk.check('input[name="area_type"][value="polygon"]')
    editor = desk.locator("#area-editor")
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()
    assert box is not None
    for dx, dy in ((0.3, 0.3), (0.7, 0.3), (0.5, 0.7)):
        desk.mouse.click(box["x"] + dx * box["width"], box["y"] + dy * box["height"])
    corners = desk.input_value("#a-points").strip().splitlines()
    assert len(corners) == 3 and all(len(c.split(",")) == 2 for c in corners)
    # Three corner markers and the polygon they close.
    assert editor.get_attribute("data-layers") == "4"
    assert desk.locator("#area-editor path.area-preview").count() == 1
    desk.fill("#a-objective", "Walk the courtyard and the car park.")
    desk.fill("#a-windows", json.dumps(WINDOWS))
    desk.click("#save-assignment")
    desk.wait_for_url("**/tasking/?created=*")
    created = int(desk.url.rsplit("=", 1)[1])
    from tasking.models import Assignment

    area = Assignment.objects.get(pk=created).area
    assert area["type"] == "polygon" and len(area["points"]) == 3
    # "Clear corners" empties the drawing.
    desk.goto("/tasking/new/")
    desk.check('input[name="area_type"][value="polygon"]')
    box = desk.locator("#area-editor").bounding_box()
    assert box is not None
    desk.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    desk.click("#area-clear")
    assert desk.input_value("#a-points") == ""
