"""Intake flags and live-map areas (plain words about accepted findings, shown to call-takers)
leave out findings limited to need-to-know groups the reader is outside of."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from dispatch.models import Location
from governance.models import NeedToKnowGroup
from intelligence.choices import FindingKind
from intelligence.context_provider import accepted_hotspot_areas, intelligence_flags
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(agency: Any, cast: dict[str, Any]) -> Any:
    """A problem-location finding limited to a group the supervisor is in, the dispatcher not."""
    finding = make_finding(agency, explanation="Informant's address: seven visits.")
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    group.members.add(cast["supervisor"])
    finding.need_to_know.add(group)
    return finding


def _details(user: Any, location: Location) -> list[str]:
    return [f.detail for f in intelligence_flags(user, location, None, None)]


def test_a_limited_finding_is_no_intake_flag_outside_its_groups(cast, limited):
    assert _details(cast["dispatcher"], limited.location) == []


def test_members_still_get_the_flag(cast, limited):
    assert _details(cast["supervisor"], limited.location) == [limited.explanation]


def test_a_limited_hotspot_is_no_map_area_outside_its_groups(agency, cast):
    hotspot = make_finding(
        agency, kind=FindingKind.HOTSPOT, cells=["89489c1ad83ffff"], explanation="Hot block."
    )
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    hotspot.need_to_know.add(group)
    assert accepted_hotspot_areas(cast["dispatcher"]) == []
    group.members.add(cast["dispatcher"])
    fresh = get_user_model().objects.get(pk=cast["dispatcher"].pk)  # group ids are cached per user
    assert [a["detail"] for a in accepted_hotspot_areas(fresh)] == ["Hot block."]
