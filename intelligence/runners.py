"""The glue between the database and the pure analyses: one runner per analysis kind.

A runner reads the rows an analysis needs into plain lists, calls the pure function in
``intelligence.analysis``, and turns what it found into ``FindingDraft``s. It writes nothing:
``services.analysis_execute`` owns the run row, the transaction and the upserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.models import Call, Location
from intelligence.analysis.hotspots import run_hotspots
from intelligence.analysis.repeat_locations import repeat_locations as analyse_repeats
from intelligence.choices import FindingKind


@dataclass(frozen=True, slots=True)
class FindingDraft:
    """What one analysis result becomes: the subject, its numbers, the words and the evidence."""

    agency_id: int
    subject_key: str
    window_start: dt.datetime
    window_end: dt.datetime
    statistics: dict[str, Any]
    explanation: str
    location_id: int | None = None
    cells: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    call_ids: tuple[int, ...] = ()
    observation_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class RunnerOutput:
    """A runner's provenance (method, parameters, window, input hash) and its drafts."""

    method: str
    method_version: str
    parameters: dict[str, Any]
    window_start: dt.datetime
    window_end: dt.datetime
    input_hash: str
    drafts: list[FindingDraft] = field(default_factory=list)


Runner = Callable[..., RunnerOutput]


def input_hash(rows: Iterable[Iterable[Any]]) -> str:
    """sha256 of the sorted input rows, so a run's input can be recognised later."""
    lines = sorted(json.dumps([str(v) for v in row]) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _merge(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    unknown = set(given or {}) - set(defaults)
    if unknown:
        raise ValueError(f"parameters: unknown {', '.join(sorted(unknown))}")
    return {**defaults, **(given or {})}


def _calls(start: dt.datetime, end: dt.datetime, agency_id: int | None) -> Any:
    qs = Call.objects.filter(received_at__gte=start, received_at__lt=end)
    return qs if agency_id is None else qs.filter(agency_id=agency_id)


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# --- hotspots ----------------------------------------------------------------------------

HOTSPOT_DEFAULTS: dict[str, Any] = {"window_days": 90, "k": 1, "alpha": 0.05, "max_evidence": 500}


def hotspots(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Getis-Ord Gi* on the calls' H3 r9 cells, per agency; one draft per merged hotspot."""
    params = _merge(HOTSPOT_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    rows = list(
        _calls(start, as_of, agency_id)
        .exclude(h3_r9="")
        .order_by("pk")
        .values_list("pk", "agency_id", "h3_r9", "received_at")
    )
    out = RunnerOutput(
        method="getis_ord_gi_star_h3",
        method_version="1",
        parameters={**params, "resolution": 9},
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, agency, cell, _ in rows:
        by_agency[agency].append((pk, cell))
    for agency, calls in sorted(by_agency.items()):
        result = run_hotspots([c for _, c in calls], k=int(params["k"]), alpha=params["alpha"])
        p_by_cell = dict(zip(result.cells, result.p.tolist(), strict=True))
        for spot in result.hotspots:
            members = set(spot.cells)
            call_ids = [pk for pk, cell in calls if cell in members]
            lat, lon = spot.centroid
            max_z = float(spot.max_z or 0.0)
            min_p = float(min(p_by_cell[c] for c in spot.cells))
            n_calls = len(call_ids)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key="area:" + hashlib.sha1(",".join(spot.cells).encode()).hexdigest(),  # noqa: S324 - an identity, not security
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "n_cells": spot.n_cells,
                        "calls": n_calls,
                        "max_z": round(max_z, 3),
                        "min_p": min_p,
                    },
                    explanation=(
                        f"{n_calls} calls in {spot.n_cells} cells around ({lat:.5f}, {lon:.5f}) "
                        f"in the last {days} days; Gi* z up to {max_z:.1f} "
                        f"(FDR {params['alpha'] * 100:g} %)."
                    ),
                    cells=spot.cells,
                    latitude=lat,
                    longitude=lon,
                    call_ids=tuple(call_ids[: int(params["max_evidence"])]),
                )
            )
    return out


# --- repeat locations --------------------------------------------------------------------

REPEAT_DEFAULTS: dict[str, Any] = {
    "window_days": 28,
    "baseline_days": 365,
    "alpha": 0.05,
    "min_count": 3,
    "max_evidence": 500,
}


def repeat_locations(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Locations with unusually many calls in the window, per agency (one draft per location).

    The test is ``intelligence.analysis.repeat_locations``: Poisson upper tail against the
    location's own baseline *and* against the average location in the same window; both must
    be significant. The finding reports the higher of the two expectations (the binding test).
    """
    params = _merge(REPEAT_DEFAULTS, parameters)
    days = int(params["window_days"])
    window_start = as_of - dt.timedelta(days=days)
    # The baseline precedes the window; the trend's previous window lies inside it.
    data_start = window_start - dt.timedelta(days=max(int(params["baseline_days"]), days))
    rows = list(
        _calls(data_start, as_of, agency_id)
        .filter(location__isnull=False)
        .order_by("pk")
        .values_list("pk", "agency_id", "location_id", "received_at")
    )
    out = RunnerOutput(
        method="repeat_locations_poisson",
        method_version="1",
        parameters=params,
        window_start=data_start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency: dict[int, list[tuple[int, int, dt.datetime]]] = defaultdict(list)
    for pk, agency, location, received in rows:
        by_agency[agency].append((pk, location, received))
    flagged: list[tuple[int, int, dict[str, Any], list[int]]] = []
    for agency, calls in sorted(by_agency.items()):
        result = analyse_repeats(
            np.array([loc for _, loc, _ in calls], dtype=np.int64),
            np.array([received.timestamp() for _, _, received in calls], dtype=np.float64),
            as_of=as_of.timestamp(),
            windows_days=(float(days),),
            baseline_days=float(params["baseline_days"]),
            min_count=int(params["min_count"]),
            alpha=float(params["alpha"]),
        )[float(days)]
        for i in result.flagged_indices():
            loc = int(result.keys[i])
            lam_b = float(result.expected_baseline[i])
            lam_j = float(result.expected_jurisdiction)
            p_b = float(result.p_baseline[i])
            p_j = float(result.p_jurisdiction[i])
            stats = {
                "count": int(result.count[i]),
                # Same count, so the larger expectation is the larger p: the binding test.
                "expected": round(max(lam_b, lam_j), 3),
                "p": max(p_b, p_j),
                "window_days": days,
                "expected_baseline": round(lam_b, 3),
                "p_baseline": p_b,
                "expected_jurisdiction": round(lam_j, 3),
                "p_jurisdiction": p_j,
                "previous_count": int(result.previous_count[i]),
                "trend": str(result.trend[i]),
                "p_trend": float(result.p_trend[i]),
            }
            ids = [pk for pk, loc2, received in calls if loc2 == loc and received >= window_start]
            flagged.append((agency, loc, stats, ids))
    addresses = Location.objects.in_bulk([loc for _, loc, _, _ in flagged])
    for agency, loc, stats, ids in flagged:
        out.drafts.append(
            FindingDraft(
                agency_id=agency,
                subject_key=f"location:{loc}",
                window_start=window_start,
                window_end=as_of,
                statistics=stats,
                explanation=(
                    f"{stats['count']} calls in {days} days at {addresses[loc].display_address}; "
                    f"expected {stats['expected']:.1f}; {_p_text(stats['p'])}."
                ),
                location_id=loc,
                call_ids=tuple(ids[: int(params["max_evidence"])]),
            )
        )
    return out


# The kinds ``analyze`` can run today; the rest print "not implemented yet".
RUNNERS: dict[str, Runner] = {
    FindingKind.REPEAT_LOCATION: repeat_locations,
    FindingKind.HOTSPOT: hotspots,
}
