"""Beacon's own CAP 1.2 conformance rules, always on (pure: no Django).

Written from the data dictionary of the CAP 1.2 specification (OASIS Standard, 1 July 2010,
section 3.2), not copied from the OASIS XSD, which carries "All Rights Reserved" and is not
shipped. ``check_structure`` is the part an XSD validator would also enforce: element order and
cardinality, required elements, enumerations, value types, no unknown elements or attributes.
``check_rules`` is what the schema cannot say (the spec's prose rules). The differential test
(tests/dispatch/test_cap_conformance_differential.py) holds ``check_structure`` to the schema's
verdict on several hundred mutants of real alerts.

Every refusal is a ``CapError`` naming the element at fault and its line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from dispatch.alerts.errors import CAP_NS, DSIG_NS, CapError

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# Schema-location hints are allowed on any element by XML Schema itself; Beacon ignores them.
_XSI_HINTS = {f"{{{XSI_NS}}}schemaLocation", f"{{{XSI_NS}}}noNamespaceSchemaLocation"}
_XML_SPACE = " \t\r\n"  # what XML calls white space (str.strip() would take more)


# --- value types (spec 3.1.1, 3.1.2 and the data dictionary's "Notes" column) ----------------

Check = Callable[[str], str | None]  # the value -> None, or why it is refused


def _collapse(value: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", value).strip(" ")


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        # Enumerated values are case-sensitive and taken as written (no trimming).
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})([-+])([0-9]{2}):([0-9]{2})"
)
MAX_OFFSET_MIN = 14 * 60  # the widest time-zone offset an XML date-time may carry


def _datetime(value: str) -> str | None:
    """CAP 3.1.2: "2002-05-24T16:49:00-07:00", always with an explicit offset, no fraction."""
    text = value.strip(_XML_SPACE)
    m = _DATETIME.fullmatch(text)
    if m is None:
        return f"{text!r} is not a date-time of the form YYYY-MM-DDThh:mm:ss+hh:mm"
    year, month, day, hour, minute, second, _sign, off_h, off_m = m.groups()
    try:
        dt.date(int(year), int(month), int(day))  # year 0000 and 31 June are refused here too
    except ValueError:
        return f"{text!r} is not a calendar date"
    end_of_day = (hour, minute, second) == ("24", "00", "00")  # XML allows 24:00:00 as midnight
    if not end_of_day and (int(hour) > 23 or int(minute) > 59 or int(second) > 59):
        return f"{text!r} is not a time of day"
    if int(off_m) > 59 or int(off_h) * 60 + int(off_m) > MAX_OFFSET_MIN:
        return f"{text!r} has a time-zone offset outside -14:00..+14:00"
    return None


_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_LANGUAGE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")


def _integer(value: str) -> str | None:
    text = value.strip(_XML_SPACE)
    return None if _INTEGER.fullmatch(text) else f"{text!r} is not a whole number"


def _decimal(value: str) -> str | None:
    text = value.strip(_XML_SPACE)
    return None if _DECIMAL.fullmatch(text) else f"{text!r} is not a decimal number"


def _language(value: str) -> str | None:
    text = value.strip(_XML_SPACE)
    if not text:
        return None  # an empty <language/> means the default, en-US (spec 3.2.2)
    return None if _LANGUAGE.fullmatch(text) else f"{text!r} is not an RFC 3066 language tag"


# RFC 3986 URI-reference. Characters a URI may not hold literally (space, quotes, non-ASCII...)
# are read as if percent-encoded, as XML Schema's anyURI says; what remains must parse.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})"  # no colon
_HOST = rf"(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
_AUTHORITY = rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?{_HOST}(?::[0-9]*)?"
_ABEMPTY = rf"(?:/{_PCHAR}*)*"
_ABSOLUTE = rf"/(?:{_PCHAR}+{_ABEMPTY})?"
_TAIL = rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:(?://{_AUTHORITY}{_ABEMPTY}|{_ABSOLUTE}|{_PCHAR}+{_ABEMPTY}|){_TAIL}"
    rf"|(?://{_AUTHORITY}{_ABEMPTY}|{_ABSOLUTE}|{_SEGMENT_NC}+{_ABEMPTY}|){_TAIL}"
)
_NOT_LITERAL = re.compile(r"[\x00-\x20\x7f-\U0010ffff<>\"{}|\\^`']")


def _uri(value: str) -> str | None:
    text = _collapse(value)
    return None if _URI.fullmatch(_NOT_LITERAL.sub("_", text)) else f"{text!r} is not a URI"


# --- the content models (spec 3.2: alert, info, resource, area) ------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """One place in an element's sequence: a CAP element (or a foreign-namespace wildcard)."""

    name: str
    min: int = 1
    max: int | None = 1  # None: unbounded
    check: Check | None = None  # simple content; None with a model below means complex
    namespace: str = CAP_NS

    def takes(self, namespace: str, name: str) -> bool:
        if self.name == "*":
            return namespace == self.namespace
        return namespace == CAP_NS and name == self.name


