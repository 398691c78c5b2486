"""A person whose role requires a second factor sets up an authenticator while signing in, then
signs in again with a code, in a real browser."""

from __future__ import annotations

import time

import pytest

from governance import totp
from governance.models import RoleLoginPolicy, TotpDevice
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def current_code(secret: str) -> tuple[str, int]:
    """The code for now, and its step. A code about to roll over is waited out."""
    if time.time() % totp.STEP_S > totp.STEP_S - 3:
        time.sleep(4)
    step = totp.step_at(time.time())
    return totp.hotp(totp.secret_bytes(secret), step), step


def test_a_role_requiring_totp_enrols_then_asks_for_the_code(new_page, cast):
    RoleLoginPolicy.objects.create(role="supervisor", require_totp=True)
    page = new_page()
    page.goto("/login/")
    page.fill("#id_username", "supervisor1")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/enrol/")
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-uri").get_attribute("href").startswith("otpauth://totp/Beacon:")
    code, used_step = current_code(secret)
    page.fill("#id_code", code)
    page.click("#two-factor-confirm")
    page.wait_for_url(lambda url: "/login/" not in url)
    assert TotpDevice.objects.get(user=cast["supervisor"]).confirmed_at is not None
    assert "supervisor1" in page.locator(".who").inner_text()

    page.click(".signout button")
    page.wait_for_url("**/login/")
    page.fill("#id_username", "supervisor1")
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/verify/")
    page.fill("#id_code", "000000")
    page.click("button[type=submit]")
    assert page.locator("#code-error").is_visible()
    # The enrolment used its step's code; the next one (within the one-step drift) is fresh.
    page.fill("#id_code", totp.hotp(totp.secret_bytes(secret), used_step + 1))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    assert "supervisor1" in page.locator(".who").inner_text()
