"""Serializers of the tasking API: read shapes for boards and devices, input shapes for writes.

Input serializers check types and lengths only; the services own every business rule (area,
windows and dosage shapes, accepted findings, assignees) and name the field they refuse.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beacon_core.api.fields import StrictIntegerField, WallClockTimeField
from beacon_core.api.serializers import StrictInputSerializer
from tasking.choices import OUTCOME_STATUSES, AssignmentKind, AssignmentStatus
from tasking.models import Assignment, AssignmentEvent, AssignmentReport, Shift
from tasking.services import MAX_NOTE, MAX_OBJECTIVE, MAX_OBSERVATIONS_PER_REPORT


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class AssigneeSerializer(serializers.Serializer):
    """Exactly one of unit, user or shift is set; ``label`` says it as people do."""

    unit = serializers.IntegerField(allow_null=True)
    unit_call_sign = serializers.CharField(allow_null=True)
    user = serializers.IntegerField(allow_null=True)
    user_name = serializers.CharField(allow_null=True)
    shift = serializers.IntegerField(allow_null=True)
    shift_name = serializers.CharField(allow_null=True)
    label = serializers.CharField()


class AssignmentSerializer(serializers.ModelSerializer):
    """An assignment as boards and devices show it."""

    # Enums named AssignmentKindEnum / AssignmentStatusEnum by ENUM_NAME_OVERRIDES: other apps'
    # "kind" and "status" are different choice sets.
    kind = serializers.ChoiceField(choices=AssignmentKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.ChoiceField(choices=AssignmentStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    assignee = serializers.SerializerMethodField()
    area = serializers.JSONField(help_text="{type: circle|cells|polygon, ...}")
    windows = serializers.JSONField(help_text="Time-window specs, as given.")
    dosage = serializers.JSONField(help_text="{minutes_per_visit, visits_per_window} or {}.")
    issued_by = serializers.SerializerMethodField()
    acknowledged_by = serializers.SerializerMethodField()
    started_by = serializers.SerializerMethodField()
    finished_by = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = [
            "id",
            "agency",
            "finding",
            "manual",
            "kind",
            "kind_label",
            "objective",
            "area",
            "windows",
            "dosage",
            "assignee",
            "priority",
            "status",
            "status_label",
            "briefing",
            "issued_at",
            "issued_by",
            "acknowledged_at",
            "acknowledged_by",
            "started_at",
            "started_by",
            "finished_at",
            "finished_by",
            "cancelled_at",
            "cancelled_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(AssigneeSerializer)
    def get_assignee(self, obj: Assignment) -> dict[str, Any]:
        unit, user, shift = obj.assignee_unit, obj.assignee_user, obj.assignee_shift
        return {
            "unit": obj.assignee_unit_id,
            "unit_call_sign": unit.call_sign if unit else None,
            "user": obj.assignee_user_id,
            "user_name": (user.get_full_name() or user.get_username()) if user else None,
            "shift": obj.assignee_shift_id,
            "shift_name": shift.name if shift else None,
            "label": obj.assignee_label,
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_issued_by(self, obj: Assignment) -> str | None:
        return _username(obj.issued_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by(self, obj: Assignment) -> str | None:
        return _username(obj.acknowledged_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_started_by(self, obj: Assignment) -> str | None:
        return _username(obj.started_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_finished_by(self, obj: Assignment) -> str | None:
        return _username(obj.finished_by)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cancelled_by(self, obj: Assignment) -> str | None:
        return _username(obj.cancelled_by)


class AssignmentEventSerializer(serializers.ModelSerializer):
    """One lifecycle step."""

    actor = serializers.SerializerMethodField()
    to_status = serializers.CharField()

    class Meta:
        model = AssignmentEvent
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, obj: AssignmentEvent) -> str | None:
        return _username(obj.actor)


class AssignmentReportSerializer(serializers.ModelSerializer):
    """A report-back from the field."""

    author = serializers.SerializerMethodField()
    observations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = AssignmentReport
        fields = ["id", "author", "at", "notes", "contacts_made", "observations", "client_ref"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_author(self, obj: AssignmentReport) -> str | None:
        return _username(obj.author)


class AssignmentDetailSerializer(AssignmentSerializer):
    """An assignment with its timeline and report-backs."""

    events = AssignmentEventSerializer(many=True, read_only=True)
    reports = AssignmentReportSerializer(many=True, read_only=True)

    class Meta(AssignmentSerializer.Meta):
        fields = [*AssignmentSerializer.Meta.fields, "events", "reports"]
        read_only_fields = fields


# --- input ---------------------------------------------------------------------------------


def _optional_id(**kwargs: Any) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, required=False, allow_null=True, **kwargs)


class AssignmentCreateInput(StrictInputSerializer):
    """A new assignment: from an accepted finding (``finding``) or manual (no ``finding``)."""

    finding = _optional_id(help_text="An accepted finding's id; leave out for a manual assignment.")
    kind = serializers.CharField(
        max_length=24,
        help_text=f"One of: {', '.join(AssignmentKind.values)} (checked by the service).",
    )
    objective = serializers.CharField(max_length=MAX_OBJECTIVE)
    area = serializers.JSONField(
        help_text='{"type": "circle", "latitude", "longitude", "radius_m"} | '
        '{"type": "cells", "cells": [...]} | {"type": "polygon", "points": [[lat, lon], ...]}'
    )
    windows = serializers.JSONField(help_text="Non-empty list of time-window objects.")
    dosage = serializers.JSONField(
        required=False, help_text='{"minutes_per_visit": 15, "visits_per_window": 2} or {}.'
    )
    assignee_unit = _optional_id(help_text="Unit id (exactly one assignee).")
    assignee_user = _optional_id(help_text="User id (exactly one assignee).")
    assignee_shift = _optional_id(help_text="Shift id (exactly one assignee).")
    priority = StrictIntegerField(min_value=1, max_value=5, required=False)
    issue = serializers.BooleanField(required=False, help_text="Issue at once (default: draft).")


class AssignmentFinishInput(StrictInputSerializer):
    """How it ended."""

    outcome = serializers.ChoiceField(choices=sorted(OUTCOME_STATUSES))
    note = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True)


class AssignmentCancelInput(StrictInputSerializer):
    """Why it is withdrawn."""

    reason = serializers.CharField(max_length=MAX_NOTE, required=False, allow_blank=True)


class AssignmentReportInput(StrictInputSerializer):
    """A report-back; ``client_ref`` (chosen by the device) makes a re-send store it once."""

    notes = serializers.CharField(max_length=MAX_NOTE)
    contacts_made = StrictIntegerField(min_value=0, max_value=10_000, required=False)
    observation_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        max_length=MAX_OBSERVATIONS_PER_REPORT,
        required=False,
    )
    client_ref = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ShiftSerializer(serializers.ModelSerializer):
    """A shift as an assignee: its regular hours (agency time) and who is on it."""

    members = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    starts_at = WallClockTimeField(read_only=True, help_text="Regular start, agency time.")
    ends_at = WallClockTimeField(
        read_only=True, help_text="Regular end, agency time (at or before start: next day)."
    )

    class Meta:
        model = Shift
        fields = ["id", "name", "starts_at", "ends_at", "members", "units", "active"]
        read_only_fields = fields
