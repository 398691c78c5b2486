"""API about the caller: who am I, and a device token for field phones."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api_permissions import IsAuthenticatedAnyRole
from governance.selectors import user_summary

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
