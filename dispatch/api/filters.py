"""Query filters of the dispatch API (django-filter).

A filter value that does not parse is a 400 naming the parameter (django-filter
raises it through DRF), never an empty list that looks like "no results".
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django_filters import rest_framework as filters

from dispatch.addressing import (
    AddressError,
    name_key,
    normalize_address,
    normalize_locality,
    normalize_plate,
    normalize_state,
)
from dispatch.choices import (
    OPEN_CALL_STATUSES,
    CallSource,
    CallStatus,
    InvolvementRole,
    LocationKind,
    ObservationCategory,
    UnitKind,
    UnitStatus,
)
from dispatch.models import (
    Call,
    CallType,
    Disposition,
    FieldObservation,
    Involvement,
    Location,
    Person,
    Unit,
    Vehicle,
)

MAX_ID = 2**63 - 1
PRIORITIES = [(i, str(i)) for i in range(1, 6)]


class IdFilter(filters.NumberFilter):
    """A record id: a positive whole number within the database's range."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or 1/0); anything else is an error instead of "no filter"."""

    def to_python(self, value: Any) -> bool | None:
        result = super().to_python(value)
        if result is None and value not in (None, ""):
            raise forms.ValidationError("Use true or false.", code="invalid")
        return result


class StrictBooleanFilter(filters.BooleanFilter):
    """A boolean parameter that refuses values it cannot read."""

    field_class = _StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # django-filter's BooleanWidget turns unreadable text into None before
        # the field sees it; a plain text input lets the field refuse it.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class SearchFilter(filters.CharFilter):
    """A bounded free-text search parameter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)


class CallFilter(filters.FilterSet):
    """Filters of the call list."""

    status = filters.MultipleChoiceFilter(choices=CallStatus.choices)
    priority = filters.MultipleChoiceFilter(choices=PRIORITIES)
    call_type = SearchFilter(method="filter_call_type", help_text="Call type code, e.g. THEFT.")
    source = filters.MultipleChoiceFilter(choices=CallSource.choices)
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    open = StrictBooleanFilter(method="filter_open", help_text="true: only open calls.")
    location = IdFilter(field_name="location_id")
    number = SearchFilter(field_name="number")

    class Meta:
        model = Call
        fields: list[str] = []

    def filter_call_type(self, qs: QuerySet[Call], name: str, value: str) -> QuerySet[Call]:
        return qs.filter(call_type__code=value.strip().upper())

    def filter_open(self, qs: QuerySet[Call], name: str, value: bool | None) -> QuerySet[Call]:
        if value is None:
            return qs
        if value:
            return qs.filter(status__in=OPEN_CALL_STATUSES)
        return qs.exclude(status__in=OPEN_CALL_STATUSES)


class UnitFilter(filters.FilterSet):
    """Filters of the unit list."""

    status = filters.MultipleChoiceFilter(choices=UnitStatus.choices)
    kind = filters.MultipleChoiceFilter(choices=UnitKind.choices)

    class Meta:
        model = Unit
        fields: list[str] = []


class LocationFilter(filters.FilterSet):
    """Filters of the location list; ``q`` finds a place however the address was spelled."""

    q = SearchFilter(
        method="filter_q",
        help_text='Address search: "123 n main st apt 4" finds "123 N MAIN ST #4"; prefixes match.',
    )
    kind = filters.MultipleChoiceFilter(choices=LocationKind.choices)
    locality = SearchFilter(method="filter_locality")

    class Meta:
        model = Location
        fields: list[str] = []

    def filter_q(self, qs: QuerySet[Location], name: str, value: str) -> QuerySet[Location]:
        return locations_matching(qs, value)

    def filter_locality(self, qs: QuerySet[Location], name: str, value: str) -> QuerySet[Location]:
        return qs.filter(locality=normalize_locality(value))


def locations_matching(qs: QuerySet[Location], text: str) -> QuerySet[Location]:
    """Places whose key equals or starts with the normalised query, exact matches first.

    The query goes through the same normaliser as stored addresses, so any
    spelling of a place finds it; the raw upper-cased text is also tried as a
    prefix because a half-typed address ("123 N MA") may normalise oddly.
    """
    text = (text or "").strip()
    if not text:
        return qs
    raw = " ".join(text.upper().replace(",", " ").split())
    try:
        key = normalize_address(text).key
    except AddressError:
        key = raw
    return (
        qs.filter(
            Q(address_key=key) | Q(address_key__startswith=key) | Q(address_key__startswith=raw)
        )
        .annotate(
            _exact=Case(
                When(address_key=key, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("_exact", "address_key", "locality")
    )


class ObservationFilter(filters.FilterSet):
    """Filters of the observation list."""

    category = filters.MultipleChoiceFilter(choices=ObservationCategory.choices)
    observed_after = filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="gte")
    observed_before = filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="lt")
    call = IdFilter(field_name="call_id")
    location = IdFilter(field_name="location_id")

    class Meta:
        model = FieldObservation
        fields: list[str] = []


class PersonFilter(filters.FilterSet):
    """Filters of the person list; ``name`` accepts "Smith", "Smith, Jo" or "Jo Smith"."""

    name = SearchFilter(method="filter_name")
    date_of_birth = filters.DateFilter()

    class Meta:
        model = Person
        fields: list[str] = []

    def filter_name(self, qs: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        value = value.strip()
        if not value:
            return qs
        if "," in value:
            last, first = value.split(",", 1)
            return qs.filter(name_key__startswith=name_key(last, first).rstrip("|"))
        words = value.split()
        if len(words) == 1:
            return qs.filter(name_key__startswith=name_key(words[0]))
        # "Jo Smith" or "Smith Jo": people say names in both orders.
        first_last = name_key(words[-1], " ".join(words[:-1])).rstrip("|")
        last_first = name_key(words[0], " ".join(words[1:])).rstrip("|")
        return qs.filter(Q(name_key__startswith=first_last) | Q(name_key__startswith=last_first))


class VehicleFilter(filters.FilterSet):
    """Filters of the vehicle list; plates match however they were typed ("abc-123" = "ABC123")."""

    plate = SearchFilter(method="filter_plate", help_text="Plate or its beginning.")
    plate_state = SearchFilter(method="filter_plate_state")
    make = SearchFilter(field_name="make", lookup_expr="icontains")

    class Meta:
        model = Vehicle
        fields: list[str] = []

    def filter_plate(self, qs: QuerySet[Vehicle], name: str, value: str) -> QuerySet[Vehicle]:
        plate = normalize_plate(value)
        return qs.filter(plate__startswith=plate) if plate else qs.none()

    def filter_plate_state(self, qs: QuerySet[Vehicle], name: str, value: str) -> QuerySet[Vehicle]:
        return qs.filter(plate_state=normalize_state(value))


class InvolvementFilter(filters.FilterSet):
    """Filters of the involvement list."""

    role = filters.MultipleChoiceFilter(choices=InvolvementRole.choices)
    person = IdFilter(field_name="person_id")
    vehicle = IdFilter(field_name="vehicle_id")
    call = IdFilter(field_name="call_id")
    observation = IdFilter(field_name="observation_id")

    class Meta:
        model = Involvement
        fields: list[str] = []


class CallTypeFilter(filters.FilterSet):
    """Filters of the call type list."""

    active = StrictBooleanFilter()
    category = SearchFilter(field_name="category")

    class Meta:
        model = CallType
        fields: list[str] = []


class DispositionFilter(filters.FilterSet):
    """Filters of the disposition list."""

    active = StrictBooleanFilter()

    class Meta:
        model = Disposition
        fields: list[str] = []
