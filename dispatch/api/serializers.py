"""Serializers of the dispatch API.

Output serializers are module-level and reusable (pages and websocket snapshots
may render the same shapes). Input serializers only check the shape of a
request (types, lengths, choices, reference codes) and hand the validated data
to a service, which owns every business rule.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beacon_core.api.fields import (
    AwareDateTimeField,
    StrictFloatField,
    StrictIntegerField,
)
from beacon_core.api.need_to_know import NeedToKnowGroupSerializer
from beacon_core.api.serializers import StrictInputSerializer
from dispatch.choices import (
    CALLER_FIELDS,
    CallSource,
    CallStatus,
    CriminalActivity,
    InvolvementRole,
    ObservationCategory,
    PremiseNoteKind,
    UnitStatus,
)
from dispatch.models import (
    Call,
    CallAssignment,
    CallEvent,
    CallType,
    Disposition,
    FieldObservation,
    Involvement,
    Location,
    Person,
    PremiseNote,
    Unit,
    UnitPosition,
    Vehicle,
)
from dispatch.permissions import can_see_caller_identity
from dispatch.services import MAX_NARRATIVE, MAX_POSITIONS_PER_BATCH
from governance.choices import Sensitivity

REDACTED = None


def _caller_visible(context: dict[str, Any]) -> bool:
    """Whether the requesting user may see caller identity (redacted for everyone else)."""
    request = context.get("request")
    return request is not None and can_see_caller_identity(request.user)


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- output: reference data and places ---------------------------------------------------


class CallTypeSerializer(serializers.ModelSerializer):
    """A call type (reference data)."""

    class Meta:
        model = CallType
        fields = ["id", "code", "name", "category", "default_priority", "active"]
        read_only_fields = fields


class DispositionSerializer(serializers.ModelSerializer):
    """A disposition (reference data)."""

    class Meta:
        model = Disposition
        fields = ["id", "code", "name", "active"]
        read_only_fields = fields


class LocationSerializer(serializers.ModelSerializer):
    """A place, with its normalised key and H3 cell."""

    class Meta:
        model = Location
        fields = [
            "id",
            "display_address",
            "address_key",
            "locality",
            "kind",
            "street_line",
            "unit_designator",
            "postal_code",
            "latitude",
            "longitude",
            "h3_r9",
        ]
        read_only_fields = fields


class PremiseNoteSerializer(serializers.ModelSerializer):
    """A premise note or hazard an agency keeps about a location."""

    created_by = serializers.SerializerMethodField()

    class Meta:
        model = PremiseNote
        fields = [
            "id",
            "location",
            "agency",
            "kind",
            "text",
            "sensitivity",
            "created_by",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields

    def get_created_by(self, obj: PremiseNote) -> str | None:
        return _username(obj.created_by)


# --- output: calls ---------------------------------------------------------------------------


class CallerRedactionMixin:
    """Blanks caller name and phone for users without the caller-identity category."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        if not _caller_visible(self.context):  # type: ignore[attr-defined]
            for field in CALLER_FIELDS:
                if field in data:
                    data[field] = REDACTED
        return data


class CallAssignmentSerializer(serializers.ModelSerializer):
    """A unit committed to a call, with its own status times."""

    unit_call_sign = serializers.CharField(source="unit.call_sign", read_only=True)
    assigned_by = serializers.SerializerMethodField()

    class Meta:
        model = CallAssignment
        fields = [
            "id",
            "call",
            "unit",
            "unit_call_sign",
            "assigned_at",
            "assigned_by",
            "en_route_at",
            "on_scene_at",
            "cleared_at",
        ]
        read_only_fields = fields

    def get_assigned_by(self, obj: CallAssignment) -> str | None:
        return _username(obj.assigned_by) if obj.assigned_by_id else None


