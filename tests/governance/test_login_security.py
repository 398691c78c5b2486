"""Sign-in security through the real sign-in page: lockout (CJIS 5.5.3), TOTP second factor,
per-role requirement, and the password rules (CJIS 5.6.2.1.1, min 12 + common-password list)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from governance import login_security, totp
from governance.choices import AuditAction
from governance.login_views import PENDING_KEY
from governance.models import AuditEvent, LoginThrottle, RoleLoginPolicy, TotpDevice
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins; try again after"
WRONG = "Please enter a correct username and password"


class Clock:
    """A controllable ``django.utils.timezone.now`` (the lockout, TOTP and pending step read it)."""

    def __init__(self) -> None:
        # Mid-step, so a test's codes never straddle a 30-second boundary by accident.
        self.now = dt.datetime(2026, 11, 24, 22, 0, 10, tzinfo=dt.UTC)

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)

    def code(self, device: TotpDevice, steps: int = 0) -> str:
        return totp.hotp(
            totp.secret_bytes(device.secret), totp.step_at(self.now.timestamp()) + steps
        )


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: fake.now):
        yield fake


def sign_in(client: Client, username: str, password: str = TEST_PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def page_text(response: Any, username: str) -> str:
    """The answer with the username and the per-request CSRF token blanked out."""
    return re.sub(r'value="[A-Za-z0-9]{64}"', "", response.text.replace(username, "X"))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def fail(client: Client, username: str, times: int) -> Any:
    response = None
    for _ in range(times):
        response = sign_in(client, username, "not-the-password-at-all")
    return response


def enrol(user: Any, clock: Clock) -> TotpDevice:
    device = login_security.totp_enrol_start(user=user, now=clock.now)
    assert login_security.totp_enrol_confirm(user=user, code=clock.code(device), now=clock.now)
    clock.advance(seconds=30)  # the enrolment code's step is used up
    device.refresh_from_db()
    return device


# --- lockout -------------------------------------------------------------------------------------


def test_the_defaults_meet_cjis(settings) -> None:
    assert settings.BEACON_LOCKOUT_THRESHOLD == 5
    assert settings.BEACON_LOCKOUT_MINUTES >= 10
    assert settings.AUTHENTICATION_BACKENDS == ["governance.auth_backends.LockoutBackend"]


def test_five_failures_lock_the_account_for_ten_minutes_even_with_the_right_password(
    cast, clock
) -> None:
    client = Client()
    for attempt in range(4):
        response = sign_in(client, "dispatcher1", "wrong-password-123")
        assert WRONG in response.text and LOCKED not in response.text, attempt
    response = sign_in(client, "dispatcher1", "wrong-password-123")
    assert response.status_code == 200 and LOCKED in response.text
    # 22:00 UTC plus 10 minutes, shown in the agency's zone (America/Chicago: 16:10).
    assert "try again after 16:10." in response.text

    clock.advance(minutes=9, seconds=59)
    response = sign_in(client, "dispatcher1")
    assert LOCKED in response.text and not signed_in(client)

    clock.advance(seconds=2)
    response = sign_in(client, "dispatcher1")
    assert response.status_code == 302 and signed_in(client)


def test_the_lock_and_every_attempt_are_audited(cast, clock) -> None:
    client = Client()
    fail(client, "analyst1", 5)
    sign_in(client, "analyst1")  # refused while locked: still a failed log-on attempt
    locked = events(AuditAction.LOGIN_LOCKED)
    assert len(locked) == 1
    assert locked[0].actor_username == "analyst1"
    assert locked[0].details["failures"] == 5 and locked[0].details["minutes"] == 10
    assert locked[0].details["scope"] == "username" and locked[0].ip == "127.0.0.1"
    assert len(events(AuditAction.LOGIN_FAILED)) == 6
    assert events(AuditAction.LOGIN) == []


def test_unknown_usernames_get_the_same_answers_and_lock_the_same_way(cast, clock) -> None:
    known, unknown = Client(), Client()
    for _ in range(5):
        a = sign_in(known, "supervisor1", "wrong-password-123")
        b = sign_in(unknown, "nobody-here", "wrong-password-123")
        assert a.status_code == b.status_code
        assert page_text(a, "supervisor1") == page_text(b, "nobody-here")
    assert LOCKED in b.text
    assert len(events(AuditAction.LOGIN_LOCKED)) == 2


def test_usernames_are_counted_without_regard_to_case(cast, clock) -> None:
    client = Client()
    for name in ("Dispatcher1", "DISPATCHER1", "dispatcher1 ", "dispatcher1", "dIspatcher1"):
        sign_in(client, name, "wrong-password-123")
    assert LOCKED in sign_in(client, "dispatcher1").text


def test_a_successful_sign_in_resets_the_count(cast, clock) -> None:
    client = Client()
    fail(client, "field1", 4)
    assert sign_in(client, "field1").status_code == 302
    client.post("/logout/")
    response = fail(Client(), "field1", 4)
    assert LOCKED not in response.text
    assert not LoginThrottle.objects.filter(locked_until__isnull=False).exists()


def test_failures_older_than_the_window_start_a_new_count(cast, clock, settings) -> None:
    settings.BEACON_LOCKOUT_WINDOW_MINUTES = 60
    client = Client()
    fail(client, "field1", 4)
    clock.advance(minutes=61)
    assert LOCKED not in fail(client, "field1", 4).text
    assert LOCKED in fail(client, "field1", 1).text


def test_the_admin_sign_in_is_covered_too(cast, clock) -> None:
    fail(Client(), "admin1", 5)
    # Anything calling authenticate() (the admin's form did) is refused while locked.
    assert authenticate(None, username="admin1", password=TEST_PASSWORD) is None
    # The admin's own form is not used at all: it would skip the second factor.
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "admin1", "password": "x"})
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fadmin%2F"
    assert client.get("/admin/login/")["Location"].startswith("/login/?next=")
    assert not signed_in(client)


def test_one_address_trying_many_names_is_locked_too(cast, clock, settings) -> None:
    settings.BEACON_LOCKOUT_IP_THRESHOLD = 8
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(8):
        response = sign_in(attacker, f"guess{n}", "wrong-password-123")
    assert LOCKED in response.text
    assert LOCKED in sign_in(attacker, "dispatcher1").text  # the address, not the name
    colleague = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(colleague, "dispatcher1").status_code == 302
    lock = events(AuditAction.LOGIN_LOCKED)[-1]
    assert lock.details["scope"] == "address" and lock.object_label == "ip:203.0.113.9"


def test_parallel_failures_are_all_counted(cast, clock) -> None:
    # The counter is read and written under a row lock; counting in a loop stands in for the
    # race here (the PostgreSQL run exercises select_for_update for real).
    for _ in range(5):
        login_security.failure_register(username="x", ip="", now=clock.now)
    assert LoginThrottle.objects.get(key="user:x").failures == 5
    assert login_security.locked_until(username="X", ip="", now=clock.now) is not None


# --- the administrator lifts a lock --------------------------------------------------------------


def test_an_admin_sees_and_lifts_a_lock_and_it_is_audited(cast, clock) -> None:
    fail(Client(), "dispatcher1", 5)
    admin = Client()
    admin.force_login(cast["admin"])
    page = admin.get("/governance/login-policy/")
    assert page.status_code == 200 and "dispatcher1" in page.text
    lock = LoginThrottle.objects.get(key="user:dispatcher1")
    response = admin.post(
        f"/governance/login-policy/locks/{lock.pk}/unlock/", {"reason": "phoned the desk"}
    )
    assert response.status_code == 302
    event = events(AuditAction.LOGIN_UNLOCKED)[-1]
    assert event.actor_username == "admin1" and event.object_label == "user:dispatcher1"
    assert event.justification == "phoned the desk" and event.details["was_locked"] is True
    assert sign_in(Client(), "dispatcher1").status_code == 302


def test_only_admins_lift_locks_and_only_for_their_agency(cast, clock) -> None:
    neighbour = AgencyFactory(code="neighbour")
    UserFactory(username="n-dispatcher", roles=["dispatcher"], agency=neighbour)
    fail(Client(), "dispatcher1", 5)
    fail(Client(), "n-dispatcher", 5)
    fail(Client(), "nobody-at-all", 5)
    own = LoginThrottle.objects.get(key="user:dispatcher1")
    other = LoginThrottle.objects.get(key="user:n-dispatcher")
    stranger = LoginThrottle.objects.get(key="user:nobody-at-all")

    supervisor = Client()
    supervisor.force_login(cast["supervisor"])
    assert supervisor.get("/governance/login-policy/").status_code == 403
    assert supervisor.post(f"/governance/login-policy/locks/{own.pk}/unlock/").status_code == 403

    admin = Client()
    admin.force_login(cast["admin"])
    page = admin.get("/governance/login-policy/").text
    assert "dispatcher1" in page and "n-dispatcher" not in page and "nobody-at-all" not in page
    for row in (other, stranger):
        assert admin.post(f"/governance/login-policy/locks/{row.pk}/unlock/").status_code == 404
    assert LoginThrottle.objects.filter(pk__in=[other.pk, stranger.pk]).count() == 2


# --- TOTP: enrolment, sign-in, replay ------------------------------------------------------------


def test_a_person_sets_up_an_authenticator_on_their_page(cast, clock) -> None:
    client = Client()
    client.force_login(cast["analyst"])
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    device = TotpDevice.objects.get(user=cast["analyst"])
    assert device.confirmed_at is None
    assert device.secret in page.text and "otpauth://totp/Beacon:analyst1?secret=" in page.text
    assert client.get("/account/two-factor/").text.count(device.secret) >= 1  # same secret again

    wrong = client.post("/account/two-factor/", {"op": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    ok = client.post("/account/two-factor/", {"op": "confirm", "code": clock.code(device)})
    assert ok.status_code == 302
    device.refresh_from_db()
    assert device.confirmed_at == clock.now
    event = events(AuditAction.TWO_FACTOR_CHANGE)[-1]
    assert event.actor_username == "analyst1" and event.details["change"] == "enrolled"
    assert "set up" in client.get("/account/two-factor/").text


def test_sign_in_with_an_authenticator_needs_the_code(cast, clock, api_client) -> None:
    device = enrol(cast["analyst"], clock)
    client = Client()
    response = client.post(
        "/login/", {"username": "analyst1", "password": TEST_PASSWORD, "next": "/patterns/"}
    )
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    # Password right, code not yet given: nobody is signed in, for pages and for the API.
    assert not signed_in(client) and PENDING_KEY in client.session
    assert client.get("/patterns/")["Location"].startswith("/login/?next=")
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get("/login/verify/").status_code == 200

    wrong = client.post("/login/verify/", {"code": clock.code(device, steps=5)})
    assert wrong.status_code == 400 and "not right" in wrong.text and not signed_in(client)
    failed = events(AuditAction.LOGIN_FAILED)[-1]
    assert failed.actor_username == "analyst1" and failed.details == {"factor": "totp"}

    # One step ahead (a phone clock a little fast) is fine; the step before was the enrolment's.
    ok = client.post("/login/verify/", {"code": clock.code(device, steps=1)})
    assert ok.status_code == 302 and ok["Location"] == "/patterns/"
    assert signed_in(client) and PENDING_KEY not in client.session
    login = events(AuditAction.LOGIN)[-1]
    assert login.actor_username == "analyst1" and login.details == {"factors": ["password", "totp"]}
    assert client.get("/api/v1/me/").status_code == 200


def test_a_code_is_never_accepted_twice(cast, clock) -> None:
    device = enrol(cast["analyst"], clock)
    code = clock.code(device)
    first = Client()
    sign_in(first, "analyst1")
    assert first.post("/login/verify/", {"code": code}).status_code == 302
    # Someone who saw the code (and knows the password) tries it in the same 30 seconds.
    second = Client()
    sign_in(second, "analyst1")
    replay = second.post("/login/verify/", {"code": code})
    assert replay.status_code == 400 and not signed_in(second)
    # The previous step's code is older than the one used: refused as well.
    assert second.post("/login/verify/", {"code": clock.code(device, steps=-1)}).status_code == 400
    clock.advance(seconds=30)
    assert second.post("/login/verify/", {"code": clock.code(device)}).status_code == 302


def test_wrong_codes_count_toward_the_lockout(cast, clock) -> None:
    device = enrol(cast["analyst"], clock)
    client = Client()
    fail(client, "analyst1", 2)
    sign_in(client, "analyst1")
    # A right password does not reset the count while the code is still to come.
    for _ in range(2):
        assert client.post("/login/verify/", {"code": "000000"}).status_code == 400
    locked = client.post("/login/verify/", {"code": "000000"})
    assert LOCKED in locked.text and PENDING_KEY not in client.session
    assert events(AuditAction.LOGIN_LOCKED)[-1].details["factor"] == "totp"
    # Even the right code does not help now, nor the password.
    assert client.post("/login/verify/", {"code": clock.code(device)})["Location"].startswith(
        "/login/?expired=1"
    )
    assert LOCKED in sign_in(client, "analyst1").text


def test_the_pending_sign_in_expires_after_five_minutes(cast, clock) -> None:
    device = enrol(cast["analyst"], clock)
    client = Client()
    sign_in(client, "analyst1")
    clock.advance(minutes=5, seconds=1)
    response = client.post("/login/verify/", {"code": clock.code(device)})
    assert response.status_code == 302 and response["Location"] == "/login/?expired=1"
    assert not signed_in(client)
    assert "took too long" in client.get("/login/?expired=1").text


def test_the_verify_page_without_a_password_step_goes_back_to_sign_in(client) -> None:
    assert client.get("/login/verify/")["Location"] == "/login/?expired=1"
    assert client.post("/login/verify/", {"code": "123456"})["Location"] == "/login/?expired=1"
    assert client.get("/login/enrol/")["Location"] == "/login/?expired=1"


def test_removing_ones_own_authenticator_needs_a_current_code(cast, clock) -> None:
    device = enrol(cast["analyst"], clock)
    client = Client()
    client.force_login(cast["analyst"])
    refused = client.post("/account/two-factor/", {"op": "remove", "code": "000000"})
    assert refused.status_code == 400
    done = client.post("/account/two-factor/", {"op": "remove", "code": clock.code(device)})
    assert done.status_code == 302 and not TotpDevice.objects.filter(pk=device.pk).exists()
    assert events(AuditAction.TWO_FACTOR_CHANGE)[-1].details["change"] == "removed"
    assert sign_in(Client(), "analyst1").status_code == 302  # password only again


# --- a role that requires TOTP -------------------------------------------------------------------


def test_an_admin_requires_totp_for_a_role_and_it_is_audited(cast) -> None:
    admin = Client()
    admin.force_login(cast["admin"])
    response = admin.post(
        "/governance/login-policy/roles/",
        {"require_totp": ["dispatcher", "supervisor"], "justification": "CJIS MFA"},
    )
    assert response.status_code == 302 and response["Location"].endswith("saved=2")
    assert set(
        RoleLoginPolicy.objects.filter(require_totp=True).values_list("role", flat=True)
    ) == {
        "dispatcher",
        "supervisor",
    }
    event = events(AuditAction.PERMISSION_CHANGE)[-1]
    assert event.object_type == "governance.roleloginpolicy"
    assert event.details == {"require_totp": [False, True]} and event.justification == "CJIS MFA"
    # Unticking one changes that one only.
    admin.post("/governance/login-policy/roles/", {"require_totp": ["dispatcher"]})
    assert list(
        RoleLoginPolicy.objects.filter(require_totp=True).values_list("role", flat=True)
    ) == ["dispatcher"]
    page = admin.get("/governance/login-policy/").text
    assert (
        'value="dispatcher" id="totp-dispatcher" aria-label="Dispatcher requires a code" checked'
        in page
    )

    other = Client()
    other.force_login(cast["supervisor"])
    assert other.post("/governance/login-policy/roles/", {}).status_code == 403


def test_a_role_requiring_totp_sends_people_without_one_to_set_it_up(cast, clock) -> None:
    RoleLoginPolicy.objects.create(role="dispatcher", require_totp=True)
    client = Client()
    response = sign_in(client, "dispatcher1")
    assert response["Location"] == "/login/verify/"
    assert client.get("/login/verify/")["Location"] == "/login/enrol/"
    page = client.get("/login/enrol/")
    assert page.status_code == 200 and "Your role requires a second factor" in page.text
    # Still nobody signed in: the enrolment page is all this session reaches.
    assert not signed_in(client)
    assert client.get("/console/")["Location"].startswith("/login/?next=")
    assert client.get("/api/v1/calls/").status_code in (401, 403)

    device = TotpDevice.objects.get(user=cast["dispatcher"])
    assert device.secret in page.text
    assert client.post("/login/enrol/", {"code": "000000"}).status_code == 400
    done = client.post("/login/enrol/", {"code": clock.code(device)})
    assert done.status_code == 302 and done["Location"] == "/" and signed_in(client)
    device.refresh_from_db()
    assert device.confirmed_at is not None
    assert events(AuditAction.TWO_FACTOR_CHANGE)[-1].actor_username == "dispatcher1"

    # The next sign-in asks for a code; the role's people may not remove theirs.
    clock.advance(seconds=30)
    again = Client()
    assert sign_in(again, "dispatcher1")["Location"] == "/login/verify/"
    assert again.post("/login/verify/", {"code": clock.code(device)}).status_code == 302
    removal = again.post("/account/two-factor/", {"op": "remove", "code": "000000"})
    assert removal.status_code == 400 and "role requires" in removal.text


def test_by_default_no_role_requires_a_second_factor(cast) -> None:
    assert login_security.roles_requiring_totp() == set()
    for role in ("dispatcher", "field", "supervisor", "analyst", "admin", "auditor"):
        client = Client()
        assert sign_in(client, f"{role}1").status_code == 302 and signed_in(client), role


def test_an_admin_resets_a_lost_authenticator(cast, clock) -> None:
    device = enrol(cast["analyst"], clock)
    admin = Client()
    admin.force_login(cast["admin"])
    assert f'id="reset-{cast["analyst"].pk}"' in admin.get("/governance/login-policy/").text
    response = admin.post(f"/governance/login-policy/two-factor/{cast['analyst'].pk}/reset/")
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(pk=device.pk).exists()
    event = events(AuditAction.TWO_FACTOR_CHANGE)[-1]
    assert event.actor_username == "admin1" and event.details["change"] == "reset"
    # Another agency's person: answered like a missing one.
    neighbour = UserFactory(
        username="n-analyst", roles=["analyst"], agency=AgencyFactory(code="neighbour")
    )
    enrol(neighbour, clock)
    assert (
        admin.post(f"/governance/login-policy/two-factor/{neighbour.pk}/reset/").status_code == 404
    )
    assert admin.post("/governance/login-policy/two-factor/987654/reset/").status_code == 404


# --- password rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Tr0ub4dor&3", "too short"),  # 11 characters
        ("password1234", "too common"),
        ("qwertyuiop123", "too common"),
        ("739184627391", "entirely numeric"),
    ],
)
def test_passwords_need_twelve_characters_and_must_not_be_common(password, why) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_password(password)
    assert any(why in message for message in raised.value.messages), raised.value.messages


def test_a_long_uncommon_password_is_accepted() -> None:
    validate_password("correct-horse-battery-staple")


def test_the_admin_refuses_a_weak_password_when_creating_an_account(db) -> None:
    weak = AdminUserCreationForm(
        data={"username": "newperson", "password1": "password1234", "password2": "password1234"}
    )
    assert not weak.is_valid()
    assert "too common" in " ".join(weak.errors["password2"])
    strong = AdminUserCreationForm(
        data={
            "username": "newperson",
            "password1": "lantern-oyster-gravel-71",
            "password2": "lantern-oyster-gravel-71",
        }
    )
    assert strong.is_valid(), strong.errors


def test_the_lock_time_is_unaffected_by_the_real_clock(cast, clock) -> None:
    fail(Client(), "auditor1", 5)
    row = LoginThrottle.objects.get(key="user:auditor1")
    assert row.locked_until == clock.now + dt.timedelta(minutes=10)
    assert row.first_failure_at <= timezone.now()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_cannot_slip_past_the_threshold(agency) -> None:
    """Eight threads, each with its own connection, fail at once: every failure is counted and
    exactly one lock starts (the row lock serialises read-increment-write)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)
    now = timezone.now()

    def attempt() -> None:
        try:
            barrier.wait()
            login_security.failure_register(username="racer", ip="", now=now)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = LoginThrottle.objects.get(key="user:racer")
    # Five counted, the lock started by the fifth; the three after it met a lock and were not.
    assert row.failures == 5 and row.locked_until is not None
    assert len(events(AuditAction.LOGIN_LOCKED)) == 1
