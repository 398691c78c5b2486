"""Reading what a feed URL serves: one CAP alert, or an Atom / RSS 2.0 index of alerts.

Pure: no Django, no network. Real CAP feeds (NWS, IPAWS, Environment Canada, MeteoAlarm)
publish an index whose entries link to CAP documents or embed them; ``read_feed`` says which
kind of document it got and, for an index, lists its entries with what to import from each.
The index is untrusted input like an alert: it goes through the same hardened parsing (size
cap, DOCTYPE refused unread, no entities, no network) as ``parser.parse_alert``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from dispatch.alerts.errors import CAP_NS, CapError
from dispatch.alerts.parser import MAX_BYTES, refuse_doctype, xml_parser

ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
# Atom link relations that point at the entry's content (RFC 4287 4.2.7.2; no rel = alternate).
_CONTENT_RELS = ("alternate", "related")
_XML_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")


@dataclass(frozen=True, slots=True)
class Entry:
    """One index entry: a CAP alert embedded in it, or a link to fetch one (or neither)."""

    key: str  # stable while the entry is unchanged: a digest of id/link and updated
    title: str
    link: str = ""
    embedded: bytes | None = None


@dataclass(slots=True)
class Feed:
    """What a feed URL served: ``kind`` is "cap", "atom" or "rss"; an index has entries."""

    kind: str
    entries: list[Entry] = field(default_factory=list)


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _embedded(container: Any) -> bytes | None:
    """A ``cap:alert`` inside ``container`` (Atom content, an RSS item), as its own document."""
    if container is None:
        return None
    alert = container.find(f".//{{{CAP_NS}}}alert")
    if alert is not None:
        return etree.tostring(alert, encoding="UTF-8", xml_declaration=True)
    # Some publishers escape the alert into the content's text (``type="text"`` or "html",
    # ``&lt;alert xmlns=...&gt;``) instead of embedding it as XML. The text is handed on as its
    # own document and parsed as hardened as any alert (``parser.parse_alert``).
    text = (container.text or "").strip()
    if not text.startswith("<") or CAP_NS not in text:
        return None
    # The text is Unicode already: its own declaration would name an encoding it no longer has.
    document = _XML_DECLARATION.sub("", text, count=1).lstrip().encode("utf-8")
    try:
        refuse_doctype(document)
    except CapError:
        return document  # an alert all the same; importing it refuses it with the reason
    try:
        root = etree.fromstring(document, xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None  # not a document of its own (e.g. escaped markup in prose): use the link
    return document if root.tag == f"{{{CAP_NS}}}alert" else None


def _atom_link(entry: Any, base: str) -> str:
    links = [link for link in entry.findall(f"{{{ATOM_NS}}}link") if link.get("href")]
    for link in links:  # the CAP document itself, when the feed says which link that is
        if (link.get("type") or "").split(";")[0].strip().lower() == CAP_MIME:
            return urljoin(base, link.get("href").strip())
    for link in links:
        if (link.get("rel") or "alternate") in _CONTENT_RELS:
            return urljoin(base, link.get("href").strip())
    return ""


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _atom(root: Any, base: str) -> list[Entry]:
    entries = []
    for entry in root.iterfind(f"{{{ATOM_NS}}}entry"):
        entry_id = _text(entry, f"{{{ATOM_NS}}}id")
        updated = _text(entry, f"{{{ATOM_NS}}}updated")
        link = _atom_link(entry, base)
        entries.append(
            Entry(
                key=_key("atom", entry_id or link, updated),
                title=_text(entry, f"{{{ATOM_NS}}}title")[:200],
                link=link,
                embedded=_embedded(entry.find(f"{{{ATOM_NS}}}content")),
            )
        )
    return entries


def _rss_link(item: Any, base: str) -> str:
    enclosures = [e for e in item.findall("enclosure") if e.get("url")]
    for enclosure in enclosures:
        if (enclosure.get("type") or "").split(";")[0].strip().lower() == CAP_MIME:
            return urljoin(base, enclosure.get("url").strip())
    link = _text(item, "link")
    if link:
        return urljoin(base, link)
    return urljoin(base, enclosures[0].get("url").strip()) if enclosures else ""


def _rss(root: Any, base: str) -> list[Entry]:
    entries = []
    for item in root.iterfind("channel/item"):
        link = _rss_link(item, base)
        guid = _text(item, "guid")
        entries.append(
            Entry(
                key=_key("rss", guid or link, _text(item, "pubDate")),
                title=_text(item, "title")[:200],
                link=link,
                embedded=_embedded(item),
            )
        )
    return entries


def read_feed(data: bytes, *, base_url: str) -> Feed:
    """Tell a CAP alert from an Atom or RSS 2.0 index; list an index's entries (links absolute).

    Raises ``CapError`` (field ``xml``) for anything else or anything unsafe.
    """
    if not data or not data.strip():
        raise CapError("empty document", field="xml")
    if len(data) > MAX_BYTES:
        raise CapError(f"document is {len(data)} bytes, over the {MAX_BYTES} byte cap", field="xml")
    refuse_doctype(data)
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise CapError(f"not well-formed XML: {exc.msg}", field="xml", line=exc.lineno) from None
    except ValueError as exc:
        raise CapError(f"not readable XML: {exc}", field="xml") from None
    if root.tag == f"{{{CAP_NS}}}alert":
        return Feed("cap")
    if root.tag == f"{{{ATOM_NS}}}feed":
        return Feed("atom", _atom(root, base_url))
    if root.tag == "rss" and root.find("channel") is not None:
        return Feed("rss", _rss(root, base_url))
    raise CapError(
        f"root element is {etree.QName(root).localname!r}: not a CAP 1.2 alert, an Atom feed or "
        "an RSS 2.0 feed",
        field="xml",
        line=root.sourceline,
    )
