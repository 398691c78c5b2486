"""Query-string parameters of the export endpoints (checked here; a bad one is a 400 naming it)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dispatch.choices import CallStatus
from dispatch.models import CallType
from intelligence.choices import FindingKind, FindingStatus
from tasking.choices import AssignmentKind, AssignmentStatus


class ListParam(serializers.ListField):
    """A repeated or comma-separated query parameter (``?status=a&status=b`` or ``?status=a,b``)."""

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name not in dictionary:
            return serializers.empty
        raw = (
            dictionary.getlist(self.field_name)
            if hasattr(dictionary, "getlist")
            else [dictionary[self.field_name]]
        )
        return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def _choices(choices: list[tuple[str, str]], help_text: str) -> ListParam:
    return ListParam(
        child=serializers.ChoiceField(choices=choices), required=False, help_text=help_text
    )


def _base_fields() -> dict[str, serializers.Field]:
    return {
        "purpose": serializers.CharField(
            max_length=500,
            help_text="Why the data leaves the system (recorded on the audit trail). Required.",
        ),
        "recipient": serializers.CharField(
            max_length=200,
            required=False,
            allow_blank=True,
            default="",
            help_text="Who receives it (a person, a body, an agency). Recorded with the purpose.",
        ),
        "from": serializers.DateField(
            required=False, help_text="First day (ISO date, agency time zone), included."
        ),
        "to": serializers.DateField(
            required=False, help_text="Last day (ISO date, agency time zone), included."
        ),
    }


class _ExportQuery(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("purpose", "").strip():
            raise serializers.ValidationError({"purpose": ["Say why the data is exported."]})
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and end < start:
            raise serializers.ValidationError({"to": ["The last day is before the first."]})
        return attrs


def _query(name: str, extra: dict[str, serializers.Field]) -> type[serializers.Serializer]:
    # ``from`` is a Python keyword, so the serializers are built from a mapping of fields.
    return type(name, (_ExportQuery,), {**_base_fields(), **extra})


class _CallTypes(ListParam):
    def to_internal_value(self, data: Any) -> list[str]:
        codes = super().to_internal_value(data)
        known = set(CallType.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = sorted(set(codes) - known)
        if unknown:
            raise serializers.ValidationError(f"Unknown call type(s): {', '.join(unknown)}.")
        return codes


_FINDING_KINDS = [c for c in FindingKind.choices if c[0] != FindingKind.ENTITY]

CallExportQuery = _query(
    "CallExportQuery",
    {
        "type": _CallTypes(
            child=serializers.CharField(max_length=32),
            required=False,
            help_text="Call type codes.",
        ),
        "status": _choices(CallStatus.choices, "Call statuses."),
    },
)
LocationExportQuery = _query("LocationExportQuery", {})
FindingExportQuery = _query(
    "FindingExportQuery",
    {
        "kind": _choices(_FINDING_KINDS, "Finding kinds (entity findings are never exported)."),
        "status": _choices(FindingStatus.choices, "Finding statuses."),
    },
)
HotspotExportQuery = _query(
    "HotspotExportQuery", {"status": _choices(FindingStatus.choices, "Finding statuses.")}
)
AssignmentExportQuery = _query(
    "AssignmentExportQuery",
    {
        "kind": _choices(AssignmentKind.choices, "Assignment kinds."),
        "status": _choices(AssignmentStatus.choices, "Assignment statuses."),
    },
)
