"""Read models of the patterns dashboard and the finding page: filters, hex map, repeat-location
table, hour-of-week heatmap, concentration curve, finding list and a finding's evidence.

Everything here reads through the access functions (calls, observations and findings the user
may see) and returns JSON-ready dicts; the pictures are computed from the same filtered calls,
so the map, heatmap and curve always describe one set of data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import h3
import numpy as np
from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch.models import Call, CallType, FieldObservation
from dispatch.permissions import calls_visible_to, observations_visible_to
from governance.access import user_agency_id, visible_agency_ids
from governance.choices import Category
from governance.models import Agency
from intelligence.analysis.hotspots import run_hotspots
from intelligence.analysis.repeat_locations import concentration_curve
from intelligence.choices import FindingKind, FindingStatus, RunStatus
from intelligence.forecasting import forecast_layer
from intelligence.models import Finding, FindingEvidence, FindingOutcome
from intelligence.selectors import finding_queryset, run_queryset

WINDOWS = (7, 28, 90)
DEFAULT_WINDOW = 28
SPARK_WEEKS = 12
# "open" is what a supervisor works from: still to review, or accepted and in force.
STATUS_CHOICES = {
    "open": (FindingStatus.PROPOSED, FindingStatus.ACCEPTED),
    "all": tuple(FindingStatus.values),
    **{s: (s,) for s in FindingStatus.values},
}
MAX_HEXES = 3_000
MAX_FINDINGS = 200
MAX_REPEAT_ROWS = 100
CURVE_POINTS = 101
KIND_ORDER = (
    FindingKind.HOTSPOT,
    FindingKind.REPEAT_LOCATION,
    FindingKind.TREND,
    FindingKind.TIME_WINDOW,
    FindingKind.NEAR_REPEAT,
    FindingKind.ENTITY,
)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the dashboard shows: a call category, a window, an area and a finding status/kind."""

    window_days: int = DEFAULT_WINDOW
    category: str = ""
    agency_id: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # south, west, north, east
    status: str = "open"
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": self.window_days,
            "category": self.category,
            "agency": self.agency_id,
            "bbox": list(self.bbox) if self.bbox else None,
            "status": self.status,
            "kind": self.kind,
        }


def filter_options(*, user: Any) -> dict[str, Any]:
    """The choices the filter bar offers: only agencies whose findings the user may see."""
    agencies = Agency.objects.order_by("name")
    visible = visible_agency_ids(user, Category.FINDING)
    if visible is not None:
        agencies = agencies.filter(pk__in=visible)
    categories = sorted(set(CallType.objects.values_list("category", flat=True)))
    return {
        "windows": list(WINDOWS),
        "categories": categories,
        "agencies": [{"id": a.pk, "name": a.name} for a in agencies],
        "statuses": list(STATUS_CHOICES),
        "kinds": [{"value": v, "label": str(label)} for v, label in FindingKind.choices],
    }


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) != 4:
        raise DomainError("Give south,west,north,east as four numbers.", field="bbox")
    try:
        south, west, north, east = (float(p) for p in parts)
    except ValueError:
        raise DomainError("Give south,west,north,east as four numbers.", field="bbox") from None
    if not all(math.isfinite(v) for v in (south, west, north, east)):
        raise DomainError("Coordinates must be finite numbers.", field="bbox")
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise DomainError(
            "Need -90 <= south < north <= 90 and -180 <= west < east <= 180.", field="bbox"
        )
    return south, west, north, east


