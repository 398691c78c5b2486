"""Content-Security-Policy: every response says which sources the browser may use.

The policy forbids inline script (no ``'unsafe-inline'``, no ``'unsafe-eval'``): pages load their
code from /static/ and read their data from ``json_script`` blocks or ``data-`` attributes, so an
injected ``<script>`` or ``onclick=`` never runs even if some template forgets to escape.
docs/security.md explains each directive and how to extend it (another tile server, say).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost, ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"
# A tile URL's subdomain template ({s}.tile.example.org) becomes a CSP host wildcard.
_LEFTMOST_PLACEHOLDER = re.compile(r"^\{[a-z]+\}\.")


def tile_source(url: str) -> str | None:
    """The CSP source for a Leaflet tile URL template: ``https://*.tile.example.org`` for
    ``https://{s}.tile.example.org/{z}/{x}/{y}.png``; None for no tiles or tiles served by Beacon."""
    if not isinstance(url, str) or not url or url.startswith("/"):
        return None
    parts = urlsplit(url)
    host = _LEFTMOST_PLACEHOLDER.sub("*.", parts.netloc)
    if parts.scheme not in {"http", "https"} or not host or "{" in host or "}" in host:
        raise ImproperlyConfigured(
            f"MAP_TILE_URL {url!r}: the Content-Security-Policy needs an http(s) URL whose host is "
            "fixed or has a placeholder only in its first label, like https://{s}.tile.example.org/..."
        )
    return f"{parts.scheme}://{host}"


def base_directives() -> dict[str, list[str]]:
    """The policy for every page, from settings (tile host and the CSP_EXTRA_* knobs)."""
    img_src = ["'self'", "data:"]
    tiles = tile_source(settings.LEAFLET_CONFIG.get("TILES"))
    if tiles:
        img_src.append(tiles)
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Style attributes only (never <style> elements or inline stylesheets): the live map's
        # unit markers carry their colour and heading in a style attribute. An attribute cannot
        # run script, and any url() in it is still bound by img-src.
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": img_src + list(settings.BEACON_CSP_EXTRA_IMG_SRC),
        "font-src": ["'self'"],
        "connect-src": ["'self'", *settings.BEACON_CSP_EXTRA_CONNECT_SRC],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }


def policy_for(request: HttpRequest, relax: dict[str, list[str]] | None = None) -> str:
    """The header value for one response: the base policy, this host's websockets, any relaxation."""
    directives = base_directives()
    # 'self' covers same-host websockets in CSP 3 browsers; older ones need the ws(s) origin spelt out.
    try:
        host = request.get_host()
    except DisallowedHost:  # answered 400 anyway; the policy must not turn that into an error
        host = None
    if host:
        directives["connect-src"] += [f"ws://{host}", f"wss://{host}"]
    for name, sources in (relax or {}).items():
        directives.setdefault(name, ["'self'"])
        directives[name] += [s for s in sources if s not in directives[name]]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not already carry one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy_for(request, getattr(response, "csp_relax", None))
        return response


def csp_relax(**directives: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Widen the policy for one view only: ``csp_relax(style_src=["'unsafe-inline'"])``.

    For third-party pages Beacon does not render itself (the API docs); never for Beacon's own.
    """
    relax = {name.replace("_", "-"): list(sources) for name, sources in directives.items()}

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            response = view(request, *args, **kwargs)
            response.csp_relax = relax
            return response

        return wrapped

    return decorate
