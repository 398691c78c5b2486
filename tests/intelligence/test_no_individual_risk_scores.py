"""EU AI Act Art. 5(1)(d) / reference §3.5: no model or endpoint outputs a per-person probability
(or score) of offending. Person-level output is factual counts of recorded involvement, per role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from dispatch.models import Involvement, Person, Vehicle
from intelligence.runners.entities import entities
from tests.factories import CallFactory

SCORE_WORDS = re.compile(
    r"prob|risk|score|likelihood|propensity|predict|danger|threat_level", re.IGNORECASE
)
PROJECT_APPS = ("dispatch", "intelligence", "tasking", "governance", "beacon_core")
# What an entity finding may say about a person or vehicle: who, in which role, how often, when.
ENTITY_STATISTICS = {"entity", "entity_id", "role", "incidents", "calls", "observations"}
LINK_STATISTICS = {"incidents", "persons", "vehicles", "person_ids", "vehicle_ids"}


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def test_no_api_field_is_a_score_or_probability() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = [
        name
        for component in schema["components"]["schemas"].values()
        for name in component.get("properties", {})
    ]
    assert "last_name" in properties  # the walk reaches the person schema
    assert [k for k in _keys(schema) if SCORE_WORDS.search(k)] == []


def test_no_model_field_is_a_score_or_probability() -> None:
    fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for field in model._meta.get_fields()
    ]
    assert any(name == "dispatch.Person.last_name" for name in fields)
    assert [name for name in fields if SCORE_WORDS.search(name.split(".")[-1])] == []


@pytest.mark.django_db
def test_entity_findings_are_counts_of_recorded_involvement(agency) -> None:  # type: ignore[no-untyped-def]
    person = Person.objects.create(agency=agency, last_name="KANE", name_key="KANE|")
    vehicle = Vehicle.objects.create(agency=agency, plate="ABC123", plate_state="TX")
    now = timezone.now()
    for n in range(3):
        call = CallFactory(agency=agency, received_at=now - dt.timedelta(days=n + 1))
        Involvement.objects.create(call=call, person=person, role="suspect")
        Involvement.objects.create(call=call, vehicle=vehicle, role="owner")
    drafts = entities(as_of=now, agency_id=None).drafts
    kinds = {d.subject_key.split(":")[0] for d in drafts}
    assert kinds == {"entity", "links"}
    for draft in drafts:
        allowed = ENTITY_STATISTICS if draft.subject_key.startswith("entity:") else LINK_STATISTICS
        assert set(draft.statistics) <= allowed | {"window_days"}, draft.statistics
        for value in draft.statistics.values():
            # Counts, ids, labels: never a fraction that could read as a probability.
            assert not isinstance(value, float), draft.statistics
        assert not SCORE_WORDS.search(draft.explanation), draft.explanation
