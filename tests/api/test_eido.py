"""CAD-to-CAD transfer as NENA EIDO: exports validate against NENA's schema, the official sample
imports (once), a round trip keeps the call, and the access rules and audit hold.

NENA grants no licence for its schema, so it is read from ``../shared/data/eido/`` (never from the
project); without it these tests skip.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import override_settings

from dispatch import services
from dispatch.choices import CallSource, InvolvementRole
from dispatch.eido import export
from dispatch.eido.apco import APCO_BY_CALL_TYPE, LOCAL_PREFIX
from dispatch.eido.schema import validate_eido
from dispatch.models import Call, CallType
from dispatch.reference_data import DEFAULT_CALL_TYPES
from governance.access import forget_cached_access
from governance.choices import Action, AuditAction, Category, Role, Sensitivity
from governance.models import AuditEvent
from tests.factories import UnitFactory
from tests.grants import set_grants
from tests.paths import EIDO_DIR

SCHEMA = EIDO_DIR / "Schema"
SAMPLE = EIDO_DIR / "Samples" / "Sample call transfer EIDO.json"
IMPORT_URL = "/api/v1/calls/import-eido/"
PURPOSE = "mutual aid: transfer to county CAD"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (SCHEMA / "openapi.yaml").is_file(), reason="NENA EIDO schema not in ../shared"
    ),
]


def _eido_url(call: Call, **params: str) -> str:
    query = {"purpose": PURPOSE, "recipient": "County CAD", **params}
    return f"/api/v1/calls/{call.pk}/eido/?{urlencode(query)}"


def _valid(doc: dict[str, Any]) -> dict[str, Any]:
    errors = validate_eido(doc, EIDO_DIR)
    assert errors == [], errors
    return doc


def _sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def _post(client: Any, doc: Any) -> Any:
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    return client.post(IMPORT_URL, data=body, content_type="application/json")


@pytest.fixture
def export_for_dispatcher(cast) -> None:
    """The dispatcher's role gets the export right on calls (not a default grant)."""
    set_grants(
        Role.DISPATCHER, Category.CALL, [Action.VIEW, Action.CREATE, Action.CHANGE, Action.EXPORT]
    )
    forget_cached_access(cast["dispatcher"])


@pytest.fixture
def busy_call(make_call, agency, cast) -> Call:
    """A call with two units, a visible and a confidential person, a vehicle and a note."""
    call = make_call(call_type=CallType.objects.get(code="ROBBERY"))
    dispatcher = cast["dispatcher"]
    for sign in ("A11", "B22"):
        unit = UnitFactory(agency=agency, call_sign=sign)
        services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    witness = services.person_create(agency=agency, last_name="Witness", first_name="Wanda")
    secret = services.person_create(
        agency=agency, last_name="Informant", sensitivity=Sensitivity.CONFIDENTIAL
    )
    vehicle, _ = services.vehicle_get_or_create(
        agency=agency, plate="ABC123", plate_state="TX", make="Ford", model="Focus", year=2015
    )
    for person, role in ((witness, InvolvementRole.WITNESS), (secret, InvolvementRole.SUSPECT)):
        services.involvement_create(actor=None, role=role, person=person, call=call)
    services.involvement_create(
        actor=None, role=InvolvementRole.SUSPECT, vehicle=vehicle, call=call
    )
    services.call_add_note(call_id=call.pk, actor=dispatcher, text="Suspect fled <north>.")
    return Call.objects.get(pk=call.pk)


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [c[0] for c in DEFAULT_CALL_TYPES])
def test_a_call_of_every_default_type_exports_a_valid_eido(code, make_call, cast) -> None:
    call = make_call(call_type=CallType.objects.get(code=code))
    doc = _valid(export.build(export.gather(cast["supervisor"], call)))
    incident = doc["incidentComponent"]
    assert incident["incidentTypeInternalCode"] == code
    expected = APCO_BY_CALL_TYPE.get(code, f"{LOCAL_PREFIX}{code}")
    assert incident["incidentTypeCommonRegistryText"] == expected


def test_every_mapped_apco_code_is_an_apco_incident_category() -> None:
    import yaml

    apco = yaml.safe_load((SCHEMA / "NIEMComponents" / "apco.yaml").read_text(encoding="utf-8"))
    codes = set(apco["components"]["schemas"]["apcoIncidentCategoryCodeSimpleType"]["enum"])
    assert set(APCO_BY_CALL_TYPE.values()) <= codes
    assert set(APCO_BY_CALL_TYPE) <= {c[0] for c in DEFAULT_CALL_TYPES}


