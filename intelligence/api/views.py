"""REST API of the intelligence domain: findings (list, detail, review decision) and runs.

Thin like the dispatch API: ``RolePermission`` gates each action on the FINDING category,
every finding is fetched through ``access_finding`` (another agency's is a 404), the decision
goes through ``services.finding_decide`` only, and domain errors become 400/403/404/409 in the
shared exception handler.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from beacon_core.api.need_to_know import NeedToKnowInput
from beacon_core.api.parsers import SafeJSONParser
from beacon_core.api.serializers import validated
from beacon_core.errors import NotFoundError
from governance.choices import Action, Category
from intelligence import selectors, services
from intelligence.api import serializers as s
from intelligence.api.filters import AnalysisRunFilter, FindingFilter
from intelligence.models import AnalysisRun, Finding
from intelligence.permissions import access_finding


class IntelligenceViewSet(viewsets.GenericViewSet):
    """Numeric ids only in URLs; JSON that cannot crash the parser."""

    access_category = Category.FINDING
    lookup_value_regex = r"[0-9]{1,18}"
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]


def _finding_row(finding: Finding) -> dict[str, Any]:
    return {
        **selectors.finding_as_dict(finding),
        "kind_label": finding.get_kind_display(),
        "updated_at": finding.updated_at.isoformat(),
    }


@extend_schema_view(
    list=extend_schema(
        summary="Findings the user may see, newest change first",
        responses=s.FindingSerializer(many=True),
    )
)
class FindingViewSet(mixins.ListModelMixin, IntelligenceViewSet):
    """Patterns analyses proposed, and how reviewers decided them."""

    # Reviewing is changing a finding: roles that may only view are refused before any lookup.
    access_actions = {"decision": Action.CHANGE, "need_to_know": Action.CHANGE}
    serializer_class = s.FindingSerializer
    filterset_class = FindingFilter
    ordering_fields = ["updated_at", "created_at", "id"]
    ordering = ["-updated_at", "-id"]

    def get_queryset(self) -> QuerySet[Finding]:
        return selectors.finding_queryset(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([_finding_row(f) for f in page or []])

    @extend_schema(
        summary="One finding with its evidence ids and decision history",
        responses=s.FindingDetailSerializer,
    )
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A finding the user may see (others are 404, like missing ones)."""
        finding = access_finding(request.user, pk)
        selectors.record_finding_view(request.user, finding)
        return Response(selectors.finding_detail_dict(user=request.user, finding=finding))

    @extend_schema(
        summary="Accept or dismiss a proposed finding, with a rationale",
        request=s.FindingDecisionInput,
        responses={
            200: s.FindingDetailSerializer,
            400: OpenApiResponse(description="A field is missing or invalid; the body names it."),
            403: OpenApiResponse(description="The role may view findings but not review them."),
            404: OpenApiResponse(description="No such finding, or another agency's."),
            409: OpenApiResponse(description="Already decided; body has `current`."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        """Record the decision (``finding_decide``); the finding is answered as it now stands."""
        finding = access_finding(request.user, pk, for_write=True)
        data = validated(s.FindingDecisionInput, request.data)
        finding = services.finding_decide(
            finding_id=finding.pk,
            reviewer=request.user,
            decision=data["decision"],
            rationale=data["rationale"],
        )
        return Response(selectors.finding_detail_dict(user=request.user, finding=finding))

    @extend_schema(
        summary="Limit a finding to need-to-know groups (an empty list lifts the limit)",
        request=NeedToKnowInput,
        responses={
            200: s.FindingDetailSerializer,
            400: OpenApiResponse(
                description="A group is unknown, of another agency, or yours is missing."
            ),
            404: OpenApiResponse(description="No such finding, or one you may not see."),
        },
    )
    @action(detail=True, methods=["post"], url_path="need-to-know", filter_backends=[])
    def need_to_know(self, request: Request, pk: str | None = None) -> Response:
        """``finding_need_to_know_set``."""
        data = validated(NeedToKnowInput, request.data)
        finding = services.finding_need_to_know_set(
            actor=request.user, finding_id=pk, group_ids=data["groups"]
        )
        return Response(selectors.finding_detail_dict(user=request.user, finding=finding))


def _run_row(run: AnalysisRun) -> dict[str, Any]:
    return {
        **selectors.run_as_dict(run),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


@extend_schema_view(
    list=extend_schema(
        summary="Analysis runs the user may see, newest first",
        responses=s.AnalysisRunSerializer(many=True),
    ),
    retrieve=extend_schema(summary="One analysis run", responses=s.AnalysisRunSerializer),
)
class AnalysisRunViewSet(mixins.ListModelMixin, IntelligenceViewSet):
    """Provenance of every analysis run: what ran, on which data, with what result (read only)."""

    serializer_class = s.AnalysisRunSerializer
    filterset_class = AnalysisRunFilter
    ordering_fields = ["started_at", "id"]
    ordering = ["-started_at", "-id"]

    def get_queryset(self) -> QuerySet[AnalysisRun]:
        return selectors.run_queryset(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([_run_row(r) for r in page or []])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        """A run of the user's agencies, or an all-agency run."""
        try:
            run = self.get_queryset().get(pk=int(pk or ""))
        except (ValueError, AnalysisRun.DoesNotExist):
            raise NotFoundError from None
        return Response(_run_row(run))