def _opt(name: str, check: Check | None = None, *, many: bool = False) -> Slot:
    return Slot(name, 0, None if many else 1, check)


def _text_only(_value: str) -> str | None:
    return None


CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")  # fmt: skip
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                  "AllClear", "None")  # fmt: skip
_PAIR = (Slot("valueName", check=_text_only), Slot("value", check=_text_only))

MODELS: dict[str, tuple[Slot, ...]] = {
    "alert": (
        Slot("identifier", check=_text_only),
        Slot("sender", check=_text_only),
        Slot("sent", check=_datetime),
        Slot("status", check=_one_of("Actual", "Exercise", "System", "Test", "Draft")),
        Slot("msgType", check=_one_of("Alert", "Update", "Cancel", "Ack", "Error")),
        _opt("source", _text_only),
        Slot("scope", check=_one_of("Public", "Restricted", "Private")),
        _opt("restriction", _text_only),
        _opt("addresses", _text_only),
        _opt("code", _text_only, many=True),
        _opt("note", _text_only),
        _opt("references", _text_only),
        _opt("incidents", _text_only),
        _opt("info", many=True),
        # The only extension point of CAP 1.2: a digital signature (XML-DSig, spec 3.3.2) after
        # the last info. Its content is XML-DSig's business, not checked here.
        Slot("*", 0, None, _text_only, namespace=DSIG_NS),
    ),
    "info": (
        _opt("language", _language),
        Slot("category", max=None, check=_one_of(*CATEGORIES)),
        Slot("event", check=_text_only),
        _opt("responseType", _one_of(*RESPONSE_TYPES), many=True),
        Slot("urgency", check=_one_of("Immediate", "Expected", "Future", "Past", "Unknown")),
        Slot("severity", check=_one_of("Extreme", "Severe", "Moderate", "Minor", "Unknown")),
        Slot("certainty", check=_one_of("Observed", "Likely", "Possible", "Unlikely", "Unknown")),
        _opt("audience", _text_only),
        _opt("eventCode", many=True),
        _opt("effective", _datetime),
        _opt("onset", _datetime),
        _opt("expires", _datetime),
        _opt("senderName", _text_only),
        _opt("headline", _text_only),
        _opt("description", _text_only),
        _opt("instruction", _text_only),
        _opt("web", _uri),
        _opt("contact", _text_only),
        _opt("parameter", many=True),
        _opt("resource", many=True),
        _opt("area", many=True),
    ),
    "eventCode": _PAIR,
    "parameter": _PAIR,
    "resource": (
        Slot("resourceDesc", check=_text_only),
        Slot("mimeType", check=_text_only),
        _opt("size", _integer),
        _opt("uri", _uri),
        _opt("derefUri", _text_only),
        _opt("digest", _text_only),
    ),
    "area": (
        Slot("areaDesc", check=_text_only),
        _opt("polygon", _text_only, many=True),
        _opt("circle", _text_only, many=True),
        _opt("geocode", many=True),
        _opt("altitude", _decimal),
        _opt("ceiling", _decimal),
    ),
    "geocode": _PAIR,
}
KNOWN = {slot.name for slots in MODELS.values() for slot in slots} | {"alert"}


