"""Serializer fields that close gaps in DRF's defaults for a dispatch system.

DRF is lenient in two places that matter here: it silently reads a naive time
in the server's zone (a device clock without an offset would shift a fix by
hours), and ``FloatField`` takes ``true`` as 1.0. Both are refused instead,
naming the field, so bad input never reaches a service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry a UTC offset; always answered in UTC."""

    default_error_messages = {
        "naive": "Include a UTC offset, e.g. 2025-01-31T22:15:00Z.",
    }

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        # DRF would attach the server's zone to a naive time; a device without
        # an offset is refused instead of being silently shifted.
        if timezone.is_naive(value):
            self.fail("naive")
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            self.fail("overflow")
            raise  # unreachable: fail() raises; keeps type checkers content


@extend_schema_field(OpenApiTypes.DOUBLE)
class StrictFloatField(serializers.FloatField):
    """A finite number; booleans are refused rather than read as 0/1."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class StrictIntegerField(serializers.IntegerField):
    """A whole number within the database's 64-bit range; booleans and fractions refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_value", 2**63 - 1)
        kwargs.setdefault("min_value", -(2**63))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
        "example": "22:00:00",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day in the agency's zone, without an offset (a shift's regular hours).

    OpenAPI's ``format: time`` is RFC 3339's full-time, which requires an offset; these
    times have none on purpose (they repeat every day, across DST changes), so the schema
    says what they are: ``HH:MM[:SS]``.
    """
