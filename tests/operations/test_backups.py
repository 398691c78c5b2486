"""Backups restore completely: the commands of docs/operations.md, "Backups", run for real.

PostgreSQL: demo data in a scratch database, ``pg_dump -Fc``, ``pg_restore`` into a fresh
database; every model table holds the same primary keys, and the audit chain verifies.
SQLite: ``manage.py backup_embedded`` taken while another process keeps logging calls; the copy,
restored as a fresh database file, holds every call committed before the backup started,
passes ``PRAGMA integrity_check`` and ``verify_audit``.

Each step runs ``manage.py`` in its own process against its own scratch database, as an
operator would; the test's own database is not used.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.paths import ROOT

SECRET = "backup-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def _manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert out.returncode == 0, f"manage.py {' '.join(args)}:\n{out.stdout}\n{out.stderr}"
    return out


def _model_tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every model table, auto-created many-to-many ones included."""
    from django.apps import apps

    tables = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables[model._meta.db_table] = model._meta.pk.column
    return sorted(tables.items())


def _snapshot(cursor, tables: list[tuple[str, str]]) -> dict[str, list]:
    """Every table's primary keys, in order (the count is the list's length)."""
    out = {}
    for table, pk in tables:
        cursor.execute(f'SELECT "{pk}" FROM "{table}" ORDER BY 1')  # noqa: S608  names from models
        out[table] = [row[0] for row in cursor.fetchall()]
    return out