# --- walking the document --------------------------------------------------------------------


def _split(tag: str) -> tuple[str, str]:
    q = etree.QName(tag)
    return q.namespace or "", q.localname


def _label(namespace: str, name: str) -> str:
    if namespace == CAP_NS:
        return name
    return f"{{{namespace}}}{name}" if namespace else f"{name} (no namespace)"


def _check_attributes(node: Any, name: str) -> None:
    for attr in node.attrib:
        if attr not in _XSI_HINTS:
            raise CapError(
                f"{name}: attribute {_label(*_split(attr))!r} is not allowed (CAP elements "
                "carry no attributes)",
                field=name,
                line=node.sourceline,
            )


def _check_simple(node: Any, slot: Slot) -> None:
    for child in node:
        if isinstance(child.tag, str):
            raise CapError(
                f"{slot.name} holds text only, not elements (found {_label(*_split(child.tag))})",
                field=slot.name,
                line=child.sourceline,
            )
    # Comments inside a value are not part of it.
    value = (node.text or "") + "".join(child.tail or "" for child in node)
    reason = slot.check(value) if slot.check else None
    if reason:
        raise CapError(f"{slot.name}: {reason}", field=slot.name, line=node.sourceline)


def _check_no_text(node: Any, name: str) -> None:
    pieces = [(node.text, node.sourceline)] + [(child.tail, child.sourceline) for child in node]
    for text, line in pieces:
        if text and text.strip(_XML_SPACE):
            raise CapError(
                f"{name} holds elements only, not text ({text.strip()[:40]!r})",
                field=name,
                line=line,
            )


def _slot_of(slots: Sequence[Slot], node: Any) -> int | None:
    namespace, name = _split(node.tag)
    return next((i for i, slot in enumerate(slots) if slot.takes(namespace, name)), None)


def _unexpected(parent: str, slots: Sequence[Slot], children: list[Any], position: int) -> CapError:
    """Why ``children[position]`` cannot be taken where it stands, in the reader's terms."""
    child = children[position]
    namespace, name = _split(child.tag)
    line = child.sourceline
    if namespace not in (CAP_NS, DSIG_NS):
        return CapError(
            f"{parent}: element {_label(namespace, name)} is not allowed: CAP 1.2 admits another "
            "namespace only for an XML-DSig signature at the end of alert",
            field=name,
            line=line,
        )
    mine = _slot_of(slots, child)
    if namespace == DSIG_NS and mine is None:
        return CapError(
            f"{parent}: XML-DSig {name} is only allowed at the end of alert",
            field=name,
            line=line,
        )
    if mine is None:
        if name not in KNOWN:
            return CapError(f"{parent}: {name} is not a CAP 1.2 element", field=name, line=line)
        return CapError(f"{name} does not belong in {parent}", field=name, line=line)
    earlier = children[:position]
    if slots[mine].max == 1 and any(_slot_of(slots, c) == mine for c in earlier):
        return CapError(f"{parent}: {name} may appear only once", field=name, line=line)
    after = next((c for c in earlier if (_slot_of(slots, c) or 0) > mine), None)
    before = _label(*_split(after.tag)) if after is not None else "the elements before it"
    return CapError(
        f"{parent}: {name} is out of order: it must come before {before}",
        field=name,
        line=line,
    )


def _missing(node: Any, parent: str, slot: Slot, children: list[Any], position: int) -> CapError:
    if position >= len(children):
        return CapError(f"{parent}: {slot.name} is required", field=slot.name, line=node.sourceline)
    found = children[position]
    label = _label(*_split(found.tag))
    if any(_split(c.tag) == (CAP_NS, slot.name) for c in children[position:]):
        reason = f"{parent}: {slot.name} must come before {label}"
    else:
        reason = f"{parent}: {slot.name} is required (missing before {label})"
    return CapError(reason, field=slot.name, line=found.sourceline)


