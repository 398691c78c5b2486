"""A deterministic corpus of mutants of the shared CAP 1.2 samples, for the differential test.

Most mutations are generic (drop, duplicate or swap any element), so they do not borrow
Beacon's tables: the OASIS schema is the judge of each one. The value mutations name the CAP
elements they target from the spec's data dictionary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from dispatch.alerts.errors import CAP_NS, DSIG_NS

ENUMS = {
    "status": "Exercise",
    "msgType": "Alert",
    "scope": "Public",
    "category": "Other",
    "responseType": "Monitor",
    "urgency": "Unknown",
    "severity": "Unknown",
    "certainty": "Unknown",
}
DATETIMES = ("sent", "effective", "onset", "expires")
BAD_DATETIMES = (
    "2026-11-25T10:00:00Z",  # Z is not an explicit offset
    "2026-11-25T10:00:00",  # no offset
    "2026-11-25T10:00:00.5-05:00",  # fractions are not allowed
    "2026-11-25 10:00:00-05:00",
    "2026-11-25",
    "2026-02-29T10:00:00-05:00",  # not a leap year
    "2026-04-31T10:00:00-05:00",
    "2026-13-01T10:00:00-05:00",
    "2026-11-25T25:00:00-05:00",
    "2026-11-25T10:60:00-05:00",
    "2026-11-25T10:00:60-05:00",
    "2026-11-25T10:00:00+15:00",
    "2026-11-25T10:00:00+05:60",
    "2026-11-25T10:00:00,05:00",
    "0000-11-25T10:00:00-05:00",
    "25/11/2026 10:00",
)
GOOD_DATETIMES = (
    "2024-02-29T10:00:00-05:00",
    "2026-11-25T24:00:00+00:00",
    " 2026-11-25T10:00:00-00:00\n",
    "2026-11-25T10:00:00+14:00",
    "2026-11-25T10:00:00-13:59",
)
BAD_ENUM_SUFFIXES = ("bogus", "lower", "padded")
BAD_INTEGERS = ("12.5", "1e3", "abc", "", "0x10", "1 2")
GOOD_INTEGERS = (" 42 ", "-3", "+7", "0012")
BAD_DECIMALS = ("1e3", "abc", "", "1,5", ".", "INF", "1.2.3")
GOOD_DECIMALS = ("120", "-0.5", "+.25", " 3. ")
BAD_LANGUAGES = ("en_US", "english-language", "e1", "en-", "en--US")
GOOD_LANGUAGES = ("fr", "x-klingon", "en-1")
BAD_URIS = ("%zz", "http://[bad", "http://example.com/%4", "::")
GOOD_URIS = ("http://example.com/a b", "urn:x:y", "#frag", "relative/path")


@dataclass(frozen=True)
class Mutant:
    """One changed document and what was done to it (``kind``, the element, where)."""

    label: str
    kind: str
    element: str
    data: bytes


def _name(node: etree._Element) -> str:
    return etree.QName(node).localname


def _ns(node: etree._Element) -> str:
    return etree.QName(node).namespace or ""


def _elements(root: etree._Element) -> list[etree._Element]:
    """Every CAP element under the root (not inside a signature), in document order."""
    return [
        node
        for node in root.iter()
        if isinstance(node.tag, str)
        and _ns(node) == CAP_NS
        and node is not root
        and not any(_ns(a) == DSIG_NS for a in node.iterancestors())
    ]


def _path(node: etree._Element) -> str:
    return "/".join(_name(a) for a in reversed(list(node.iterancestors()))) + "/" + _name(node)


def _distinct(nodes: list[etree._Element]) -> list[etree._Element]:
    """The first node for each path, so one mutation per kind of place."""
    seen: set[str] = set()
    out = []
    for node in nodes:
        if _path(node) not in seen:
            seen.add(_path(node))
            out.append(node)
    return out


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _mutate(root: etree._Element, index: int, change: Callable[[etree._Element], None]) -> bytes:
    """A deep copy of the document with ``change`` applied to its ``index``-th CAP element."""
    clone = copy.deepcopy(root)
    change(_elements(clone)[index])
    return _serialise(clone)


def _set_text(value: str) -> Callable[[etree._Element], None]:
    def change(node: etree._Element) -> None:
        node.text = value

    return change


def mutants(data: bytes, seen: set[str]) -> Iterator[Mutant]:
    """The mutants of one sample not already in ``seen`` (labels), always in the same order.

    Labels name the element's path, so a place that several samples share (``alert/sent``) is
    mutated once, in the first sample given; ``seen`` is updated.
    """
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))

    def offer(
        label: str, kind: str, element: str, index: int, change: Callable[[etree._Element], None]
    ) -> Iterator[Mutant]:
        if label not in seen:
            seen.add(label)
            yield Mutant(label, kind, element, _mutate(root, index, change))

    nodes = _elements(root)
    at = {id(node): i for i, node in enumerate(nodes)}

    for node in _distinct(nodes):
        i, path = at[id(node)], _path(node)

        def drop(n: etree._Element) -> None:
            n.getparent().remove(n)

        def duplicate(n: etree._Element) -> None:
            n.addnext(copy.deepcopy(n))

        yield from offer(f"drop {path}", "drop", _name(node), i, drop)
        yield from offer(f"duplicate {path}", "duplicate", _name(node), i, duplicate)

        def unknown(n: etree._Element) -> None:
            n.addprevious(etree.Element(f"{{{CAP_NS}}}bogusElement"))

        yield from offer(f"unknown CAP element before {path}", "unknown", _name(node), i, unknown)

        def foreign(n: etree._Element) -> None:
            n.addnext(etree.Element("{http://example.com/ext}extra"))

        yield from offer(f"foreign element after {path}", "foreign", _name(node), i, foreign)

        def attribute(n: etree._Element) -> None:
            n.set("lang", "en")

        yield from offer(f"attribute on {path}", "attribute", _name(node), i, attribute)

        if len(node) == 0:

            def child(n: etree._Element) -> None:
                etree.SubElement(n, f"{{{CAP_NS}}}value").text = "x"

            yield from offer(f"element inside {path}", "child", _name(node), i, child)
        else:

            def text(n: etree._Element) -> None:
                n[0].addprevious(etree.Comment("kept"))
                n.text = "stray text"

            yield from offer(f"text inside {path}", "text", _name(node), i, text)

    # Swap each pair of adjacent siblings with different names (one per pair of names).
    seen_pairs: set[tuple[str, str, str]] = set()
    for node in nodes:
        following = node.getnext()
        while following is not None and not isinstance(following.tag, str):
            following = following.getnext()
        if following is None or _name(following) == _name(node) or _ns(following) != CAP_NS:
            continue
        key = (_path(node), _name(node), _name(following))
        if key in seen_pairs:
            continue
        seen_pairs.add(key)

        def swap(n: etree._Element) -> None:
            after = n.getnext()
            while not isinstance(after.tag, str):
                after = after.getnext()
            after.addnext(n)

        yield from offer(
            f"swap {_path(node)} and {_name(following)}", "swap", _name(node), at[id(node)], swap
        )

    # Values: enumerations, date-times, language, URIs.
    for node in _distinct(nodes):
        i, name, path = at[id(node)], _name(node), _path(node)
        value = node.text or ""
        if name in ENUMS:
            for how, bad in zip(
                BAD_ENUM_SUFFIXES, ("Bogus", value.lower(), value + " "), strict=True
            ):
                yield from offer(f"{path} {how}", "enum", name, i, _set_text(bad))
            if ENUMS[name] != value:
                yield from offer(
                    f"{path} = {ENUMS[name]}", "enum-valid", name, i, _set_text(ENUMS[name])
                )
        cases: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if name in DATETIMES:
            cases = (("datetime", BAD_DATETIMES), ("datetime-valid", GOOD_DATETIMES))
        elif name == "language":
            cases = (("language", BAD_LANGUAGES), ("language-valid", GOOD_LANGUAGES))
        elif name in ("web", "uri"):
            cases = (("uri", BAD_URIS), ("uri-valid", GOOD_URIS))
        elif name == "size":
            cases = (("integer", BAD_INTEGERS), ("integer-valid", GOOD_INTEGERS))
        for kind, values in cases:
            for v in values:
                yield from offer(f"{path} = {v!r}", kind, name, i, _set_text(v))

    # No sample has altitude/ceiling, and one has a size: add them where the spec puts them.
    for node in _distinct([n for n in nodes if _name(n) in ("area", "resource")]):
        i, path = at[id(node)], _path(node)
        numbers = (
            (("size", BAD_INTEGERS, GOOD_INTEGERS),)
            if _name(node) == "resource"
            else (
                ("altitude", BAD_DECIMALS, GOOD_DECIMALS),
                ("ceiling", BAD_DECIMALS, GOOD_DECIMALS),
            )
        )
        for name, bad_values, good_values in numbers:
            for kind, values in (("number", bad_values), ("number-valid", good_values)):
                for v in values:

                    def add(n: etree._Element, name: str = name, v: str = v) -> None:
                        new = etree.Element(f"{{{CAP_NS}}}{name}")
                        new.text = v
                        if name == "size":
                            n.find(f"{{{CAP_NS}}}mimeType").addnext(new)
                        elif name == "ceiling":
                            altitude = etree.SubElement(n, f"{{{CAP_NS}}}altitude")
                            altitude.text = "100"
                            n.append(new)
                        else:
                            n.append(new)

                    if name == "size" and node.find(f"{{{CAP_NS}}}size") is not None:
                        continue
                    yield from offer(f"{path} + {name} {v!r}", kind, name, i, add)

    # The signature (where there is one) moved in front of the last info.
    infos = [n for n in nodes if _name(n) == "info" and n.getparent() is root]
    if root.find(f"{{{DSIG_NS}}}Signature") is not None and infos:

        def signature_first(info: etree._Element) -> None:
            info.addprevious(info.getparent().find(f"{{{DSIG_NS}}}Signature"))

        yield from offer(
            "Signature before the last info",
            "signature-order",
            "Signature",
            at[id(infos[-1])],
            signature_first,
        )
