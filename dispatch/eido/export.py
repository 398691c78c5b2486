"""A call as a NENA EIDO document, holding only what the reader may see.

``gather`` reads the call's parts through the access functions (persons and vehicles the reader
may see, the timeline redacted for them, caller identity only with its own category); ``build``
turns that into the EIDO dict and reads nothing else. docs/eido.md lists what goes where.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.conf import settings
from django.utils import timezone

from dispatch.choices import TERMINAL_CALL_STATUSES, CallSource, UnitKind
from dispatch.eido.apco import incident_type
from dispatch.models import Call, CallAssignment, CallEvent, Involvement
from dispatch.permissions import (
    can_see_caller_identity,
    persons_visible_to,
    redact_call_events,
    vehicles_visible_to,
)

EIDO_VERSION = "1.0"
CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
# Location type of the call's place (NENA Location Type registry).
INCIDENT_LOCATION = "Incident"
RESOURCE_TYPE = {
    UnitKind.PATROL: "police",
    UnitKind.SUPERVISOR: "police",
    UnitKind.EMS: "ems",
    UnitKind.FIRE: "fire",
}


@dataclass
class EidoSource:
    """Everything one reader may see of a call, as the builder needs it."""

    call: Call
    events: list[CallEvent]
    assignments: list[CallAssignment]
    persons: list[Involvement] = field(default_factory=list)
    vehicles: list[Involvement] = field(default_factory=list)
    show_caller: bool = False
    now: dt.datetime | None = None


def agency_ref(code: str) -> str:
    """The EIDO agency identifier of a Beacon agency (a domain-like name)."""
    return f"{code}.{settings.BEACON_EIDO_DOMAIN}"


def incident_id(call: Call) -> str:
    """The globally unique incident identifier of a Beacon call (NENA ``urn:emergency:uid``)."""
    return f"urn:emergency:uid:incidentid:{call.number}:{agency_ref(call.agency.code)}"


def gather(user: Any, call: Call) -> EidoSource:
    """Read the parts of ``call`` that ``user`` may see (the call itself is already accessed)."""
    events = list(call.events.select_related("actor").order_by("at", "id"))
    redact_call_events(user, events)
    involvements = list(
        Involvement.objects.filter(call=call).select_related("person", "vehicle").order_by("id")
    )
    person_ids = {i.person_id for i in involvements if i.person_id}
    vehicle_ids = {i.vehicle_id for i in involvements if i.vehicle_id}
    seen_persons = set(
        persons_visible_to(user).filter(pk__in=person_ids).values_list("pk", flat=True)
    )
    seen_vehicles = set(
        vehicles_visible_to(user).filter(pk__in=vehicle_ids).values_list("pk", flat=True)
    )
    return EidoSource(
        call=call,
        events=events,
        assignments=list(call.assignments.select_related("unit").order_by("assigned_at", "id")),
        persons=[i for i in involvements if i.person_id in seen_persons],
        vehicles=[i for i in involvements if i.vehicle_id in seen_vehicles],
        show_caller=can_see_caller_identity(user),
        now=timezone.now(),
    )


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pidf(call: Call, entity: str) -> str:
    """The call's place as a PIDF-LO document (RFC 5139 civic address, GML point)."""
    parts: list[str] = []
    location = call.location
    if location is not None:
        street = (location.street_line or location.display_address or "").strip()
        number, _, road = street.partition(" ")
        civic = ["<ca:country>US</ca:country>"]
        if location.locality:
            civic.append(f"<ca:A3>{escape(location.locality)}</ca:A3>")
        if number.isdigit() and road:
            civic.append(f"<ca:RD>{escape(road)}</ca:RD><ca:HNO>{escape(number)}</ca:HNO>")
        elif street:
            civic.append(f"<ca:RD>{escape(street)}</ca:RD>")
        if location.unit_designator:
            civic.append(f"<ca:UNIT>{escape(location.unit_designator)}</ca:UNIT>")
        if location.postal_code:
            civic.append(f"<ca:PC>{escape(location.postal_code)}</ca:PC>")
        parts.append(f"<ca:civicAddress>{''.join(civic)}</ca:civicAddress>")
    if call.latitude is not None and call.longitude is not None:
        parts.append(
            '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{call.latitude:.6f} {call.longitude:.6f}</gml:pos></gml:Point>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" '
        f'xmlns:gml="http://www.opengis.net/gml" entity={quoteattr(entity)}>'
        '<tuple id="incident"><status><gp:geopriv><gp:location-info>'
        f"{''.join(parts)}"
        "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
    )


