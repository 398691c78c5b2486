"""The files a new operator relies on: compose, Makefile targets, CI entry point, lock file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose (Debian package) not installed"
)
def test_compose_file_validates_with_docker_compose():
    env = {**os.environ, "SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "compose-test"}
    out = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


def test_compose_refuses_to_start_without_secrets():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${SECRET_KEY:?" in text
    assert "${POSTGRES_PASSWORD:?" in text
    for service in ("postgres:", "redis:", "web:", "worker:", "beat:"):
        assert f"\n  {service}" in text
    assert text.count("healthcheck:") >= 4


def test_makefile_has_the_two_setup_commands():
    text = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "bench", "check"):
        assert re.search(rf"^{target}:", text, re.M), f"make {target} missing"
    assert "seed_demo" in text and "serve" in text


def test_ci_entry_point_is_executable_and_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    text = ci.read_text()
    assert "make test" in text
    assert "DATABASE_URL=" in text and "REDIS_URL=" in text


def test_lock_file_pins_every_dependency_exactly():
    lines = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines
    assert all("==" in line for line in lines), [line for line in lines if "==" not in line]
    names = {line.split("==")[0].lower().replace("_", "-") for line in lines}
    for required in (
        "django",
        "djangorestframework",
        "celery",
        "channels",
        "channels-redis",
        "psycopg",
        "h3",
    ):
        assert required in names


def test_dev_lock_builds_on_the_runtime_lock_and_production_gets_no_test_tools():
    runtime = (ROOT / "requirements.lock").read_text()
    dev = [
        line
        for line in (ROOT / "requirements-dev.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert dev[0] == "-r requirements.lock"
    assert all("==" in line for line in dev[1:]), [line for line in dev[1:] if "==" not in line]
    dev_names = {line.split("==")[0].lower() for line in dev[1:]}
    assert {"pytest", "playwright", "esda", "ruff"} <= dev_names
    runtime_names = {line.split("==")[0].lower() for line in runtime.splitlines() if "==" in line}
    assert not dev_names & runtime_names, "a package is pinned in both lock files"
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert "requirements-dev.lock" not in (ROOT / "Dockerfile").read_text()


def test_no_secrets_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert ".env" not in tracked
    assert not any(path.startswith("var/") for path in tracked)