# --- PostgreSQL: pg_dump -Fc, pg_restore into a fresh database -------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_pg_dump_restores_every_record_into_a_fresh_database(tmp_path: Path) -> None:
    import psycopg

    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")
    url = urlparse(os.environ["DATABASE_URL"])
    base = url.path.lstrip("/") or "beacon"
    run = os.environ.get("BEACON_TEST_RUN_ID", str(os.getpid()))
    source, restored = f"{base}_bk_src_{run}", f"{base}_bk_restored_{run}"
    admin = url._replace(path="/postgres").geturl()

    def database_url(name: str) -> str:
        return url._replace(path=f"/{name}").geturl()

    def env_for(name: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
        env.update(
            DATABASE_URL=database_url(name),
            DJANGO_SETTINGS_MODULE="config.settings",
            SECRET_KEY=SECRET,
            BEACON_EMBEDDED_BEAT="false",
        )
        return env

    with psycopg.connect(admin, autocommit=True) as conn:
        for name in (source, restored):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{source}"')
    dump = tmp_path / "beacon.dump"
    try:
        _manage(env_for(source), "migrate", "--noinput", "-v0")
        _manage(env_for(source), "seed_demo", "--days", "14")
        # The commands of docs/operations.md, with this test's database names.
        subprocess.run(
            ["pg_dump", "-Fc", "-f", str(dump), database_url(source)], check=True, timeout=300
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{restored}"')
        subprocess.run(
            [
                *("pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"),
                *("-d", database_url(restored), str(dump)),
            ],
            check=True,
            timeout=300,
        )
        tables = _model_tables()
        with (
            psycopg.connect(database_url(source)) as a,
            psycopg.connect(database_url(restored)) as b,
        ):
            before, after = _snapshot(a.cursor(), tables), _snapshot(b.cursor(), tables)
        assert before == after
        # The demo really wrote the records this compares, audit events among them.
        for table in ("dispatch_call", "dispatch_unit", "governance_auditevent", "auth_user"):
            assert len(after[table]) > 0, table
        verified = _manage(env_for(restored), "verify_audit")
        assert verified.stdout.startswith("OK:"), verified.stdout
        assert f"{len(after['governance_auditevent']):,} audit events verified" in verified.stdout
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in (source, restored):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- SQLite: the online backup while a writer keeps committing ------------------------------

WRITER = """
from pathlib import Path
from django.contrib.auth import get_user_model
from dispatch.models import CallType
from dispatch.services import call_create
from governance.models import Agency
actor = get_user_model().objects.get(username="backup-writer")
agency = Agency.objects.get(code="default")
call_type = CallType.objects.filter(active=True).order_by("code").first()
stop = Path("{stop}")
i = 0
while not stop.exists():
    call = call_create(agency=agency, actor=actor, call_type=call_type,
                       latitude=29.42 + i * 1e-5, longitude=-98.49, narrative=f"writer {{i}}")
    print("committed", call.pk, flush=True)  # after the commit: this call is on disk
    i += 1
"""

SETUP = """
from dispatch.reference_data import load_defaults
from governance.services import agency_get_or_create_default, roles_ensure, user_create
load_defaults()
roles_ensure()
user_create(username="backup-writer", password=None, roles=["dispatcher"],
            agency=agency_get_or_create_default())
"""


def _committed(output: str) -> list[int]:
    """The call ids in the writer's "committed <id>" lines (Django's shell may print others)."""
    return [int(line.split()[1]) for line in output.splitlines() if line.startswith("committed ")]


def _sqlite_env(var_dir: Path, database: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env.update(
        BEACON_VAR_DIR=str(var_dir),
        SQLITE_PATH=str(database),
        DJANGO_SETTINGS_MODULE="config.settings",
        BEACON_EMBEDDED_BEAT="false",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.mark.slow
def test_sqlite_online_backup_under_writes_holds_every_committed_call(tmp_path: Path) -> None:
    live_dir, restore_dir = tmp_path / "live", tmp_path / "restored"
    live_dir.mkdir()
    restore_dir.mkdir()
    live = live_dir / "beacon.sqlite3"
    env = _sqlite_env(live_dir, live)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "shell", "-c", SETUP)
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", WRITER.format(stop=stop)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed: list[int] = []
    backup = tmp_path / "beacon-backup.sqlite3"
    try:
        assert writer.stdout is not None
        while len(committed) < 30:  # the writer is well under way
            line = writer.stdout.readline()
            assert line, f"the writer stopped: {writer.stderr.read() if writer.stderr else ''}"
            committed += _committed(line)
        before_backup = list(committed)
        out = _manage(env, "backup_embedded", str(backup))
        assert "integrity ok" in out.stdout
        # The writer kept going while the backup ran (the backup did not lock it out).
        while not _committed(line := writer.stdout.readline()):
            assert line, "the writer stopped during the backup"
        committed += _committed(line)
    finally:
        stop.touch()
        rest, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors
    committed += _committed(rest)

    # Restore as docs/operations.md says: the backup becomes the database file of a fresh var dir.
    restored = restore_dir / "beacon.sqlite3"
    shutil.copyfile(backup, restored)
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in conn.execute("SELECT id FROM dispatch_call")}
    assert set(before_backup) <= ids
    # One consistent moment: the writer's calls in the copy are exactly its first n commits.
    copied = [pk for pk in committed if pk in ids]
    assert copied == committed[: len(copied)]
    verified = _manage(_sqlite_env(restore_dir, restored), "verify_audit")
    assert verified.stdout.startswith("OK:"), verified.stdout


def test_backup_embedded_refuses_to_overwrite_and_names_the_file(tmp_path: Path) -> None:
    live = tmp_path / "beacon.sqlite3"
    with sqlite3.connect(live) as conn:
        conn.execute("CREATE TABLE t (x)")
    env = _sqlite_env(tmp_path, live)
    existing = tmp_path / "taken.sqlite3"
    existing.write_text("keep me")
    out = _manage(env, "backup_embedded", str(existing), check=False)
    assert out.returncode != 0 and "file:" in out.stderr and "exists" in out.stderr
    assert existing.read_text() == "keep me"
    out = _manage(env, "backup_embedded", str(live), check=False)
    assert out.returncode != 0 and "cannot replace the live database" in out.stderr
    _manage(env, "backup_embedded", str(tmp_path / "copy.sqlite3"))
    with sqlite3.connect(tmp_path / "copy.sqlite3") as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    assert not list(tmp_path.glob(".*.partial"))
