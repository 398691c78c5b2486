"""Export endpoints: GeoJSON and CSV files of what the user may see, each one audited.

Thin: ``RolePermission`` refuses a role without EXPORT on the dataset's category (403) before
anything is read; the query string is checked by a serializer (400 naming the field); rows come
from ``exports.selectors`` (the ``*_visible_to`` selectors plus the filters); the one write is
``services.export_record``. A set larger than ``BEACON_EXPORT_MAX_ROWS`` is refused with 400
rather than cut: a disseminated file must hold exactly what the audit trail says it holds.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from beacon_core.csv_safe import Echo, cell
from beacon_core.errors import DomainError
from exports import selectors
from exports.api import serializers as s
from exports.refusal import refused_page, wants_page
from exports.services import export_record
from governance.choices import Action, Category
from governance.selectors import audit_zone

GEOJSON = "application/geo+json"
CSV = "text/csv; charset=utf-8"


class _AnyAccept(BaseContentNegotiation):
    """The file's type is fixed by the URL; a client asking for geo+json must not get a 406."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """One dataset in one format. Subclasses name the dataset, category and how rows look."""

    content_negotiation_class = _AnyAccept
    # Every method asks for EXPORT, so a role without it gets 403 whatever it sends, and one with
    # it gets 405 for anything but GET (rather than answers that depend on unrelated rights).
    access_actions = dict.fromkeys(
        ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), Action.EXPORT
    )
    access_category: str = ""
    dataset: str = ""
    fmt: str = ""
    object_type: str = ""
    query_serializer: type[serializers.Serializer] = s.LocationExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        raise NotImplementedError

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        response = super().handle_exception(exc)
        # The pages' Export form lands here directly: a person gets the errors on a page.
        if response.status_code == 400 and wants_page(self.request):
            return refused_page(self.request._request, getattr(response, "data", None))
        return response

    def get(self, request: Request) -> HttpResponseBase:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = selectors.ExportFilters(
            date_from=data.get("from"),
            date_to=data.get("to"),
            zone=audit_zone(request.user),
            call_type=tuple(data.get("type", ())),
            status=tuple(data.get("status", ())),
            kind=tuple(data.get("kind", ())),
        )
        qs = self.rows(request.user, filters)
        count = qs.count()
        limit = settings.BEACON_EXPORT_MAX_ROWS
        if count > limit:
            raise DomainError(
                {
                    "non_field_errors": [
                        f"{count} rows match; an export holds at most {limit}. "
                        "Narrow the range (from, to) or the other filters."
                    ]
                }
            )
        columns = self.columns(request.user)
        export_record(
            user=request.user,
            dataset=self.dataset,
            fmt=self.fmt,
            object_type=self.object_type,
            filters=filters.as_params(),
            count=count,
            purpose=data["purpose"].strip(),
            recipient=data.get("recipient", "").strip(),
            columns=list(columns) if columns is not None else None,
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        if self.fmt == "csv" and columns is not None:
            writer = csv.writer(Echo())
            stream = (writer.writerow(row) for row in self.csv_rows(qs, columns))
            response = StreamingHttpResponse(stream, content_type=CSV)
        else:
            response = StreamingHttpResponse(self.geojson_chunks(qs, columns), content_type=GEOJSON)
        response["Content-Disposition"] = (
            f'attachment; filename="beacon-{self.dataset}-{stamp}.{self.extension()}"'
        )
        response["X-Export-Rows"] = str(count)
        return response

    def extension(self) -> str:
        return "csv" if self.fmt == "csv" else "geojson"

    def columns(self, user: Any) -> tuple[str, ...] | None:
        return None

    def feature(self, row: Any, columns: tuple[str, ...] | None) -> dict[str, Any]:
        raise NotImplementedError

    def values(self, row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
        raise NotImplementedError

    def csv_rows(self, qs: QuerySet[Any], columns: tuple[str, ...]) -> Iterator[list[str]]:
        yield list(columns)
        for row in selectors.batched(qs):
            values = self.values(row, columns)
            yield [cell(values[c]) for c in columns]

    def geojson_chunks(self, qs: QuerySet[Any], columns: tuple[str, ...] | None) -> Iterator[str]:
        # Streamed feature by feature; RFC 7946 has no "crs" member (WGS84 lon/lat is implied).
        yield '{"type": "FeatureCollection", "features": ['
        for i, row in enumerate(selectors.batched(qs)):
            text = json.dumps(self.feature(row, columns), ensure_ascii=False, allow_nan=False)
            yield ("," if i else "") + "\n" + text
        yield "\n]}\n"


# The outline of what the GeoJSON exports stream (RFC 7946); the columns vary by role.
GEOJSON_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object"},
                },
            },
        },
    },
    "required": ["type", "features"],
}


