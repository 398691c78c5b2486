"""Fetching a partner's feed URL (conditional GET) and the CAP documents its index links to.

Every request goes through the webhooks' SSRF guard (``governance.webhooks.http_session``):
feed indexes name URLs their publisher chose, so a link to a private, loopback or link-local
address is refused unless an admin allowed the feed to reach the private network.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.alerts.parser import MAX_BYTES
from governance.webhooks import http_session

TIMEOUT_S = 20
MAX_REDIRECTS = 5  # each hop connects through the guard again
_REFUSED = "Refused: "
ACCEPT = "application/cap+xml, application/atom+xml, application/rss+xml, application/xml, text/xml"


@dataclass(frozen=True, slots=True)
class Fetch:
    """A feed response: 200 with a body, or 304 (nothing new)."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class FeedError(Exception):
    """The URL could not be read; ``retry`` is False when trying again cannot help soon
    (refused address, client error, too big), True for network trouble and server errors."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def fetch(
    url: str, *, etag: str = "", last_modified: str = "", allow_private_network: bool = False
) -> Fetch:
    """GET ``url`` with If-None-Match / If-Modified-Since; bodies over the alert cap refused."""
    import requests

    if not url.lower().startswith(("http://", "https://")):
        raise FeedError("only http(s) URLs are fetched", retry=False)
    headers = {"Accept": ACCEPT, "User-Agent": "Beacon"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    session = http_session(allow_private_network=allow_private_network)
    session.max_redirects = MAX_REDIRECTS
    try:
        with session, session.get(url, headers=headers, timeout=TIMEOUT_S, stream=True) as r:
            if r.status_code == 304:
                return Fetch(status=304)
            if r.status_code != 200:
                transient = r.status_code >= 500 or r.status_code in (408, 429)
                raise FeedError(f"HTTP {r.status_code}", retry=transient)
            body = bytearray()
            for chunk in r.iter_content(64 * 1024):  # decoded, so a gzip bomb stops at the cap
                body += chunk
                if len(body) > MAX_BYTES:
                    raise FeedError(f"response over the {MAX_BYTES} byte cap", retry=False)
            return Fetch(
                status=200,
                body=bytes(body),
                etag=r.headers.get("ETag"),
                last_modified=r.headers.get("Last-Modified"),
            )
    except requests.RequestException as exc:
        text = str(exc)
        if _REFUSED in text:  # the guard: "Refused: <host> resolves to <address>, a private ..."
            reason = text[text.index(_REFUSED) :].split("'")[0].split('"')[0].rstrip(")")
            raise FeedError(reason, retry=False) from None
        raise FeedError(f"unreachable: {type(exc).__name__}: {text}"[:300]) from None
