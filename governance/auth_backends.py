"""The password backend every sign-in uses: Django's ModelBackend behind the lockout.

Being the authentication backend (not a check in one login view) is what makes the lockout cover
every password path: Beacon's sign-in page, the admin's, and anything else that calls
``django.contrib.auth.authenticate``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from governance import login_security
from governance.audit import client_ip


class LockoutBackend(ModelBackend):
    """ModelBackend that refuses locked usernames/addresses and counts failures."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        now = timezone.now()
        ip = client_ip(request) if request is not None else ""
        if login_security.locked_until(username=username, ip=ip, now=now) is not None:
            # PermissionDenied, not None: authenticate() stops here instead of asking any other
            # backend, and still sends user_login_failed, so the refused attempt is audited.
            # The password is not even checked, so a locked account answers like a wrong one.
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_security.failure_register(username=username, ip=ip, now=now)
            return None
        if not login_security.second_factor_needed(user):
            # The password was the whole sign-in. With a second factor the count is kept until
            # the code is right, or the password would buy unlimited guesses at the code.
            login_security.throttle_reset(username=username)
        return user