def _schema(
    summary: str, query: type[serializers.Serializer], media: str, operation_id: str
) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[query],
        responses={
            (200, media): OpenApiResponse(
                GEOJSON_SCHEMA if media == GEOJSON else OpenApiTypes.BINARY,
                description="The file.",
            ),
            (400, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="A parameter is missing or wrong (named)."
            ),
            (403, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="No export right on this data."
            ),
        },
        tags=["exports"],
    )


class _CallExport(ExportView):
    access_category = Category.CALL
    dataset = "calls"
    object_type = "dispatch.call"
    query_serializer = s.CallExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        return selectors.calls_for_export(user=user, filters=filters)

    def columns(self, user: Any) -> tuple[str, ...]:
        return selectors.call_columns(user)

    def values(self, row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
        return selectors.call_values(row, columns)

    def feature(self, row: Any, columns: tuple[str, ...] | None) -> dict[str, Any]:
        return selectors.call_feature(row, columns or selectors.CALL_COLUMNS)


class CallGeoJsonExport(_CallExport):
    """Calls as GeoJSON Points."""

    fmt = "geojson"

    @_schema(
        "Calls the user may see, as GeoJSON (audited export)",
        s.CallExportQuery,
        GEOJSON,
        "exports_calls_geojson",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class CallCsvExport(_CallExport):
    """Calls as CSV."""

    fmt = "csv"

    @_schema(
        "Calls the user may see, as CSV (audited export)",
        s.CallExportQuery,
        "text/csv",
        "exports_calls_csv",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class LocationGeoJsonExport(ExportView):
    """Places (with coordinates) as GeoJSON Points; never their premise notes."""

    access_category = Category.LOCATION
    dataset = "locations"
    object_type = "dispatch.location"
    fmt = "geojson"
    query_serializer = s.LocationExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        return selectors.locations_for_export(user=user, filters=filters)

    def feature(self, row: Any, columns: tuple[str, ...] | None) -> dict[str, Any]:
        return selectors.location_feature(row)

    @_schema(
        "Places, as GeoJSON (audited export)",
        s.LocationExportQuery,
        GEOJSON,
        "exports_locations_geojson",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class _FindingExport(ExportView):
    access_category = Category.FINDING
    dataset = "findings"
    object_type = "intelligence.finding"
    query_serializer = s.FindingExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        return selectors.findings_for_export(user=user, filters=filters)

    def columns(self, user: Any) -> tuple[str, ...] | None:
        return selectors.FINDING_COLUMNS if self.fmt == "csv" else None

    def values(self, row: Any, columns: tuple[str, ...]) -> dict[str, Any]:
        return selectors.finding_values(row)

    def feature(self, row: Any, columns: tuple[str, ...] | None) -> dict[str, Any]:
        return selectors.finding_feature(row)


class FindingGeoJsonExport(_FindingExport):
    """Findings: place findings as Points, area findings as the outline of their H3 cells."""

    fmt = "geojson"

    @_schema(
        "Findings the user may see, as GeoJSON (audited export)",
        s.FindingExportQuery,
        GEOJSON,
        "exports_findings_geojson",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class FindingCsvExport(_FindingExport):
    """Findings as CSV."""

    fmt = "csv"

    @_schema(
        "Findings the user may see, as CSV (audited export)",
        s.FindingExportQuery,
        "text/csv",
        "exports_findings_csv",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class HotspotGeoJsonExport(_FindingExport):
    """Hotspot findings as the outlines of their H3 cells."""

    dataset = "hotspots"
    fmt = "geojson"
    query_serializer = s.HotspotExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        return selectors.findings_for_export(user=user, filters=filters, hotspots_only=True)

    @_schema(
        "Hotspots the user may see, as GeoJSON (audited export)",
        s.HotspotExportQuery,
        GEOJSON,
        "exports_hotspots_geojson",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)


class AssignmentAreaGeoJsonExport(ExportView):
    """Assignment areas: circles as 64-sided polygons, cells as outlines, polygons as they are."""

    access_category = Category.ASSIGNMENT
    dataset = "assignment-areas"
    object_type = "tasking.assignment"
    fmt = "geojson"
    query_serializer = s.AssignmentExportQuery

    def rows(self, user: Any, filters: selectors.ExportFilters) -> QuerySet[Any]:
        return selectors.assignments_for_export(user=user, filters=filters)

    def feature(self, row: Any, columns: tuple[str, ...] | None) -> dict[str, Any]:
        return selectors.assignment_feature(row)

    @_schema(
        "Assignment areas the user may see, as GeoJSON (audited export)",
        s.AssignmentExportQuery,
        GEOJSON,
        "exports_assignment_areas_geojson",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return super().get(request)
