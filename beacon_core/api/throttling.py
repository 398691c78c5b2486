"""API rate limits per token (or per signed-in user), by scope, counted in the configured cache.

Scopes (rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, set from the environment):

* ``api``: every API call unless its view names another scope (``BEACON_API_RATE``);
* ``avl``: devices uploading positions (``BEACON_API_AVL_RATE``), so a vehicle gateway posting
  fixes for a fleet never eats the budget of, or is stopped by, ordinary calls;
* ``console``: the console and phone pages' own JSON polling (``BEACON_CONSOLE_RATE``).

Over the limit: 429 with ``Retry-After`` and ``{"detail": ...}``. The counters live in the
default cache: Redis in production (shared by every web process), a per-process memory cache in
embedded mode, which is one process anyway. See docs/security.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

DEFAULT_SCOPE = "api"


class ScopedTokenThrottle(SimpleRateThrottle):
    """Counts requests per token (token calls) or per user (session calls) in the view's scope."""

    def __init__(self, scope: str | None = None) -> None:
        # The rate depends on the view (its throttle_scope): resolved in allow_request.
        self.scope = scope

    def get_rate(self) -> str | None:
        # Read at request time, not import time: settings overrides (and tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        self.scope = self.scope or getattr(view, "throttle_scope", None) or DEFAULT_SCOPE
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str:
        auth = getattr(request, "auth", None)
        user = getattr(request, "user", None)
        if isinstance(auth, Token):
            # Per token; hashed so the cache never holds a usable credential.
            ident = "token:" + hashlib.sha256(auth.key.encode()).hexdigest()[:32]
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttle_page_json(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The same limit for a plain Django JSON view (the console's polling), answered like the API."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            throttle = ScopedTokenThrottle(scope)
            if not throttle.allow_request(request, None):
                wait = throttle.wait()
                seconds = max(1, round(wait or 1))
                response = JsonResponse(
                    {"detail": f"Request was throttled. Expected available in {seconds} seconds."},
                    status=429,
                )
                response["Retry-After"] = str(seconds)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
