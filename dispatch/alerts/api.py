"""REST API of partner alerts: ``/api/v1/alerts/`` (list, upload) and ``/api/v1/alerts/<id>/``.

Upload takes the CAP XML as the request body (``application/xml``, ``text/xml``,
``application/cap+xml``) or as a multipart ``file``. A new alert answers 201, one already held
(same sender, identifier and sent) answers 200 with the stored one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework import status as http_status
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from beacon_core.api.parsers import SafeJSONParser
from beacon_core.errors import DomainError, NotFoundError
from dispatch.alerts import services
from dispatch.alerts.parser import MAX_BYTES
from dispatch.alerts.permissions import (
    access_alert,
    alerts_visible_to,
    may_receive_alerts,
    require_receive_alerts,
)
from dispatch.models import AlertArea, AlertInfo, PartnerAlert
from governance.access import can
from governance.choices import Action, Category


class CapXMLParser(BaseParser):
    """The request body as bytes, for CAP documents (read up to one byte past the cap)."""

    media_type = "application/xml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return {"xml": stream.read(MAX_BYTES + 1) if stream is not None else b""}


class TextXMLParser(CapXMLParser):
    media_type = "text/xml"


class CapMediaParser(CapXMLParser):
    media_type = "application/cap+xml"


class AlertPermission(BasePermission):
    """Reading follows the call category; uploading is ``may_receive_alerts``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can(user, Action.VIEW, Category.CALL)
        if request.method == "POST":
            return may_receive_alerts(user)
        return False


class AlertAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertArea
        fields = ["id", "area_desc", "polygons", "circles", "geocodes"]


class AlertInfoSerializer(serializers.ModelSerializer):
    areas = AlertAreaSerializer(many=True, read_only=True)

    class Meta:
        model = AlertInfo
        fields = [
            "id", "language", "category", "event", "urgency", "severity", "certainty",
            "headline", "description", "instruction", "effective", "onset", "expires",
            "sender_name", "web", "contact", "areas",
        ]  # fmt: skip


class PartnerAlertSerializer(serializers.ModelSerializer):
    infos = AlertInfoSerializer(many=True, read_only=True)

    class Meta:
        model = PartnerAlert
        fields = [
            "id", "agency", "identifier", "sender", "sent", "status", "msg_type", "scope",
            "references", "signed", "superseded_by", "cancelled_at", "received_via",
            "received_at", "infos",
        ]  # fmt: skip
        read_only_fields = fields


def _upload_bytes(request: Request) -> bytes:
    data = request.data
    if "xml" in data and isinstance(data["xml"], bytes):
        return data["xml"]
    upload = request.FILES.get("file") if hasattr(request, "FILES") else None
    if upload is not None:
        return upload.read(MAX_BYTES + 1)
    raise DomainError(
        "Send the CAP 1.2 XML as the request body (Content-Type application/xml) "
        "or as a multipart field named 'file'.",
        field="file",
    )


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Partner alerts (CAP 1.2) of the user's agencies; upload for admins and supervisors."""

    lookup_value_regex = r"[0-9]{1,18}"
    permission_classes = [AlertPermission]
    parser_classes = [
        CapXMLParser,
        TextXMLParser,
        CapMediaParser,
        MultiPartParser,
        FormParser,
        SafeJSONParser,
    ]
    serializer_class = PartnerAlertSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return (
            alerts_visible_to(self.request.user)
            .prefetch_related("infos__areas")
            .order_by("-sent", "-id")
        )

    def get_object(self) -> PartnerAlert:
        try:
            alert = access_alert(self.request.user, self.kwargs["pk"])
        except NotFoundError:
            from rest_framework.exceptions import NotFound

            raise NotFound from None
        return alert

    @extend_schema(
        request={"application/xml": {"type": "string", "format": "binary"}},
        responses={
            201: PartnerAlertSerializer,
            200: OpenApiResponse(PartnerAlertSerializer, description="Already held"),
            400: OpenApiResponse(description="Refused: {field: [reason]}"),
        },
        summary="Receive a CAP 1.2 alert (XML body or multipart 'file')",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        agency_id = require_receive_alerts(request.user)
        receipt = services.alert_receive(
            agency_id=agency_id, data=_upload_bytes(request), via="upload", actor=request.user
        )
        alert = PartnerAlert.objects.prefetch_related("infos__areas").get(pk=receipt.alert.pk)
        return Response(
            PartnerAlertSerializer(alert).data,
            status=http_status.HTTP_201_CREATED if receipt.created else http_status.HTTP_200_OK,
        )
