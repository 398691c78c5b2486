"""The finding page's forms post to the page's own handlers, not to API routes (a URL name used
by both a page and the API made ``{% url %}`` return the API's address)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from governance.models import NeedToKnowGroup
from tests.tasking.conftest import make_finding

pytestmark = pytest.mark.django_db


def test_every_form_on_the_finding_page_posts_to_a_page(agency: Any, cast: dict[str, Any]) -> None:
    finding = make_finding(agency)
    group = NeedToKnowGroup.objects.create(agency=agency, name="Gang unit")
    group.members.add(cast["supervisor"])
    client = Client()
    client.force_login(cast["supervisor"])
    page = client.get(f"/patterns/findings/{finding.pk}/").content.decode()
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert f"/patterns/findings/{finding.pk}/need-to-know/" in actions
    for action in actions:
        assert not action.startswith("/api/"), action
        assert resolve(action.split("#")[0].split("?")[0]).url_name.startswith("finding-")
