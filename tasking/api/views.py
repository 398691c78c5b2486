"""REST API of the tasking domain: assignments, their lifecycle actions, and what devices hold.

Views are thin: ``RolePermission`` gates each action by ``access_category``/``access_actions``;
every assignment is fetched through ``access_assignment`` (another agency's, or another unit's
for field staff, is a 404); input serializers check shape; services make every change.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from beacon_core.api.parsers import SafeJSONParser
from beacon_core.api.serializers import validated
from dispatch.api.filters import IdFilter
from governance.choices import Action, Category
from tasking import selectors, services
from tasking.api import serializers as s
from tasking.choices import AssignmentKind, AssignmentStatus
from tasking.models import Assignment, Shift
from tasking.permissions import access_assignment

CONFLICT = OpenApiResponse(description="The assignment is in another state; body has `current`.")
NOT_FOUND = OpenApiResponse(description="No such assignment, or one the user may not see.")


class AssignmentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=AssignmentStatus.choices)
    kind = django_filters.ChoiceFilter(choices=AssignmentKind.choices)
    # Ids within the database's range: a float or 1e308 is a 400, not an overflow (500).
    unit = IdFilter(field_name="assignee_unit_id")
    user = IdFilter(field_name="assignee_user_id")
    shift = IdFilter(field_name="assignee_shift_id")
    finding = IdFilter(field_name="finding_id")

    class Meta:
        model = Assignment
        fields = ["status", "kind", "unit", "user", "shift", "finding"]


@extend_schema_view(
    list=extend_schema(
        summary="Assignments the user may see, newest first",
        responses=s.AssignmentSerializer(many=True),
    )
)
class AssignmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Directed assignments: drafting, issuing, the field's acknowledgement and report-back."""

    access_category = Category.ASSIGNMENT
    # Drafting, issuing and cancelling are the tasker's (create right); working on one is a change.
    access_actions = {
        "issue": Action.CREATE,
        "cancel": Action.CREATE,
        "acknowledge": Action.CHANGE,
        "start": Action.CHANGE,
        "finish": Action.CHANGE,
        "report": Action.CHANGE,
        "pending": Action.VIEW,
    }
    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    serializer_class = s.AssignmentSerializer
    filterset_class = AssignmentFilter
    ordering_fields = ["created_at", "issued_at", "priority", "status", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Assignment]:
        return selectors.assignment_list(user=self.request.user).select_related(
            "issued_by", "acknowledged_by", "started_by", "finished_by", "cancelled_by"
        )

    def _detail(self, assignment_id: int, status: int = http_status.HTTP_200_OK) -> Response:
        assignment = selectors.assignment_detail(
            user=self.request.user, assignment_id=assignment_id
        )
        return Response(
            s.AssignmentDetailSerializer(assignment, context=self.get_serializer_context()).data,
            status=status,
        )

    @extend_schema(
        summary="Draft an assignment (from an accepted finding, or manual); `issue` sends it at once",
        request=s.AssignmentCreateInput,
        responses={
            201: s.AssignmentDetailSerializer,
            400: OpenApiResponse(description="A field is missing or invalid; the body names it."),
        },
    )
    def create(self, request: Request) -> Response:
        """``assignment_create``; a proposed or dismissed finding is a 400 on ``finding``."""
        data = validated(s.AssignmentCreateInput, request.data)
        assignment = services.assignment_create(
            actor=request.user,
            finding_id=data.get("finding"),
            kind=data["kind"],
            objective=data["objective"],
            area=data["area"],
            windows=data["windows"],
            dosage=data.get("dosage"),
            assignee_unit_id=data.get("assignee_unit"),
            assignee_user_id=data.get("assignee_user"),
            assignee_shift_id=data.get("assignee_shift"),
            priority=data.get("priority", 3),
            issue=data.get("issue", False),
        )
        return self._detail(assignment.pk, http_status.HTTP_201_CREATED)

    @extend_schema(
        summary="One assignment with its timeline and report-backs",
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(access_assignment(request.user, pk).pk)

    @extend_schema(
        summary="Every open assignment for my units and me: what a (re)connecting device fetches",
        responses=s.AssignmentDetailSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def pending(self, request: Request) -> Response:
        """Issued, acknowledged and in-progress assignments for the caller; a push is never the
        only copy, so a phone that missed one gets it here on load, reconnect and every minute."""
        rows = selectors.assignments_pending_for_device(user=request.user).prefetch_related(
            "events__actor", "reports__author", "reports__observations"
        )
        return Response(
            s.AssignmentDetailSerializer(
                rows, many=True, context=self.get_serializer_context()
            ).data
        )

    def _transition(
        self, request: Request, pk: str | None, service: Any, **kwargs: Any
    ) -> Response:
        assignment = access_assignment(request.user, pk, for_write=True)
        service(assignment_id=assignment.pk, actor=request.user, **kwargs)
        return self._detail(assignment.pk)

    @extend_schema(
        summary="Send a draft to its assignee",
        request=None,
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def issue(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, services.assignment_issue)

    @extend_schema(
        summary="Acknowledge (idempotent: a repeat changes nothing)",
        request=None,
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, services.assignment_acknowledge)

    @extend_schema(
        summary="Start work on it",
        request=None,
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, services.assignment_start)

    @extend_schema(
        summary="Close with an outcome: completed, partially completed or missed",
        request=s.AssignmentFinishInput,
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        data = validated(s.AssignmentFinishInput, request.data)
        return self._transition(
            request,
            pk,
            services.assignment_finish,
            outcome=data["outcome"],
            note=data.get("note", ""),
        )

    @extend_schema(
        summary="Withdraw it",
        request=s.AssignmentCancelInput,
        responses={200: s.AssignmentDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        data = validated(s.AssignmentCancelInput, request.data)
        return self._transition(
            request, pk, services.assignment_cancel, reason=data.get("reason", "")
        )

    @extend_schema(
        summary="Report back from the field",
        request=s.AssignmentReportInput,
        responses={201: s.AssignmentReportSerializer, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def report(self, request: Request, pk: str | None = None) -> Response:
        assignment = access_assignment(request.user, pk, for_write=True)
        data = validated(s.AssignmentReportInput, request.data)
        report = services.assignment_report(
            assignment_id=assignment.pk,
            actor=request.user,
            notes=data["notes"],
            contacts_made=data.get("contacts_made", 0),
            observation_ids=data.get("observation_ids", []),
            client_ref=data.get("client_ref", ""),
        )
        return Response(
            s.AssignmentReportSerializer(report, context=self.get_serializer_context()).data,
            status=http_status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(summary="Your agency's active shifts (assignees), with their rosters"),
    retrieve=extend_schema(summary="One shift with its members and units"),
)
class ShiftViewSet(viewsets.ReadOnlyModelViewSet):
    """Shifts a supervisor can assign work to; rosters are kept by admins (Django admin)."""

    access_category = Category.ASSIGNMENT
    # Rosters are for those who assign work, not for every reader of assignments.
    access_actions = {"list": Action.CREATE, "retrieve": Action.CREATE}
    lookup_value_regex = r"[0-9]{1,18}"
    serializer_class = s.ShiftSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Shift]:
        return selectors.shifts_of_agency(user=self.request.user).prefetch_related(
            "members", "units"
        )
