"""Atom and RSS 2.0 feed indexes: entries that embed CAP alerts or link to them.

A real HTTP server on loopback serves the indexes and the shared CAP samples they point at;
hostile indexes (DOCTYPE, over the size cap, links that are not CAP, private addresses) are
refused or noted without stopping the other entries.
"""

from __future__ import annotations

import datetime as dt
import http.server
import re
import threading
from typing import Any

import pytest
from django.utils import timezone

from dispatch.alerts import feed_index, feeds, polling, tasks
from dispatch.alerts.errors import CapError
from dispatch.alerts.parser import MAX_BYTES
from dispatch.models import AlertFeed, PartnerAlert
from tests.dispatch.cap_support import needs_cap, sample

pytestmark = needs_cap

A1 = "oasis-spec-A1_homeland-security-advisory.xml"
A2 = "oasis-spec-A2_severe-thunderstorm-warning.xml"
A4 = "oasis-spec-A4_amber-alert.xml"
NSW = "nsw-rfs_2011-10-05_bushfire_cap-prefixed.xml"
CANADA = "env-canada_2012-05-02_thunderstorm.xml"
EMBEDDED = "google-validator-example_thunderstorm.xml"


def _embedded(name: str) -> str:
    """A sample as it sits inside an index: without its XML declaration."""
    return re.sub(r"^<\?xml[^>]*\?>", "", sample(name).decode()).strip()