def _check_element(node: Any, name: str) -> None:
    """Check ``node`` (a CAP element with a content model) and everything inside it."""
    slots = MODELS[name]
    _check_attributes(node, name)
    _check_no_text(node, name)
    index, count = 0, 0  # the slot being filled and how many it holds
    children = [child for child in node if isinstance(child.tag, str)]
    for position, child in enumerate(children):
        namespace, child_name = _split(child.tag)
        full = slots[index].max is not None and count >= slots[index].max
        target = next(
            (
                j
                for j in range(index + 1 if full else index, len(slots))
                if slots[j].takes(namespace, child_name)
            ),
            None,
        )
        if target is None:
            raise _unexpected(name, slots, children, position)
        for skipped in range(index, target):
            if (count if skipped == index else 0) < slots[skipped].min:
                raise _missing(node, name, slots[skipped], children, position)
        if target != index:
            index, count = target, 0
        count += 1
        slot = slots[index]
        if slot.name == "*":
            continue  # foreign content (the signature) is its own standard's business
        _check_attributes(child, slot.name)
        if slot.check is None:
            _check_element(child, slot.name)
        else:
            _check_simple(child, slot)
    for rest in range(index, len(slots)):
        if (count if rest == index else 0) < slots[rest].min:
            raise _missing(node, name, slots[rest], children, len(children))


def check_structure(root: Any) -> None:
    """What the CAP 1.2 schema says, for a document whose root is already ``cap:alert``."""
    _check_element(root, "alert")


# --- what the schema cannot say (spec 3.2 prose) ---------------------------------------------

_REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
# Alert elements that, when present, must say something (the schema types them as plain
# strings and lets an empty one through). Real feeds send empty <restriction/>, <addresses/>
# and <source/> on public alerts, harmlessly; an empty <references/> breaks the update chain.
_NOT_EMPTY = ("references",)
# Message types that act on earlier messages, so must name them (CAP 1.2 section 3.2.1).
NEEDS_REFERENCES = ("Update", "Cancel", "Ack", "Error")
# Spec 3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters
# (< and &)"; references are "sender,identifier,sent" triples split on exactly those.
_NO_SEPARATORS = ("identifier", "sender")
_SEPARATORS = re.compile(r"[\s,<&]")


def _child(parent: Any, name: str) -> Any | None:
    return parent.find(f"{{{CAP_NS}}}{name}")


def _value(parent: Any, name: str) -> str:
    node = _child(parent, name)
    return (node.text or "").strip() if node is not None else ""


def check_rules(root: Any) -> None:
    """The CAP 1.2 rules beyond the schema: Beacon is deliberately stricter here."""
    for name in _REQUIRED:
        if not _value(root, name):
            node = _child(root, name)
            line = node.sourceline if node is not None else root.sourceline
            raise CapError(f"{name} is required and may not be empty", field=name, line=line)
    for name in _NO_SEPARATORS:
        if _SEPARATORS.search(_value(root, name)):
            raise CapError(
                f"{name} may not contain spaces, commas, '<' or '&'",
                field=name,
                line=_child(root, name).sourceline,
            )
    for name in _NOT_EMPTY:
        node = _child(root, name)
        if node is not None and not (node.text or "").strip():
            raise CapError(f"{name} is present but empty", field=name, line=node.sourceline)
    msg_type = _value(root, "msgType")
    if msg_type in NEEDS_REFERENCES and not _value(root, "references"):
        raise CapError(
            f"msgType {msg_type} needs references",
            field="references",
            line=_child(root, "msgType").sourceline,
        )
    scope = _value(root, "scope")
    line = _child(root, "scope").sourceline
    if scope == "Restricted" and not _value(root, "restriction"):
        raise CapError(
            "scope is Restricted but there is no restriction", field="restriction", line=line
        )
    if scope == "Private" and not _value(root, "addresses"):
        raise CapError("scope is Private but there are no addresses", field="addresses", line=line)
    for info in root.iterfind(f"{{{CAP_NS}}}info"):
        for area in info.iterfind(f"{{{CAP_NS}}}area"):
            if not _value(area, "areaDesc"):
                raise CapError("area without areaDesc", field="areaDesc", line=area.sourceline)
