"""API rate limits (issue #8): per token or signed-in user, per scope, 429 with Retry-After and a
JSON body; devices' AVL uploads and the console's polling have their own, larger budgets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from beacon_core.api.throttling import ScopedTokenThrottle
from tests.api.test_units import UNITS, fixes

pytestmark = pytest.mark.django_db

CALLS = "/api/v1/calls/"


def rates(**scopes: str | None) -> Any:
    """Override the throttle rates (``api``, ``avl``, ``console``) for one test."""
    base = {"api": "1000/min", "avl": "1000/min", "console": "1000/min"}
    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**base, **scopes}}
    )


def token_client(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("application/json")
    assert "throttled" in response.json()["detail"]


def test_every_api_view_is_throttled_by_default() -> None:
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "beacon_core.api.throttling.ScopedTokenThrottle"
    ]
    assert {"api", "avl", "console"} <= set(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])


def test_a_token_over_its_rate_gets_429_with_retry_after(cast):
    client = token_client(cast["dispatcher"])
    with rates(api="3/min"):
        for _ in range(3):
            assert client.get(CALLS).status_code == 200
        assert_throttled(client.get(CALLS))
        # Another person's token has its own budget.
        assert token_client(cast["supervisor"]).get(CALLS).status_code == 200


def test_session_users_are_counted_per_user(cast):
    first, second = APIClient(), APIClient()
    first.force_login(cast["dispatcher"])
    second.force_login(cast["dispatcher"])  # the same person in two browser windows
    with rates(api="2/min"):
        assert first.get(CALLS).status_code == 200
        assert second.get(CALLS).status_code == 200
        assert_throttled(first.get(CALLS))


def test_an_empty_rate_turns_the_limit_off(cast):
    client = token_client(cast["dispatcher"])
    with rates(api=None):
        for _ in range(5):
            assert client.get(CALLS).status_code == 200


def test_avl_uploads_have_their_own_budget(cast, unit):
    device = token_client(cast["field"])
    url = f"{UNITS}{unit.pk}/positions/"
    with rates(api="2/min", avl="4/min"):
        for _ in range(2):
            assert device.get(f"{UNITS}{unit.pk}/").status_code == 200
        assert_throttled(device.get(f"{UNITS}{unit.pk}/"))
        # The ordinary budget is spent; the device still reports its position.
        for _ in range(4):
            response = device.post(url, {"positions": fixes(1)}, format="json")
            assert response.status_code == 200, response.content
        assert_throttled(device.post(url, {"positions": fixes(1)}, format="json"))


def test_console_polling_has_its_own_budget_outside_the_api(cast, agency):
    console = Client()
    console.force_login(cast["dispatcher"])
    with rates(api="1/min", console="3/min"):
        assert console.get(CALLS).status_code == 200
        assert_throttled(console.get(CALLS))
        for _ in range(3):
            assert console.get("/console/snapshot.json").status_code == 200
        assert_throttled(console.get("/console/snapshot.json"))


@pytest.mark.redis
def test_counters_live_in_the_redis_cache_shared_by_web_processes(cast):
    """Production: every web process counts in Redis, so N processes do not allow N times the
    rate. Two cache connections stand for two processes."""
    import os

    prefix = f"beacon-test-throttle-{uuid.uuid4().hex}"
    redis_cache = {
        "BACKEND": "beacon_core.cache.OutageTolerantRedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": prefix,
    }
    client = token_client(cast["dispatcher"])
    try:
        with override_settings(CACHES={"default": redis_cache}), rates(api="2/min"):
            assert client.get(CALLS).status_code == 200
            # A second connection (another process) sees the same count.
            caches["default"].close()
            assert client.get(CALLS).status_code == 200
            assert_throttled(client.get(CALLS))
            throttle = ScopedTokenThrottle("api")
            request = type("R", (), {"auth": Token.objects.get(user=cast["dispatcher"])})()
            assert len(caches["default"].get(throttle.get_cache_key(request, None))) == 2
    finally:
        import redis

        connection = redis.Redis.from_url(os.environ["REDIS_URL"])
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)


def test_a_redis_outage_lets_requests_through_instead_of_failing_them(cast, caplog, monkeypatch):
    """Intake must keep answering while Redis is down (the fault suite stops it for 30 s): the
    counters cannot be read, so the limits are not enforced, and the outage is logged."""
    import socket

    from beacon_core.cache import OutageTolerantRedisCache

    monkeypatch.setattr(OutageTolerantRedisCache, "_last_warning", 0.0)  # warn in this test
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = {
        "BACKEND": "beacon_core.cache.OutageTolerantRedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    client = token_client(cast["dispatcher"])
    with override_settings(CACHES={"default": unreachable}), rates(api="1/min"):
        cache = caches["default"]
        assert cache.get("k", "missing") == "missing"
        assert cache.add("k", 1) is True  # "added": the audit trail records rather than skips
        cache.set("k", 1)
        assert client.get(CALLS).status_code == 200
        assert client.get(CALLS).status_code == 200  # over 1/min, but nothing can count
    assert "cache unavailable" in caplog.text
