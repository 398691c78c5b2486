"""Reference-data lists, the OpenAPI document, and the offline Swagger UI."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from dispatch.models import CallType

pytestmark = pytest.mark.django_db


def test_call_types_list_is_complete_on_one_page(client_for, reference_data):
    response = client_for("field").get("/api/v1/call-types/")
    assert response.status_code == 200
    codes = [row["code"] for row in response.json()]
    assert codes == sorted(CallType.objects.values_list("code", flat=True))
    assert "THEFT" in codes


def test_dispositions_list_filters_active(client_for, reference_data):
    rows = client_for("dispatcher").get("/api/v1/dispositions/?active=true").json()
    assert "REPORT" in [row["code"] for row in rows]
    response = client_for("dispatcher").get("/api/v1/dispositions/?active=maybe")
    assert response.status_code == 400 and "active" in response.json()


def test_reference_data_needs_sign_in_and_a_role(anon, client_for, reference_data):
    for url in ("/api/v1/call-types/", "/api/v1/dispositions/"):
        assert anon.get(url).status_code in (401, 403)
        assert client_for("auditor").get(url).status_code == 403


def test_reference_data_is_read_only(client_for, reference_data):
    response = client_for("admin").post("/api/v1/call-types/", {"code": "X", "name": "X"})
    assert response.status_code in (403, 405)  # an unmapped method is refused before routing
    assert not CallType.objects.filter(code="X").exists()


def test_openapi_schema_is_valid_and_covers_the_dispatch_api(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    paths = schema["paths"]
    for path in (
        "/api/v1/calls/",
        "/api/v1/calls/{id}/",
        "/api/v1/calls/{id}/assign/",
        "/api/v1/calls/{id}/close/",
        "/api/v1/units/{id}/positions/",
        "/api/v1/locations/{id}/history/",
        "/api/v1/locations/{id}/notes/",
        "/api/v1/involvements/",
        "/api/v1/call-types/",
    ):
        assert path in paths, path
    assign = paths["/api/v1/calls/{id}/assign/"]["post"]
    assert assign["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CallAssignInputRequest"
    )
    assert "409" in assign["responses"]
    upload = paths["/api/v1/units/{id}/positions/"]
    assert {"get", "post"} <= set(upload)
    assert "since" in {p["name"] for p in upload["get"]["parameters"]}
    call_list_params = {p["name"] for p in paths["/api/v1/calls/"]["get"]["parameters"]}
    assert {"status", "open", "received_after", "call_type", "ordering", "page"} <= call_list_params


def test_swagger_ui_renders_without_external_urls(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    external = re.findall(r"""(?:src|href)=["'](https?:)?//[^"']+""", html)
    assert external == [], external
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
