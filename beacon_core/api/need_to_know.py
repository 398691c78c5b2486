"""API shapes of need-to-know limits, shared by persons (dispatch) and findings (intelligence)."""

from rest_framework import serializers

from beacon_core.api.fields import StrictIntegerField
from beacon_core.api.serializers import StrictInputSerializer


class NeedToKnowGroupSerializer(serializers.Serializer):
    """A need-to-know group a record is limited to."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class NeedToKnowInput(StrictInputSerializer):
    """The need-to-know groups to limit a record to; an empty list lifts the limit."""

    groups = serializers.ListField(
        child=StrictIntegerField(min_value=1), max_length=50, allow_empty=True
    )
