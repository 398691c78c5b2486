"""Shapes of the findings API: output serializers document the dicts the selectors build,
input serializers check a review decision before it reaches ``finding_decide``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from beacon_core.api.need_to_know import NeedToKnowGroupSerializer
from beacon_core.api.serializers import StrictInputSerializer
from intelligence.choices import Decision, FindingKind, FindingStatus, RunStatus
from intelligence.services import MAX_RATIONALE


class FindingKindField(serializers.ChoiceField):
    """One of the analysis kinds (``FindingKindEnum`` in the schema, see ENUM_NAME_OVERRIDES)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=FindingKind.choices, **kwargs)


class FindingStatusField(serializers.ChoiceField):
    """proposed, accepted, dismissed or expired (``FindingStatusEnum``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=FindingStatus.choices, **kwargs)


class FindingSubjectSerializer(serializers.Serializer):
    """What a finding is about: a location (address + point) or an area (H3 cells + centroid)."""

    key = serializers.CharField()
    type = serializers.CharField(required=False, help_text="location or area; absent for others.")
    location_id = serializers.IntegerField(required=False)
    address = serializers.CharField(required=False)
    display_address = serializers.CharField(required=False)
    cells = serializers.ListField(child=serializers.CharField(), required=False)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)


class FindingSerializer(serializers.Serializer):
    """A finding as the list shows it (``selectors.finding_as_dict``)."""

    id = serializers.IntegerField()
    kind = FindingKindField()
    kind_label = serializers.CharField()
    agency_id = serializers.IntegerField()
    status = FindingStatusField()
    subject = FindingSubjectSerializer()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    statistics = serializers.DictField(help_text="The analysis' numbers; keys depend on the kind.")
    explanation = serializers.CharField()
    first_run_id = serializers.IntegerField(allow_null=True)
    last_run_id = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class EvidenceIdsSerializer(serializers.Serializer):
    calls = serializers.ListField(child=serializers.IntegerField())
    observations = serializers.ListField(child=serializers.IntegerField())


class FindingDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    rationale = serializers.CharField()
    reviewer = serializers.CharField(help_text="Username of the reviewer.")
    reviewer_name = serializers.CharField()
    decided_at = serializers.DateTimeField()


class FindingDetailSerializer(FindingSerializer):
    """A finding with the evidence the caller may open and its review history."""

    evidence = EvidenceIdsSerializer()
    decisions = FindingDecisionSerializer(many=True)
    need_to_know = NeedToKnowGroupSerializer(many=True)


class FindingDecisionInput(StrictInputSerializer):
    """Accept or dismiss, with the reason (required: a decision without one is refused)."""

    decision = serializers.ChoiceField(choices=Decision.choices)
    rationale = serializers.CharField(max_length=MAX_RATIONALE)


class AnalysisRunSerializer(serializers.Serializer):
    """One analysis run's provenance (``selectors.run_as_dict``)."""

    id = serializers.IntegerField()
    kind = FindingKindField()
    agency_id = serializers.IntegerField(allow_null=True, help_text="Null: every agency.")
    method = serializers.CharField()
    method_version = serializers.CharField()
    parameters = serializers.DictField()
    as_of = serializers.DateTimeField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    input_hash = serializers.CharField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    counts = serializers.DictField(help_text="created / updated / expired findings.")
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
