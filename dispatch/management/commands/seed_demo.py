"""Fill the database with Harbor City demo data: logins per role, units, months of calls with patterns.

Idempotent: on a database that already holds the demo data it does nothing
(``make run`` calls it on every start). ``--reset`` removes the demo data and
writes it again. The same ``--seed``, ``--days`` and anchor give the same
data; the anchor defaults to the start of today in the agency time zone, so
two runs on the same day match, and ``--anchor`` pins it for any day.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dispatch.demo.writer import DEMO_PASSWORD, DemoError, demo_present


class Command(BaseCommand):
    help = "Write Harbor City demo data (idempotent; --reset rebuilds it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=None, help="Random seed (default 2026).")
        parser.add_argument(
            "--days", type=int, default=None, help="Days of call history (default 120)."
        )
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password of every demo login (default {DEMO_PASSWORD}).",
        )
        parser.add_argument(
            "--anchor",
            default=None,
            help="End of the history as ISO date/time (default: today 00:00 local time).",
        )
        parser.add_argument(
            "--calls-per-day",
            type=float,
            default=None,
            help="Average city calls per day (default 60).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Remove existing demo data and write it again."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["reset"] and demo_present():
            # The quick path `make run` takes on every start: one indexed query.
            self.stdout.write("Demo data already present (Harbor City); nothing to do.")
            self.stdout.write("Use --reset to remove it and write it again.")
            self._existing_logins()
            return
        # Imported here so the no-op path above stays light.
        from dispatch.demo import generator
        from dispatch.demo.writer import seed_write

        seed = generator.DEFAULT_SEED if options["seed"] is None else options["seed"]
        days = generator.DEFAULT_DAYS if options["days"] is None else options["days"]
        per_day = options["calls_per_day"] or generator.DEFAULT_CALLS_PER_DAY
        if not 1 <= days <= 730:
            raise CommandError("--days must be between 1 and 730.")
        if per_day <= 0 or per_day > 2000:
            raise CommandError("--calls-per-day must be above 0 and at most 2000.")
        tz = ZoneInfo(settings.BEACON_TIME_ZONE)
        anchor = self._anchor(options["anchor"], tz)
        plan = generator.generate(
            seed=seed,
            days=days,
            anchor=anchor,
            time_zone=settings.BEACON_TIME_ZONE,
            calls_per_day=per_day,
        )
        try:
            result = seed_write(
                plan,
                password=options["password"],
                reset=options["reset"],
                progress=sys.stderr.isatty(),
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        self._report(plan, result, tz)

    def _existing_logins(self) -> None:
        """List the demo logins on every start, as `make run` promises (passwords are not stored)."""
        from django.contrib.auth import get_user_model

        from dispatch.demo.writer import DEMO_EMAIL_DOMAIN

        users = (
            get_user_model()
            .objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}", is_active=True)
            .prefetch_related("groups")
            .order_by("username")
        )
        rows = [(u.username, ", ".join(sorted(g.name for g in u.groups.all()))) for u in users]
        if not rows:
            return
        width = max(len(r[0]) for r in rows)
        self.stdout.write("Demo logins (password as set when seeded; default beacon-demo-2026):")
        for username, roles in rows:
            self.stdout.write(f"  {username:<{width}}  {roles}")

    def _anchor(self, text: str | None, tz: ZoneInfo) -> dt.datetime:
        now = timezone.now()
        if not text:
            local = now.astimezone(tz)
            return dt.datetime.combine(local.date(), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--anchor: not an ISO date/time: {text!r}.") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)  # a wall-clock time in the agency's zone
        if value > now:
            raise CommandError("--anchor must not be in the future.")
        return value.astimezone(dt.UTC)

    def _report(self, plan: Any, result: Any, tz: ZoneInfo) -> None:
        out = self.stdout.write
        if result.removed:
            gone = ", ".join(f"{v} {k}" for k, v in result.removed.items() if v)
            out(f"Removed earlier demo data: {gone or 'nothing'}.")
        start, end = plan.start.astimezone(tz), plan.anchor.astimezone(tz)
        out(
            self.style.SUCCESS(
                f"Harbor City demo data written in {result.seconds:.1f} s "
                f"(seed {plan.seed}, {plan.days} days, {start:%Y-%m-%d %H:%M} to "
                f"{end:%Y-%m-%d %H:%M %Z})."
            )
        )
        for name, value in result.counts.items():
            out(f"  {name.replace('_', ' '):<16}{value:>8}")
        out("")
        out("Demo logins:")
        width = max(len(u) for u, _r, _p in result.logins)
        out(f"  {'username':<{width}}  {'password':<20}  role(s)")
        for username, roles, password in result.logins:
            out(f"  {username:<{width}}  {password:<20}  {roles}")
        out("")
        out("Planted patterns (for the analyses to find):")
        for pp in plan.problem_premises:
            out(f"  repeat address  {plan.locations[pp.location].address:<22} {pp.name}")
        for area in plan.hot_areas:
            out(
                f"  hot area        {area.name} ({area.latitude:.4f}, {area.longitude:.4f}), "
                f"sigma {area.sigma_m:.0f} m, {area.trend}"
            )
        for window in plan.time_windows:
            out(f"  time window     {window.name}")
        out(
            f"  near repeat     {len(plan.burglary_chains)} residential burglary chains "
            f"(<= {generator_chain(plan)})"
        )
        people = ", ".join(r.label for r in plan.recurring_persons)
        cars = ", ".join(r.label.split(" ", 2)[1] for r in plan.recurring_vehicles)
        out(f"  recurring       persons: {people}")
        out(f"  recurring       vehicles: {cars}")


def generator_chain(plan: Any) -> str:
    """The chain limits as text ("200 m, 7 days")."""
    chain = plan.burglary_chains[0] if plan.burglary_chains else None
    return f"{chain.radius_m:.0f} m, {chain.days} days" if chain else "none"
