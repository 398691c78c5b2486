"""handler500: a database outage is answered 503 with a plain reason; other errors stay 500."""

from __future__ import annotations

import json

from django.db import OperationalError
from django.test import RequestFactory

from beacon_core.views import server_error


def _answer(path: str, error: Exception):
    request = RequestFactory().get(path)
    try:
        raise error
    except Exception:  # Django calls handler500 from inside its own except block
        return server_error(request)


def test_database_outage_on_a_page_is_a_503_page_without_traceback():
    response = _answer("/console/", OperationalError("connection refused"))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.content.decode()
    assert "database is unavailable" in body and "connection refused" not in body


def test_database_outage_on_a_json_read_is_a_503_json():
    response = _answer("/console/snapshot.json", OperationalError("connection refused"))
    assert response.status_code == 503
    assert json.loads(response.content) == {"detail": "The database is unavailable; retry shortly."}


def test_any_other_error_stays_a_500():
    assert _answer("/console/", KeyError("x")).status_code == 500
    assert json.loads(_answer("/api/v1/calls/", KeyError("x")).content) == {
        "detail": "Server error."
    }
