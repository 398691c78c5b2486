"""The glue for forecast evaluation: read call points from the database, run the pure protocol.

The analysis itself is ``intelligence.analysis.forecast``; this module only chooses the rows
(calls with a point, optionally one agency and one call category), converts them to arrays and
turns the result into a plain dict for the command and ``--json``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import F
from django.db.models.functions import Coalesce

from dispatch.models import Call
from governance.models import Agency
from intelligence.analysis import forecast

UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class CallPoints:
    """Calls as arrays: latitude, longitude and receipt time in epoch seconds."""

    lat: np.ndarray
    lon: np.ndarray
    t: np.ndarray


def call_points(*, agency: Agency | None = None, category: str | None = None) -> CallPoints:
    """Every call with a point: the call's own, else its location's (calls without one are out)."""
    qs = Call.objects.annotate(
        lat=Coalesce(F("latitude"), F("location__latitude")),
        lon=Coalesce(F("longitude"), F("location__longitude")),
    ).filter(lat__isnull=False, lon__isnull=False)
    if agency is not None:
        qs = qs.filter(agency=agency)
    if category:
        qs = qs.filter(call_type__category=category)
    rows = list(qs.values_list("lat", "lon", "received_at"))
    return CallPoints(
        lat=np.array([r[0] for r in rows], dtype=float),
        lon=np.array([r[1] for r in rows], dtype=float),
        t=np.array([r[2].timestamp() for r in rows], dtype=float),
    )


def _zone(agency: Agency | None) -> ZoneInfo:
    """The agency's zone; across agencies, their shared zone, else the site's (UTC)."""
    if agency is not None:
        return ZoneInfo(agency.time_zone)
    zones = set(Agency.objects.values_list("time_zone", flat=True).distinct())
    return ZoneInfo(zones.pop() if len(zones) == 1 else settings.TIME_ZONE)


def _end_of_data(last: float, zone: ZoneInfo) -> float:
    """The local midnight after the last call, so origins and test windows are whole local days."""
    local = dt.datetime.fromtimestamp(last, UTC).astimezone(zone)
    nxt = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return nxt.timestamp()


def evaluate_calls(
    *,
    agency: Agency | None = None,
    category: str | None = None,
    methods: Sequence[str] = tuple(forecast.METHODS),
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    resolution: int = forecast.DEFAULT_RESOLUTION,
    train_days: float = 90,
    horizon_days: float = 7,
    origins: int = 12,
    step_days: float | None = None,
    budgets: Sequence[float] = forecast.DEFAULT_BUDGETS,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Rolling-origin evaluation on the stored calls; a JSON-ready report.

    Raises ValueError when there are no calls or no usable origin (the message says which).
    """
    started = time.perf_counter()
    points = call_points(agency=agency, category=category)
    if points.t.size == 0:
        raise ValueError("no calls with a location match the selection")
    zone = _zone(agency)
    grid, events = forecast.prepare(points.lat, points.lon, points.t, resolution=resolution)
    end = _end_of_data(float(events.t[-1]), zone)
    result = forecast.evaluate(
        grid,
        events,
        forecast.make_methods(methods, method_params),
        train_days=train_days,
        horizon_days=horizon_days,
        origins=origins,
        step_days=step_days,
        budgets=budgets,
        end=end,
        progress=progress,
    )
    if not result.origins:
        raise ValueError(
            "no usable origin: the data span "
            f"{(events.t[-1] - events.t[0]) / forecast.DAY:.0f} days, too short for a "
            f"{train_days:g}-day training window plus a {horizon_days:g}-day horizon"
        )

    def iso(ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, UTC).astimezone(zone).isoformat()

    summary = result.summary()
    return {
        "parameters": {
            "agency": agency.code if agency is not None else None,
            "category": category,
            "resolution": resolution,
            "train_days": train_days,
            "horizon_days": horizon_days,
            "step_days": step_days if step_days is not None else horizon_days,
            "origins_requested": origins,
            "budgets": list(budgets),
            "methods": list(methods),
            "method_parameters": {k: dict(v) for k, v in (method_params or {}).items()},
        },
        "default_method": forecast.BEACON_DEFAULT_METHOD,
        "study_area": {
            "cells": len(grid),
            "definition": (
                f"every H3 r{resolution} cell holding at least one selected call in the whole "
                "stored history"
            ),
        },
        "calls": int(events.t.size),
        "data_start": iso(float(events.t[0])),
        "data_end": iso(end),
        "ties": "equal scores are ranked by ascending H3 cell id",
        "budget_rule": "floor(cells x budget), at least 1; PAI uses the actual cell share",
        "origins": [
            {"origin": iso(o), "train_calls": n_train, "test_calls": n_test}
            for o, n_train, n_test in zip(
                result.origins, result.train_counts, result.test_counts, strict=True
            )
        ],
        "skipped_empty_origins": result.skipped_empty,
        "budget_cells": {str(b): forecast.budget_cells(len(grid), b) for b in result.budgets},
        "summary": {
            m: {str(b): row for b, row in by_budget.items()} for m, by_budget in summary.items()
        },
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- the dashboard's "next week" layer -------------------------------------------------------

FORECAST_HISTORY_DAYS = 365
FORECAST_TRAIN_DAYS = 90
FORECAST_BUDGET = 0.02


def forecast_layer(calls: Any, *, now: dt.datetime) -> dict[str, Any]:
    """Where Beacon's default forecast expects the most calls next: a GeoJSON of H3 cells.

    ``calls``: the calls the viewer may see, already filtered (agency, category). The study area
    is every cell with a call in the last ``FORECAST_HISTORY_DAYS``; the method
    (``forecast.BEACON_DEFAULT_METHOD``) scores the last ``FORECAST_TRAIN_DAYS`` and the top
    ``FORECAST_BUDGET`` of the area is drawn - the selection ``evaluate_forecast`` scores, and
    whose PAI at 2 % beats naive counts on the San Antonio data (docs/benchmarks.md).
    """
    import h3

    rows = list(
        calls.filter(
            received_at__gte=now - dt.timedelta(days=FORECAST_HISTORY_DAYS), received_at__lt=now
        )
        .exclude(h3_r9="")
        .values_list("h3_r9", "received_at")
    )
    top = forecast.forecast_top_cells(
        [cell for cell, _ in rows],
        [received.timestamp() for _, received in rows],
        origin=now.timestamp(),
        train_days=FORECAST_TRAIN_DAYS,
        budget=FORECAST_BUDGET,
    )
    features = []
    for rank, (cell, score) in enumerate(top, start=1):
        ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {"cell": cell, "rank": rank, "score": round(score, 3)},
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "method": forecast.BEACON_DEFAULT_METHOD,
        "budget": FORECAST_BUDGET,
        "train_days": FORECAST_TRAIN_DAYS,
    }