class CallEventSerializer(serializers.ModelSerializer):
    """One timeline entry; caller identity inside its data is redacted like the call's."""

    actor = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField()

    class Meta:
        model = CallEvent
        fields = ["id", "call", "at", "kind", "actor", "text", "data"]
        read_only_fields = fields

    def get_actor(self, obj: CallEvent) -> str | None:
        return _username(obj.actor) if obj.actor_id else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, obj: CallEvent) -> dict[str, Any]:
        data = dict(obj.data or {})
        if _caller_visible(self.context):
            return data
        # Attached information and edits carry caller identity in their data.
        for field in CALLER_FIELDS:
            if field in data:
                data[field] = REDACTED
        changes = data.get("changes")
        if isinstance(changes, dict):
            data["changes"] = {
                name: ({"old": REDACTED, "new": REDACTED} if name in CALLER_FIELDS else change)
                for name, change in changes.items()
            }
        return data


class CallSerializer(CallerRedactionMixin, serializers.ModelSerializer):
    """A call as a list row: what a queue or a search result shows."""

    call_type = serializers.CharField(source="call_type.code", read_only=True)
    call_type_name = serializers.CharField(source="call_type.name", read_only=True)
    disposition = serializers.CharField(
        source="disposition.code", read_only=True, allow_null=True, default=None
    )
    location = LocationSerializer(read_only=True, allow_null=True)
    caller_name = serializers.CharField(
        read_only=True, allow_null=True, help_text="Null when your role may not see it."
    )
    caller_phone = serializers.CharField(
        read_only=True, allow_null=True, help_text="Null when your role may not see it."
    )
    units = serializers.SerializerMethodField(help_text="Call signs of units committed now.")

    class Meta:
        model = Call
        fields = [
            "id",
            "number",
            "agency",
            "external_id",
            "external_ref",
            "call_type",
            "call_type_name",
            "priority",
            "status",
            "source",
            "caller_name",
            "caller_phone",
            "narrative",
            "disposition",
            "location",
            "address_given",
            "latitude",
            "longitude",
            "h3_r9",
            "received_at",
            "dispatched_at",
            "en_route_at",
            "on_scene_at",
            "cleared_at",
            "closed_at",
            "cancelled_at",
            "updated_at",
            "version",
            "units",
        ]
        read_only_fields = fields

    def get_units(self, obj: Call) -> list[str]:
        # Lists prefetch the open assignments into ``open_assignments``; a
        # single call falls back to its (prefetched or fresh) assignments.
        open_assignments = getattr(obj, "open_assignments", None)
        if open_assignments is None:
            open_assignments = [a for a in obj.assignments.all() if a.cleared_at is None]
        return [a.unit.call_sign for a in open_assignments]


class CallDetailSerializer(CallSerializer):
    """A call with its whole timeline and every unit that worked it."""

    events = CallEventSerializer(many=True, read_only=True)
    assignments = CallAssignmentSerializer(many=True, read_only=True)

    class Meta(CallSerializer.Meta):
        fields = [*CallSerializer.Meta.fields, "events", "assignments"]
        read_only_fields = fields


# --- output: units and AVL -------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    """A unit with its status, last fix, and the call it is committed to (if any)."""

    current_call = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        fields = [
            "id",
            "agency",
            "call_sign",
            "kind",
            "home_area",
            "status",
            "status_changed_at",
            "latitude",
            "longitude",
            "heading",
            "speed",
            "position_at",
            "active",
            "current_call",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(allow_null=True, help_text='{"id": 1, "number": "2025-000001"}')
    )
    def get_current_call(self, obj: Unit) -> dict[str, Any] | None:
        open_assignments = getattr(obj, "open_assignments", None)
        if open_assignments is None:
            open_assignments = list(
                obj.assignments.filter(cleared_at__isnull=True).select_related("call")
            )
        if not open_assignments:
            return None
        call = open_assignments[0].call
        return {"id": call.pk, "number": call.number}


class UnitPositionSerializer(serializers.ModelSerializer):
    """One stored AVL fix."""

    class Meta:
        model = UnitPosition
        fields = [
            "recorded_at",
            "received_at",
            "latitude",
            "longitude",
            "heading",
            "speed",
            "accuracy",
            "h3_r9",
        ]
        read_only_fields = fields


class PositionBatchResultSerializer(serializers.Serializer):
    """What an AVL upload stored: new fixes, and fixes already stored by an earlier upload."""

    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()


# --- output: observations, persons, vehicles, involvements -----------------------------------


