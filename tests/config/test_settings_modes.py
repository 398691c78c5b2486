"""The one settings module picks embedded or production mode from the environment.

Each case imports ``config.settings`` in a fresh interpreter with a controlled
environment and a temporary ``BEACON_VAR_DIR``, so the developer's ``var/``
and this test process's own settings are never touched.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
out = {
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "options": {k: v for k, v in db.get("OPTIONS", {}).items() if isinstance(v, (int, str))},
    "conn_health_checks": db.get("CONN_HEALTH_CHECKS"),
    "embedded": settings.EMBEDDED,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "layer_capacity": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("capacity"),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "secret_key": settings.SECRET_KEY,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "debug": settings.DEBUG,
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "throttle_rates": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
}
if db["ENGINE"].endswith("sqlite3"):
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        out["journal_mode"] = cursor.fetchone()[0]
        cursor.execute("PRAGMA foreign_keys")
        out["foreign_keys"] = cursor.fetchone()[0]
print(json.dumps(out))
"""

# Variables of the surrounding run that would leak a mode into the child.
MODE_VARS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SQLITE_PATH",
    "BEACON_TEST_RUN_ID",
    "SECURE_COOKIES",
    "BEACON_API_RATE",
    "BEACON_API_AVL_RATE",
    "BEACON_CONSOLE_RATE",
    "CACHE_URL",
}


def child_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", BEACON_VAR_DIR=str(var_dir), **extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def probe(var_dir: Path, **extra: str) -> dict:
    result = run_python(PROBE, child_env(var_dir, **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def long_key() -> str:
    return secrets.token_urlsafe(64)


def test_embedded_mode_uses_sqlite_in_wal_mode_eager_jobs_and_the_thread_safe_layer(tmp_path):
    out = probe(tmp_path)

    assert out["engine"] == "django.db.backends.sqlite3"
    assert out["name"] == str(tmp_path / "beacon.sqlite3")
    assert out["journal_mode"] == "wal"  # actually on, not just configured
    assert out["foreign_keys"] == 1
    assert out["options"]["transaction_mode"] == "IMMEDIATE"
    assert out["embedded"] is True
    assert out["eager"] is True and out["broker"] == "memory://"
    assert out["layer"] == "beacon_core.channel_layer.ThreadSafeInMemoryChannelLayer"
    assert out["session_cookie_secure"] is False


def test_embedded_mode_keeps_a_private_secret_key_across_restarts(tmp_path):
    first = probe(tmp_path)
    key_file = tmp_path / "secret_key"

    assert key_file.read_text().strip() == first["secret_key"]
    assert len(first["secret_key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert probe(tmp_path)["secret_key"] == first["secret_key"]
    assert not list(tmp_path.glob(".secret_key*"))  # no temporary files left behind


def test_an_empty_secret_key_file_left_by_a_crash_is_replaced(tmp_path):
    (tmp_path / "secret_key").write_text("")
    key = probe(tmp_path)["secret_key"]
    assert len(key) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == key


def test_an_explicit_secret_key_wins_and_no_file_is_written(tmp_path):
    key = long_key()
    assert probe(tmp_path, SECRET_KEY=key)["secret_key"] == key
    assert not (tmp_path / "secret_key").exists()


def test_database_url_selects_postgresql_with_a_connect_timeout(tmp_path):
    out = probe(
        tmp_path,
        DATABASE_URL="postgres://beacon:pw@db.internal:5432/beacon",
        SECRET_KEY=long_key(),
    )
    assert out["engine"] == "django.db.backends.postgresql"
    assert out["name"] == "beacon"
    assert out["options"]["connect_timeout"] == 5
    assert out["conn_health_checks"] is True
    # No REDIS_URL: jobs and realtime stay in-process.
    assert out["eager"] is True
    assert out["session_cookie_secure"] is True


def test_the_connect_timeout_is_configurable(tmp_path):
    out = probe(
        tmp_path,
        DATABASE_URL="postgres://beacon@db.internal/beacon",
        SECRET_KEY=long_key(),
        DB_CONNECT_TIMEOUT="2",
    )
    assert out["options"]["connect_timeout"] == 2


def test_redis_url_selects_channels_redis_and_a_real_broker(tmp_path):
    out = probe(
        tmp_path,
        DATABASE_URL="postgres://beacon@db.internal/beacon",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY=long_key(),
    )
    assert out["embedded"] is False
    assert out["eager"] is False
    assert out["broker"] == "redis://cache.internal:6379/2"
    assert out["layer"] == "channels_redis.core.RedisChannelLayer"
    assert out["layer_capacity"] == 1000  # not channels-redis's 100 (docs/benchmarks.md, Soak)
    assert out["layer_hosts"] == [
        {"address": "redis://cache.internal:6379/2", "socket_timeout": 15}
    ]
    # Rate-limit counters are shared by every web process.
    assert out["cache"] == "beacon_core.cache.OutageTolerantRedisCache"
    assert out["cache_location"] == "redis://cache.internal:6379/2"


def test_embedded_mode_counts_rate_limits_in_its_own_memory(tmp_path):
    out = probe(tmp_path)
    assert out["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert out["throttle_rates"] == {"api": "1200/min", "avl": "6000/min", "console": "3000/min"}


def test_rate_limits_come_from_the_environment(tmp_path):
    out = probe(
        tmp_path, BEACON_API_RATE="50/min", BEACON_API_AVL_RATE="", BEACON_CONSOLE_RATE="9/s"
    )
    assert out["throttle_rates"] == {"api": "50/min", "avl": None, "console": "9/s"}


@pytest.mark.parametrize(
    "mode",
    [
        {"DATABASE_URL": "postgres://beacon@db.internal/beacon"},
        {"REDIS_URL": "redis://cache.internal:6379/0"},
    ],
    ids=["with-database-url", "with-redis-url"],
)
def test_production_mode_without_a_secret_key_refuses_to_start(tmp_path, mode):
    result = run_python(PROBE, child_env(tmp_path, **mode))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set in production mode" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_check_deploy_passes_cleanly_in_production_mode(tmp_path):
    env = child_env(
        tmp_path,
        SECRET_KEY=long_key(),
        DATABASE_URL="postgres://beacon@db.internal:5432/beacon",
        REDIS_URL="redis://cache.internal:6379/0",
        ALLOWED_HOSTS="beacon.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_flags_debug_in_production(tmp_path):
    """The check above is meaningful: it does fail when production is misconfigured."""
    env = child_env(
        tmp_path,
        SECRET_KEY=long_key(),
        DATABASE_URL="postgres://beacon@db.internal:5432/beacon",
        REDIS_URL="redis://cache.internal:6379/0",
        ALLOWED_HOSTS="beacon.example.org",
        DEBUG="true",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_keeps_each_request_threads_connection_for_a_minute(tmp_path):
    """Requests run in a fixed pool of threads (beacon_core/asgi_handler.py), so a kept
    connection is reused by the next request of its thread; DB_CONN_MAX_AGE=0 turns that off."""
    base = {"DATABASE_URL": "postgres://beacon@db.internal/beacon", "SECRET_KEY": long_key()}
    assert probe(tmp_path, **base)["conn_max_age"] == 60
    assert probe(tmp_path, **base, DB_CONN_MAX_AGE="0")["conn_max_age"] == 0