def test_the_supervisors_export_holds_the_whole_call_and_validates(client_for, busy_call) -> None:
    response = client_for("supervisor").get(_eido_url(busy_call))
    assert response.status_code == 200, response.data
    assert response["Content-Disposition"] == f'attachment; filename="eido-{busy_call.number}.json"'
    doc = _valid(json.loads(response.content))
    assert doc["$id"] == export.incident_id(busy_call)
    assert {r["emergencyResourceName"] for r in doc["emergencyResourceComponent"]} == {"A11", "B22"}
    roles = sorted(r for p in doc["personComponent"] for r in p["personIncidentRoleRegistryText"])
    assert roles == ["Caller", "Suspect", "Witness"]
    text = json.dumps(doc)
    assert "Jane Roe" in text and "tel:+12105550100" in text
    assert "Informant" in text  # confidential: the supervisor's level
    assert "Plate ABC123 TX" in text
    assert "Suspect fled &lt;north&gt;." in text  # notes are HTML: escaped
    assert (
        doc["locationComponent"][0]["locationDescriptionText"] == busy_call.location.display_address
    )


def test_a_dispatchers_export_omits_confidential_persons(
    client_for, busy_call, export_for_dispatcher
) -> None:
    response = client_for("dispatcher").get(_eido_url(busy_call))
    assert response.status_code == 200, response.data
    doc = _valid(json.loads(response.content))
    text = json.dumps(doc)
    assert "Informant" not in text
    assert "Witness" in text and "Jane Roe" in text
    # the timeline entry about the confidential person stays, without naming them
    assert "a person not shown to you" in text


def test_an_analysts_export_has_no_caller(client_for, busy_call) -> None:
    response = client_for("analyst").get(_eido_url(busy_call))
    assert response.status_code == 200, response.data
    doc = _valid(json.loads(response.content))
    text = json.dumps(doc)
    assert "Jane Roe" not in text and "555" not in text
    assert "callbackComponent" not in doc
    roles = {r for p in doc.get("personComponent", []) for r in p["personIncidentRoleRegistryText"]}
    assert "Caller" not in roles


def test_export_is_one_dissemination_event_with_purpose_and_recipient(
    client_for, busy_call, cast
) -> None:
    before = AuditEvent.objects.filter(action=AuditAction.DISSEMINATE).count()
    assert client_for("supervisor").get(_eido_url(busy_call)).status_code == 200
    events = AuditEvent.objects.filter(action=AuditAction.DISSEMINATE).order_by("-id")
    assert events.count() == before + 1
    event = events[0]
    assert event.actor == cast["supervisor"]
    assert event.object_type == "dispatch.call" and event.object_id == str(busy_call.pk)
    assert event.justification == PURPOSE
    assert event.details["recipient"] == "County CAD"
    assert event.details["format"] == "eido"
    assert event.details["units"] == 2 and event.details["caller_identity"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [({"purpose": ""}, "purpose"), ({"recipient": "  "}, "recipient")],
)
def test_export_without_purpose_or_recipient_is_400_and_not_audited(
    client_for, call, params, field
) -> None:
    before = AuditEvent.objects.filter(action=AuditAction.DISSEMINATE).count()
    response = client_for("supervisor").get(_eido_url(call, **params))
    assert response.status_code == 400
    assert field in response.data
    assert AuditEvent.objects.filter(action=AuditAction.DISSEMINATE).count() == before


def test_export_needs_the_export_right_and_hides_other_agencies(
    client_for, call, other_call
) -> None:
    assert client_for("dispatcher").get(_eido_url(call)).status_code == 403
    assert client_for("field").get(_eido_url(call)).status_code == 403
    assert client_for("supervisor").get(_eido_url(other_call)).status_code == 404


# --- import ---------------------------------------------------------------------------------


def test_the_official_nena_sample_imports_once(client_for, agency, cast) -> None:
    client = client_for("dispatcher")
    response = _post(client, _sample())
    assert response.status_code == 201, response.data
    call = Call.objects.get(pk=response.data["id"])
    assert call.agency == agency
    assert call.source == CallSource.TRANSFER
    assert call.external_ref == "urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us"
    assert call.call_type.code == "OTHER"
    assert call.location.locality == "WILMINGTON" or "Wilmington" in call.address_given
    assert "42" in call.address_given
    assert call.caller_phone == "8195551212"
    assert call.received_at.isoformat() == "2021-04-30T18:40:00+00:00"
    note = call.events.get(kind="note")
    assert "idx.state.pa.us" in note.text and call.external_ref in note.text

    again = _post(client, _sample())
    assert again.status_code == 200
    assert again.data["id"] == call.pk
    assert Call.objects.filter(external_ref=call.external_ref).count() == 1


