"""Held-out hotspot forecast evaluation: ``python manage.py evaluate_forecast [options]``.

Thin: parses and checks options, calls ``intelligence.forecasting.evaluate_calls`` and prints a
method x budget table (hit rate, PAI, PEI; mean and sd over origins), or the report as JSON.
Progress goes to stderr so ``--json`` output stays clean.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Agency
from intelligence.analysis import forecast
from intelligence.forecasting import evaluate_calls


def _positive(option: str, value: float) -> float:
    if not value > 0:
        raise CommandError(f"{option}: must be > 0, got {value:g}.")
    return value


def _budgets(text: str) -> tuple[float, ...]:
    try:
        percents = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise CommandError(
            f"--budgets: {text!r} is not a list of percentages like 1,2,5."
        ) from None
    if not percents or any(not 0 < p <= 100 for p in percents):
        raise CommandError(f"--budgets: give percentages in (0, 100], e.g. 1,2,5; got {text!r}.")
    return tuple(p / 100 for p in percents)


def _methods(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in forecast.METHODS]
    if not names or unknown:
        raise CommandError(
            f"--methods: unknown {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(forecast.METHODS)}."
        )
    return list(dict.fromkeys(names))


def _sd(value: float | None) -> str:
    return "" if value is None else f"±{value:.2f}"


class Command(BaseCommand):
    help = (
        "Rolling-origin held-out evaluation of hotspot forecasts on the stored calls: "
        "hit rate, PAI and PEI per method and area budget."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", default=None, help="Agency code (default: every agency).")
        parser.add_argument("--category", default=None, help="Only calls of this call category.")
        parser.add_argument("--train-days", type=float, default=90.0)
        parser.add_argument("--horizon-days", type=float, default=7.0)
        parser.add_argument("--step-days", type=float, default=None, help="Default: the horizon.")
        parser.add_argument("--origins", type=int, default=12, help="Usable origins wanted.")
        parser.add_argument("--budgets", default="1,2,5", help="Area budgets in percent.")
        parser.add_argument("--methods", default=",".join(forecast.METHODS))
        parser.add_argument("--resolution", type=int, default=forecast.DEFAULT_RESOLUTION)
        parser.add_argument("--kde-bandwidth", type=float, default=150.0, help="Metres.")
        parser.add_argument("--space-bands", type=int, default=2, help="Prospective, H3 rings.")
        parser.add_argument("--time-bands", type=int, default=8, help="Prospective, weeks.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        train = _positive("--train-days", options["train_days"])
        horizon = _positive("--horizon-days", options["horizon_days"])
        step = options["step_days"]
        if step is not None:
            _positive("--step-days", step)
        if options["origins"] < 1:
            raise CommandError(f"--origins: must be >= 1, got {options['origins']}.")
        if not 0 <= options["resolution"] <= 15:
            raise CommandError(f"--resolution: must be 0-15, got {options['resolution']}.")
        _positive("--kde-bandwidth", options["kde_bandwidth"])
        for name in ("space_bands", "time_bands"):
            if options[name] < 1:
                flag = "--" + name.replace("_", "-")
                raise CommandError(f"{flag}: must be >= 1, got {options[name]}.")
        budgets = _budgets(options["budgets"])
        methods = _methods(options["methods"])
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"--agency: no agency with code {options['agency']!r}.")

        def progress(done: int, total: int, origin: float) -> None:
            when = dt.datetime.fromtimestamp(origin, dt.UTC).isoformat(timespec="minutes")
            self.stderr.write(f"origin {done}/{total} ({when}) done")

        try:
            report = evaluate_calls(
                agency=agency,
                category=options["category"],
                methods=methods,
                method_params={
                    "kde": {"bandwidth_m": options["kde_bandwidth"]},
                    "prospective": {
                        "space_bands": options["space_bands"],
                        "time_bands": options["time_bands"],
                    },
                },
                resolution=options["resolution"],
                train_days=train,
                horizon_days=horizon,
                origins=options["origins"],
                step_days=step,
                budgets=budgets,
                progress=progress,
            )
        except ValueError as error:
            flag = "--category" if options["category"] else "--agency"
            if str(error).startswith("no usable origin"):
                flag = "--train-days/--horizon-days"
            raise CommandError(f"{flag}: {error}.") from None
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        self._table(report)

    def _table(self, report: dict[str, Any]) -> None:
        p = report["parameters"]
        origins = report["origins"]
        self.stdout.write(
            f"{report['calls']:,} calls, {report['data_start'][:10]} to {report['data_end'][:10]} "
            "(exclusive); "
            f"study area {report['study_area']['cells']:,} cells "
            f"({report['study_area']['definition']})."
        )
        self.stdout.write(
            f"{len(origins)} origins ({origins[-1]['origin'][:10]} .. {origins[0]['origin'][:10]}), "
            f"training {p['train_days']:g} days, horizon {p['horizon_days']:g} days, step "
            f"{p['step_days']:g} days; {report['skipped_empty_origins']} empty origins skipped."
        )
        self.stdout.write(
            f"Budgets: {', '.join(f'{float(b) * 100:g} % = {c} cells' for b, c in report['budget_cells'].items())}"
            f"; {report['ties']}. Mean ± sd over origins."
        )
        self.stdout.write("")
        self.stdout.write(
            f"  {'method':<13} {'budget':>6}  {'hit rate':>14}  {'PAI':>13}  {'PEI':>13}"
        )
        for method, by_budget in report["summary"].items():
            mark = "*" if method == report["default_method"] else " "
            for budget, row in by_budget.items():
                if row["hit_rate"] is None:
                    continue
                self.stdout.write(
                    f"{mark} {method:<13} {float(budget) * 100:>5g}%  "
                    f"{row['hit_rate']:>7.3f}{_sd(row['hit_rate_sd']):<7}  "
                    f"{row['pai']:>6.2f}{_sd(row['pai_sd']):<7}  "
                    f"{row['pei']:>6.3f}{_sd(row['pei_sd']):<7}"
                )
        self.stdout.write("")
        self.stdout.write(
            f"* Beacon's default hotspot method: {report['default_method']} "
            f"(intelligence.analysis.forecast.BEACON_DEFAULT_METHOD). {report['seconds']} s."
        )
