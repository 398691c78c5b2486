"""Idle session timeout: a session unused for ``BEACON_IDLE_TIMEOUT_MINUTES`` ends (CJIS 5.5.5).

"Used" means a person did something: a page load, or an API call the page made because of a
click or key press. Consoles, boards and phones also refresh themselves on timers; those calls
carry ``X-Beacon-Background: 1`` (``Beacon.api`` in static/js/beacon.js adds it when nobody has
touched the page for a few seconds) and do not count, or a screen left open would never lock.

One exception is deliberate: a phone sharing its location (AVL positions) counts as in use.
CJIS exempts devices in police vehicles from session lock, and a patrol phone that signed itself
out would stop feeding the dosage measurement mid-shift.

The last activity is kept in the session as epoch seconds, written at most once a minute (so an
active user does not cost a session write per request). Open websockets check the same stamp on
every ping (``session_is_live``) and close with 4401 once it is stale or the session is gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

LAST_ACTIVITY_KEY = "beacon_last_activity"
BACKGROUND_HEADER = "HTTP_X_BEACON_BACKGROUND"
# Requests that count as use even when sent in the background (see the module docstring).
ALWAYS_ACTIVE_SUFFIXES = ("/positions/",)
STAMP_EVERY_S = 60


def idle_timeout_s() -> int:
    return int(settings.BEACON_IDLE_TIMEOUT_MINUTES) * 60


def is_idle(last_activity: Any, now: float) -> bool:
    """True when a stamp is older than the timeout; a missing or garbled stamp is not idle
    (a session from before this setting existed gets a fresh stamp instead of a sign-out)."""
    if not isinstance(last_activity, int | float) or isinstance(last_activity, bool):
        return False
    return now - float(last_activity) > idle_timeout_s()


def _counts_as_use(request: HttpRequest) -> bool:
    if request.path.endswith(ALWAYS_ACTIVE_SUFFIXES):
        return True
    return request.META.get(BACKGROUND_HEADER) != "1"


class IdleTimeoutMiddleware:
    """Signs out a session idle for too long; page requests go to the sign-in page with a note.

    Placed after AuthenticationMiddleware. API calls continue signed out, so DRF answers them
    403 like any other unauthenticated call and the page's script shows "sign in again".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if is_idle(last, now):
                request.beacon_logout_reason = "idle"  # type: ignore[attr-defined]
                logout(request)
                if request.method == "GET" and not request.path.startswith("/api/"):
                    query = urlencode({"next": request.get_full_path(), "idle": "1"})
                    return redirect(f"{reverse(settings.LOGIN_URL)}?{query}")
            elif _counts_as_use(request) and (
                not isinstance(last, int | float) or now - float(last) >= STAMP_EVERY_S
            ):
                request.session[LAST_ACTIVITY_KEY] = int(now)
        return self.get_response(request)


def session_is_live(session_key: str | None) -> bool:
    """For open websockets: the session still exists and has not gone idle."""
    if not session_key:
        return False
    from importlib import import_module

    # One read: a session that is gone (signed out, flushed) loads as empty, with no user in it.
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key).load()
    if not data.get(SESSION_KEY):
        return False
    return not is_idle(data.get(LAST_ACTIVITY_KEY), time.time())