def test_the_same_incident_in_two_agencies_is_two_calls(client_for, other_agency) -> None:
    from tests.factories import UserFactory

    neighbour = UserFactory(username="ndisp", roles=[Role.DISPATCHER], agency=other_agency)
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(user=neighbour)
    assert _post(client_for("dispatcher"), _sample()).status_code == 201
    assert _post(other, _sample()).status_code == 201


def test_round_trip_keeps_type_place_time_and_units(client_for, busy_call) -> None:
    doc = json.loads(client_for("supervisor").get(_eido_url(busy_call)).content)
    # Another agency's CAD would hold a different incident; here the same Beacon takes it back in.
    response = _post(client_for("dispatcher"), doc)
    assert response.status_code == 201, response.data
    copy_ = Call.objects.get(pk=response.data["id"])
    assert copy_.pk != busy_call.pk
    assert copy_.external_ref == doc["$id"]
    assert copy_.call_type == busy_call.call_type
    assert copy_.priority == busy_call.priority
    assert copy_.received_at == busy_call.received_at.replace(
        microsecond=busy_call.received_at.microsecond // 1000 * 1000
    )
    assert copy_.location == busy_call.location
    assert (copy_.latitude, copy_.longitude) == pytest.approx(
        (busy_call.latitude, busy_call.longitude)
    )
    assert copy_.caller_name == "Jane Roe"
    assert "Bicycle taken from porch." in copy_.narrative
    note = copy_.events.get(kind="note").text
    assert "A11 (Dispatched)" in note and "B22 (Dispatched)" in note


def test_import_needs_the_create_right(client_for) -> None:
    for role in ("analyst", "field", "admin", "auditor"):
        assert _post(client_for(role), _sample()).status_code == 403, role
    assert not Call.objects.filter(source=CallSource.TRANSFER).exists()


def _broken(change: Any) -> Any:
    """A maker of the sample with ``change`` applied (read at test time, so a missing sample
    skips instead of failing collection)."""

    def make() -> dict[str, Any]:
        doc = copy.deepcopy(_sample())
        change(doc)
        return doc

    return make


def _raw(body: bytes) -> Any:
    return lambda: body


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (_raw(b"{not json"), "$"),
        (_raw(b"[1, 2]"), "$"),
        (_broken(lambda d: d.pop("$id")), "$.$id"),
        (_broken(lambda d: d.update({"$id": 7})), "$.$id"),
        (
            _broken(lambda d: d["callComponent"][0].update({"callStartTimestamp": "yesterday"})),
            "$.callComponent[0].callStartTimestamp",
        ),
        (
            _broken(
                lambda d: d["callComponent"][0].update(
                    {"callStartTimestamp": "2999-01-01T00:00:00Z"}
                )
            ),
            "$.callComponent[0].callStartTimestamp",
        ),
        (_broken(lambda d: d.pop("locationComponent")), "$.locationComponent"),
        (
            _broken(
                lambda d: d["locationComponent"][0].update(
                    {"locationByValue": "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"}
                )
            ),
            "$.locationComponent[0].locationByValue",
        ),
        (
            _broken(lambda d: d["locationComponent"][0].update({"locationByValue": "<presence"})),
            "$.locationComponent[0].locationByValue",
        ),
        (_broken(lambda d: d.update({"personComponent": {}})), "$.personComponent"),
    ],
)
def test_bad_documents_are_400_naming_the_path(client_for, make, path) -> None:
    response = _post(client_for("dispatcher"), make())
    assert response.status_code == 400, response.data
    assert path in response.data, response.data
    assert not Call.objects.filter(source=CallSource.TRANSFER).exists()


def test_schema_invalid_documents_are_400_naming_the_path_when_the_schema_is_configured(
    client_for,
) -> None:
    doc = _broken(lambda d: d["callComponent"][0].update({"direction": "sideways"}))()
    with override_settings(BEACON_EIDO_SCHEMA_DIR=str(EIDO_DIR)):
        response = _post(client_for("dispatcher"), doc)
        assert response.status_code == 400
        assert "$.callComponent[0].direction" in response.data
        assert _post(client_for("dispatcher"), _sample()).status_code == 201


def test_a_document_over_the_size_cap_is_413(client_for) -> None:
    with override_settings(BEACON_EIDO_MAX_BYTES=1000):
        response = _post(client_for("dispatcher"), _sample())
    assert response.status_code == 413
    assert "$" in response.data
