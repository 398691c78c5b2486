"""Call list and call detail pages: rendering, escaping, caller redaction and access."""

from __future__ import annotations

import pytest

from tests.factories import CallFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def signed_in(client, cast):
    def _as(role: str):
        client.force_login(cast[role])
        return client

    return _as


def test_the_call_list_shows_own_agency_calls_to_a_dispatcher(signed_in, agency, other_agency):
    mine = CallFactory(agency=agency)
    theirs = CallFactory(agency=other_agency)
    response = signed_in("dispatcher").get("/calls/")
    assert response.status_code == 200
    assert mine.number in response.text
    assert f"/calls/{mine.pk}/" in response.text
    assert theirs.number not in response.text


def test_the_call_list_is_forbidden_to_the_auditor(signed_in, agency):
    CallFactory(agency=agency)
    assert signed_in("auditor").get("/calls/").status_code == 403


def test_the_call_list_pages_through_many_calls(signed_in, agency):
    CallFactory.create_batch(55, agency=agency)
    client = signed_in("dispatcher")
    assert "Page 1 of 2" in client.get("/calls/").text
    assert "Page 2 of 2" in client.get("/calls/?page=2").text
    assert client.get("/calls/?page=banana").status_code == 200


def test_call_detail_renders_and_escapes_the_narrative(signed_in, agency):
    call = CallFactory(
        agency=agency, narrative=f"caller says {SCRIPT}\nsecond line", caller_name=SCRIPT
    )
    response = signed_in("dispatcher").get(f"/calls/{call.pk}/")
    assert response.status_code == 200
    assert call.number in response.text
    assert SCRIPT not in response.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in response.text
    assert "second line" in response.text


def test_call_detail_hides_caller_identity_from_roles_without_it(signed_in, agency):
    call = CallFactory(agency=agency, caller_name="Jane Caller", caller_phone="555-0199")
    assert "Jane Caller" in signed_in("dispatcher").get(f"/calls/{call.pk}/").text
    analyst_view = signed_in("analyst").get(f"/calls/{call.pk}/")
    assert analyst_view.status_code == 200
    assert "Jane Caller" not in analyst_view.text and "555-0199" not in analyst_view.text


def test_another_agencys_call_is_404_like_a_missing_one(signed_in, other_agency):
    foreign = CallFactory(agency=other_agency)
    client = signed_in("dispatcher")
    assert client.get(f"/calls/{foreign.pk}/").status_code == 404
    assert client.get("/calls/999999/").status_code == 404


def test_the_auditor_cannot_open_a_call_either(signed_in, agency):
    call = CallFactory(agency=agency)
    assert signed_in("auditor").get(f"/calls/{call.pk}/").status_code == 404


def test_healthz_answers_json_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
