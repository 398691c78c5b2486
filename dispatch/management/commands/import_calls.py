"""Import historical calls for service from a CSV file (plain or gzip) as closed calls.

The command only wires things together: the reader streams rows
(``dispatch.importing.reader``), a profile maps columns
(``dispatch.importing.profiles``) and the batch writer writes
(``dispatch.importing.writer``).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from beacon_core.csv_safe import cell
from beacon_core.db_maintenance import planner_statistics_refresh
from dispatch.importing.profiles import PROFILES, Rejection, profile_get
from dispatch.importing.reader import CsvFormatError, CsvSource, RawRow
from dispatch.importing.writer import DEFAULT_BATCH_SIZE, calls_import
from governance.models import Agency
from governance.services import agency_get_or_create_default

RAW_COLUMN_MAX = 2_000


class _RejectsFile:
    """The rejects report: line, reason, external id and the raw row, opened on first use."""

    def __init__(self, path: Path, *, always: bool) -> None:
        self.path = path
        self.count = 0
        self._fh: TextIO | None = None
        self._writer: Any = None
        if always:
            self._open()

    def _open(self) -> None:
        self._fh = self.path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(["line", "reason", "external_id", "raw"])

    def __call__(self, rejection: Rejection, raw: RawRow) -> None:
        if self._fh is None:
            self._open()
        self.count += 1
        # The raw row is re-serialised as one CSV line (cut short: a rejected
        # huge field must not make the report huge too).
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(raw.fields)
        text = buffer.getvalue()
        # The report is opened in a spreadsheet, and every text in it came from the input file.
        self._writer.writerow(
            [
                rejection.line,
                cell(rejection.reason),
                cell(rejection.external_id),
                cell(text[:RAW_COLUMN_MAX]),
            ]
        )

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _default_rejects_path(source: Path) -> Path:
    name = f"import-rejects-{timezone.now():%Y%m%d-%H%M%S}.csv"
    folder = source.resolve().parent
    probe = folder / name
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        # The input's folder is read-only (a shared data mount): use the cwd.
        return Path.cwd() / name
    return probe


class Command(BaseCommand):
    help = (
        "Import historical calls for service from a CSV file (plain or .gz) as closed calls. "
        "Profiles: "
        + "; ".join(f"{name}: {cls.description}" for name, cls in PROFILES.items())
        + ". Rows are read as UTF-8 (a BOM is ignored); a line that is not UTF-8 is read as "
        "Windows-1252/latin-1 and counted in the summary. Rows already imported for the agency "
        "(same external id) are skipped, so re-running is safe. Bad rows are written with their "
        "line number and reason to a rejects CSV; good rows are imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="CSV file, plain or gzip-compressed.")
        parser.add_argument("--profile", choices=sorted(PROFILES), default="beacon")
        parser.add_argument(
            "--agency", default="", help="Agency code (default: the default agency)."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--rejects",
            type=Path,
            default=None,
            help="Rejects report (default: import-rejects-<time>.csv next to the input, or in the "
            "current folder; written only when a row is rejected).",
        )
        parser.add_argument("--limit", type=int, default=None, help="Read at most N data rows.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["limit"] is not None and options["limit"] < 0:
            raise CommandError("--limit must not be negative.")
        profile = profile_get(options["profile"])
        agency = self._agency(options["agency"])

        source = CsvSource(path)
        try:
            source.open()
        except (CsvFormatError, OSError) as exc:
            raise CommandError(f"{path}: {exc}") from None
        try:
            missing = profile.missing_columns(source.header)
            if missing:
                # Checked before anything is written: a wrong profile or file
                # must not leave half an import behind.
                raise CommandError(
                    f"{path} does not fit the {profile.name!r} profile: missing column(s) "
                    f"{', '.join(missing)}. Found: {', '.join(source.header)}."
                )
            rejects = _RejectsFile(
                Path(options["rejects"]) if options["rejects"] else _default_rejects_path(path),
                always=options["rejects"] is not None,
            )
            show = not options["no_progress"] and sys.stderr.isatty()
            with tqdm(
                desc=f"import {path.name}", unit=" rows", disable=not show, file=sys.stderr
            ) as bar:
                try:
                    stats = calls_import(
                        agency=agency,
                        profile=profile,
                        rows=source.rows(limit=options["limit"]),
                        on_reject=rejects,
                        batch_size=options["batch_size"],
                        progress=bar.update,
                        source=path.name,
                    )
                finally:
                    rejects.close()
        finally:
            source.close()

        if stats.imported:
            # New rows change SQLite's query plans; refresh its statistics (no-op elsewhere).
            planner_statistics_refresh()
        self.stdout.write(
            f"read {stats.read}, imported {stats.imported}, skipped (already present) "
            f"{stats.skipped}, rejected {stats.rejected} in {stats.seconds:.1f} s "
            f"({stats.rows_per_second:,.0f} rows/s); new locations {stats.locations_created}, "
            f"new call types {stats.call_types_created}, new dispositions "
            f"{stats.dispositions_created}."
        )
        if source.fallback_lines:
            self.stderr.write(
                f"warning: {source.fallback_lines} line(s) were not UTF-8 and were read as "
                "Windows-1252/latin-1; check accented names in those rows."
            )
        if rejects.count or options["rejects"]:
            self.stdout.write(f"rejects: {rejects.path}")

    @staticmethod
    def _agency(code: str) -> Agency:
        if not code:
            return agency_get_or_create_default()
        try:
            return Agency.objects.get(code=code)
        except Agency.DoesNotExist:
            raise CommandError(f"No agency with code {code!r}.") from None
