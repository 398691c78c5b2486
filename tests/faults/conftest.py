"""Fixtures for the fault tests: a private PostgreSQL cluster per session, a private Redis and a
fresh database per test, and Beacon's processes started against them (tests/faults/harness.py).

The suite runs in the production-mode pass of ``make test`` (DATABASE_URL set: CI has the
PostgreSQL and Redis binaries); the embedded-only pass and machines without the binaries skip it
with the reason. The shared servers on 5432/6379 are never touched.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults import harness

_counter = itertools.count()

# The cast every fault test works with: a dispatcher taking calls, a supervisor issuing
# assignments, a field officer on unit F1, and an admin (purges, audit). Tokens are fixed so
# the template database carries them.
CAST = {
    "disp": ("dispatcher", "a" * 40),
    "sup": ("supervisor", "b" * 40),
    "fld": ("field", "c" * 40),
    "adm": ("admin", "d" * 40),
}
SETUP = f"""
from governance.services import user_create, agency_get_or_create_default
from dispatch.models import Unit
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
agency = agency_get_or_create_default()
for name, (role, key) in {CAST!r}.items():
    user = user_create(username=name, password={harness.PASSWORD!r}, roles=[role], agency=agency)
    Token.objects.create(user=user, key=key)
unit = Unit.objects.create(agency=agency, call_sign="F1", kind="patrol")
unit.users.add(get_user_model().objects.get(username="fld"))
"""


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    # Remembered on the item so the stack fixture knows to print the process logs.
    if call.when == "call" and call.excinfo is not None:
        item.faults_failed = True  # type: ignore[attr-defined]


def _skip_reason() -> str | None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return (
            "fault suite runs in the production-mode pass only (set DATABASE_URL=postgres://...; "
            "it starts its own private PostgreSQL and Redis)"
        )
    return harness.missing_prerequisites()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[harness.PostgresCluster]:
    """One private cluster per session (initdb ~1.5 s) with a migrated template database."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = harness.PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        cluster.sql("postgres", "CREATE DATABASE beacon_template")
        workdir = Path(tempfile.mkdtemp(prefix="beacon-faults-tpl-"))
        redis = harness.RedisServer(workdir)  # never started: migrate does not need it
        stack = harness.Stack(cluster, "beacon_template", redis, workdir)
        stack.manage("migrate", "--noinput", "-v", "0")
        stack.shell(SETUP)
        shutil.rmtree(workdir, ignore_errors=True)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def make_stack(
    pg_cluster: harness.PostgresCluster, request: pytest.FixtureRequest
) -> Iterator[Callable[..., harness.Stack]]:
    """``make_stack(**env)``: a fresh database (copied from the template) and a private Redis;
    processes are started by the test. Logs are printed if the test fails; everything stops."""
    stacks: list[harness.Stack] = []

    def _make(**extra_env: str) -> harness.Stack:
        name = f"beacon_fault_{os.getpid()}_{next(_counter)}"
        if not pg_cluster.running():
            pg_cluster.start()
        pg_cluster.sql("postgres", f"CREATE DATABASE {name} TEMPLATE beacon_template")
        workdir = Path(tempfile.mkdtemp(prefix="beacon-faults-"))
        redis = harness.RedisServer(workdir)
        redis.start()
        stack = harness.Stack(pg_cluster, name, redis, workdir, extra_env=dict(extra_env))
        stacks.append(stack)
        return stack

    started = time.monotonic()
    yield _make
    for stack in stacks:
        if getattr(request.node, "faults_failed", False):
            stack.dump_logs()
        stack.close()
        stack.redis.stop()
        if not pg_cluster.running():
            pg_cluster.start()  # a test that failed while PostgreSQL was down
        shutil.rmtree(stack.workdir, ignore_errors=True)
    print(f"\n{request.node.name}: {time.monotonic() - started:.1f} s")


def user(stack: harness.Stack, name: str, *, login: bool = False) -> harness.ApiUser:
    """A cast member on ``stack``; ``login`` also signs in for a session (websockets, pages)."""
    api_user = harness.ApiUser(stack, name, CAST[name][1])
    if login:
        api_user.login()
    return api_user
