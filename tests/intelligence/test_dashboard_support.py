"""Shared builders for the dashboard, finding-page, findings-API and run-event tests.

Data is planted the way the analyses meet it in production: calls with H3 cells, then real
``analysis_execute`` runs, so the findings under test are the ones the runners produce.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from dispatch.geo import h3_cells
from governance.models import Agency
from intelligence import services
from intelligence.choices import FindingKind
from intelligence.models import AnalysisRun, Finding
from tests.factories import CallFactory, LocationFactory


def place(i: int, j: int, name: str | None = None, base: tuple[float, float] = (29.40, -98.55)):  # type: ignore[no-untyped-def]
    lat, lon = base[0] + 0.01 * i, base[1] + 0.01 * j
    key = name or f"{100 + i * 10 + j} GRID ST"
    return LocationFactory(address_key=key, display_address=key, latitude=lat, longitude=lon)


def call_at(location: Any, agency: Agency, when: dt.datetime, code: str | None = None) -> Any:
    extra: dict[str, Any] = {}
    if code:
        from dispatch.models import CallType

        extra["call_type"] = CallType.objects.get(code=code)
    return CallFactory(
        agency=agency,
        location=location,
        received_at=when,
        **h3_cells(location.latitude, location.longitude),
        **extra,
    )


def plant(  # type: ignore[no-untyped-def]
    agency: Agency, *, now: dt.datetime | None = None, base=(29.40, -98.55), prefix: str = ""
) -> Any:
    """Background calls at 36 places over 20 days and a bar with 12 calls: returns the bar."""
    now = now or timezone.now()
    prefix = prefix or agency.code
    places = [
        place(i, j, base=base, name=f"{prefix} {i}{j} GRID ST") for i in range(6) for j in range(6)
    ]
    for k, loc in enumerate(places):
        call_at(loc, agency, now - dt.timedelta(days=1 + (k % 20), hours=k % 7))
    bar = place(2, 2, name=f"{prefix} 400 BLOCK ELM ST", base=base)
    for k in range(12):
        call_at(bar, agency, now - dt.timedelta(days=0.5 + 2 * k), code="DISTURB")
    return bar


def analyse(kind: str = FindingKind.REPEAT_LOCATION, agency: Agency | None = None) -> AnalysisRun:
    return services.analysis_execute(kind=kind, as_of=timezone.now(), agency=agency)


def repeat_finding(agency: Agency) -> Finding:
    """The bar's proposed repeat-location finding (plants the data and runs the analysis)."""
    bar = plant(agency)
    analyse(FindingKind.REPEAT_LOCATION, agency)
    return Finding.objects.get(agency=agency, kind=FindingKind.REPEAT_LOCATION, location=bar)
