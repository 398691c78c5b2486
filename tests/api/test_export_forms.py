"""The Export form on the calls page, the patterns dashboard and the tasking board."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _page(cast, role: str, url: str) -> str:
    client = Client()
    client.force_login(cast[role])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_patterns_dashboard_offers_findings_and_hotspots_to_analysts(cast) -> None:
    page = _page(cast, "analyst", "/patterns/")
    assert 'id="export-form"' in page
    assert 'name="purpose" required' in page
    for url in ("findings.csv", "findings.geojson", "hotspots.geojson"):
        assert f'formaction="/api/v1/exports/{url}"' in page


def test_supervisors_get_no_findings_export_but_the_board_offers_areas(cast) -> None:
    assert 'id="export-form"' not in _page(cast, "supervisor", "/patterns/")
    board = _page(cast, "supervisor", "/tasking/")
    assert 'formaction="/api/v1/exports/assignment-areas.geojson"' in board


def test_calls_page_offers_what_the_role_may_export(cast) -> None:
    page = _page(cast, "analyst", "/calls/")
    assert 'formaction="/api/v1/exports/calls.csv"' in page
    assert 'formaction="/api/v1/exports/locations.geojson"' in page
    assert 'id="export-form"' not in _page(cast, "dispatcher", "/calls/")


def test_call_page_offers_the_eido_export_to_roles_with_the_export_right(cast, make_call) -> None:
    call = make_call()
    url = f"/calls/{call.pk}/"
    page = _page(cast, "supervisor", url)
    assert 'id="eido-form"' in page
    assert f'action="/api/v1/calls/{call.pk}/eido/"' in page
    assert 'name="recipient" required' in page
    assert 'id="eido-form"' not in _page(cast, "dispatcher", url)
    client = Client()
    client.force_login(cast["supervisor"])
    response = client.get(
        f"/api/v1/calls/{call.pk}/eido/", {"purpose": "mutual aid", "recipient": "County CAD"}
    )
    assert response.status_code == 200
    assert response.json()["eidoVersion"] == "1.0"


def test_a_refused_export_from_the_form_is_a_page_naming_the_field_not_json(cast) -> None:
    client = Client()
    client.force_login(cast["supervisor"])
    url = "/api/v1/exports/calls.csv"
    query = {"purpose": "review", "recipient": "council", "from": "2026-02-01", "to": "2026-01-01"}
    browser = client.get(
        url, query, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8", HTTP_REFERER="/calls/"
    )
    assert browser.status_code == 400 and browser["Content-Type"].startswith("text/html")
    page = browser.content.decode()
    assert "<strong>To</strong>: The last day is before the first." in page
    assert 'value="council"' in page and 'formaction="/api/v1/exports/calls.csv"' in page
    assert 'href="/calls/" id="export-back"' in page
    # Another site's page is not linked back to.
    outside = client.get(url, query, HTTP_ACCEPT="text/html", HTTP_REFERER="https://evil.test/")
    assert 'id="export-back"' not in outside.content.decode()
    # API clients keep the JSON answer.
    api = client.get(url, query, HTTP_ACCEPT="application/json")
    assert api.status_code == 400 and api.json() == {"to": ["The last day is before the first."]}
    assert client.get(url, {"purpose": " "}).json() == {"purpose": ["This field may not be blank."]}
