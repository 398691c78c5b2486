"""API about the caller (who am I, a device token for field phones), the read-only audit trail,
and legal holds (admins and supervisors place and release them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from beacon_core.api.serializers import validated
from governance import audit, retention
from governance.api.serializers import (
    AuditEventSerializer,
    LegalHoldInput,
    LegalHoldReleaseInput,
    LegalHoldSerializer,
)
from governance.api_permissions import IsAuthenticatedAnyRole
from governance.choices import AuditAction, Category
from governance.models import AuditEvent
from governance.selectors import (
    audit_events,
    audit_zone,
    legal_holds_for,
    parse_audit_filters,
    user_summary,
)

MeSerializer = inline_serializer(
    "Me",
    {
        "id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "full_name": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "is_superuser": serializers.BooleanField(),
        "agency": serializers.DictField(allow_null=True),
        "units": serializers.ListField(child=serializers.DictField()),
    },
)


class MeApi(APIView):
    """The signed-in user, their roles, agency and units."""

    permission_classes = [IsAuthenticatedAnyRole]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(user_summary(request.user))


class DeviceTokenApi(APIView):
    """Issue (or return) the caller's API token, for a field device to use instead of a session."""

    permission_classes = [IsAuthenticatedAnyRole]

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                inline_serializer("DeviceToken", {"token": serializers.CharField()})
            )
        },
    )
    def post(self, request: Request) -> Response:
        token, _ = Token.objects.get_or_create(user=request.user)
        return Response({"token": token.key})


AUDIT_FILTER_PARAMETERS = [
    OpenApiParameter("user", str, description="Username exactly as recorded."),
    OpenApiParameter("object_type", str, description="app_label.model, e.g. intelligence.finding."),
    OpenApiParameter("object_id", str, description="The object's id."),
    OpenApiParameter("action", str, enum=AuditAction.values),
    OpenApiParameter(
        "date_from",
        OpenApiTypes.DATE,
        description="First day (YYYY-MM-DD), in the caller's agency time zone.",
    ),
    OpenApiParameter(
        "date_to",
        OpenApiTypes.DATE,
        description="Last day, inclusive (YYYY-MM-DD), in the caller's agency time zone.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="The audit trail, newest first (auditors); each call is itself recorded",
        parameters=AUDIT_FILTER_PARAMETERS,
        responses={
            200: AuditEventSerializer(many=True),
            400: OpenApiResponse(description="A filter does not parse; the body names it."),
        },
    ),
    retrieve=extend_schema(summary="One audit event (auditors); the read is recorded"),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read-only audit trail with the page's filters; RolePermission asks for view on AUDIT."""

    access_category = Category.AUDIT
    serializer_class = AuditEventSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    # The filters are the page's own (``parse_audit_filters``), not django-filter's.
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = parse_audit_filters(self.request.query_params, zone=audit_zone(self.request.user))
        self._filters = filters
        return audit_events(user=self.request.user, filters=filters)

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        # Refused attempts to read the trail are part of the trail (CJIS 5.4.1.1).
        if request.user and request.user.is_authenticated:
            _record_read(request, details={"outcome": "denied", "path": request.path[:200]})
        super().permission_denied(request, message=message, code=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = list(page or [])
        _record_read(
            request,
            details={
                "outcome": "allowed",
                "via": "api",
                "filters": self._filters.as_params(),
                "results": self.paginator.page.paginator.count if self.paginator else len(rows),
            },
        )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        event = self.get_object()
        _record_read(
            request,
            details={"outcome": "allowed", "via": "api", "event": event.pk},
        )
        return Response(self.get_serializer(event).data)


def _record_read(request: Request, *, details: dict[str, Any]) -> None:
    audit.record(
        action=AuditAction.VIEW,
        actor=request.user,
        object_type="governance.auditevent",
        object_label="Audit trail",
        details=details,
        request=request._request,
    )


class MayManageHolds(BasePermission):
    """Admins and supervisors (``retention.may_manage_holds``); everyone else is refused."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return retention.may_manage_holds(request.user)


@extend_schema_view(
    list=extend_schema(summary="Legal holds of the caller's agency: active first, then released"),
)
class LegalHoldViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Place, list and release legal holds; the services check again and audit each change."""

    permission_classes = [MayManageHolds]
    serializer_class = LegalHoldSerializer
    filter_backends: list[Any] = []
    pagination_class = None
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> Any:
        return legal_holds_for(self.request.user)

    @extend_schema(
        summary="Keep a record (a call: with its incident's records) out of the retention purge",
        request=LegalHoldInput,
        responses={201: LegalHoldSerializer},
    )
    def create(self, request: Request) -> Response:
        data = validated(LegalHoldInput, request.data)
        hold = retention.legal_hold_place(actor=request.user, **data)
        return Response(self.get_serializer(hold).data, status=201)

    @extend_schema(
        summary="Release a legal hold", request=LegalHoldReleaseInput, responses=LegalHoldSerializer
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        data = validated(LegalHoldReleaseInput, request.data)
        hold = retention.legal_hold_release(actor=request.user, hold_id=pk, reason=data["reason"])
        return Response(self.get_serializer(hold).data)
