"""Brute force through the real sign-in form (issue #8): a person's browser posting the form
(with its CSRF token, to the real server) is locked out after five wrong passwords, and then
even the right password is refused; the lock is audited. The rules themselves are unit-tested
in tests/governance/test_login_security.py."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent, LoginThrottle
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = "Too many failed sign-ins; try again after"
WRONG = "Please enter a correct username and password"


def _submit(page, username: str, password: str) -> str:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page.locator("[role=alert]").inner_text() if "/login/" in page.url else ""


def test_five_wrong_passwords_in_the_form_lock_the_account(new_page, cast):
    page = new_page()
    for attempt in range(4):
        message = _submit(page, "dispatcher1", "not-the-password-at-all")
        assert WRONG in message and LOCKED not in message, attempt
    assert LOCKED in _submit(page, "dispatcher1", "not-the-password-at-all")
    # The right password is refused while the lock lasts, in this browser and in a fresh one.
    assert LOCKED in _submit(page, "dispatcher1", TEST_PASSWORD)
    other = new_page()
    assert LOCKED in _submit(other, "dispatcher1", TEST_PASSWORD)
    assert "/login/" in other.url
    other.goto("/calls/")
    assert "/login/" in other.url  # never signed in
    assert LoginThrottle.objects.get(key="user:dispatcher1").locked_until is not None
    assert AuditEvent.objects.filter(object_type="governance.loginthrottle").exists()
    # Someone else at the same station is not affected.
    assert _submit(other, "supervisor1", TEST_PASSWORD) == ""
