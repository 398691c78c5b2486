"""LED Art. 11 / reference §3.4: special categories of personal data (ethnicity, religion, health,
political views, sex life…) are not features of the repeat-person or linking jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dispatch.models import Involvement, Person, Vehicle
from intelligence.runners.entities import (
    ENTITY_FEATURES,
    PERSON_LABEL_FIELDS,
    VEHICLE_LABEL_FIELDS,
    entities,
)
from tests.factories import CallFactory

# Words naming special-category data (GDPR Art. 9 / LED Art. 10) and protected characteristics
# a discriminating profile would use. Written out here, not imported: the test is the check.
SPECIAL_CATEGORY_TERMS = (
    "ethnic",
    "race",
    "racial",
    "religio",
    "belief",
    "faith",
    "politic",
    "views",
    "association",
    "union",
    "health",
    "medical",
    "disab",
    "sex",
    "gender",
    "orientation",
    "genetic",
    "biometric",
    "nationality",
    "descent",
    "description",
)
# The model fields that can hold such data (free text included), by model.
SPECIAL_FIELDS = {
    Person: {"sex", "description", "views_or_associations", "views_justification"},
    Vehicle: {"description"},
    Involvement: {"notes"},
}


def test_the_feature_lists_contain_no_special_category_data() -> None:
    for name in (*ENTITY_FEATURES, *PERSON_LABEL_FIELDS, *VEHICLE_LABEL_FIELDS):
        assert not [t for t in SPECIAL_CATEGORY_TERMS if t in name.lower()], name
    assert set(ENTITY_FEATURES) == {"person_id", "vehicle_id", "role"}


def test_the_special_fields_named_here_exist() -> None:
    # Keeps the list above honest when a model changes.
    for model, names in SPECIAL_FIELDS.items():
        existing = {f.name for f in model._meta.get_fields()}
        assert names <= existing, (model, names - existing)


@pytest.mark.django_db
def test_the_entity_job_never_reads_special_category_columns(agency) -> None:  # type: ignore[no-untyped-def]
    person = Person.objects.create(
        agency=agency,
        last_name="KANE",
        first_name="ROY",
        name_key="KANE|ROY",
        sex="M",
        description="Scar on the left hand, walks with a stick",
        views_or_associations="Member of a named street gang",
        views_related_to_criminal_conduct=True,
        views_justification="Gang membership directly linked to the robberies under investigation.",
    )
    now = timezone.now()
    for n in range(3):
        call = CallFactory(agency=agency, received_at=now - dt.timedelta(days=n + 1))
        Involvement.objects.create(call=call, person=person, role="suspect")
    with CaptureQueriesContext(connection) as queries:
        out = entities(as_of=now, agency_id=None)
    assert [d.subject_key for d in out.drafts] == [f"entity:person:{person.pk}:suspect"]
    sql = "\n".join(q["sql"] for q in queries.captured_queries).lower()
    for column in ("sex", "description", "views_or_associations", "views_justification", "notes"):
        assert f'"{column}"' not in sql and f"`{column}`" not in sql, column
    assert "Scar" not in out.drafts[0].explanation
