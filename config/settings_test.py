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

from config.settings import *  # noqa: E402, F403
from config.settings import DATABASES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LEAFLET_CONFIG = {**LEAFLET_CONFIG, "TILES": []}  # noqa: F405  tests run offline
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so live-server tests in another thread or process share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_worker or 'main'}.sqlite3")}
else:
    # Set explicitly: channels' live server otherwise computes test_test_<name>.
    DATABASES["default"]["TEST"] = {"NAME": f"test_beacon{('_' + _worker) if _worker else ''}"}
