"""``python manage.py purge_expired [--dry-run] [--category X] [--batch-size N] [--due-within D]``.

The same purge as the daily job (``governance.retention.run_purge``), with a progress bar per
category on stderr. Safe to interrupt: whole batches are committed, and a rerun carries on.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from beacon_core.errors import DomainError
from governance import retention


class Command(BaseCommand):
    help = "Delete or anonymise records whose retention period is over (legal holds are kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would go; change nothing."
        )
        parser.add_argument(
            "--category",
            action="append",
            choices=list(retention.PURGEABLE),
            help="Only this category (repeatable). Default: all.",
        )
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")
        parser.add_argument(
            "--due-within",
            type=int,
            metavar="DAYS",
            help="Only list, per category, what expires within DAYS days (for review); no purge.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["due_within"] is not None:
            self._due_within(options["due_within"], options["category"] or ())
            return
        bars: list[tqdm] = []

        def progress(category: str, total: int) -> retention.Progress:
            bar = tqdm(
                total=total,
                desc=category,
                unit="rec",
                file=self.stderr._out,
                disable=options["no_progress"] or total == 0,
            )
            bars.append(bar)
            return bar.update

        try:
            results = retention.run_purge(
                categories=options["category"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                trigger="command",
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        finally:
            for bar in bars:
                bar.close()
        verb = "would process" if options["dry_run"] else "processed"
        for r in results:
            self.stdout.write(
                f"{r.category}: {verb} {r.eligible if r.dry_run else r.processed} "
                f"({r.action}, kept {r.keep_days} days, cutoff {r.cutoff:%Y-%m-%d %H:%M} UTC), "
                f"{r.held} held"
            )

    def _due_within(self, days: int, categories: Any) -> None:
        try:
            rows = retention.due_within(days, categories=categories)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        for r in rows:
            first = f", first on {r.first_due:%Y-%m-%d} UTC" if r.first_due else ""
            self.stdout.write(
                f"{r.category}: {r.due} due within {r.days} days{first}, {r.held} held"
            )