def parse_filters(params: Mapping[str, str], *, user: Any) -> Filters:
    """Read the query string; anything unreadable is a ``DomainError`` naming the parameter."""
    window_text = (params.get("window") or str(DEFAULT_WINDOW)).strip()
    if window_text not in {str(w) for w in WINDOWS}:
        raise DomainError(f"Choose {', '.join(str(w) for w in WINDOWS)} (days).", field="window")
    category = (params.get("category") or "").strip()[:64]
    if category and not CallType.objects.filter(category=category).exists():
        raise DomainError("No such call category.", field="category")
    agency_id = None
    agency_text = (params.get("agency") or "").strip()
    if agency_text:
        visible = visible_agency_ids(user, Category.FINDING)
        if not agency_text.isdigit() or len(agency_text) > 18:
            raise DomainError("No such agency.", field="agency")
        agency_id = int(agency_text)
        exists = Agency.objects.filter(pk=agency_id).exists()
        # Another agency's id is answered exactly like a missing one.
        if not exists or (visible is not None and agency_id not in visible):
            raise DomainError("No such agency.", field="agency")
    bbox_text = (params.get("bbox") or "").strip()
    bbox = _parse_bbox(bbox_text[:200]) if bbox_text else None
    status = (params.get("status") or "open").strip()
    if status not in STATUS_CHOICES:
        raise DomainError(f"Choose one of: {', '.join(STATUS_CHOICES)}.", field="status")
    kind = (params.get("kind") or "").strip()
    if kind and kind not in FindingKind.values:
        raise DomainError(f"Choose one of: {', '.join(FindingKind.values)}.", field="kind")
    return Filters(
        window_days=int(window_text),
        category=category,
        agency_id=agency_id,
        bbox=bbox,
        status=status,
        kind=kind,
    )


def local_zone(*, user: Any, agency_id: int | None) -> ZoneInfo:
    """Hours are read in the chosen agency's zone, else the user's agency's, else the setting."""
    pk = agency_id or user_agency_id(user)
    name = Agency.objects.filter(pk=pk).values_list("time_zone", flat=True).first() if pk else None
    try:
        return ZoneInfo(name or settings.BEACON_TIME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(settings.BEACON_TIME_ZONE)


# --- the filtered calls and the pictures drawn from them -----------------------------------


def filtered_calls(*, user: Any, filters: Filters, now: dt.datetime) -> QuerySet[Call]:
    """Calls the user may see in the window, category, agency and map view."""
    qs = calls_visible_to(user).filter(
        received_at__gte=now - dt.timedelta(days=filters.window_days), received_at__lt=now
    )
    if filters.category:
        qs = qs.filter(call_type__category=filters.category)
    if filters.agency_id is not None:
        qs = qs.filter(agency_id=filters.agency_id)
    if filters.bbox is not None:
        south, west, north, east = filters.bbox
        qs = qs.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )
    return qs


def _forecast_calls(*, user: Any, filters: Filters) -> QuerySet[Call]:
    """The visible calls of the filters' agency and category, any time (the layer picks its own
    history) and anywhere (the budget is a share of the whole area, not of the map view)."""
    qs = calls_visible_to(user)
    if filters.category:
        qs = qs.filter(call_type__category=filters.category)
    if filters.agency_id is not None:
        qs = qs.filter(agency_id=filters.agency_id)
    return qs


def cell_polygon(cell: str) -> list[list[float]]:
    """A closed GeoJSON ring ([lon, lat] pairs) of an H3 cell."""
    ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


def hex_layer(cells: list[str]) -> dict[str, Any]:
    """Gi* z-score per H3 r9 cell of the calls, as a GeoJSON FeatureCollection.

    The cells with calls, plus any hot cell, are drawn; the zero-count ring Gi* needs around
    them (its study area) is computed but not drawn. The strongest cells are kept if there are
    too many to draw.
    """
    if not cells:
        return {"type": "FeatureCollection", "features": [], "truncated": False}
    result = run_hotspots(cells, k=1, alpha=0.05)
    rows = [
        (cell, int(count), float(z), float(p), bool(hot))
        for cell, count, z, p, hot in zip(
            result.cells, result.counts, result.z, result.p, result.hot, strict=True
        )
        if count > 0 or hot
    ]
    rows.sort(key=lambda r: -r[2])
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [cell_polygon(cell)]},
            "properties": {
                "cell": cell,
                "count": count,
                "z": round(z, 3) if math.isfinite(z) else None,
                "p": p if math.isfinite(p) else None,
                "hot": hot,
            },
        }
        for cell, count, z, p, hot in rows[:MAX_HEXES]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > MAX_HEXES}


def hour_of_week(times: Iterable[dt.datetime], tz: ZoneInfo) -> list[list[int]]:
    """Counts per weekday (rows, Monday first) and hour (columns), in local time."""
    grid = [[0] * 24 for _ in range(7)]
    for when in times:
        local = when.astimezone(tz)
        grid[local.weekday()][local.hour] += 1
    return grid


