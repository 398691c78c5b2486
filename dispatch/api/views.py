"""REST API of the dispatch domain: calls, units and AVL, locations, observations, persons,
vehicles, involvements and reference data.

Views are thin. ``RolePermission`` (the default permission class) gates each
action by the view's ``access_category``/``access_actions``; every record is
fetched through its ``access_*`` function (another agency's record is a 404);
input serializers check shape; services make every change. Records named in a
request body go through the same access functions and are answered as a 400
on that field when the user may not see them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from beacon_core.api.need_to_know import NeedToKnowInput
from beacon_core.api.parsers import SafeJSONParser
from beacon_core.api.serializers import validated
from beacon_core.errors import DomainError, NotFoundError
from dispatch import selectors, services
from dispatch.api import serializers as s
from dispatch.api.filters import (
    CallFilter,
    CallTypeFilter,
    DispositionFilter,
    InvolvementFilter,
    LocationFilter,
    ObservationFilter,
    PersonFilter,
    UnitFilter,
    VehicleFilter,
)
from dispatch.eido import transfer as eido_transfer
from dispatch.models import (
    CallAssignment,
    CallType,
    Disposition,
    Involvement,
    UnitPosition,
)
from dispatch.permissions import (
    access_call,
    access_location,
    access_observation,
    access_person,
    access_unit,
    access_unit_position_write,
    access_unit_status_write,
    access_vehicle,
    calls_visible_to,
    can_see_caller_identity,
    locations_visible_to,
    observations_visible_to,
    persons_visible_to,
    premise_notes_visible_to,
    redact_call_events,
    vehicles_visible_to,
)
from governance import audit
from governance.access import can, max_sensitivity, user_agency_id
from governance.choices import Action, Category, Sensitivity
from governance.models import Agency

AVL_DEFAULT_WINDOW = dt.timedelta(hours=24)

# --- helpers -----------------------------------------------------------------------------------


def writer_agency(user: Any) -> Agency:
    """The agency a new record is filed under: the user's own; none means they cannot create."""
    agency_id = user_agency_id(user)
    if agency_id is None:
        raise PermissionDenied(
            "Your account belongs to no agency, so it cannot create records; "
            "ask an administrator to add you to one."
        )
    return Agency.objects.get(pk=agency_id)


def referenced(access: Callable[..., Any], user: Any, pk: Any, *, field: str, **kwargs: Any) -> Any:
    """A record named in a request body, through its access function.

    One the user may not see is "no such record" on that field (a 400), the
    same answer as a missing one, so nobody learns it exists.
    """
    try:
        return access(user, pk, **kwargs)
    except NotFoundError:
        raise DomainError(f"No such {field.replace('_', ' ')}.", field=field) from None


def check_clearance(user: Any, category: str, sensitivity: int) -> None:
    """Refuse filing a record above the sensitivity the user's role may record (it would vanish)."""
    if sensitivity > max_sensitivity(user, category, Action.CREATE):
        raise DomainError("Above the sensitivity level your role may record.", field="sensitivity")


def require_caller_identity(user: Any, data: dict[str, Any], action: str) -> None:
    """Writing caller name or phone needs the caller-identity category, not only the call one."""
    if (data.get("caller_name") or data.get("caller_phone")) and not can(
        user, action, Category.CALLER_IDENTITY
    ):
        raise PermissionDenied("Your role may not record caller identity.")


class DispatchViewSet(viewsets.GenericViewSet):
    """Shared by every dispatch viewset: numeric ids only in URLs, JSON that cannot crash."""

    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]