class ObservationSerializer(serializers.ModelSerializer):
    """A field observation card."""

    location = LocationSerializer(read_only=True, allow_null=True)
    reported_by = serializers.SerializerMethodField()

    class Meta:
        model = FieldObservation
        fields = [
            "id",
            "agency",
            "observed_at",
            "category",
            "narrative",
            "location",
            "latitude",
            "longitude",
            "h3_r9",
            "call",
            "sensitivity",
            "reported_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_reported_by(self, obj: FieldObservation) -> str | None:
        return _username(obj.reported_by) if obj.reported_by_id else None


class PersonSerializer(serializers.ModelSerializer):
    """A person known to an agency."""

    need_to_know = NeedToKnowGroupSerializer(many=True, read_only=True)
    # Declared because DRF drops ``allow_blank`` from read-only model fields, so the schema's
    # enums left out the "" (unknown, not a subject) these fields hold for most people.
    sex = serializers.ChoiceField(
        choices=Person._meta.get_field("sex").choices, allow_blank=True, read_only=True
    )
    criminal_activity = serializers.ChoiceField(
        choices=CriminalActivity.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "agency",
            "last_name",
            "first_name",
            "middle_name",
            "date_of_birth",
            "sex",
            "description",
            "sensitivity",
            "need_to_know",
            "intelligence_subject",
            "criminal_activity",
            "suspicion_justification",
            "subject_recorded_at",
            "views_or_associations",
            "views_related_to_criminal_conduct",
            "views_justification",
            "created_at",
            "validated_at",
            "validated_by",
            "validation_rationale",
            "anonymised_at",
        ]
        read_only_fields = fields


class PersonValidateInput(StrictInputSerializer):
    """A retention review's reason to keep the person (28 CFR 23: still reasonably suspected)."""

    rationale = serializers.CharField(max_length=5_000, trim_whitespace=True)


class VehicleSerializer(serializers.ModelSerializer):
    """A vehicle known to an agency."""

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "agency",
            "plate",
            "plate_state",
            "make",
            "model",
            "color",
            "year",
            "description",
            "sensitivity",
            "created_at",
        ]
        read_only_fields = fields


class InvolvementSerializer(serializers.ModelSerializer):
    """How a person or vehicle figures in a call or observation."""

    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Involvement
        fields = [
            "id",
            "role",
            "person",
            "vehicle",
            "call",
            "observation",
            "notes",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_created_by(self, obj: Involvement) -> str | None:
        return _username(obj.created_by) if obj.created_by_id else None


class CallCountsSerializer(serializers.Serializer):
    """How many visible calls a place had in three windows."""

    last_24h = serializers.IntegerField()
    last_7d = serializers.IntegerField()
    last_90d = serializers.IntegerField()


class LocationHistorySerializer(serializers.Serializer):
    """Prior calls at a place and its current premise notes (what a dispatcher checks first)."""

    counts = CallCountsSerializer()
    recent = CallSerializer(many=True)
    notes = PremiseNoteSerializer(many=True)


# --- input ------------------------------------------------------------------------------------

_LAT = {"min_value": -90.0, "max_value": 90.0}
_LON = {"min_value": -180.0, "max_value": 180.0}


class CodeRelatedField(serializers.SlugRelatedField):
    """A reference-data record given by its code ("THEFT", "REPORT").

    The value's shape is checked before the lookup: PostgreSQL refuses a NUL
    byte in a query parameter with a database error, which must not surface as
    anything but "not a valid code".
    """

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not data or len(data) > 64 or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data.strip().upper())


def _code_field(model: type, **kwargs: Any) -> CodeRelatedField:
    """A reference-data field given by its code."""
    return CodeRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


def _id_field(**kwargs: Any) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, **kwargs)


class CallCreateInput(StrictInputSerializer):
    """A new call: a type, and an address and/or a point."""

    call_type = _code_field(CallType, help_text="Call type code, e.g. THEFT.")
    priority = StrictIntegerField(
        min_value=1, max_value=5, required=False, allow_null=True, help_text="1 = most urgent."
    )
    source = serializers.ChoiceField(choices=CallSource.choices, required=False)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    latitude = StrictFloatField(required=False, allow_null=True, **_LAT)
    longitude = StrictFloatField(required=False, allow_null=True, **_LON)
    caller_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    narrative = serializers.CharField(
        max_length=MAX_NARRATIVE, required=False, allow_blank=True, trim_whitespace=False
    )
    received_at = AwareDateTimeField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_null=True)


