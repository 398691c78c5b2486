"""Check the audit trail's hash chain: ``python manage.py verify_audit [--batch-size N]``.

Thin: ``governance.audit.verify_chain`` does the walk. Exits 0 and prints the count and head
hash when the chain holds; prints the first broken link and exits 1 when it does not.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from governance.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5_000,
            help="Events read per query (default 5000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(1, options["batch_size"])
        verbosity = options["verbosity"]

        def progress(checked: int, total: int) -> None:
            # Progress only for tables that take more than one batch, on stderr so a script
            # reading stdout gets just the verdict.
            if verbosity >= 1 and total > batch:
                self.stderr.write(f"checked {checked:,} of {total:,} events")

        report = verify_chain(batch_size=batch, progress=progress)
        if report.first_break is not None:
            broken = report.first_break
            self.stdout.write(
                f"BROKEN at event id {broken.event_id} (seq {broken.seq}, {broken.kind}): "
                f"{broken.message}. {report.checked:,} events before it verified."
            )
            sys.exit(1)
        self.stdout.write(
            f"OK: {report.checked:,} audit events verified; head seq {report.head_seq}, "
            f"head hash {report.head_hash}"
        )