def atom(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:test:atom</id><title>Partner alerts</title><updated>2026-11-25T10:00:00Z</updated>
  <entry><id>urn:test:a1</id><title>A1</title><updated>2026-11-25T09:00:00Z</updated>
    <link rel="alternate" type="text/html" href="{base}/page.html"/>
    <link rel="alternate" type="application/cap+xml" href="{base}/cap/a1.xml"/></entry>
  <entry><id>urn:test:a2</id><title>A2</title><updated>2026-11-25T09:00:00Z</updated>
    <link href="../cap/a2.xml"/></entry>
  <entry><id>urn:test:embedded</id><title>Embedded</title><updated>2026-11-25T09:00:00Z</updated>
    <content type="application/cap+xml">{_embedded(EMBEDDED)}</content></entry>
  <entry><id>urn:test:html</id><title>Not CAP</title><updated>2026-11-25T09:00:00Z</updated>
    <link rel="related" href="{base}/page.html"/></entry>
  <entry><id>urn:test:gone</id><title>Gone</title><updated>2026-11-25T09:00:00Z</updated>
    <link type="application/cap+xml" href="{base}/cap/missing.xml"/></entry>
  <entry><id>urn:test:file</id><title>Local file</title><updated>2026-11-25T09:00:00Z</updated>
    <link type="application/cap+xml" href="file:///etc/passwd"/></entry>
  <entry><id>urn:test:nested</id><title>An index, not an alert</title>
    <updated>2026-11-25T09:00:00Z</updated><link href="{base}/rss.xml"/></entry>
</feed>""".encode()


def rss(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Partner alerts</title><link>{base}/</link>
  <item><title>Amber</title><guid>urn:test:a4</guid><pubDate>Wed, 25 Nov 2026 09:00:00 GMT</pubDate>
    <link>{base}/page.html</link>
    <enclosure url="{base}/cap/a4.xml" type="application/cap+xml" length="1"/></item>
  <item><title>Bushfire</title><link>{base}/cap/nsw.xml</link></item>
  <item><title>Canada</title><link>/cap/canada.xml</link></item>
</channel></rss>""".encode()


class _Server(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}
    etag = '"i1"'
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        status, body = type(self).routes.get(self.path, (404, b"not found"))
        if self.path.endswith("index.xml") and self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    _Server.seen = []
    _Server.etag = '"i1"'
    _Server.routes = {
        "/atom/index.xml": (200, atom(base)),
        "/rss/index.xml": (200, rss(base)),
        "/rss.xml": (200, rss(base)),
        "/cap/a1.xml": (200, sample(A1)),
        "/cap/a2.xml": (200, sample(A2)),
        "/cap/a4.xml": (200, sample(A4)),
        "/cap/nsw.xml": (200, sample(NSW)),
        "/cap/canada.xml": (200, sample(CANADA)),
        "/page.html": (200, b"<!doctype html><html><body>An alert page</body></html>"),
    }
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield base
    srv.shutdown()
    srv.server_close()


def _feed(agency, url: str, **extra: Any) -> AlertFeed:
    return AlertFeed.objects.create(
        agency=agency, name="Partner", url=url, allow_private_network=True, **extra
    )


def _identifiers() -> set[str]:
    return set(PartnerAlert.objects.values_list("identifier", flat=True))


# --- reading an index (pure) ---------------------------------------------------------------


def test_an_atom_index_lists_links_and_embedded_alerts() -> None:
    served = feed_index.read_feed(
        atom("http://partner.example"), base_url="http://partner.example/f"
    )
    assert served.kind == "atom"
    by_title = {e.title: e for e in served.entries}
    # The link typed application/cap+xml wins over the HTML alternate; relative links resolve.
    assert by_title["A1"].link == "http://partner.example/cap/a1.xml"
    assert by_title["A2"].link == "http://partner.example/cap/a2.xml"
    assert (
        by_title["Embedded"].embedded is not None
        and b"KSTO1055887203" in by_title["Embedded"].embedded
    )
    assert by_title["Not CAP"].link == "http://partner.example/page.html"
    assert len({e.key for e in served.entries}) == len(served.entries)


def test_an_alert_escaped_into_atom_content_text_is_read_as_its_own_document() -> None:
    from xml.sax.saxutils import escape

    from dispatch.alerts.parser import parse_alert

    latin = _embedded(EMBEDDED).replace("<headline>", "<headline>Montréal ", 1)
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?>' + latin
    index = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:test:escaped</id><title>t</title>
  <updated>2026-11-25T09:00:00Z</updated>
  <entry><id>urn:test:e1</id><title>Escaped</title><updated>2026-11-25T09:00:00Z</updated>
    <content type="text">{escape(_embedded(EMBEDDED))}</content></entry>
  <entry><id>urn:test:e2</id><title>Prose</title><updated>2026-11-25T09:00:00Z</updated>
    <content type="text">Storms &lt;b&gt;likely&lt;/b&gt; tonight.</content></entry>
  <entry><id>urn:test:e3</id><title>Rendered</title><updated>2026-11-25T09:00:00Z</updated>
    <link href="/cap/e3.xml" type="application/cap+xml"/>
    <content type="html">{escape("<pre>" + escape(_embedded(EMBEDDED)) + "</pre>")}</content></entry>
  <entry><id>urn:test:e4</id><title>Latin</title><updated>2026-11-25T09:00:00Z</updated>
    <content type="text">{escape(latin)}</content></entry>
</feed>""".encode()
    entries = {
        e.title: e for e in feed_index.read_feed(index, base_url="http://p.example/").entries
    }
    assert entries["Prose"].embedded is None
    alert = parse_alert(entries["Escaped"].embedded)
    assert alert.identifier == "KSTO1055887203"
    # An HTML rendering of the alert is not the alert: its CAP link is fetched instead.
    assert entries["Rendered"].embedded is None
    assert entries["Rendered"].link == "http://p.example/cap/e3.xml"
    # A declared encoding goes with the declaration: the text is Unicode already.
    assert "Montréal" in parse_alert(entries["Latin"].embedded).infos[0].headline


def test_an_alert_escaped_into_atom_content_is_refused_when_it_carries_a_doctype() -> None:
    from xml.sax.saxutils import escape

    from dispatch.alerts.parser import parse_alert

    bomb = (
        '<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&a;</identifier></alert>'
    )
    index = f"""<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>t</title>
  <updated>2026-11-25T09:00:00Z</updated><entry><id>urn:e</id><title>Bomb</title>
  <updated>2026-11-25T09:00:00Z</updated><content type="text">{escape(bomb)}</content></entry>
</feed>""".encode()
    [entry] = feed_index.read_feed(index, base_url="http://p.example/").entries
    with pytest.raises(CapError):
        parse_alert(entry.embedded)


def test_an_rss_index_prefers_the_cap_enclosure() -> None:
    served = feed_index.read_feed(rss("http://p.example"), base_url="http://p.example/rss")
    assert served.kind == "rss"
    assert [e.link for e in served.entries] == [
        "http://p.example/cap/a4.xml",
        "http://p.example/cap/nsw.xml",
        "http://p.example/cap/canada.xml",
    ]


def test_a_cap_document_is_told_apart_and_other_documents_are_refused() -> None:
    assert feed_index.read_feed(sample(A1), base_url="http://p.example/").kind == "cap"
    with pytest.raises(
        CapError, match=re.escape("not a CAP 1.2 alert, an Atom feed or an RSS 2.0 feed")
    ):
        feed_index.read_feed(b"<html><body/></html>", base_url="http://p.example/")
    hostile = b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(CapError, match="DOCTYPE"):
        feed_index.read_feed(hostile + b"<feed>&x;</feed>", base_url="http://p.example/")


# --- polling an index over HTTP --------------------------------------------------------------


@pytest.mark.django_db
def test_an_atom_index_imports_its_alerts_and_notes_the_bad_entries(agency, server) -> None:
    feed = _feed(agency, f"{server}/atom/index.xml")
    status = tasks.poll_feed(feed.pk)
    assert status.startswith(
        "200 atom index: 7 entries, 2 new, 1 known, 0 unchanged, 2 refused, 2 failed, 0 left"
    ), status
    # The embedded thunderstorm is the spec's A.2 alert again (same sender, identifier, sent).
    assert _identifiers() == {"43b080713727", "KSTO1055887203"}
    # The HTML page and the nested index are refused, the 404 and the file:// link fail.
    assert "/page.html: xml: DOCTYPE" in status and "/cap/missing.xml: HTTP 404" in status
    assert "/cap/a2.xml" in _Server.seen and "/cap/missing.xml" in _Server.seen
    feed.refresh_from_db()
    assert feed.last_status == status[:500]
    assert PartnerAlert.objects.filter(received_via=f"feed:{feed.pk}").count() == 2
    # Every entry was dealt with (the 404 and file:// ones cannot improve by retrying): the
    # index's validators are stored, and the next poll is a 304.
    assert feed.etag == '"i1"' and len(feed.seen_entries) == 7
    later = timezone.now() + dt.timedelta(minutes=10)
    assert tasks.poll_feed(feed.pk, now=later) == "304 not modified"


@pytest.mark.django_db
def test_entries_already_handled_are_not_fetched_again(agency, server) -> None:
    feed = _feed(agency, f"{server}/atom/index.xml")
    tasks.poll_feed(feed.pk)
    _Server.etag = '"i2"'  # the index changed (say, its feed-level <updated>)
    _Server.seen = []
    status = tasks.poll_feed(feed.pk)
    assert "7 unchanged" in status and "0 new" in status
    assert _Server.seen == ["/atom/index.xml"]  # no linked document was fetched again


@pytest.mark.django_db
def test_an_rss_index_imports_enclosures_and_links(agency, server) -> None:
    feed = _feed(agency, f"{server}/rss/index.xml")
    status = tasks.poll_feed(feed.pk)
    assert status.startswith("200 rss index: 3 entries, 3 new"), status
    assert {"/cap/a4.xml", "/cap/nsw.xml", "/cap/canada.xml"} <= set(_Server.seen)
    assert "/page.html" not in _Server.seen  # the CAP enclosure was preferred to the link


@pytest.mark.django_db
def test_fetches_per_poll_are_capped_and_the_rest_wait(agency, server, monkeypatch) -> None:
    monkeypatch.setattr(polling, "MAX_FETCHES_PER_POLL", 2)
    feed = _feed(agency, f"{server}/rss/index.xml")
    assert "2 new" in (first := tasks.poll_feed(feed.pk)) and "1 left for the next poll" in first
    feed.refresh_from_db()
    assert feed.etag == ""  # not stored: the next poll must read the index again
    second = tasks.poll_feed(feed.pk)
    assert "1 new" in second and "2 unchanged" in second and "0 left" in second
    assert PartnerAlert.objects.count() == 3


@pytest.mark.django_db
def test_hostile_indexes_are_refused_and_store_nothing(agency, server) -> None:
    doctype = b'<?xml version="1.0"?>\n<!DOCTYPE feed SYSTEM "http://127.0.0.1:9/x.dtd">\n<feed/>'
    huge = b"<feed xmlns='http://www.w3.org/2005/Atom'>" + b" " * MAX_BYTES + b"</feed>"
    _Server.routes["/doctype/index.xml"] = (200, doctype)
    _Server.routes["/huge/index.xml"] = (200, huge)
    refused = tasks.poll_feed(_feed(agency, f"{server}/doctype/index.xml").pk)
    assert refused.startswith("refused: xml:") and "DOCTYPE" in refused
    assert tasks.poll_feed(_feed(agency, f"{server}/huge/index.xml").pk) == (
        f"error: response over the {MAX_BYTES} byte cap"
    )
    assert not PartnerAlert.objects.exists()


@pytest.mark.django_db
def test_links_to_private_addresses_are_refused_unless_the_feed_allows_them(agency, server) -> None:
    """The guard applies per fetch: here the index is read as bytes, its loopback links are not."""
    feed = AlertFeed.objects.create(agency=agency, name="Public partner", url="https://p.example/")
    served = feed_index.read_feed(atom(server), base_url=server)
    got = feeds.Fetch(status=200, body=b"", etag='"x"')
    status = polling._poll_index(feed, served, got, timezone.now())
    assert "3 refused" not in status and "1 new" in status  # only the embedded alert
    assert "Refused: 127.0.0.1 resolves to 127.0.0.1" in status
    assert _Server.seen == []  # the guard refused before connecting
    with pytest.raises(feeds.FeedError) as caught:
        feeds.fetch(f"{server}/cap/a1.xml")
    assert not caught.value.retry
