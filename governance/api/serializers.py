"""Shapes of the governance API: the read-only audit trail (never written through the API) and
legal holds."""

from __future__ import annotations

from rest_framework import serializers

from beacon_core.api.serializers import StrictInputSerializer
from governance.choices import HoldObject
from governance.models import AuditEvent, LegalHold


class AuditEventSerializer(serializers.ModelSerializer):
    """One event of the audit trail, with the hash-chain fields needed to re-verify it."""

    agency_code = serializers.CharField(source="agency.code", default=None, read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "at",
            "actor",
            "actor_username",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "justification",
            "ip",
            "user_agent",
            "agency",
            "agency_code",
            "details",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class LegalHoldSerializer(serializers.ModelSerializer):
    """A legal hold; the record is named by kind and number only."""

    record = serializers.CharField(source="record_label", read_only=True)
    # Null once the user is gone (SET_NULL), and released_by until the hold is released.
    placed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    released_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "object_type",
            "object_id",
            "record",
            "reason",
            "placed_by",
            "placed_at",
            "released_at",
            "released_by",
            "release_reason",
        ]
        read_only_fields = fields


class LegalHoldInput(StrictInputSerializer):
    """What to hold and why."""

    object_type = serializers.ChoiceField(choices=HoldObject.choices)
    object_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.CharField(max_length=2_000)


class LegalHoldReleaseInput(StrictInputSerializer):
    """Why the hold ends."""

    reason = serializers.CharField(max_length=2_000)