def concentration(location_ids: Iterable[int | None]) -> dict[str, Any]:
    """How concentrated the calls are: cumulative share of calls by share of places, busiest first.

    Only places with at least one call in the filtered set count as places here, which
    understates concentration compared with a curve over every known address (said on the page).
    """
    counts = Counter(pk for pk in location_ids if pk is not None)
    if not counts:
        return {"points": [], "locations": 0, "calls": 0, "top": []}
    x, y = concentration_curve(np.fromiter(counts.values(), dtype=float))
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    curve = np.interp(grid, x, y)
    top = [
        {"locations_pct": pct, "calls_pct": round(float(np.interp(pct / 100, x, y)) * 100, 1)}
        for pct in (5, 10, 20)
    ]
    return {
        "points": [
            {"x": round(float(a) * 100, 1), "y": round(float(b) * 100, 2)}
            for a, b in zip(grid, curve, strict=True)
        ],
        "locations": len(counts),
        "calls": int(sum(counts.values())),
        "top": top,
    }


def weekly_counts(times: Iterable[dt.datetime], *, end: dt.datetime, weeks: int) -> list[int]:
    """Calls per 7-day bin ending at ``end``, oldest bin first."""
    bins = [0] * weeks
    for when in times:
        age = (end - when).total_seconds() / (7 * 86_400)
        if 0 <= age < weeks:
            bins[weeks - 1 - int(age)] += 1
    return bins


# --- findings ---------------------------------------------------------------------------------


def _findings(*, user: Any, filters: Filters) -> QuerySet[Finding]:
    qs = finding_queryset(user=user).filter(status__in=STATUS_CHOICES[filters.status])
    if filters.agency_id is not None:
        qs = qs.filter(agency_id=filters.agency_id)
    if filters.bbox is not None:
        south, west, north, east = filters.bbox
        # Findings with a point must lie in view; findings without one (a category's near-repeat
        # pattern) are not about a place, so the map view does not hide them.
        inside = Q(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )
        at_place = Q(
            location__latitude__gte=south,
            location__latitude__lte=north,
            location__longitude__gte=west,
            location__longitude__lte=east,
        )
        no_point = Q(latitude__isnull=True, location__isnull=True)
        qs = qs.filter(inside | at_place | no_point)
    return qs


def finding_url(finding_id: int) -> str:
    return reverse("finding-page", args=[finding_id])


