"""Run analyses now: ``python manage.py analyze KIND [--as-of ISO] [--agency CODE] [--json]``.

Thin: parses arguments, calls ``services.analysis_execute`` per kind, prints what each run
created or updated (a table, or one JSON object with ``runs`` and ``findings``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from beacon_core.errors import DomainError
from governance.models import Agency
from intelligence import runners, services
from intelligence.choices import FindingKind
from intelligence.selectors import finding_as_dict, run_as_dict, run_findings


def _as_of(value: str | None) -> dt.datetime:
    if value is None:
        return timezone.now()
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not an ISO date/time.") from None
    if timezone.is_naive(parsed):
        raise CommandError(
            f"--as-of: {value!r} has no UTC offset; give one, e.g. 2026-03-01T00:00:00+00:00."
        )
    return parsed


class Command(BaseCommand):
    help = "Run an analysis now and print the findings it created or updated."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=[*FindingKind.values, "all"])
        parser.add_argument(
            "--as-of", default=None, help="End of the data window, ISO with offset (default: now)."
        )
        parser.add_argument("--agency", default=None, help="Agency code (default: every agency).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        if kind == "all":
            kinds = list(runners.RUNNERS)
        elif kind in runners.RUNNERS:
            kinds = [kind]
        else:
            raise CommandError(
                f"{kind}: not implemented yet; implemented: {', '.join(runners.RUNNERS)}."
            )
        as_of = _as_of(options["as_of"])
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"--agency: no agency with code {options['agency']!r}.")
        runs = []
        findings: list[dict[str, Any]] = []
        for one in kinds:
            try:
                run = services.analysis_execute(kind=one, as_of=as_of, agency=agency)
            except DomainError as error:
                raise CommandError(str(error)) from None
            runs.append(run_as_dict(run))
            findings.extend(finding_as_dict(f) for f in run_findings(run=run))
        if options["json"]:
            self.stdout.write(json.dumps({"runs": runs, "findings": findings}))
            return
        for run in runs:
            c = run["counts"]
            self.stdout.write(
                f"{run['kind']}: run {run['id']} {run['status']} in {run['duration_ms']} ms; "
                f"{c['created']} created, {c['updated']} updated, {c['expired']} expired"
            )
        if not findings:
            self.stdout.write("No findings.")
            return
        self.stdout.write(f"{'id':>6}  {'kind':<17} {'status':<9} explanation")
        for f in findings:
            self.stdout.write(f"{f['id']:>6}  {f['kind']:<17} {f['status']:<9} {f['explanation']}")
