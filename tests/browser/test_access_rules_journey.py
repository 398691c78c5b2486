"""An admin revokes a role's access to persons on the access rules page, and a dispatcher of that
role, signed in with the console open, loses the person panel at once without signing out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType, Disposition, Involvement, Person
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 5_000  # ms


def test_revoking_person_access_clears_the_console_person_panel_live(new_page, cast, agency):
    dispatcher = cast["dispatcher"]
    call = services.call_create(
        agency=agency,
        actor=dispatcher,
        call_type=CallType.objects.get(code="NOISE"),
        address="400 Elm Street",
        latitude=29.4301,
        longitude=-98.4902,
        received_at=timezone.now() - dt.timedelta(days=2),
    )
    services.call_close(
        call_id=call.pk, actor=dispatcher, disposition=Disposition.objects.get(code="ADVISED")
    )
    kane = Person.objects.create(
        agency=agency, last_name="KANE", first_name="MARCUS", name_key="KANE|MARCUS"
    )
    Involvement.objects.create(call=call, person=kane, role="suspect")

    console = new_page(viewport={"width": 1600, "height": 900})
    sign_in(console, "dispatcher1", TEST_PASSWORD)
    console.goto("/console/")
    console.wait_for_selector("#conn[data-state=live]")
    console.keyboard.press("F2")
    console.keyboard.type("NOISE")
    console.keyboard.press("Alt+a")
    console.keyboard.type("400 elm st")
    console.wait_for_selector("#suggest li")
    console.keyboard.press("ArrowDown")
    console.keyboard.press("Enter")
    console.wait_for_selector("#ctx-persons")
    assert "KANE, MARCUS" in console.locator("#ctx-persons").inner_text()
    console.locator("#f-narrative").fill("half-typed narrative")  # work in progress survives

    admin = new_page(viewport={"width": 1400, "height": 900})
    sign_in(admin, "admin1", TEST_PASSWORD)
    admin.goto("/governance/access/")
    admin.select_option("#g-dispatcher-person-view", "")
    admin.fill("#matrix-justification", "Persons limited to supervisors from tonight")
    admin.click("#matrix-save")
    admin.wait_for_selector("#access-saved")

    console.wait_for_selector("#ctx-persons", state="detached", timeout=LIVE)
    assert console.url.endswith("/console/")  # no reload, no sign-out
    assert console.locator("#f-narrative").input_value() == "half-typed narrative"
    assert console.locator("#conn").get_attribute("data-state") == "live"
    assert "KANE" not in console.locator("#context").inner_text()
