"""The two CAD-to-CAD operations the API and pages share: send a call, take a transfer in."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from beacon_core.errors import DomainError
from dispatch import services
from dispatch.eido import export, importer
from dispatch.eido.schema import validate_eido
from dispatch.models import Call, CallType
from governance.access import can
from governance.choices import Action, Category
from governance.models import Agency

# call_create's field names -> where the value came from in the EIDO
_FIELD_PATHS = {
    "address": "$.locationComponent",
    "latitude": "$.locationComponent",
    "longitude": "$.locationComponent",
    "received_at": "$.callComponent[0].callStartTimestamp",
    "narrative": "$.notesComponent",
    "caller_name": "$.personComponent",
    "caller_phone": "$.callbackComponent",
    "priority": "$.incidentComponent.incidentCommonPriorityNumber",
}


class PayloadTooLargeError(DomainError):
    """A document over ``BEACON_EIDO_MAX_BYTES``."""

    status_code = 413


def check_schema(doc: Any) -> None:
    """Refuse a document NENA's schema refuses, when the deployment points at a copy of it."""
    folder = settings.BEACON_EIDO_SCHEMA_DIR
    if not folder:
        return
    errors = validate_eido(doc, folder)
    if errors:
        merged: dict[str, list[str]] = {}
        for path, message in errors[:20]:
            merged.setdefault(path, []).append(message)
        raise DomainError(merged)


def read_document(body: bytes) -> Any:
    """The JSON document of a request body, within the size cap; errors name ``$``."""
    limit = settings.BEACON_EIDO_MAX_BYTES
    if len(body) > limit:
        raise PayloadTooLargeError(f"The document is larger than {limit} bytes.", field="$")
    try:
        doc = json.loads(body.decode("utf-8"))
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise DomainError("JSON nested too deeply.", field="$") from None
    except UnicodeError:
        raise DomainError("The document is not UTF-8 text.", field="$") from None
    except json.JSONDecodeError as exc:
        raise DomainError(
            f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", field="$"
        ) from None
    if not isinstance(doc, dict):
        raise DomainError("An EIDO document is a JSON object.", field="$")
    return doc


def take_in(*, agency: Agency, actor: Any, doc: Any) -> tuple[Call, bool]:
    """Log the call an EIDO document describes, once per incident: (call, created)."""
    check_schema(doc)
    known = set(CallType.objects.filter(active=True).values_list("code", flat=True))
    parsed = importer.parse(doc, known_call_types=known)
    try:
        call_type = CallType.objects.get(code=parsed.call_type_code, active=True)
    except CallType.DoesNotExist:
        raise DomainError(
            "No call type here matches the incident type, and the fallback type "
            f"{parsed.call_type_code} is missing or retired.",
            field="$.incidentComponent.incidentTypeCommonRegistryText",
        ) from None
    fields = parsed.create_kwargs()
    note = parsed.origin_note
    if (fields["caller_name"] or fields["caller_phone"]) and not can(
        actor, Action.CREATE, Category.CALLER_IDENTITY
    ):
        fields["caller_name"] = fields["caller_phone"] = ""
        note += "\nThe caller's identity was sent but not recorded (your role may not record it)."
    try:
        return services.call_transfer_in(
            agency=agency,
            actor=actor,
            incident_ref=parsed.incident_ref,
            call_type=call_type,
            origin_note=note,
            **fields,
        )
    except DomainError as exc:
        if exc.status_code != 400:
            raise
        raise DomainError(
            {_FIELD_PATHS.get(name, name): messages for name, messages in exc.errors.items()}
        ) from None


def send(*, call: Call, actor: Any, purpose: str, recipient: str) -> dict[str, Any]:
    """The call as an EIDO for ``actor``, recorded as a dissemination to ``recipient``."""
    source = export.gather(actor, call)
    doc = export.build(source)
    caller_sent = any(
        "Caller" in p.get("personIncidentRoleRegistryText", []) and p["$id"].endswith(":caller")
        for p in doc.get("personComponent", [])
    )
    services.call_disseminate(
        call=call,
        actor=actor,
        fmt="eido",
        purpose=purpose,
        recipient=recipient,
        details={
            "incident": doc["$id"],
            "persons": len(source.persons),
            "vehicles": len(source.vehicles),
            "units": len(source.assignments),
            "caller_identity": caller_sent,
        },
    )
    return doc