class CallUpdateInput(StrictInputSerializer):
    """Changes to a call's details; ``version`` guards against overwriting someone else's edit."""

    version = StrictIntegerField(
        min_value=1, required=False, help_text="The version you loaded; stale -> 409."
    )
    call_type = _code_field(CallType, required=False)
    priority = StrictIntegerField(min_value=1, max_value=5, required=False)
    source = serializers.ChoiceField(choices=CallSource.choices, required=False)
    narrative = serializers.CharField(
        max_length=MAX_NARRATIVE, required=False, allow_blank=True, trim_whitespace=False
    )
    caller_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    latitude = StrictFloatField(required=False, allow_null=True, **_LAT)
    longitude = StrictFloatField(required=False, allow_null=True, **_LON)


class CallNoteInput(StrictInputSerializer):
    """A timeline note."""

    text = serializers.CharField(max_length=MAX_NARRATIVE)


class CallStatusInput(StrictInputSerializer):
    """A call status change; a disposition (by code) only when closing."""

    status = serializers.ChoiceField(choices=CallStatus.choices)
    disposition = _code_field(Disposition, required=False, allow_null=True)
    note = serializers.CharField(max_length=MAX_NARRATIVE, required=False, allow_blank=True)
    version = StrictIntegerField(min_value=1, required=False)


class CallCloseInput(StrictInputSerializer):
    """Closing a call with its disposition."""

    disposition = _code_field(Disposition, help_text="Disposition code, e.g. REPORT.")
    note = serializers.CharField(max_length=MAX_NARRATIVE, required=False, allow_blank=True)
    version = StrictIntegerField(min_value=1, required=False)


class CallAttachInput(StrictInputSerializer):
    """New information about the same incident (e.g. a second caller)."""

    text = serializers.CharField(max_length=MAX_NARRATIVE, required=False, allow_blank=True)
    caller_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    caller_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)


class CallAssignInput(StrictInputSerializer):
    """The unit to commit to the call."""

    unit = _id_field(help_text="Unit id.")


class UnitStatusInput(StrictInputSerializer):
    """A unit status report; ``expected_status`` makes it conditional (409 if it changed)."""

    status = serializers.ChoiceField(choices=UnitStatus.choices)
    expected_status = serializers.ChoiceField(choices=UnitStatus.choices, required=False)


class PositionInput(StrictInputSerializer):
    """One AVL fix as a device reports it."""

    recorded_at = AwareDateTimeField()
    latitude = StrictFloatField(**_LAT)
    longitude = StrictFloatField(**_LON)
    heading = StrictFloatField(required=False, allow_null=True, min_value=0.0, max_value=360.0)
    speed = StrictFloatField(required=False, allow_null=True, min_value=0.0, max_value=1_000.0)
    accuracy = StrictFloatField(required=False, allow_null=True, min_value=0.0, max_value=1e6)


class PositionBatchInput(StrictInputSerializer):
    """A batch of AVL fixes; re-sending a batch stores nothing twice."""

    positions = serializers.ListField(
        child=PositionInput(), max_length=MAX_POSITIONS_PER_BATCH, allow_empty=True
    )


class PositionHistoryQuery(serializers.Serializer):
    """The window of AVL history to read (query parameters; others, like paging, pass through)."""

    since = AwareDateTimeField(required=False, help_text="Default: 24 hours ago.")
    until = AwareDateTimeField(required=False)


class PremiseNoteInput(StrictInputSerializer):
    """A premise note or hazard to record at a location."""

    text = serializers.CharField(max_length=5_000)
    kind = serializers.ChoiceField(choices=PremiseNoteKind.choices, required=False)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    expires_at = AwareDateTimeField(required=False, allow_null=True)