def _text(value: str) -> list[dict[str, str]]:
    return [{"value": value}]


def _unit_stage(assignment: CallAssignment) -> tuple[str, dt.datetime]:
    for stage, at in (
        ("Cleared", assignment.cleared_at),
        ("OnScene", assignment.on_scene_at),
        ("Enroute", assignment.en_route_at),
    ):
        if at is not None:
            return stage, at
    return "Dispatched", assignment.assigned_at


def build(src: EidoSource) -> dict[str, Any]:
    """The EIDO document of ``src`` (an ``EmergencyIncidentDataObjectType``)."""
    call = src.call
    now = src.now or timezone.now()
    agency = agency_ref(call.agency.code)
    incident = incident_id(call)
    by_agency = {"$ref": agency}

    def prologue(component_id: str, at: dt.datetime) -> dict[str, Any]:
        return {
            "$id": component_id,
            "lastUpdateTimeStamp": _ts(at),
            "updatedByAgencyReference": dict(by_agency),
        }

    notes: list[dict[str, Any]] = []

    def note(component_id: str, at: dt.datetime, text: str) -> dict[str, str]:
        notes.append({**prologue(component_id, at), "notesActionComments": html.escape(text)})
        return {"$ref": component_id}

    doc: dict[str, Any] = {
        **prologue(incident, call.updated_at or now),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"beacon.{agency}",
        "agencyComponent": [
            {
                **prologue(agency, now),
                "agencyRoleDescriptionRegistryText": ["Dispatching"],
                "agencyType": ["police"],
                "incidentOwningAgencyIndicator": True,
            }
        ],
    }

    # -- the place
    location_refs: list[dict[str, str]] = []
    locations: list[dict[str, Any]] = []
    if call.location is not None or call.latitude is not None:
        location_id = f"{incident}:location"
        located: dict[str, Any] = {
            **prologue(location_id, call.received_at),
            "locationTypeDescriptionRegistryText": INCIDENT_LOCATION,
            "locationByValue": _pidf(call, f"pres:{incident}"),
        }
        if call.location is not None:
            located["locationDescriptionText"] = call.location.display_address
            located["localIdentifier"] = [str(call.location.pk)]
        locations.append(located)
        location_refs.append({"$ref": location_id})

    # -- persons (the caller only with caller identity; others as the access rules allow)
    persons: list[dict[str, Any]] = []
    callbacks: list[dict[str, Any]] = []
    call_component_id = f"urn:emergency:uid:callid:{call.number}:{agency}"
    callback_ref: dict[str, str] | None = None
    if src.show_caller and (call.caller_name or call.caller_phone):
        caller_id = f"{incident}:caller"
        caller: dict[str, Any] = {
            **prologue(caller_id, call.received_at),
            "personIncidentRoleRegistryText": ["Caller"],
            "callIdentifier": [call_component_id],
        }
        if call.caller_name:
            caller["ncPersonComponent"] = {"name": [{"personFullName": _text(call.caller_name)}]}
        if call.caller_phone:
            callback_id = f"{incident}:callback"
            callback_ref = {"$ref": callback_id}
            phone = "".join(c for c in call.caller_phone if c.isdigit() or c == "+")
            callbacks.append(
                {
                    **prologue(callback_id, call.received_at),
                    "callBackInformationUri": [f"tel:{phone or call.caller_phone}"],
                }
            )
            caller["callBackReference"] = dict(callback_ref)
        persons.append(caller)
    for inv in src.persons:
        person = inv.person
        person_id = f"{incident}:person:{inv.pk}"
        name: dict[str, Any] = {"personSurName": _text(person.last_name)}
        if person.first_name:
            name["personGivenName"] = _text(person.first_name)
        if person.middle_name:
            name["personMiddleName"] = _text(person.middle_name)
        nc: dict[str, Any] = {"name": [name]}
        if person.date_of_birth:
            nc["birthDate"] = [{"date": _text(person.date_of_birth.isoformat())}]
        persons.append(
            {
                **prologue(person_id, inv.created_at),
                "ncPersonComponent": nc,
                "personIncidentRoleRegistryText": [inv.get_role_display()],
                "callIdentifier": [call_component_id],
            }
        )

    vehicles: list[dict[str, Any]] = []
    for inv in src.vehicles:
        vehicle = inv.vehicle
        vehicle_id = f"{incident}:vehicle:{inv.pk}"
        nc = {}
        if vehicle.make:
            nc["makeName"] = _text(vehicle.make)
        if vehicle.model:
            nc["modelName"] = _text(vehicle.model)
        if vehicle.color:
            nc["colorDescription"] = _text(vehicle.color)
        if vehicle.year:
            nc["modelYearDate"] = _text(str(vehicle.year))
        component: dict[str, Any] = {
            **prologue(vehicle_id, inv.created_at),
            "vehicleRelationshipType": [inv.get_role_display()],
            "vehicleRelationshipTimeStamp": _ts(inv.created_at),
        }
        if nc:
            component["ncVehicleComponent"] = nc
        if vehicle.plate:
            # NENA's NIEM components carry no plate element; the plate travels as a note.
            plate = f"Plate {vehicle.plate} {vehicle.plate_state}".strip()
            component["notesReference"] = [note(f"{vehicle_id}:plate", inv.created_at, plate)]
        vehicles.append(component)

    # -- units
    resources: list[dict[str, Any]] = []
    for assignment in src.assignments:
        unit = assignment.unit
        stage, at = _unit_stage(assignment)
        resources.append(
            {
                **prologue(f"{incident}:unit:{assignment.pk}", at),
                "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPE.get(unit.kind, "other"),
                "emergencyResourceTypeInternalText": unit.kind,
                "emergencyResourceName": unit.call_sign,
                "resourceAttributeRegistryText": [],
                "primaryUnitStatusRegistryText": stage,
                "secondaryUnitStatusRegistryText": [],
                "unitStatusInternal": [unit.status],
                "agentReference": [],
                "activeOnIncidentId": incident,
            }
        )

    # -- timeline (already redacted for the reader) and narrative
    incident_notes: list[dict[str, str]] = []
    if call.narrative:
        incident_notes.append(note(f"{incident}:narrative", call.received_at, call.narrative))
    for event in src.events:
        text = (
            f"{event.get_kind_display()}: {event.text}" if event.text else event.get_kind_display()
        )
        incident_notes.append(note(f"{incident}:event:{event.pk}", event.at, text))

    common = incident_type(call.call_type.code)
    incident_component: dict[str, Any] = {
        **prologue(incident, call.updated_at or now),
        "incidentTypeCommonRegistryText": common.code,
        "incidentTypeInternalCode": call.call_type.code,
        "incidentTypeInternalText": call.call_type.name,
        "incidentStatusInternalText": [call.status],
        "internalIncidentId": call.number,
        "incidentPriorityInternalText": f"P{call.priority}",
        "incidentCommonPriorityNumber": call.priority,
    }
    if location_refs:
        incident_component["locationReference"] = location_refs
    person_refs = [{"$ref": p["$id"]} for p in persons]
    if person_refs:
        incident_component["personReference"] = person_refs
    if vehicles:
        incident_component["vehicleReference"] = [{"$ref": v["$id"]} for v in vehicles]
    if incident_notes:
        incident_component["notesReference"] = incident_notes
    if call.disposition is not None:
        incident_component["dispositionComponent"] = [
            {
                **prologue(f"{incident}:disposition", call.closed_at or now),
                "dispositionCommonRegistryCode": call.disposition.code,
                "dispositionDescriptionText": call.disposition.name,
                "dispositionPrimaryIndicator": True,
            }
        ]
    doc["incidentComponent"] = incident_component

    call_component: dict[str, Any] = {
        **prologue(call_component_id, call.received_at),
        "standardPrimaryCallType": "emergency"
        if call.source == CallSource.E911
        else "nonEmergency",
        "localCallType": call.source,
        "direction": "internal" if call.source == CallSource.FIELD else "incoming",
        "callStartTimestamp": _ts(call.received_at),
        "callStateRegistryText": (
            "callEnd" if call.status in TERMINAL_CALL_STATUSES else "callAnswered"
        ),
    }
    if location_refs:
        call_component["locationReference"] = location_refs
    if person_refs:
        call_component["personReference"] = person_refs
    if callback_ref:
        call_component["callBackReference"] = callback_ref
    doc["callComponent"] = [call_component]
    if callbacks:
        doc["callbackComponent"] = callbacks
    if resources:
        doc["emergencyResourceComponent"] = resources
        doc["dispatchComponent"] = [
            {
                **prologue(f"{incident}:dispatch", src.assignments[0].assigned_at),
                "agencyReference": dict(by_agency),
                "emergencyResourceReference": [{"$ref": r["$id"]} for r in resources],
            }
        ]
    if locations:
        doc["locationComponent"] = locations
    if persons:
        doc["personComponent"] = persons
    if vehicles:
        doc["vehicleComponent"] = vehicles
    if notes:
        doc["notesComponent"] = notes
    doc["@context"] = dict(CONTEXT)
    return doc
