"""Benchmark the historical import (``import_calls``) on SQLite and/or PostgreSQL; prints the figures.

Each run starts from an empty, freshly migrated database and imports the whole
San Antonio file twice (the second run measures re-import, which skips every
row), then the same rows converted to the generic ``beacon`` format.
Wall time and peak memory come from ``/usr/bin/time -v`` when it is installed.

    .venv/bin/python scripts/bench_import.py                       # SQLite only
    .venv/bin/python scripts/bench_import.py \\
        --postgres postgres://postgres@127.0.0.1:5432/beacon_bench  # SQLite and PostgreSQL

The PostgreSQL database is dropped and re-created for every run, so its name
must contain "bench".
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_FILE = (
    Path(os.environ.get("BEACON_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    / "data/cfs/sanantonio_2025-2026.csv.gz"
)
SUMMARY_RE = re.compile(r"read (\d+), imported (\d+), .* in ([\d.]+) s \(([\d,]+) rows/s\)")


def to_beacon_format(source: Path, target: Path) -> int:
    """Rewrite the San Antonio file in the generic ``beacon`` columns; return the row count."""
    count = 0
    with (
        gzip.open(source, "rt", encoding="utf-8", newline="") as fin,
        gzip.open(target, "wt", encoding="utf-8", newline="") as fout,
    ):
        writer = csv.writer(fout)
        writer.writerow(
            [
                "external_id",
                "received_at",
                "call_type",
                "priority",
                "address",
                "latitude",
                "longitude",
            ]
        )
        for row in csv.DictReader(fin):
            when = dt.datetime.fromtimestamp(int(row["ResponseDate"]) / 1000, tz=dt.UTC)
            code = re.sub(r"[^A-Z0-9]+", "-", row["ProblemType"].upper()).strip("-")[:32] or "OTHER"
            writer.writerow(
                [
                    row["IncidentNumber"],
                    when.isoformat(),
                    code,
                    "",
                    row["Address"],
                    row["LAT"],
                    row["LON"],
                ]
            )
            count += 1
    return count


def fresh_postgres(url: str) -> None:
    """Drop and re-create the bench database named in ``url``."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the bench database name must contain 'bench'")
    admin = urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(cmd: list[str], env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Run ``cmd`` (under /usr/bin/time -v when present); return its stdout and time's figures."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    full = [timer, "-v", *cmd] if timer else cmd
    proc = subprocess.run(full, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    figures = {}
    for line in proc.stderr.splitlines():
        if "Elapsed (wall clock)" in line:
            figures["wall"] = line.rsplit(": ", 1)[1]
        elif "Maximum resident set size" in line:
            figures["peak_mb"] = f"{int(line.rsplit(': ', 1)[1]) / 1024:.0f}"
    return proc.stdout, figures


def bench(
    backend: str, env: dict[str, str], files: list[tuple[str, Path]], fresh: Callable[[], None]
) -> None:
    for profile, path in files:
        fresh()
        run([PYTHON, "manage.py", "migrate", "-v0"], env)
        for attempt in ("first", "again") if profile == "sanantonio" else ("first",):
            cmd = [
                PYTHON,
                "manage.py",
                "import_calls",
                str(path),
                "--profile",
                profile,
                "--no-progress",
            ]
            cmd += ["--rejects", str(Path(tempfile.gettempdir()) / "bench-import-rejects.csv")]
            out, figures = run(cmd, env)
            match = SUMMARY_RE.search(out)
            read, imported, seconds, rate = match.groups() if match else ("?", "?", "?", "?")
            print(
                f"{backend:10} {profile:10} {attempt:5}  read {read:>7}  imported {imported:>7}  "
                f"{seconds:>6} s  {rate:>7} rows/s  wall {figures.get('wall', '?'):>8}  "
                f"peak {figures.get('peak_mb', '?'):>4} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument(
        "--postgres", default="", help="URL of a bench database (name contains 'bench')."
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.file.exists():
        raise SystemExit(f"no data file: {args.file}")

    work = Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    beacon_file = work / "sanantonio-beacon.csv.gz"
    to_beacon_format(args.file, beacon_file)
    files = [("sanantonio", args.file), ("beacon", beacon_file)]
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    # Production mode (DATABASE_URL set) insists on a secret key; the bench needs none.
    base.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    print(f"cpus {os.cpu_count()}  python {sys.version.split()[0]}  file {args.file.name}")
    try:
        if not args.no_sqlite:
            db = work / "bench.sqlite3"

            def fresh_sqlite() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)

            bench("sqlite", {**base, "SQLITE_PATH": str(db)}, files, fresh_sqlite)
        if args.postgres:
            bench(
                "postgresql",
                {**base, "DATABASE_URL": args.postgres},
                files,
                lambda: fresh_postgres(args.postgres),
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