def finding_rows(*, user: Any, filters: Filters) -> dict[str, Any]:
    """The findings to review: proposed first; then places before people (hotspots, repeat
    locations, trends, time windows, near repeats, entities: what a shift can act on first, and
    what keeps a long list of entity findings from burying the map's subjects); then newest."""
    qs = _findings(user=user, filters=filters)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    qs = qs.annotate(
        _open=Case(
            When(status=FindingStatus.PROPOSED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        _kind_rank=Case(
            *(When(kind=kind, then=Value(rank)) for rank, kind in enumerate(KIND_ORDER)),
            default=Value(len(KIND_ORDER)),
            output_field=IntegerField(),
        ),
    ).order_by("_open", "_kind_rank", "-updated_at", "-pk")
    total = qs.count()
    rows = [
        {
            "id": f.pk,
            "url": finding_url(f.pk),
            "kind": f.kind,
            "kind_label": f.get_kind_display(),
            "status": f.status,
            "agency": f.agency.name,
            "place": f.location.display_address if f.location_id else "",
            "explanation": f.explanation,
            "updated_at": f.updated_at.isoformat(),
        }
        for f in qs[:MAX_FINDINGS]
    ]
    return {"rows": rows, "total": total}


MAX_OUTCOMES = 100


def outcome_rows(*, user: Any, filters: Filters) -> list[dict[str, Any]]:
    """The latest outcome of each visible finding (agency and kind filters apply), newest first."""
    findings = finding_queryset(user=user)
    if filters.agency_id is not None:
        findings = findings.filter(agency_id=filters.agency_id)
    if filters.kind:
        findings = findings.filter(kind=filters.kind)
    latest = (
        FindingOutcome.objects.filter(finding__in=findings)
        .select_related("finding__location")
        .order_by("finding_id", "-evaluated_at", "-pk")
    )
    seen: set[int] = set()
    rows = []
    for outcome in latest:
        if outcome.finding_id in seen:
            continue
        seen.add(outcome.finding_id)
        finding = outcome.finding
        s = outcome.statistics or {}
        rows.append(
            {
                "finding_id": finding.pk,
                "url": finding_url(finding.pk),
                "place": (
                    finding.location.display_address
                    if finding.location_id
                    else (finding.statistics or {}).get("place")
                    or f"{finding.get_kind_display()} #{finding.pk}"
                ),
                "period_start": outcome.period_start.isoformat(),
                "period_end": outcome.period_end.isoformat(),
                "target_before": outcome.target_before,
                "target_after": outcome.target_after,
                "rate_ratio": s.get("rate_ratio"),
                "ci_low": s.get("ci_low"),
                "ci_high": s.get("ci_high"),
                "verdict": outcome.verdict,
                "evaluated_at": outcome.evaluated_at.isoformat(),
            }
        )
    rows.sort(key=lambda r: r["evaluated_at"], reverse=True)
    return rows[:MAX_OUTCOMES]


def _kind_shown(filters: Filters, kind: str) -> bool:
    return not filters.kind or filters.kind == kind


def repeat_rows(*, user: Any, filters: Filters, now: dt.datetime) -> list[dict[str, Any]]:
    """Repeat-location findings with a weekly sparkline of the place's calls and their trend."""
    if not _kind_shown(filters, FindingKind.REPEAT_LOCATION):
        return []
    findings = list(
        _findings(user=user, filters=filters)
        .filter(kind=FindingKind.REPEAT_LOCATION, location__isnull=False)
        .order_by("-updated_at", "-pk")[:MAX_REPEAT_ROWS]
    )
    start = now - dt.timedelta(weeks=SPARK_WEEKS)
    calls = calls_visible_to(user).filter(
        location_id__in={f.location_id for f in findings},
        received_at__gte=start,
        received_at__lt=now,
    )
    if filters.category:
        calls = calls.filter(call_type__category=filters.category)
    times: dict[int, list[dt.datetime]] = defaultdict(list)
    for location_id, received in calls.values_list("location_id", "received_at"):
        times[location_id].append(received)
    rows = []
    for f in findings:
        stats = f.statistics or {}
        rows.append(
            {
                "id": f.pk,
                "url": finding_url(f.pk),
                "status": f.status,
                "address": f.location.display_address,
                "latitude": f.location.latitude,
                "longitude": f.location.longitude,
                "count": stats.get("count"),
                "expected": stats.get("expected"),
                "p": stats.get("p"),
                "window_days": stats.get("window_days"),
                "trend": stats.get("trend") or "flat",
                "weekly": weekly_counts(times[f.location_id], end=now, weeks=SPARK_WEEKS),
            }
        )
    # Biggest excess first: the rows most worth a supervisor's attention.
    rows.sort(key=lambda r: -((r["count"] or 0) - (r["expected"] or 0)))
    return rows


def hotspot_outlines(*, user: Any, filters: Filters) -> list[dict[str, Any]]:
    """Hotspot findings as outlines over the shaded cells, each linking to its review page."""
    if not _kind_shown(filters, FindingKind.HOTSPOT):
        return []
    qs = _findings(user=user, filters=filters).filter(kind=FindingKind.HOTSPOT)
    return [
        {
            "id": f.pk,
            "url": finding_url(f.pk),
            "status": f.status,
            "label": f.explanation,
            "cells": [cell_polygon(c) for c in f.cells[:200] if h3.is_valid_cell(c)],
        }
        for f in qs.order_by("-updated_at", "-pk")[:MAX_REPEAT_ROWS]
    ]


def last_run(*, user: Any) -> dict[str, Any] | None:
    """The newest finished run the user may see (what "Updated" refers to)."""
    run = run_queryset(user=user).exclude(status=RunStatus.RUNNING).first()
    if run is None:
        return None
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def dashboard_data(
    *, user: Any, filters: Filters, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything the dashboard draws, for one set of filters (one pass over the calls)."""
    now = now or timezone.now()
    rows = list(
        filtered_calls(user=user, filters=filters, now=now).values_list(
            "h3_r9", "location_id", "received_at"
        )
    )
    tz = local_zone(user=user, agency_id=filters.agency_id)
    return {
        "filters": filters.as_dict(),
        "as_of": now.isoformat(),
        "calls": len(rows),
        "time_zone": tz.key,
        "hexes": hex_layer([cell for cell, _, _ in rows if cell]),
        "hotspots": hotspot_outlines(user=user, filters=filters),
        # City-wide (the map-view limit does not shrink the area the 2 % budget is taken of).
        "forecast": forecast_layer(_forecast_calls(user=user, filters=filters), now=now),
        "repeats": repeat_rows(user=user, filters=filters, now=now),
        "heatmap": {"days": list(DAYS), "counts": hour_of_week((t for _, _, t in rows), tz)},
        "concentration": concentration(loc for _, loc, _ in rows),
        "findings": finding_rows(user=user, filters=filters),
        "outcomes": outcome_rows(user=user, filters=filters),
        "last_run": last_run(user=user),
    }


# --- one finding's page ---------------------------------------------------------------------


def evidence_calls(*, user: Any, finding: Finding) -> QuerySet[Call]:
    """The finding's calls the user may open, newest first."""
    ids = FindingEvidence.objects.filter(finding=finding, call__isnull=False).values("call_id")
    return (
        calls_visible_to(user)
        .filter(pk__in=ids)
        .select_related("call_type", "location")
        .order_by("-received_at", "-pk")
    )


def evidence_observations(*, user: Any, finding: Finding) -> QuerySet[FieldObservation]:
    """The finding's field observations the user may open, newest first."""
    ids = FindingEvidence.objects.filter(finding=finding, observation__isnull=False).values(
        "observation_id"
    )
    return (
        observations_visible_to(user)
        .filter(pk__in=ids)
        .select_related("location")
        .order_by("-observed_at", "-pk")
    )


def finding_charts(*, user: Any, finding: Finding, calls: list[Call]) -> dict[str, Any]:
    """Map layers (subject and evidence points) and the evidence's weekly and hour-of-week counts."""
    subject: dict[str, Any] = {"cells": [], "point": None, "zones": []}
    if finding.location_id and finding.location.latitude is not None:
        subject["point"] = [finding.location.latitude, finding.location.longitude]
    elif finding.latitude is not None and finding.longitude is not None:
        subject["point"] = [finding.latitude, finding.longitude]
    subject["cells"] = [cell_polygon(c) for c in finding.cells[:500] if h3.is_valid_cell(c)]
    for zone in (finding.statistics or {}).get("zones", [])[:200]:
        if isinstance(zone, dict) and {"latitude", "longitude", "radius_m"} <= set(zone):
            subject["zones"].append([zone["latitude"], zone["longitude"], zone["radius_m"]])
    points = [[c.latitude, c.longitude] for c in calls if c.latitude is not None]
    times = [c.received_at for c in calls]
    tz = local_zone(user=user, agency_id=finding.agency_id)
    return {
        "subject": subject,
        "points": points,
        "series": evidence_series(times, finding.window_start, finding.window_end, tz),
        "heatmap": {"days": list(DAYS), "counts": hour_of_week(times, tz)},
        "time_zone": tz.key,
    }


def evidence_series(
    times: list[dt.datetime], start: dt.datetime, end: dt.datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """Evidence counts over the finding's window: per day for windows up to four weeks (a
    one-week window would be a single weekly bar), per week beyond, labelled in local time."""
    days = max(1, math.ceil((end - start).total_seconds() / 86_400))
    unit, width = ("day", 1) if days <= 28 else ("week", 7)
    n = max(1, min(104, math.ceil(days / width)))
    counts = [0] * n
    for when in times:
        age = (end - when).total_seconds() / (width * 86_400)
        if 0 <= age < n:
            counts[n - 1 - int(age)] += 1
    labels = [
        (end - dt.timedelta(days=width * (n - 1 - i))).astimezone(tz).strftime("%m-%d")
        for i in range(n)
    ]
    return {"unit": unit, "labels": labels, "counts": counts}


def _stat_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "—"}[value]
    if isinstance(value, float):
        if abs(value) < 0.001 and value != 0:
            return f"{value:.3g}"
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        # e.g. calls per window {"7": 7, "28": 19} -> "7: 7 · 28: 19"
        text = " · ".join(f"{k}: {_stat_text(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(_stat_text(v) for v in value)
    else:
        return str(value)
    return text if len(text) <= 300 else text[:300] + " …"


def statistics_rows(statistics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The statistics as label/value text, numbers rounded for reading (the API has them exact)."""
    return [(key.replace("_", " "), _stat_text(value)) for key, value in statistics.items()]
