"""An EIDO document from another CAD -> the arguments of ``services.call_transfer_in``.

Tolerant of every optional part (the official NENA sample has no incident component, units or
notes): what is missing takes Beacon's defaults, what cannot be mapped is kept in the origin note.
What Beacon cannot do without (the incident identifier, a place, a valid time) or what is present
but malformed is a ``DomainError`` naming the JSON path (``$.callComponent[0].callStartTimestamp``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch.eido.apco import call_type_for

FALLBACK_CALL_TYPE = "OTHER"
MAX_NARRATIVE = 20_000
MAX_INCIDENT_REF = 255
CA = "{urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr}"
GML_POS = "{http://www.opengis.net/gml}pos"
# RFC 5139 elements of a street line, in the order they are written.
STREET_PARTS = ("HNO", "HNS", "PRD", "RD", "STS", "POD")
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class EidoCall:
    """What a transferred incident becomes in Beacon (``call_create`` arguments and the origin)."""

    incident_ref: str
    call_type_code: str
    type_matched: bool
    priority: int | None
    received_at: dt.datetime
    address: str = ""
    locality: str = ""
    latitude: float | None = None
    longitude: float | None = None
    caller_name: str = ""
    caller_phone: str = ""
    narrative: str = ""
    origin_note: str = ""

    def create_kwargs(self) -> dict[str, Any]:
        """The ``call_create`` fields (call type and reference are passed on their own)."""
        return {
            "priority": self.priority,
            "address": self.address,
            "locality": self.locality,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "caller_name": self.caller_name,
            "caller_phone": self.caller_phone,
            "narrative": self.narrative,
            "received_at": self.received_at,
        }


def _fail(path: str, message: str) -> DomainError:
    return DomainError(message, field=path)


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "Must be an object.")
    return value


def _list(doc: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(f"{path}.{key}", "Must be an array.")
    return [_obj(item, f"{path}.{key}[{i}]") for i, item in enumerate(value)]


def _str(obj: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise _fail(f"{path}.{key}", "Required.")
        return ""
    if not isinstance(value, str):
        raise _fail(f"{path}.{key}", "Must be a string.")
    return value.strip()


def _time(obj: dict[str, Any], key: str, path: str) -> dt.datetime | None:
    text = _str(obj, key, path)
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"{path}.{key}", "Not an ISO 8601 date-time.") from None
    if timezone.is_naive(value):
        raise _fail(f"{path}.{key}", "Time must include a UTC offset.")
    return value


def _refs(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key)
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [i["$ref"] for i in items if isinstance(i, dict) and isinstance(i.get("$ref"), str)]


def _plain(text: str) -> str:
    return html.unescape(_TAGS.sub(" ", text)).strip()


def _forbid(*_args: Any) -> None:
    raise ET.ParseError("document type and entity declarations are not accepted")


def _parse_xml(data: bytes) -> ET.Element:
    # What defusedxml does, without the dependency: expat refuses any DTD or entity declaration,
    # so no entity expansion and no external resource can happen.
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def tag(name: str) -> str:
        return "{" + name if "}" in name else name

    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.StartElementHandler = lambda name, attrs: builder.start(tag(name), attrs)
    parser.EndElementHandler = lambda name: builder.end(tag(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ET.ParseError(str(exc)) from None
    return builder.close()


def parse_pidf(text: str, path: str) -> tuple[str, str, float | None, float | None]:
    """(street line, locality, latitude, longitude) from a PIDF-LO document."""
    # No DTDs at all: entity expansion is the one way an XML parser can be made to blow up.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise _fail(path, "A document type declaration is not accepted.")
    try:
        root = _parse_xml(text.strip().encode("utf-8"))
    except ET.ParseError as exc:
        raise _fail(path, f"Not well-formed PIDF-LO XML ({exc}).") from None
    street = locality = ""
    civic = next(root.iter(f"{CA}civicAddress"), None)
    if civic is not None:

        def part(name: str) -> str:
            element = civic.find(f"{CA}{name}")
            return (element.text or "").strip() if element is not None else ""

        street = " ".join(p for p in (part(n) for n in STREET_PARTS) if p)
        unit = part("UNIT")
        if street and unit:
            street = f"{street} #{unit}"
        locality = part("A3") or part("A4") or part("A2")
    lat = lon = None
    pos = next(root.iter(GML_POS), None)
    if pos is not None and pos.text:
        try:
            lat, lon = (float(v) for v in pos.text.split()[:2])
        except ValueError:
            raise _fail(path, "gml:pos must hold latitude and longitude.") from None
    return street, locality, lat, lon


@dataclass
class EidoPlace:
    """The place of the incident, as call_create takes it."""

    address: str
    locality: str
    latitude: float | None
    longitude: float | None


def _place(doc: dict[str, Any], incident: dict[str, Any], call: dict[str, Any]) -> EidoPlace:
    components = _list(doc, "locationComponent", "$")
    order = [*_refs(incident, "locationReference"), *_refs(call, "locationReference")]
    indexed = list(enumerate(components))
    # Referenced by the incident first, then by the call; the incident's own place before others.
    indexed.sort(
        key=lambda pair: (
            order.index(pair[1].get("$id")) if pair[1].get("$id") in order else len(order),
            pair[1].get("locationTypeDescriptionRegistryText") != "Incident",
        )
    )
    for i, component in indexed:
        path = f"$.locationComponent[{i}]"
        description = _str(component, "locationDescriptionText", path)
        by_value = _str(component, "locationByValue", path)
        street, locality, lat, lon = (
            parse_pidf(by_value, f"{path}.locationByValue") if by_value else ("", "", None, None)
        )
        address = street or description
        if address or lat is not None:
            return EidoPlace(address=address[:500], locality=locality, latitude=lat, longitude=lon)
    raise _fail(
        "$.locationComponent",
        "No location Beacon can use: give a civic address or a point (locationByValue, "
        "PIDF-LO) or a locationDescriptionText.",
    )


def _caller(doc: dict[str, Any]) -> tuple[str, str]:
    callbacks = {c.get("$id"): c for c in _list(doc, "callbackComponent", "$")}
    for person in _list(doc, "personComponent", "$"):
        roles = person.get("personIncidentRoleRegistryText")
        if not isinstance(roles, list) or "caller" not in {str(r).lower() for r in roles}:
            continue
        name = ""
        nc = person.get("ncPersonComponent")
        names = nc.get("name") if isinstance(nc, dict) else None
        if isinstance(names, list) and names and isinstance(names[0], dict):
            first = names[0]

            def text(key: str, first: dict[str, Any] = first) -> str:
                items = first.get(key)
                if isinstance(items, list) and items and isinstance(items[0], dict):
                    value = items[0].get("value")
                    return value.strip() if isinstance(value, str) else ""
                return ""

            name = text("personFullName") or " ".join(
                p for p in (text("personGivenName"), text("personSurName")) if p
            )
        phone = ""
        for ref in _refs(person, "callBackReference"):
            uris = callbacks.get(ref, {}).get("callBackInformationUri")
            for uri in uris if isinstance(uris, list) else []:
                if isinstance(uri, str) and uri.lower().startswith("tel:"):
                    phone = uri[4:].split(";")[0]
                    break
        return name[:200], phone[:40]
    return "", ""


def parse(doc: Any, *, known_call_types: set[str]) -> EidoCall:
    """Read an EIDO document (already schema-checked when a schema is configured)."""
    root = _obj(doc, "$")
    incident_ref = _str(root, "$id", "$", required=True)
    if not incident_ref:
        raise _fail("$.$id", "The incident identifier is empty.")
    if len(incident_ref) > MAX_INCIDENT_REF:
        raise _fail("$.$id", f"At most {MAX_INCIDENT_REF} characters.")
    incident = _obj(root.get("incidentComponent") or {}, "$.incidentComponent")
    calls = _list(root, "callComponent", "$")
    call = calls[0] if calls else {}

    internal = _str(incident, "incidentTypeInternalCode", "$.incidentComponent")
    common = _str(incident, "incidentTypeCommonRegistryText", "$.incidentComponent")
    code = internal if internal in known_call_types else call_type_for(common)
    matched = code in known_call_types
    if not matched:
        code = FALLBACK_CALL_TYPE

    priority = incident.get("incidentCommonPriorityNumber")
    if priority is not None and (
        isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 5
    ):
        # Another CAD's priority scale is not ours: out of 1..5 it falls back to the type's.
        priority = None

    received = (
        _time(call, "callStartTimestamp", "$.callComponent[0]")
        or _time(incident, "lastUpdateTimeStamp", "$.incidentComponent")
        or _time(root, "lastUpdateTimeStamp", "$")
    )
    if received is None:
        raise _fail("$.callComponent[0].callStartTimestamp", "No time the incident began.")
    if received > timezone.now() + dt.timedelta(minutes=5):
        raise _fail("$.callComponent[0].callStartTimestamp", "The time is in the future.")

    place = _place(root, incident, call)
    caller_name, caller_phone = _caller(root)

    notes = {n.get("$id"): n for n in _list(root, "notesComponent", "$")}
    ordered = _refs(incident, "notesReference") or list(notes)
    narrative = "\n".join(
        _plain(str(notes[ref].get("notesActionComments", "")))
        for ref in ordered
        if ref in notes and notes[ref].get("notesActionComments")
    )[:MAX_NARRATIVE]

    units = []
    for i, resource in enumerate(_list(root, "emergencyResourceComponent", "$")):
        path = f"$.emergencyResourceComponent[{i}]"
        label = _str(resource, "emergencyResourceName", path) or _str(resource, "$id", path)
        status = _str(resource, "primaryUnitStatusRegistryText", path)
        units.append(f"{label} ({status})" if status else label)

    origin = _str(root, "issuingElementIdentification", "$") or "an unnamed CAD"
    agencies = _refs(root, "updatedByAgencyReference")
    lines = [
        f"Transferred in from {origin}"
        + (f" (agency {agencies[0]})" if agencies else "")
        + f", EIDO incident {incident_ref}."
    ]
    origin_type = " / ".join(
        p for p in (internal, _str(incident, "incidentTypeInternalText", "$"), common) if p
    )
    if origin_type:
        lines.append(
            f"Origin incident type: {origin_type}"
            + ("." if matched else f"; no matching call type here, logged as {code}.")
        )
    number = _str(incident, "internalIncidentId", "$.incidentComponent")
    if number:
        lines.append(f"Origin incident number: {number}.")
    lines.append(f"Units at origin: {', '.join(units)}." if units else "Units at origin: none.")
    return EidoCall(
        incident_ref=incident_ref,
        call_type_code=code,
        type_matched=matched,
        priority=priority,
        received_at=received,
        address=place.address,
        locality=place.locality,
        latitude=place.latitude,
        longitude=place.longitude,
        caller_name=caller_name,
        caller_phone=caller_phone,
        narrative=narrative,
        origin_note="\n".join(lines),
    )
