"""The transfer-in page: a dispatcher uploads a neighbouring centre's EIDO document and gets the
call; the same incident again opens the same call; bad files are named; other roles are refused."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dispatch.models import Call
from tests.api.test_eido import SAMPLE

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def upload(content: bytes, name: str = "transfer.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"NENA sample not present: {SAMPLE}")
def test_a_dispatcher_takes_nenas_sample_in_once(cast, reference_data) -> None:
    client = signed_in(cast["dispatcher"])
    assert 'id="transfer-in-link"' in client.get("/calls/").text
    assert 'id="eido-import-form"' in client.get("/calls/transfer-in/").text
    first = client.post("/calls/transfer-in/", {"document": upload(SAMPLE.read_bytes())})
    assert first.status_code == 302 and first["Location"].endswith("?transfer=new")
    call = Call.objects.get()
    assert call.external_ref
    page = client.get(first["Location"]).text
    assert 'id="transfer-note"' in page
    again = client.post("/calls/transfer-in/", {"document": upload(SAMPLE.read_bytes())})
    assert again["Location"] == f"/calls/{call.pk}/?transfer=again"
    assert Call.objects.count() == 1


def test_bad_files_are_named_and_store_nothing(cast, reference_data) -> None:
    client = signed_in(cast["dispatcher"])
    missing = client.post("/calls/transfer-in/", {})
    assert missing.status_code == 400 and "document" in missing.text
    broken = client.post("/calls/transfer-in/", {"document": upload(b"{not json")})
    assert broken.status_code == 400 and 'id="eido-errors"' in broken.text
    empty = client.post("/calls/transfer-in/", {"document": upload(b"{}")})
    assert empty.status_code == 400 and "$" in empty.text
    assert not Call.objects.exists()


@pytest.mark.parametrize("role", ["field", "analyst", "admin", "auditor"])
def test_roles_that_may_not_log_calls_are_refused(cast, role) -> None:
    client = signed_in(cast[role])
    assert client.get("/calls/transfer-in/").status_code == 403
    assert client.post("/calls/transfer-in/", {"document": upload(b"{}")}).status_code == 403
