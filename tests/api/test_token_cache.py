"""API tokens' accounts shared for a minute (production): no lookup per request, revocation at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from beacon_core.api import authentication

URL = "/api/v1/calls/"


@pytest.fixture
def shared(settings: Any) -> None:
    """Production's sharing, whichever mode the suite runs in (the test cache is per process)."""
    settings.EMBEDDED = False
    settings.BEACON_ACCESS_CACHE_S = 60
    cache.clear()


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _token_lookups(client: APIClient) -> tuple[int, int]:
    """(status, how many queries read the token table) for one list request."""
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(URL, secure=True).status_code
    return status, sum('"authtoken_token"' in q["sql"] for q in ctx.captured_queries)


def test_the_second_request_does_not_read_the_token_again(shared, cast):
    token = Token.objects.create(user=cast["dispatcher"])
    client = _client(token.key)
    status, first = _token_lookups(client)
    assert status == 200 and first >= 1
    assert _token_lookups(client) == (200, 0)


def test_the_cache_holds_neither_the_token_nor_the_password_hash(shared, cast):
    import pickle

    token = Token.objects.create(user=cast["dispatcher"])
    _client(token.key).get(URL, secure=True)
    entry = cache.get(authentication.token_cache_key(token.key))
    assert entry is not None and cache.get(f"auth:token:{token.key}") is None
    stored = pickle.dumps(entry)
    assert token.key.encode() not in stored
    assert cast["dispatcher"].password.encode() not in stored


def test_a_copy_read_before_a_revocation_is_never_used_after_it(shared, cast):
    """The race signals alone lose: a request read the account, the revocation committed and
    dropped the cache, then that request stored what it read."""
    user = cast["dispatcher"]
    token = Token.objects.create(user=user)
    client = _client(token.key)
    assert client.get(URL, secure=True).status_code == 200
    stale = cache.get(authentication.token_cache_key(token.key))
    user.is_active = False
    user.save()
    cache.set(authentication.token_cache_key(token.key), stale)  # stored back late
    assert client.get(URL, secure=True).status_code == 401


def test_a_deleted_token_is_refused_on_the_next_request(shared, cast):
    token = Token.objects.create(user=cast["dispatcher"])
    client = _client(token.key)
    assert client.get(URL, secure=True).status_code == 200
    token.delete()
    answer = client.get(URL, secure=True)
    assert answer.status_code == 401
    assert "Invalid token" in answer.json()["detail"]


def test_a_deactivated_account_is_refused_on_the_next_request(shared, cast):
    user = cast["dispatcher"]
    token = Token.objects.create(user=user)
    client = _client(token.key)
    assert client.get(URL, secure=True).status_code == 200
    user.is_active = False
    user.save()
    answer = client.get(URL, secure=True)
    assert answer.status_code == 401
    assert "inactive" in answer.json()["detail"].lower()


def test_a_deleted_account_is_refused_on_the_next_request(shared, cast):
    user = cast["dispatcher"]
    token = Token.objects.create(user=user)
    client = _client(token.key)
    assert client.get(URL, secure=True).status_code == 200
    user.delete()
    assert client.get(URL, secure=True).status_code == 401


def test_unknown_tokens_are_not_cached(shared, cast):
    client = _client("0" * 40)
    assert client.get(URL, secure=True).status_code == 401
    assert cache.get(authentication.token_cache_key("0" * 40)) is None


def test_embedded_mode_reads_the_token_for_each_request(settings, cast):
    settings.EMBEDDED = True  # its cache is per process: another process's revocation would not
    token = Token.objects.create(user=cast["dispatcher"])
    client = _client(token.key)
    assert _token_lookups(client) == (200, 1)
    assert _token_lookups(client) == (200, 1)
