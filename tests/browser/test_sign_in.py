"""A person signs in with a real browser and reaches what their role may use."""

from __future__ import annotations

import pytest

from dispatch import services
from dispatch.models import CallType
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_dispatcher_signs_in_and_sees_calls(new_page, cast, agency):
    services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="NOISE"),
        address="77 Harbor Road",
        narrative="<script>alert(1)</script> music",
    )
    page = new_page()
    page.goto("/calls/")
    assert "/login/" in page.url  # anonymous users are sent to sign in
    sign_in(page, "dispatcher1", TEST_PASSWORD)
    page.goto("/calls/")
    row = page.locator("table.dense tbody tr").first
    assert "77 HARBOR RD" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url("**/calls/*/")
    assert "<script>alert(1)</script> music" in page.locator(".facts").inner_text()  # shown escaped


def test_wrong_password_is_refused_with_a_message(new_page, cast):
    page = new_page()
    page.goto("/login/")
    page.fill("#id_username", "dispatcher1")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    # Waits for the answer page: the click only starts the form's submission.
    page.locator("[role=alert]").wait_for(state="visible")
    assert "/login/" in page.url


def test_phone_viewport_login_page_fits(new_page):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/login/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
