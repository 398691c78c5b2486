"""Test settings: the real settings module, with fast hashing and no background beat.

The database and Redis come from the environment exactly as in production, so
``DATABASE_URL``/``REDIS_URL`` select PostgreSQL and Redis for the CI run and
SQLite/in-process otherwise.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("BEACON_EMBEDDED_BEAT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
# Unit moves are batched per second in production; tests wait for pushes in tenths of a second.
os.environ.setdefault("BEACON_UNIT_MOVES_EVERY_S", "0.05")
# Likewise the batching of agency events (production: 0.25 s).
os.environ.setdefault("BEACON_AGENCY_EVENTS_EVERY_S", "0.05")

from config.settings import *  # noqa: F403
from config.settings import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LEAFLET_CONFIG = {**LEAFLET_CONFIG, "TILES": []}  # noqa: F405  tests run offline
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# One test database per test run (and per xdist worker): several people and
# agents run the suite in one checkout at once, and a shared name let one run
# destroy or lock the database another was using ("disk I/O error"). The id
# goes into the environment so server processes started by the run inherit it.
_run = os.environ.setdefault("BEACON_TEST_RUN_ID", str(os.getpid()))
# Connections opened by Channels' worker threads must close after each use, or
# PostgreSQL refuses to drop the test database while they linger.
DATABASES["default"]["CONN_MAX_AGE"] = 0
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_suffix = f"{_run}_{_worker}" if _worker else _run
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so live-server tests in another thread or process share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_suffix}.sqlite3")}
else:
    # Set explicitly: channels' live server otherwise computes test_test_<name>.
    DATABASES["default"]["TEST"] = {"NAME": f"test_beacon_{_suffix}"}

# A memory cache even with REDIS_URL: tests clear the cache, and clearing a Redis cache empties
# the whole database the channel layer and broker share. tests/api/test_throttling.py checks the
# Redis cache on its own prefix.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
