"""Read-only shape of an audit event in the API (the trail is never written through the API)."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import AuditEvent


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
