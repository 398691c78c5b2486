"""Fetching a partner's CAP feed URL with a conditional GET (stdlib urllib, no new client)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from dispatch.alerts.parser import MAX_BYTES

TIMEOUT_S = 20


@dataclass(frozen=True, slots=True)
class Fetch:
    """A feed response: 200 with a body, or 304 (nothing new)."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FeedError(Exception):
    """The feed could not be read (network, HTTP error, too big)."""


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetch:
    """GET ``url`` with If-None-Match / If-Modified-Since; bodies over the alert cap refused."""
    if not url.lower().startswith(("http://", "https://")):
        raise FeedError("only http(s) feed URLs are polled")
    headers = {"Accept": "application/cap+xml, application/xml, text/xml", "User-Agent": "Beacon"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310
    try:
        # The scheme is checked above (http or https only): no file: or custom schemes.
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310  # nosec B310
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FeedError(f"response over the {MAX_BYTES} byte cap")
            return Fetch(
                status=response.status,
                body=body,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetch(status=304)
        raise FeedError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FeedError(f"unreachable: {getattr(exc, 'reason', exc)}") from None
