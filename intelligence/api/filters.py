"""Query filters of the findings API; a value that does not parse is a 400 naming the parameter."""

from __future__ import annotations

from django_filters import rest_framework as filters

from dispatch.api.filters import IdFilter
from intelligence.choices import FindingKind, FindingStatus, RunStatus
from intelligence.models import AnalysisRun, Finding


class FindingFilter(filters.FilterSet):
    """Filters of the finding list."""

    kind = filters.MultipleChoiceFilter(choices=FindingKind.choices)
    status = filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    agency = IdFilter(field_name="agency_id")
    since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only findings created or changed at or after this time (ISO 8601).",
    )

    class Meta:
        model = Finding
        fields: list[str] = []


class AnalysisRunFilter(filters.FilterSet):
    """Filters of the run list."""

    kind = filters.MultipleChoiceFilter(choices=FindingKind.choices)
    status = filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = AnalysisRun
        fields: list[str] = []