# --- calls ---------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Calls the user may see, newest first"))
class CallViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Calls for service: intake, edits, timeline, status, units."""

    access_category = Category.CALL
    access_actions = {
        "notes": Action.CHANGE,
        "status": Action.CHANGE,
        "close": Action.CHANGE,
        "attach": Action.CHANGE,
        "assign": Action.CHANGE,
        "events": Action.VIEW,
        # Sending a call to another CAD is a dissemination: the export right on calls.
        "eido": Action.EXPORT,
        "import_eido": Action.CREATE,
    }
    serializer_class = s.CallSerializer
    filterset_class = CallFilter
    ordering_fields = ["received_at", "priority", "status", "number", "updated_at"]
    ordering = ["-received_at", "-id"]

    def get_queryset(self) -> QuerySet[Any]:
        open_assignments = CallAssignment.objects.filter(cleared_at__isnull=True).select_related(
            "unit"
        )
        return selectors.call_list(user=self.request.user).prefetch_related(
            Prefetch("assignments", queryset=open_assignments, to_attr="open_assignments")
        )

    def _detail(self, call_id: int) -> dict[str, Any]:
        call = selectors.call_detail(user=self.request.user, call_id=call_id)
        return s.CallDetailSerializer(call, context=self.get_serializer_context()).data

    def _written(self, call: Any) -> dict[str, Any]:
        """The detail of a call a service just wrote, from the instance it returned."""
        call = selectors.call_detail_after_write(user=self.request.user, call=call)
        return s.CallDetailSerializer(call, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Log a new call", request=s.CallCreateInput, responses={201: s.CallDetailSerializer}
    )
    def create(self, request: Request) -> Response:
        """Log a call (``call_create``)."""
        agency = writer_agency(request.user)
        data = validated(s.CallCreateInput, request.data)
        require_caller_identity(request.user, data, Action.CREATE)
        call = services.call_create(agency=agency, actor=request.user, **data)
        return Response(self._written(call), status=http_status.HTTP_201_CREATED)

    @extend_schema(summary="One call with its timeline and units", responses=s.CallDetailSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A call the user may see, with its timeline and assignments."""
        call = access_call(request.user, pk)
        selectors.record_caller_view(
            request.user, call, shown=can_see_caller_identity(request.user)
        )
        return Response(self._detail(call.pk))

    @extend_schema(
        summary="Edit a call's details",
        request=s.CallUpdateInput,
        responses={
            200: s.CallDetailSerializer,
            409: OpenApiResponse(description="Stale version or closed call; body has `current`."),
        },
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Edit a call (``call_update``); a stale ``version`` is a 409 with the current one."""
        call = access_call(request.user, pk, for_write=True)
        data = dict(validated(s.CallUpdateInput, request.data))
        version = data.pop("version", None)
        require_caller_identity(request.user, data, Action.CHANGE)
        services.call_update(
            call_id=call.pk, actor=request.user, changes=data, expected_version=version
        )
        return Response(self._detail(call.pk))

    @extend_schema(
        summary="Add a note to the timeline",
        request=s.CallNoteInput,
        responses={201: s.CallEventSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """Append a note (``call_add_note``)."""
        call = access_call(request.user, pk, for_write=True)
        data = validated(s.CallNoteInput, request.data)
        event = services.call_add_note(call_id=call.pk, actor=request.user, text=data["text"])
        return Response(
            s.CallEventSerializer(event, context=self.get_serializer_context()).data,
            status=http_status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Move the call through its lifecycle",
        request=s.CallStatusInput,
        responses={
            200: s.CallDetailSerializer,
            409: OpenApiResponse(description="Transition not allowed now; body has `current`."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Change the call's status (``call_set_status``); a disposition only when closing."""
        call = access_call(request.user, pk, for_write=True)
        data = validated(s.CallStatusInput, request.data)
        written = services.call_set_status(
            call_id=call.pk,
            actor=request.user,
            status=data["status"],
            disposition=data.get("disposition"),
            note=data.get("note", ""),
            expected_version=data.get("version"),
        )
        return Response(self._written(written))

    @extend_schema(
        summary="Close the call with a disposition",
        request=s.CallCloseInput,
        responses={
            200: s.CallDetailSerializer,
            409: OpenApiResponse(description="Already closed, or stale version."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the call (``call_close``), clearing any units still on it."""
        call = access_call(request.user, pk, for_write=True)
        data = validated(s.CallCloseInput, request.data)
        written = services.call_close(
            call_id=call.pk,
            actor=request.user,
            disposition=data["disposition"],
            note=data.get("note", ""),
            expected_version=data.get("version"),
        )
        return Response(self._written(written))

    @extend_schema(
        summary="Attach new information (e.g. a second caller)",
        request=s.CallAttachInput,
        responses={201: s.CallEventSerializer, 409: OpenApiResponse(description="Call closed.")},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def attach(self, request: Request, pk: str | None = None) -> Response:
        """Attach information to an open call (``call_attach``)."""
        call = access_call(request.user, pk, for_write=True)
        data = validated(s.CallAttachInput, request.data)
        require_caller_identity(request.user, data, Action.CREATE)
        event = services.call_attach(
            call_id=call.pk,
            actor=request.user,
            text=data.get("text", ""),
            caller_name=data.get("caller_name", ""),
            caller_phone=data.get("caller_phone", ""),
        )
        return Response(
            s.CallEventSerializer(event, context=self.get_serializer_context()).data,
            status=http_status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Commit a unit to the call",
        request=s.CallAssignInput,
        responses={
            201: s.CallAssignmentSerializer,
            409: OpenApiResponse(
                description="Unit already committed or call closed; body has `current`."
            ),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign a unit (``unit_assign``); a unit that is not available is a 409."""
        call = access_call(request.user, pk, for_write=True)
        data = validated(s.CallAssignInput, request.data)
        unit = referenced(access_unit, request.user, data["unit"], field="unit", for_write=True)
        assignment = services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=request.user)
        return Response(
            s.CallAssignmentSerializer(assignment, context=self.get_serializer_context()).data,
            status=http_status.HTTP_201_CREATED,
        )

    @extend_schema(summary="The call's timeline", responses=s.CallEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The call's timeline, oldest first."""
        call = access_call(request.user, pk)
        events = call.events.select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        redact_call_events(request.user, page)
        context = self.get_serializer_context()
        return self.get_paginated_response(
            s.CallEventSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        summary="The call as a NENA EIDO document (an audited dissemination)",
        parameters=[s.EidoExportQuery],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="EmergencyIncidentDataObject."),
            400: OpenApiResponse(description="purpose or recipient missing (named)."),
        },
    )
    # JSON only: the call page's form is a browser navigation (Accept: text/html), which got
    # DRF's browsable page saved as the .json attachment.
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        renderer_classes=[JSONRenderer],
    )
    def eido(self, request: Request, pk: str | None = None) -> Response:
        """What the user may see of the call, as an EIDO for another CAD (docs/eido.md)."""
        call = access_call(request.user, pk)
        query = validated(s.EidoExportQuery, request.query_params)
        doc = eido_transfer.send(
            call=call, actor=request.user, purpose=query["purpose"], recipient=query["recipient"]
        )
        response = Response(doc)
        response["Content-Disposition"] = f'attachment; filename="eido-{call.number}.json"'
        return response

    @extend_schema(
        summary="Take in a call transferred from another CAD (a NENA EIDO document)",
        request=OpenApiTypes.OBJECT,
        responses={
            201: s.CallDetailSerializer,
            200: OpenApiResponse(
                s.CallDetailSerializer, description="Already transferred: the existing call."
            ),
            400: OpenApiResponse(description="Not JSON or not a usable EIDO (JSON path named)."),
            413: OpenApiResponse(description="Larger than BEACON_EIDO_MAX_BYTES."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-eido",
        url_name="import-eido",
        filter_backends=[],
        pagination_class=None,
    )
    def import_eido(self, request: Request) -> Response:
        """A transfer in: a new call of the user's agency, once per EIDO incident identifier."""
        agency = writer_agency(request.user)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > settings.BEACON_EIDO_MAX_BYTES:
            raise eido_transfer.PayloadTooLargeError(
                f"The document is larger than {settings.BEACON_EIDO_MAX_BYTES} bytes.", field="$"
            )
        doc = eido_transfer.read_document(request.body)
        call, created = eido_transfer.take_in(agency=agency, actor=request.user, doc=doc)
        return Response(
            self._detail(call.pk),
            status=http_status.HTTP_201_CREATED if created else http_status.HTTP_200_OK,
        )


# --- units and AVL -------------------------------------------------------------------------

_AVL_ACTIONS = frozenset({"positions", "positions_upload"})


@extend_schema_view(
    list=extend_schema(summary="Active units with status and current call"),
    retrieve=extend_schema(summary="One unit"),
)
class UnitViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Units, their status, and their AVL track."""

    access_actions = {
        # Coarse gate only: access_unit_status_write decides (any unit for dispatch, own units
        # for field staff) and fails closed.
        "status": Action.VIEW,
        "positions": Action.VIEW,
        "positions_upload": Action.CREATE,
    }
    serializer_class = s.UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ["call_sign", "status", "status_changed_at", "position_at"]

    @property
    def throttle_scope(self) -> str:
        """Devices post fixes in their own, larger rate budget (beacon_core.api.throttling)."""
        return "avl" if getattr(self, "action", None) == "positions_upload" else "api"

    @property
    def access_category(self) -> str:
        """Positions are AVL history (its own category); everything else is the unit."""
        return Category.AVL if getattr(self, "action", None) in _AVL_ACTIONS else Category.UNIT

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.unit_board(user=self.request.user)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A unit the user may see."""
        unit = access_unit(request.user, pk)
        return Response(self.get_serializer(unit).data)

    @extend_schema(
        summary="Report a unit status",
        request=s.UnitStatusInput,
        responses={
            200: s.UnitSerializer,
            409: OpenApiResponse(description="Transition not allowed; body has `current`."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Set the unit's status (``unit_set_status``); on a call this moves the call along."""
        unit = access_unit_status_write(request.user, pk)
        data = validated(s.UnitStatusInput, request.data)
        unit = services.unit_set_status(
            unit_id=unit.pk,
            actor=request.user,
            status=data["status"],
            expected_status=data.get("expected_status"),
        )
        return Response(self.get_serializer(unit).data)

    @extend_schema(
        summary="AVL history of a unit",
        parameters=[s.PositionHistoryQuery],
        responses=s.UnitPositionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def positions(self, request: Request, pk: str | None = None) -> Response:
        """Stored fixes from ``since`` (default: the last 24 hours), oldest first."""
        unit = access_unit(request.user, pk)
        query = s.PositionHistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("since") or timezone.now() - AVL_DEFAULT_WINDOW
        fixes = UnitPosition.objects.filter(unit=unit, recorded_at__gte=since)
        if "until" in query.validated_data:
            fixes = fixes.filter(recorded_at__lt=query.validated_data["until"])
        page = self.paginate_queryset(fixes.order_by("recorded_at", "id"))
        return self.get_paginated_response(s.UnitPositionSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload a batch of AVL fixes (idempotent)",
        description='Body: `{"positions": [...]}` (a bare list is accepted too), at most 1000 '
        "fixes. A fix already stored for the same time is counted as a duplicate.",
        request=s.PositionBatchInput,
        responses={200: s.PositionBatchResultSerializer},
    )
    @positions.mapping.post
    def positions_upload(self, request: Request, pk: str | None = None) -> Response:
        """Store fixes for a unit the user is signed to (``unit_positions_record``)."""
        unit = access_unit_position_write(request.user, pk)
        payload = request.data
        if isinstance(payload, list):
            payload = {"positions": payload}
        data = validated(s.PositionBatchInput, payload)
        result = services.unit_positions_record(
            unit_id=unit.pk, positions=data["positions"], unit=unit
        )
        return Response(s.PositionBatchResultSerializer(result).data)


# --- locations and premise notes -----------------------------------------------------------

_NOTE_ACTIONS = frozenset({"notes", "notes_create"})


@extend_schema_view(
    list=extend_schema(summary="Find places by address"),
    retrieve=extend_schema(summary="One place"),
)
class LocationViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Places (shared by agencies), their call history and premise notes."""

    access_actions = {
        "history": Action.VIEW,
        "notes": Action.VIEW,
        "notes_create": Action.CREATE,
    }
    serializer_class = s.LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["address_key", "created_at"]

    @property
    def access_category(self) -> str:
        """Premise notes are their own category; the rest is the place itself."""
        return (
            Category.PREMISE_NOTE
            if getattr(self, "action", None) in _NOTE_ACTIONS
            else Category.LOCATION
        )

    def get_queryset(self) -> QuerySet[Any]:
        return locations_visible_to(self.request.user).order_by("address_key", "locality", "id")

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A place."""
        location = access_location(request.user, pk)
        return Response(self.get_serializer(location).data)

    @extend_schema(
        summary="Prior calls and current notes at a place", responses=s.LocationHistorySerializer
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Call counts (24 h / 7 d / 90 d), recent calls and notes the user may see."""
        location = access_location(request.user, pk)
        history = selectors.location_history(user=request.user, location=location)
        return Response(
            s.LocationHistorySerializer(history, context=self.get_serializer_context()).data
        )

    @extend_schema(summary="Premise notes at a place", responses=s.PremiseNoteSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        """Notes and hazards the user may see at this place; expired ones are left out."""
        location = access_location(request.user, pk)
        now = timezone.now()
        notes = (
            premise_notes_visible_to(request.user)
            .filter(location=location)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("created_by")
            .order_by("-kind", "-created_at", "-id")
        )
        page = self.paginate_queryset(notes)
        return self.get_paginated_response(s.PremiseNoteSerializer(page, many=True).data)

    @extend_schema(
        summary="Record a premise note or hazard",
        request=s.PremiseNoteInput,
        responses={201: s.PremiseNoteSerializer},
    )
    @notes.mapping.post
    def notes_create(self, request: Request, pk: str | None = None) -> Response:
        """Record a note for the user's agency (``premise_note_create``)."""
        location = access_location(request.user, pk)
        agency = writer_agency(request.user)
        data = validated(s.PremiseNoteInput, request.data)
        sensitivity = data.get("sensitivity", Sensitivity.ROUTINE)
        check_clearance(request.user, Category.PREMISE_NOTE, sensitivity)
        note = services.premise_note_create(
            location=location,
            agency=agency,
            actor=request.user,
            text=data["text"],
            kind=data.get("kind", "note"),
            sensitivity=sensitivity,
            expires_at=data.get("expires_at"),
        )
        return Response(s.PremiseNoteSerializer(note).data, status=http_status.HTTP_201_CREATED)


# --- observations, persons, vehicles, involvements ------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Field observations the user may see"),
    retrieve=extend_schema(summary="One field observation"),
)
class ObservationViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Field observation cards."""

    access_category = Category.FIELD_OBSERVATION
    serializer_class = s.ObservationSerializer
    filterset_class = ObservationFilter
    ordering_fields = ["observed_at", "created_at"]
    ordering = ["-observed_at", "-id"]

    def get_queryset(self) -> QuerySet[Any]:
        return observations_visible_to(self.request.user).select_related("location", "reported_by")

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """An observation the user may see."""
        return Response(self.get_serializer(access_observation(request.user, pk)).data)

    @extend_schema(
        summary="File a field observation",
        request=s.ObservationInput,
        responses={201: s.ObservationSerializer},
    )
    def create(self, request: Request) -> Response:
        """File an observation (``observation_create``), optionally tied to a visible call."""
        agency = writer_agency(request.user)
        data = dict(validated(s.ObservationInput, request.data))
        sensitivity = data.pop("sensitivity", Sensitivity.ROUTINE)
        check_clearance(request.user, Category.FIELD_OBSERVATION, sensitivity)
        call_id = data.pop("call", None)
        if call_id is not None:
            call_id = referenced(access_call, request.user, call_id, field="call").pk
        data["persons"] = self._seen(request.user, data.pop("persons", []), "persons")
        data["vehicles"] = self._seen(request.user, data.pop("vehicles", []), "vehicles")
        observation = services.observation_create(
            agency=agency,
            actor=request.user,
            call_id=call_id,
            sensitivity=sensitivity,
            **data,
        )
        return Response(self.get_serializer(observation).data, status=http_status.HTTP_201_CREATED)

    @staticmethod
    def _seen(user: Any, ids: list[int], field: str) -> list[Any]:
        """Persons or vehicles named on the card, each through its access function."""
        if not ids:
            return []
        category, access = (
            (Category.PERSON, access_person)
            if field == "persons"
            else (Category.VEHICLE, access_vehicle)
        )
        if not can(user, Action.CREATE, category):
            raise PermissionDenied(f"Your role may not link {field}.")
        return [referenced(access, user, pk, field=field) for pk in dict.fromkeys(ids)]


@extend_schema_view(
    list=extend_schema(summary="Persons the user may see"),
    retrieve=extend_schema(summary="One person"),
)
class PersonViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Persons known to the agency."""

    access_category = Category.PERSON
    serializer_class = s.PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ["last_name", "first_name", "created_at"]
    ordering = ["last_name", "first_name", "id"]

    # validate: the service asks for the intelligence-review right (may_validate_person).
    access_actions = {
        "need_to_know": Action.CHANGE,
        "intelligence_subject": Action.CHANGE,
        "validate": Action.VIEW,
    }

    def get_queryset(self) -> QuerySet[Any]:
        return persons_visible_to(self.request.user).prefetch_related("need_to_know")

    @extend_schema(
        summary="Record a retention review that keeps the person (reviewer, time, rationale)",
        request=s.PersonValidateInput,
        responses={200: s.PersonSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def validate(self, request: Request, pk: str | None = None) -> Response:
        """``person_validate``: restarts the person's retention clock; edits never do."""
        person = access_person(request.user, pk)
        if not services.may_validate_person(request.user):
            raise PermissionDenied("Only supervisors and analysts review intelligence records.")
        data = validated(s.PersonValidateInput, request.data)
        person = services.person_validate(
            actor=request.user, person_id=person.pk, rationale=data["rationale"]
        )
        return Response(self.get_serializer(person).data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A person the user may see; every such read is logged (a consultation, DPA 2018 s.62)."""
        person = access_person(request.user, pk)
        audit.record_view(
            request.user, person, category=Category.PERSON, sensitivity=person.sensitivity
        )
        return Response(self.get_serializer(person).data)

    @extend_schema(
        summary="Limit a person to need-to-know groups (an empty list lifts the limit)",
        request=NeedToKnowInput,
        responses={200: s.PersonSerializer},
    )
    @action(detail=True, methods=["post"], url_path="need-to-know", filter_backends=[])
    def need_to_know(self, request: Request, pk: str | None = None) -> Response:
        """``person_need_to_know_set``; the groups must be of the person's agency."""
        person = access_person(request.user, pk, for_write=True)
        data = validated(NeedToKnowInput, request.data)
        services.person_need_to_know_set(
            actor=request.user, person=person, group_ids=data["groups"]
        )
        return Response(self.get_serializer(person).data)

    @extend_schema(
        summary="Make a person an intelligence subject, or stop it (28 CFR 23.20(a))",
        request=s.PersonSubjectInput,
        responses={200: s.PersonSerializer},
    )
    @action(detail=True, methods=["post"], url_path="intelligence-subject", filter_backends=[])
    def intelligence_subject(self, request: Request, pk: str | None = None) -> Response:
        """``person_mark_subject``: a criminal-activity category and a written justification."""
        person = access_person(request.user, pk, for_write=True)
        data = validated(s.PersonSubjectInput, request.data)
        services.person_mark_subject(actor=request.user, person=person, **data)
        return Response(self.get_serializer(person).data)

    @extend_schema(
        summary="Record a person", request=s.PersonInput, responses={201: s.PersonSerializer}
    )
    def create(self, request: Request) -> Response:
        """Record a person (``person_create``), holding the collection standards."""
        agency = writer_agency(request.user)
        data = dict(validated(s.PersonInput, request.data))
        data.setdefault("sensitivity", Sensitivity.RESTRICTED)
        check_clearance(request.user, Category.PERSON, data["sensitivity"])
        person = services.person_create(agency=agency, actor=request.user, **data)
        return Response(self.get_serializer(person).data, status=http_status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Vehicles the user may see"),
    retrieve=extend_schema(summary="One vehicle"),
)
class VehicleViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Vehicles known to the agency."""

    access_category = Category.VEHICLE
    serializer_class = s.VehicleSerializer
    filterset_class = VehicleFilter
    ordering_fields = ["plate", "created_at"]
    ordering = ["plate_state", "plate", "id"]

    def get_queryset(self) -> QuerySet[Any]:
        return vehicles_visible_to(self.request.user)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A vehicle the user may see; reads of restricted and confidential ones are logged."""
        vehicle = access_vehicle(request.user, pk)
        audit.record_view(
            request.user, vehicle, category=Category.VEHICLE, sensitivity=vehicle.sensitivity
        )
        return Response(self.get_serializer(vehicle).data)

    @extend_schema(
        summary="Find or record a vehicle by plate",
        request=s.VehicleInput,
        responses={
            200: OpenApiResponse(s.VehicleSerializer, description="Already on record."),
            201: OpenApiResponse(s.VehicleSerializer, description="Newly recorded."),
        },
    )
    def create(self, request: Request) -> Response:
        """Find the agency's vehicle by normalised plate, or record it (``vehicle_get_or_create``)."""
        agency = writer_agency(request.user)
        data = dict(validated(s.VehicleInput, request.data))
        data.setdefault("sensitivity", Sensitivity.RESTRICTED)
        check_clearance(request.user, Category.VEHICLE, data["sensitivity"])
        vehicle, created = services.vehicle_get_or_create(
            agency=agency,
            actor=request.user,
            visible_up_to=max_sensitivity(request.user, Category.VEHICLE),
            **data,
        )
        return Response(
            self.get_serializer(vehicle).data,
            status=http_status.HTTP_201_CREATED if created else http_status.HTTP_200_OK,
        )


@extend_schema_view(list=extend_schema(summary="Involvements the user may see"))
class InvolvementViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Links of persons and vehicles to calls and observations.

    Gated by the person category (every role's vehicle grants equal its person
    grants); a vehicle link also checks the vehicle category explicitly.
    """

    access_category = Category.PERSON
    serializer_class = s.InvolvementSerializer
    filterset_class = InvolvementFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Any]:
        user = self.request.user
        # Visible only when both ends are: the person/vehicle and the call/observation.
        return Involvement.objects.filter(
            Q(person__in=persons_visible_to(user).values("pk"))
            | Q(vehicle__in=vehicles_visible_to(user).values("pk")),
            Q(call__in=calls_visible_to(user).values("pk"))
            | Q(observation__in=observations_visible_to(user).values("pk")),
        ).select_related("created_by")

    @extend_schema(
        summary="Link a person or vehicle to a call or observation",
        request=s.InvolvementInput,
        responses={201: s.InvolvementSerializer},
    )
    def create(self, request: Request) -> Response:
        """Record an involvement (``involvement_create``); each end goes through its access function."""
        user = request.user
        writer_agency(user)
        data = validated(s.InvolvementInput, request.data)
        person = vehicle = call = observation = None
        if data.get("person") is not None:
            person = referenced(access_person, user, data["person"], field="person")
        if data.get("vehicle") is not None:
            if not can(user, Action.CREATE, Category.VEHICLE):
                raise PermissionDenied("Your role may not link vehicles.")
            vehicle = referenced(access_vehicle, user, data["vehicle"], field="vehicle")
        if data.get("call") is not None:
            # Linking adds to the call's timeline, so it is a change to the call.
            call = referenced(access_call, user, data["call"], field="call", for_write=True)
        if data.get("observation") is not None:
            observation = referenced(
                access_observation, user, data["observation"], field="observation"
            )
        involvement = services.involvement_create(
            actor=user,
            role=data["role"],
            person=person,
            vehicle=vehicle,
            call=call,
            observation=observation,
            notes=data.get("notes", ""),
        )
        return Response(self.get_serializer(involvement).data, status=http_status.HTTP_201_CREATED)


# --- reference data -------------------------------------------------------------------------


class CallTypeViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Call types (reference data), all on one page."""

    access_category = Category.REFERENCE_DATA
    serializer_class = s.CallTypeSerializer
    pagination_class = None
    filterset_class = CallTypeFilter
    ordering_fields = ["code", "default_priority"]
    queryset = CallType.objects.order_by("code")


class DispositionViewSet(mixins.ListModelMixin, DispatchViewSet):
    """Dispositions (reference data), all on one page."""

    access_category = Category.REFERENCE_DATA
    serializer_class = s.DispositionSerializer
    pagination_class = None
    filterset_class = DispositionFilter
    ordering_fields = ["code"]
    queryset = Disposition.objects.order_by("code")