class ObservationInput(StrictInputSerializer):
    """A field observation card."""

    category = serializers.ChoiceField(choices=ObservationCategory.choices)
    observed_at = AwareDateTimeField(required=False, allow_null=True)
    narrative = serializers.CharField(
        max_length=MAX_NARRATIVE, required=False, allow_blank=True, trim_whitespace=False
    )
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    latitude = StrictFloatField(required=False, allow_null=True, **_LAT)
    longitude = StrictFloatField(required=False, allow_null=True, **_LON)
    call = _id_field(required=False, allow_null=True, help_text="Call id, if it relates to one.")
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    persons = serializers.ListField(
        child=_id_field(),
        required=False,
        max_length=50,
        help_text="Ids of persons seen (recorded first through /persons/); linked as subjects.",
    )
    vehicles = serializers.ListField(
        child=_id_field(),
        required=False,
        max_length=50,
        help_text="Ids of vehicles seen (recorded first through /vehicles/); linked as subjects.",
    )
    views_or_associations = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Refused on observations (28 CFR 23.20(b)); record such data on the person.",
    )


class PersonInput(StrictInputSerializer):
    """A person to record; an intelligence subject needs a category and a justification."""

    last_name = serializers.CharField(max_length=100)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    middle_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=["F", "M", "X"], required=False, allow_blank=True)
    description = serializers.CharField(max_length=5_000, required=False, allow_blank=True)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    intelligence_subject = serializers.BooleanField(required=False)
    criminal_activity = serializers.ChoiceField(
        choices=CriminalActivity.choices, required=False, allow_blank=True
    )
    suspicion_justification = serializers.CharField(
        max_length=5_000, required=False, allow_blank=True
    )
    views_or_associations = serializers.CharField(
        max_length=5_000, required=False, allow_blank=True
    )
    views_related_to_criminal_conduct = serializers.BooleanField(required=False)
    views_justification = serializers.CharField(max_length=5_000, required=False, allow_blank=True)


class PersonSubjectInput(StrictInputSerializer):
    """Make a person an intelligence subject (or stop it, with ``intelligence_subject`` false)."""

    intelligence_subject = serializers.BooleanField(required=False, default=True)
    criminal_activity = serializers.ChoiceField(
        choices=CriminalActivity.choices, required=False, allow_blank=True
    )
    suspicion_justification = serializers.CharField(
        max_length=5_000, required=False, allow_blank=True
    )


class VehicleInput(StrictInputSerializer):
    """A vehicle to find or record, by plate and state or by description."""

    plate = serializers.CharField(max_length=32, required=False, allow_blank=True)
    plate_state = serializers.CharField(max_length=8, required=False, allow_blank=True)
    make = serializers.CharField(max_length=40, required=False, allow_blank=True)
    model = serializers.CharField(max_length=40, required=False, allow_blank=True)
    color = serializers.CharField(max_length=30, required=False, allow_blank=True)
    year = StrictIntegerField(required=False, allow_null=True, min_value=1900, max_value=2200)
    description = serializers.CharField(max_length=5_000, required=False, allow_blank=True)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)


class InvolvementInput(StrictInputSerializer):
    """A person or a vehicle, linked to a call or an observation, in a role."""

    role = serializers.ChoiceField(choices=InvolvementRole.choices)
    person = _id_field(required=False, allow_null=True)
    vehicle = _id_field(required=False, allow_null=True)
    call = _id_field(required=False, allow_null=True)
    observation = _id_field(required=False, allow_null=True)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Shape, not business: exactly one of each pair, so the error names a field.
        if (attrs.get("person") is None) == (attrs.get("vehicle") is None):
            raise serializers.ValidationError(
                {"person": ["Give exactly one of person or vehicle."]}
            )
        if (attrs.get("call") is None) == (attrs.get("observation") is None):
            raise serializers.ValidationError(
                {"call": ["Give exactly one of call or observation."]}
            )
        return attrs


class EidoExportQuery(serializers.Serializer):
    """Why and to whom a call is sent as an EIDO (both recorded on the audit trail)."""

    purpose = serializers.CharField(
        max_length=500, help_text="Why the call leaves the system (audited). Required."
    )
    recipient = serializers.CharField(
        max_length=200, help_text="The CAD or agency that receives it (audited). Required."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, why in (
            ("purpose", "Say why the call is sent."),
            ("recipient", "Say who receives it."),
        ):
            if not attrs.get(name, "").strip():
                raise serializers.ValidationError({name: [why]})
        return {k: v.strip() for k, v in attrs.items()}
