"""POST /api/v1/alerts/ (XML body or multipart file) and the read endpoints."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatch.models import AlertInfo, PartnerAlert
from tests.dispatch.cap_support import SCHEMA, needs_cap, negative, sample

pytestmark = [needs_cap, pytest.mark.django_db]
URL = "/api/v1/alerts/"


@pytest.fixture(autouse=True)
def cap_schema(settings) -> None:
    settings.BEACON_CAP_XSD = str(SCHEMA)


def _post_xml(client, data: bytes, content_type: str = "application/xml"):
    return client.generic("POST", URL, data, content_type=content_type)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("supervisor", 201), ("admin", 201), ("dispatcher", 403), ("field", 403),
     ("analyst", 403), ("auditor", 403)],
)  # fmt: skip
def test_who_may_upload(client_for, role: str, expected: int) -> None:
    response = _post_xml(client_for(role), sample("oasis-spec-A2_severe-thunderstorm-warning.xml"))
    assert response.status_code == expected, response.content
    assert PartnerAlert.objects.count() == (1 if expected == 201 else 0)


def test_anonymous_must_sign_in(anon) -> None:
    response = _post_xml(anon, sample("oasis-spec-A2_severe-thunderstorm-warning.xml"))
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml", "application/cap+xml"])
def test_upload_as_body_then_again_answers_200_with_the_same(client_for, content_type) -> None:
    client = client_for("supervisor")
    data = sample("env-canada_2012-05-02_thunderstorm.xml")
    first = _post_xml(client, data, content_type)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["msg_type"] == "Update" and len(body["infos"]) == 2
    assert {i["language"] for i in body["infos"]} == {"en-CA", "fr-CA"}
    assert len(body["infos"][0]["areas"]) == 2 and body["infos"][0]["areas"][0]["polygons"]
    again = _post_xml(client, data, content_type)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert PartnerAlert.objects.count() == 1


def test_upload_as_multipart_file(client_for) -> None:
    upload = SimpleUploadedFile(
        "quake.xml", sample("usgs_2012-10-14_earthquake_iso8859-1_signed.xml"), "application/xml"
    )
    response = client_for("admin").post(URL, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert "Usulután" in body["infos"][0]["headline"]
    assert body["signed"] is True
    assert body["infos"][0]["areas"][0]["circles"]
    assert PartnerAlert.objects.get().received_via == "upload"


@pytest.mark.parametrize(
    ("name", "field", "words"),
    [
        ("invalid_INVALID.xml", "scope", ["line 9", "scope is required"]),
        ("env-canada_errors_INVALID.xml", "references", ["line 12", "empty"]),
        ("xxe-attack_DO-NOT-RESOLVE-ENTITIES.xml", "xml", ["DOCTYPE"]),
    ],
)
def test_refusals_are_400_naming_field_and_reason(client_for, name, field, words) -> None:
    response = _post_xml(client_for("supervisor"), negative(name))
    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    for word in words:
        assert word in body[field][0]
    assert not PartnerAlert.objects.exists() and not AlertInfo.objects.exists()


def test_garbage_and_empty_bodies_are_400(client_for) -> None:
    client = client_for("supervisor")
    assert "xml" in _post_xml(client, b"<alert").json()
    response = client.post(URL, {}, format="json")
    assert response.status_code == 400 and "file" in response.json()


def test_reading_is_scoped_to_the_agency(client_for, cast, other_agency) -> None:
    from dispatch.alerts.services import alert_receive

    own = alert_receive(
        agency_id=cast["dispatcher"].membership.agency_id,
        data=sample("oasis-spec-A4_amber-alert.xml"),
    ).alert
    theirs = alert_receive(
        agency_id=other_agency.pk, data=sample("oasis-spec-A1_homeland-security-advisory.xml")
    ).alert
    client = client_for("dispatcher")
    listed = client.get(URL).json()
    ids = [row["id"] for row in (listed["results"] if isinstance(listed, dict) else listed)]
    assert ids == [own.pk]
    assert client.get(f"{URL}{own.pk}/").status_code == 200
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client_for("auditor").get(URL).status_code == 403
