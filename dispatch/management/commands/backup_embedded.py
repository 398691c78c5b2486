"""Back up the embedded (SQLite) database while Beacon runs: ``manage.py backup_embedded FILE``.

For sites without the ``sqlite3`` command-line tool. Uses SQLite's online backup API
(Python's ``sqlite3.Connection.backup``) in one step: the copy is the database as of one
moment, taken inside a single read transaction, so a server writing at the same time
(WAL mode) is neither blocked nor copied half-way. A stepwise backup would restart every time
another connection wrote between steps, and might never finish on a busy server.

The copy is written next to FILE under a temporary name, checked (``PRAGMA
integrity_check``) and only then renamed to FILE, so FILE is never a half-written backup.
Production mode (PostgreSQL) is backed up with ``pg_dump`` instead (docs/operations.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Copy the embedded SQLite database to FILE while Beacon runs (online backup API)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Where to write the backup (must not exist yet).")
        parser.add_argument(
            "--force", action="store_true", help="Replace FILE if it exists already."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError(
                "This database is not SQLite (production mode): back it up with pg_dump, "
                "see docs/operations.md, Backups."
            )
        source = Path(db["NAME"])
        target = Path(options["file"])
        if not source.exists():
            raise CommandError(f"No database at {source}.")
        if target.resolve() == source.resolve():
            raise CommandError("file: the backup cannot replace the live database.")
        if target.exists() and not options["force"]:
            raise CommandError(f"file: {target} exists; choose another name or pass --force.")
        if not target.parent.is_dir():
            raise CommandError(f"file: no such directory {target.parent}.")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one consistent moment
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.Error as exc:
            dst.close()
            partial.unlink(missing_ok=True)
            raise CommandError(f"Backup failed: {exc}") from exc
        finally:
            src.close()
        dst.close()
        if check != "ok":
            partial.unlink(missing_ok=True)
            raise CommandError(f"The copy failed its integrity check: {check}")
        partial.replace(target)
        size_mb = target.stat().st_size / 1_000_000
        self.stdout.write(f"Backed up {source} to {target} ({size_mb:.1f} MB); integrity ok.")
